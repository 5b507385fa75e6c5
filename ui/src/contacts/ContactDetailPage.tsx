/* eslint-disable jsx-a11y/no-noninteractive-element-interactions -- arrow keys and Escape are
   handled on a labelled group around focusable controls (keyboard use of the controls inside),
   not as a click target of its own */
import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Checkbox,
  IconButton,
  InlineNotification,
  Modal,
  RadioButton,
  RadioButtonGroup,
  Select,
  SelectItem,
  Stack,
  Tag,
  TextInput,
  Tile,
} from "@carbon/react";
import { Add, Close, Edit, Merge, TrashCan } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { describeError, problemToFormErrors } from "../api/problem";
import { contactName, useFields, useOwners, useStages } from "../api/queries";
import type { Contact, ContactUpdate, FieldDef } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { formatDateTime, FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { FieldValueInput } from "../components/fields/FieldValueInput";
import { TagInput } from "../components/fields/TagInput";
import { useToast } from "../components/Toasts";
import { fieldOptions, formatFieldValue } from "../lib/fieldTypes";
import { DNC_CHANNELS, DNC_REASONS } from "../lib/filterDoc";
import { ContactCampaigns } from "../campaigns/views/ContactCampaigns";
import { ContactEmails } from "../emails/ContactEmails";
import { ContactSubmissions } from "../forms/ContactSubmissions";
import { ContactPrivacy } from "../privacy/ContactPrivacy";
import { ContactSiteVisits } from "../site-tracking/ContactSiteVisits";
import { canAny, canEditItem, canDeleteItem, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { fieldKey, groupFields, groupLabel } from "./ContactFormModal";
import { activityKey, ContactTimeline } from "./ContactTimeline";

const detailKey = (id: number) => ["contacts", "detail", id] as const;

function valueOf(contact: Contact, field: FieldDef): unknown {
  return field.is_core ? (contact as unknown as Record<string, unknown>)[field.alias] : contact.fields[field.alias];
}

/** One field: its value, and an inline editor that saves with If-Match and shows the server's error. */
function InlineField({
  contact,
  field,
  editable,
  onSaved,
}: {
  contact: Contact;
  field: FieldDef;
  editable: boolean;
  onSaved: (c: Contact) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<unknown>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = fieldKey(field);
  const current = valueOf(contact, field);
  const id = `contact-field-${field.alias}`;

  async function save() {
    setBusy(true);
    setError(null);
    const value = draft === null || draft === undefined ? "" : draft;
    const body = (field.is_core ? { [field.alias]: value } : { fields: { [field.alias]: value } }) as ContactUpdate;
    try {
      const saved = ok(
        await api.PATCH("/api/v2/contacts/{contact_id}", {
          params: { path: { contact_id: contact.id } },
          headers: ifMatch(contact.version),
          body,
        }),
      );
      setEditing(false);
      onSaved(saved);
    } catch (e) {
      const errors = problemToFormErrors(e, [key, "fields"]);
      setError(errors.fields[key] ?? errors.fields.fields ?? (errors.general.join(" ") || describeError(e)));
    } finally {
      setBusy(false);
    }
  }

  if (editing) {
    return (
      <div className="trellis-inline-edit" role="group" aria-label={`Edit ${field.label}`}>
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              setEditing(false);
            }
          }}
        >
          <FieldValueInput
            id={id}
            field={field}
            value={draft}
            onChange={setDraft}
            // eslint-disable-next-line jsx-a11y/no-autofocus -- the user just asked to edit this field; focus must follow into the input.
            autoFocus
            invalid={error !== null}
            invalidText={error ?? undefined}
          />
          <div className="trellis-inline-edit__actions">
            <Button size="sm" type="submit" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </Button>
            <Button
              size="sm"
              kind="ghost"
              onClick={() => {
                setEditing(false);
                setError(null);
              }}
            >
              Cancel
            </Button>
          </div>
        </form>
      </div>
    );
  }
  return (
    <div className="trellis-field-row">
      <dt>{field.label}</dt>
      <dd>
        <span className={current === null || current === undefined || current === "" ? "trellis-muted" : undefined}>
          {formatFieldValue(field.type, current, fieldOptions(field.options))}
        </span>
        {editable ? (
          <IconButton
            kind="ghost"
            size="sm"
            label={`Edit ${field.label}`}
            align="left"
            onClick={() => {
              setDraft(current ?? null);
              setError(null);
              setEditing(true);
            }}
          >
            <Edit />
          </IconButton>
        ) : null}
      </dd>
    </div>
  );
}

function PointsModal({
  open,
  contact,
  onClose,
  onSaved,
}: {
  open: boolean;
  contact: Contact;
  onClose: () => void;
  onSaved: (c: Contact) => void;
}) {
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["delta", "reason"]);
  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const saved = ok(
        await api.POST("/api/v2/contacts/{contact_id}/points", {
          params: { path: { contact_id: contact.id } },
          body: { delta: Number(delta), reason },
        }),
      );
      setDelta("");
      setReason("");
      onSaved(saved);
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(false);
    }
  }
  const valid = delta.trim() !== "" && Number.isInteger(Number(delta)) && Number(delta) !== 0;
  return (
    <Modal
      open={open}
      size="sm"
      modalHeading="Change points"
      primaryButtonText={busy ? "Saving…" : "Change points"}
      primaryButtonDisabled={busy || !valid}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      shouldSubmitOnEnter
    >
      <Stack gap={5}>
        <FormMessages errors={form.errors} />
        <p>The contact has {contact.points} points now.</p>
        <TextInput
          id="points-delta"
          labelText="Change (+ or −)"
          type="number"
          helperText="For example 10 or -5"
          value={delta}
          onChange={(e) => setDelta(e.target.value)}
          data-modal-primary-focus
          {...form.fieldProps("delta")}
        />
        <TextInput
          id="points-reason"
          labelText="Reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          {...form.fieldProps("reason")}
        />
      </Stack>
    </Modal>
  );
}

function DncModal({
  open,
  contact,
  onClose,
  onSaved,
}: {
  open: boolean;
  contact: Contact;
  onClose: () => void;
  onSaved: (c: Contact) => void;
}) {
  const [channel, setChannel] = useState("email");
  const [reason, setReason] = useState<(typeof DNC_REASONS)[number]>("manual");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["channel", "reason", "comment"]);
  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const saved = ok(
        await api.POST("/api/v2/contacts/{contact_id}/dnc", {
          params: { path: { contact_id: contact.id } },
          body: { channel, reason, comment },
        }),
      );
      setComment("");
      onSaved(saved);
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={open}
      size="sm"
      modalHeading="Do not contact"
      primaryButtonText={busy ? "Saving…" : "Add"}
      primaryButtonDisabled={busy || !channel}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
    >
      <Stack gap={5}>
        <FormMessages errors={form.errors} />
        <Select
          id="dnc-channel"
          labelText="Channel"
          value={channel}
          onChange={(e) => setChannel(e.target.value)}
          {...form.fieldProps("channel")}
        >
          {DNC_CHANNELS.map((c) => (
            <SelectItem key={c} value={c} text={c} />
          ))}
        </Select>
        <Select
          id="dnc-reason"
          labelText="Reason"
          value={reason}
          onChange={(e) => setReason(e.target.value as (typeof DNC_REASONS)[number])}
          {...form.fieldProps("reason")}
        >
          {DNC_REASONS.map((r) => (
            <SelectItem key={r} value={r} text={r} />
          ))}
        </Select>
        <TextInput
          id="dnc-comment"
          labelText="Comment (optional)"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          {...form.fieldProps("comment")}
        />
      </Stack>
    </Modal>
  );
}

function LinkCompanyModal({
  open,
  contact,
  onClose,
  onSaved,
}: {
  open: boolean;
  contact: Contact;
  onClose: () => void;
  onSaved: (c: Contact) => void;
}) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [picked, setPicked] = useState("");
  const [primary, setPrimary] = useState(contact.companies.length === 0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const companies = useQuery({
    queryKey: ["companies", "pick", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/companies", { params: { query: { "page[size]": 10, ...(q ? { q } : {}) } } })).data,
    enabled: open,
  });
  const linked = new Set(contact.companies.map((c) => c.id));
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const saved = ok(
        await api.POST("/api/v2/contacts/{contact_id}/companies", {
          params: { path: { contact_id: contact.id } },
          body: { company_id: Number(picked), is_primary: primary },
        }),
      );
      setPicked("");
      onSaved(saved);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  const options = (companies.data ?? []).filter((c) => !linked.has(c.id));
  return (
    <Modal
      open={open}
      modalHeading="Link a company"
      primaryButtonText={busy ? "Linking…" : "Link"}
      primaryButtonDisabled={busy || !picked}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
    >
      <Stack gap={5}>
        {error ? (
          <InlineNotification kind="error" title="Could not link" subtitle={error} hideCloseButton lowContrast />
        ) : null}
        <TextInput
          id="link-company-search"
          labelText="Search companies"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-modal-primary-focus
        />
        {options.length === 0 ? (
          <p className="trellis-muted">{companies.isPending ? "Searching…" : "No company found."}</p>
        ) : (
          <RadioButtonGroup
            legendText="Company"
            name="link-company"
            orientation="vertical"
            valueSelected={picked}
            onChange={(v) => setPicked(String(v))}
          >
            {options.map((c) => (
              <RadioButton
                key={c.id}
                id={`link-company-${c.id}`}
                value={String(c.id)}
                labelText={c.domain ? `${c.name} (${c.domain})` : c.name}
              />
            ))}
          </RadioButtonGroup>
        )}
        <Checkbox
          id="link-company-primary"
          labelText="Primary company"
          checked={primary}
          onChange={(_e, { checked }) => setPrimary(checked)}
        />
      </Stack>
    </Modal>
  );
}

function MergeModal({
  open,
  contact,
  onClose,
  onMerged,
}: {
  open: boolean;
  contact: Contact;
  onClose: () => void;
  onMerged: (c: Contact) => void;
}) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [picked, setPicked] = useState<Contact | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const results = useQuery({
    queryKey: ["contacts", "pick", q],
    queryFn: async () => ok(await api.GET("/api/v2/contacts", { params: { query: { "page[size]": 10, q } } })).data,
    enabled: open && q.length > 0,
  });
  const close = () => {
    setConfirming(false);
    setPicked(null);
    setError(null);
    onClose();
  };
  async function submit() {
    if (!picked) return;
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const merged = ok(
        await api.POST("/api/v2/contacts/{contact_id}/merge", {
          params: { path: { contact_id: contact.id } },
          body: { other_id: picked.id },
        }),
      );
      setConfirming(false);
      setPicked(null);
      onMerged(merged);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  const options = (results.data ?? []).filter((c) => c.id !== contact.id);
  return (
    <Modal
      open={open}
      danger={confirming}
      modalHeading={confirming ? "Confirm the merge" : "Merge with another contact"}
      primaryButtonText={busy ? "Merging…" : confirming ? "Merge" : "Continue"}
      primaryButtonDisabled={busy || !picked}
      secondaryButtonText={confirming ? "Back" : "Cancel"}
      onSecondarySubmit={() => (confirming ? setConfirming(false) : close())}
      onRequestClose={close}
      onRequestSubmit={() => void submit()}
    >
      <Stack gap={5}>
        {error ? (
          <InlineNotification kind="error" title="Could not merge" subtitle={error} hideCloseButton lowContrast />
        ) : null}
        {confirming && picked ? (
          <p>
            <strong>{contactName(picked)}</strong> (#{picked.id}) is merged into <strong>{contactName(contact)}</strong>{" "}
            and removed. Its history is kept, its tags are added, its points ({picked.points}) are added, and empty
            fields here are filled from it.
          </p>
        ) : (
          <>
            <TextInput
              id="merge-search"
              labelText="Find the other contact"
              placeholder="Name or email"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              data-modal-primary-focus
            />
            {q && options.length === 0 ? (
              <p className="trellis-muted">{results.isFetching ? "Searching…" : "No contact found."}</p>
            ) : null}
            {options.length > 0 ? (
              <RadioButtonGroup
                legendText="Contact to merge into this one"
                name="merge-contact"
                orientation="vertical"
                valueSelected={picked ? String(picked.id) : ""}
                onChange={(v) => setPicked(options.find((c) => String(c.id) === String(v)) ?? null)}
              >
                {options.map((c) => (
                  <RadioButton
                    key={c.id}
                    id={`merge-${c.id}`}
                    value={String(c.id)}
                    labelText={`${contactName(c)}${c.email && contactName(c) !== c.email ? ` <${c.email}>` : ""} · #${c.id}`}
                  />
                ))}
              </RadioButtonGroup>
            ) : null}
          </>
        )}
      </Stack>
    </Modal>
  );
}

export function ContactDetailPage() {
  const params = useParams();
  const contactId = Number(params.contactId);
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [modal, setModal] = useState<null | "points" | "dnc" | "company" | "merge" | "delete">(null);
  const [tagBusy, setTagBusy] = useState(false);

  const contact = useQuery({
    queryKey: detailKey(contactId),
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts/{contact_id}", { params: { path: { contact_id: contactId } } })),
    enabled: Number.isInteger(contactId),
  });
  const fields = useFields("contact");
  const stages = useStages();
  const owners = useOwners();
  const segments = useQuery({
    queryKey: ["contacts", "segments", contactId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts/{contact_id}/segments", { params: { path: { contact_id: contactId } } })),
    enabled: Number.isInteger(contactId) && canView(me, RESOURCES.segments),
  });
  const labels = useMemo(() => Object.fromEntries((fields.data ?? []).map((f) => [f.alias, f.label])), [fields.data]);

  if (contact.isPending) return <PageLoading />;
  if (contact.isError || !contact.data) {
    return (
      <>
        <PageHeader title="Contact" />
        <InlineNotification
          kind="error"
          title="Could not load the contact"
          subtitle={describeError(contact.error)}
          hideCloseButton
        />
      </>
    );
  }
  const c = contact.data;
  const owns = c.owner_id !== null && c.owner_id === me?.user.id;
  const editable = canEditItem(me, RESOURCES.contacts, owns);
  const deletable = canDeleteItem(me, RESOURCES.contacts, owns);

  const saved = (next: Contact) => {
    queryClient.setQueryData(detailKey(contactId), next);
    void queryClient.invalidateQueries({ queryKey: activityKey(contactId) });
    void queryClient.invalidateQueries({ queryKey: ["contacts", "list"] });
    void queryClient.invalidateQueries({ queryKey: ["contacts", "segments", contactId] });
  };
  const patch = async (body: ContactUpdate, what: string) => {
    try {
      saved(
        ok(
          await api.PATCH("/api/v2/contacts/{contact_id}", {
            params: { path: { contact_id: c.id } },
            headers: ifMatch(c.version),
            body,
          }),
        ),
      );
    } catch (e) {
      notify("error", `Could not change ${what}`, describeError(e));
      void contact.refetch();
    }
  };
  const changeTags = async (next: string[]) => {
    const add = next.filter((t) => !c.tags.includes(t));
    const remove = c.tags.filter((t) => !next.includes(t));
    setTagBusy(true);
    await patch({ add_tags: add, remove_tags: remove }, "the tags");
    setTagBusy(false);
    void queryClient.invalidateQueries({ queryKey: ["tags"] });
  };
  const removeDnc = async (channel: Contact["dnc"][number]["channel"]) => {
    try {
      saved(
        ok(
          await api.DELETE("/api/v2/contacts/{contact_id}/dnc/{channel}", {
            params: { path: { contact_id: c.id, channel } },
          }),
        ),
      );
      notify("success", `Contactable again on ${channel}`);
    } catch (e) {
      notify("error", "Could not remove", describeError(e));
    }
  };
  const unlinkCompany = async (companyId: number) => {
    try {
      saved(
        ok(
          await api.DELETE("/api/v2/contacts/{contact_id}/companies/{company_id}", {
            params: { path: { contact_id: c.id, company_id: companyId } },
          }),
        ),
      );
    } catch (e) {
      notify("error", "Could not unlink", describeError(e));
    }
  };

  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/contacts">Contacts</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={contactName(c)}
        description={
          <>
            {c.email && contactName(c) !== c.email ? <>{c.email} · </> : null}
            {c.is_anonymous ? "Anonymous visitor · " : null}
            Created {formatDateTime(c.created_at)} · Last active {formatDateTime(c.last_active_at)}
          </>
        }
        actions={
          <div className="trellis-actions">
            {editable ? (
              <Button kind="tertiary" renderIcon={Merge} onClick={() => setModal("merge")}>
                Merge
              </Button>
            ) : null}
            {deletable ? (
              <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setModal("delete")}>
                Delete
              </Button>
            ) : null}
          </div>
        }
      />
      <div className="trellis-contact">
        <div className="trellis-contact__main">
          <section aria-labelledby="contact-fields" className="trellis-panel">
            <h2 id="contact-fields" className="trellis-h2">
              Fields
            </h2>
            {fields.isPending ? <PageLoading label="Loading fields" /> : null}
            <div className="trellis-field-groups">
              {groupFields(fields.data ?? []).map(([group, list]) => (
                <section key={group} aria-label={groupLabel(group)} className="trellis-field-group">
                  <h3 className="trellis-h3">{groupLabel(group)}</h3>
                  <dl className="trellis-fields">
                    {list.map((f) => (
                      <InlineField
                        key={f.alias}
                        contact={c}
                        field={f}
                        editable={editable}
                        onSaved={(next) => {
                          saved(next);
                          notify("success", `${f.label} saved`);
                        }}
                      />
                    ))}
                  </dl>
                </section>
              ))}
            </div>
          </section>
          {canView(me, "campaigns") ? (
            <section aria-labelledby="contact-campaigns" className="trellis-panel">
              <h2 id="contact-campaigns" className="trellis-h2">
                Campaigns
              </h2>
              <ContactCampaigns contactId={c.id} editable={canAny(me, "campaigns", ["edit_own", "edit_others"])} />
            </section>
          ) : null}
          {canView(me, "emails") ? (
            <section aria-labelledby="contact-emails" className="trellis-panel">
              <h2 id="contact-emails" className="trellis-h2">
                Emails
              </h2>
              <ContactEmails contactId={c.id} />
            </section>
          ) : null}
          {canView(me, "forms") ? (
            <section aria-labelledby="contact-submissions" className="trellis-panel">
              <h2 id="contact-submissions" className="trellis-h2">
                Form submissions
              </h2>
              <ContactSubmissions contactId={c.id} />
            </section>
          ) : null}
          <section aria-labelledby="contact-page-hits" className="trellis-panel">
            <h2 id="contact-page-hits" className="trellis-h2">
              Page visits
            </h2>
            <ContactSiteVisits contactId={c.id} />
          </section>
          <section aria-labelledby="contact-timeline" className="trellis-panel">
            <h2 id="contact-timeline" className="trellis-h2">
              Timeline
            </h2>
            <ContactTimeline contactId={c.id} labels={labels} />
          </section>
          <section aria-labelledby="contact-privacy" className="trellis-panel">
            <h2 id="contact-privacy" className="trellis-h2">
              Privacy
            </h2>
            <ContactPrivacy contactId={c.id} label={contactName(c)} erasable={deletable} />
          </section>
        </div>
        <aside className="trellis-contact__side" aria-label="Contact summary">
          <Tile>
            <div className="trellis-stat">
              <span className="trellis-muted">Points</span>
              <span className="trellis-stat__value" aria-label={`${c.points} points`}>
                {c.points}
              </span>
              {editable ? (
                <Button kind="ghost" size="sm" onClick={() => setModal("points")}>
                  Change points
                </Button>
              ) : null}
            </div>
            <Stack gap={5}>
              <Select
                id="contact-stage"
                labelText="Stage"
                value={c.stage_id === null ? "" : String(c.stage_id)}
                disabled={!editable}
                onChange={(e) => void patch({ stage_id: e.target.value ? Number(e.target.value) : null }, "the stage")}
              >
                <SelectItem value="" text="No stage" />
                {(stages.data ?? []).map((s) => (
                  <SelectItem key={s.id} value={String(s.id)} text={s.name} />
                ))}
              </Select>
              <Select
                id="contact-owner"
                labelText="Owner"
                value={c.owner_id === null ? "" : String(c.owner_id)}
                disabled={!editable}
                onChange={(e) => void patch({ owner_id: e.target.value ? Number(e.target.value) : null }, "the owner")}
              >
                <SelectItem value="" text="No owner" />
                {c.owner_id !== null && !(owners.data ?? []).some((u) => u.id === c.owner_id) ? (
                  <SelectItem value={String(c.owner_id)} text={`User #${c.owner_id}`} />
                ) : null}
                {(owners.data ?? []).map((u) => (
                  <SelectItem key={u.id} value={String(u.id)} text={u.name || u.email} />
                ))}
              </Select>
              {editable ? (
                <TagInput
                  id="contact-tags"
                  labelText={tagBusy ? "Tags (saving…)" : "Tags"}
                  value={c.tags}
                  onChange={(next) => void changeTags(next)}
                />
              ) : (
                <div>
                  <p className="cds--label">Tags</p>
                  <div className="trellis-chips">
                    {c.tags.map((t) => (
                      <Tag key={t} type="blue">
                        {t}
                      </Tag>
                    ))}
                  </div>
                </div>
              )}
            </Stack>
          </Tile>

          <Tile>
            <div className="trellis-tile-head">
              <h2 className="trellis-h3">Do not contact</h2>
              {editable ? (
                <Button kind="ghost" size="sm" renderIcon={Add} onClick={() => setModal("dnc")}>
                  Add
                </Button>
              ) : null}
            </div>
            {c.dnc.length === 0 ? <p className="trellis-muted">Contactable on every channel.</p> : null}
            <ul className="trellis-list" aria-label="Do not contact entries">
              {c.dnc.map((d) => (
                <li key={d.channel}>
                  <div>
                    <Tag type="red" size="sm">
                      {d.channel}
                    </Tag>{" "}
                    {d.reason}
                    <div className="trellis-muted">
                      {formatDateTime(d.created_at)}
                      {d.comment ? ` · ${d.comment}` : ""}
                    </div>
                  </div>
                  {editable ? (
                    <IconButton
                      kind="ghost"
                      size="sm"
                      label={`Remove do not contact on ${d.channel}`}
                      align="left"
                      onClick={() => void removeDnc(d.channel)}
                    >
                      <Close />
                    </IconButton>
                  ) : null}
                </li>
              ))}
            </ul>
          </Tile>

          <Tile>
            <div className="trellis-tile-head">
              <h2 className="trellis-h3">Companies</h2>
              {editable ? (
                <Button kind="ghost" size="sm" renderIcon={Add} onClick={() => setModal("company")}>
                  Link
                </Button>
              ) : null}
            </div>
            {c.companies.length === 0 ? <p className="trellis-muted">No company.</p> : null}
            <ul className="trellis-list" aria-label="Companies">
              {c.companies.map((co) => (
                <li key={co.id}>
                  <div>
                    <Link to={`/companies/${co.id}`}>{co.name}</Link>{" "}
                    {co.is_primary ? (
                      <Tag size="sm" type="green">
                        Primary
                      </Tag>
                    ) : null}
                  </div>
                  {editable ? (
                    <IconButton
                      kind="ghost"
                      size="sm"
                      label={`Unlink ${co.name}`}
                      align="left"
                      onClick={() => void unlinkCompany(co.id)}
                    >
                      <Close />
                    </IconButton>
                  ) : null}
                </li>
              ))}
            </ul>
          </Tile>

          {canView(me, RESOURCES.segments) ? (
            <Tile>
              <h2 className="trellis-h3">Segments</h2>
              {segments.isPending ? <p className="trellis-muted">Loading…</p> : null}
              {segments.isError ? <p className="trellis-muted">{describeError(segments.error)}</p> : null}
              {segments.data && segments.data.length === 0 ? <p className="trellis-muted">In no segment.</p> : null}
              <ul className="trellis-list" aria-label="Segments">
                {(segments.data ?? []).map((s) => (
                  <li key={s.id}>
                    <div>
                      <Link to={`/segments/${s.id}`}>{s.name}</Link>
                      {s.manually_added ? (
                        <Tag size="sm" type="purple">
                          Added by hand
                        </Tag>
                      ) : null}
                      <div className="trellis-muted">Since {formatDateTime(s.added_at)}</div>
                    </div>
                  </li>
                ))}
              </ul>
            </Tile>
          ) : null}
        </aside>
      </div>

      <PointsModal
        open={modal === "points"}
        contact={c}
        onClose={() => setModal(null)}
        onSaved={(next) => {
          setModal(null);
          saved(next);
          notify("success", "Points changed", `${next.points} points`);
        }}
      />
      <DncModal
        open={modal === "dnc"}
        contact={c}
        onClose={() => setModal(null)}
        onSaved={(next) => {
          setModal(null);
          saved(next);
          notify("success", "Do not contact added");
        }}
      />
      <LinkCompanyModal
        open={modal === "company"}
        contact={c}
        onClose={() => setModal(null)}
        onSaved={(next) => {
          setModal(null);
          saved(next);
          notify("success", "Company linked");
        }}
      />
      <MergeModal
        open={modal === "merge"}
        contact={c}
        onClose={() => setModal(null)}
        onMerged={(next) => {
          setModal(null);
          saved(next);
          notify("success", "Contacts merged", contactName(next));
        }}
      />
      <ConfirmDelete
        open={modal === "delete"}
        title={`Delete ${contactName(c)}?`}
        body="The contact and its history are deleted. This cannot be undone."
        onClose={() => setModal(null)}
        onConfirm={async () => {
          await api.DELETE("/api/v2/contacts/{contact_id}", { params: { path: { contact_id: c.id } } });
          notify("success", "Contact deleted", contactName(c));
          queryClient.removeQueries({ queryKey: detailKey(contactId) });
          await queryClient.invalidateQueries({ queryKey: ["contacts", "list"] });
          void navigate("/contacts");
        }}
      />
    </>
  );
}
