import {
  Button,
  Modal,
  MultiSelect,
  Select,
  SelectItem,
  TableBatchAction,
  TableToolbarSearch,
  Tag,
  TextInput,
} from "@carbon/react";
import { Add, Email, MisuseOutline, TagEdit, TrashCan, Upload } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { contactName, useFields, useOwners, useStages } from "../api/queries";
import type { Contact, FieldDef } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type Column, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader } from "../components/common";
import { TagInput } from "../components/fields/TagInput";
import { useToast } from "../components/Toasts";
import {
  bulkDoneTitle,
  contactCount,
  missingNote,
  refusedNote,
  runBulk,
  type BulkActionName,
} from "../lib/bulkContacts";
import { fieldOptions, formatFieldValue } from "../lib/fieldTypes";
import { canAny } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { ContactFormModal } from "./ContactFormModal";

const COLUMNS_KEY = "trellis.contacts.columns";
const DEFAULT_COLUMNS = ["email", "first_name", "last_name", "points", "stage", "tags", "updated_at"];

interface ColumnChoice {
  id: string;
  label: string;
}

function loadColumns(): string[] {
  try {
    const raw = window.localStorage.getItem(COLUMNS_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string")) return parsed;
  } catch {
    // ignore a broken stored choice
  }
  return DEFAULT_COLUMNS;
}

export function ContactsPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [searchParams] = useSearchParams();
  const [tagFilter, setTagFilter] = useState(() => searchParams.get("tag") ?? "");
  const tag = useDebounced(tagFilter.trim());
  const [ownerFilter, setOwnerFilter] = useState("");
  const [stageFilter, setStageFilter] = useState("");
  const [columns, setColumns] = useState<string[]>(loadColumns);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [creating, setCreating] = useState(false);
  // The bulk action whose dialog is open. Action and count stay put while a dialog closes, so
  // its heading does not change under the closing animation.
  const [bulk, setBulk] = useState<{ action: BulkActionName; count: number; open: boolean }>({
    action: "add_tags",
    count: 0,
    open: false,
  });
  const [bulkTags, setBulkTags] = useState<string[]>([]);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [deleting, setDeleting] = useState<Contact | null>(null);

  const fields = useFields("contact");
  const stages = useStages();
  const owners = useOwners();

  const list = useQuery({
    queryKey: ["contacts", "list", pageState, q, tag, ownerFilter, stageFilter],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/contacts", {
          params: {
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              ...(q ? { q } : {}),
              ...(tag ? { tag } : {}),
              ...(ownerFilter ? { owner_id: Number(ownerFilter) } : {}),
              ...(stageFilter ? { stage_id: Number(stageFilter) } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  const stageName = (id: number | null) =>
    id === null ? null : (stages.data?.find((s) => s.id === id)?.name ?? `#${id}`);
  const ownerName = (id: number | null) => {
    if (id === null) return null;
    const u = owners.data?.find((o) => o.id === id);
    return u ? u.name || u.email : `#${id}`;
  };

  const choices: ColumnChoice[] = useMemo(() => {
    const base: ColumnChoice[] = (fields.data ?? []).map((f) => ({
      id: f.is_core ? f.alias : `fields.${f.alias}`,
      label: f.label,
    }));
    return [
      ...base,
      { id: "points", label: "Points" },
      { id: "stage", label: "Stage" },
      { id: "owner", label: "Owner" },
      { id: "tags", label: "Tags" },
      { id: "created_at", label: "Created" },
      { id: "updated_at", label: "Updated" },
      { id: "last_active_at", label: "Last active" },
    ];
  }, [fields.data]);

  const fieldByKey = useMemo(() => {
    const map = new Map<string, FieldDef>();
    for (const f of fields.data ?? []) map.set(f.is_core ? f.alias : `fields.${f.alias}`, f);
    return map;
  }, [fields.data]);

  const renderCell = (key: string, c: Contact) => {
    switch (key) {
      case "points":
        return c.points;
      case "stage":
        return stageName(c.stage_id) ?? <span className="trellis-muted">—</span>;
      case "owner":
        return ownerName(c.owner_id) ?? <span className="trellis-muted">—</span>;
      case "tags":
        return c.tags.length ? (
          <span className="trellis-chips">
            {c.tags.slice(0, 4).map((t) => (
              <Tag key={t} size="sm" type="blue">
                {t}
              </Tag>
            ))}
            {c.tags.length > 4 ? <span className="trellis-muted">+{c.tags.length - 4}</span> : null}
          </span>
        ) : (
          <span className="trellis-muted">—</span>
        );
      case "created_at":
      case "updated_at":
      case "last_active_at":
        return formatDateTime(c[key]);
      default: {
        const f = fieldByKey.get(key);
        const raw = key.startsWith("fields.") ? c.fields[key.slice(7)] : (c as unknown as Record<string, unknown>)[key];
        return formatFieldValue(f?.type ?? "text", raw, fieldOptions(f?.options));
      }
    }
  };

  const shown = columns.filter((k) => choices.some((c) => c.id === k));
  const tableColumns: Column<Contact>[] = [
    {
      key: "__name",
      header: "Contact",
      render: (c) => (
        <Link to={`/contacts/${c.id}`}>
          {contactName(c)}
          {c.is_anonymous ? <span className="trellis-muted"> (anonymous)</span> : null}
        </Link>
      ),
    },
    ...shown.map((key) => ({
      key,
      header: choices.find((c) => c.id === key)?.label ?? key,
      render: (c: Contact) => renderCell(key, c),
    })),
  ];

  const canCreate = can(RESOURCES.contacts, "create");
  // The bulk endpoint acts on any contact, so it asks for the "others" permissions.
  const canBulkEdit = can(RESOURCES.contacts, "edit_others");
  const canBulkDelete = can(RESOURCES.contacts, "delete_others");
  const canDelete = canAny(me, RESOURCES.contacts, ["delete_own", "delete_others"]);
  const canImport = can(RESOURCES.imports, "create");
  const resetPage = () => setPageState((s) => ({ ...s, page: 1 }));

  /**
   * Run one bulk action on the selection (one request per 1,000 ids). The contacts done, and
   * those the server no longer had, leave the selection; those not done stay selected for a retry.
   * Returns the failure that stopped the run, if any, after the toasts for what did happen.
   */
  async function runSelected(action: BulkActionName, tags: string[] = []): Promise<Error | undefined> {
    const outcome = await runBulk(selected, { action, tags, channel: "email" }, async (body) =>
      ok(await api.POST("/api/v2/contacts/bulk", { body })),
    );
    setSelected(new Set(outcome.notDone));
    if (outcome.error !== undefined) setBulk((b) => ({ ...b, count: outcome.notDone.length }));
    void queryClient.invalidateQueries({ queryKey: ["contacts"] });
    if (action === "add_tags" || action === "remove_tags") void queryClient.invalidateQueries({ queryKey: ["tags"] });
    if (action === "delete") {
      void queryClient.invalidateQueries({ queryKey: ["companies"] });
      void queryClient.invalidateQueries({ queryKey: ["segments"] });
    }
    const note = missingNote(outcome.missing);
    if (outcome.affected > 0 || (outcome.error === undefined && !note && outcome.refused.length === 0)) {
      const detail = action === "add_tags" || action === "remove_tags" ? tags.join(", ") : undefined;
      notify("success", bulkDoneTitle(action, outcome.affected), detail);
    }
    if (note) notify("warning", "Some contacts were not found", note);
    const refused = refusedNote(outcome.refused);
    if (refused) notify("warning", "Some contacts were not changed", refused);
    return outcome.error === undefined
      ? undefined
      : new Error(
          `${contactCount(outcome.notDone.length)} not changed, still selected. ${describeError(outcome.error)}`,
        );
  }

  const openBulk = (action: BulkActionName) => setBulk({ action, count: selected.size, open: true });
  const closeBulk = () => setBulk((b) => ({ ...b, open: false }));
  const isTagAction = bulk.action === "add_tags" || bulk.action === "remove_tags";
  const isDncAction = bulk.action === "add_dnc" || bulk.action === "remove_dnc";

  /** The tag and DNC dialogs: failures go to a toast, the ids not done stay selected. */
  async function applyBulk() {
    if (isTagAction && bulkTags.length === 0) return;
    setBulkBusy(true);
    const error = await runSelected(bulk.action, isTagAction ? bulkTags : []);
    setBulkBusy(false);
    if (error) notify("error", "Not every selected contact was changed", describeError(error));
    closeBulk();
    setBulkTags([]);
  }

  return (
    <>
      <PageHeader
        title="Contacts"
        description="People and anonymous visitors your campaigns act on."
        actions={
          canImport ? (
            <Button kind="tertiary" renderIcon={Upload} onClick={() => void navigate("/contacts/import")}>
              Import CSV
            </Button>
          ) : undefined
        }
      />
      <div className="trellis-filters" role="search" aria-label="Contact filters">
        <TextInput
          id="contacts-filter-tag"
          labelText="Tag"
          placeholder="Any tag"
          value={tagFilter}
          onChange={(e) => {
            setTagFilter(e.target.value);
            resetPage();
          }}
        />
        <Select
          id="contacts-filter-owner"
          labelText="Owner"
          value={ownerFilter}
          onChange={(e) => {
            setOwnerFilter(e.target.value);
            resetPage();
          }}
        >
          <SelectItem value="" text="Any owner" />
          {(owners.data ?? []).map((u) => (
            <SelectItem key={u.id} value={String(u.id)} text={u.name || u.email} />
          ))}
        </Select>
        <Select
          id="contacts-filter-stage"
          labelText="Stage"
          value={stageFilter}
          onChange={(e) => {
            setStageFilter(e.target.value);
            resetPage();
          }}
        >
          <SelectItem value="" text="Any stage" />
          {(stages.data ?? []).map((s) => (
            <SelectItem key={s.id} value={String(s.id)} text={s.name} />
          ))}
        </Select>
        <MultiSelect<ColumnChoice>
          id="contacts-columns"
          titleText="Columns"
          label={`${shown.length} columns`}
          items={choices}
          itemToString={(c) => c?.label ?? ""}
          selectedItems={choices.filter((c) => shown.includes(c.id))}
          sortItems={(items) => [...items]}
          onChange={({ selectedItems }) => {
            const next = (selectedItems ?? []).map((c) => c.id);
            const ordered = [...shown.filter((k) => next.includes(k)), ...next.filter((k) => !shown.includes(k))];
            setColumns(ordered);
            window.localStorage.setItem(COLUMNS_KEY, JSON.stringify(ordered));
          }}
        />
      </div>
      <ListTable<Contact>
        title="All contacts"
        description={list.data ? `${list.data.meta.total.toLocaleString()} contacts` : undefined}
        columns={tableColumns}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(c) => contactName(c)}
        emptyText={q || tag || ownerFilter || stageFilter ? "No contact matches these filters." : "No contacts yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search contacts"
              placeholder="Search by name or email"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                resetPage();
              }}
            />
            {canCreate ? (
              <Button renderIcon={Add} onClick={() => setCreating(true)}>
                New contact
              </Button>
            ) : null}
          </>
        }
        selection={
          canBulkEdit || canBulkDelete
            ? {
                selected,
                onChange: setSelected,
                batchActions: (
                  <>
                    {canBulkEdit ? (
                      <>
                        <TableBatchAction renderIcon={TagEdit} onClick={() => openBulk("add_tags")}>
                          Add tags
                        </TableBatchAction>
                        <TableBatchAction renderIcon={TagEdit} onClick={() => openBulk("remove_tags")}>
                          Remove tags
                        </TableBatchAction>
                        <TableBatchAction renderIcon={MisuseOutline} onClick={() => openBulk("add_dnc")}>
                          Do not contact (email)
                        </TableBatchAction>
                        <TableBatchAction renderIcon={Email} onClick={() => openBulk("remove_dnc")}>
                          Allow contact (email)
                        </TableBatchAction>
                      </>
                    ) : null}
                    {canBulkDelete ? (
                      <TableBatchAction renderIcon={TrashCan} onClick={() => openBulk("delete")}>
                        Delete
                      </TableBatchAction>
                    ) : null}
                  </>
                ),
              }
            : undefined
        }
        actions={[
          { label: "Open", onClick: (c) => void navigate(`/contacts/${c.id}`) },
          ...(canDelete ? [{ label: "Delete", danger: true, onClick: (c: Contact) => setDeleting(c) }] : []),
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ContactFormModal
        open={creating}
        onClose={() => setCreating(false)}
        onSaved={(c) => {
          setCreating(false);
          notify("success", "Contact created", contactName(c));
          void queryClient.invalidateQueries({ queryKey: ["contacts"] });
          void queryClient.invalidateQueries({ queryKey: ["tags"] });
          void navigate(`/contacts/${c.id}`);
        }}
      />
      <Modal
        open={bulk.open && isTagAction}
        modalHeading={
          bulk.action === "add_tags"
            ? `Add tags to ${contactCount(bulk.count)}`
            : `Remove tags from ${contactCount(bulk.count)}`
        }
        primaryButtonText={bulkBusy ? "Working…" : bulk.action === "add_tags" ? "Add tags" : "Remove tags"}
        primaryButtonDisabled={bulkBusy || bulkTags.length === 0}
        secondaryButtonText="Cancel"
        onRequestClose={() => {
          closeBulk();
          setBulkTags([]);
        }}
        onRequestSubmit={() => void applyBulk()}
      >
        <TagInput id="bulk-tags" labelText="Tags" value={bulkTags} onChange={setBulkTags} />
      </Modal>
      <Modal
        open={bulk.open && isDncAction}
        size="sm"
        danger={bulk.action === "remove_dnc"}
        modalHeading={
          bulk.action === "remove_dnc"
            ? `Allow email to ${contactCount(bulk.count)}?`
            : `Do not email ${contactCount(bulk.count)}?`
        }
        primaryButtonText={bulkBusy ? "Working…" : bulk.action === "remove_dnc" ? "Allow email" : "Do not contact"}
        primaryButtonDisabled={bulkBusy}
        secondaryButtonText="Cancel"
        onRequestClose={closeBulk}
        onRequestSubmit={() => void applyBulk()}
      >
        <p>
          {bulk.action === "remove_dnc"
            ? "Removes the email do-not-contact entry of every selected contact, whatever its reason, unsubscribes and bounces included. Campaigns may email them again."
            : "Adds an email do-not-contact entry (reason: manual) to every selected contact; one already there is kept as it is. Campaigns stop emailing them."}
        </p>
      </Modal>
      <ConfirmDelete
        open={bulk.open && bulk.action === "delete"}
        title={`Delete ${contactCount(bulk.count)}?`}
        body="The selected contacts and their history are deleted. This cannot be undone."
        onClose={closeBulk}
        onConfirm={async () => {
          const error = await runSelected("delete");
          if (error) throw error;
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting ? contactName(deleting) : "contact"}?`}
        body="The contact and its history are deleted. This cannot be undone."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const id = deleting.id;
          await api.DELETE("/api/v2/contacts/{contact_id}", { params: { path: { contact_id: id } } });
          notify("success", "Contact deleted", contactName(deleting));
          setSelected((prev) => (prev.has(id) ? new Set([...prev].filter((x) => x !== id)) : prev));
          await queryClient.invalidateQueries({ queryKey: ["contacts"] });
        }}
      />
    </>
  );
}
