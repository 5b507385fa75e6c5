/**
 * GrapesJS with its MJML plugin, configured so that the editor makes no request outside this
 * server: no telemetry, no icon font from a CDN, no remote assets or canvas styles, no blocks
 * whose content points at third-party images, no web fonts in compiled MJML, no local storage
 * (the email is saved through the API only).
 */
import type { Editor, EditorConfig, Plugin } from "grapesjs";

/** A grey 350x250 placeholder for new images, inline so that nothing is fetched. */
export const IMAGE_PLACEHOLDER =
  "data:image/svg+xml;utf8," +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="350" height="250"><rect width="100%" height="100%" fill="#c6c6c6"/></svg>');

/**
 * The plugin's blocks that are offered. Left out: mj-hero (a background from
 * githubusercontent.com), mj-raw (images from unsplash.com) and the social blocks (icons from
 * mailjet.com).
 */
export const MJML_BLOCKS = [
  "mj-1-column", "mj-2-columns", "mj-3-columns", "mj-text", "mj-button", "mj-image", "mj-divider",
  "mj-spacer", "mj-navbar", "mj-navbar-link", "mj-wrapper",
] as const;

export function editorConfig(container: HTMLElement, source: string): EditorConfig {
  return {
    container,
    height: "100%",
    width: "auto",
    components: source,
    fromElement: false,
    storageManager: false,
    telemetry: false,
    // Default: Font Awesome from cdnjs. The panels' icons are inline SVG in this version.
    cssIcons: "",
    assetManager: { assets: [], upload: false, embedAsBase64: false },
    canvas: { styles: [], scripts: [] },
    plugins: [],
    pluginsOpts: {},
  };
}

export function mjmlPluginOptions() {
  return {
    blocks: [...MJML_BLOCKS],
    imagePlaceholderSrc: IMAGE_PLACEHOLDER,
    fonts: {},
    resetDevices: true,
    useCustomTheme: true,
  };
}

/**
 * The default export of a module that may be CommonJS/UMD (grapesjs-mjml is): bundlers wrap it
 * once more, so the function can sit at `default` or at `default.default`.
 */
export function defaultExport<T>(mod: unknown): T {
  let value: unknown = mod;
  for (let i = 0; i < 3 && typeof value !== "function" && value !== null && typeof value === "object" && "default" in value; i++) {
    value = (value as { default: unknown }).default;
  }
  if (typeof value !== "function") throw new Error("The MJML plugin did not load.");
  return value as T;
}

export interface VisualEditor {
  editor: Editor;
  /** The MJML source of what the editor shows, including text being typed right now. */
  source: () => Promise<string>;
  destroy: () => void;
}

/**
 * Load GrapesJS and the MJML plugin (a separate chunk: the page works with the code view while
 * it loads, or if it fails) and start it in `container` with `source`.
 */
export async function startVisualEditor(
  container: HTMLElement,
  source: string,
  onChange: () => void,
  onActivate: () => void = () => undefined,
): Promise<VisualEditor> {
  const [{ default: grapesjs }, mjmlModule, { installIcons }] = await Promise.all([
    import("grapesjs"),
    import("grapesjs-mjml"),
    import("./grapesIcons"),
    import("grapesjs/dist/css/grapes.min.css"),
  ]);
  installIcons();
  const mjmlPlugin = defaultExport<Plugin<Record<string, unknown>>>(mjmlModule);
  const config = editorConfig(container, source);
  config.plugins = [(ed: Editor) => mjmlPlugin(ed, mjmlPluginOptions())];
  const editor = grapesjs.init(config);
  editor.onReady(() => {
    // A new user starts from the blocks, not from an empty style manager.
    editor.Panels.getButton("views", "open-blocks")?.set("active", true);
  });
  editor.on("update", onChange);
  // Clicks inside the canvas frame never reach the page: the editor says when it is in use.
  editor.on("rte:enable component:selected", onActivate);
  return {
    editor,
    source: async () => {
      await syncEditing(editor);
      return editor.getHtml();
    },
    destroy: () => editor.destroy(),
  };
}

/** Text typed in the rich text editor reaches the component only when editing ends: merge it now. */
async function syncEditing(editor: Editor): Promise<void> {
  const view = editor.getEditing()?.getView() as { syncContent?: () => Promise<void> } | undefined;
  if (view?.syncContent) await view.syncContent();
}

/** Components whose content is text a token can go into. */
const TEXT_TYPES = new Set(["mj-text", "text", "mj-button", "mj-navbar-link", "link"]);
/** Components with a link (href) a URL token can be. */
const LINK_TYPES = new Set(["mj-button", "mj-image", "mj-navbar-link", "link"]);

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);
}

/**
 * Put a token where the user is: at the caret of the text being edited (a URL token as a link);
 * else as the link of the selected button or image (URL tokens), or at the end of the selected
 * text block. False when nothing is selected that can take it.
 */
export function insertTokenInEditor(editor: Editor, token: string, isUrl: boolean, label: string): boolean {
  const html = isUrl ? `<a href="${escapeHtml(token)}">${escapeHtml(label)}</a>` : escapeHtml(token);
  const rte = editor.RichTextEditor.globalRte;
  if (editor.getEditing() && rte) {
    rte.insertHTML(html);
    // So that the change is reported (and the source updated) before the user stops editing.
    void syncEditing(editor);
    return true;
  }
  const selected = editor.getSelected();
  const type = selected?.get("type") ?? "";
  if (!selected) return false;
  if (isUrl && LINK_TYPES.has(type)) {
    selected.addAttributes({ href: token });
    return true;
  }
  if (TEXT_TYPES.has(type)) {
    selected.append(html);
    return true;
  }
  return false;
}
