import { describe, expect, it } from "vitest";
import { baseUrlMismatch } from "./baseUrl";

describe("baseUrlMismatch", () => {
  it("accepts the browser's own origin, with or without a path", () => {
    expect(baseUrlMismatch("http://127.0.0.1:8123", "http://127.0.0.1:8123")).toBeNull();
    expect(baseUrlMismatch("https://mail.example.test/", "https://mail.example.test")).toBeNull();
  });
  it("names both addresses when the port differs", () => {
    expect(baseUrlMismatch("http://127.0.0.1:8000", "http://127.0.0.1:8123")).toBe(
      "Links in emails and embed codes point to http://127.0.0.1:8000, but you are using http://127.0.0.1:8123.",
    );
  });
  it("notices another host or scheme", () => {
    expect(baseUrlMismatch("http://localhost:8000", "http://127.0.0.1:8000")).not.toBeNull();
    expect(baseUrlMismatch("http://example.test", "https://example.test")).not.toBeNull();
  });
  it("reports an address that is not one", () => {
    expect(baseUrlMismatch("not a url", "http://127.0.0.1:8000")).toContain("not a valid address");
  });
});
