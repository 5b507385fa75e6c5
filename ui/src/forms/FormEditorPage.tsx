/**
 * The form editor: fields with a live preview, settings, submit actions and the embed code.
 * Routes /forms/new and /forms/:formId. Saves with If-Match; server errors land on the field
 * and the setting their pointers name.
 */
import "./forms.scss";
import { ChartColumn, Save, TrashCan } from "@carbon/icons-react";
import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Checkbox,
  ComboBox,
  InlineNotification,
  MultiSelect,
  RadioButton,
  RadioButtonGroup,
  Stack,
  Tab,
  TabList,
  TabPanel,
  TabPanels,
  Tabs,
  Tag,
  TextArea,
  TextInput,
} from "@carbon/react";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useReducer, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { describeError } from "../api/problem";
import { useFields } from "../api/queries";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { TagInput } from "../components/fields/TagInput";
import { formatDateTime, PageHeader, PageLoading } from "../components/common";
import { useToast } from "../components/Toasts";
import { useProjects } from "../emails/api";
import { canAny, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { ActionsEditor } from "./ActionsEditor";
import { formKey, formsApi, formsKey, useFieldTypes, useForm } from "./api";
import { EmbedPanel } from "./EmbedPanel";
import {
  errorsFromLocal,
  errorsFromProblem,
  invalid,
  mergeErrors,
  NO_ERRORS,
  settingError,
  type EditorErrors,
} from "./errors";
import { FieldList, FieldSettings } from "./FieldEditor";
import {
  draftOf,
  FIELD_TYPES,
  fieldToWrite,
  formReducer,
  isDirty,
  localProblems,
  localWarnings,
  patchOf,
  toWrite,
} from "./fields";
import { FormPreview } from "./FormPreview";
import type { Form } from "./types";
import { announceCreated } from "../components/EntityPicker";
import { RestoreDraftBanner, UnsavedChangesPrompt, useLocalDraft } from "../components/UnsavedChanges";

export const FORMS = RESOURCES.forms;

export function FormEditorPage() {
  const params = useParams();
  const isNew = params.formId === undefined;
  const formId = Number(params.formId);
  const form = useForm(isNew ? null : formId);
  if (!isNew && form.isPending) return <PageLoading />;
  if (!isNew && (form.isError || !form.data)) {
    return (
      <>
        <PageHeader title="Form" />
        <InlineNotification
          kind="error"
          title="Could not load the form"
          subtitle={describeError(form.error)}
          hideCloseButton
        />
      </>
    );
  }
  return <FormEditor key={isNew ? "new" : formId} form={isNew ? null : (form.data ?? null)} />;
}

type TabName = "fields" | "settings" | "actions" | "embed";

/** The tab that shows the first of some errors. */
function tabOf(errors: EditorErrors): TabName | null {
  if (Object.keys(errors.fields).length) return "fields";
  if (Object.keys(errors.settings).length) return "settings";
  if (Object.keys(errors.actions).length) return "actions";
  return null;
}

function FormEditor({ form: initial }: { form: Form | null }) {
  const { me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState<Form | null>(initial);
  const [draft, dispatch] = useReducer(formReducer, initial, draftOf);
  const [selected, setSelected] = useState(0);
  const [serverErrors, setServerErrors] = useState<EditorErrors>(NO_ERRORS);
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [tab, setTab] = useState<TabName>("fields");
  const fieldTypes = useFieldTypes();
  const catalogue = fieldTypes.data?.length ? fieldTypes.data : FIELD_TYPES;
  const projects = useProjects(canView(me, RESOURCES.projects));
  const contactFields = useFields("contact");

  const editable = saved ? canAny(me, FORMS, ["edit_own", "edit_others"]) : canAny(me, FORMS, ["create"]);
  const mayPublish = canAny(me, FORMS, ["publish"]);
  const deletable = saved !== null && canAny(me, FORMS, ["delete_own", "delete_others"]);
  const dirty = isDirty(draft, saved);
  const localDraft = useLocalDraft(`form:${saved?.id ?? "new"}`, draft, dirty);
  const offeredDraft = localDraft.offered && isDirty(localDraft.offered.value, saved) ? localDraft.offered : null;

  const keys = draft.fields.map((f) => f.key);
  const local = useMemo(() => localProblems(draft), [draft]);
  const warnings = useMemo(() => localWarnings(draft), [draft]);
  // Local problems show once a save was tried; from then on they follow the edits.
  const errors = useMemo(
    () => mergeErrors(serverErrors, checked ? errorsFromLocal(local, keys) : NO_ERRORS),
    // The field list is compared by content, not identity.
    // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/use-memo
    [serverErrors, checked, local, keys.join("|")],
  );
  const previewFields = useMemo(() => draft.fields.map(fieldToWrite), [draft.fields]);
  const tabs: TabName[] = saved ? ["fields", "settings", "actions", "embed"] : ["fields", "settings", "actions"];

  async function save() {
    setChecked(true);
    setServerErrors(NO_ERRORS);
    const problems = errorsFromLocal(local, keys);
    if (Object.keys(local).length) {
      setTab(tabOf(problems) ?? tab);
      const first = Object.keys(problems.fields)[0];
      if (first) setSelected(Math.max(0, keys.indexOf(first)));
      return;
    }
    setBusy(true);
    const sentKeys = [...keys];
    try {
      let result: Form;
      if (saved) {
        const patch = patchOf(draft, saved);
        if (!patch) return;
        result = await formsApi.update(saved.id, saved.version, patch);
      } else {
        result = await formsApi.create(toWrite(draft));
      }
      notify("success", saved ? "Form saved" : "Form created", result.name);
      queryClient.setQueryData(formKey(result.id), result);
      void queryClient.invalidateQueries({ queryKey: [...formsKey, "list"] });
      void queryClient.invalidateQueries({ queryKey: [...formsKey, "pick"] });
      setSaved(result);
      setChecked(false);
      dispatch({ type: "replace", draft: draftOf(result) });
      if (!saved) {
        announceCreated("form", result.id, result.name);
        void navigate(`/forms/${result.id}`, { replace: true });
      }
    } catch (e) {
      const mapped = errorsFromProblem(e, sentKeys);
      setServerErrors(mapped);
      const wanted = tabOf(mapped);
      if (wanted) setTab(wanted);
      const first = Object.keys(mapped.fields)[0];
      if (first) setSelected(Math.max(0, keys.indexOf(first)));
    } finally {
      setBusy(false);
    }
  }

  const projectItems = (projects.data ?? []).map((p) => ({ id: p.id, text: p.name }));
  for (const id of saved?.projects ?? [])
    if (!projectItems.some((i) => i.id === id)) projectItems.push({ id, text: `Project #${id}` });
  const identifiers = (contactFields.data ?? [])
    .filter((f) => f.is_identifier || f.alias === "email")
    .map((f) => ({ id: f.alias, label: `${f.label} (${f.alias})` }));
  if (!identifiers.some((f) => f.id === draft.identify_by))
    identifiers.unshift({ id: draft.identify_by, label: draft.identify_by });
  const sErr = (name: string) => invalid(settingError(errors, name));
  const publicUrl = saved?.url;

  const fieldsTab = (
    <div className="trellis-fe">
      <div className="trellis-fe__edit">
        <FieldList
          draft={draft}
          dispatch={dispatch}
          catalogue={catalogue}
          errors={errors}
          readOnly={!editable}
          selected={selected}
          onSelect={setSelected}
        />
        <div className="trellis-panel">
          <FieldSettings
            draft={draft}
            dispatch={dispatch}
            catalogue={catalogue}
            errors={errors}
            readOnly={!editable}
            index={selected}
          />
        </div>
      </div>
      <aside className="trellis-fe__preview" aria-labelledby="form-preview-heading">
        <h2 id="form-preview-heading" className="trellis-h3">
          Preview
        </h2>
        <p className="trellis-muted">As a visitor sees it on the hosted page.</p>
        <FormPreview fields={previewFields} title={draft.name} />
      </aside>
    </div>
  );

  const settingsTab = (
    <Stack gap={6} className="trellis-fe__settings-tab">
      <fieldset disabled={!editable} className="trellis-fe__plain">
        <Stack gap={6}>
          <div className="trellis-grid-2">
            <TextInput
              id="form-name"
              labelText="Name"
              value={draft.name}
              onChange={(e) => dispatch({ type: "setName", name: e.target.value })}
              {...sErr("name")}
            />
            <TextInput
              id="form-alias"
              labelText="Address (slug)"
              value={draft.alias}
              helperText={`The hosted page is /f/${draft.alias || "…"}${draft.aliasEdited ? "" : " (follows the name until you change it)"}`}
              onChange={(e) => dispatch({ type: "setAlias", alias: e.target.value })}
              {...sErr("alias")}
            />
          </div>
          <TextArea
            id="form-description"
            labelText="Description (only your team sees it)"
            rows={2}
            value={draft.description}
            onChange={(e) => dispatch({ type: "set", patch: { description: e.target.value } })}
            {...sErr("description")}
          />
          <div className="trellis-grid-2">
            {projectItems.length ? (
              <MultiSelect<{ id: number; text: string }>
                id="form-projects"
                titleText="Projects"
                label={draft.projects.length ? `${draft.projects.length} selected` : "None"}
                items={projectItems}
                itemToString={(i) => i?.text ?? ""}
                selectedItems={projectItems.filter((i) => draft.projects.includes(i.id))}
                sortItems={(l) => [...l]}
                onChange={({ selectedItems }) =>
                  dispatch({ type: "set", patch: { projects: (selectedItems ?? []).map((i) => i.id) } })
                }
                {...sErr("projects")}
              />
            ) : null}
            <ComboBox<{ id: string; label: string }>
              id="form-identify-by"
              titleText="Find the contact by"
              helperText={warnings.identify_by ?? "A submission updates the contact with this value, or creates one."}
              warn={!!warnings.identify_by}
              warnText={warnings.identify_by}
              items={identifiers}
              itemToString={(f) => (f ? f.label : "")}
              selectedItem={identifiers.find((f) => f.id === draft.identify_by) ?? null}
              onChange={({ selectedItem }) =>
                selectedItem && dispatch({ type: "set", patch: { identify_by: selectedItem.id } })
              }
              {...sErr("identify_by")}
            />
          </div>
          <Checkbox
            id="form-published"
            labelText="Published (accepts submissions)"
            checked={draft.is_published}
            disabled={!mayPublish}
            helperText={mayPublish ? undefined : "Your role may not publish forms."}
            onChange={(_e, { checked: on }) => dispatch({ type: "set", patch: { is_published: on } })}
          />
          <fieldset className="trellis-fieldset">
            <legend className="cds--label">After a submission</legend>
            <RadioButtonGroup
              legendText="The visitor sees"
              name="form-success-kind"
              valueSelected={draft.success.kind}
              onChange={(v) =>
                dispatch({
                  type: "set",
                  patch: { success: { ...draft.success, kind: v === "redirect" ? "redirect" : "message" } },
                })
              }
            >
              <RadioButton id="form-success-message" value="message" labelText="A message" />
              <RadioButton id="form-success-redirect" value="redirect" labelText="Another page (redirect)" />
            </RadioButtonGroup>
            {draft.success.kind === "message" ? (
              <TextArea
                id="form-success-text"
                labelText="Message"
                rows={3}
                value={draft.success.message}
                onChange={(e) =>
                  dispatch({ type: "set", patch: { success: { ...draft.success, message: e.target.value } } })
                }
                {...invalid(settingError(errors, "success/message") ?? settingError(errors, "success"))}
              />
            ) : (
              <TextInput
                id="form-success-url"
                labelText="Redirect URL"
                type="url"
                placeholder="https://www.example.com/thanks"
                value={draft.success.redirect_url}
                onChange={(e) =>
                  dispatch({ type: "set", patch: { success: { ...draft.success, redirect_url: e.target.value } } })
                }
                {...invalid(settingError(errors, "success/redirect_url") ?? settingError(errors, "success"))}
              />
            )}
          </fieldset>
          <TagInput
            id="form-origins"
            labelText="Allowed origins"
            suggest={false}
            helperText="Websites that may post the embedded form, such as https://www.example.com (Enter or comma after each). The hosted page is always allowed."
            value={draft.allowed_origins}
            onChange={(v) => dispatch({ type: "set", patch: { allowed_origins: v } })}
            {...sErr("allowed_origins")}
          />
        </Stack>
      </fieldset>
    </Stack>
  );

  const panels: Record<TabName, { label: string; node: React.ReactNode }> = {
    fields: { label: `Fields${Object.keys(errors.fields).length ? " (!)" : ""}`, node: fieldsTab },
    settings: { label: `Settings${Object.keys(errors.settings).length ? " (!)" : ""}`, node: settingsTab },
    actions: {
      label: `Submit actions${Object.keys(errors.actions).length ? " (!)" : ""}`,
      node: <ActionsEditor actions={draft.actions} dispatch={dispatch} errors={errors} readOnly={!editable} />,
    },
    embed: { label: "Embed", node: saved ? <EmbedPanel form={saved} /> : null },
  };

  return (
    <>
      <UnsavedChangesPrompt dirty={dirty} what="form changes" />
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/forms">Forms</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <RestoreDraftBanner
        draft={offeredDraft}
        onRestore={(value) => {
          dispatch({ type: "replace", draft: value });
          localDraft.settle(false);
        }}
        onDiscard={() => localDraft.settle(true)}
      />
      <PageHeader
        title={saved ? saved.name : "New form"}
        description={
          saved ? (
            <span className="trellis-chips">
              {saved.is_published ? (
                <Tag size="sm" type="blue">
                  Published
                </Tag>
              ) : (
                <Tag size="sm" type="warm-gray">
                  Unpublished
                </Tag>
              )}
              {publicUrl ? (
                <a href={publicUrl} target="_blank" rel="noopener noreferrer">
                  /f/{saved.alias}
                </a>
              ) : null}
              <span className="trellis-muted">
                {saved.submission_count.toLocaleString()} submissions · updated {formatDateTime(saved.updated_at)}
              </span>
              {dirty ? (
                <Tag size="sm" type="outline">
                  Unsaved changes
                </Tag>
              ) : null}
            </span>
          ) : (
            "Add the fields, say what happens on a submission, then save to get the embed code."
          )
        }
        actions={
          <div className="trellis-actions">
            {saved ? (
              <Button
                kind="tertiary"
                renderIcon={ChartColumn}
                onClick={() => void navigate(`/forms/${saved.id}/results`)}
              >
                Results
              </Button>
            ) : null}
            {editable ? (
              <Button renderIcon={Save} disabled={busy || (saved !== null && !dirty)} onClick={() => void save()}>
                {busy ? "Saving…" : saved ? "Save" : "Create form"}
              </Button>
            ) : null}
            {deletable ? (
              <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setDeleting(true)}>
                Delete
              </Button>
            ) : null}
          </div>
        }
      />
      {errors.general.length ? (
        <InlineNotification
          kind="error"
          lowContrast
          hideCloseButton
          title="Could not save"
          subtitle={errors.general.join(" ")}
        />
      ) : null}
      <Tabs
        selectedIndex={Math.max(0, tabs.indexOf(tab))}
        onChange={({ selectedIndex }) => setTab(tabs[selectedIndex] ?? "fields")}
      >
        <TabList aria-label="Form sections">
          {tabs.map((t) => (
            <Tab key={t}>{panels[t].label}</Tab>
          ))}
        </TabList>
        <TabPanels>
          {tabs.map((t) => (
            <TabPanel key={t}>{tab === t ? panels[t].node : null}</TabPanel>
          ))}
        </TabPanels>
      </Tabs>
      {saved ? (
        <ConfirmDelete
          open={deleting}
          title={`Delete ${saved.name}?`}
          body="The form and its submissions are deleted; its hosted page and embedded copies stop accepting submissions. Contacts keep their data."
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await formsApi.remove(saved.id);
            notify("success", "Form deleted", saved.name);
            queryClient.removeQueries({ queryKey: formKey(saved.id) });
            await queryClient.invalidateQueries({ queryKey: formsKey });
            void navigate("/forms");
          }}
        />
      ) : null}
    </>
  );
}
