import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Checkbox,
  InlineLoading,
  InlineNotification,
  MultiSelect,
  Stack,
  Tab,
  TabList,
  TabPanel,
  TabPanels,
  Tabs,
  TextArea,
  TextInput,
  Tile,
} from "@carbon/react";
import { Renew, Save, TrashCan } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { ApiProblem, describeError } from "../api/problem";
import { useFields, useOwners, useStages } from "../api/queries";
import type { Segment } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { formatDateTime, FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";
import { errorsByItem, normalizeFilters, type FilterGroup } from "../lib/filterDoc";
import { canAny, canEditItem, canDeleteItem } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { FilterBuilder, type BuilderCatalog } from "./FilterBuilder";
import { SegmentMembers } from "./SegmentMembers";
import { announceCreated } from "../components/EntityPicker";
import { RestoreDraftBanner, UnsavedChangesPrompt, useLocalDraft } from "../components/UnsavedChanges";

const FORM_FIELDS = ["name", "alias", "description", "is_public", "is_published", "projects", "filters"] as const;
const EMPTY_ERRORS = new Map();

/** The alias the backend would derive from a name ("Spring VIPs 2024" -> "spring-vips-2024"). */
export function segmentAlias(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 100);
}

interface Draft {
  name: string;
  alias: string;
  description: string;
  is_public: boolean;
  is_published: boolean;
  projects: number[];
  filters: FilterGroup;
}

function draftOf(s: Segment | null): Draft {
  return {
    name: s?.name ?? "",
    alias: s?.alias ?? "",
    description: s?.description ?? "",
    is_public: s?.is_public ?? true,
    is_published: s?.is_published ?? true,
    projects: (s?.projects ?? []).map((p) => p.id),
    filters: normalizeFilters(s?.filters),
  };
}

/** The live count: the matching contacts of the filter as edited, debounced. */
function useLiveCount(filters: FilterGroup) {
  const debounced = useDebounced(filters, 500);
  const body = useMemo(() => JSON.stringify(debounced), [debounced]);
  return useQuery({
    queryKey: ["segments", "count", body],
    queryFn: async () =>
      ok(await api.POST("/api/v2/segments/count", { body: { filters: JSON.parse(body) as Record<string, unknown> } })),
    retry: false,
    staleTime: 5_000,
  });
}

export function SegmentEditorPage() {
  const params = useParams();
  const isNew = params.segmentId === undefined;
  const segmentId = Number(params.segmentId);
  const segment = useQuery({
    queryKey: ["segments", "detail", segmentId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/segments/{segment_id}", { params: { path: { segment_id: segmentId } } })),
    enabled: !isNew && Number.isInteger(segmentId),
  });
  if (!isNew && segment.isPending) return <PageLoading />;
  if (!isNew && (segment.isError || !segment.data)) {
    return (
      <>
        <PageHeader title="Segment" />
        <InlineNotification
          kind="error"
          title="Could not load the segment"
          subtitle={describeError(segment.error)}
          hideCloseButton
        />
      </>
    );
  }
  return <SegmentEditor key={isNew ? "new" : segmentId} segment={isNew ? null : (segment.data ?? null)} />;
}

function SegmentEditor({ segment }: { segment: Segment | null }) {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(segment));
  const [aliasTouched, setAliasTouched] = useState(segment !== null);
  const [busy, setBusy] = useState(false);
  const [saveProblem, setSaveProblem] = useState<ApiProblem | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [rebuilding, setRebuilding] = useState(false);
  const form = useFormErrors(FORM_FIELDS);

  const owns = segment !== null && segment.created_by_id === me?.user.id;
  const editable = segment ? canEditItem(me, RESOURCES.segments, owns) : can(RESOURCES.segments, "create");
  const deletable = segment ? canDeleteItem(me, RESOURCES.segments, owns) : false;

  const types = useQuery({
    queryKey: ["segments", "filter-types"],
    queryFn: async () => ok(await api.GET("/api/v2/segment-filter-types")),
    staleTime: 300_000,
  });
  const contactFields = useFields("contact");
  const companyFields = useFields("company");
  const stages = useStages();
  const owners = useOwners();
  const otherSegments = useQuery({
    queryKey: ["segments", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/segments", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    staleTime: 60_000,
  });
  const projects = useQuery({
    queryKey: ["projects", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/projects", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    enabled: canAny(me, RESOURCES.projects, ["view_own", "view_others"]),
    staleTime: 60_000,
  });

  const catalog: BuilderCatalog = useMemo(
    () => ({
      types: types.data ?? [],
      contactFields: contactFields.data ?? [],
      companyFields: companyFields.data ?? [],
      stages: (stages.data ?? []).map((s) => ({ id: s.id, label: s.name })),
      owners: (owners.data ?? []).map((u) => ({ id: u.id, label: u.name || u.email })),
      segments: (otherSegments.data ?? [])
        .filter((s) => s.id !== segment?.id)
        .map((s) => ({ id: s.id, label: s.name })),
    }),
    [types.data, contactFields.data, companyFields.data, stages.data, owners.data, otherSegments.data, segment?.id],
  );

  const count = useLiveCount(draft.filters);
  const countProblem = count.error instanceof ApiProblem ? count.error : null;
  // Errors at conditions: from the live count while editing, else from the last save.
  const conditionErrors = useMemo(() => {
    const source = countProblem ?? saveProblem;
    return source ? errorsByItem(source.errors) : EMPTY_ERRORS;
  }, [countProblem, saveProblem]);

  // A save's filter errors are stale once the filter changes.
  const lastFilters = useRef(draft.filters);
  useEffect(() => {
    if (lastFilters.current !== draft.filters) {
      lastFilters.current = draft.filters;
      setSaveProblem(null);
    }
  }, [draft.filters]);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  async function save() {
    setBusy(true);
    form.clear();
    setSaveProblem(null);
    try {
      const body = {
        name: draft.name,
        description: draft.description,
        is_public: draft.is_public,
        is_published: draft.is_published,
        projects: draft.projects,
        filters: draft.filters as unknown as Record<string, unknown>,
        // An untouched alias of a new segment is left to the server, which keeps it unique.
        ...(draft.alias && (aliasTouched || segment) ? { alias: draft.alias } : {}),
      };
      const saved = segment
        ? ok(
            await api.PATCH("/api/v2/segments/{segment_id}", {
              params: { path: { segment_id: segment.id } },
              headers: ifMatch(segment.version),
              body,
            }),
          )
        : ok(await api.POST("/api/v2/segments", { body: body }));
      notify("success", segment ? "Segment saved" : "Segment created", saved.name);
      queryClient.setQueryData(["segments", "detail", saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ["segments", "list"] });
      void queryClient.invalidateQueries({ queryKey: ["segments", "all"] });
      if (!segment) {
        announceCreated("segment", saved.id, saved.name);
        void navigate(`/segments/${saved.id}`, { replace: true });
      }
    } catch (e) {
      form.fromError(e);
      if (e instanceof ApiProblem) setSaveProblem(e);
    } finally {
      setBusy(false);
    }
  }

  async function rebuild() {
    if (!segment) return;
    setRebuilding(true);
    try {
      const before = segment.last_built_at;
      await api.POST("/api/v2/segments/{segment_id}/rebuild", { params: { path: { segment_id: segment.id } } });
      // The rebuild runs in the background: follow the segment until it says it was built.
      const deadline = Date.now() + 120_000;
      let latest: Segment = segment;
      while (Date.now() < deadline) {
        await new Promise((r) => window.setTimeout(r, 750));
        latest = ok(await api.GET("/api/v2/segments/{segment_id}", { params: { path: { segment_id: segment.id } } }));
        if (latest.last_built_at && latest.last_built_at !== before) break;
      }
      queryClient.setQueryData(["segments", "detail", segment.id], latest);
      void queryClient.invalidateQueries({ queryKey: ["segments", "members", segment.id] });
      void queryClient.invalidateQueries({ queryKey: ["segments", "list"] });
      if (latest.last_built_at !== before)
        notify("success", "Segment rebuilt", `${latest.member_count.toLocaleString()} members`);
      else notify("warning", "The rebuild is still running", "The member count updates when it finishes.");
    } catch (e) {
      notify("error", "Could not rebuild", describeError(e));
    } finally {
      setRebuilding(false);
    }
  }

  const dirty = JSON.stringify(draft) !== JSON.stringify(draftOf(segment));
  const localDraft = useLocalDraft(`segment:${segment?.id ?? "new"}`, draft, dirty);
  const offeredDraft =
    localDraft.offered && JSON.stringify(localDraft.offered.value) !== JSON.stringify(draftOf(segment))
      ? localDraft.offered
      : null;
  const loadingCatalog = types.isPending || contactFields.isPending;
  const projectItems = (projects.data ?? []).map((p) => ({ id: p.id, text: p.name }));
  for (const p of segment?.projects ?? [])
    if (!projectItems.some((i) => i.id === p.id)) projectItems.push({ id: p.id, text: p.name });

  const definition = (
    <div className="trellis-builder">
      <div className="trellis-builder__main">
        <FormMessages errors={form.errors} />
        <section aria-labelledby="segment-filters" className="trellis-panel">
          <h2 id="segment-filters" className="trellis-h2">
            Filters
          </h2>
          {loadingCatalog ? <PageLoading label="Loading filter types" /> : null}
          {types.isError ? (
            <InlineNotification
              kind="error"
              title="Could not load the filter types"
              subtitle={describeError(types.error)}
              hideCloseButton
              lowContrast
            />
          ) : null}
          {!loadingCatalog ? (
            <FilterBuilder
              value={draft.filters}
              onChange={(f) => set("filters", f)}
              catalog={catalog}
              errors={conditionErrors}
              readOnly={!editable}
            />
          ) : null}
        </section>
      </div>
      <aside className="trellis-builder__side" aria-label="Segment settings">
        <Tile className="trellis-count" aria-live="polite">
          <span className="trellis-muted">Matching contacts now</span>
          <span className="trellis-count__value" data-testid="live-count">
            {count.isFetching && !count.data ? "…" : count.isError ? "—" : (count.data?.count ?? 0).toLocaleString()}
          </span>
          {count.isFetching ? <InlineLoading description="Counting…" /> : null}
          {count.isError ? (
            <p className="trellis-error">
              {countProblem?.errors.length ? "Fix the conditions marked in red." : describeError(count.error)}
            </p>
          ) : null}
          {segment ? (
            <p className="trellis-muted">
              {segment.member_count.toLocaleString()} members · built {formatDateTime(segment.last_built_at)}
            </p>
          ) : null}
        </Tile>
        <Stack gap={5}>
          <TextInput
            id="segment-name"
            labelText="Name"
            value={draft.name}
            disabled={!editable}
            onChange={(e) => {
              const name = e.target.value;
              setDraft((d) => ({ ...d, name, alias: aliasTouched ? d.alias : segmentAlias(name) }));
            }}
            {...form.fieldProps("name")}
          />
          <TextInput
            id="segment-alias"
            labelText="Alias"
            value={draft.alias}
            disabled={!editable}
            helperText="Lower case letters, digits, - and _; unique."
            onChange={(e) => {
              setAliasTouched(true);
              set("alias", e.target.value);
            }}
            {...form.fieldProps("alias")}
          />
          <TextArea
            id="segment-description"
            labelText="Description"
            rows={2}
            value={draft.description}
            disabled={!editable}
            onChange={(e) => set("description", e.target.value)}
            {...form.fieldProps("description")}
          />
          <Checkbox
            id="segment-public"
            labelText="Public (contacts may see and leave it in preference centres)"
            checked={draft.is_public}
            disabled={!editable}
            onChange={(_e, { checked }) => set("is_public", checked)}
          />
          <Checkbox
            id="segment-published"
            labelText="Published (rebuilt on schedule and usable by campaigns)"
            checked={draft.is_published}
            disabled={!editable}
            onChange={(_e, { checked }) => set("is_published", checked)}
          />
          {projectItems.length > 0 ? (
            <MultiSelect<{ id: number; text: string }>
              id="segment-projects"
              titleText="Projects"
              label={draft.projects.length ? `${draft.projects.length} selected` : "None"}
              items={projectItems}
              itemToString={(i) => i?.text ?? ""}
              selectedItems={projectItems.filter((i) => draft.projects.includes(i.id))}
              sortItems={(list) => [...list]}
              onChange={({ selectedItems }) =>
                set(
                  "projects",
                  (selectedItems ?? []).map((i) => i.id),
                )
              }
              disabled={!editable}
              {...form.fieldProps("projects")}
            />
          ) : null}
          {editable ? (
            <div className="trellis-actions">
              <Button
                renderIcon={Save}
                disabled={busy || !draft.name.trim() || (segment !== null && !dirty)}
                onClick={() => void save()}
              >
                {busy ? "Saving…" : segment ? "Save" : "Create segment"}
              </Button>
              {segment ? (
                <Button
                  kind="tertiary"
                  renderIcon={Renew}
                  disabled={rebuilding || dirty}
                  onClick={() => void rebuild()}
                  title={dirty ? "Save the changes first" : undefined}
                >
                  {rebuilding ? "Rebuilding…" : "Rebuild now"}
                </Button>
              ) : null}
            </div>
          ) : null}
          {segment && dirty && editable ? (
            <p className="trellis-muted">Unsaved changes. Save to rebuild with them.</p>
          ) : null}
        </Stack>
      </aside>
    </div>
  );

  return (
    <>
      <UnsavedChangesPrompt dirty={dirty} what="segment changes" />
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/segments">Segments</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <RestoreDraftBanner
        draft={offeredDraft}
        onRestore={(value) => {
          setDraft(value);
          localDraft.settle(false);
        }}
        onDiscard={() => localDraft.settle(true)}
      />
      <PageHeader
        title={segment ? segment.name : "New segment"}
        description={
          segment ? (
            <>
              <code>{segment.alias}</code>
              {segment.description ? ` · ${segment.description}` : ""}
            </>
          ) : (
            "Describe who belongs in the segment; the count updates as you edit."
          )
        }
        actions={
          deletable ? (
            <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setDeleting(true)}>
              Delete
            </Button>
          ) : undefined
        }
      />
      {segment ? (
        <Tabs>
          <TabList aria-label="Segment sections">
            <Tab>Definition</Tab>
            <Tab>Members ({segment.member_count.toLocaleString()})</Tab>
          </TabList>
          <TabPanels>
            <TabPanel>{definition}</TabPanel>
            <TabPanel>
              <SegmentMembers segment={segment} editable={editable} />
            </TabPanel>
          </TabPanels>
        </Tabs>
      ) : (
        definition
      )}
      {segment ? (
        <ConfirmDelete
          open={deleting}
          title={`Delete ${segment.name}?`}
          body="The segment and its membership are deleted. Contacts are kept. A segment another segment's filter uses cannot be deleted."
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await api.DELETE("/api/v2/segments/{segment_id}", {
              params: { path: { segment_id: segment.id } },
              headers: ifMatch(segment.version),
            });
            notify("success", "Segment deleted", segment.name);
            queryClient.removeQueries({ queryKey: ["segments", "detail", segment.id] });
            await queryClient.invalidateQueries({ queryKey: ["segments"] });
            void navigate("/segments");
          }}
        />
      ) : null}
    </>
  );
}
