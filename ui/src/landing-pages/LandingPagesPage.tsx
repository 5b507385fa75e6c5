/** The landing pages list: search, projects filter, and the row actions. */
import { Add } from "@carbon/icons-react";
import { Button, Dropdown, TableToolbarSearch, Tag } from "@carbon/react";
import { useQueryClient } from "@tanstack/react-query";
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
import { pagesApi, pagesKey, usePagesList, type LandingPage } from "./api";

const PAGES = RESOURCES.pages;

export function LandingPagesPage() {
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [project, setProject] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<LandingPage | null>(null);
  const projects = useProjects(canView(me, RESOURCES.projects));
  const list = usePagesList({ page: pageState.page, size: pageState.size, q, project });
  const mayCreate = canAny(me, PAGES, ["create"]);
  const mayDelete = canAny(me, PAGES, ["delete_own", "delete_others"]);

  async function clone(page: LandingPage) {
    try {
      const copy = await pagesApi.clone(page.id);
      notify("success", "Page cloned", copy.name);
      void queryClient.invalidateQueries({ queryKey: pagesKey });
      void navigate(`/landing-pages/${copy.id}`);
    } catch (e) {
      notify("error", "Could not clone", describeError(e));
    }
  }

  const projectItems: ({ id: number; name: string } | null)[] = [null, ...(projects.data ?? [])];
  return (
    <>
      <PageHeader
        title="Landing pages"
        description="Pages built with the visual builder, served at /p/<slug> from this server, with tokens and embedded forms."
      />
      {list.isError ? (
        <p role="alert" className="trellis-muted">
          Could not load the pages: {describeError(list.error)}
        </p>
      ) : null}
      <ListTable<LandingPage>
        title="All landing pages"
        columns={[
          { key: "name", header: "Name", render: (p) => <Link to={`/landing-pages/${p.id}`}>{p.name}</Link> },
          { key: "slug", header: "Address", render: (p) => <code>/p/{p.slug}</code> },
          {
            key: "published",
            header: "Published",
            render: (p) =>
              p.is_published ? (
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
            key: "projects",
            header: "Projects",
            render: (p) =>
              p.projects.length ? p.projects.map((x) => x.name).join(", ") : <span className="trellis-muted">—</span>,
          },
          { key: "updated", header: "Updated", render: (p) => formatDateTime(p.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(p) => p.name}
        emptyText={q || project !== null ? "No page matches these filters." : "No landing pages yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search pages"
              placeholder="Search name, title or address"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {projectItems.length > 1 ? (
              <Dropdown<{ id: number; name: string } | null>
                id="pages-project"
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
              <Button renderIcon={Add} onClick={() => void navigate("/landing-pages/new")}>
                New page
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Edit", onClick: (p) => void navigate(`/landing-pages/${p.id}`) },
          {
            label: "Open",
            onClick: (p) => window.open(`/p/${p.slug}`, "_blank", "noopener"),
            show: (p) => p.is_published,
          },
          { label: "Clone", onClick: (p) => void clone(p), show: () => mayCreate },
          { label: "Delete", danger: true, onClick: (p) => setDeleting(p), show: () => mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "page"}?`}
        body="The page is deleted and its address stops answering."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await pagesApi.remove(deleting.id);
          notify("success", "Page deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: pagesKey });
        }}
      />
    </>
  );
}
