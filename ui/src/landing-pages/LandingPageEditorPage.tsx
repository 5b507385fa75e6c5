/**
 * The landing page editor: settings, the body in GrapesJS (visual) or as HTML and CSS (code),
 * a server-rendered preview, save and publish. Routes /landing-pages/new and
 * /landing-pages/:pageId. Saves with If-Match; server errors land on the field their pointer
 * names.
 */
import { Save, View } from "@carbon/icons-react";
import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  ContentSwitcher,
  InlineLoading,
  InlineNotification,
  Stack,
  Switch,
  TextArea,
  TextInput,
  Toggle,
} from "@carbon/react";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";
import { canAny } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { pageKey, pagesApi, pagesKey, usePage, type LandingPage } from "./api";
import { firstRemoteResource, SLUG_PATTERN, slugify } from "./content";
import { startPageEditor, type PageEditor } from "./grapes";
import { announceCreated } from "../components/EntityPicker";
import { UnsavedChangesPrompt } from "../components/UnsavedChanges";

const FIELDS = ["name", "title", "slug", "language", "meta_description", "html", "css", "is_published"] as const;

export function LandingPageEditorPage() {
  const params = useParams();
  const isNew = params.pageId === undefined;
  const pageId = Number(params.pageId);
  const page = usePage(isNew ? null : pageId);
  if (!isNew && page.isPending) return <PageLoading />;
  if (!isNew && (page.isError || !page.data)) {
    return (
      <>
        <PageHeader title="Landing page" />
        <InlineNotification
          kind="error"
          title="Could not load the page"
          subtitle={describeError(page.error)}
          hideCloseButton
        />
      </>
    );
  }
  return <Editor key={isNew ? "new" : pageId} page={isNew ? null : (page.data ?? null)} />;
}

interface Draft {
  name: string;
  title: string;
  slug: string;
  language: string;
  meta_description: string;
  html: string;
  css: string;
  is_published: boolean;
}

function draftOf(page: LandingPage | null): Draft {
  return {
    name: page?.name ?? "",
    title: page?.title ?? "",
    slug: page?.slug ?? "",
    language: page?.language ?? "en",
    meta_description: page?.meta_description ?? "",
    html: page?.html ?? "<section><h1>Hello {contactfield=first_name|there}</h1></section>",
    css: page?.css ?? "",
    is_published: page?.is_published ?? false,
  };
}

function Editor({ page }: { page: LandingPage | null }) {
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(page));
  const [mode, setMode] = useState<"visual" | "code">("visual");
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<string | null>(null);
  const [editorFailure, setEditorFailure] = useState<string | null>(null);
  // Edits in the visual editor reach the draft only when it closes: remember that there were some.
  const [visualEdited, setVisualEdited] = useState(false);
  const form = useFormErrors(FIELDS);
  const container = useRef<HTMLDivElement>(null);
  const visual = useRef<PageEditor | null>(null);
  const mayPublish = canAny(me, RESOURCES.pages, ["publish"]);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  useEffect(() => {
    if (mode !== "visual" || !container.current || editorFailure) return;
    let cancelled = false;
    const el = container.current;
    startPageEditor(el, draft.html, draft.css, () => setVisualEdited(true))
      .then((ed) => {
        if (cancelled) ed.destroy();
        else visual.current = ed;
      })
      .catch((e: unknown) => {
        if (!cancelled) setEditorFailure(e instanceof Error ? e.message : String(e));
      });
    return () => {
      cancelled = true;
      const ed = visual.current;
      visual.current = null;
      if (ed) {
        const html = ed.html();
        const css = ed.css();
        setDraft((d) => ({ ...d, html, css }));
        ed.destroy();
      }
      el.innerHTML = "";
    };
    // The editor starts once per switch to the visual view, from the draft of that moment.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mode, editorFailure]);

  /** The draft with what the visual editor shows right now. */
  function current(): Draft {
    const ed = visual.current;
    return ed ? { ...draft, html: ed.html(), css: ed.css() } : draft;
  }

  const remote = firstRemoteResource(draft.html, draft.css);
  const dirty = visualEdited || JSON.stringify(draft) !== JSON.stringify(draftOf(page));

  async function save(publish?: boolean) {
    const body = current();
    if (publish !== undefined) body.is_published = publish;
    setDraft(body);
    form.clear();
    setBusy(true);
    try {
      const payload = { ...body, slug: body.slug || slugify(body.name) };
      const saved = page ? await pagesApi.update(page.id, page.version, payload) : await pagesApi.create(payload);
      notify("success", "Page saved", saved.name);
      setVisualEdited(false);
      queryClient.setQueryData(pageKey(saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: pagesKey });
      if (!page) {
        announceCreated("page", saved.id, saved.name);
        void navigate(`/landing-pages/${saved.id}`, { replace: true });
      }
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(false);
    }
  }

  async function showPreview() {
    if (!page) return;
    const body = current();
    try {
      setPreview((await pagesApi.preview(page.id, body.html, body.css)).html);
    } catch (e) {
      form.fromError(e);
    }
  }

  return (
    <>
      <UnsavedChangesPrompt dirty={dirty && !busy} what="page changes" />
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/landing-pages">Landing pages</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={page ? page.name : "New landing page"}
        description={page ? `Served at ${page.url}` : "Build the page, save it, then publish it."}
      />
      <FormMessages errors={form.errors} />
      <Stack gap={5}>
        <div
          className="trellis-page-settings"
          style={{ display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(16rem, 1fr))", gap: "1rem" }}
        >
          <TextInput
            id="page-name"
            labelText="Name"
            value={draft.name}
            maxLength={200}
            onChange={(e) => set("name", e.target.value)}
            {...form.fieldProps("name")}
          />
          <TextInput
            id="page-title"
            labelText="Title (browser tab)"
            value={draft.title}
            maxLength={300}
            onChange={(e) => set("title", e.target.value)}
            {...form.fieldProps("title")}
          />
          <TextInput
            id="page-slug"
            labelText="Address: /p/…"
            placeholder={slugify(draft.name)}
            value={draft.slug}
            onChange={(e) => set("slug", e.target.value.toLowerCase())}
            {...(draft.slug && !SLUG_PATTERN.test(draft.slug)
              ? { invalid: true, invalidText: "Lower-case letters, digits and dashes." }
              : form.fieldProps("slug"))}
          />
          <TextInput
            id="page-language"
            labelText="Language"
            value={draft.language}
            maxLength={35}
            onChange={(e) => set("language", e.target.value)}
            {...form.fieldProps("language")}
          />
        </div>
        <TextArea
          id="page-meta"
          labelText="Meta description"
          rows={2}
          maxCount={500}
          enableCounter
          value={draft.meta_description}
          onChange={(e) => set("meta_description", e.target.value)}
          {...form.fieldProps("meta_description")}
        />
        <Toggle
          id="page-published"
          labelText="Published"
          labelA="No"
          labelB="Yes"
          toggled={draft.is_published}
          disabled={!mayPublish}
          onToggle={(on) => set("is_published", on)}
        />
        {remote ? (
          <InlineNotification
            kind="warning"
            lowContrast
            hideCloseButton
            title="Loads from another host"
            subtitle={`${remote} would be refused: upload the file as an asset and use its /a/ link.`}
          />
        ) : null}
        <ContentSwitcher
          size="sm"
          selectedIndex={mode === "visual" ? 0 : 1}
          onChange={({ name }) => {
            if (name === "code") {
              setDraft(current());
              setMode("code");
            } else setMode("visual");
          }}
        >
          <Switch name="visual" text="Visual" disabled={editorFailure !== null} />
          <Switch name="code" text="HTML and CSS" />
        </ContentSwitcher>
        {editorFailure ? (
          <InlineNotification
            kind="warning"
            lowContrast
            hideCloseButton
            title="The visual editor could not start"
            subtitle={editorFailure}
          />
        ) : null}
        {mode === "visual" && !editorFailure ? (
          <div
            ref={container}
            style={{ height: "36rem", border: "1px solid var(--cds-border-subtle)" }}
            aria-label="Visual page editor"
          />
        ) : (
          <>
            <TextArea
              id="page-html"
              labelText="HTML (tokens: {contactfield=alias|default}, {date}, {form=ID})"
              rows={14}
              value={draft.html}
              onChange={(e) => set("html", e.target.value)}
              {...form.fieldProps("html")}
            />
            <TextArea
              id="page-css"
              labelText="CSS"
              rows={8}
              value={draft.css}
              onChange={(e) => set("css", e.target.value)}
              {...form.fieldProps("css")}
            />
          </>
        )}
        {mode === "visual" && (form.errors.fields.html || form.errors.fields.css) ? (
          <InlineNotification
            kind="error"
            lowContrast
            hideCloseButton
            title="The page cannot be saved"
            subtitle={[form.errors.fields.html, form.errors.fields.css].filter(Boolean).join(" ")}
          />
        ) : null}
        <div style={{ display: "flex", gap: "1rem" }}>
          <Button renderIcon={Save} disabled={busy} onClick={() => void save()}>
            Save
          </Button>
          {mayPublish ? (
            <Button kind="secondary" disabled={busy} onClick={() => void save(!draft.is_published)}>
              {draft.is_published ? "Unpublish" : "Save and publish"}
            </Button>
          ) : null}
          {page ? (
            <Button kind="tertiary" renderIcon={View} onClick={() => void showPreview()}>
              Preview
            </Button>
          ) : null}
          {busy ? <InlineLoading description="Saving" /> : null}
        </div>
        {preview !== null ? (
          <iframe
            title="Page preview"
            sandbox=""
            srcDoc={preview}
            style={{ width: "100%", height: "36rem", border: "1px solid var(--cds-border-subtle)", background: "#fff" }}
          />
        ) : null}
      </Stack>
    </>
  );
}
