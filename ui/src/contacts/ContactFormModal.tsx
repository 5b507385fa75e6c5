import { Form, Modal, Select, SelectItem, Stack } from "@carbon/react";
import { useMemo, useState } from "react";
import { api, ok } from "../api/client";
import { useFields, useOwners, useStages } from "../api/queries";
import type { Contact, ContactCreate, FieldDef } from "../api/types";
import { FormMessages, useFormErrors, useResetOnOpen } from "../components/common";
import { FieldValueInput } from "../components/fields/FieldValueInput";
import { TagInput } from "../components/fields/TagInput";
import { isEmptyValue } from "../lib/fieldTypes";

/** Field groups in the order the forms and the contact page show them. */
export const GROUP_ORDER = ["core", "address", "preferences", "social", "utm", "custom"];
export const GROUP_LABELS: Record<string, string> = {
  core: "Core",
  address: "Address",
  preferences: "Preferences",
  social: "Social",
  utm: "UTM tags",
  custom: "Custom",
  professional: "Professional",
  personal: "Personal",
};

export function groupLabel(group: string): string {
  return GROUP_LABELS[group] ?? group.charAt(0).toUpperCase() + group.slice(1).replace(/_/g, " ");
}

/** Fields grouped by their group, groups in the usual order then by name. */
export function groupFields<F extends { group: string; position?: number }>(fields: readonly F[]): [string, F[]][] {
  const groups = new Map<string, F[]>();
  for (const f of fields) groups.set(f.group, [...(groups.get(f.group) ?? []), f]);
  const rank = (g: string) => {
    const i = GROUP_ORDER.indexOf(g);
    return i < 0 ? GROUP_ORDER.length : i;
  };
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The form name of a field: core fields by alias, custom ones under "fields.". */
export const fieldKey = (f: Pick<FieldDef, "alias" | "is_core">) => (f.is_core ? f.alias : `fields.${f.alias}`);

export function ContactFormModal({
  open,
  onClose,
  onSaved,
}: {
  open: boolean;
  onClose: () => void;
  onSaved: (contact: Contact) => void;
}) {
  const fields = useFields("contact", open);
  const stages = useStages(open);
  const owners = useOwners(open);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [tags, setTags] = useState<string[]>([]);
  const [ownerId, setOwnerId] = useState("");
  const [stageId, setStageId] = useState("");
  const [busy, setBusy] = useState(false);
  const all = useMemo(() => fields.data ?? [], [fields.data]);
  const known = useMemo(() => [...all.map(fieldKey), "tags", "owner_id", "stage_id", "fields"], [all]);
  const form = useFormErrors(known);
  const { clear } = form;

  useResetOnOpen(open, all, () => {
    const defaults: Record<string, unknown> = {};
    for (const f of all) if (!f.is_core && !isEmptyValue(f.default_value)) defaults[fieldKey(f)] = f.default_value;
    setValues(defaults);
    setTags([]);
    setOwnerId("");
    setStageId("");
    clear();
  });

  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const body: Record<string, unknown> = { tags };
      const custom: Record<string, unknown> = {};
      for (const f of all) {
        const v = values[fieldKey(f)];
        if (isEmptyValue(v)) continue;
        if (f.is_core) body[f.alias] = v;
        else custom[f.alias] = v;
      }
      body.fields = custom;
      if (ownerId) body.owner_id = Number(ownerId);
      if (stageId) body.stage_id = Number(stageId);
      const saved = ok(await api.POST("/api/v2/contacts", { body: body as ContactCreate }));
      onSaved(saved);
    } catch (error) {
      form.fromError(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open={open}
      size="lg"
      modalHeading="New contact"
      primaryButtonText={busy ? "Creating…" : "Create"}
      primaryButtonDisabled={busy || fields.isPending}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      hasScrollingContent
    >
      <Form
        aria-label="New contact"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={6}>
          <FormMessages errors={form.errors} />
          {groupFields(all).map(([group, list]) => (
            <fieldset key={group} className="trellis-fieldset">
              <legend className="trellis-h3">{groupLabel(group)}</legend>
              <div className="trellis-grid-2">
                {list.map((f, i) => (
                  <FieldValueInput
                    key={f.alias}
                    id={`contact-new-${f.alias}`}
                    field={f}
                    value={values[fieldKey(f)]}
                    onChange={(v) => setValues((prev) => ({ ...prev, [fieldKey(f)]: v }))}
                    // eslint-disable-next-line jsx-a11y/no-autofocus -- a dialog the user opened; focus goes to its first field.
                    autoFocus={group === "core" && i === 0}
                    {...form.fieldProps(fieldKey(f))}
                  />
                ))}
              </div>
            </fieldset>
          ))}
          <fieldset className="trellis-fieldset">
            <legend className="trellis-h3">Ownership and tags</legend>
            <div className="trellis-grid-2">
              <Select
                id="contact-new-owner"
                labelText="Owner"
                value={ownerId}
                onChange={(e) => setOwnerId(e.target.value)}
                {...form.fieldProps("owner_id")}
              >
                <SelectItem value="" text="No owner" />
                {(owners.data ?? []).map((u) => (
                  <SelectItem key={u.id} value={String(u.id)} text={u.name || u.email} />
                ))}
              </Select>
              <Select
                id="contact-new-stage"
                labelText="Stage"
                value={stageId}
                onChange={(e) => setStageId(e.target.value)}
                {...form.fieldProps("stage_id")}
              >
                <SelectItem value="" text="No stage" />
                {(stages.data ?? []).map((s) => (
                  <SelectItem key={s.id} value={String(s.id)} text={s.name} />
                ))}
              </Select>
            </div>
            <TagInput
              id="contact-new-tags"
              labelText="Tags"
              value={tags}
              onChange={setTags}
              {...form.fieldProps("tags")}
            />
          </fieldset>
        </Stack>
      </Form>
    </Modal>
  );
}
