/** The contact page's form submissions: which form, when, and what was sent. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { describeError } from "../api/problem";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime } from "../components/common";
import { formsApi, formsKey } from "./api";
import { valueText } from "./results";
import type { ContactSubmission } from "./types";

export function ContactSubmissions({ contactId }: { contactId: number }) {
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 10 });
  const list = useQuery({
    queryKey: [...formsKey, "contact-submissions", contactId, pageState],
    queryFn: () => formsApi.contactSubmissions(contactId, pageState.page, pageState.size),
    placeholderData: keepPreviousData,
  });
  if (list.isError)
    return (
      <p role="alert" className="trellis-muted">
        Could not load the submissions: {describeError(list.error)}
      </p>
    );
  return (
    <ListTable<ContactSubmission>
      title="Form submissions"
      columns={[
        { key: "date", header: "Date", render: (s) => formatDateTime(s.created_at) },
        { key: "form", header: "Form", render: (s) => <Link to={`/forms/${s.form_id}/results`}>{s.form_name}</Link> },
        {
          key: "values",
          header: "Values",
          render: (s) => (
            <dl className="trellis-fe__values">
              {Object.entries(s.values ?? {}).map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{valueText(value) || "—"}</dd>
                </div>
              ))}
            </dl>
          ),
        },
        {
          key: "consent",
          header: "Consent",
          render: (s) =>
            s.consent_text ? (
              <span className="trellis-fe__value">{s.consent_text}</span>
            ) : (
              <span className="trellis-muted">—</span>
            ),
        },
        { key: "page", header: "Page", render: (s) => <span className="trellis-fe__value">{s.page_url ?? "—"}</span> },
      ]}
      items={list.data?.data}
      loading={list.isPending}
      rowLabel={(s) => `Submission ${s.id}`}
      emptyText="No form submission."
      pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
    />
  );
}
