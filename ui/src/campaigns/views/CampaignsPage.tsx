import { Button, Select, SelectItem, TableBatchAction, TableToolbarSearch, Tag } from "@carbon/react";
import { Add, Download, Upload } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { useAuth } from "../../auth/AuthContext";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ListTable, type PageState } from "../../components/ListTable";
import { formatDateTime, PageHeader } from "../../components/common";
import { useToast } from "../../components/Toasts";
import { canAny } from "../../lib/permissions";
import { useDebounced } from "../../lib/useDebounced";
import { exportCampaigns } from "../../portability/api";
import { campaignStatus } from "./format";
import { CAMPAIGNS, type CampaignSummary } from "./types";

type Published = "" | "true" | "false";

/** The status tag, with the failure guard's reason on a paused campaign. */
export function CampaignStatusTag({
  campaign,
  compact = false,
}: {
  campaign: Parameters<typeof campaignStatus>[0];
  compact?: boolean;
}) {
  const status = campaignStatus(campaign);
  const tag = (
    <Tag size="sm" type={status.tag}>
      {status.label}
    </Tag>
  );
  if (!status.detail || compact) return tag;
  return (
    <span className="trellis-campaign-status">
      {tag}
      <span className="trellis-muted trellis-campaign-status__detail">{status.detail}</span>
    </span>
  );
}

export function CampaignsPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const [project, setProject] = useState("");
  const [published, setPublished] = useState<Published>("");
  const q = useDebounced(search.trim());
  const [deleting, setDeleting] = useState<CampaignSummary | null>(null);
  const [selected, setSelected] = useState<Set<number>>(new Set());

  const projects = useQuery({
    queryKey: ["projects", "all"],
    queryFn: async () => ok(await api.GET("/api/v2/projects", { params: { query: { "page[size]": 200 } } })).data,
    staleTime: 60_000,
  });
  const projectNames = new Map((projects.data ?? []).map((p) => [p.id, p.name]));
  const list = useQuery({
    queryKey: ["campaigns", "list", pageState, q, project, published],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/campaigns", {
          params: {
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              ...(q ? { q } : {}),
              ...(project ? { project: Number(project) } : {}),
              ...(published ? { published: published === "true" } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const mayCreate = can(CAMPAIGNS, "create");
  const mayDelete = canAny(me, CAMPAIGNS, ["delete_own", "delete_others"]);

  async function exportZip(ids: number[]) {
    try {
      await exportCampaigns(ids);
    } catch (e) {
      notify("error", "Could not export", describeError(e));
    }
  }

  async function clone(c: CampaignSummary) {
    try {
      const copy = ok(
        await api.POST("/api/v2/campaigns/{campaign_id}/clone", { params: { path: { campaign_id: c.id } } }),
      );
      notify("success", "Campaign cloned", copy.name);
      await queryClient.invalidateQueries({ queryKey: ["campaigns", "list"] });
    } catch (e) {
      notify("error", "Could not clone", describeError(e));
    }
  }

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Automated journeys: contacts enter from segments and move through actions, conditions and decisions."
      />
      <ListTable<CampaignSummary>
        title="All campaigns"
        columns={[
          { key: "name", header: "Name", render: (c) => <Link to={`/campaigns/${c.id}`}>{c.name}</Link> },
          { key: "status", header: "Status", render: (c) => <CampaignStatusTag campaign={c} /> },
          { key: "members", header: "Members", render: (c) => c.members.toLocaleString() },
          {
            key: "projects",
            header: "Projects",
            render: (c) =>
              c.projects.length ? (
                <span className="trellis-chips">
                  {c.projects.map((id) => (
                    <Tag key={id} size="sm" type="teal">
                      {projectNames.get(id) ?? `Project ${id}`}
                    </Tag>
                  ))}
                </span>
              ) : (
                <span className="trellis-muted">—</span>
              ),
          },
          { key: "updated", header: "Last changed", render: (c) => formatDateTime(c.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(c) => c.name}
        emptyText={q || project || published ? "No campaign matches these filters." : "No campaigns yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search campaigns"
              placeholder="Search campaigns"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            <Select
              id="campaigns-project"
              labelText="Project"
              hideLabel
              className="trellis-toolbar-select"
              size="lg"
              inline
              value={project}
              onChange={(e) => {
                setProject(e.target.value);
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            >
              <SelectItem value="" text="All projects" />
              {(projects.data ?? []).map((p) => (
                <SelectItem key={p.id} value={String(p.id)} text={p.name} />
              ))}
            </Select>
            <Select
              id="campaigns-published"
              labelText="Status"
              hideLabel
              className="trellis-toolbar-select"
              size="lg"
              inline
              value={published}
              onChange={(e) => {
                setPublished(e.target.value as Published);
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            >
              <SelectItem value="" text="Any status" />
              <SelectItem value="true" text="Published" />
              <SelectItem value="false" text="Unpublished or paused" />
            </Select>
            {mayCreate ? (
              <Button kind="secondary" renderIcon={Upload} onClick={() => void navigate("/campaigns/import")}>
                Import
              </Button>
            ) : null}
            {mayCreate ? (
              <Button renderIcon={Add} onClick={() => void navigate("/campaigns/new")}>
                New campaign
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Open", onClick: (c) => void navigate(`/campaigns/${c.id}`) },
          {
            label: "Edit",
            onClick: (c) => void navigate(`/campaigns/${c.id}/edit`),
            show: () => canAny(me, CAMPAIGNS, ["edit_own", "edit_others"]),
          },
          { label: "Clone", onClick: (c) => void clone(c), show: () => mayCreate },
          { label: "Export", onClick: (c) => void exportZip([c.id]) },
          { label: "Delete", danger: true, onClick: (c) => setDeleting(c), show: () => mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
        selection={{
          selected,
          onChange: setSelected,
          batchActions: (
            <TableBatchAction renderIcon={Download} onClick={() => void exportZip([...selected])}>
              Export
            </TableBatchAction>
          ),
        }}
      />
      {list.isError ? (
        <p className="trellis-error" role="alert">
          {describeError(list.error)}
        </p>
      ) : null}
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "campaign"}?`}
        body={
          deleting && deleting.members > 0
            ? `The campaign, its steps and the journeys of its ${deleting.members.toLocaleString()} active member(s) are deleted; waiting steps never run. Contacts are kept.`
            : "The campaign and its steps are deleted. Contacts are kept."
        }
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          ok(await api.DELETE("/api/v2/campaigns/{campaign_id}", { params: { path: { campaign_id: deleting.id } } }));
          notify("success", "Campaign deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: ["campaigns"] });
        }}
      />
    </>
  );
}
