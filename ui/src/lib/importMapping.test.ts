import { describe, expect, it } from "vitest";
import { defaultMapping, duplicateTargets, hasIdentifier, mergeMapping, normalizeHeader, SKIP } from "./importMapping";

const FIELDS = [
  { alias: "email", label: "Email" },
  { alias: "first_name", label: "First name" },
  { alias: "last_name", label: "Last name" },
  { alias: "zipcode", label: "Zip code" },
  { alias: "favourite_color", label: "Favourite colour" },
];

describe("import mapping defaults", () => {
  it("normalizes headers", () => {
    expect(normalizeHeader(" First-Name ")).toBe("firstname");
    expect(normalizeHeader("Café")).toBe("cafe");
  });

  it("maps headers by alias or label, each field once", () => {
    expect(
      defaultMapping(
        ["E-mail", "Email", "first_name", "Last Name", "ZIP code", "Favourite colour", "Tags", "Notes"],
        FIELDS,
      ),
    ).toEqual({
      "E-mail": "email",
      Email: SKIP,
      first_name: "first_name",
      "Last Name": "last_name",
      "ZIP code": "zipcode",
      "Favourite colour": "favourite_color",
      Tags: "tags",
      Notes: SKIP,
    });
  });

  it("prefers the server's proposal when it names a known field", () => {
    expect(mergeMapping(["mail", "fn", "x"], FIELDS, { mail: "email", fn: "nope", x: null })).toEqual({
      mail: "email",
      fn: SKIP,
      x: SKIP,
    });
    expect(mergeMapping(["Email"], FIELDS, undefined)).toEqual({ Email: "email" });
  });

  it("finds duplicate targets and the identifier", () => {
    expect(duplicateTargets({ a: "email", b: "email", c: "", d: "", e: "tags", f: "tags" })).toEqual(["email"]);
    expect(hasIdentifier({ a: "first_name" }, ["email"])).toBe(false);
    expect(hasIdentifier({ a: "email" }, ["email"])).toBe(true);
  });
});
