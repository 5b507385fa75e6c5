import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  InlineNotification,
  Modal,
  Tab,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableHeader,
  TableRow,
  TabList,
  TabPanel,
  TabPanels,
  Tabs,
  Tile,
} from "@carbon/react";
import { Copy, Edit, Pause, Play, TrashCan } from "@carbon/icons-react";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { useAuth } from "../../auth/AuthContext";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { formatDateTime, PageHeader, PageLoading } from "../../components/common";
import { useToast } from "../../components/Toasts";
import { can, canAny, canView } from "../../lib/permissions";
import { RESOURCES } from "../../lib/resources";
import { CampaignCanvas } from "../canvas/CampaignCanvas";
import { CampaignAudit } from "./CampaignAudit";
import { CampaignContacts, ContactTrace } from "./CampaignContacts";
import { CampaignFailures } from "./CampaignFailures";
import { CampaignStatusTag } from "./CampaignsPage";
import { totalCounts, ZERO } from "./format";
import { decidedNote, summarizeCounts } from "../lib/stepCounts";
import { CAMPAIGNS, type Campaign, type CampaignStats } from "./types";
import "./views.scss";
import { useFormsList } from "../../forms/api";
import { StepTypeLabel, useEventTypes, useStepTypeIndex } from "../lib/stepTypes";

const TABS = ["overview", "contacts", "audit", "failures"] as const;
type TabName = (typeof TABS)[number];
/** How often the counts on the nodes refresh while the page is open. */
export const STATS_POLL_MS = 3000;

export const campaignKey = (id: number) => ["campaigns", "detail", id] as const;
export const statsKey = (id: number) => ["campaigns", "stats", id] as const;

export { useEventTypes };

/** "segment:12" -> the segment's name, for the source node. */
function useSourceNames(campaign: Campaign | undefined, enabled: boolean): Record<string, string> {
  const ids = (campaign?.sources ?? []).filter((s) => s.kind === "segment").map((s) => s.id);
  const results = useQueries({
    queries: ids.map((id) => ({
      queryKey: ["segments", "detail", id],
      queryFn: async () => ok(await api.GET("/api/v2/segments/{segment_id}", { params: { path: { segment_id: id } } })),
      enabled,
      staleTime: 60_000,
    })),
  });
  const hasForms = (campaign?.sources ?? []).some((s) => s.kind === "form");
  const forms = useFormsList(hasForms);
  const names: Record<string, string> = {};
  ids.forEach((id, i) => {
    const segment = results[i]?.data;
    if (segment) names[`segment:${id}`] = segment.name;
  });
  for (const f of forms.data ?? []) names[`form:${f.id}`] = f.name;
  return names;
}

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="trellis-campaign-figure">
      <span className="trellis-muted">{label}</span>
      <span className="trellis-campaign-figure__value" aria-label={`${label}: ${value}`}>
        {value}
      </span>
      {hint ? <span className="trellis-muted">{hint}</span> : null}
    </div>
  );
}

function StepTable({ campaign, stats }: { campaign: Campaign; stats: CampaignStats | undefined }) {
  const n = (v: number) => v.toLocaleString();
  const typeIndex = useStepTypeIndex();
  return (
    <TableContainer
      title="Steps"
      description="The same counts as on the canvas (one reading of the same figures), refreshed every few seconds. Percentages are of the contacts already decided."
    >
      <Table aria-label="Step counts" size="sm">
        <TableHead>
          <TableRow>
            <TableHeader>Step</TableHeader>
            <TableHeader>Timing</TableHeader>
            <TableHeader>Scheduled / waiting</TableHeader>
            <TableHeader>Done</TableHeader>
            <TableHeader>Failed</TableHeader>
            <TableHeader>Dead</TableHeader>
            <TableHeader>Yes</TableHeader>
            <TableHeader>No</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {campaign.events.length === 0 ? (
            <TableRow>
              <TableCell colSpan={8}>
                <span className="trellis-muted">No steps yet.</span>
              </TableCell>
            </TableRow>
          ) : null}
          {campaign.events.map((e) => {
            const c = summarizeCounts(stats?.[e.key] ?? ZERO);
            const branching = e.kind === "condition" || e.kind === "decision";
            return (
              <TableRow key={e.key} data-step={e.key}>
                <TableCell>
                  <strong>{e.name || typeIndex.get(e.type)?.label || e.type}</strong>
                  <div className="trellis-muted">
                    <StepTypeLabel type={e.type} kind={e.kind} index={typeIndex} />
                  </div>
                  {branching ? (
                    <div className="trellis-muted" data-count="decided">
                      {decidedNote(c)}
                    </div>
                  ) : null}
                </TableCell>
                <TableCell>{e.timing_label}</TableCell>
                <TableCell data-count="pending">{n(c.pending)}</TableCell>
                <TableCell data-count="done">{n(c.done)}</TableCell>
                <TableCell data-count="failed">{n(c.failed)}</TableCell>
                <TableCell data-count="dead">{n(c.dead)}</TableCell>
                <TableCell data-count="yes">
                  {branching ? `${n(c.yes)}${c.yesPercent === null ? "" : ` (${c.yesPercent}%)`}` : "—"}
                </TableCell>
                <TableCell data-count="no">
                  {branching ? `${n(c.no)}${c.noPercent === null ? "" : ` (${c.noPercent}%)`}` : "—"}
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

function SourceList({ campaign, sourceNames }: { campaign: Campaign; sourceNames: Record<string, string> }) {
  return (
    <ul className="trellis-campaign-sources">
      {campaign.sources.map((s) => (
        <li key={`${s.kind}:${s.id}`}>
          {s.kind === "segment" ? (
            <Link to={`/segments/${s.id}`}>{sourceNames[`segment:${s.id}`] ?? `Segment ${s.id}`}</Link>
          ) : (
            <Link to={`/forms/${s.id}`}>{sourceNames[`form:${s.id}`] ?? `Form ${s.id}`}</Link>
          )}
          <span className="trellis-muted">
            {s.kind === "form"
              ? " · form: enters on each submission"
              : s.audience === "locked"
                ? ` · locked audience${s.locked_at ? ` (as of ${formatDateTime(s.locked_at)})` : " (locks when published)"}`
                : " · live audience"}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Overview({
  campaign,
  stats,
  sourceNames,
}: {
  campaign: Campaign;
  stats: CampaignStats | undefined;
  sourceNames: Record<string, string>;
}) {
  const eventTypes = useEventTypes();
  const total = totalCounts(stats);
  const counts = stats;
  return (
    <div className="trellis-campaign-overview">
      <div className="trellis-campaign-figures" role="group" aria-label="Campaign summary">
        <Figure label="Active members" value={campaign.members.toLocaleString()} />
        <Figure
          label="Waiting"
          value={(total.scheduled + total.waiting).toLocaleString()}
          hint="scheduled steps and open decisions"
        />
        <Figure label="Steps done" value={(total.done + total.warned + total.yes + total.no).toLocaleString()} />
        <Figure
          label="Dead steps"
          value={total.dead.toLocaleString()}
          hint={total.failed ? `${total.failed.toLocaleString()} failed attempts` : undefined}
        />
      </div>
      <div className="trellis-campaign-canvas" aria-label="Campaign canvas with counts" role="region">
        {eventTypes.data ? (
          <CampaignCanvas
            doc={campaign}
            eventTypes={eventTypes.data}
            readOnly
            counts={counts}
            sourceNames={sourceNames}
            height={520}
          />
        ) : eventTypes.isError ? (
          <InlineNotification
            kind="error"
            title="Could not load the step types"
            subtitle={describeError(eventTypes.error)}
            hideCloseButton
            lowContrast
          />
        ) : (
          <PageLoading label="Loading the canvas" />
        )}
      </div>
      <div className="trellis-campaign-details">
        <StepTable campaign={campaign} stats={stats} />
        <Tile className="trellis-campaign-settings-tile">
          <h2 className="trellis-h3">Settings</h2>
          <dl className="trellis-campaign-settings">
            <dt>Sources</dt>
            <dd>
              {campaign.sources.length === 0 ? (
                <span className="trellis-muted">None: contacts enter only when added.</span>
              ) : (
                <SourceList campaign={campaign} sourceNames={sourceNames} />
              )}
            </dd>
            <dt>Publish window</dt>
            <dd>
              {campaign.publish_up || campaign.publish_down
                ? `${formatDateTime(campaign.publish_up)} – ${formatDateTime(campaign.publish_down)}`
                : "Always, while published"}
            </dd>
            <dt>Restarts</dt>
            <dd>{campaign.allow_restart ? "Contacts may go through again" : "Once per contact"}</dd>
            <dt>Leaving the source</dt>
            <dd>{campaign.exit_on_source_leave ? "Ends the journey" : "The journey goes on"}</dd>
            <dt>Last published</dt>
            <dd>{formatDateTime(campaign.last_published_at)}</dd>
          </dl>
        </Tile>
      </div>
    </div>
  );
}

function PublishModal({
  campaign,
  open,
  onClose,
  onDone,
}: {
  campaign: Campaign;
  open: boolean;
  onClose: () => void;
  onDone: (c: Campaign) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const preview = useQuery({
    queryKey: ["campaigns", "publish-preview", campaign.id],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/campaigns/{campaign_id}/publish-preview", {
          params: { path: { campaign_id: campaign.id } },
        }),
      ),
    enabled: open,
    staleTime: 0,
  });
  async function publish() {
    setBusy(true);
    setError(null);
    try {
      onDone(
        ok(
          await api.POST("/api/v2/campaigns/{campaign_id}/publish", {
            params: { path: { campaign_id: campaign.id } },
          }),
        ),
      );
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={open}
      size="sm"
      modalHeading={`Publish ${campaign.name}?`}
      primaryButtonText={busy ? "Publishing…" : "Publish"}
      primaryButtonDisabled={busy}
      secondaryButtonText="Cancel"
      onRequestClose={() => {
        setError(null);
        onClose();
      }}
      onRequestSubmit={() => void publish()}
    >
      {error ? (
        <InlineNotification kind="error" title="Could not publish" subtitle={error} hideCloseButton lowContrast />
      ) : null}
      {preview.isPending ? <p className="trellis-muted">Counting who would enter…</p> : null}
      {preview.isError ? <p className="trellis-muted">{describeError(preview.error)}</p> : null}
      {preview.data ? (
        <>
          <p>
            <strong>{preview.data.entering_now.toLocaleString()}</strong> contact(s) enter now and start at its first
            steps.
          </p>
          {preview.data.sources.length ? (
            <ul className="trellis-campaign-sources">
              {preview.data.sources.map((s) => (
                <li key={s.id}>
                  {s.name}: {s.count.toLocaleString()} contact(s),{" "}
                  {s.audience === "locked"
                    ? "locked audience (nobody joins later)"
                    : "live audience (contacts who join later enter too)"}
                </li>
              ))}
            </ul>
          ) : (
            <p className="trellis-muted">
              The campaign has no source: contacts enter only when added by hand, the API or a step.
            </p>
          )}
        </>
      ) : null}
    </Modal>
  );
}

export function CampaignPage() {
  const params = useParams();
  const campaignId = Number(params.campaignId);
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const [modal, setModal] = useState<null | "publish" | "unpublish" | "delete">(null);
  const tab: TabName = (TABS as readonly string[]).includes(search.get("tab") ?? "")
    ? (search.get("tab") as TabName)
    : "overview";
  const traced = Number(search.get("contact"));
  const tracedContact = Number.isInteger(traced) && traced > 0 ? traced : null;

  const campaign = useQuery({
    queryKey: campaignKey(campaignId),
    queryFn: async () =>
      ok(await api.GET("/api/v2/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
    enabled: Number.isInteger(campaignId),
    refetchInterval: 15_000,
  });
  const stats = useQuery({
    queryKey: statsKey(campaignId),
    queryFn: async () =>
      ok(await api.GET("/api/v2/campaigns/{campaign_id}/stats", { params: { path: { campaign_id: campaignId } } })),
    enabled: Number.isInteger(campaignId) && campaign.isSuccess,
    refetchInterval: STATS_POLL_MS,
    refetchIntervalInBackground: false,
  });
  const sourceNames = useSourceNames(campaign.data, canView(me, RESOURCES.segments));
  const setTab = (next: TabName, contact?: number | null) => {
    const p = new URLSearchParams(search);
    if (next === "overview") p.delete("tab");
    else p.set("tab", next);
    if (contact) p.set("contact", String(contact));
    else p.delete("contact");
    setSearch(p, { replace: contact === undefined });
  };
  const total = useMemo(() => totalCounts(stats.data), [stats.data]);

  if (campaign.isPending) return <PageLoading />;
  if (campaign.isError || !campaign.data) {
    return (
      <>
        <PageHeader title="Campaign" />
        <InlineNotification
          kind="error"
          title="Could not load the campaign"
          subtitle={describeError(campaign.error)}
          hideCloseButton
        />
      </>
    );
  }
  const c = campaign.data;
  const editable = canAny(me, CAMPAIGNS, ["edit_own", "edit_others"]);
  const mayPublish = can(me, CAMPAIGNS, "publish");
  const changed = (next: Campaign) => {
    queryClient.setQueryData(campaignKey(campaignId), next);
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "list"] });
    void queryClient.invalidateQueries({ queryKey: ["audit", "campaign", campaignId] });
    void queryClient.invalidateQueries({ queryKey: statsKey(campaignId) });
  };
  async function clone() {
    try {
      const copy = ok(
        await api.POST("/api/v2/campaigns/{campaign_id}/clone", { params: { path: { campaign_id: c.id } } }),
      );
      notify("success", "Campaign cloned", copy.name);
      void queryClient.invalidateQueries({ queryKey: ["campaigns", "list"] });
      void navigate(`/campaigns/${copy.id}`);
    } catch (e) {
      notify("error", "Could not clone", describeError(e));
    }
  }

  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/campaigns">Campaigns</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={c.name}
        description={
          <>
            <CampaignStatusTag campaign={c} compact /> {c.members.toLocaleString()} active member(s)
            {c.description ? ` · ${c.description}` : ""}
          </>
        }
        actions={
          <div className="trellis-actions">
            {editable ? (
              <Button kind="tertiary" renderIcon={Edit} onClick={() => void navigate(`/campaigns/${c.id}/edit`)}>
                Edit
              </Button>
            ) : null}
            {can(me, CAMPAIGNS, "create") ? (
              <Button kind="ghost" renderIcon={Copy} onClick={() => void clone()}>
                Clone
              </Button>
            ) : null}
            {canAny(me, CAMPAIGNS, ["delete_own", "delete_others"]) ? (
              <Button kind="danger--ghost" renderIcon={TrashCan} onClick={() => setModal("delete")}>
                Delete
              </Button>
            ) : null}
            {mayPublish ? (
              c.is_published ? (
                <Button kind="secondary" renderIcon={Pause} onClick={() => setModal("unpublish")}>
                  Unpublish
                </Button>
              ) : (
                <Button kind="primary" renderIcon={Play} onClick={() => setModal("publish")}>
                  Publish
                </Button>
              )
            ) : null}
          </div>
        }
      />
      {!c.is_published && c.paused_reason ? (
        <InlineNotification
          kind="warning"
          title="Paused by the failure guard"
          subtitle={`${c.paused_reason} Look at the failures, fix the cause, retry, then publish again.`}
          hideCloseButton
          lowContrast
        />
      ) : null}
      <Tabs
        selectedIndex={TABS.indexOf(tab)}
        onChange={({ selectedIndex }: { selectedIndex: number }) => setTab(TABS[selectedIndex] ?? "overview")}
      >
        <TabList aria-label="Campaign sections">
          <Tab>Overview</Tab>
          <Tab>Contacts ({c.members.toLocaleString()})</Tab>
          <Tab>Audit log</Tab>
          <Tab>Failures{total.dead ? ` (${total.dead.toLocaleString()})` : ""}</Tab>
        </TabList>
        <TabPanels>
          <TabPanel>
            {tab === "overview" ? <Overview campaign={c} stats={stats.data} sourceNames={sourceNames} /> : null}
          </TabPanel>
          <TabPanel>
            {tab === "contacts" ? (
              tracedContact ? (
                <ContactTrace
                  campaign={c}
                  contactId={tracedContact}
                  editable={editable}
                  onBack={() => setTab("contacts", null)}
                />
              ) : (
                <CampaignContacts campaign={c} editable={editable} onTrace={(id) => setTab("contacts", id)} />
              )
            ) : null}
          </TabPanel>
          <TabPanel>{tab === "audit" ? <CampaignAudit campaignId={c.id} /> : null}</TabPanel>
          <TabPanel>
            {tab === "failures" ? (
              <CampaignFailures campaign={c} editable={editable} onTrace={(id) => setTab("contacts", id)} />
            ) : null}
          </TabPanel>
        </TabPanels>
      </Tabs>

      <PublishModal
        campaign={c}
        open={modal === "publish"}
        onClose={() => setModal(null)}
        onDone={(next) => {
          setModal(null);
          changed(next);
          notify("success", "Campaign published", next.name);
        }}
      />
      <ConfirmDelete
        open={modal === "unpublish"}
        title={`Unpublish ${c.name}?`}
        confirmLabel="Unpublish"
        body="Nobody enters and no step runs while it is unpublished; contacts keep their place and continue when it is published again (see its reactivation setting)."
        onClose={() => setModal(null)}
        onConfirm={async () => {
          changed(
            ok(
              await api.POST("/api/v2/campaigns/{campaign_id}/unpublish", { params: { path: { campaign_id: c.id } } }),
            ),
          );
          notify("success", "Campaign unpublished", c.name);
        }}
      />
      <ConfirmDelete
        open={modal === "delete"}
        title={`Delete ${c.name}?`}
        body={
          c.members > 0
            ? `The campaign, its steps and the journeys of its ${c.members.toLocaleString()} active member(s) are deleted; waiting steps never run. Contacts are kept.`
            : "The campaign and its steps are deleted. Contacts are kept."
        }
        onClose={() => setModal(null)}
        onConfirm={async () => {
          ok(await api.DELETE("/api/v2/campaigns/{campaign_id}", { params: { path: { campaign_id: c.id } } }));
          notify("success", "Campaign deleted", c.name);
          queryClient.removeQueries({ queryKey: campaignKey(campaignId) });
          await queryClient.invalidateQueries({ queryKey: ["campaigns", "list"] });
          void navigate("/campaigns");
        }}
      />
    </>
  );
}
