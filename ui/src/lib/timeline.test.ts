import { describe, expect, it } from "vitest";
import { describeActivity } from "./timeline";

describe("timeline entries", () => {
  it("shows each field change as old -> new with labels", () => {
    const e = describeActivity(
      {
        kind: "updated",
        summary: "Updated",
        details: { changes: { first_name: { old: null, new: "Ada" }, "fields.shoe": { old: 40, new: 41 } } },
      },
      { first_name: "First name", shoe: "Shoe size" },
    );
    expect(e.changes).toEqual([
      { field: "First name", old: "(empty)", new: "Ada" },
      { field: "Shoe size", old: "40", new: "41" },
    ]);
    expect(e.title).toBe("Updated 2 fields");
  });

  it("describes tags, points, dnc, merges and segments", () => {
    expect(describeActivity({ kind: "tags", summary: "", details: { added: ["a"], removed: ["b"] } }).lines).toEqual([
      "Added: a",
      "Removed: b",
    ]);
    expect(describeActivity({ kind: "points", summary: "", details: { delta: -5, reason: "bounce" } })).toMatchObject({
      title: "-5 points",
      tone: "red",
      lines: ["bounce"],
    });
    expect(
      describeActivity({ kind: "dnc_added", summary: "", details: { channel: "email", reason: "bounced" } }).title,
    ).toBe("Do not contact on email (bounced)");
    expect(
      describeActivity({
        kind: "merged",
        summary: "",
        details: { merged_id: 9, merged_email: "x@y.z", filled: [], points_added: 3 },
      }).lines,
    ).toEqual(["Merged contact: x@y.z", "Points added: 3"]);
    const joined = describeActivity({
      kind: "segment.joined",
      summary: "Joined segment VIP",
      details: { segment_id: 4 },
    });
    expect(joined).toMatchObject({
      title: "Joined segment VIP",
      kindLabel: "Joined segment",
      link: { to: "/segments/4" },
    });
    expect(describeActivity({ kind: "email.opened", summary: "Opened" }).kindLabel).toBe("Email opened");
  });
});
