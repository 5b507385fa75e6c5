/**
 * GrapesJS with its MJML plugin, configured so that the editor makes no request outside this
 * server: no telemetry, no icon font from a CDN, no remote assets or canvas styles, no blocks
 * whose content points at third-party images, no web fonts in compiled MJML, no local storage
 * (the email is saved through the API only).
 */
import type { Component, Editor, EditorConfig, Plugin } from "grapesjs";
import { rangeAt, selectionOffsets, type TextOffsets } from "./caret";

/** A grey 350x250 placeholder for new images, inline so that nothing is fetched. */
export const IMAGE_PLACEHOLDER =
  "data:image/svg+xml;utf8," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="350" height="250"><rect width="100%" height="100%" fill="#c6c6c6"/></svg>',
  );

/**
 * The plugin's blocks that are offered. Left out: mj-hero (a background from
 * githubusercontent.com), mj-raw (images from unsplash.com) and the social blocks (icons from
 * mailjet.com).
 */
export const MJML_BLOCKS = [
  "mj-1-column",
  "mj-2-columns",
  "mj-3-columns",
  "mj-text",
  "mj-button",
  "mj-image",
  "mj-divider",
  "mj-spacer",
  "mj-navbar",
  "mj-navbar-link",
  "mj-wrapper",
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
  for (
    let i = 0;
    i < 3 && typeof value !== "function" && value !== null && typeof value === "object" && "default" in value;
    i++
  ) {
    value = value.default;
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
  trackCaret(editor);
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

/** The parts of GrapesJS' text component view used here (its typings mark some private). */
interface TextView {
  el: HTMLElement;
  getChildrenContainer: () => HTMLElement;
  canActivate: () => { result: boolean };
  onActive: (ev?: Event) => unknown;
  syncContent: () => Promise<void>;
}

function textView(component: Component): TextView | null {
  const view = component.getView() as Partial<TextView> | undefined;
  if (!view?.el?.isConnected || typeof view.getChildrenContainer !== "function") return null;
  if (
    typeof view.canActivate !== "function" ||
    typeof view.onActive !== "function" ||
    typeof view.syncContent !== "function"
  )
    return null;
  return view as TextView;
}

/** Where the caret is, or was when editing ended, in a text block. */
interface RememberedCaret extends TextOffsets {
  component: Component;
}

const carets = new WeakMap<Editor, { current: RememberedCaret | null }>();

function select(root: HTMLElement, offsets: TextOffsets): void {
  const selection = root.ownerDocument.getSelection();
  if (!selection) return;
  selection.removeAllRanges();
  selection.addRange(rangeAt(root, offsets));
}

/**
 * Remember the caret of the text block being edited, for two reasons. Any click in the page
 * outside the canvas (the token picker's, for one) ends GrapesJS' editing and takes focus from
 * the canvas: the caret is kept so that a token can still go there. And GrapesJS merges the
 * text into the component while editing (on every store of the project), rebuilding the
 * block's DOM, which drops the selection: it is put back. The caret is forgotten when the user
 * turns to something else in the canvas: a click there, or another component selected or
 * removed.
 */
function trackCaret(editor: Editor): void {
  const memory: { current: RememberedCaret | null } = { current: null };
  carets.set(editor, memory);
  let editing: Component | null = null;
  const watched = new WeakSet<Document>();
  const record = () => {
    const view = editing && textView(editing);
    if (!editing || !view) return;
    const root = view.getChildrenContainer();
    const offsets = selectionOffsets(root, root.ownerDocument.getSelection());
    if (offsets) memory.current = { component: editing, ...offsets };
  };
  // After the views have rebuilt the block (they listen to the same reset, maybe after this).
  const restore = () =>
    queueMicrotask(() => {
      const view = editing && textView(editing);
      const caret = memory.current;
      if (view && caret && caret.component === editing) select(view.getChildrenContainer(), caret);
    });
  editor.on("rte:enable", (view: { model: Component; el: HTMLElement }) => {
    editing = view.model;
    if (memory.current?.component !== editing) memory.current = null;
    const doc = view.el.ownerDocument;
    if (!watched.has(doc)) {
      watched.add(doc);
      doc.addEventListener("selectionchange", record);
      // Capture: before GrapesJS acts on the click. A click while editing stays in the block.
      doc.addEventListener(
        "mousedown",
        () => {
          if (!editing) memory.current = null;
        },
        true,
      );
    }
    editing.components().on("reset", restore);
    record();
  });
  // Fired before GrapesJS merges the text for the last time: the selection is still in it.
  editor.on("rte:disable", () => {
    record();
    editing?.components().off("reset", restore);
    editing = null;
  });
  editor.on("component:toggled", () => {
    if (memory.current && editor.getSelected() !== memory.current.component) memory.current = null;
  });
  editor.on("component:remove", (component: Component) => {
    if (memory.current?.component === component) memory.current = null;
  });
}

/**
 * Insert `html` at `offsets` in a text block, in editing mode (entered again if it has ended),
 * then merge it into the component, leaving the caret just after it, as typing would.
 */
async function insertInText(
  editor: Editor,
  component: Component,
  offsets: TextOffsets,
  html: string,
): Promise<boolean> {
  const view = textView(component);
  if (!view) return false;
  if (editor.getEditing() !== component) {
    if (!view.canActivate().result) return false;
    // The MJML plugin wraps onActive and drops its promise: wait for editing to have begun.
    const begun = new Promise<void>((resolve) => component.once("rte:enable", () => resolve()));
    view.onActive();
    await begun;
  }
  const rte = editor.RichTextEditor.globalRte;
  if (editor.getEditing() !== component || !rte) return false;
  const root = view.getChildrenContainer();
  select(root, offsets);
  rte.insertHTML(html);
  // The inserted node ends up selected: collapse to its end.
  const inserted = selectionOffsets(root, root.ownerDocument.getSelection());
  if (inserted) {
    const after = { start: inserted.end, end: inserted.end };
    select(root, after);
    // Before the merge below, which would otherwise put back the caret last reported.
    const memory = carets.get(editor);
    if (memory) memory.current = { component, ...after };
  }
  // So that the change is reported (and the source updated) before the user stops editing.
  await view.syncContent();
  return true;
}

/** Components whose content is text a token can go into. */
const TEXT_TYPES = new Set(["mj-text", "text", "mj-button", "mj-navbar-link", "link"]);
/** Components with a link (href) a URL token can be. */
const LINK_TYPES = new Set(["mj-button", "mj-image", "mj-navbar-link", "link"]);

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);
}

/**
 * Put a token where the user is: at the caret of the text being edited, or of the text whose
 * editing the token picker ended (a URL token as a link); else as the link of the selected
 * button or image (URL tokens), or at the end of the selected text block. False when nothing
 * is selected that can take it.
 */
export async function insertTokenInEditor(
  editor: Editor,
  token: string,
  isUrl: boolean,
  label: string,
): Promise<boolean> {
  const html = isUrl ? `<a href="${escapeHtml(token)}">${escapeHtml(label)}</a>` : escapeHtml(token);
  const remembered = carets.get(editor)?.current ?? null;
  const editing = editor.getEditing();
  if (editing) {
    const view = textView(editing);
    const here = view && selectionOffsets(view.getChildrenContainer(), view.el.ownerDocument.getSelection());
    // No caret known in the block being edited: its end, as for a block that is only selected.
    const offsets = here ?? (remembered?.component === editing ? remembered : { start: Infinity, end: Infinity });
    if (await insertInText(editor, editing, offsets, html)) return true;
  }
  const selected = editor.getSelected();
  if (!selected) return false;
  if (remembered && remembered.component === selected && (await insertInText(editor, selected, remembered, html)))
    return true;
  const type = selected.get("type") ?? "";
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
