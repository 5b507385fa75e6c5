/**
 * GrapesJS for landing pages: the email builder's configuration (no telemetry, no CDN icons,
 * no remote assets, no local storage) without the MJML plugin, with plain HTML blocks whose
 * content loads nothing from elsewhere.
 */
import type { Editor } from "grapesjs";
import { editorConfig, IMAGE_PLACEHOLDER } from "../emails/grapes";

export interface PageEditor {
  editor: Editor;
  html: () => string;
  css: () => string;
  destroy: () => void;
}

export const PAGE_BLOCKS: { id: string; label: string; content: string }[] = [
  {
    id: "section",
    label: "Section",
    content: '<section style="padding:48px 24px;max-width:960px;margin:0 auto"><h2>Heading</h2><p>Text</p></section>',
  },
  { id: "text", label: "Text", content: "<p>Write something here.</p>" },
  { id: "heading", label: "Heading", content: "<h1>Heading</h1>" },
  { id: "image", label: "Image", content: `<img src="${IMAGE_PLACEHOLDER}" alt="" style="max-width:100%">` },
  {
    id: "button",
    label: "Button",
    content:
      '<a href="#" style="display:inline-block;padding:12px 16px;background:#0f62fe;color:#fff;text-decoration:none">Call to action</a>',
  },
  {
    id: "columns",
    label: "Two columns",
    content:
      '<div style="display:flex;gap:24px;flex-wrap:wrap"><div style="flex:1;min-width:240px"><p>Left</p></div><div style="flex:1;min-width:240px"><p>Right</p></div></div>',
  },
];

export async function startPageEditor(
  container: HTMLElement,
  html: string,
  css: string,
  onChange: () => void,
): Promise<PageEditor> {
  const [{ default: grapesjs }, { installIcons }] = await Promise.all([
    import("grapesjs"),
    import("../emails/grapesIcons"),
    import("grapesjs/dist/css/grapes.min.css"),
  ]);
  installIcons();
  const config = editorConfig(container, html);
  config.style = css;
  const editor = grapesjs.init(config);
  for (const block of PAGE_BLOCKS) editor.BlockManager.add(block.id, { label: block.label, content: block.content });
  editor.onReady(() => {
    editor.Panels.getButton("views", "open-blocks")?.set("active", true);
  });
  editor.on("update", onChange);
  return {
    editor,
    html: () => editor.getHtml(),
    css: () => editor.getCss() ?? "",
    destroy: () => editor.destroy(),
  };
}
