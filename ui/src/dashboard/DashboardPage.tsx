import {
  InlineNotification,
  Link as CarbonLink,
  SkeletonPlaceholder,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Tile,
} from "@carbon/react";
import { CheckmarkFilled, CircleDash } from "@carbon/icons-react";
import { useQuery } from "@tanstack/react-query";
import { Suspense, lazy } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { PageHeader } from "../components/common";
import { checklistSteps, percent, useDashboard, type Dashboard } from "./api";
import { baseUrlMismatch } from "./baseUrl";
import "./dashboard.scss";

// The charting library is loaded only when the dashboard has figures to draw.
const DashboardCharts = lazy(() => import("./DashboardCharts"));

function Figure({ label, value, detail }: { label: string; value: number; detail?: string }) {
  return (
    <Tile className="trellis-dashboard__figure">
      <span className="trellis-muted">{label}</span>
      <span className="trellis-dashboard__value">{value.toLocaleString()}</span>
      {detail ? <span className="trellis-muted">{detail}</span> : null}
    </Tile>
  );
}

function GettingStarted({ data }: { data: Dashboard }) {
  const steps = checklistSteps(data.checklist);
  const left = steps.filter((s) => !s.done).length;
  if (left === 0) return null;
  return (
    <section aria-labelledby="getting-started" className="trellis-dashboard__section">
      <h2 id="getting-started" className="trellis-h3">
        Getting started
      </h2>
      <p className="trellis-muted">
        {left === 1 ? "One step left" : `${left} steps left`} before your first campaign runs.
      </p>
      <ol className="trellis-dashboard__checklist">
        {steps.map((s) => (
          <li key={s.key} data-done={s.done}>
            {s.done ? (
              <CheckmarkFilled aria-hidden="true" className="trellis-dashboard__done" />
            ) : (
              <CircleDash aria-hidden="true" />
            )}
            {s.done ? (
              <span>
                {s.label} <span className="cds--visually-hidden">(done)</span>
              </span>
            ) : (
              <Link to={s.to}>{s.label}</Link>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Campaigns({ data }: { data: Dashboard }) {
  return (
    <section aria-labelledby="active-campaigns" className="trellis-dashboard__section">
      <h2 id="active-campaigns" className="trellis-h3">
        Active campaigns ({data.active_campaigns.toLocaleString()})
      </h2>
      {data.campaigns.length === 0 ? (
        <p className="trellis-muted">No published campaign.</p>
      ) : (
        <Table aria-label="Active campaigns" size="sm">
          <TableHead>
            <TableRow>
              <TableHeader>Campaign</TableHeader>
              <TableHeader>Entered</TableHeader>
              <TableHeader>Completed</TableHeader>
              <TableHeader>Left</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {data.campaigns.map((c) => (
              <TableRow key={c.id}>
                <TableCell>
                  <Link to={`/campaigns/${c.id}`}>{c.name}</Link>
                </TableCell>
                <TableCell>{c.entries.toLocaleString()}</TableCell>
                <TableCell>
                  {c.completed.toLocaleString()} ({percent(c.completed, c.entries)})
                </TableCell>
                <TableCell>{c.exits.toLocaleString()}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

function Failures({ data }: { data: Dashboard }) {
  if (data.failures.length === 0) return null;
  return (
    <section aria-labelledby="needs-attention" className="trellis-dashboard__section">
      <h2 id="needs-attention" className="trellis-h3">
        Needs attention
      </h2>
      <ul className="trellis-dashboard__failures">
        {data.failures.map((f) => (
          <li key={f.campaign_id}>
            <CarbonLink as={Link} to={`/campaigns/${f.campaign_id}?tab=failures`}>
              {f.campaign_name}
            </CarbonLink>
            : {f.dead.toLocaleString()} {f.dead === 1 ? "step" : "steps"} gave up, {f.retrying.toLocaleString()} failed
            and will retry
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Emails and embed codes carry absolute links: say so when they would not reach this server. */
function BaseUrlWarning() {
  const settings = useQuery({ queryKey: ["settings"], queryFn: async () => ok(await api.GET("/api/v2/settings")) });
  const mismatch = settings.data ? baseUrlMismatch(settings.data.base_url, window.location.origin) : null;
  if (!mismatch) return null;
  return (
    <InlineNotification
      kind="warning"
      lowContrast
      hideCloseButton
      title="Links may not work"
      subtitle={`${mismatch} Set TRELLIS_BASE_URL to the address people use, then restart Trellis.`}
    />
  );
}

export function DashboardPage() {
  const { me } = useAuth();
  const name = me?.user.name || me?.user.email || "";
  const dashboard = useDashboard();
  const data = dashboard.data;
  return (
    <>
      <PageHeader title={`Welcome, ${name}`} description="The last 30 days, over what you may see." />
      <BaseUrlWarning />
      {dashboard.isError ? (
        <InlineNotification
          kind="error"
          lowContrast
          hideCloseButton
          title="Could not load the dashboard"
          subtitle={describeError(dashboard.error)}
        />
      ) : null}
      {dashboard.isPending ? <SkeletonPlaceholder className="trellis-dashboard__skeleton" /> : null}
      {data ? (
        <div className="trellis-dashboard">
          <GettingStarted data={data} />
          <Failures data={data} />
          <div className="trellis-dashboard__figures">
            <Figure label="Emails sent" value={data.emails.sent} />
            <Figure
              label="Opened"
              value={data.emails.opened}
              detail={`${percent(data.emails.opened, data.emails.sent)} of sent`}
            />
            <Figure
              label="Clicked"
              value={data.emails.clicked}
              detail={`${percent(data.emails.clicked, data.emails.sent)} of sent`}
            />
            <Figure label="New contacts" value={data.new_contacts} />
            <Figure label="Form submissions" value={data.form_submissions} />
          </div>
          <Campaigns data={data} />
          <Suspense fallback={<SkeletonPlaceholder className="trellis-dashboard__skeleton" />}>
            <DashboardCharts data={data} />
          </Suspense>
        </div>
      ) : null}
    </>
  );
}
