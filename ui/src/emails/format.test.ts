import { describe, expect, it } from "vitest";
import { rate } from "./api";
import { formatSize, sendSource, sendStatus, withoutOpenPixel } from "./format";

describe("email formatting", () => {
  it("labels statuses, a skipped send as not sent", () => {
    expect(sendStatus("skipped")).toEqual({ label: "Not sent", tag: "warm-gray" });
    expect(sendStatus("failed").tag).toBe("red");
  });
  it("names where a send came from", () => {
    expect(sendSource({ source: "test", campaign_id: null, broadcast_id: null })).toBe("Test");
    expect(sendSource({ source: "campaign", campaign_id: 4, broadcast_id: null })).toBe("Campaign 4");
    expect(sendSource({ source: "broadcast", campaign_id: null, broadcast_id: 2 })).toBe("Broadcast 2");
  });
  it("formats sizes and rates", () => {
    expect(formatSize(999)).toBe("999 B");
    expect(formatSize(12_345)).toBe("12.3 kB");
    expect(rate(1, 3)).toBe("33%");
    expect(rate(1, 40)).toBe("2.5%");
    expect(rate(0, 0)).toBe("—");
  });
});

describe("withoutOpenPixel", () => {
  it("drops the open pixel and keeps the other images", () => {
    const html =
      '<p>Hi</p><img src="https://shop.example.com/a.png" alt="a"><img width="1" height="1" src="http://127.0.0.1:8000/t/open/12.abc.gif" alt="">';
    expect(withoutOpenPixel(html)).toBe('<p>Hi</p><img src="https://shop.example.com/a.png" alt="a">');
  });
});
