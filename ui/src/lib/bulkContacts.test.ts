import { describe, expect, it, vi } from "vitest";
import { ApiProblem } from "../api/problem";
import { BULK_LIMIT, bulkDoneTitle, chunk, contactCount, missingNote, runBulk, type BulkRequest } from "./bulkContacts";

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("chunk", () => {
  it("cuts in order, the last slice shorter", () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 2)).toEqual([]);
    expect(chunk(range(1, BULK_LIMIT))).toHaveLength(1);
    expect(chunk(range(1, BULK_LIMIT + 1)).map((s) => s.length)).toEqual([BULK_LIMIT, 1]);
  });

  it("refuses a size that would never end", () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
    expect(() => chunk([1], 1.5)).toThrow(RangeError);
  });
});

describe("runBulk", () => {
  it("sends one request for up to 1,000 ids", async () => {
    const send = vi.fn((body: BulkRequest) =>
      Promise.resolve({ affected: body.contact_ids.length, missing: [], refused: [] }),
    );
    const outcome = await runBulk(
      new Set(range(1, 1000)),
      { action: "add_tags", tags: ["vip"], channel: "email" },
      send,
    );
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]![0]).toEqual({
      action: "add_tags",
      tags: ["vip"],
      channel: "email",
      contact_ids: range(1, 1000),
    });
    expect(outcome).toEqual({ affected: 1000, missing: [], refused: [], notDone: [], error: undefined });
  });

  it("splits 2,500 ids into three requests and adds up the results", async () => {
    const send = vi.fn((body: BulkRequest) =>
      Promise.resolve({
        affected: body.contact_ids.length - 1,
        missing: [body.contact_ids[0]!],
        refused: [body.contact_ids[1]!],
      }),
    );
    const outcome = await runBulk(range(1, 2500), { action: "add_dnc", channel: "email" }, send);
    expect(send.mock.calls.map(([b]) => b.contact_ids.length)).toEqual([1000, 1000, 500]);
    expect(send.mock.calls.every(([b]) => b.action === "add_dnc" && b.channel === "email")).toBe(true);
    expect(outcome.affected).toBe(2497);
    expect(outcome.missing).toEqual([1, 1001, 2001]);
    expect(outcome.refused).toEqual([2, 1002, 2002]);
    expect(outcome.error).toBeUndefined();
  });

  it("drops duplicate ids", async () => {
    const send = vi.fn((body: BulkRequest) =>
      Promise.resolve({ affected: body.contact_ids.length, missing: [], refused: [] }),
    );
    await runBulk([3, 1, 3, 2, 1], { action: "delete", channel: "email" }, send);
    expect(send.mock.calls[0]![0].contact_ids).toEqual([3, 1, 2]);
  });

  it("stops at the first failure and reports the ids not done", async () => {
    const refused = new ApiProblem({ title: "Permission denied", detail: "No." }, 403);
    const send = vi
      .fn<(body: BulkRequest) => Promise<{ affected: number; missing: number[]; refused: number[] }>>()
      .mockResolvedValueOnce({ affected: 2, missing: [], refused: [] })
      .mockRejectedValueOnce(refused);
    const outcome = await runBulk(range(1, 7), { action: "remove_dnc", channel: "email" }, send, 2);
    expect(send).toHaveBeenCalledTimes(2);
    expect(outcome.affected).toBe(2);
    expect(outcome.notDone).toEqual([3, 4, 5, 6, 7]);
    expect(outcome.error).toBe(refused);
  });

  it("sends nothing for no ids", async () => {
    const send = vi.fn();
    expect(await runBulk([], { action: "delete", channel: "email" }, send)).toEqual({
      affected: 0,
      missing: [],
      refused: [],
      notDone: [],
      error: undefined,
    });
    expect(send).not.toHaveBeenCalled();
  });
});

describe("messages", () => {
  it("counts contacts", () => {
    expect(contactCount(1)).toBe("1 contact");
    expect(contactCount(0)).toBe("0 contacts");
    expect(contactCount(3)).toBe("3 contacts");
  });

  it("names what was done", () => {
    expect(bulkDoneTitle("add_tags", 2)).toBe("Tags added to 2 contacts");
    expect(bulkDoneTitle("remove_tags", 1)).toBe("Tags removed from 1 contact");
    expect(bulkDoneTitle("delete", 5)).toBe("Deleted 5 contacts");
    expect(bulkDoneTitle("add_dnc", 1)).toBe("Do not contact (email) set for 1 contact");
    expect(bulkDoneTitle("remove_dnc", 4)).toBe("Contact by email allowed for 4 contacts");
  });

  it("lists a few missing ids", () => {
    expect(missingNote([])).toBeNull();
    expect(missingNote([7])).toBe("1 contact no longer exists (#7).");
    expect(missingNote(range(1, 7))).toBe("7 contacts no longer exist (#1, #2, #3, #4, #5 and 2 more).");
  });
});
