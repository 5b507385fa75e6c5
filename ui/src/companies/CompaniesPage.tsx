import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Form,
  InlineNotification,
  Modal,
  Stack,
  TableToolbarSearch,
  TextInput,
} from "@carbon/react";
import { Add, Edit, TrashCan } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { describeError } from "../api/problem";
import { contactName, useFields } from "../api/queries";
import type { Company, Contact } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import {
  formatDateTime,
  FormMessages,
  PageHeader,
  PageLoading,
  useFormErrors,
  useResetOnOpen,
} from "../components/common";
import { FieldValueInput } from "../components/fields/FieldValueInput";
import { useToast } from "../components/Toasts";
import { fieldOptions, formatFieldValue, isEmptyValue } from "../lib/fieldTypes";
import { canAny, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";

function CompanyFormModal({
  open,
  company,
  onClose,
  onSaved,
}: {
  open: boolean;
  company: Company | null;
  onClose: () => void;
  onSaved: (c: Company) => void;
}) {
  const fields = useFields("company", open);
  const custom = useMemo(() => (fields.data ?? []).filter((f) => !f.is_core), [fields.data]);
  const [name, setName] = useState("");
  const [domain, setDomain] = useState("");
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["name", "domain", ...custom.map((f) => `fields.${f.alias}`), "fields"]);
  const { clear } = form;

  useResetOnOpen(open, company, () => {
    setName(company?.name ?? "");
    setDomain(company?.domain ?? "");
    setValues(company?.fields ?? {});
    clear();
  });

  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const fieldValues: Record<string, unknown> = {};
      for (const f of custom) {
        const v = values[f.alias];
        if (!isEmptyValue(v)) fieldValues[f.alias] = v;
        else if (company && company.fields[f.alias] !== undefined) fieldValues[f.alias] = null;
      }
      const body = { name, domain: domain.trim() || null, fields: fieldValues };
      const saved = company
        ? ok(
            await api.PATCH("/api/v2/companies/{company_id}", {
              params: { path: { company_id: company.id } },
              headers: ifMatch(company.version),
              body,
            }),
          )
        : ok(await api.POST("/api/v2/companies", { body }));
      onSaved(saved);
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open={open}
      modalHeading={company ? `Edit ${company.name}` : "New company"}
      primaryButtonText={busy ? "Saving…" : company ? "Save" : "Create"}
      primaryButtonDisabled={busy || !name.trim()}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      hasScrollingContent
    >
      <Form
        aria-label={company ? "Edit company" : "New company"}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          <FormMessages errors={form.errors} />
          <TextInput
            id="company-name"
            labelText="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-modal-primary-focus
            {...form.fieldProps("name")}
          />
          <TextInput
            id="company-domain"
            labelText="Domain"
            placeholder="example.com"
            value={domain}
            onChange={(e) => setDomain(e.target.value)}
            {...form.fieldProps("domain")}
          />
          {custom.map((f) => (
            <FieldValueInput
              key={f.alias}
              id={`company-field-${f.alias}`}
              field={f}
              value={values[f.alias]}
              onChange={(v) => setValues((prev) => ({ ...prev, [f.alias]: v }))}
              {...form.fieldProps(`fields.${f.alias}`)}
            />
          ))}
        </Stack>
      </Form>
    </Modal>
  );
}

export function CompaniesPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Company | null>(null);
  const [deleting, setDeleting] = useState<Company | null>(null);

  const list = useQuery({
    queryKey: ["companies", "list", pageState, q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/companies", {
          params: {
            query: { "page[number]": pageState.page, "page[size]": pageState.size, sort: "name", ...(q ? { q } : {}) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const canEdit = canAny(me, RESOURCES.companies, ["edit_own", "edit_others"]);
  const canDelete = canAny(me, RESOURCES.companies, ["delete_own", "delete_others"]);

  return (
    <>
      <PageHeader
        title="Companies"
        description="Organisations your contacts work for. A contact has one primary company."
      />
      <ListTable<Company>
        title="All companies"
        columns={[
          { key: "name", header: "Name", render: (c) => <Link to={`/companies/${c.id}`}>{c.name}</Link> },
          { key: "domain", header: "Domain", render: (c) => c.domain || <span className="trellis-muted">—</span> },
          { key: "contacts", header: "Contacts", render: (c) => c.contacts.toLocaleString() },
          { key: "updated_at", header: "Updated", render: (c) => formatDateTime(c.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(c) => c.name}
        emptyText={q ? `No company matches “${q}”.` : "No companies yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search companies"
              placeholder="Search companies"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {can(RESOURCES.companies, "create") ? (
              <Button renderIcon={Add} onClick={() => setCreating(true)}>
                New company
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Open", onClick: (c) => void navigate(`/companies/${c.id}`) },
          ...(canEdit ? [{ label: "Edit", onClick: (c: Company) => setEditing(c) }] : []),
          ...(canDelete ? [{ label: "Delete", danger: true, onClick: (c: Company) => setDeleting(c) }] : []),
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <CompanyFormModal
        open={creating || editing !== null}
        company={editing}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        onSaved={(c) => {
          notify("success", creating ? "Company created" : "Company saved", c.name);
          setCreating(false);
          setEditing(null);
          void queryClient.invalidateQueries({ queryKey: ["companies"] });
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "company"}?`}
        body="The company is deleted and unlinked from its contacts. The contacts are kept."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/companies/{company_id}", {
            params: { path: { company_id: deleting.id } },
            headers: ifMatch(deleting.version),
          });
          notify("success", "Company deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: ["companies"] });
        }}
      />
    </>
  );
}

export function CompanyDetailPage() {
  const params = useParams();
  const companyId = Number(params.companyId);
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const company = useQuery({
    queryKey: ["companies", "detail", companyId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/companies/{company_id}", { params: { path: { company_id: companyId } } })),
    enabled: Number.isInteger(companyId),
  });
  const fields = useFields("company");

  if (company.isPending) return <PageLoading />;
  if (company.isError || !company.data) {
    return (
      <>
        <PageHeader title="Company" />
        <InlineNotification
          kind="error"
          title="Could not load the company"
          subtitle={describeError(company.error)}
          hideCloseButton
        />
      </>
    );
  }
  const c = company.data;
  const custom = (fields.data ?? []).filter((f) => !f.is_core);
  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/companies">Companies</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={c.name}
        description={c.domain ?? undefined}
        actions={
          <div className="trellis-actions">
            {canAny(me, RESOURCES.companies, ["edit_own", "edit_others"]) ? (
              <Button kind="secondary" renderIcon={Edit} onClick={() => setEditing(true)}>
                Edit
              </Button>
            ) : null}
            {canAny(me, RESOURCES.companies, ["delete_own", "delete_others"]) ? (
              <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setDeleting(true)}>
                Delete
              </Button>
            ) : null}
          </div>
        }
      />
      <dl className="trellis-dl">
        <dt>Contacts</dt>
        <dd>{c.contacts.toLocaleString()}</dd>
        <dt>Domain</dt>
        <dd>{c.domain || "—"}</dd>
        {custom.map((f) => (
          <FragmentRow
            key={f.alias}
            label={f.label}
            value={formatFieldValue(f.type, c.fields[f.alias], fieldOptions(f.options))}
          />
        ))}
        <dt>Created</dt>
        <dd>{formatDateTime(c.created_at)}</dd>
        <dt>Updated</dt>
        <dd>{formatDateTime(c.updated_at)}</dd>
      </dl>
      {canView(me, RESOURCES.contacts) ? <CompanyContacts key={c.id} companyId={c.id} /> : null}
      <CompanyFormModal
        open={editing}
        company={c}
        onClose={() => setEditing(false)}
        onSaved={(saved) => {
          setEditing(false);
          notify("success", "Company saved", saved.name);
          queryClient.setQueryData(["companies", "detail", companyId], saved);
          void queryClient.invalidateQueries({ queryKey: ["companies", "list"] });
        }}
      />
      <ConfirmDelete
        open={deleting}
        title={`Delete ${c.name}?`}
        body="The company is deleted and unlinked from its contacts."
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await api.DELETE("/api/v2/companies/{company_id}", {
            params: { path: { company_id: c.id } },
            headers: ifMatch(c.version),
          });
          notify("success", "Company deleted", c.name);
          queryClient.removeQueries({ queryKey: ["companies", "detail", companyId] });
          await queryClient.invalidateQueries({ queryKey: ["companies", "list"] });
          void navigate("/companies");
        }}
      />
    </>
  );
}

/** The contacts linked to a company (primary or not), a page at a time. */
function CompanyContacts({ companyId }: { companyId: number }) {
  const navigate = useNavigate();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  // Under ["contacts", "list"], so a change made on a contact's page refreshes it too.
  const list = useQuery({
    queryKey: ["contacts", "list", "company", companyId, pageState],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/contacts", {
          params: { query: { company_id: companyId, "page[number]": pageState.page, "page[size]": pageState.size } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  if (list.isError) {
    return (
      <InlineNotification
        kind="error"
        title="Could not load the company's contacts"
        subtitle={describeError(list.error)}
        hideCloseButton
      />
    );
  }
  const total = list.data?.meta.total ?? 0;
  return (
    <section className="trellis-section" aria-label="Contacts of this company">
      <ListTable<Contact>
        title="Contacts"
        description={list.data ? `${total.toLocaleString()} ${total === 1 ? "contact" : "contacts"}` : undefined}
        columns={[
          { key: "name", header: "Contact", render: (ct) => <Link to={`/contacts/${ct.id}`}>{contactName(ct)}</Link> },
          { key: "email", header: "Email", render: (ct) => ct.email || <span className="trellis-muted">—</span> },
          {
            key: "position",
            header: "Position",
            render: (ct) => ct.position || <span className="trellis-muted">—</span>,
          },
          {
            key: "primary",
            header: "Primary company",
            render: (ct) => (ct.companies.find((l) => l.id === companyId)?.is_primary ? "Yes" : "No"),
          },
          { key: "updated_at", header: "Updated", render: (ct) => formatDateTime(ct.updated_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(ct) => contactName(ct)}
        emptyText="No contact is linked to this company."
        actions={[{ label: "Open", onClick: (ct) => void navigate(`/contacts/${ct.id}`) }]}
        pagination={{ state: pageState, total, onChange: setPageState }}
      />
    </section>
  );
}

function FragmentRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}
