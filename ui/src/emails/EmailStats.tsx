import { InlineNotification, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Tile } from "@carbon/react";
import { describeError } from "../api/problem";
import { rate, useEmailStats } from "./api";

function Figure({ label, value, detail }: { label: string; value: number; detail?: string }) {
  return (
    <Tile className="trellis-email-figure">
      <span className="trellis-muted">{label}</span>
      <span className="trellis-email-figure__value">{value.toLocaleString()}</span>
      {detail ? <span className="trellis-muted">{detail}</span> : null}
    </Tile>
  );
}

/** The email's figures: sends by outcome, opens, clicks per link, unsubscribes, bounces. */
export function EmailStatsPanel({ emailId }: { emailId: number }) {
  const stats = useEmailStats(emailId);
  if (stats.isPending) return <p className="trellis-muted">Loading the statistics…</p>;
  if (stats.isError)
    return (
      <InlineNotification
        kind="error"
        lowContrast
        hideCloseButton
        title="Could not load the statistics"
        subtitle={describeError(stats.error)}
      />
    );
  const s = stats.data;
  if (!s)
    return (
      <p className="trellis-muted">
        This server does not report opens and clicks yet. The Sends tab lists every message.
      </p>
    );
  return (
    <div className="trellis-email-stats">
      <div className="trellis-email-figures">
        <Figure label="Sent" value={s.sent} detail={`${s.queued.toLocaleString()} queued`} />
        <Figure
          label="Opened"
          value={s.unique_opens}
          detail={`${rate(s.unique_opens, s.sent)} · ${s.opens.toLocaleString()} opens`}
        />
        <Figure
          label="Clicked"
          value={s.unique_clicks}
          detail={`${rate(s.unique_clicks, s.sent)} · ${s.clicks.toLocaleString()} clicks`}
        />
        <Figure label="Unsubscribed" value={s.unsubscribes} detail={rate(s.unsubscribes, s.sent)} />
        <Figure label="Bounced" value={s.bounces} detail={`${s.hard_bounces.toLocaleString()} hard`} />
        <Figure label="Complaints" value={s.complaints} />
        <Figure label="Failed" value={s.failed} />
        <Figure label="Not sent" value={s.skipped} detail="DNC, cap, already received" />
      </div>
      <h3 className="trellis-h3">Clicks per link</h3>
      {s.links.length === 0 ? (
        <p className="trellis-muted">No clicks yet.</p>
      ) : (
        <Table aria-label="Clicks per link" size="sm">
          <TableHead>
            <TableRow>
              <TableHeader>Link</TableHeader>
              <TableHeader>Clicks</TableHeader>
              <TableHeader>Unique clicks</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {s.links.map((l) => (
              <TableRow key={l.url}>
                <TableCell>
                  <code className="trellis-email-link">{l.url}</code>
                </TableCell>
                <TableCell>{l.clicks.toLocaleString()}</TableCell>
                <TableCell>{l.unique_clicks.toLocaleString()}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}
