import { Form, Modal, TableToolbarSearch, TextInput } from "@carbon/react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../api/client";
import type { Tag } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { FormMessages, PageHeader, useFormErrors, useResetOnOpen } from "../components/common";
import { useToast } from "../components/Toasts";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";

function RenameModal({
  tag,
  onClose,
  onSaved,
}: {
  tag: Tag | null;
  onClose: () => void;
  onSaved: (name: string) => void;
}) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["name"]);
  const { clear } = form;
  useResetOnOpen(true, tag, () => {
    setName(tag?.name ?? "");
    clear();
  });
  async function submit() {
    if (!tag) return;
    setBusy(true);
    form.clear();
    try {
      await api.PATCH("/api/v2/tags/{tag_id}", { params: { path: { tag_id: tag.id } }, body: { name } });
      onSaved(name);
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={tag !== null}
      size="sm"
      modalHeading={`Rename ${tag?.name ?? "tag"}`}
      primaryButtonText={busy ? "Saving…" : "Rename"}
      primaryButtonDisabled={busy || !name.trim()}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      shouldSubmitOnEnter
    >
      <Form
        aria-label="Rename tag"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <FormMessages errors={form.errors} />
        <TextInput
          id="tag-name"
          labelText="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          data-modal-primary-focus
          {...form.fieldProps("name")}
        />
      </Form>
    </Modal>
  );
}

export function TagsPage() {
  const { can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 50 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [renaming, setRenaming] = useState<Tag | null>(null);
  const [deleting, setDeleting] = useState<Tag | null>(null);
  const list = useQuery({
    queryKey: ["tags", "list", pageState, q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/tags", {
          params: {
            query: { "page[number]": pageState.page, "page[size]": pageState.size, sort: "name", ...(q ? { q } : {}) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const canEdit = can(RESOURCES.contacts, "edit_others");
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ["tags"] }),
      queryClient.invalidateQueries({ queryKey: ["contacts"] }),
    ]);

  return (
    <>
      <PageHeader
        title="Tags"
        description="Labels on contacts. Renaming or deleting a tag changes every contact that has it."
      />
      <ListTable<Tag>
        title="All tags"
        columns={[
          {
            key: "name",
            header: "Tag",
            render: (t) => <Link to={`/contacts?tag=${encodeURIComponent(t.name)}`}>{t.name}</Link>,
          },
          { key: "contacts", header: "Contacts", render: (t) => t.contacts.toLocaleString() },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(t) => t.name}
        emptyText={q ? `No tag matches “${q}”.` : "No tags yet."}
        toolbar={
          <TableToolbarSearch
            persistent
            labelText="Search tags"
            placeholder="Search tags"
            value={search}
            onChange={(e: unknown) => {
              const target = (e as { target?: { value?: string } } | undefined)?.target;
              setSearch(target?.value ?? "");
              setPageState((s) => ({ ...s, page: 1 }));
            }}
          />
        }
        actions={
          canEdit
            ? [
                { label: "Rename", onClick: (t) => setRenaming(t) },
                { label: "Delete", danger: true, onClick: (t) => setDeleting(t) },
              ]
            : []
        }
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <RenameModal
        tag={renaming}
        onClose={() => setRenaming(null)}
        onSaved={(name) => {
          notify("success", "Tag renamed", name);
          setRenaming(null);
          void refresh();
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete the tag ${deleting?.name ?? ""}?`}
        body={`It is removed from ${deleting?.contacts ?? 0} contact(s).`}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/tags/{tag_id}", { params: { path: { tag_id: deleting.id } } });
          notify("success", "Tag deleted", deleting.name);
          await refresh();
        }}
      />
    </>
  );
}
