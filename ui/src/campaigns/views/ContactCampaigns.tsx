import { Button, InlineNotification, Modal, RadioButton, RadioButtonGroup, Stack, Tag, TextInput } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { formatDateTime } from "../../components/common";
import { useToast } from "../../components/Toasts";
import { useDebounced } from "../../lib/useDebounced";
import { campaignStatus, membersChangeText, memberStatus } from "./format";
import { JourneySteps } from "./JourneySteps";
import type { ContactCampaign, Journey } from "./types";

export const contactCampaignsKey = (contactId: number) => ["contacts", "campaigns", contactId] as const;

function AddToCampaignModal({
  open,
  contactId,
  current,
  onClose,
  onAdded,
}: {
  open: boolean;
  contactId: number;
  current: ReadonlySet<number>;
  onClose: () => void;
  onAdded: () => void;
}) {
  const { notify } = useToast();
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [picked, setPicked] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const campaigns = useQuery({
    queryKey: ["campaigns", "pick", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/campaigns", { params: { query: { "page[size]": 20, ...(q ? { q } : {}) } } })).data,
    enabled: open,
  });
  const options = (campaigns.data ?? []).filter((c) => !current.has(c.id));
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const result = ok(
        await api.POST("/api/v2/campaigns/{campaign_id}/members", {
          params: { path: { campaign_id: Number(picked) } },
          body: { contact_ids: [contactId] },
        }),
      );
      const refused = Object.values(result.rejected);
      if (refused.length) {
        setError(`Not added: ${refused.join("; ")}.`);
        return;
      }
      notify("success", "Added to the campaign", membersChangeText(result));
      setPicked("");
      setSearch("");
      onAdded();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={open}
      modalHeading="Add to a campaign"
      primaryButtonText={busy ? "Adding…" : "Add"}
      primaryButtonDisabled={busy || !picked}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      hasScrollingContent
    >
      <Stack gap={5}>
        {error ? (
          <InlineNotification kind="error" title="Could not add" subtitle={error} hideCloseButton lowContrast />
        ) : null}
        <TextInput
          id="contact-campaign-search"
          labelText="Search campaigns"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-modal-primary-focus
        />
        {options.length === 0 ? (
          <p className="trellis-muted">{campaigns.isFetching ? "Searching…" : "No campaign found."}</p>
        ) : (
          <RadioButtonGroup
            legendText="Campaign"
            name="contact-campaign"
            orientation="vertical"
            valueSelected={picked}
            onChange={(v) => setPicked(String(v))}
          >
            {options.map((c) => (
              <RadioButton
                key={c.id}
                id={`contact-campaign-${c.id}`}
                value={String(c.id)}
                labelText={`${c.name} (${campaignStatus(c).label.toLowerCase()})`}
              />
            ))}
          </RadioButtonGroup>
        )}
      </Stack>
    </Modal>
  );
}

/** One campaign of the contact: its membership and journey, with the steps it can change. */
function CampaignJourney({
  contactId,
  membership,
  editable,
  onRemove,
}: {
  contactId: number;
  membership: ContactCampaign;
  editable: boolean;
  onRemove: () => void;
}) {
  const queryClient = useQueryClient();
  const campaignId = membership.campaign_id ?? 0;
  const [open, setOpen] = useState(membership.status === "active");
  const key = ["campaigns", "journey", campaignId, contactId] as const;
  const journey = useQuery({
    queryKey: key,
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/campaigns/{campaign_id}/contacts/{contact_id}/journey", {
          params: { path: { campaign_id: campaignId, contact_id: contactId } },
        }),
      ),
    enabled: open && campaignId > 0,
  });
  const status = memberStatus(membership.status);
  const changed = (next: Journey) => {
    queryClient.setQueryData(key, next);
    void queryClient.invalidateQueries({ queryKey: contactCampaignsKey(contactId) });
    void queryClient.invalidateQueries({ queryKey: ["contacts", "activity", contactId] });
  };
  const headingId = `contact-campaign-${campaignId}`;
  return (
    <section className="trellis-contact-campaign" aria-labelledby={headingId}>
      <div className="trellis-contact-campaign__head">
        <div>
          <h3 id={headingId} className="trellis-h3">
            <Link to={`/campaigns/${campaignId}`}>{membership.name}</Link>
          </h3>
          <span className="trellis-chips">
            <Tag size="sm" type={status.tag}>
              {status.label}
            </Tag>
            {membership.manually_added ? (
              <Tag size="sm" type="purple">
                Added by hand
              </Tag>
            ) : null}
          </span>
          <div className="trellis-muted">
            Pass {membership.rotation} · joined {formatDateTime(membership.joined_at)}
            {membership.left_at ? ` · left ${formatDateTime(membership.left_at)}` : ""}
            {membership.current_steps.length ? ` · waiting on ${membership.current_steps.join(", ")}` : ""}
          </div>
        </div>
        <div className="trellis-actions">
          <Button
            kind="ghost"
            size="sm"
            aria-expanded={open}
            aria-controls={`${headingId}-journey`}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? "Hide journey" : "Show journey"}
          </Button>
          {editable && membership.status === "active" ? (
            <Button kind="danger--ghost" size="sm" onClick={onRemove}>
              Remove<span className="cds--visually-hidden"> from {membership.name}</span>
            </Button>
          ) : null}
        </div>
      </div>
      <div id={`${headingId}-journey`}>
        {open && journey.isPending ? <p className="trellis-muted">Loading the journey…</p> : null}
        {open && journey.isError ? <p className="trellis-muted">{describeError(journey.error)}</p> : null}
        {open && journey.data ? (
          <JourneySteps
            campaignId={campaignId}
            contactId={contactId}
            journey={journey.data}
            editable={editable}
            title={`Journey in ${membership.name}`}
            onChanged={changed}
            compact
          />
        ) : null}
      </div>
    </section>
  );
}

/** The contact page's campaigns: each with its journey and scheduled steps (reschedule,
 * cancel, retry), and add to / remove from a campaign. */
export function ContactCampaigns({ contactId, editable }: { contactId: number; editable: boolean }) {
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<ContactCampaign | null>(null);
  const memberships = useQuery({
    queryKey: contactCampaignsKey(contactId),
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts/{contact_id}/campaigns", { params: { path: { contact_id: contactId } } })),
  });
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: contactCampaignsKey(contactId) });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "journey"] });
    void queryClient.invalidateQueries({ queryKey: ["contacts", "activity", contactId] });
  };
  const list = memberships.data ?? [];
  const current = new Set(list.filter((m) => m.status === "active").map((m) => m.campaign_id ?? 0));
  return (
    <div className="trellis-contact-campaigns">
      <div className="trellis-tile-head">
        <span className="trellis-muted">
          {memberships.data ? `${current.size} active of ${list.length} campaign(s)` : ""}
        </span>
        {editable ? (
          <Button kind="ghost" size="sm" renderIcon={Add} onClick={() => setAdding(true)}>
            Add to a campaign
          </Button>
        ) : null}
      </div>
      {memberships.isPending ? <p className="trellis-muted">Loading…</p> : null}
      {memberships.isError ? <p className="trellis-muted">{describeError(memberships.error)}</p> : null}
      {memberships.data && list.length === 0 ? <p className="trellis-muted">In no campaign.</p> : null}
      {list.map((m) => (
        <CampaignJourney
          key={m.campaign_id}
          contactId={contactId}
          membership={m}
          editable={editable}
          onRemove={() => setRemoving(m)}
        />
      ))}
      <AddToCampaignModal
        open={adding}
        contactId={contactId}
        current={current}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          void refresh();
        }}
      />
      <ConfirmDelete
        open={removing !== null}
        title={`Remove from ${removing?.name ?? "the campaign"}?`}
        confirmLabel="Remove"
        body="The contact's waiting steps in this campaign are cancelled. Its segments do not bring it back; adding it by hand does."
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing?.campaign_id) return;
          ok(
            await api.POST("/api/v2/campaigns/{campaign_id}/members/remove", {
              params: { path: { campaign_id: removing.campaign_id } },
              body: { contact_ids: [contactId] },
            }),
          );
          notify("success", "Removed from the campaign", removing.name);
          await refresh();
        }}
      />
    </div>
  );
}
