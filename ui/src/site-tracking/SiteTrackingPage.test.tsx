// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { embedSnippet } from "./api";
import { SiteTrackingPage } from "./SiteTrackingPage";

afterEach(cleanup);

// Carbon's CodeSnippet measures itself; jsdom has no ResizeObserver.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

describe("embedSnippet", () => {
  it("points at this server's script with the options", () => {
    expect(embedSnippet("https://trellis.example/", "www", false)).toBe(
      '<script src="https://trellis.example/t/w.js" data-site="www" async></script>',
    );
    expect(embedSnippet("https://t.example", "", true)).toBe(
      '<script src="https://t.example/t/w.js" data-consent="required" async></script>',
    );
  });

  it("keeps markup out of the site name", () => {
    expect(embedSnippet("https://t.example", '"><script>x', false)).toBe(
      '<script src="https://t.example/t/w.js" data-site="scriptx" async></script>',
    );
  });
});

describe("SiteTrackingPage", () => {
  it("shows the snippet and switches on consent mode", () => {
    const { container } = render(<SiteTrackingPage />);
    expect(container.textContent).toContain('/t/w.js" data-site="www" async');
    fireEvent.click(screen.getByLabelText(/Wait for consent/));
    expect(container.textContent).toContain('data-consent="required"');
    expect(container.textContent).toContain('trellis("consent")');
  });
});
