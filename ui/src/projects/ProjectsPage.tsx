import { Button, TableToolbarSearch } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import type { Project } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader } from "../components/common";
import { useToast } from "../components/Toasts";
import { canAny } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { ProjectFormModal } from "./ProjectFormModal";

export function ProjectsPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [editing, setEditing] = useState<Project | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project | null>(null);

  const list = useQuery({
    queryKey: ["projects", "list", pageState, q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/projects", {
          params: {
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              sort: "name",
              ...(q ? { q } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  const canCreate = can(RESOURCES.projects, "create");
  const canEdit = canAny(me, RESOURCES.projects, ["edit_own", "edit_others"]);
  const canDelete = canAny(me, RESOURCES.projects, ["delete_own", "delete_others"]);

  return (
    <>
      <PageHeader
        title="Projects"
        description="A project groups a campaign with its emails, pages, forms and assets."
      />
      <ListTable<Project>
        title="All projects"
        columns={[
          { key: "name", header: "Name", render: (p) => <Link to={`/projects/${p.id}`}>{p.name}</Link> },
          {
            key: "description",
            header: "Description",
            render: (p) => p.description || <span className="trellis-muted">—</span>,
          },
          { key: "updated_at", header: "Updated", render: (p) => formatDateTime(p.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(p) => p.name}
        emptyText={q ? `No project matches “${q}”.` : "No projects yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search projects"
              placeholder="Search projects"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {canCreate ? (
              <Button renderIcon={Add} onClick={() => setCreating(true)}>
                New project
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Open", onClick: (p) => void navigate(`/projects/${p.id}`) },
          ...(canEdit ? [{ label: "Edit", onClick: (p: Project) => setEditing(p) }] : []),
          ...(canDelete ? [{ label: "Delete", danger: true, onClick: (p: Project) => setDeleting(p) }] : []),
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ProjectFormModal
        open={creating || editing !== null}
        project={editing}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        onSaved={(p) => {
          notify("success", creating ? "Project created" : "Project saved", p.name);
          setCreating(false);
          setEditing(null);
          void queryClient.invalidateQueries({ queryKey: ["projects"] });
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "project"}?`}
        body="The project is deleted. Campaigns, emails and other items in it are kept but no longer grouped."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/projects/{project_id}", {
            params: { path: { project_id: deleting.id } },
            headers: ifMatch(deleting.version),
          });
          notify("success", "Project deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: ["projects"] });
        }}
      />
    </>
  );
}
