import { Breadcrumb, BreadcrumbItem, Button, InlineNotification, Tag, Tile } from "@carbon/react";
import { Edit, TrashCan } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { AuditTable } from "../components/AuditTable";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { formatDateTime, PageHeader, PageLoading } from "../components/common";
import { useToast } from "../components/Toasts";
import { canAny, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { ProjectFormModal } from "./ProjectFormModal";

export function ProjectDetailPage() {
  const params = useParams();
  const projectId = Number(params.projectId);
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);

  const project = useQuery({
    queryKey: ["projects", "detail", projectId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: projectId } } })),
    enabled: Number.isInteger(projectId),
  });
  const entities = useQuery({
    queryKey: ["projects", "entities", projectId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/projects/{project_id}/entities", { params: { path: { project_id: projectId } } })),
    enabled: Number.isInteger(projectId),
  });
  const showAudit = canView(me, RESOURCES.audit);
  const history = useQuery({
    queryKey: ["audit", "project", projectId],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/audit-log", {
          params: { query: { entity_type: "project", entity_id: projectId, "page[size]": 50 } },
        }),
      ),
    enabled: Number.isInteger(projectId) && showAudit,
  });

  if (project.isPending) return <PageLoading />;
  if (project.isError || !project.data) {
    return (
      <>
        <PageHeader title="Project" />
        <InlineNotification
          kind="error"
          title="Could not load the project"
          subtitle={describeError(project.error)}
          hideCloseButton
        />
      </>
    );
  }
  const p = project.data;
  const groups = entities.data?.groups ?? [];

  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/projects">Projects</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={p.name}
        description={p.description || undefined}
        actions={
          <div style={{ display: "flex", gap: "0.5rem" }}>
            {canAny(me, RESOURCES.projects, ["edit_own", "edit_others"]) ? (
              <Button kind="secondary" renderIcon={Edit} onClick={() => setEditing(true)}>
                Edit
              </Button>
            ) : null}
            {canAny(me, RESOURCES.projects, ["delete_own", "delete_others"]) ? (
              <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setDeleting(true)}>
                Delete
              </Button>
            ) : null}
          </div>
        }
      />
      <div className="trellis-stack">
        <dl className="trellis-dl">
          <dt>Created</dt>
          <dd>{formatDateTime(p.created_at)}</dd>
          <dt>Updated</dt>
          <dd>{formatDateTime(p.updated_at)}</dd>
        </dl>

        <section aria-labelledby="project-contents">
          <h2 id="project-contents" className="trellis-h2" style={{ marginBottom: "1rem" }}>
            Contents
          </h2>
          {entities.isPending ? (
            <PageLoading label="Loading contents" />
          ) : entities.isError ? (
            <InlineNotification
              kind="error"
              title="Could not load the contents"
              subtitle={describeError(entities.error)}
              hideCloseButton
              lowContrast
            />
          ) : groups.every((g) => g.items.length === 0) ? (
            <p className="trellis-muted">Nothing is in this project yet.</p>
          ) : (
            <div className="trellis-tiles">
              {groups
                .filter((g) => g.items.length > 0)
                .map((g) => (
                  <Tile key={g.entity_type}>
                    <h3 className="trellis-h3">
                      {g.label}{" "}
                      <Tag size="sm" type="gray">
                        {g.items.length}
                      </Tag>
                    </h3>
                    <ul>
                      {g.items.map((item) => (
                        <li key={item.id}>{item.name}</li>
                      ))}
                    </ul>
                  </Tile>
                ))}
            </div>
          )}
        </section>

        {showAudit ? (
          <section aria-label="History">
            <AuditTable title="History" entries={history.data?.data} loading={history.isPending} showEntity={false} />
          </section>
        ) : null}
      </div>

      <ProjectFormModal
        open={editing}
        project={p}
        onClose={() => setEditing(false)}
        onSaved={(saved) => {
          setEditing(false);
          notify("success", "Project saved", saved.name);
          queryClient.setQueryData(["projects", "detail", projectId], saved);
          void queryClient.invalidateQueries({ queryKey: ["projects"] });
          void queryClient.invalidateQueries({ queryKey: ["audit"] });
        }}
      />
      <ConfirmDelete
        open={deleting}
        title={`Delete ${p.name}?`}
        body="The project is deleted. Items in it are kept but no longer grouped."
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api.DELETE("/api/v2/projects/{project_id}", {
            params: { path: { project_id: p.id } },
            headers: ifMatch(p.version),
          });
          notify("success", "Project deleted", p.name);
          queryClient.removeQueries({ queryKey: ["projects", "detail", projectId] });
          await queryClient.invalidateQueries({ queryKey: ["projects", "list"] });
          void navigate("/projects");
        }}
      />
    </>
  );
}
