import { afterEach, describe, expect, it } from "vitest";
import { clearDraft, readDraft, writeDraft } from "./localDraft";

describe("local drafts", () => {
  afterEach(() => window.localStorage.clear());

  it("gives back what was written, with when", () => {
    writeDraft("email:new", { name: "Spring" }, 1_000);
    expect(readDraft("email:new", 2_000)).toEqual({ savedAt: 1_000, value: { name: "Spring" } });
  });

  it("forgets a cleared draft", () => {
    writeDraft("campaign:4", { events: [] });
    clearDraft("campaign:4");
    expect(readDraft("campaign:4")).toBeNull();
  });

  it("drops drafts older than a week, and unreadable entries", () => {
    writeDraft("form:2", { fields: [] }, 0);
    expect(readDraft("form:2", 8 * 24 * 3600 * 1000)).toBeNull();
    expect(window.localStorage.getItem("trellis.draft.form:2")).toBeNull();
    window.localStorage.setItem("trellis.draft.segment:1", "{not json");
    expect(readDraft("segment:1")).toBeNull();
  });
});
