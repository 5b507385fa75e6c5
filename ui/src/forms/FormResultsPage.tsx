/** A form's submissions: newest first, one column per field, and the CSV download. */
import "./forms.scss";
import { Download, Edit } from "@carbon/icons-react";
import { Breadcrumb, BreadcrumbItem, Button, InlineNotification } from "@carbon/react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { describeError } from "../api/problem";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader, PageLoading } from "../components/common";
import { formsApi, formsKey, submissionsCsvUrl, useForm } from "./api";
import { displayValue, valueColumns, valueText } from "./results";
import type { Submission } from "./types";

export function FormResultsPage() {
  const params = useParams();
  const formId = Number(params.formId);
  const navigate = useNavigate();
  const form = useForm(formId);
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const submissions = useQuery({
    queryKey: [...formsKey, "submissions", formId, pageState],
    queryFn: () => formsApi.submissions(formId, pageState.page, pageState.size),
    enabled: Number.isInteger(formId),
    placeholderData: keepPreviousData,
  });
  if (form.isPending) return <PageLoading />;
  if (form.isError || !form.data) {
    return (
      <>
        <PageHeader title="Form results" />
        <InlineNotification
          kind="error"
          title="Could not load the form"
          subtitle={describeError(form.error)}
          hideCloseButton
        />
      </>
    );
  }
  const f = form.data;
  const rows = submissions.data?.data ?? [];
  const columns = valueColumns(
    f.fields.filter((x) => x.type !== "consent"),
    rows,
  );
  const hasConsent = f.fields.some((x) => x.type === "consent") || rows.some((r) => r.consent_text);
  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/forms">Forms</Link>
        </BreadcrumbItem>
        <BreadcrumbItem>
          <Link to={`/forms/${f.id}`}>{f.name}</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={`Results: ${f.name}`}
        description={`${f.submission_count.toLocaleString()} submissions · last ${formatDateTime(f.last_submission_at)}`}
        actions={
          <div className="trellis-actions">
            <Button kind="tertiary" renderIcon={Edit} onClick={() => void navigate(`/forms/${f.id}`)}>
              Edit form
            </Button>
            {/* A plain link: the browser downloads the file with the session cookie. */}
            <a className="cds--btn cds--btn--primary" href={submissionsCsvUrl(f.id)} download>
              Download CSV
              <Download className="cds--btn__icon" aria-hidden />
            </a>
          </div>
        }
      />
      {submissions.isError ? (
        <InlineNotification
          kind="error"
          lowContrast
          hideCloseButton
          title="Could not load the submissions"
          subtitle={describeError(submissions.error)}
        />
      ) : null}
      <div className="trellis-fe__results">
        <ListTable<Submission>
          title="Submissions"
          description="Newest first. Values are shown as they were sent."
          columns={[
            { key: "__date", header: "Date", render: (s) => formatDateTime(s.created_at) },
            {
              key: "__contact",
              header: "Contact",
              render: (s) =>
                s.contact_id !== null ? (
                  <Link to={`/contacts/${s.contact_id}`}>{s.contact_name || `Contact ${s.contact_id}`}</Link>
                ) : (
                  <span className="trellis-muted">—</span>
                ),
            },
            ...columns.map((c) => ({
              key: `v:${c.name}`,
              header: c.header,
              render: (s: Submission) => (
                <span className="trellis-fe__value">{displayValue(c.field, s.values?.[c.name])}</span>
              ),
            })),
            ...(hasConsent
              ? [
                  {
                    key: "__consent",
                    header: "Consent given to",
                    render: (s: Submission) => (
                      <span className="trellis-fe__value">{valueText(s.consent_text) || "—"}</span>
                    ),
                  },
                ]
              : []),
            {
              key: "__page",
              header: "Page",
              render: (s) => <span className="trellis-fe__value">{s.page_url ?? "—"}</span>,
            },
          ]}
          items={submissions.data?.data}
          loading={submissions.isPending}
          rowLabel={(s) => `Submission ${s.id}`}
          emptyText="No submission yet."
          pagination={{ state: pageState, total: submissions.data?.meta.total ?? 0, onChange: setPageState }}
        />
      </div>
    </>
  );
}
