import { describe, expect, it } from "vitest";
import { firstRemoteResource, formToken, SLUG_PATTERN, slugify } from "./content";

describe("slugify", () => {
  it("makes a valid slug from any name", () => {
    expect(slugify("Spring Launch 2027!")).toBe("spring-launch-2027");
    expect(slugify("Crème brûlée")).toBe("creme-brulee");
    expect(slugify("***")).toBe("page");
    expect(SLUG_PATTERN.test(slugify("a".repeat(300)))).toBe(true);
  });
});

describe("firstRemoteResource", () => {
  it("finds images, srcsets and CSS that load from another host", () => {
    expect(firstRemoteResource('<img src="https://cdn.example.com/a.png">', "")).toBe("https://cdn.example.com/a.png");
    expect(firstRemoteResource('<img srcset="/a/x 1x, //cdn.example.com/y 2x">', "")).toBe("//cdn.example.com/y");
    expect(firstRemoteResource("", "body { background: url('http://x.example/b.png') }")).toBe(
      "http://x.example/b.png",
    );
    expect(firstRemoteResource("", "@import 'x.css';")).toBe("@import");
  });

  it("accepts local resources and links to other sites", () => {
    expect(
      firstRemoteResource('<img src="/a/logo"><a href="https://example.com">x</a>', ".x { background: url(/a/bg) }"),
    ).toBeNull();
  });

  it("writes the form token", () => {
    expect(formToken(12)).toBe("{form=12}");
  });
});
