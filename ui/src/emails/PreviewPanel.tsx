import { Button, ComboBox, ContentSwitcher, InlineNotification, Switch } from "@carbon/react";
import { Renew, Send } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import { describeError, problemToFormErrors } from "../api/problem";
import { contactName } from "../api/queries";
import { useAuth } from "../auth/AuthContext";
import { useToast } from "../components/Toasts";
import { canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import type { Email } from "./types";

interface ContactOption {
  id: number;
  label: string;
}

/** A contact search for the preview: by name or email, 20 at a time. */
function ContactPicker({
  value,
  onChange,
}: {
  value: ContactOption | null;
  onChange: (c: ContactOption | null) => void;
}) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 250);
  const contacts = useQuery({
    queryKey: ["contacts", "pick", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts", { params: { query: { "page[size]": 20, ...(q ? { q } : {}) } } })).data,
    staleTime: 15_000,
  });
  const items: ContactOption[] = (contacts.data ?? []).map((c) => ({
    id: c.id,
    label: c.email && contactName(c) !== c.email ? `${contactName(c)} (${c.email})` : contactName(c),
  }));
  if (value && !items.some((i) => i.id === value.id)) items.unshift(value);
  return (
    <ComboBox<ContactOption>
      id="email-preview-contact"
      titleText="Preview for"
      placeholder="The sample contact; search a contact"
      items={items}
      itemToString={(c) => c?.label ?? ""}
      selectedItem={value}
      onChange={({ selectedItem }) => onChange(selectedItem ?? null)}
      onInputChange={(text) => setSearch(text ?? "")}
      // The server searched already.
      shouldFilterItem={() => true}
      size="sm"
    />
  );
}

export const DEVICE_WIDTHS = { desktop: 680, mobile: 375 } as const;

/** Desktop and mobile preview of the saved email for a chosen contact, and a test send. */
export function PreviewPanel({ email, dirty }: { email: Email; dirty: boolean }) {
  const { me } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [contact, setContact] = useState<ContactOption | null>(null);
  const [device, setDevice] = useState<keyof typeof DEVICE_WIDTHS>("desktop");
  const [sending, setSending] = useState(false);
  const mayPickContact = canView(me, RESOURCES.contacts);
  const preview = useQuery({
    queryKey: ["emails", "preview", email.id, email.content_version, contact?.id ?? null],
    queryFn: async () =>
      ok(
        await api.POST("/api/v2/emails/{email_id}/preview", {
          params: { path: { email_id: email.id } },
          body: { contact_id: contact?.id ?? null },
        }),
      ),
    retry: false,
  });
  const problem = preview.isError
    ? problemToFormErrors(preview.error, ["body", "subject", "text_body", "preheader", "contact_id"])
    : null;

  async function testSend() {
    setSending(true);
    try {
      const result = ok(
        await api.POST("/api/v2/emails/{email_id}/test-send", {
          params: { path: { email_id: email.id } },
          body: { contact_id: contact?.id ?? null },
        }),
      );
      if (result.status === "sent") notify("success", "Test email sent", `To ${result.to_address}`);
      else notify("error", `Test email ${result.status}`, result.reason ?? `To ${result.to_address}`);
      void queryClient.invalidateQueries({ queryKey: ["emails", "sends"] });
      void queryClient.invalidateQueries({ queryKey: ["emails", "stats", email.id] });
      void queryClient.invalidateQueries({ queryKey: ["outbox"] });
    } catch (e) {
      notify("error", "Could not send the test", describeError(e));
    } finally {
      setSending(false);
    }
  }

  return (
    <div className="trellis-email-preview">
      <div className="trellis-email-preview__bar">
        {mayPickContact ? <ContactPicker value={contact} onChange={setContact} /> : null}
        <ContentSwitcher
          size="sm"
          selectedIndex={device === "desktop" ? 0 : 1}
          onChange={({ name }) => setDevice(name === "mobile" ? "mobile" : "desktop")}
          className="trellis-email-preview__device"
        >
          <Switch name="desktop" text="Desktop" />
          <Switch name="mobile" text="Mobile" />
        </ContentSwitcher>
        <Button
          size="sm"
          kind="ghost"
          renderIcon={Renew}
          onClick={() => void preview.refetch()}
          disabled={preview.isFetching}
        >
          Refresh
        </Button>
        <Button size="sm" kind="tertiary" renderIcon={Send} onClick={() => void testSend()} disabled={sending}>
          {sending ? "Sending…" : "Send a test to me"}
        </Button>
      </div>
      {dirty ? (
        <InlineNotification
          kind="info"
          lowContrast
          hideCloseButton
          title="Unsaved changes"
          subtitle="The preview and the test show the saved version. Save to see your changes."
        />
      ) : null}
      {problem ? (
        <InlineNotification
          kind="error"
          lowContrast
          hideCloseButton
          title="The email does not render"
          subtitle={[...Object.entries(problem.fields).map(([f, m]) => `${f}: ${m}`), ...problem.general].join(" ")}
        />
      ) : null}
      {preview.isPending ? <p className="trellis-muted">Rendering…</p> : null}
      {preview.data ? (
        <>
          <p className="trellis-email-preview__subject">
            <span className="trellis-muted">Subject: </span>
            <strong data-testid="preview-subject">{preview.data.subject}</strong>
          </p>
          <div className="trellis-email-preview__frame-wrap">
            <iframe
              title={`Preview (${device})`}
              className="trellis-email-preview__frame"
              style={{ width: DEVICE_WIDTHS[device] }}
              // No scripts, no same-origin access, no forms or navigation of the app.
              sandbox=""
              referrerPolicy="no-referrer"
              srcDoc={preview.data.html}
            />
          </div>
          <details className="trellis-email-preview__text">
            <summary>Plain-text part</summary>
            <pre data-testid="preview-text">{preview.data.text}</pre>
          </details>
        </>
      ) : null}
    </div>
  );
}
