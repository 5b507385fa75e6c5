/** The contact page's website visits: when, which page, from where, on what device. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "../api/problem";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime } from "../components/common";
import { type PageHit, webApi, webKey } from "./api";

export function ContactSiteVisits({ contactId }: { contactId: number }) {
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 10 });
  const list = useQuery({
    queryKey: [...webKey, "contact-hits", contactId, pageState],
    queryFn: () => webApi.contactHits(contactId, pageState.page, pageState.size),
    placeholderData: keepPreviousData,
  });
  if (list.isError)
    return (
      <p role="alert" className="trellis-muted">
        Could not load the page visits: {describeError(list.error)}
      </p>
    );
  return (
    <ListTable<PageHit>
      title="Page visits"
      columns={[
        { key: "date", header: "Date", render: (h) => formatDateTime(h.created_at) },
        {
          key: "page",
          header: "Page",
          render: (h) => (
            <span className="trellis-fe__value" title={h.url}>
              {h.title ? `${h.title} — ` : ""}
              {h.url}
            </span>
          ),
        },
        {
          key: "referrer",
          header: "Referrer",
          render: (h) => <span className="trellis-fe__value">{h.referrer || "—"}</span>,
        },
        {
          key: "utm",
          header: "Campaign (UTM)",
          render: (h) => [h.utm_source, h.utm_medium, h.utm_campaign].filter(Boolean).join(" / ") || "—",
        },
        { key: "device", header: "Device", render: (h) => h.device },
      ]}
      items={list.data?.data}
      loading={list.isPending}
      rowLabel={(h) => `Visit ${h.id}`}
      emptyText="No page visit recorded."
      pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
    />
  );
}
