import { Breadcrumb, BreadcrumbItem, Button, Dropdown, InlineNotification, Modal, Tag, Tile } from "@carbon/react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader, PageLoading } from "../components/common";
import { useToast } from "../components/Toasts";
import { RESOURCES } from "../lib/resources";
import { broadcastKey, broadcastsKey, useAllSegments } from "./api";
import { BroadcastStatusTag } from "./BroadcastsPage";
import { allowed, AUDIENCE_MODES, RECIPIENT_STATUSES, recipientStatus } from "./format";
import type { Broadcast, Recipient, RecipientStatus } from "./types";

type Action = "schedule" | "cancel";

const CONFIRM: Record<Action, { heading: string; body: (b: Broadcast) => string; label: string; danger: boolean }> = {
  schedule: {
    heading: "Schedule this broadcast?",
    body: (b) =>
      b.start_at
        ? `Sending starts at ${formatDateTime(b.start_at)}. You can still edit or cancel it until then.`
        : "Sending starts within a few seconds.",
    label: "Schedule",
    danger: false,
  },
  cancel: {
    heading: "Cancel this broadcast?",
    body: () =>
      "Nothing more is queued, and queued messages that have not gone out are dropped. Messages already sent stay sent. This cannot be undone.",
    label: "Cancel broadcast",
    danger: true,
  },
};

/** One broadcast: its settings, its counts and its recipients. */
export function BroadcastPage() {
  const { broadcastId } = useParams();
  const id = Number(broadcastId);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const { can } = useAuth();
  const [confirm, setConfirm] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const segments = useAllSegments();
  const broadcast = useQuery({
    queryKey: broadcastKey(id),
    queryFn: async () =>
      ok(await api.GET("/api/v2/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: id } } })),
    refetchInterval: (query) =>
      query.state.data?.status === "sending" || query.state.data?.status === "scheduled" ? 5_000 : false,
  });
  if (broadcast.isPending) return <PageLoading />;
  if (broadcast.isError) {
    return (
      <InlineNotification
        kind="error"
        title="Could not load the broadcast"
        subtitle={describeError(broadcast.error)}
        hideCloseButton
        lowContrast
      />
    );
  }
  const b = broadcast.data;
  const may = allowed(b);
  const mayEdit = can(RESOURCES.emails, "edit_own") || can(RESOURCES.emails, "edit_others");
  const mayPublish = can(RESOURCES.emails, "publish");
  const segmentName = (sid: number) => segments.data?.find((s) => s.id === sid)?.name ?? `Segment ${sid}`;

  async function run(action: Action) {
    setBusy(true);
    setActionError(null);
    try {
      const path =
        action === "schedule"
          ? "/api/v2/broadcasts/{broadcast_id}/schedule"
          : "/api/v2/broadcasts/{broadcast_id}/cancel";
      const updated = ok(
        await api.POST(path, { params: { path: { broadcast_id: b.id } }, headers: ifMatch(b.version) }),
      );
      queryClient.setQueryData(broadcastKey(b.id), updated);
      await queryClient.invalidateQueries({ queryKey: [...broadcastsKey, "list"] });
      notify("success", action === "schedule" ? "Broadcast scheduled" : "Broadcast cancelled", b.name);
      setConfirm(null);
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const c = b.counts;
  const figures: [string, number | string][] = [
    [
      "Audience",
      b.status === "draft" || b.status === "scheduled"
        ? `≈ ${(b.estimated_audience ?? 0).toLocaleString()}`
        : c.audience,
    ],
    ["Pending", c.pending],
    ["Sent", c.sent],
    ["Failed", c.failed],
    ["Skipped", c.skipped],
    ["Cancelled", c.cancelled],
  ];
  const mode = AUDIENCE_MODES.find((m) => m.value === b.audience_mode);
  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/broadcasts">Broadcasts</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={b.name}
        description={
          <>
            Sends <Link to={`/emails/${b.email_id}`}>{b.email_name}</Link> · <BroadcastStatusTag status={b.status} />
          </>
        }
        actions={
          <div style={{ display: "flex", gap: "0.5rem" }}>
            {may.edit && mayEdit ? (
              <Button kind="secondary" onClick={() => void navigate(`/broadcasts/${b.id}/edit`)}>
                Edit
              </Button>
            ) : null}
            {may.schedule && mayPublish ? (
              <Button
                onClick={() => {
                  setActionError(null);
                  setConfirm("schedule");
                }}
              >
                Schedule
              </Button>
            ) : null}
            {may.cancel && mayPublish ? (
              <Button
                kind="danger--tertiary"
                onClick={() => {
                  setActionError(null);
                  setConfirm("cancel");
                }}
              >
                Cancel broadcast
              </Button>
            ) : null}
          </div>
        }
      />
      {b.problem ? (
        <InlineNotification
          kind="warning"
          lowContrast
          hideCloseButton
          title="Nothing is going out"
          subtitle={b.problem}
        />
      ) : null}
      <div
        className="trellis-broadcast-figures"
        style={{
          display: "grid",
          gridTemplateColumns: "repeat(auto-fit, minmax(9rem, 1fr))",
          gap: "1rem",
          margin: "1rem 0",
        }}
      >
        {figures.map(([label, value]) => (
          <Tile key={label}>
            <p className="trellis-muted">{label}</p>
            <p style={{ fontSize: "1.75rem" }} aria-label={label}>
              {typeof value === "number" ? value.toLocaleString() : value}
            </p>
          </Tile>
        ))}
      </div>
      <Tile style={{ marginBottom: "1rem" }}>
        <dl
          className="trellis-broadcast-settings"
          style={{ display: "grid", gridTemplateColumns: "max-content 1fr", gap: "0.5rem 1.5rem" }}
        >
          <dt>Segments</dt>
          <dd>
            {b.segment_ids.map((s) => (
              <Tag key={s} size="sm" type="blue">
                {segmentName(s)}
              </Tag>
            ))}
          </dd>
          <dt>Except</dt>
          <dd>
            {b.excluded_segment_ids.length
              ? b.excluded_segment_ids.map((s) => (
                  <Tag key={s} size="sm" type="warm-gray">
                    {segmentName(s)}
                  </Tag>
                ))
              : "—"}
          </dd>
          <dt>Audience</dt>
          <dd>{mode ? `${mode.label}. ${mode.help}` : b.audience_mode}</dd>
          <dt>Starts</dt>
          <dd>
            {b.start_at ? formatDateTime(b.start_at) : "As soon as it is scheduled"}
            {b.started_at ? ` (started ${formatDateTime(b.started_at)})` : ""}
          </dd>
          {b.audience_mode === "live" ? (
            <>
              <dt>Stops</dt>
              <dd>{formatDateTime(b.stop_at)}</dd>
            </>
          ) : null}
          <dt>At the frequency cap</dt>
          <dd>{b.over_cap === "skip" ? "Skipped" : "Sent when the cap allows"}</dd>
          {b.finished_at ? (
            <>
              <dt>{b.status === "cancelled" ? "Cancelled" : "Finished"}</dt>
              <dd>{formatDateTime(b.finished_at)}</dd>
            </>
          ) : null}
        </dl>
      </Tile>
      <Recipients broadcastId={b.id} live={b.status === "sending"} />
      {confirm ? (
        <Modal
          open
          danger={CONFIRM[confirm].danger}
          size="sm"
          modalHeading={CONFIRM[confirm].heading}
          primaryButtonText={busy ? "Working…" : CONFIRM[confirm].label}
          primaryButtonDisabled={busy}
          secondaryButtonText="Back"
          onRequestClose={() => setConfirm(null)}
          onRequestSubmit={() => void run(confirm)}
        >
          <p>{CONFIRM[confirm].body(b)}</p>
          {actionError ? (
            <p role="alert" style={{ color: "var(--cds-text-error)" }}>
              {actionError}
            </p>
          ) : null}
        </Modal>
      ) : null}
    </>
  );
}

type StatusFilter = RecipientStatus | "all";

function Recipients({ broadcastId, live }: { broadcastId: number; live: boolean }) {
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [status, setStatus] = useState<StatusFilter>("all");
  const list = useQuery({
    queryKey: [...broadcastKey(broadcastId), "recipients", pageState, status],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/broadcasts/{broadcast_id}/recipients", {
          params: {
            path: { broadcast_id: broadcastId },
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              ...(status !== "all" ? { status } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: live ? 5_000 : false,
  });
  const rows = (list.data?.data ?? []).map((r) => ({ ...r, id: r.contact_id }));
  const items: StatusFilter[] = ["all", ...RECIPIENT_STATUSES];
  return (
    <ListTable<Recipient & { id: number }>
      title="Recipients"
      description="The audience so far, and what became of each contact's message."
      columns={[
        {
          key: "contact",
          header: "Contact",
          render: (r) => <Link to={`/contacts/${r.contact_id}`}>{r.email || `Contact ${r.contact_id}`}</Link>,
        },
        {
          key: "status",
          header: "Status",
          render: (r) => {
            const s = recipientStatus(r.status);
            return (
              <Tag size="sm" type={s.tag}>
                {s.label}
              </Tag>
            );
          },
        },
        {
          key: "sent",
          header: "Sent at",
          render: (r) => (r.sent_at ? formatDateTime(r.sent_at) : <span className="trellis-muted">—</span>),
        },
        { key: "reason", header: "Reason", render: (r) => r.reason ?? <span className="trellis-muted">—</span> },
      ]}
      items={list.data ? rows : undefined}
      loading={list.isPending}
      rowLabel={(r) => r.email ?? `contact ${r.contact_id}`}
      emptyText={
        status === "all"
          ? "No recipients yet: the audience is taken when sending starts."
          : `No ${recipientStatus(status).label.toLowerCase()} recipients.`
      }
      toolbar={
        <Dropdown<StatusFilter>
          id="broadcast-recipients-status"
          titleText=""
          hideLabel
          label="Status"
          type="inline"
          size="sm"
          items={items}
          itemToString={(s) => (s === "all" ? "All statuses" : s ? recipientStatus(s).label : "")}
          selectedItem={status}
          onChange={({ selectedItem }) => {
            setStatus(selectedItem ?? "all");
            setPageState((p) => ({ ...p, page: 1 }));
          }}
        />
      }
      pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
    />
  );
}
