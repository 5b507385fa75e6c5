import { Button, Dropdown, TableToolbarSearch, Tag } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader } from "../components/common";
import { useToast } from "../components/Toasts";
import { canDeleteItem } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { broadcastsKey } from "./api";
import { allowed, BROADCAST_STATUSES, broadcastStatus, progress } from "./format";
import type { Broadcast, BroadcastStatus } from "./types";

type StatusFilter = BroadcastStatus | "all";

export function BroadcastStatusTag({ status }: { status: BroadcastStatus }) {
  const s = broadcastStatus(status);
  return (
    <Tag size="sm" type={s.tag}>
      {s.label}
    </Tag>
  );
}

/** Segment broadcasts: their state, audience and progress. */
export function BroadcastsPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [status, setStatus] = useState<StatusFilter>("all");
  const [deleting, setDeleting] = useState<Broadcast | null>(null);
  const list = useQuery({
    queryKey: [...broadcastsKey, "list", pageState, q, status],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/broadcasts", {
          params: {
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              ...(q ? { q } : {}),
              ...(status !== "all" ? { status } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    // Sending broadcasts move on their own: keep the figures fresh.
    refetchInterval: (query) =>
      query.state.data?.data.some((b) => b.status === "sending" || b.status === "scheduled") ? 5_000 : false,
  });
  const mayCreate = can(RESOURCES.emails, "create");
  const mayDelete = (b: Broadcast) =>
    allowed(b).remove && canDeleteItem(me, RESOURCES.emails, b.created_by_id === me?.user.id);
  const statusItems: StatusFilter[] = ["all", ...BROADCAST_STATUSES];
  return (
    <>
      <PageHeader
        title="Broadcasts"
        description="Send a broadcast email to the members of segments, now or at a set time, to the audience at the start or to new members as they join."
      />
      <ListTable<Broadcast>
        title="All broadcasts"
        columns={[
          { key: "name", header: "Name", render: (b) => <Link to={`/broadcasts/${b.id}`}>{b.name}</Link> },
          { key: "status", header: "Status", render: (b) => <BroadcastStatusTag status={b.status} /> },
          { key: "email", header: "Email", render: (b) => <Link to={`/emails/${b.email_id}`}>{b.email_name}</Link> },
          { key: "audience", header: "Audience", render: (b) => (b.audience_mode === "live" ? "Live" : "Locked") },
          { key: "progress", header: "Sent", render: (b) => progress(b) },
          { key: "pending", header: "Pending", render: (b) => b.counts.pending.toLocaleString() },
          {
            key: "start",
            header: "Starts",
            render: (b) =>
              b.start_at ? formatDateTime(b.start_at) : <span className="trellis-muted">when scheduled</span>,
          },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(b) => b.name}
        emptyText={q || status !== "all" ? "No broadcast matches these filters." : "No broadcasts yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search broadcasts"
              placeholder="Search by name"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            <Dropdown<StatusFilter>
              id="broadcasts-status"
              titleText=""
              hideLabel
              label="Status"
              type="inline"
              size="md"
              items={statusItems}
              itemToString={(s) => (s === "all" ? "All statuses" : s ? broadcastStatus(s).label : "")}
              selectedItem={status}
              onChange={({ selectedItem }) => {
                setStatus(selectedItem ?? "all");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {mayCreate ? (
              <Button renderIcon={Add} onClick={() => void navigate("/broadcasts/new")}>
                New broadcast
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Open", onClick: (b) => void navigate(`/broadcasts/${b.id}`) },
          { label: "Edit", onClick: (b) => void navigate(`/broadcasts/${b.id}/edit`), show: (b) => allowed(b).edit },
          { label: "Delete", danger: true, onClick: (b) => setDeleting(b), show: mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "broadcast"}?`}
        body="The broadcast and its list of recipients are deleted. Messages already sent stay in the contacts' history."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          ok(
            await api.DELETE("/api/v2/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: deleting.id } } }),
          );
          notify("success", "Broadcast deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: broadcastsKey });
        }}
      />
    </>
  );
}
