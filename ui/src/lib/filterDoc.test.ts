import { describe, expect, it } from "vitest";
import { ApiProblem } from "../api/problem";
import {
  adaptValue,
  appendGroup,
  appendItem,
  countConditions,
  depthOf,
  errorsByItem,
  errorsOutside,
  fieldsForType,
  getItem,
  newCondition,
  normalizeFilters,
  operatorsFor,
  pointerToPath,
  removeItem,
  reviseCondition,
  setMatch,
  valueEditorFor,
  type FieldInfo,
  type FilterGroup,
  type FilterTypeInfo,
} from "./filterDoc";

const textOps = [
  { key: "=", label: "equals", value: "single" as const },
  { key: "in", label: "is any of", value: "list" as const },
  { key: "empty", label: "is empty", value: "none" as const },
  { key: "contains", label: "contains", value: "single" as const },
];
const numberOps = [
  { key: ">", label: "greater than", value: "single" as const },
  { key: "between", label: "between", value: "pair" as const },
  { key: "in", label: "is any of", value: "list" as const },
];
const dateOps = [
  { key: "=", label: "on", value: "single" as const },
  { key: "anniversary", label: "anniversary", value: "none" as const },
];
const TYPES: FilterTypeInfo[] = [
  {
    key: "field",
    label: "Contact field",
    field: "contact_core",
    operators: { text: textOps, number: numberOps, date: dateOps },
  },
  {
    key: "custom_field",
    label: "Custom field",
    field: "contact_custom",
    operators: { text: textOps, number: numberOps, date: dateOps, list: textOps },
  },
  {
    key: "tags",
    label: "Tags",
    field: "none",
    operators: { "*": [{ key: "has_any", label: "has any of", value: "list" }] },
  },
  { key: "points", label: "Points", field: "none", operators: { "*": numberOps } },
  { key: "dnc", label: "DNC", field: "channel", operators: { "*": [{ key: "on", label: "on", value: "none" }] } },
];
const FIELDS: FieldInfo[] = [
  { alias: "email", label: "Email", type: "email", is_core: true },
  { alias: "country", label: "Country", type: "country", is_core: true },
  { alias: "score", label: "Score", type: "number", is_core: false },
  { alias: "birthday", label: "Birthday", type: "date", is_core: false },
  { alias: "plan", label: "Plan", type: "select", is_core: false, options: [{ value: "pro", label: "Pro" }] },
  { alias: "hobbies", label: "Hobbies", type: "multiselect", is_core: false, options: [{ value: "golf" }] },
];

const cond = (value: string) => ({ type: "field", field: "email", operator: "=", value });

describe("filter document edits", () => {
  it("adds, nests and removes conditions without touching the input", () => {
    const start: FilterGroup = { match: "all", conditions: [] };
    const one = appendItem(start, [], cond("a"));
    const two = appendGroup(one, [], cond("b"));
    expect(start.conditions).toHaveLength(0);
    expect(two).toEqual({
      match: "all",
      conditions: [cond("a"), { match: "any", conditions: [cond("b")] }],
    });
    const three = appendItem(two, [1], cond("c"));
    expect(getItem(three, [1, 1])).toEqual(cond("c"));
    expect(countConditions(three)).toBe(3);
    const deeper = appendGroup(three, [1], cond("d"));
    expect(depthOf(deeper)).toBe(3);
    expect((getItem(deeper, [1, 2]) as FilterGroup).match).toBe("all");

    const fewer = removeItem(three, [1, 0]);
    expect(getItem(fewer, [1])).toEqual({ match: "any", conditions: [cond("c")] });
    // A nested group left empty goes too.
    const emptied = removeItem(fewer, [1, 0]);
    expect(emptied).toEqual({ match: "all", conditions: [cond("a")] });
    expect(removeItem(emptied, [0])).toEqual({ match: "all", conditions: [] });
  });

  it("switches a group between AND and OR", () => {
    const doc = appendGroup(appendItem(normalizeFilters(null), [], cond("a")), [], cond("b"));
    expect(setMatch(doc, [1], "all").conditions[1]).toEqual({ match: "all", conditions: [cond("b")] });
    expect(setMatch(doc, [], "any").match).toBe("any");
  });

  it("normalizes odd documents", () => {
    expect(normalizeFilters(undefined)).toEqual({ match: "all", conditions: [] });
    expect(normalizeFilters({ match: "xx", conditions: [{ match: "any", conditions: [] }] })).toEqual({
      match: "all",
      conditions: [{ match: "any", conditions: [] }],
    });
  });
});

describe("pointers to conditions", () => {
  it("maps a pointer to the item path and member", () => {
    expect(pointerToPath("/filters/conditions/2/value")).toEqual({ path: [2], member: "value" });
    expect(pointerToPath("/filters/conditions/1/conditions/0/value/1")).toEqual({ path: [1, 0], member: "value" });
    expect(pointerToPath("/filters/conditions/3")).toEqual({ path: [3], member: null });
    expect(pointerToPath("/filters/match")).toEqual({ path: [], member: "match" });
    expect(pointerToPath("/filters")).toEqual({ path: [], member: null });
    expect(pointerToPath("/name")).toBeNull();
    expect(pointerToPath("/conditions/0/field", "")).toEqual({ path: [0], member: "field" });
  });

  it("groups a problem's errors by condition", () => {
    const problem = new ApiProblem(
      {
        status: 422,
        errors: [
          { pointer: "/filters/conditions/2/value", detail: "Expected a number.", code: "invalid_value" },
          { pointer: "/filters/conditions/2/operator", detail: "Unknown operator.", code: "x" },
          { pointer: "/filters/conditions/0/conditions/1/field", detail: "Unknown field 'x'.", code: "x" },
          { pointer: "/name", detail: "Required.", code: "x" },
        ],
      },
      422,
    );
    const byItem = errorsByItem(problem.errors);
    expect(byItem.get("2")).toEqual([
      { member: "value", detail: "Expected a number." },
      { member: "operator", detail: "Unknown operator." },
    ]);
    expect(byItem.get("0/1")).toEqual([{ member: "field", detail: "Unknown field 'x'." }]);
    expect(errorsOutside(problem.errors).map((e) => e.pointer)).toEqual(["/name"]);
  });
});

describe("field type to operators and inputs", () => {
  const field = TYPES[0]!;
  const custom = TYPES[1]!;
  const byAlias = (a: string) => FIELDS.find((f) => f.alias === a)!;

  it("offers the fields of the type's source", () => {
    expect(fieldsForType(field, FIELDS, []).map((f) => f.alias)).toEqual(["email", "country"]);
    expect(fieldsForType(custom, FIELDS, []).map((f) => f.alias)).toEqual(["score", "birthday", "plan", "hobbies"]);
    expect(fieldsForType(TYPES[2], FIELDS, [])).toEqual([]);
    expect(fieldsForType(TYPES[4], FIELDS, []).map((f) => f.alias)).toContain("email");
    expect(
      fieldsForType({ key: "company_field", label: "", field: "company", operators: {} }, FIELDS, [
        { alias: "size", label: "Size", type: "number", is_core: false },
      ]).map((f) => f.alias),
    ).toEqual(["name", "domain", "size"]);
  });

  it("picks operators by the field's comparison kind", () => {
    expect(operatorsFor(custom, byAlias("score")).map((o) => o.key)).toEqual([">", "between", "in"]);
    expect(operatorsFor(custom, byAlias("birthday")).map((o) => o.key)).toEqual(["=", "anniversary"]);
    expect(operatorsFor(field, byAlias("email")).map((o) => o.key)).toContain("contains");
    expect(operatorsFor(TYPES[2], undefined).map((o) => o.key)).toEqual(["has_any"]);
    expect(operatorsFor(custom, undefined)).toEqual([]);
  });

  it("chooses a value input that fits", () => {
    expect(valueEditorFor(custom, byAlias("score"), numberOps[1])).toEqual({ shape: "pair", kind: "number" });
    expect(valueEditorFor(custom, byAlias("birthday"), dateOps[0])).toEqual({ shape: "single", kind: "date" });
    expect(valueEditorFor(custom, byAlias("birthday"), dateOps[1])).toEqual({ shape: "none", kind: "date" });
    expect(valueEditorFor(custom, byAlias("plan"), textOps[1])).toEqual({ shape: "list", kind: "option" });
    expect(valueEditorFor(custom, byAlias("plan"), textOps[3])).toEqual({ shape: "single", kind: "text" });
    expect(valueEditorFor(custom, byAlias("hobbies"), textOps[1])).toEqual({ shape: "list", kind: "option" });
    expect(valueEditorFor(TYPES[2], undefined, TYPES[2]!.operators["*"]![0])).toEqual({ shape: "list", kind: "tag" });
    expect(valueEditorFor(TYPES[3], undefined, numberOps[0])).toEqual({ shape: "single", kind: "number" });
    expect(valueEditorFor(TYPES[4], byAlias("email"), undefined)).toEqual({ shape: "list", kind: "dnc_reason" });
    expect(
      valueEditorFor({ key: "created", label: "", field: "none", operators: {} }, undefined, dateOps[0]).kind,
    ).toBe("datetime");
  });

  it("carries values over when the shape changes", () => {
    expect(adaptValue("3", { shape: "list", kind: "number" })).toEqual(["3"]);
    expect(adaptValue("", { shape: "list", kind: "number" })).toEqual([]);
    expect(adaptValue(["1", "2", "3"], { shape: "pair", kind: "number" })).toEqual(["1", "2"]);
    expect(adaptValue(["a", "b"], { shape: "single", kind: "text" })).toBe("a");
    expect(adaptValue("x", { shape: "none", kind: "text" })).toBeUndefined();
  });

  it("starts a new condition with the first field and operator", () => {
    expect(newCondition(custom, FIELDS, [])).toEqual({
      type: "custom_field",
      field: "score",
      operator: ">",
      value: "",
    });
    expect(newCondition(TYPES[2]!, FIELDS, [])).toEqual({ type: "tags", operator: "has_any", value: [] });
  });

  it("revises a condition when its field or operator changes", () => {
    const c = { type: "custom_field", field: "score", operator: "between", value: ["1", "5"] };
    // number -> date: the value no longer fits.
    expect(reviseCondition(c, { field: "birthday" }, TYPES, FIELDS, [])).toEqual({
      type: "custom_field",
      field: "birthday",
      operator: "=",
      value: "",
    });
    // same field, operator to a list.
    expect(reviseCondition(c, { operator: "in" }, TYPES, FIELDS, [])).toEqual({
      ...c,
      operator: "in",
      value: ["1", "5"],
    });
    // a new type starts afresh.
    expect(reviseCondition(c, { type: "tags" }, TYPES, FIELDS, [])).toEqual({
      type: "tags",
      operator: "has_any",
      value: [],
    });
  });
});
