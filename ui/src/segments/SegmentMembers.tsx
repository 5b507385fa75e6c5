import { Button, Checkbox, Modal, Stack, Tag, TextInput } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { contactName } from "../api/queries";
import type { Segment, SegmentMember } from "../api/types";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime } from "../components/common";
import { useToast } from "../components/Toasts";
import { useDebounced } from "../lib/useDebounced";

function AddMembersModal({
  open,
  segment,
  onClose,
  onAdded,
}: {
  open: boolean;
  segment: Segment;
  onClose: () => void;
  onAdded: () => void;
}) {
  const { notify } = useToast();
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const results = useQuery({
    queryKey: ["contacts", "pick", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/contacts", { params: { query: { "page[size]": 20, ...(q ? { q } : {}) } } })).data,
    enabled: open,
  });
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const result = ok(
        await api.POST("/api/v2/segments/{segment_id}/members", {
          params: { path: { segment_id: segment.id } },
          body: { contact_ids: [...picked] },
        }),
      );
      notify("success", `${result.changed} contact(s) added`, `${result.member_count.toLocaleString()} members now`);
      setPicked(new Set());
      setSearch("");
      onAdded();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={open}
      modalHeading={`Add contacts to ${segment.name}`}
      primaryButtonText={busy ? "Adding…" : `Add ${picked.size || ""} contact(s)`}
      primaryButtonDisabled={busy || picked.size === 0}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      hasScrollingContent
    >
      <Stack gap={5}>
        <p className="trellis-muted">
          Contacts added by hand stay in the segment until removed by hand, whatever its filters say.
        </p>
        {error ? (
          <p className="trellis-error" role="alert">
            {error}
          </p>
        ) : null}
        <TextInput
          id="members-search"
          labelText="Search contacts"
          placeholder="Name or email"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-modal-primary-focus
        />
        <fieldset className="trellis-fieldset">
          <legend className="cds--label">Contacts</legend>
          {(results.data ?? []).length === 0 ? (
            <p className="trellis-muted">{results.isFetching ? "Searching…" : "No contact found."}</p>
          ) : null}
          {(results.data ?? []).map((c) => (
            <Checkbox
              key={c.id}
              id={`member-pick-${c.id}`}
              labelText={`${contactName(c)}${c.email && contactName(c) !== c.email ? ` <${c.email}>` : ""}`}
              checked={picked.has(c.id)}
              onChange={(_e, { checked }) =>
                setPicked((prev) => {
                  const next = new Set(prev);
                  if (checked) next.add(c.id);
                  else next.delete(c.id);
                  return next;
                })
              }
            />
          ))}
        </fieldset>
      </Stack>
    </Modal>
  );
}

/** The segment's members, paginated, with manual add and remove. */
export function SegmentMembers({ segment, editable }: { segment: Segment; editable: boolean }) {
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<SegmentMember | null>(null);
  const members = useQuery({
    queryKey: ["segments", "members", segment.id, pageState],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/segments/{segment_id}/members", {
          params: {
            path: { segment_id: segment.id },
            query: { "page[number]": pageState.page, "page[size]": pageState.size },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ["segments", "members", segment.id] });
    await queryClient.invalidateQueries({ queryKey: ["segments", "detail", segment.id] });
    void queryClient.invalidateQueries({ queryKey: ["segments", "list"] });
  };
  const name = (m: SegmentMember) =>
    contactName({ id: m.contact_id, first_name: m.first_name, last_name: m.last_name, email: m.email });
  return (
    <>
      <ListTable<SegmentMember & { id: number }>
        title="Members"
        description={members.data ? `${members.data.meta.total.toLocaleString()} contacts` : undefined}
        columns={[
          { key: "name", header: "Contact", render: (m) => <Link to={`/contacts/${m.contact_id}`}>{name(m)}</Link> },
          { key: "email", header: "Email", render: (m) => m.email ?? <span className="trellis-muted">—</span> },
          { key: "added", header: "Member since", render: (m) => formatDateTime(m.added_at) },
          {
            key: "how",
            header: "How",
            render: (m) =>
              m.manually_added ? (
                <Tag size="sm" type="purple">
                  Added by hand
                </Tag>
              ) : (
                <Tag size="sm" type="gray">
                  Filters
                </Tag>
              ),
          },
        ]}
        items={members.data?.data.map((m) => ({ ...m, id: m.contact_id }))}
        loading={members.isPending}
        rowLabel={name}
        emptyText="No members. Rebuild the segment, or add contacts by hand."
        toolbar={
          editable ? (
            <Button renderIcon={Add} onClick={() => setAdding(true)}>
              Add contacts
            </Button>
          ) : undefined
        }
        actions={editable ? [{ label: "Remove from segment", danger: true, onClick: (m) => setRemoving(m) }] : []}
        pagination={{ state: pageState, total: members.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <AddMembersModal
        open={adding}
        segment={segment}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          void refresh();
        }}
      />
      <ConfirmDelete
        open={removing !== null}
        title={`Remove ${removing ? name(removing) : "contact"}?`}
        confirmLabel="Remove"
        body="The contact leaves the segment and no rebuild adds it back, until someone adds it by hand."
        onClose={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          await api.DELETE("/api/v2/segments/{segment_id}/members", {
            params: { path: { segment_id: segment.id } },
            body: { contact_ids: [removing.contact_id] },
          });
          notify("success", "Removed from the segment", name(removing));
          await refresh();
        }}
      />
    </>
  );
}
