import { Button, Dropdown, TableToolbarSearch, Tag } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { keepPreviousData, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader } from "../components/common";
import { useToast } from "../components/Toasts";
import { canDeleteItem, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { emailsKey, emailStatsKey, fetchEmailStats, rate, useProjects } from "./api";
import { duplicateBody } from "./draft";
import type { Email } from "./types";

export const EMAILS = "emails";

interface RowFigures {
  sent: number;
  /** Absent while the server has no statistics endpoint. */
  opens?: number;
  clicks?: number;
}

/**
 * Figures for the rows on the page: the statistics endpoint when the server has it, else the
 * count of sent messages from the sends list.
 */
function useRowFigures(emails: readonly Email[]): Map<number, RowFigures> {
  // The first row tells whether the server has statistics; the others ask only if it does.
  const probe = useQuery({
    queryKey: emailStatsKey(emails[0]?.id ?? 0),
    queryFn: () => fetchEmailStats(emails[0]?.id ?? 0),
    enabled: emails.length > 0,
    staleTime: 15_000,
    retry: false,
  });
  const hasStats = probe.isSuccess && probe.data !== null;
  const noStats = probe.isSuccess && probe.data === null;
  const stats = useQueries({
    queries: emails.map((e) => ({
      queryKey: emailStatsKey(e.id),
      queryFn: () => fetchEmailStats(e.id),
      enabled: hasStats,
      staleTime: 15_000,
      retry: false,
    })),
  });
  const sent = useQueries({
    queries: emails.map((e) => ({
      queryKey: ["emails", "sent-count", e.id],
      queryFn: async () =>
        ok(
          await api.GET("/api/v2/emails/{email_id}/sends", {
            params: { path: { email_id: e.id }, query: { status: "sent", "page[size]": 1 } },
          }),
        ).meta.total,
      enabled: noStats,
      staleTime: 15_000,
    })),
  });
  const out = new Map<number, RowFigures>();
  emails.forEach((e, i) => {
    const s = stats[i]?.data;
    if (s) out.set(e.id, { sent: s.sent, opens: s.unique_opens, clicks: s.unique_clicks });
    else if (sent[i]?.data !== undefined) out.set(e.id, { sent: sent[i]?.data ?? 0 });
  });
  return out;
}

type KindFilter = "all" | "template" | "broadcast";

export function EmailsPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [project, setProject] = useState<number | null>(null);
  const [kind, setKind] = useState<KindFilter>("all");
  const [deleting, setDeleting] = useState<Email | null>(null);
  const projects = useProjects(canView(me, RESOURCES.projects));
  const list = useQuery({
    queryKey: [...emailsKey, "list", pageState, q, project, kind],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/emails", {
          params: {
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              sort: "name",
              ...(q ? { q } : {}),
              ...(project !== null ? { project } : {}),
              ...(kind !== "all" ? { kind } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const items = list.data?.data ?? [];
  const figures = useRowFigures(items);
  const hasRates = [...figures.values()].some((f) => f.opens !== undefined);
  const mayDelete = (e: Email) => canDeleteItem(me, EMAILS, e.created_by_id === me?.user.id);
  const mayCreate = can(EMAILS, "create");

  async function duplicate(email: Email) {
    try {
      const copy = ok(await api.POST("/api/v2/emails", { body: duplicateBody(email) }));
      notify("success", "Email duplicated", copy.name);
      void queryClient.invalidateQueries({ queryKey: [...emailsKey, "list"] });
      void navigate(`/emails/${copy.id}`);
    } catch (e) {
      notify("error", "Could not duplicate", describeError(e));
    }
  }

  const projectItems: ({ id: number; name: string } | null)[] = [null, ...(projects.data ?? [])];
  const figure = (e: Email, pick: (f: RowFigures) => number | undefined, ofSent = false) => {
    const f = figures.get(e.id);
    const value = f ? pick(f) : undefined;
    if (value === undefined) return <span className="trellis-muted">…</span>;
    return ofSent && f ? `${value.toLocaleString()} (${rate(value, f.sent)})` : value.toLocaleString();
  };

  return (
    <>
      <PageHeader
        title="Emails"
        description="Templates that campaigns send, and segment broadcasts, written in MJML or HTML."
      />
      <ListTable<Email>
        title="All emails"
        columns={[
          { key: "name", header: "Name", render: (e) => <Link to={`/emails/${e.id}`}>{e.name}</Link> },
          {
            key: "kind",
            header: "Kind",
            render: (e) =>
              e.kind === "broadcast" ? (
                <Tag size="sm" type="purple">
                  Broadcast
                </Tag>
              ) : (
                <Tag size="sm" type="teal">
                  Template
                </Tag>
              ),
          },
          { key: "subject", header: "Subject", render: (e) => e.subject },
          {
            key: "published",
            header: "Published",
            render: (e) =>
              e.is_published ? (
                <Tag size="sm" type="blue">
                  Published
                </Tag>
              ) : (
                <Tag size="sm" type="warm-gray">
                  Unpublished
                </Tag>
              ),
          },
          { key: "sent", header: "Sent", render: (e) => figure(e, (f) => f.sent) },
          ...(hasRates
            ? [
                { key: "opens", header: "Opened", render: (e: Email) => figure(e, (f) => f.opens, true) },
                { key: "clicks", header: "Clicked", render: (e: Email) => figure(e, (f) => f.clicks, true) },
              ]
            : []),
          {
            key: "projects",
            header: "Projects",
            render: (e) =>
              e.projects.length ? e.projects.map((p) => p.name).join(", ") : <span className="trellis-muted">—</span>,
          },
          { key: "updated", header: "Updated", render: (e) => formatDateTime(e.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(e) => e.name}
        emptyText={q || project !== null || kind !== "all" ? "No email matches these filters." : "No emails yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search emails"
              placeholder="Search name or subject"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            <Dropdown<KindFilter>
              id="emails-kind"
              titleText=""
              hideLabel
              label="Kind"
              type="inline"
              size="md"
              items={["all", "template", "broadcast"]}
              itemToString={(k) =>
                k === "all" ? "All kinds" : k === "template" ? "Templates" : k === "broadcast" ? "Broadcasts" : ""
              }
              selectedItem={kind}
              onChange={({ selectedItem }) => {
                setKind(selectedItem ?? "all");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {projectItems.length > 1 ? (
              <Dropdown<{ id: number; name: string } | null>
                id="emails-project"
                titleText=""
                hideLabel
                label="Project"
                type="inline"
                size="md"
                items={projectItems}
                itemToString={(p) => (p ? p.name : "All projects")}
                selectedItem={projectItems.find((p) => (p?.id ?? null) === project) ?? null}
                onChange={({ selectedItem }) => {
                  setProject(selectedItem?.id ?? null);
                  setPageState((s) => ({ ...s, page: 1 }));
                }}
              />
            ) : null}
            {mayCreate ? (
              <Button renderIcon={Add} onClick={() => void navigate("/emails/new")}>
                New email
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Open", onClick: (e) => void navigate(`/emails/${e.id}`) },
          { label: "Duplicate", onClick: (e) => void duplicate(e), show: () => mayCreate },
          { label: "Delete", danger: true, onClick: (e) => setDeleting(e), show: mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "email"}?`}
        body="The email is deleted. Messages already sent stay in the contacts' history; campaign steps that send it stop sending."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          ok(await api.DELETE("/api/v2/emails/{email_id}", { params: { path: { email_id: deleting.id } } }));
          notify("success", "Email deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: emailsKey });
        }}
      />
    </>
  );
}
