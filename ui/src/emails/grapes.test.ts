import { describe, expect, it } from "vitest";
import { defaultExport, editorConfig, IMAGE_PLACEHOLDER, MJML_BLOCKS, mjmlPluginOptions } from "./grapes";

describe("the GrapesJS configuration", () => {
  it("asks nothing of third parties", () => {
    const config = editorConfig(document.createElement("div"), "<mjml></mjml>");
    expect(config.telemetry).toBe(false);
    expect(config.cssIcons).toBe("");
    expect(config.storageManager).toBe(false);
    expect(config.canvas).toEqual({ styles: [], scripts: [] });
    expect(config.assetManager).toMatchObject({ assets: [], upload: false });
  });
  it("offers no block whose content loads remote images, and no web fonts", () => {
    const options = mjmlPluginOptions();
    for (const remote of ["mj-hero", "mj-raw", "mj-social-group", "mj-social-element"]) {
      expect(MJML_BLOCKS).not.toContain(remote);
      expect(options.blocks).not.toContain(remote);
    }
    expect(options.fonts).toEqual({});
    expect(options.imagePlaceholderSrc).toBe(IMAGE_PLACEHOLDER);
    expect(IMAGE_PLACEHOLDER.startsWith("data:")).toBe(true);
  });
});

describe("defaultExport", () => {
  it("finds the function of an ES module or of a wrapped CommonJS one", () => {
    const fn = () => 1;
    expect(defaultExport(fn)).toBe(fn);
    expect(defaultExport({ default: fn })).toBe(fn);
    expect(defaultExport({ default: { default: fn } })).toBe(fn);
    expect(() => defaultExport({ default: {} })).toThrow(/did not load/);
  });
});

describe("the Font Awesome stand-ins", () => {
  it("draws every icon class GrapesJS uses, from inline SVG only", async () => {
    const { FA_ICONS, iconStylesheet } = await import("./grapesIcons");
    const css = iconStylesheet();
    for (const name of [
      "eye",
      "code",
      "paint-brush",
      "cog",
      "bars",
      "th-large",
      "square-o",
      "arrows-alt",
      "align-center",
    ]) {
      expect(Object.keys(FA_ICONS)).toContain(name);
      expect(css).toContain(`.fa-${name}::before`);
    }
    expect(css).not.toMatch(/url\("?(https?:)?\/\//);
    expect(css).toContain("data:image/svg+xml");
  });
});
