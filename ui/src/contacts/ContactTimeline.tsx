import { Button, InlineNotification, Tag } from "@carbon/react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { formatDateTime, PageLoading } from "../components/common";
import { describeActivity } from "../lib/timeline";

export const activityKey = (contactId: number) => ["contacts", "activity", contactId] as const;

/** The contact's timeline, newest first, 25 at a time. */
export function ContactTimeline({ contactId, labels }: { contactId: number; labels: Record<string, string> }) {
  const activity = useInfiniteQuery({
    queryKey: activityKey(contactId),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      ok(
        await api.GET("/api/v2/contacts/{contact_id}/activity", {
          params: {
            path: { contact_id: contactId },
            query: { limit: 25, ...(pageParam ? { before: pageParam } : {}) },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_before ?? null,
  });

  if (activity.isPending) return <PageLoading label="Loading the timeline" />;
  if (activity.isError) {
    return (
      <InlineNotification
        kind="error"
        title="Could not load the timeline"
        subtitle={describeError(activity.error)}
        hideCloseButton
        lowContrast
      />
    );
  }
  const items = activity.data.pages.flatMap((p) => p.data);
  return (
    <div>
      {items.length === 0 ? <p className="trellis-muted">Nothing happened yet.</p> : null}
      <ol className="trellis-timeline" aria-label="Timeline">
        {items.map((item, i) => {
          const entry = describeActivity(item, labels);
          return (
            <li key={`${item.occurred_at}-${item.kind}-${i}`} className="trellis-timeline__item">
              <div className="trellis-timeline__head">
                <Tag size="sm" type={entry.tone}>
                  {entry.kindLabel}
                </Tag>
                <strong>{entry.title}</strong>
                <time className="trellis-muted" dateTime={item.occurred_at}>
                  {formatDateTime(item.occurred_at)}
                </time>
                {item.actor_name ? <span className="trellis-muted">by {item.actor_name}</span> : null}
              </div>
              {entry.changes.length > 0 ? (
                <ul className="trellis-changes" aria-label="Field changes">
                  {entry.changes.map((c) => (
                    <li key={c.field}>
                      <span className="trellis-changes__path">{c.field}</span>
                      <span className="trellis-changes__old">{c.old}</span>
                      {" -> "}
                      <span className="trellis-changes__new">{c.new}</span>
                    </li>
                  ))}
                </ul>
              ) : null}
              {entry.lines.map((line) => (
                <p key={line} className="trellis-timeline__line">
                  {line}
                </p>
              ))}
              {entry.link ? <Link to={entry.link.to}>{entry.link.text}</Link> : null}
            </li>
          );
        })}
      </ol>
      {activity.hasNextPage ? (
        <Button
          kind="ghost"
          size="sm"
          disabled={activity.isFetchingNextPage}
          onClick={() => void activity.fetchNextPage()}
        >
          {activity.isFetchingNextPage ? "Loading…" : "Load more"}
        </Button>
      ) : null}
    </div>
  );
}
