/**
 * The campaign builder: palette, canvas and settings panel. Routes /campaigns/new and
 * /campaigns/:campaignId/edit. The document is edited locally with undo/redo and saved whole
 * (PUT /campaigns/{id}); publishing asks first and says who would enter; a watch mode shows the
 * read-only canvas with live counts.
 */
import "./builder.scss";
import { CheckmarkOutline, Pause, Redo, Rocket, Save, TreeViewAlt, Undo } from "@carbon/icons-react";
import { Button, ContentSwitcher, InlineNotification, Switch, Tag } from "@carbon/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../../api/client";
import { ApiProblem, describeError } from "../../api/problem";
import { PageHeader, PageLoading } from "../../components/common";
import { useToast } from "../../components/Toasts";
import { CampaignCanvas, type StepCounts } from "../canvas/CampaignCanvas";
import { StepPicker, STEP_MIME } from "../canvas/StepPicker";
import type { CampaignDoc, CampaignRead, EventTypeInfo, StepDoc } from "../canvas/types";
import {
  addStep,
  emptyDoc,
  fromRead,
  movePositions,
  placeFor,
  removeSteps,
  SOURCES_ID,
  toSave,
  updateStep,
} from "../lib/doc";
import { sourceKey } from "../lib/flow";
import { connectionRefusal, indexTypes, localProblems, outputsOf, type GraphProblem } from "../lib/graph";
import { createHistory, record, redo, reset, undo, type History } from "../lib/history";
import { autoLayout } from "../lib/layout";
import { locate, waitingOnRemoved, type LocatedProblem } from "../lib/pointers";
import { CampaignSettings } from "./CampaignSettings";
import { PublishDialog, RedirectDialog, type RemovedChoice } from "./dialogs";
import { useFormsList } from "../../forms/api";
import { useSegmentsList } from "./pickers";
import { StepPanel } from "./StepPanel";
import { announceCreated } from "../../components/EntityPicker";
import { RestoreDraftBanner, UnsavedChangesPrompt, useLocalDraft } from "../../components/UnsavedChanges";

function useEventTypes() {
  return useQuery({
    queryKey: ["campaigns", "event-types"],
    queryFn: async () => ok(await api.GET("/api/v2/event-types")),
    staleTime: 300_000,
  });
}

export function CampaignBuilderPage() {
  const params = useParams();
  const id = params.campaignId === undefined ? null : Number(params.campaignId);
  // A campaign created on this page keeps its builder (and undo history) when the URL follows.
  const createdHere = useRef<number | null>(null);
  // eslint-disable-next-line react-hooks/refs -- the id this page created, kept across the URL change it causes
  const ownKey = id === null || id === createdHere.current ? "new" : String(id);
  const types = useEventTypes();
  const campaign = useQuery({
    queryKey: ["campaigns", "detail", id],
    queryFn: async () =>
      ok(await api.GET("/api/v2/campaigns/{campaign_id}", { params: { path: { campaign_id: id! } } })),
    enabled: id !== null && Number.isInteger(id) && ownKey !== "new",
  });
  if (types.isPending || (ownKey !== "new" && campaign.isPending)) return <PageLoading />;
  const error = types.error ?? (ownKey !== "new" ? campaign.error : null);
  if (error || !types.data || (ownKey !== "new" && !campaign.data)) {
    return (
      <>
        <PageHeader title="Campaign builder" />
        <InlineNotification
          kind="error"
          title="Could not load the campaign"
          subtitle={describeError(error)}
          hideCloseButton
        />
      </>
    );
  }
  return (
    <Builder
      key={ownKey}
      saved={ownKey === "new" ? null : (campaign.data ?? null)}
      eventTypes={types.data}
      onCreated={(newId) => {
        createdHere.current = newId;
      }}
    />
  );
}

function isEditable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

interface ServerProblems {
  problems: LocatedProblem[];
  /** The document they were found in: a problem of a step shows until the step changes. */
  doc: CampaignDoc;
}

function Builder({
  saved: initial,
  eventTypes,
  onCreated,
}: {
  saved: CampaignRead | null;
  eventTypes: EventTypeInfo[];
  onCreated: (id: number) => void;
}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const types = useMemo(() => indexTypes(eventTypes), [eventTypes]);
  const [saved, setSaved] = useState<CampaignRead | null>(initial);
  const [history, setHistory] = useState<History<CampaignDoc>>(() =>
    createHistory(initial ? fromRead(initial) : { ...emptyDoc(), name: "New campaign" }),
  );
  const doc = history.present;
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [server, setServer] = useState<ServerProblems | null>(null);
  const [busy, setBusy] = useState<"save" | "validate" | "publish" | null>(null);
  const [banner, setBanner] = useState<{ kind: "error" | "success" | "warning"; title: string; text: string } | null>(
    null,
  );
  const [publishOpen, setPublishOpen] = useState(false);
  const [waiting, setWaiting] = useState<Record<string, number> | null>(null);
  const [mode, setMode] = useState<"edit" | "watch">("edit");
  const [fitToken, setFitToken] = useState(0);
  const segments = useSegmentsList();
  const forms = useFormsList(doc.sources.some((s) => s.kind === "form"));

  const edit = useCallback(
    (next: CampaignDoc, group: string | null = null) => setHistory((h) => record(h, next, group)),
    [],
  );
  const savedDoc = useMemo(() => (saved ? JSON.stringify(toSave(fromRead(saved))) : null), [saved]);
  const dirty = savedDoc === null || JSON.stringify(toSave(doc)) !== savedDoc;
  const dirtyRef = useRef(dirty);
  // eslint-disable-next-line react-hooks/refs -- a latest-value ref read by callbacks; moving it into an effect needs the builder's state sync reworked (issue 18)
  dirtyRef.current = dirty;
  const localDraft = useLocalDraft(`campaign:${saved?.id ?? "new"}`, doc, dirty);
  const offeredDraft =
    localDraft.offered && JSON.stringify(toSave(localDraft.offered.value)) !== savedDoc ? localDraft.offered : null;

  const sourceNames = useMemo(
    () =>
      Object.fromEntries([
        ...(segments.data ?? []).map((s): [string, string] => [sourceKey({ kind: "segment", id: s.id }), s.name]),
        ...(forms.data ?? []).map((f): [string, string] => [sourceKey({ kind: "form", id: f.id }), f.name]),
      ]),
    [segments.data, forms.data],
  );

  const problems = useMemo(() => {
    const local: GraphProblem[] = localProblems(doc, types);
    const fromServer = (server?.problems ?? []).filter((p) => {
      if (p.event === null) return true;
      const then = server!.doc.events.find((e) => e.key === p.event);
      const now = doc.events.find((e) => e.key === p.event);
      // Edge problems stay while the step's incoming edge is the same.
      return (
        !!now &&
        then === now &&
        server!.doc.edges.find((e) => e.target === p.event) === doc.edges.find((e) => e.target === p.event)
      );
    });
    const seen = new Set<string>();
    const merged: LocatedProblem[] = [];
    for (const p of [...fromServer, ...local]) {
      const id = `${p.event}|${p.detail}`;
      if (seen.has(id)) continue;
      seen.add(id);
      merged.push(p);
    }
    return merged;
    // Positions (doc.canvas) do not change problems: recomputing them on every move would not pay.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [doc.events, doc.edges, doc.sources, types, server]);
  const canvasProblems = useMemo(
    () => problems.filter((p) => p.event !== null || ("setting" in p && p.setting?.startsWith("sources"))),
    [problems],
  );

  const stats = useQuery({
    queryKey: ["campaigns", saved?.id, "stats"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/campaigns/{campaign_id}/stats", { params: { path: { campaign_id: saved!.id } } })),
    enabled: mode === "watch" && !!saved,
    refetchInterval: mode === "watch" ? 3000 : false,
  });

  const applySaved = useCallback(
    (read: CampaignRead) => {
      setSaved(read);
      queryClient.setQueryData(["campaigns", "detail", read.id], read);
      void queryClient.invalidateQueries({ queryKey: ["campaigns", "all"] });
      // Keep the undo history; the present takes the server's view (normalised timing, ids).
      setHistory((h) => reset(h, fromRead(read)));
    },
    [queryClient],
  );

  const showProblems = useCallback(
    (errors: { pointer: string; detail: string }[], title: string) => {
      const located = locate(errors, doc);
      setServer({ problems: located, doc });
      const onSteps = located.filter((p) => p.event !== null).length;
      setBanner({
        kind: "error",
        title,
        text: `${located.length} problem${located.length === 1 ? "" : "s"}${onSteps ? `, ${onSteps} on steps (marked on the canvas)` : ""}: ${located
          .slice(0, 3)
          .map((p) => p.detail)
          .join(" ")}${located.length > 3 ? " …" : ""}`,
      });
      const first = located.find((p) => p.event !== null);
      if (first?.event) setSelectedKey(first.event);
    },
    [doc],
  );

  const save = useCallback(
    async (onDelete?: Record<string, RemovedChoice>): Promise<CampaignRead | null> => {
      setBusy("save");
      setBanner(null);
      try {
        const body = toSave(doc);
        let read: CampaignRead;
        if (!saved) {
          read = ok(await api.POST("/api/v2/campaigns", { body }));
          onCreated(read.id);
          announceCreated("campaign", read.id, read.name);
          void navigate(`/campaigns/${read.id}/edit`, { replace: true });
        } else {
          read = ok(
            await api.PUT("/api/v2/campaigns/{campaign_id}", {
              params: { path: { campaign_id: saved.id } },
              headers: ifMatch(saved.version),
              body: onDelete ? { ...body, on_delete: onDelete } : body,
            }),
          );
        }
        applySaved(read);
        setServer(null);
        setWaiting(null);
        notify(
          "success",
          saved ? "Campaign saved" : "Campaign created",
          read.is_published ? "The changes apply now." : "Saved as a draft.",
        );
        return read;
      } catch (error) {
        if (
          error instanceof ApiProblem &&
          error.status === 409 &&
          error.errors.some((e) => e.pointer.startsWith("/on_delete/"))
        ) {
          setWaiting(waitingOnRemoved(error.errors));
        } else if (error instanceof ApiProblem && error.status === 422 && error.errors.length) {
          showProblems(error.errors, "Could not save");
        } else if (error instanceof ApiProblem && error.status === 412) {
          setBanner({
            kind: "error",
            title: "Changed by someone else",
            text: "Reload the page to see their changes; yours are not saved.",
          });
        } else {
          setBanner({ kind: "error", title: "Could not save", text: describeError(error) });
        }
        return null;
      } finally {
        setBusy(null);
      }
    },
    [doc, saved, navigate, applySaved, notify, showProblems, onCreated],
  );

  const validate = useCallback(async () => {
    setBusy("validate");
    setBanner(null);
    try {
      const { on_delete: _ignored, ...body } = toSave(doc);
      void _ignored;
      const report = ok(await api.POST("/api/v2/campaigns/validate", { body }));
      if (report.valid) {
        setServer({ problems: [], doc });
        setBanner({ kind: "success", title: "Ready to publish", text: "No problems found." });
      } else {
        showProblems(
          report.errors.map((e) => ({ pointer: e.pointer ?? "", detail: e.detail ?? "" })),
          "The campaign has problems",
        );
      }
    } catch (error) {
      if (error instanceof ApiProblem && error.errors.length) showProblems(error.errors, "The campaign has problems");
      else setBanner({ kind: "error", title: "Could not validate", text: describeError(error) });
    } finally {
      setBusy(null);
    }
  }, [doc, showProblems]);

  const startPublish = useCallback(async () => {
    const read = dirtyRef.current || !saved ? await save() : saved;
    if (read) setPublishOpen(true);
  }, [save, saved]);

  const publish = useCallback(
    async (on: boolean) => {
      if (!saved) return;
      setBusy("publish");
      try {
        const path = on ? "/api/v2/campaigns/{campaign_id}/publish" : "/api/v2/campaigns/{campaign_id}/unpublish";
        const read = ok(await api.POST(path, { params: { path: { campaign_id: saved.id } } }));
        applySaved(read);
        setPublishOpen(false);
        notify("success", on ? "Campaign published" : "Campaign unpublished");
        if (on) setMode("watch");
      } catch (error) {
        setPublishOpen(false);
        if (error instanceof ApiProblem && error.errors.length) showProblems(error.errors, "Could not publish");
        else
          setBanner({
            kind: "error",
            title: on ? "Could not publish" : "Could not unpublish",
            text: describeError(error),
          });
      } finally {
        setBusy(null);
      }
    },
    [saved, applySaved, notify, showProblems],
  );

  const doUndo = useCallback(() => setHistory((h) => undo(h)), []);
  const doRedo = useCallback(() => setHistory((h) => redo(h)), []);
  const layout = useCallback(() => {
    edit(movePositions(doc, autoLayout(doc, types)));
    setFitToken((t) => t + 1);
  }, [doc, types, edit]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      if (!mod || isEditable(event.target) || mode !== "edit") return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) {
        event.preventDefault();
        doUndo();
      } else if ((key === "z" && event.shiftKey) || key === "y") {
        event.preventDefault();
        doRedo();
      } else if (key === "s") {
        event.preventDefault();
        void save();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [doUndo, doRedo, save, mode]);

  /** Palette click or Enter: under the selected step's first free output when allowed, else loose. */
  const addFromPalette = useCallback(
    (type: EventTypeInfo) => {
      const probe = "__palette_probe__";
      const withProbe: CampaignDoc = { ...doc, events: [...doc.events, { key: probe, type: type.key, config: {} }] };
      let parent: { source: string | null; path: string | null } | null = null;
      let outputs: (string | null)[] = [null];
      const from = selectedKey ?? (doc.events.length === 0 ? SOURCES_ID : null);
      if (from) {
        const step = doc.events.find((e) => e.key === from);
        outputs = from === SOURCES_ID ? [null] : step ? outputsOf(step, types) : [];
        const source = from === SOURCES_ID ? null : from;
        const used = new Set(doc.edges.filter((e) => (e.source ?? null) === source).map((e) => e.path ?? null));
        const candidates = [...outputs.filter((o) => !used.has(o)), ...outputs.filter((o) => used.has(o))];
        const path = candidates.find(
          (o) => connectionRefusal(withProbe, types, { source, path: o, target: probe }) === null,
        );
        if (path !== undefined) parent = { source, path };
      }
      const key = crypto.randomUUID();
      edit(addStep(doc, type, types, { key, position: placeFor(doc, parent, outputs), ...(parent ? { parent } : {}) }));
      setSelectedKey(key);
    },
    [doc, selectedKey, types, edit],
  );

  const selected = selectedKey ? doc.events.find((e) => e.key === selectedKey) : undefined;
  // Stable callbacks (reading the latest document from the history) let the panels skip
  // redrawing while nodes are dragged.
  const onStepChange = useCallback(
    (patch: Partial<StepDoc>, group: string) =>
      setHistory((h) => (selectedKey ? record(h, updateStep(h.present, selectedKey, patch), group) : h)),
    [selectedKey],
  );
  const onStepDelete = useCallback(() => {
    if (!selectedKey) return;
    setHistory((h) => record(h, removeSteps(h.present, [selectedKey])));
    setSelectedKey(null);
  }, [selectedKey]);
  const onSettingsChange = useCallback(
    (patch: Partial<CampaignDoc>, group: string) => setHistory((h) => record(h, { ...h.present, ...patch }, group)),
    [],
  );
  const removedSteps = useMemo(() => {
    const before = saved ? fromRead(saved).events : [];
    return Object.fromEntries(
      before.filter((e) => !doc.events.some((d) => d.key === e.key)).map((e) => [e.key, e] as [string, StepDoc]),
    );
  }, [saved, doc.events]);
  const watching = mode === "watch" && !!saved;
  const counts = stats.data ?? undefined;

  return (
    <div className="trellis-cb">
      <UnsavedChangesPrompt dirty={dirty} what="campaign changes" />
      <RestoreDraftBanner
        draft={offeredDraft}
        onRestore={(value) => {
          edit(value);
          localDraft.settle(false);
        }}
        onDiscard={() => localDraft.settle(true)}
      />
      <div className="trellis-cb__header">
        <div>
          <p className="trellis-cb__crumbs">
            <Link to="/campaigns">Campaigns</Link>
          </p>
          <h1 className="trellis-cb__name">
            {doc.name || "Untitled campaign"}{" "}
            {saved ? (
              saved.is_published ? (
                <Tag type="green" size="sm">
                  Published
                </Tag>
              ) : (
                <Tag type="gray" size="sm">
                  Draft
                </Tag>
              )
            ) : (
              <Tag type="outline" size="sm">
                Not saved yet
              </Tag>
            )}
            {dirty && saved ? (
              <Tag type="warm-gray" size="sm">
                Unsaved changes
              </Tag>
            ) : null}
          </h1>
        </div>
        <div className="trellis-cb__actions">
          {saved ? (
            <ContentSwitcher
              size="sm"
              selectedIndex={watching ? 1 : 0}
              onChange={({ name }) => setMode(name === "watch" ? "watch" : "edit")}
              className="trellis-cb__mode"
            >
              <Switch name="edit" text="Edit" />
              <Switch name="watch" text="Watch" />
            </ContentSwitcher>
          ) : null}
          {watching ? null : (
            <>
              <Button
                kind="ghost"
                size="sm"
                hasIconOnly
                renderIcon={Undo}
                iconDescription="Undo (Ctrl+Z)"
                disabled={!history.past.length}
                onClick={doUndo}
              />
              <Button
                kind="ghost"
                size="sm"
                hasIconOnly
                renderIcon={Redo}
                iconDescription="Redo (Ctrl+Shift+Z)"
                disabled={!history.future.length}
                onClick={doRedo}
              />
              <Button kind="ghost" size="sm" renderIcon={TreeViewAlt} onClick={layout}>
                Tidy up
              </Button>
              <Button
                kind="tertiary"
                size="sm"
                renderIcon={CheckmarkOutline}
                disabled={busy !== null}
                onClick={() => void validate()}
              >
                Validate
              </Button>
              <Button
                kind={saved?.is_published ? "primary" : "secondary"}
                size="sm"
                renderIcon={Save}
                disabled={busy !== null || (!dirty && !!saved)}
                onClick={() => void save()}
              >
                {busy === "save" ? "Saving…" : saved?.is_published ? "Save changes" : "Save draft"}
              </Button>
            </>
          )}
          {saved?.is_published ? (
            <Button
              kind="danger--tertiary"
              size="sm"
              renderIcon={Pause}
              disabled={busy !== null}
              onClick={() => void publish(false)}
            >
              Unpublish
            </Button>
          ) : (
            <Button
              kind="primary"
              size="sm"
              renderIcon={Rocket}
              disabled={busy !== null}
              onClick={() => void startPublish()}
            >
              Publish
            </Button>
          )}
        </div>
      </div>
      {banner ? (
        <InlineNotification
          className="trellis-cb__banner"
          kind={banner.kind}
          title={banner.title}
          subtitle={banner.text}
          lowContrast
          onClose={() => {
            setBanner(null);
            return false;
          }}
        />
      ) : null}
      <div className={`trellis-cb__body${watching ? " trellis-cb__body--watch" : ""}`}>
        {watching ? null : (
          <aside className="trellis-cb__palette" aria-label="Steps palette">
            <h2 className="trellis-cb__palette-title">Add a step</h2>
            <p className="trellis-cb__helper">Drag onto the canvas, or press Enter to add under the selected step.</p>
            <StepPicker id="palette" label="Steps" types={eventTypes} draggable onPick={addFromPalette} />
          </aside>
        )}
        <div className="trellis-cb__canvas" data-mime={STEP_MIME}>
          {watching ? (
            <CampaignCanvas
              key={`watch-${fitToken}`}
              doc={doc}
              eventTypes={eventTypes}
              readOnly
              counts={counts ?? {}}
              sourceNames={sourceNames}
              onSelectStep={setSelectedKey}
              height="100%"
            />
          ) : (
            <CampaignCanvas
              key={`edit-${fitToken}`}
              doc={doc}
              eventTypes={eventTypes}
              onChange={(next) => edit(next)}
              onSelectStep={setSelectedKey}
              selectedKey={selectedKey}
              problems={canvasProblems}
              sourceNames={sourceNames}
              height="100%"
            />
          )}
          {watching && stats.isError ? (
            <InlineNotification
              kind="error"
              lowContrast
              title="Counts unavailable"
              subtitle={describeError(stats.error)}
              hideCloseButton
            />
          ) : null}
        </div>
        <aside className="trellis-cb__panel" aria-label={selected ? "Step settings" : "Campaign settings"}>
          {selected ? (
            <StepPanel
              key={selected.key}
              events={doc.events}
              edges={doc.edges}
              step={selected}
              info={types.get(selected.type)}
              types={types}
              problems={problems}
              readOnly={watching}
              onChange={onStepChange}
              onDelete={onStepDelete}
            />
          ) : (
            <CampaignSettings doc={doc} readOnly={watching} problems={problems} onChange={onSettingsChange} />
          )}
          {watching && selected && counts?.[selected.key] ? <WatchCounts counts={counts[selected.key]!} /> : null}
        </aside>
      </div>
      {saved ? (
        <PublishDialog
          campaignId={saved.id}
          doc={doc}
          open={publishOpen}
          busy={busy === "publish"}
          onConfirm={() => void publish(true)}
          onClose={() => setPublishOpen(false)}
        />
      ) : null}
      <RedirectDialog
        waiting={waiting}
        removed={removedSteps}
        doc={doc}
        types={types}
        busy={busy === "save"}
        onClose={() => setWaiting(null)}
        onConfirm={(choices) => void save(choices)}
      />
    </div>
  );
}

function WatchCounts({ counts }: { counts: StepCounts }) {
  const rows: [string, number][] = [
    ["Scheduled", counts.scheduled],
    ["Waiting", counts.waiting],
    ["Done", counts.done],
    ["Done with a warning", counts.warned],
    ["Failed, will retry", counts.failed],
    ["Failed for good", counts.dead],
    ["Yes", counts.yes],
    ["No", counts.no],
    ["Cancelled", counts.cancelled],
  ];
  return (
    <dl className="trellis-cb__watch-counts" aria-label="Contacts at this step">
      {rows.map(([label, n]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{n.toLocaleString()}</dd>
        </div>
      ))}
    </dl>
  );
}
