import { describe, expect, it } from "vitest";
import {
  applies,
  deriveAlias,
  deriveName,
  draftOf,
  formReducer,
  localProblems,
  localWarnings,
  newField,
  patchOf,
  toWrite,
  type FormDraft,
} from "./fields";
import type { Form } from "./types";

function savedForm(over: Partial<Form> = {}): Form {
  return {
    id: 7,
    uuid: "u",
    name: "Newsletter",
    description: "",
    alias: "newsletter",
    projects: [],
    is_published: true,
    version: 3,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    identify_by: "email",
    fields: [
      {
        key: "k1",
        label: "Email",
        type: "email",
        name: "email",
        contact_field: "email",
        required: true,
        default: null,
        placeholder: "",
        help: "",
        options: [],
        validation: { min_length: null, max_length: null, min: null, max: null, pattern: null },
        consent_text: null,
      },
    ],
    actions: [],
    success: { kind: "message", message: "Thanks!", redirect_url: null },
    allowed_origins: [],
    submission_count: 0,
    last_submission_at: null,
    url: "http://host/f/newsletter",
    ...over,
  };
}

function add(d: FormDraft, type: Parameters<typeof newField>[0], key: string): FormDraft {
  return formReducer(d, { type: "addField", fieldType: type, key });
}

describe("deriveName", () => {
  it("makes a valid input name from a label", () => {
    expect(deriveName("First name")).toBe("first_name");
    expect(deriveName("  E-mail address!  ")).toBe("e_mail_address");
    expect(deriveName("Prénom")).toBe("prenom");
    expect(deriveName("2nd choice")).toBe("nd_choice");
    expect(deriveName("")).toBe("field");
    expect(deriveName("***")).toBe("field");
  });

  it("keeps to 60 characters and stays unique", () => {
    const long = deriveName("a".repeat(80));
    expect(long).toHaveLength(60);
    expect(deriveName("Email", ["email"])).toBe("email_2");
    expect(deriveName("Email", ["email", "email_2"])).toBe("email_3");
    const taken = ["a".repeat(60)];
    const second = deriveName("a".repeat(80), taken);
    expect(second).toHaveLength(60);
    expect(second.endsWith("_2")).toBe(true);
    expect(/^[a-z][a-z0-9_]{0,59}$/.test(second)).toBe(true);
  });
});

describe("deriveAlias", () => {
  it("makes a URL slug", () => {
    expect(deriveAlias("Spring Newsletter 2026")).toBe("spring-newsletter-2026");
    expect(deriveAlias("Café & Co.")).toBe("cafe-co");
    expect(deriveAlias("x".repeat(70))).toHaveLength(60);
  });
});

describe("formReducer", () => {
  it("starts a new form with an email field mapped to email", () => {
    const d = draftOf(null);
    expect(d.fields).toHaveLength(1);
    expect(d.fields[0]).toMatchObject({ type: "email", name: "email", contact_field: "email", required: true });
  });

  it("derives the alias from the name until the alias is edited", () => {
    let d = formReducer(draftOf(null), { type: "setName", name: "Contact us" });
    expect(d.alias).toBe("contact-us");
    d = formReducer(d, { type: "setAlias", alias: "talk" });
    d = formReducer(d, { type: "setName", name: "Contact us now" });
    expect(d.alias).toBe("talk");
  });

  it("derives the input name from the label until the name is edited", () => {
    let d = add(draftOf(null), "text", "t");
    d = formReducer(d, { type: "setLabel", index: 1, label: "Company name" });
    expect(d.fields[1]?.name).toBe("company_name");
    d = formReducer(d, { type: "setFieldName", index: 1, name: "org" });
    d = formReducer(d, { type: "setLabel", index: 1, label: "Organisation" });
    expect(d.fields[1]).toMatchObject({ label: "Organisation", name: "org", nameEdited: true });
  });

  it("does not rename the inputs of a saved form when a label changes", () => {
    let d = draftOf(savedForm());
    d = formReducer(d, { type: "setLabel", index: 0, label: "Your email" });
    expect(d.fields[0]?.name).toBe("email");
  });

  it("gives a derived name that no other field has", () => {
    let d = add(draftOf(null), "text", "a");
    d = formReducer(d, { type: "setLabel", index: 1, label: "Email" });
    expect(d.fields[1]?.name).toBe("email_2");
  });

  it("adds at a position, moves, duplicates and removes fields", () => {
    let d = add(draftOf(null), "text", "t");
    d = formReducer(d, { type: "addField", fieldType: "consent", key: "c", at: 0 });
    expect(d.fields.map((f) => f.key)).toEqual(["c", d.fields[1]?.key, "t"]);
    d = formReducer(d, { type: "moveField", from: 0, to: 2 });
    expect(d.fields[2]?.key).toBe("c");
    // Out-of-range moves change nothing.
    expect(formReducer(d, { type: "moveField", from: 0, to: 5 }).fields).toEqual(d.fields);
    d = formReducer(d, { type: "duplicateField", index: 0, key: "dup" });
    expect(d.fields[1]).toMatchObject({ key: "dup", name: "email_2", contact_field: null });
    d = formReducer(d, { type: "removeField", index: 1 });
    expect(d.fields.map((f) => f.key)).not.toContain("dup");
  });

  it("stops adding at 100 fields", () => {
    let d = draftOf(null);
    for (let i = 0; i < 105; i++) d = add(d, "text", `k${i}`);
    expect(d.fields).toHaveLength(100);
  });

  it("resets attributes that do not apply when the type changes", () => {
    let d = add(draftOf(null), "text", "t");
    d = formReducer(d, { type: "updateField", index: 1, patch: { placeholder: "Type here" } });
    d = formReducer(d, { type: "setValidation", index: 1, rule: "max_length", value: 10 });
    d = formReducer(d, { type: "setFieldType", index: 1, fieldType: "radio" });
    expect(d.fields[1]).toMatchObject({
      type: "radio",
      placeholder: "",
      options: [{ label: "Option 1", value: "option_1" }],
    });
    expect(d.fields[1]?.validation.max_length).toBeNull();
    d = formReducer(d, { type: "setFieldType", index: 1, fieldType: "consent" });
    expect(d.fields[1]?.options).toEqual([]);
    expect(d.fields[1]?.consent_text).toBeTruthy();
    expect(d.fields[1]?.contact_field).toBeNull();
  });

  it("edits options with unique values", () => {
    let d = add(draftOf(null), "select", "s");
    d = formReducer(d, { type: "addOption", index: 1 });
    d = formReducer(d, { type: "addOption", index: 1 });
    expect(d.fields[1]?.options.map((o) => o.value)).toEqual(["option_1", "option_2", "option_3"]);
    d = formReducer(d, { type: "updateOption", index: 1, option: 0, patch: { label: "Red", value: "red" } });
    d = formReducer(d, { type: "moveOption", index: 1, from: 0, to: 2 });
    expect(d.fields[1]?.options[2]).toEqual({ label: "Red", value: "red" });
    d = formReducer(d, { type: "removeOption", index: 1, option: 2 });
    expect(d.fields[1]?.options.map((o) => o.value)).toEqual(["option_2", "option_3"]);
  });

  it("adds actions with their default config and changes their type", () => {
    let d = formReducer(draftOf(null), { type: "addAction", actionType: "tags.change" });
    expect(d.actions[0]).toEqual({ type: "tags.change", config: { add: [], remove: [] } });
    d = formReducer(d, { type: "setActionConfig", index: 0, config: { add: ["vip"], remove: [] } });
    d = formReducer(d, { type: "addAction", actionType: "points.change" });
    d = formReducer(d, { type: "moveAction", from: 1, to: 0 });
    expect(d.actions.map((a) => a.type)).toEqual(["points.change", "tags.change"]);
    d = formReducer(d, { type: "setActionType", index: 1, actionType: "webhook.send" });
    expect(d.actions[1]).toEqual({ type: "webhook.send", config: { url: "", method: "POST" } });
  });
});

describe("toWrite and patchOf", () => {
  it("sends what applies to each type and nothing of the editor's own state", () => {
    let d = formReducer(draftOf(null), { type: "setName", name: "Join" });
    d = add(d, "checkbox_group", "cg");
    d = formReducer(d, { type: "updateField", index: 1, patch: { default: ["option_1"], placeholder: "ignored" } });
    d = add(d, "consent", "c");
    const body = toWrite(d);
    expect(body.alias).toBe("join");
    expect(body.fields[1]).toMatchObject({ default: ["option_1"], placeholder: "" });
    expect(body.fields[2]).toMatchObject({ type: "consent", contact_field: null, default: null });
    expect(body.fields.every((f) => !("nameEdited" in f))).toBe(true);
    expect(body.success).toEqual({ kind: "message", message: "Thank you!", redirect_url: null });
  });

  it("patches only what changed", () => {
    const form = savedForm();
    let d = draftOf(form);
    expect(patchOf(d, form)).toBeNull();
    d = formReducer(d, { type: "set", patch: { allowed_origins: ["https://www.example.com"] } });
    expect(patchOf(d, form)).toEqual({ allowed_origins: ["https://www.example.com"] });
    d = formReducer(d, { type: "setLabel", index: 0, label: "Your email" });
    expect(Object.keys(patchOf(d, form) ?? {})).toEqual(["fields", "allowed_origins"]);
  });
});

describe("localProblems", () => {
  it("names the name, alias, input names, options and consent text", () => {
    let d = draftOf(null);
    d = add(d, "text", "t");
    d = formReducer(d, { type: "setFieldName", index: 1, name: "email" });
    d = add(d, "select", "s");
    d = formReducer(d, { type: "removeOption", index: 2, option: 0 });
    d = add(d, "consent", "c");
    d = formReducer(d, { type: "updateField", index: 3, patch: { consent_text: " " } });
    d = formReducer(d, { type: "setFieldName", index: 3, name: "1bad" });
    const p = localProblems(d);
    expect(Object.keys(p).sort()).toEqual([
      "alias",
      "fields/1/name",
      "fields/2/options",
      "fields/3/consent_text",
      "fields/3/name",
      "name",
    ]);
  });

  it("wants a full URL for a redirect", () => {
    const d = formReducer(draftOf(savedForm()), {
      type: "set",
      patch: { success: { kind: "redirect", message: "", redirect_url: "example.com" } },
    });
    expect(localProblems(d)["success/redirect_url"]).toBeTruthy();
    const ok = formReducer(d, {
      type: "set",
      patch: { success: { kind: "redirect", message: "", redirect_url: "https://example.com/thanks" } },
    });
    expect(localProblems(ok)).toEqual({});
  });

  it("warns when no field fills the identifying field", () => {
    const d = formReducer(draftOf(savedForm()), { type: "updateField", index: 0, patch: { contact_field: null } });
    expect(localWarnings(d).identify_by).toMatch(/email/);
    expect(localWarnings(draftOf(savedForm()))).toEqual({});
  });
});

describe("applies", () => {
  it("reads the server catalogue, with validation rules per type", () => {
    const catalogue = [
      {
        type: "text" as const,
        label: "Text",
        attributes: ["label", "validation"],
        has_options: false,
        maps_to_contact: true,
      },
    ];
    expect(applies("text", "validation.max_length", catalogue)).toBe(true);
    expect(applies("text", "validation.min", catalogue)).toBe(false);
    expect(applies("text", "placeholder", catalogue)).toBe(false);
    expect(applies("number", "validation.min")).toBe(true);
    // The server's form: common attributes, then the rules by their own names.
    const server = [
      {
        type: "number" as const,
        label: "Number",
        attributes: ["label", "contact_field", "min", "max"],
        has_options: false,
        maps_to_contact: true,
      },
      {
        type: "consent" as const,
        label: "Consent",
        attributes: ["label", "contact_field", "consent_text"],
        has_options: false,
        maps_to_contact: false,
      },
    ];
    expect(applies("number", "validation.max", server)).toBe(true);
    expect(applies("number", "validation.max_length", server)).toBe(false);
    expect(applies("consent", "contact_field", server)).toBe(false);
    expect(applies("consent", "consent_text", server)).toBe(true);
    expect(applies("consent", "contact_field")).toBe(false);
  });
});
