import { ContentSwitcher, InlineLoading, InlineNotification, Switch, TextArea } from "@carbon/react";
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import { startVisualEditor, insertTokenInEditor, type VisualEditor } from "./grapes";
import { insertAt, type TokenChoice } from "./tokens";
import type { BodyFormat } from "./types";

export type EditorMode = "visual" | "code";

export interface BodyEditorHandle {
  /** Insert a token where the user is; false when the visual editor has no caret or link target. */
  insert: (choice: TokenChoice) => Promise<boolean>;
  /** The current source (the visual editor's latest, which may not have reached state yet). */
  source: () => Promise<string>;
}

interface Props {
  format: BodyFormat;
  value: string;
  onChange: (value: string) => void;
  /** The user works in the body (selects or edits something in the visual editor). */
  onActivate?: () => void;
  error?: string | undefined;
  readOnly?: boolean;
}

/**
 * The body: GrapesJS with MJML (visual), or the source in a text area (code). Raw HTML is
 * edited as code only (GrapesJS would rewrite the document's head and tables). If GrapesJS
 * cannot start, the code view is all there is, and says why.
 */
export const BodyEditor = forwardRef<BodyEditorHandle, Props>(function BodyEditor(
  { format, value, onChange, onActivate, error, readOnly },
  ref,
) {
  const [mode, setMode] = useState<EditorMode>(format === "mjml" && !readOnly ? "visual" : "code");
  const [failure, setFailure] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const visual = format === "mjml" && mode === "visual" && failure === null && !readOnly;
  const container = useRef<HTMLDivElement>(null);
  const instance = useRef<VisualEditor | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  /** What GrapesJS made of the source as it loaded (its own rewrite, not a user's change). */
  const baseline = useRef<string | null>(null);
  const latest = useRef({ value, onChange, onActivate });
  latest.current = { value, onChange, onActivate };

  useEffect(() => {
    if (format !== "mjml") setMode("code");
  }, [format]);

  useEffect(() => {
    if (!visual || !container.current) return;
    let cancelled = false;
    baseline.current = null;
    setLoading(true);
    const el = container.current;
    startVisualEditor(
      el,
      latest.current.value,
      () => {
        const ed = instance.current;
        if (!ed) return;
        const html = ed.editor.getHtml();
        // GrapesJS normalises the source as it loads: only a change after that is the user's.
        if (baseline.current === null || html === baseline.current) return;
        if (html !== latest.current.value) latest.current.onChange(html);
      },
      () => latest.current.onActivate?.(),
    )
      .then((ed) => {
        if (cancelled) {
          ed.destroy();
          return;
        }
        instance.current = ed;
        ed.editor.onReady(() => {
          baseline.current = ed.editor.getHtml();
        });
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        setLoading(false);
        setFailure(e instanceof Error ? e.message : String(e));
      });
    return () => {
      cancelled = true;
      const ed = instance.current;
      instance.current = null;
      if (ed) {
        // Leaving the visual view keeps what it shows.
        const html = ed.editor.getHtml();
        if (baseline.current !== null && html !== baseline.current && html !== latest.current.value)
          latest.current.onChange(html);
        ed.destroy();
      }
      el.innerHTML = "";
    };
  }, [visual]);

  useImperativeHandle(
    ref,
    () => ({
      async insert(choice) {
        if (visual && instance.current)
          return insertTokenInEditor(instance.current.editor, choice.token, choice.isUrl, choice.label);
        const ta = textarea.current;
        const result = insertAt(latest.current.value, ta?.selectionStart, ta?.selectionEnd, choice.token);
        latest.current.onChange(result.text);
        window.requestAnimationFrame(() => {
          ta?.focus();
          ta?.setSelectionRange(result.caret, result.caret);
        });
        return true;
      },
      async source() {
        const ed = instance.current;
        if (!visual || !ed) return latest.current.value;
        const html = await ed.source();
        // Unchanged since loading: keep the source as written rather than GrapesJS' rewrite of it.
        return baseline.current !== null && html === baseline.current ? latest.current.value : html;
      },
    }),
    [visual],
  );

  return (
    <div className="trellis-email-body">
      <div className="trellis-email-body__bar">
        {format === "mjml" && !readOnly ? (
          <ContentSwitcher
            size="sm"
            selectedIndex={mode === "visual" ? 0 : 1}
            onChange={({ name }) => setMode(name === "code" ? "code" : "visual")}
            className="trellis-email-body__mode"
          >
            <Switch name="visual" text="Visual" disabled={failure !== null} />
            <Switch name="code" text="MJML source" />
          </ContentSwitcher>
        ) : (
          <span className="trellis-muted">{format === "html" ? "HTML source" : "MJML source"}</span>
        )}
        {loading ? <InlineLoading description="Starting the visual editor…" /> : null}
      </div>
      {failure ? (
        <InlineNotification
          kind="warning"
          lowContrast
          hideCloseButton
          title="The visual editor could not start"
          subtitle={`${failure} Edit the MJML source instead.`}
        />
      ) : null}
      {visual ? (
        <>
          {error ? (
            <InlineNotification
              kind="error"
              lowContrast
              hideCloseButton
              title="The body is not valid"
              subtitle={error}
            />
          ) : null}
          <div className="trellis-email-visual" data-testid="visual-editor">
            {/* GrapesJS sizes its container to 100%: of this fixed-height box. */}
            <div ref={container} className="trellis-email-visual__editor" />
          </div>
        </>
      ) : (
        <TextArea
          id="email-body-source"
          ref={textarea}
          labelText={format === "html" ? "HTML source" : "MJML source"}
          hideLabel
          rows={26}
          className="trellis-code"
          value={value}
          readOnly={readOnly}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
          invalid={Boolean(error)}
          invalidText={error}
        />
      )}
    </div>
  );
});
