import { Dropdown, Tag } from "@carbon/react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../api/client";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime } from "../components/common";
import { SEND_STATUSES, sendSource, sendStatus } from "./format";
import type { EmailSend, SendStatus } from "./types";
import { EntityName } from "../components/EntityPicker";

type StatusFilter = SendStatus | "all";

function StatusCell({ send }: { send: EmailSend }) {
  const s = sendStatus(send.status);
  return (
    <Tag size="sm" type={s.tag}>
      {s.label}
    </Tag>
  );
}

/** The sends of one email (`emailId`) or of one contact (`contactId`), newest first. */
export function SendsTable({ emailId, contactId, title }: { emailId?: number; contactId?: number; title: string }) {
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [status, setStatus] = useState<StatusFilter>("all");
  const query = {
    "page[number]": pageState.page,
    "page[size]": pageState.size,
    ...(status !== "all" ? { status } : {}),
  };
  const sends = useQuery({
    queryKey: ["emails", "sends", emailId ?? null, contactId ?? null, pageState, status],
    queryFn: async () =>
      emailId !== undefined
        ? ok(await api.GET("/api/v2/emails/{email_id}/sends", { params: { path: { email_id: emailId }, query } }))
        : ok(
            await api.GET("/api/v2/contacts/{contact_id}/email-sends", {
              params: { path: { contact_id: contactId ?? 0 }, query },
            }),
          ),
    placeholderData: keepPreviousData,
  });
  const statusItems: StatusFilter[] = ["all", ...SEND_STATUSES];
  return (
    <ListTable<EmailSend>
      title={title}
      columns={[
        { key: "status", header: "Status", render: (s) => <StatusCell send={s} /> },
        emailId !== undefined
          ? {
              key: "to",
              header: "Contact",
              render: (s) =>
                s.contact_id !== null && s.recipient === "contact" ? (
                  <Link to={`/contacts/${s.contact_id}`}>{s.to_address || `Contact ${s.contact_id}`}</Link>
                ) : (
                  <span>{s.to_address}</span>
                ),
            }
          : {
              key: "email",
              header: "Email",
              render: (s) => (
                <Link to={`/emails/${s.email_id}`}>
                  <EntityName kind="email" id={s.email_id} />
                </Link>
              ),
            },
        { key: "kind", header: "Kind", render: (s) => (s.kind === "transactional" ? "Transactional" : "Marketing") },
        {
          key: "source",
          header: "From",
          render: (s) =>
            s.source !== "test" && s.campaign_id !== null ? (
              <Link to={`/campaigns/${s.campaign_id}`}>
                <EntityName kind="campaign" id={s.campaign_id} />
              </Link>
            ) : (
              sendSource(s)
            ),
        },
        {
          key: "sent",
          header: "Sent at",
          render: (s) =>
            s.sent_at ? (
              formatDateTime(s.sent_at)
            ) : (
              <span className="trellis-muted">{s.due_at ? `due ${formatDateTime(s.due_at)}` : "—"}</span>
            ),
        },
        { key: "reason", header: "Reason", render: (s) => s.reason ?? <span className="trellis-muted">—</span> },
      ]}
      items={sends.data?.data}
      loading={sends.isPending}
      rowLabel={(s) => `send ${s.id}`}
      emptyText={status === "all" ? "No messages yet." : `No ${sendStatus(status).label.toLowerCase()} messages.`}
      toolbar={
        <Dropdown<StatusFilter>
          id={`sends-status-${emailId ?? contactId}`}
          titleText=""
          label="Status"
          hideLabel
          type="inline"
          size="sm"
          items={statusItems}
          itemToString={(s) => (s === "all" ? "All statuses" : s ? sendStatus(s).label : "")}
          selectedItem={status}
          onChange={({ selectedItem }) => {
            setStatus(selectedItem ?? "all");
            setPageState((p) => ({ ...p, page: 1 }));
          }}
        />
      }
      pagination={{ state: pageState, total: sends.data?.meta.total ?? 0, onChange: setPageState }}
    />
  );
}

/** The email page's Sends tab. */
export function EmailSends({ emailId }: { emailId: number }) {
  return <SendsTable emailId={emailId} title="Sends" />;
}
