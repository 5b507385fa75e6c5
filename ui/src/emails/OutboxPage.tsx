import {
  Breadcrumb,
  BreadcrumbItem,
  InlineNotification,
  Tab,
  TabList,
  TabPanel,
  TabPanels,
  Tabs,
  TableToolbarSearch,
} from "@carbon/react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader, PageLoading } from "../components/common";
import { useDebounced } from "../lib/useDebounced";
import { formatSize, withoutOpenPixel } from "./format";
import { headerValue, parseMessage } from "./mime";
import type { OutboxItem } from "./types";
import "./emails.scss";

/** The messages the outbox transport kept instead of sending them. */
export function OutboxPage() {
  const navigate = useNavigate();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const list = useQuery({
    queryKey: ["outbox", "list", pageState, q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/outbox", {
          params: { query: { "page[number]": pageState.page, "page[size]": pageState.size, ...(q ? { q } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  return (
    <>
      <PageHeader
        title="Outbox"
        description="With the outbox transport (the default) nothing leaves this machine: every message is kept here exactly as it would have been sent."
      />
      <ListTable<OutboxItem>
        title="Messages"
        columns={[
          {
            key: "subject",
            header: "Subject",
            render: (m) => <Link to={`/outbox/${m.id}`}>{m.subject || "(no subject)"}</Link>,
          },
          { key: "to", header: "To", render: (m) => m.recipients.join(", ") },
          { key: "from", header: "From", render: (m) => m.sender },
          { key: "size", header: "Size", render: (m) => formatSize(m.size) },
          { key: "time", header: "Kept at", render: (m) => formatDateTime(m.created_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(m) => m.subject}
        emptyText={q ? `No message matches “${q}”.` : "No messages yet. Test sends and campaign emails appear here."}
        toolbar={
          <TableToolbarSearch
            persistent
            labelText="Search the outbox"
            placeholder="Search subject or Message-ID"
            value={search}
            onChange={(e: unknown) => {
              const target = (e as { target?: { value?: string } } | undefined)?.target;
              setSearch(target?.value ?? "");
              setPageState((s) => ({ ...s, page: 1 }));
            }}
          />
        }
        actions={[{ label: "Open", onClick: (m) => void navigate(`/outbox/${m.id}`) }]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
    </>
  );
}

/** One kept message: headers, the HTML (in a sandboxed frame), the plain text and the source. */
export function OutboxMessagePage() {
  const params = useParams();
  const messageId = Number(params.messageId);
  const message = useQuery({
    queryKey: ["outbox", "detail", messageId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/outbox/{message_id}", { params: { path: { message_id: messageId } } })),
    enabled: Number.isInteger(messageId),
  });
  const parsed = useMemo(() => (message.data ? parseMessage(message.data.raw) : null), [message.data]);
  if (message.isPending) return <PageLoading />;
  if (message.isError || !message.data || !parsed) {
    return (
      <>
        <PageHeader title="Message" />
        <InlineNotification
          kind="error"
          title="Could not load the message"
          subtitle={describeError(message.error)}
          hideCloseButton
        />
      </>
    );
  }
  const m = message.data;
  const subject = headerValue(parsed.headers, "Subject") ?? m.subject;
  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/outbox">Outbox</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={subject || "(no subject)"}
        description={
          <>
            To {m.recipients.join(", ")} · from {m.sender} · {formatDateTime(m.created_at)}
            {m.send_id !== null ? ` · send ${m.send_id}` : ""}
          </>
        }
      />
      <Tabs>
        <TabList aria-label="Message parts">
          <Tab>HTML</Tab>
          <Tab>Plain text</Tab>
          <Tab>Headers</Tab>
          <Tab>Source</Tab>
        </TabList>
        <TabPanels>
          <TabPanel>
            {parsed.html !== null ? (
              <div className="trellis-email-preview__frame-wrap">
                <iframe
                  title="Message HTML"
                  className="trellis-email-preview__frame trellis-email-preview__frame--wide"
                  sandbox=""
                  referrerPolicy="no-referrer"
                  srcDoc={withoutOpenPixel(parsed.html)}
                />
              </div>
            ) : (
              <p className="trellis-muted">The message has no HTML part.</p>
            )}
          </TabPanel>
          <TabPanel>
            {parsed.text !== null ? (
              <pre className="trellis-email-source" data-testid="outbox-text">
                {parsed.text}
              </pre>
            ) : (
              <p className="trellis-muted">The message has no plain-text part.</p>
            )}
          </TabPanel>
          <TabPanel>
            <dl className="trellis-email-headers" aria-label="Headers">
              {parsed.headers.map((h, i) => (
                <div key={`${h.name}-${i}`}>
                  <dt>{h.name}</dt>
                  <dd>{h.value}</dd>
                </div>
              ))}
            </dl>
          </TabPanel>
          <TabPanel>
            <pre className="trellis-email-source" data-testid="outbox-raw">
              {m.raw}
            </pre>
          </TabPanel>
        </TabPanels>
      </Tabs>
    </>
  );
}
