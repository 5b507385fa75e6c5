import { Button, TableToolbarSearch, Tag } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import type { Segment } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader } from "../components/common";
import { useToast } from "../components/Toasts";
import { canDeleteItem } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";

export function SegmentsPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [deleting, setDeleting] = useState<Segment | null>(null);
  const list = useQuery({
    queryKey: ["segments", "list", pageState, q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/segments", {
          params: {
            query: { "page[number]": pageState.page, "page[size]": pageState.size, sort: "name", ...(q ? { q } : {}) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const mayDelete = (s: Segment) => canDeleteItem(me, RESOURCES.segments, s.created_by_id === me?.user.id);

  return (
    <>
      <PageHeader
        title="Segments"
        description="Groups of contacts defined by filters (and by hand), rebuilt as contacts change."
      />
      <ListTable<Segment>
        title="All segments"
        columns={[
          { key: "name", header: "Name", render: (s) => <Link to={`/segments/${s.id}`}>{s.name}</Link> },
          { key: "alias", header: "Alias", render: (s) => <code>{s.alias}</code> },
          { key: "members", header: "Members", render: (s) => s.member_count.toLocaleString() },
          {
            key: "flags",
            header: "Visibility",
            render: (s) => (
              <span className="trellis-chips">
                {s.is_public ? (
                  <Tag size="sm" type="green">
                    Public
                  </Tag>
                ) : (
                  <Tag size="sm" type="gray">
                    Private
                  </Tag>
                )}
                {s.is_published ? (
                  <Tag size="sm" type="blue">
                    Published
                  </Tag>
                ) : (
                  <Tag size="sm" type="warm-gray">
                    Unpublished
                  </Tag>
                )}
              </span>
            ),
          },
          {
            key: "projects",
            header: "Projects",
            render: (s) =>
              s.projects.length ? s.projects.map((p) => p.name).join(", ") : <span className="trellis-muted">—</span>,
          },
          { key: "built", header: "Last built", render: (s) => formatDateTime(s.last_built_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(s) => s.name}
        emptyText={q ? `No segment matches “${q}”.` : "No segments yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search segments"
              placeholder="Search segments"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {can(RESOURCES.segments, "create") ? (
              <Button renderIcon={Add} onClick={() => void navigate("/segments/new")}>
                New segment
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Open", onClick: (s) => void navigate(`/segments/${s.id}`) },
          { label: "Delete", danger: true, onClick: (s) => setDeleting(s), show: mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "segment"}?`}
        body="The segment and its membership are deleted. Contacts are kept."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/segments/{segment_id}", {
            params: { path: { segment_id: deleting.id } },
            headers: ifMatch(deleting.version),
          });
          notify("success", "Segment deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: ["segments"] });
        }}
      />
    </>
  );
}
