import { describe, expect, it } from "vitest";
import {
  cleanValue,
  fieldKind,
  getIn,
  initialValue,
  parseNumber,
  pickerFor,
  resolve,
  setIn,
  unwrapNullable,
  type JsonSchema,
} from "./schemaForm";

const webhook: JsonSchema = {
  $defs: {
    Header: {
      type: "object",
      properties: { name: { type: "string" }, value: { type: "string" } },
      required: ["name", "value"],
    },
  },
  type: "object",
  properties: {
    url: { type: "string", minLength: 8 },
    method: { enum: ["GET", "POST"], default: "POST", type: "string" },
    headers: { type: "array", default: [], items: { $ref: "#/$defs/Header" } },
    timeout_s: { type: "number", default: 10 },
    owner_id: { anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }], default: null },
    values: { type: "object", additionalProperties: true },
  },
  required: ["url", "values"],
};

describe("schema resolution", () => {
  it("follows $ref into $defs", () => {
    expect(fieldKind(resolve(webhook.properties!.headers!.items, webhook))).toBe("object");
    expect(resolve({ $ref: "#/$defs/Header", title: "H" }, webhook).title).toBe("H");
  });

  it("unwraps anyOf with null to a nullable field", () => {
    const { schema, nullable } = unwrapNullable(webhook.properties!.owner_id, webhook);
    expect(nullable).toBe(true);
    expect(fieldKind(schema)).toBe("integer");
    const union = unwrapNullable({ anyOf: [{ type: "integer" }, { const: "this", type: "string" }] }, webhook);
    expect(fieldKind(union.schema)).toBe("union");
    expect(union.nullable).toBe(false);
  });

  it("tells enums, maps and objects apart", () => {
    expect(fieldKind(webhook.properties!.method!)).toBe("enum");
    expect(fieldKind(webhook.properties!.values!)).toBe("map");
    expect(fieldKind(webhook)).toBe("object");
  });
});

describe("initialValue", () => {
  it("takes defaults and required fields, leaving required numbers unset", () => {
    expect(initialValue(webhook, webhook)).toEqual({
      url: "",
      method: "POST",
      headers: [],
      timeout_s: 10,
      owner_id: null,
      values: {},
    });
    expect(
      initialValue({ type: "object", properties: { delta: { type: "integer" } }, required: ["delta"] }, webhook),
    ).toEqual({});
    expect(initialValue(resolve({ $ref: "#/$defs/Header" }, webhook), webhook)).toEqual({ name: "", value: "" });
  });
});

describe("paths", () => {
  it("reads and writes nested values without touching the original", () => {
    const value = { headers: [{ name: "a", value: "b" }] };
    const next = setIn(value, ["headers", 0, "value"], "c");
    expect(getIn(next, ["headers", 0, "value"])).toBe("c");
    expect(value.headers[0]!.value).toBe("b");
    expect(setIn({ a: 1, b: 2 }, ["a"], undefined)).toEqual({ b: 2 });
    expect(setIn(undefined, ["list", 1], "x")).toEqual({ list: [undefined, "x"] });
  });
});

describe("parseNumber", () => {
  it("parses, truncates integers and keeps empty as null or unset", () => {
    expect(parseNumber("12.7", true, false)).toBe(12);
    expect(parseNumber("12.5", false, false)).toBe(12.5);
    expect(parseNumber("", false, true)).toBeNull();
    expect(parseNumber(" ", false, false)).toBeUndefined();
    expect(parseNumber("abc", true, false)).toBe("abc");
  });
});

describe("cleanValue", () => {
  it("turns empty strings of nullable fields into null", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: { reason: { anyOf: [{ type: "string" }, { type: "null" }] }, name: { type: "string" } },
    };
    expect(cleanValue({ reason: "  ", name: "" }, schema, schema)).toEqual({ reason: null, name: "" });
  });
});

describe("pickerFor", () => {
  it("recognises references by type and by name", () => {
    expect(pickerFor("contact.change_segments", "add")).toBe("segment");
    expect(pickerFor("campaign.change_campaigns", "remove")).toBe("campaign");
    expect(pickerFor("contact.change_tags", "add")).toBe("tag");
    expect(pickerFor("contact.change_owner", "owner_id")).toBe("user");
    expect(pickerFor("contact.stage", "stages")).toBe("stage");
    expect(pickerFor("contact.change_company", "company_id")).toBe("company");
    expect(pickerFor("campaign.jump_to_event", "target")).toBe("step");
    expect(pickerFor("contact.field_value", "field")).toBe("field");
    expect(pickerFor("webhook.send", "url")).toBeNull();
  });

  it("follows the references the event type declares", () => {
    expect(pickerFor("email.send", "email_id", { email_id: "email" })).toBe("email");
    expect(pickerFor("form.submitted", "forms", { forms: "form" })).toBe("form");
    expect(pickerFor("page.visited", "landing_pages", { landing_pages: "page" })).toBe("page");
    expect(pickerFor("asset.downloaded", "assets", { assets: "asset" })).toBe("asset");
    // Without the declaration an email id is a number like any other.
    expect(pickerFor("email.send", "email_id")).toBeNull();
  });

  it("offers the email's links for the patterns of a click decision", () => {
    expect(pickerFor("email.click", "urls", { email_id: "email" })).toBe("email_link");
  });
});
