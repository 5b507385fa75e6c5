/**
 * Date values of segment conditions: an absolute date ("2024-05-01"), an absolute time (datetime
 * fields, ISO 8601), or a relative date the backend evaluates in the contact's timezone:
 * today, yesterday, tomorrow, "+N days|weeks|months|years", "-N ...", "this|last|next week|month|year".
 */

export const RELATIVE_WORDS = [
  "today",
  "yesterday",
  "tomorrow",
  "this week",
  "last week",
  "next week",
  "this month",
  "last month",
  "next month",
  "this year",
  "last year",
  "next year",
] as const;

export type DateUnit = "day" | "week" | "month" | "year";
export const DATE_UNITS: DateUnit[] = ["day", "week", "month", "year"];

export type DateValue =
  | { mode: "date"; date: string }
  | { mode: "relative"; word: (typeof RELATIVE_WORDS)[number] }
  | { mode: "offset"; n: number; unit: DateUnit };

const OFFSET = /^([+-])\s*(\d{1,4})\s*(day|week|month|year)s?$/;

/** Read a stored value into the builder's choice; unknown text stays an (empty) absolute date. */
export function parseDateValue(value: unknown): DateValue {
  const text = typeof value === "string" ? value.trim().toLowerCase().split(/\s+/).join(" ") : "";
  if ((RELATIVE_WORDS as readonly string[]).includes(text)) {
    return { mode: "relative", word: text as (typeof RELATIVE_WORDS)[number] };
  }
  const m = OFFSET.exec(text);
  if (m) {
    const n = Number(m[2]) * (m[1] === "-" ? -1 : 1);
    return { mode: "offset", n, unit: m[3] as DateUnit };
  }
  return { mode: "date", date: typeof value === "string" ? value.trim() : "" };
}

/** The stored text of a choice. */
export function formatDateValue(value: DateValue): string {
  switch (value.mode) {
    case "relative":
      return value.word;
    case "offset": {
      const n = Math.trunc(value.n);
      const abs = Math.abs(n);
      return `${n < 0 ? "-" : "+"}${abs} ${value.unit}${abs === 1 ? "" : "s"}`;
    }
    default:
      return value.date;
  }
}

/** "3 days ago", "in 2 weeks", "today". */
export function describeDateValue(value: DateValue): string {
  switch (value.mode) {
    case "relative":
      return value.word;
    case "offset": {
      const abs = Math.abs(value.n);
      const unit = `${value.unit}${abs === 1 ? "" : "s"}`;
      if (value.n === 0) return "today";
      return value.n < 0 ? `${abs} ${unit} ago` : `in ${abs} ${unit}`;
    }
    default:
      return value.date || "a date";
  }
}
