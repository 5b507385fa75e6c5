import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Checkbox,
  InlineNotification,
  MultiSelect,
  RadioButton,
  RadioButtonGroup,
  Select,
  SelectItem,
  Stack,
  Tab,
  TabList,
  TabPanel,
  TabPanels,
  Tabs,
  Tag,
  TextArea,
  TextInput,
} from "@carbon/react";
import { Save, TrashCan } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { ApiProblem, describeError, pointerToField } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { formatDateTime, FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";
import { canDeleteItem, canEditItem, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { emailKey, emailsKey, useProjects } from "./api";
import { BodyEditor, type BodyEditorHandle } from "./BodyEditor";
import {
  createBody,
  draftOf,
  FORM_FIELDS,
  headerRowErrors,
  isDirty,
  patchBody,
  STARTER_HTML,
  STARTER_MJML,
  type EmailDraft,
} from "./draft";
import { EmailSends } from "./EmailSends";
import { EmailStatsPanel } from "./EmailStats";
import { HeadersEditor } from "./HeadersEditor";
import { PreviewPanel } from "./PreviewPanel";
import { TokenPicker } from "./TokenPicker";
import { insertAt, type TokenChoice } from "./tokens";
import type { BodyFormat, Email } from "./types";
import "./emails.scss";
import { announceCreated } from "../components/EntityPicker";
import { RestoreDraftBanner, UnsavedChangesPrompt, useLocalDraft } from "../components/UnsavedChanges";

const EMAILS = "emails";
const NO_ROW_ERRORS: ReadonlyMap<number, string> = new Map();

type Target = "body" | "subject" | "preheader" | "text_body";
const TARGET_LABEL: Record<Target, string> = {
  body: "the body",
  subject: "the subject",
  preheader: "the preheader",
  text_body: "the plain text",
};

/** The tab each field is edited on, so a failed save opens the tab with the first error. */
const CONTENT_FIELDS = new Set(["name", "subject", "preheader", "body", "body_format", "text_body"]);

export function EmailEditorPage() {
  const params = useParams();
  const isNew = params.emailId === undefined;
  const emailId = Number(params.emailId);
  const email = useQuery({
    queryKey: emailKey(emailId),
    queryFn: async () => ok(await api.GET("/api/v2/emails/{email_id}", { params: { path: { email_id: emailId } } })),
    enabled: !isNew && Number.isInteger(emailId),
  });
  if (!isNew && email.isPending) return <PageLoading />;
  if (!isNew && (email.isError || !email.data)) {
    return (
      <>
        <PageHeader title="Email" />
        <InlineNotification
          kind="error"
          title="Could not load the email"
          subtitle={describeError(email.error)}
          hideCloseButton
        />
      </>
    );
  }
  return <EmailEditor key={isNew ? "new" : emailId} email={isNew ? null : (email.data ?? null)} />;
}

function EmailEditor({ email }: { email: Email | null }) {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<EmailDraft>(() => draftOf(email));
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [tab, setTab] = useState(0);
  const [target, setTarget] = useState<Target>("body");
  const [rowErrors, setRowErrors] = useState<ReadonlyMap<number, string>>(NO_ROW_ERRORS);
  const form = useFormErrors(FORM_FIELDS);
  const body = useRef<BodyEditorHandle>(null);
  const inputs = useRef<Partial<Record<Exclude<Target, "body">, HTMLInputElement | HTMLTextAreaElement | null>>>({});

  const owns = email !== null && email.created_by_id === me?.user.id;
  const editable = email ? canEditItem(me, EMAILS, owns) : can(EMAILS, "create");
  const deletable = email ? canDeleteItem(me, EMAILS, owns) : false;
  const mayPublish = can(EMAILS, "publish") || can(EMAILS, "edit_others");
  const projects = useProjects(canView(me, RESOURCES.projects));

  const set = <K extends keyof EmailDraft>(key: K, value: EmailDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const dirty = isDirty(draft, email);
  const localDraft = useLocalDraft(`email:${email?.id ?? "new"}`, draft, dirty);
  const offeredDraft = localDraft.offered && isDirty(localDraft.offered.value, email) ? localDraft.offered : null;
  // The body editor reads its value when it starts: a restored draft starts a new one.
  const [bodyGeneration, setBodyGeneration] = useState(0);

  const tabs = useMemo(
    () => (email ? ["content", "preview", "settings", "sends", "stats"] : ["content", "settings"]),
    [email],
  );

  function insertToken(choice: TokenChoice) {
    if (target === "body") {
      void (body.current?.insert(choice) ?? Promise.resolve(false)).then((inserted) => {
        if (!inserted) {
          notify(
            "info",
            "Choose where the token goes",
            "Select a text block (double-click it to place the caret), or a button or image to set its link.",
          );
        }
      });
      return;
    }
    const el = inputs.current[target];
    const result = insertAt(draft[target], el?.selectionStart, el?.selectionEnd, choice.token);
    set(target, result.text);
    window.requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(result.caret, result.caret);
    });
  }

  function changeFormat(format: BodyFormat) {
    setDraft((d) => {
      const untouched = d.body.trim() === "" || d.body === STARTER_MJML || d.body === STARTER_HTML;
      return {
        ...d,
        body_format: format,
        body: untouched ? (format === "mjml" ? STARTER_MJML : STARTER_HTML) : d.body,
      };
    });
  }

  async function save() {
    setBusy(true);
    form.clear();
    setRowErrors(NO_ROW_ERRORS);
    // The visual editor reports changes as they happen; take its very latest state.
    let current = draft;
    try {
      const latestBody = (await body.current?.source()) ?? draft.body;
      current = { ...draft, body: latestBody };
      if (latestBody !== draft.body) setDraft(current);
      let saved: Email;
      if (email) {
        const patch = patchBody(current, email);
        if (!patch) return;
        saved = ok(
          await api.PATCH("/api/v2/emails/{email_id}", {
            params: { path: { email_id: email.id } },
            headers: ifMatch(email.version),
            body: patch,
          }),
        );
      } else {
        saved = ok(await api.POST("/api/v2/emails", { body: createBody(current) }));
      }
      notify("success", email ? "Email saved" : "Email created", saved.name);
      queryClient.setQueryData(emailKey(saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: [...emailsKey, "list"] });
      void queryClient.invalidateQueries({ queryKey: ["emails", "preview", saved.id] });
      if (!email) {
        announceCreated("email", saved.id, saved.name);
        void navigate(`/emails/${saved.id}`, { replace: true });
      }
    } catch (e) {
      form.fromError(e);
      if (e instanceof ApiProblem) {
        setRowErrors(headerRowErrors(e.errors, current.headers));
        const first = e.errors[0];
        if (first) {
          const field = pointerToField(first.pointer).split(".")[0] ?? "";
          const wanted = CONTENT_FIELDS.has(field) ? "content" : "settings";
          setTab(Math.max(tabs.indexOf(wanted), 0));
        }
      }
    } finally {
      setBusy(false);
    }
  }

  const projectItems = (projects.data ?? []).map((p) => ({ id: p.id, text: p.name }));
  for (const p of email?.projects ?? [])
    if (!projectItems.some((i) => i.id === p.id)) projectItems.push({ id: p.id, text: p.name });
  const track = (t: Exclude<Target, "body">) => ({
    onFocus: () => setTarget(t),
    ref: (el: HTMLInputElement | HTMLTextAreaElement | null) => {
      // eslint-disable-next-line react-hooks/refs -- a callback ref, called by React after render, not during it
      inputs.current[t] = el;
    },
  });

  const content = (
    <Stack gap={5} className="trellis-email-content">
      <FormMessages errors={form.errors} />
      <div className="trellis-grid-3">
        <TextInput
          id="email-name"
          labelText="Name"
          value={draft.name}
          disabled={!editable}
          helperText="Only you and your team see it."
          onChange={(e) => set("name", e.target.value)}
          {...form.fieldProps("name")}
        />
        <TextInput
          id="email-subject"
          labelText="Subject"
          value={draft.subject}
          disabled={!editable}
          onChange={(e) => set("subject", e.target.value)}
          {...track("subject")}
          {...form.fieldProps("subject")}
        />
        <TextInput
          id="email-preheader"
          labelText="Preheader"
          value={draft.preheader}
          disabled={!editable}
          helperText="The grey line after the subject in the inbox."
          onChange={(e) => set("preheader", e.target.value)}
          {...track("preheader")}
          {...form.fieldProps("preheader")}
        />
      </div>
      <div className="trellis-email-toolbar">
        <Select
          id="email-format"
          labelText="Body format"
          size="sm"
          value={draft.body_format}
          disabled={!editable}
          onChange={(e) => changeFormat(e.target.value === "html" ? "html" : "mjml")}
          {...form.fieldProps("body_format")}
        >
          <SelectItem value="mjml" text="MJML (responsive)" />
          <SelectItem value="html" text="Raw HTML" />
        </Select>
        <TokenPicker targetLabel={TARGET_LABEL[target]} onInsert={insertToken} disabled={!editable} />
      </div>
      <div
        onFocusCapture={(e) => {
          if ((e.target as HTMLElement).id === "email-body-source") setTarget("body");
        }}
        onPointerDownCapture={() => setTarget("body")}
      >
        <BodyEditor
          key={bodyGeneration}
          ref={body}
          format={draft.body_format}
          value={draft.body}
          readOnly={!editable}
          onChange={(v) => set("body", v)}
          onActivate={() => setTarget("body")}
          error={form.errors.fields.body}
        />
      </div>
      <section aria-labelledby="email-text-part" className="trellis-panel">
        <h2 id="email-text-part" className="trellis-h3">
          Plain-text part
        </h2>
        <RadioButtonGroup
          legendText="How the plain text is made"
          name="email-text-mode"
          valueSelected={draft.text_mode}
          disabled={!editable}
          onChange={(v) => set("text_mode", v === "custom" ? "custom" : "generated")}
        >
          <RadioButton
            id="email-text-generated"
            value="generated"
            labelText="Generated from the HTML (links as text (url))"
          />
          <RadioButton id="email-text-custom" value="custom" labelText="Written here" />
        </RadioButtonGroup>
        {draft.text_mode === "custom" ? (
          <TextArea
            id="email-text-body"
            labelText="Plain text"
            rows={10}
            className="trellis-code"
            value={draft.text_body}
            disabled={!editable}
            onChange={(e) => set("text_body", e.target.value)}
            {...track("text_body")}
            {...form.fieldProps("text_body")}
          />
        ) : (
          <p className="trellis-muted">
            The plain text is made from the HTML when a message is sent; the preview shows it.
          </p>
        )}
      </section>
    </Stack>
  );

  const settings = (
    <Stack gap={6} className="trellis-email-settings">
      <FormMessages errors={form.errors} />
      <div className="trellis-grid-2">
        <RadioButtonGroup
          legendText="Kind"
          name="email-kind"
          valueSelected={draft.kind}
          disabled={!editable}
          onChange={(v) => set("kind", v === "broadcast" ? "broadcast" : "template")}
        >
          <RadioButton id="email-kind-template" value="template" labelText="Template (sent by campaigns)" />
          <RadioButton id="email-kind-broadcast" value="broadcast" labelText="Segment broadcast" />
        </RadioButtonGroup>
        <TextInput
          id="email-language"
          labelText="Language"
          helperText="Content-Language of the message, e.g. en, fr-CA."
          value={draft.language}
          disabled={!editable}
          onChange={(e) => set("language", e.target.value)}
          {...form.fieldProps("language")}
        />
        <TextInput
          id="email-from-name"
          labelText="From name"
          placeholder="The instance's sender name"
          value={draft.from_name}
          disabled={!editable}
          onChange={(e) => set("from_name", e.target.value)}
          {...form.fieldProps("from_name")}
        />
        <TextInput
          id="email-from-address"
          labelText="From address"
          placeholder="The instance's sender address"
          type="email"
          value={draft.from_address}
          disabled={!editable}
          onChange={(e) => set("from_address", e.target.value)}
          {...form.fieldProps("from_address")}
        />
        <TextInput
          id="email-reply-to"
          labelText="Reply-to"
          type="email"
          value={draft.reply_to}
          disabled={!editable}
          onChange={(e) => set("reply_to", e.target.value)}
          {...form.fieldProps("reply_to")}
        />
        {projectItems.length > 0 ? (
          <MultiSelect<{ id: number; text: string }>
            id="email-projects"
            titleText="Projects"
            label={draft.projects.length ? `${draft.projects.length} selected` : "None"}
            items={projectItems}
            itemToString={(i) => i?.text ?? ""}
            selectedItems={projectItems.filter((i) => draft.projects.includes(i.id))}
            sortItems={(list) => [...list]}
            onChange={({ selectedItems }) =>
              set(
                "projects",
                (selectedItems ?? []).map((i) => i.id),
              )
            }
            disabled={!editable}
            {...form.fieldProps("projects")}
          />
        ) : null}
      </div>
      <HeadersEditor
        rows={draft.headers}
        onChange={(rows) => set("headers", rows)}
        serverErrors={rowErrors}
        disabled={!editable}
      />
      <fieldset className="trellis-fieldset">
        <legend className="cds--label">UTM tags (added to every http(s) link that has none)</legend>
        <div className="trellis-grid-2">
          {(["source", "medium", "campaign", "content"] as const).map((k) => (
            <TextInput
              key={k}
              id={`email-utm-${k}`}
              labelText={`utm_${k}`}
              value={draft.utm[k]}
              disabled={!editable}
              onChange={(e) => set("utm", { ...draft.utm, [k]: e.target.value })}
              {...form.fieldProps(`utm.${k}`)}
            />
          ))}
        </div>
      </fieldset>
      <Checkbox
        id="email-published"
        labelText="Published (campaigns and broadcasts send only published emails)"
        checked={draft.is_published}
        disabled={!editable || !mayPublish}
        onChange={(_e, { checked }) => set("is_published", checked)}
      />
    </Stack>
  );

  const panels: Record<string, { label: string; node: React.ReactNode }> = {
    content: { label: "Content", node: content },
    preview: { label: "Preview and test", node: email ? <PreviewPanel email={email} dirty={dirty} /> : null },
    settings: { label: "Settings", node: settings },
    sends: { label: "Sends", node: email ? <EmailSends emailId={email.id} /> : null },
    stats: { label: "Statistics", node: email ? <EmailStatsPanel emailId={email.id} /> : null },
  };

  return (
    <>
      <UnsavedChangesPrompt dirty={dirty} what="email changes" />
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/emails">Emails</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <RestoreDraftBanner
        draft={offeredDraft}
        onRestore={(value) => {
          setDraft(value);
          setBodyGeneration((g) => g + 1);
          localDraft.settle(false);
        }}
        onDiscard={() => localDraft.settle(true)}
      />
      <PageHeader
        title={email ? email.name : "New email"}
        description={
          email ? (
            <span className="trellis-chips">
              {email.kind === "broadcast" ? (
                <Tag size="sm" type="purple">
                  Broadcast
                </Tag>
              ) : (
                <Tag size="sm" type="teal">
                  Template
                </Tag>
              )}
              {email.is_published ? (
                <Tag size="sm" type="blue">
                  Published
                </Tag>
              ) : (
                <Tag size="sm" type="warm-gray">
                  Unpublished
                </Tag>
              )}
              <span className="trellis-muted">
                Version {email.content_version} · updated {formatDateTime(email.updated_at)}
              </span>
              {dirty ? (
                <Tag size="sm" type="outline">
                  Unsaved changes
                </Tag>
              ) : null}
            </span>
          ) : (
            "Write the message; save it to preview it for a contact and send yourself a test."
          )
        }
        actions={
          <div className="trellis-actions">
            {editable ? (
              <Button
                renderIcon={Save}
                disabled={busy || !draft.name.trim() || !draft.subject.trim() || (email !== null && !dirty)}
                onClick={() => void save()}
              >
                {busy ? "Saving…" : email ? "Save" : "Create email"}
              </Button>
            ) : null}
            {deletable ? (
              <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setDeleting(true)}>
                Delete
              </Button>
            ) : null}
          </div>
        }
      />
      <Tabs selectedIndex={tab} onChange={({ selectedIndex }) => setTab(selectedIndex)}>
        <TabList aria-label="Email sections">
          {tabs.map((t) => (
            <Tab key={t}>{panels[t]?.label}</Tab>
          ))}
        </TabList>
        <TabPanels>
          {tabs.map((t) => (
            <TabPanel key={t}>{panels[t]?.node}</TabPanel>
          ))}
        </TabPanels>
      </Tabs>
      {email ? (
        <ConfirmDelete
          open={deleting}
          title={`Delete ${email.name}?`}
          body="The email is deleted. Messages already sent stay in the contacts' history."
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            ok(await api.DELETE("/api/v2/emails/{email_id}", { params: { path: { email_id: email.id } } }));
            notify("success", "Email deleted", email.name);
            queryClient.removeQueries({ queryKey: emailKey(email.id) });
            await queryClient.invalidateQueries({ queryKey: emailsKey });
            void navigate("/emails");
          }}
        />
      ) : null}
    </>
  );
}
