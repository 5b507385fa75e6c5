import { Form, Modal, Stack, TextArea, TextInput } from "@carbon/react";
import { useState } from "react";
import { api, ifMatch, ok } from "../api/client";
import type { Project } from "../api/types";
import { FormMessages, useFormErrors, useResetOnOpen } from "../components/common";

const FIELDS = ["name", "description"] as const;

/** Create a project (no `project`) or edit one. */
export function ProjectFormModal({
  open,
  project,
  onClose,
  onSaved,
}: {
  open: boolean;
  project: Project | null;
  onClose: () => void;
  onSaved: (project: Project) => void;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FIELDS);
  const { clear } = form;

  useResetOnOpen(open, project, () => {
    setName(project?.name ?? "");
    setDescription(project?.description ?? "");
    clear();
  });

  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const saved = project
        ? ok(
            await api.PATCH("/api/v2/projects/{project_id}", {
              params: { path: { project_id: project.id } },
              headers: ifMatch(project.version),
              body: { name, description },
            }),
          )
        : ok(await api.POST("/api/v2/projects", { body: { name, description } }));
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
      modalHeading={project ? `Edit ${project.name}` : "New project"}
      primaryButtonText={busy ? "Saving…" : project ? "Save" : "Create"}
      primaryButtonDisabled={busy || name.trim() === ""}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      shouldSubmitOnEnter
    >
      <Form
        aria-label={project ? "Edit project" : "New project"}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          <FormMessages errors={form.errors} />
          <TextInput
            id="project-name"
            labelText="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-modal-primary-focus
            {...form.fieldProps("name")}
          />
          <TextArea
            id="project-description"
            labelText="Description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            rows={3}
            {...form.fieldProps("description")}
          />
        </Stack>
      </Form>
    </Modal>
  );
}
