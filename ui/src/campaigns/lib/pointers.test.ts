import { describe, expect, it } from "vitest";
import { sampleDoc } from "./fixtures";
import { configErrors, locate, waitingOnRemoved } from "./pointers";

describe("locate", () => {
  it("puts event, edge, setting and source pointers where they belong", () => {
    const doc = sampleDoc();
    const found = locate(
      [
        { pointer: "/events/1/config/delta", detail: "Field required" },
        { pointer: "/events/3/timing", detail: "needs a delay" },
        { pointer: "/edges/2/target", detail: "two parents" },
        { pointer: "/name", detail: "empty" },
        { pointer: "/sources/0/id", detail: "No segment with id 1." },
      ],
      doc,
    );
    expect(found[0]).toMatchObject({ event: "yes1", field: "config/delta" });
    expect(found[1]).toMatchObject({ event: "late", field: "timing" });
    expect(found[2]).toMatchObject({ event: "dec", field: "parent" });
    expect(found[3]).toMatchObject({ event: null, setting: "name" });
    expect(found[4]).toMatchObject({ event: null, field: "sources", setting: "sources/0/id" });
    expect(configErrors(found, "yes1")).toEqual({ delta: "Field required" });
  });
});

describe("waitingOnRemoved", () => {
  it("reads the waiting counts per removed step", () => {
    expect(
      waitingOnRemoved([
        { pointer: "/on_delete/abc", detail: "3 contact(s) wait here." },
        { pointer: "/name", detail: "x" },
      ]),
    ).toEqual({ abc: 3 });
  });
});
