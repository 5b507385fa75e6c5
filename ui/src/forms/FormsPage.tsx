/** The forms list: search, projects filter, submissions, and the row actions. */
import { Add } from "@carbon/icons-react";
import { Button, Dropdown, TableToolbarSearch, Tag } from "@carbon/react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader } from "../components/common";
import { useToast } from "../components/Toasts";
import { useProjects } from "../emails/api";
import { canAny, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { formsApi, formsKey } from "./api";
import type { Form } from "./types";

const FORMS = RESOURCES.forms;

export function FormsPage() {
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [project, setProject] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Form | null>(null);
  const projects = useProjects(canView(me, RESOURCES.projects));
  const list = useQuery({
    queryKey: [...formsKey, "list", pageState, q, project],
    queryFn: () => formsApi.list({ page: pageState.page, size: pageState.size, q, project }),
    placeholderData: keepPreviousData,
  });
  const mayCreate = canAny(me, FORMS, ["create"]);
  const mayEdit = canAny(me, FORMS, ["edit_own", "edit_others"]);
  const mayDelete = canAny(me, FORMS, ["delete_own", "delete_others"]);
  const projectName = new Map((projects.data ?? []).map((p) => [p.id, p.name]));

  async function clone(form: Form) {
    try {
      const copy = await formsApi.clone(form.id);
      notify("success", "Form cloned", copy.name);
      void queryClient.invalidateQueries({ queryKey: formsKey });
      void navigate(`/forms/${copy.id}`);
    } catch (e) {
      notify("error", "Could not clone", describeError(e));
    }
  }

  const projectItems: ({ id: number; name: string } | null)[] = [null, ...(projects.data ?? [])];
  return (
    <>
      <PageHeader
        title="Forms"
        description="Forms on your website or on their own page: each submission creates or updates a contact and can start campaigns."
      />
      {list.isError ? (
        <p role="alert" className="trellis-muted">
          Could not load the forms: {describeError(list.error)}
        </p>
      ) : null}
      <ListTable<Form>
        title="All forms"
        columns={[
          { key: "name", header: "Name", render: (f) => <Link to={`/forms/${f.id}`}>{f.name}</Link> },
          { key: "alias", header: "Address", render: (f) => <code>/f/{f.alias}</code> },
          {
            key: "published",
            header: "Published",
            render: (f) =>
              f.is_published ? (
                <Tag size="sm" type="blue">
                  Published
                </Tag>
              ) : (
                <Tag size="sm" type="warm-gray">
                  Unpublished
                </Tag>
              ),
          },
          {
            key: "submissions",
            header: "Submissions",
            render: (f) => (
              <Link to={`/forms/${f.id}/results`} aria-label={`${f.submission_count} submissions of ${f.name}`}>
                {f.submission_count.toLocaleString()}
              </Link>
            ),
          },
          { key: "last", header: "Last submission", render: (f) => formatDateTime(f.last_submission_at) },
          {
            key: "projects",
            header: "Projects",
            render: (f) =>
              f.projects.length ? (
                f.projects.map((id) => projectName.get(id) ?? `#${id}`).join(", ")
              ) : (
                <span className="trellis-muted">—</span>
              ),
          },
          { key: "updated", header: "Updated", render: (f) => formatDateTime(f.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(f) => f.name}
        emptyText={q || project !== null ? "No form matches these filters." : "No forms yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search forms"
              placeholder="Search name or address"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {projectItems.length > 1 ? (
              <Dropdown<{ id: number; name: string } | null>
                id="forms-project"
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
              <Button renderIcon={Add} onClick={() => void navigate("/forms/new")}>
                New form
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: mayEdit ? "Edit" : "Open", onClick: (f) => void navigate(`/forms/${f.id}`) },
          { label: "View results", onClick: (f) => void navigate(`/forms/${f.id}/results`) },
          { label: "Clone", onClick: (f) => void clone(f), show: () => mayCreate },
          { label: "Delete", danger: true, onClick: (f) => setDeleting(f), show: () => mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "form"}?`}
        body="The form and its submissions are deleted; its hosted page and embedded copies stop accepting submissions. Contacts keep their data."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await formsApi.remove(deleting.id);
          notify("success", "Form deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: formsKey });
        }}
      />
    </>
  );
}
