import { describe, expect, it } from "vitest";
import { createBody, draftOf, duplicateBody, headerRowErrors, isDirty, patchBody, STARTER_MJML } from "./draft";
import { newRow } from "./headers";
import type { Email } from "./types";

const EMAIL: Email = {
  id: 7,
  name: "Welcome",
  kind: "template",
  subject: "Hello {contactfield=first_name|there}",
  preheader: "",
  from_name: "",
  from_address: "",
  reply_to: "",
  headers: [{ name: "X-Campaign", value: "spring" }],
  body_format: "mjml",
  body: "<mjml><mj-body></mj-body></mjml>",
  text_body: null,
  language: "en",
  utm: { source: "trellis", medium: "email", campaign: "", content: "" },
  is_published: false,
  content_version: 1,
  created_by_id: 1,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  version: 3,
  projects: [{ id: 2, name: "P" }],
};

describe("draftOf", () => {
  it("starts a new email as an unpublished MJML template with the starter body", () => {
    const d = draftOf(null);
    expect(d.kind).toBe("template");
    expect(d.body_format).toBe("mjml");
    expect(d.body).toBe(STARTER_MJML);
    expect(d.text_mode).toBe("generated");
    expect(d.is_published).toBe(false);
  });
  it("reads an email's generated or edited text", () => {
    expect(draftOf(EMAIL).text_mode).toBe("generated");
    const custom = draftOf({ ...EMAIL, text_body: "Plain" });
    expect(custom.text_mode).toBe("custom");
    expect(custom.text_body).toBe("Plain");
  });
});

describe("createBody", () => {
  it("sends null text while generated, the text when written", () => {
    const d = draftOf(null);
    expect(createBody({ ...d, name: " N ", subject: "S" })).toMatchObject({ name: "N", subject: "S", text_body: null });
    expect(createBody({ ...d, text_mode: "custom", text_body: "T" }).text_body).toBe("T");
  });
});

describe("patchBody", () => {
  it("is null for an unchanged email", () => {
    expect(patchBody(draftOf(EMAIL), EMAIL)).toBeNull();
    expect(isDirty(draftOf(EMAIL), EMAIL)).toBe(false);
  });
  it("carries only the changed fields", () => {
    const d = { ...draftOf(EMAIL), subject: "New", utm: { ...EMAIL.utm, campaign: "spring" } };
    expect(patchBody(d, EMAIL)).toEqual({
      subject: "New",
      utm: { source: "trellis", medium: "email", campaign: "spring", content: "" },
    });
  });
  it("sends headers as a whole list when a row changes", () => {
    const d = draftOf(EMAIL);
    d.headers = [...d.headers, newRow("X-New", "1")];
    expect(patchBody(d, EMAIL)).toEqual({
      headers: [
        { name: "X-Campaign", value: "spring" },
        { name: "X-New", value: "1" },
      ],
    });
  });
  it("writes the edited text, and asks for the generated one back", () => {
    expect(patchBody({ ...draftOf(EMAIL), text_mode: "custom", text_body: "Hi" }, EMAIL)).toEqual({ text_body: "Hi" });
    const edited = { ...EMAIL, text_body: "Hi" };
    expect(patchBody({ ...draftOf(edited), text_mode: "generated" }, edited)).toEqual({ generate_text: true });
  });
  it("ignores a change of project order", () => {
    const two = {
      ...EMAIL,
      projects: [
        { id: 2, name: "P" },
        { id: 5, name: "Q" },
      ],
    };
    expect(patchBody({ ...draftOf(two), projects: [5, 2] }, two)).toBeNull();
  });
});

describe("duplicateBody", () => {
  it("copies the content under a new name, unpublished", () => {
    const copy = duplicateBody({ ...EMAIL, is_published: true, text_body: "T" });
    expect(copy).toMatchObject({
      name: "Copy of Welcome",
      is_published: false,
      body: EMAIL.body,
      text_body: "T",
      projects: [2],
    });
  });
});

describe("headerRowErrors", () => {
  it("maps /headers/N to the N-th non-empty row", () => {
    const rows = [newRow("", ""), newRow("X-A", "1"), newRow("Subject", "x")];
    const errors = headerRowErrors(
      [
        { pointer: "/headers/1/name", detail: "Subject is set by Trellis itself", code: "value_error" },
        { pointer: "/subject", detail: "Required", code: "missing" },
      ],
      rows,
    );
    expect([...errors.entries()]).toEqual([[rows[2]!.key, "Subject is set by Trellis itself"]]);
  });
});
