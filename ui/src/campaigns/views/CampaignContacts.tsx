import { Button, Checkbox, InlineNotification, Modal, Select, SelectItem, Stack, Tag, TextInput } from "@carbon/react";
import { Add, ArrowLeft } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { contactName } from "../../api/queries";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ListTable, type PageState } from "../../components/ListTable";
import { formatDateTime, PageLoading } from "../../components/common";
import { useToast } from "../../components/Toasts";
import { useDebounced } from "../../lib/useDebounced";
import { describeWaiting, membersChangeText, memberStatus } from "./format";
import { JourneySteps } from "./JourneySteps";
import type { Campaign, CampaignMember, Journey } from "./types";

type StatusFilter = "" | "active" | "exited" | "removed";
/** Newest contacts first is the order the primary key serves, so the first page of a campaign
 * with a million members comes at once; most recently joined first sorts every member. */
type MemberSort = "-contact_id" | "-joined_at";

export const membersKey = (campaignId: number) => ["campaigns", "members", campaignId] as const;
export const journeyKey = (campaignId: number, contactId: number) =>
  ["campaigns", "journey", campaignId, contactId] as const;

function memberName(m: { contact_id: number; name: string; email?: string | null }): string {
  return m.name || m.email || `Contact ${m.contact_id}`;
}

function AddContactsModal({
  open,
  campaign,
  onClose,
  onAdded,
}: {
  open: boolean;
  campaign: Campaign;
  onClose: () => void;
  onAdded: () => void;
}) {
  const { notify } = useToast();
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const results = useQuery({
    queryKey: ["contacts", "pick", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts", { params: { query: { "page[size]": 20, ...(q ? { q } : {}) } } })).data,
    enabled: open,
  });
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const result = ok(
        await api.POST("/api/v2/campaigns/{campaign_id}/members", {
          params: { path: { campaign_id: campaign.id } },
          body: { contact_ids: [...picked] },
        }),
      );
      notify(Object.keys(result.rejected).length ? "warning" : "success", "Contacts added", membersChangeText(result));
      setPicked(new Set());
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
      modalHeading={`Add contacts to ${campaign.name}`}
      primaryButtonText={busy ? "Adding…" : `Add ${picked.size || ""} contact(s)`}
      primaryButtonDisabled={busy || picked.size === 0}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      hasScrollingContent
    >
      <Stack gap={5}>
        <p className="trellis-muted">
          {campaign.is_published
            ? "Added contacts start at once, from the campaign's first steps."
            : "The campaign is not published: added contacts start when it is."}
          {campaign.allow_restart
            ? " Contacts already in it start a new pass."
            : " Contacts already in it are left where they are."}
        </p>
        {error ? (
          <InlineNotification kind="error" title="Could not add" subtitle={error} hideCloseButton lowContrast />
        ) : null}
        <TextInput
          id="campaign-members-search"
          labelText="Search contacts"
          placeholder="Name or email"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-modal-primary-focus
        />
        <fieldset className="trellis-fieldset">
          <legend className="cds--label">Contacts</legend>
          {(results.data ?? []).length === 0 ? (
            <p className="trellis-muted">{results.isFetching ? "Searching…" : "No contact found."}</p>
          ) : null}
          {(results.data ?? []).map((c) => (
            <Checkbox
              key={c.id}
              id={`campaign-member-pick-${c.id}`}
              labelText={`${contactName(c)}${c.email && contactName(c) !== c.email ? ` <${c.email}>` : ""}`}
              checked={picked.has(c.id)}
              onChange={(_e, { checked }) =>
                setPicked((prev) => {
                  const next = new Set(prev);
                  if (checked) next.add(c.id);
                  else next.delete(c.id);
                  return next;
                })
              }
            />
          ))}
        </fieldset>
      </Stack>
    </Modal>
  );
}

/** One contact's trace through the campaign: every step with its outcome and reason. */
export function ContactTrace({
  campaign,
  contactId,
  editable,
  onBack,
}: {
  campaign: Campaign;
  contactId: number;
  editable: boolean;
  onBack: () => void;
}) {
  const queryClient = useQueryClient();
  const journey = useQuery({
    queryKey: journeyKey(campaign.id, contactId),
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/campaigns/{campaign_id}/contacts/{contact_id}/journey", {
          params: { path: { campaign_id: campaign.id, contact_id: contactId } },
        }),
      ),
    refetchInterval: 5000,
  });
  const contact = useQuery({
    queryKey: ["contacts", "detail", contactId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts/{contact_id}", { params: { path: { contact_id: contactId } } })),
  });
  const name = contact.data ? contactName(contact.data) : `Contact ${contactId}`;
  const member = journey.data?.member;
  const changed = (next: Journey) => {
    queryClient.setQueryData(journeyKey(campaign.id, contactId), next);
    void queryClient.invalidateQueries({ queryKey: membersKey(campaign.id) });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "stats", campaign.id] });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "failures", campaign.id] });
  };
  return (
    <section aria-labelledby="contact-trace-title" className="trellis-campaign-trace">
      <Button kind="ghost" size="sm" renderIcon={ArrowLeft} onClick={onBack}>
        Back to contacts
      </Button>
      <h2 id="contact-trace-title" className="trellis-h2">
        Trace of {name}
      </h2>
      <p className="trellis-muted">
        <Link to={`/contacts/${contactId}`}>Open the contact</Link>
        {member ? (
          <>
            {" · "}
            <Tag size="sm" type={memberStatus(member.status).tag}>
              {memberStatus(member.status).label}
            </Tag>
            {` pass ${member.rotation} · joined ${formatDateTime(member.joined_at)}`}
            {member.left_at ? ` · left ${formatDateTime(member.left_at)}` : ""}
            {member.manually_added ? " · added by hand" : ""}
          </>
        ) : (
          " · not a member of this campaign"
        )}
      </p>
      {journey.isPending ? <PageLoading label="Loading the trace" /> : null}
      {journey.isError ? (
        <InlineNotification
          kind="error"
          title="Could not load the trace"
          subtitle={describeError(journey.error)}
          hideCloseButton
          lowContrast
        />
      ) : null}
      {journey.data ? (
        <JourneySteps
          campaignId={campaign.id}
          contactId={contactId}
          journey={journey.data}
          editable={editable}
          title="Journey"
          onChanged={changed}
        />
      ) : null}
    </section>
  );
}

/** The campaign's members with their status and the step(s) each waits on. */
export function CampaignContacts({
  campaign,
  editable,
  onTrace,
}: {
  campaign: Campaign;
  editable: boolean;
  onTrace: (contactId: number) => void;
}) {
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  // Every member by default: the count then reads the primary key alone, where counting only
  // active members reads each row's status (a second on a million members without an index).
  const [status, setStatus] = useState<StatusFilter>("");
  const [sort, setSort] = useState<MemberSort>("-contact_id");
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<CampaignMember | null>(null);
  const members = useQuery({
    queryKey: [...membersKey(campaign.id), pageState, status, sort],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/campaigns/{campaign_id}/members", {
          params: {
            path: { campaign_id: campaign.id },
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              sort,
              ...(status ? { status } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: membersKey(campaign.id) });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "detail", campaign.id] });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "stats", campaign.id] });
  };
  return (
    <>
      <ListTable<CampaignMember & { id: number }>
        title="Contacts"
        description={
          members.data
            ? `${members.data.meta.total.toLocaleString()} ${status ? `${status} ` : ""}member(s)`
            : undefined
        }
        columns={[
          {
            key: "name",
            header: "Contact",
            render: (m) => (
              <Button kind="ghost" size="sm" className="trellis-link-button" onClick={() => onTrace(m.contact_id)}>
                {memberName(m)}
                <span className="cds--visually-hidden">: show the trace</span>
              </Button>
            ),
          },
          { key: "email", header: "Email", render: (m) => m.email ?? <span className="trellis-muted">—</span> },
          {
            key: "status",
            header: "Status",
            render: (m) => (
              <span className="trellis-chips">
                <Tag size="sm" type={memberStatus(m.status).tag}>
                  {memberStatus(m.status).label}
                </Tag>
                {m.manually_added ? (
                  <Tag size="sm" type="purple">
                    Added by hand
                  </Tag>
                ) : null}
              </span>
            ),
          },
          { key: "pass", header: "Pass", render: (m) => m.rotation },
          {
            key: "current",
            header: "Current step",
            render: (m) =>
              describeWaiting(m.waiting_on) || (
                <span className="trellis-muted">{m.status === "active" ? "Nothing waiting" : "—"}</span>
              ),
          },
          { key: "joined", header: "Joined", render: (m) => formatDateTime(m.joined_at) },
        ]}
        items={members.data?.data.map((m) => ({ ...m, id: m.contact_id }))}
        loading={members.isPending}
        rowLabel={memberName}
        emptyText={status ? "No member here." : "No member yet. Publish the campaign, or add contacts by hand."}
        toolbar={
          <>
            <Select
              id="campaign-members-status"
              labelText="Member status"
              hideLabel
              className="trellis-toolbar-select"
              inline
              size="lg"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as StatusFilter);
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            >
              <SelectItem value="" text="All members" />
              <SelectItem value="active" text="Active" />
              <SelectItem value="exited" text="Exited" />
              <SelectItem value="removed" text="Removed" />
            </Select>
            <Select
              id="campaign-members-sort"
              labelText="Order"
              hideLabel
              className="trellis-toolbar-select"
              inline
              size="lg"
              value={sort}
              onChange={(e) => {
                setSort(e.target.value as MemberSort);
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            >
              <SelectItem value="-contact_id" text="Newest contacts first" />
              <SelectItem value="-joined_at" text="Recently joined first" />
            </Select>
            {editable ? (
              <Button renderIcon={Add} onClick={() => setAdding(true)}>
                Add contacts
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Show trace", onClick: (m) => onTrace(m.contact_id) },
          {
            label: "Remove from campaign",
            danger: true,
            onClick: (m) => setRemoving(m),
            show: (m) => editable && m.status === "active",
          },
        ]}
        pagination={{ state: pageState, total: members.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <AddContactsModal
        open={adding}
        campaign={campaign}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          void refresh();
        }}
      />
      <ConfirmDelete
        open={removing !== null}
        title={`Remove ${removing ? memberName(removing) : "contact"}?`}
        confirmLabel="Remove"
        body="The contact's waiting steps are cancelled and it leaves the campaign. Its segments do not bring it back; adding it by hand does."
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          ok(
            await api.POST("/api/v2/campaigns/{campaign_id}/members/remove", {
              params: { path: { campaign_id: campaign.id } },
              body: { contact_ids: [removing.contact_id] },
            }),
          );
          notify("success", "Removed from the campaign", memberName(removing));
          await refresh();
        }}
      />
    </>
  );
}
