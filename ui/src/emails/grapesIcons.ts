/**
 * GrapesJS and its MJML plugin draw some icons with Font Awesome classes ("fa fa-eye"), whose
 * font the default configuration fetches from cdnjs. That request is turned off, so the same
 * classes are drawn here with Carbon's icons (bundled) as CSS masks: no font, nothing fetched.
 */
import {
  CaretDown,
  CaretRight,
  Checkbox,
  Close,
  Code,
  Edit,
  Grid,
  Maximize,
  Menu,
  PaintBrush,
  Settings,
  TextAlignCenter,
  TextAlignJustify,
  TextAlignLeft,
  TextAlignRight,
  TextFont,
  TextItalic,
  TextStrikethrough,
  TextUnderline,
  View,
  ViewOff,
  type CarbonIconType,
} from "@carbon/icons-react";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";

/** Every Font Awesome name GrapesJS 0.23 and grapesjs-mjml 1.0 use, with its Carbon icon. */
export const FA_ICONS: Record<string, CarbonIconType> = {
  "square-o": Checkbox,
  eye: View,
  "eye-slash": ViewOff,
  "arrows-alt": Maximize,
  code: Code,
  "paint-brush": PaintBrush,
  cog: Settings,
  bars: Menu,
  "th-large": Grid,
  pencil: Edit,
  "caret-right": CaretRight,
  "caret-down": CaretDown,
  "align-left": TextAlignLeft,
  "align-center": TextAlignCenter,
  "align-right": TextAlignRight,
  "align-justify": TextAlignJustify,
  font: TextFont,
  italic: TextItalic,
  strikethrough: TextStrikethrough,
  times: Close,
  underline: TextUnderline,
};

export function svgDataUri(svg: string): string {
  const withNs = svg.includes("xmlns=") ? svg : svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
  return `data:image/svg+xml;utf8,${encodeURIComponent(withNs)}`;
}

export function iconStylesheet(): string {
  const rules = Object.entries(FA_ICONS).map(([name, icon]) => {
    const svg = renderToStaticMarkup(createElement(icon, { size: 32 }));
    return `.gjs-editor-cont .fa-${name}::before { -webkit-mask-image: url("${svgDataUri(svg)}"); mask-image: url("${svgDataUri(svg)}"); }`;
  });
  return [
    ".gjs-editor-cont .fa { display: inline-flex; align-items: center; justify-content: center; font-style: normal; }",
    '.gjs-editor-cont .fa::before { content: ""; display: inline-block; width: 1em; height: 1em; background-color: currentColor;' +
      " -webkit-mask-repeat: no-repeat; mask-repeat: no-repeat; -webkit-mask-position: center; mask-position: center;" +
      " -webkit-mask-size: contain; mask-size: contain; }",
    ...rules,
  ].join("\n");
}

const STYLE_ID = "trellis-grapes-icons";

/** Add the stylesheet to the page once. */
export function installIcons(doc: Document = document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = iconStylesheet();
  doc.head.appendChild(style);
}
