import {
  Button,
  Checkbox,
  ContentSwitcher,
  Form,
  IconButton,
  Modal,
  Select,
  SelectItem,
  Stack,
  Switch,
  Tag,
  TextInput,
} from "@carbon/react";
import { Add, TrashCan } from "@carbon/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, ifMatch, ok } from "../api/client";
import { fieldsKey, useFields, type FieldObject } from "../api/queries";
import type { FieldCreate, FieldDef } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable } from "../components/ListTable";
import { FormMessages, PageHeader, useFormErrors, useResetOnOpen } from "../components/common";
import { FieldValueInput } from "../components/fields/FieldValueInput";
import { useToast } from "../components/Toasts";
import { aliasFromLabel, FIELD_TYPE_LABELS, FIELD_TYPES, isEmptyValue, type FieldType } from "../lib/fieldTypes";
import { RESOURCES } from "../lib/resources";
import { groupLabel } from "../contacts/ContactFormModal";

const FORM_FIELDS = [
  "label",
  "alias",
  "type",
  "group",
  "default_value",
  "required",
  "is_identifier",
  "publicly_updatable",
  "options",
] as const;

interface OptionRow {
  value: string;
  label: string;
}

function FieldFormModal({
  open,
  object,
  field,
  groups,
  onClose,
  onSaved,
}: {
  open: boolean;
  object: FieldObject;
  field: FieldDef | null;
  groups: string[];
  onClose: () => void;
  onSaved: (f: FieldDef) => void;
}) {
  const [label, setLabel] = useState("");
  const [alias, setAlias] = useState("");
  const [aliasTouched, setAliasTouched] = useState(false);
  const [type, setType] = useState<FieldType>("text");
  const [group, setGroup] = useState("custom");
  const [defaultValue, setDefaultValue] = useState<unknown>(null);
  const [required, setRequired] = useState(false);
  const [identifier, setIdentifier] = useState(false);
  const [publiclyUpdatable, setPubliclyUpdatable] = useState(false);
  const [options, setOptions] = useState<OptionRow[]>([]);
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FORM_FIELDS);
  const { clear } = form;

  useResetOnOpen(open, field, () => {
    setLabel(field?.label ?? "");
    setAlias(field?.alias ?? "");
    setAliasTouched(false);
    setType(field?.type ?? "text");
    setGroup(field?.group ?? "custom");
    setDefaultValue(field?.default_value ?? null);
    setRequired(field?.required ?? false);
    setIdentifier(field?.is_identifier ?? false);
    setPubliclyUpdatable(field?.publicly_updatable ?? false);
    setOptions((field?.options ?? []).map((o) => ({ value: o.value ?? "", label: o.label ?? "" })));
    clear();
  });

  const hasOptions = type === "select" || type === "multiselect";
  const cleanOptions = options
    .filter((o) => o.value.trim())
    .map((o) => ({ value: o.value.trim(), label: o.label.trim() }));

  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const common = {
        label,
        group: group.trim() || "custom",
        default_value: isEmptyValue(defaultValue) ? null : defaultValue,
        required,
        is_identifier: identifier,
        publicly_updatable: publiclyUpdatable,
        options: hasOptions ? cleanOptions : [],
      };
      const saved = field?.id
        ? ok(
            await api.PATCH("/api/v2/fields/{field_id}", {
              params: { path: { field_id: field.id } },
              headers: ifMatch(field.version),
              body: common,
            }),
          )
        : ok(
            await api.POST("/api/v2/fields", {
              body: { ...common, object, type, ...(alias ? { alias } : {}) } as FieldCreate,
            }),
          );
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
      modalHeading={field ? `Edit ${field.label}` : `New ${object} field`}
      primaryButtonText={busy ? "Saving…" : field ? "Save" : "Create"}
      primaryButtonDisabled={busy || !label.trim()}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      hasScrollingContent
    >
      <Form
        aria-label={field ? "Edit field" : "New field"}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          <FormMessages errors={form.errors} />
          <TextInput
            id="field-label"
            labelText="Label"
            value={label}
            data-modal-primary-focus
            onChange={(e) => {
              setLabel(e.target.value);
              if (!field && !aliasTouched) setAlias(aliasFromLabel(e.target.value));
            }}
            {...form.fieldProps("label")}
          />
          <TextInput
            id="field-alias"
            labelText="Alias"
            value={alias}
            readOnly={field !== null}
            helperText={
              field
                ? "The alias cannot change once the field exists."
                : "Lower case letters, digits and _; used in the API, imports and segment filters."
            }
            onChange={(e) => {
              setAlias(e.target.value);
              setAliasTouched(true);
            }}
            {...form.fieldProps("alias")}
          />
          <Select
            id="field-type"
            labelText="Type"
            value={type}
            disabled={field !== null}
            helperText={field ? "The type cannot change once the field exists." : undefined}
            onChange={(e) => {
              setType(e.target.value as FieldType);
              setDefaultValue(null);
            }}
            {...form.fieldProps("type")}
          >
            {FIELD_TYPES.map((t) => (
              <SelectItem key={t} value={t} text={FIELD_TYPE_LABELS[t]} />
            ))}
          </Select>
          <TextInput
            id="field-group"
            labelText="Group"
            value={group}
            list="field-groups"
            onChange={(e) => setGroup(e.target.value)}
            helperText="Fields are shown by group on the contact page."
            {...form.fieldProps("group")}
          />
          <datalist id="field-groups">
            {groups.map((g) => (
              <option key={g} value={g} />
            ))}
          </datalist>
          {hasOptions ? (
            <fieldset className="trellis-fieldset">
              <legend className="cds--label">Choices</legend>
              {form.errors.fields.options ? (
                <p className="trellis-error" role="alert">
                  {form.errors.fields.options}
                </p>
              ) : null}
              <Stack gap={3}>
                {options.map((o, i) => (
                  <div key={i} className="trellis-option-row">
                    <TextInput
                      id={`field-option-value-${i}`}
                      labelText={`Choice ${i + 1} value`}
                      value={o.value}
                      size="sm"
                      onChange={(e) =>
                        setOptions((all) => all.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))
                      }
                    />
                    <TextInput
                      id={`field-option-label-${i}`}
                      labelText={`Choice ${i + 1} label`}
                      value={o.label}
                      size="sm"
                      onChange={(e) =>
                        setOptions((all) => all.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)))
                      }
                    />
                    <IconButton
                      kind="ghost"
                      size="sm"
                      label={`Remove choice ${i + 1}`}
                      onClick={() => setOptions((all) => all.filter((_, j) => j !== i))}
                    >
                      <TrashCan />
                    </IconButton>
                  </div>
                ))}
                <div>
                  <Button
                    kind="ghost"
                    size="sm"
                    renderIcon={Add}
                    onClick={() => setOptions((all) => [...all, { value: "", label: "" }])}
                  >
                    Add a choice
                  </Button>
                </div>
              </Stack>
            </fieldset>
          ) : null}
          <FieldValueInput
            id="field-default"
            field={{ alias: "default", label: "Default value", type, options: cleanOptions }}
            value={defaultValue}
            onChange={setDefaultValue}
            {...form.fieldProps("default_value")}
          />
          <Checkbox
            id="field-required"
            labelText="Required"
            checked={required}
            onChange={(_e, { checked }) => setRequired(checked)}
          />
          <Checkbox
            id="field-identifier"
            labelText="Identifies a contact (imports and upserts find contacts by it)"
            checked={identifier}
            onChange={(_e, { checked }) => setIdentifier(checked)}
          />
          {form.errors.fields.is_identifier ? (
            <p className="trellis-error" role="alert">
              {form.errors.fields.is_identifier}
            </p>
          ) : null}
          {object === "contact" ? (
            <Checkbox
              id="field-publicly-updatable"
              labelText="Anonymous form posts may overwrite it"
              helperText={
                "Anyone who knows a contact's email address can post a form in their name. " +
                "Off: a form fills this field only while it is empty, and never replaces or clears a value."
              }
              checked={publiclyUpdatable}
              onChange={(_e, { checked }) => setPubliclyUpdatable(checked)}
            />
          ) : null}
        </Stack>
      </Form>
    </Modal>
  );
}

export function FieldsPage() {
  const { can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [object, setObject] = useState<FieldObject>("contact");
  const fields = useFields(object);
  const [editing, setEditing] = useState<FieldDef | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<FieldDef | null>(null);
  const items = useMemo(() => (fields.data ?? []).map((f) => ({ ...f, id: f.id ?? `core-${f.alias}` })), [fields.data]);
  const groups = useMemo(() => [...new Set((fields.data ?? []).map((f) => f.group))].sort(), [fields.data]);
  type Row = (typeof items)[number];
  const asField = (r: Row): FieldDef => ({ ...r, id: typeof r.id === "number" ? r.id : null });

  return (
    <>
      <PageHeader
        title="Custom fields"
        description="The fields of contacts and companies. Core fields are built in; add your own for anything else."
      />
      <ContentSwitcher
        className="trellis-switcher"
        selectedIndex={object === "contact" ? 0 : 1}
        onChange={(e: { name?: string | number }) => setObject(e.name === "company" ? "company" : "contact")}
      >
        <Switch name="contact" text="Contact fields" />
        <Switch name="company" text="Company fields" />
      </ContentSwitcher>
      <ListTable<Row>
        title={object === "contact" ? "Contact fields" : "Company fields"}
        columns={[
          { key: "label", header: "Label", render: (f) => f.label },
          { key: "alias", header: "Alias", render: (f) => <code>{f.alias}</code> },
          { key: "type", header: "Type", render: (f) => FIELD_TYPE_LABELS[f.type] ?? f.type },
          { key: "group", header: "Group", render: (f) => groupLabel(f.group) },
          {
            key: "flags",
            header: "",
            render: (f) => (
              <span className="trellis-chips">
                {f.is_core ? (
                  <Tag size="sm" type="gray">
                    Core
                  </Tag>
                ) : (
                  <Tag size="sm" type="purple">
                    Custom
                  </Tag>
                )}
                {f.required ? (
                  <Tag size="sm" type="red">
                    Required
                  </Tag>
                ) : null}
                {f.is_identifier ? (
                  <Tag size="sm" type="teal">
                    Identifier
                  </Tag>
                ) : null}
                {object === "contact" && f.publicly_updatable ? (
                  <Tag size="sm" type="cool-gray" title="Anonymous form posts may overwrite it">
                    Form-updatable
                  </Tag>
                ) : null}
              </span>
            ),
          },
        ]}
        items={items}
        loading={fields.isPending}
        rowLabel={(f) => f.label}
        toolbar={
          can(RESOURCES.fields, "create") ? (
            <Button renderIcon={Add} onClick={() => setCreating(true)}>
              New field
            </Button>
          ) : undefined
        }
        actions={[
          ...(can(RESOURCES.fields, "edit_others")
            ? [{ label: "Edit", onClick: (f: Row) => setEditing(asField(f)), show: (f: Row) => !f.is_core }]
            : []),
          ...(can(RESOURCES.fields, "delete_others")
            ? [
                {
                  label: "Delete",
                  danger: true,
                  onClick: (f: Row) => setDeleting(asField(f)),
                  show: (f: Row) => !f.is_core,
                },
              ]
            : []),
        ]}
      />
      <FieldFormModal
        open={creating || editing !== null}
        object={object}
        field={editing}
        groups={groups}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        onSaved={(f) => {
          notify("success", creating ? "Field created" : "Field saved", f.label);
          setCreating(false);
          setEditing(null);
          void queryClient.invalidateQueries({ queryKey: fieldsKey(object) });
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete the field ${deleting?.label ?? ""}?`}
        body="Its values are removed from every contact. A field used by a segment filter cannot be deleted."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting?.id) return;
          await api.DELETE("/api/v2/fields/{field_id}", { params: { path: { field_id: deleting.id } } });
          notify("success", "Field deleted", deleting.label);
          await queryClient.invalidateQueries({ queryKey: fieldsKey(object) });
        }}
      />
    </>
  );
}
