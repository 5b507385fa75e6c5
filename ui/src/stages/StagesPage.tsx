import { Button, Form, IconButton, InlineNotification, Modal, Stack, TextArea, TextInput } from "@carbon/react";
import { Add, ArrowDown, ArrowUp, Edit, TrashCan } from "@carbon/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ifMatch, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useStages } from "../api/queries";
import type { Stage } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { FormMessages, PageHeader, PageLoading, useFormErrors, useResetOnOpen } from "../components/common";
import { useToast } from "../components/Toasts";
import { RESOURCES } from "../lib/resources";

/** The order after moving the item at `from` to `to`. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items];
  const [moved] = next.splice(from, 1);
  if (moved === undefined) return next;
  next.splice(Math.max(0, Math.min(to, next.length)), 0, moved);
  return next;
}

function StageFormModal({
  open,
  stage,
  onClose,
  onSaved,
}: {
  open: boolean;
  stage: Stage | null;
  onClose: () => void;
  onSaved: (s: Stage) => void;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(["name", "description"]);
  const { clear } = form;
  useResetOnOpen(open, stage, () => {
    setName(stage?.name ?? "");
    setDescription(stage?.description ?? "");
    clear();
  });
  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const saved = stage
        ? ok(
            await api.PATCH("/api/v2/stages/{stage_id}", {
              params: { path: { stage_id: stage.id } },
              headers: ifMatch(stage.version),
              body: { name, description },
            }),
          )
        : ok(await api.POST("/api/v2/stages", { body: { name, description } }));
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
      modalHeading={stage ? `Rename ${stage.name}` : "New stage"}
      primaryButtonText={busy ? "Saving…" : stage ? "Save" : "Create"}
      primaryButtonDisabled={busy || !name.trim()}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
      shouldSubmitOnEnter
    >
      <Form
        aria-label={stage ? "Edit stage" : "New stage"}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          <FormMessages errors={form.errors} />
          <TextInput
            id="stage-name"
            labelText="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-modal-primary-focus
            {...form.fieldProps("name")}
          />
          <TextArea
            id="stage-description"
            labelText="Description"
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            {...form.fieldProps("description")}
          />
        </Stack>
      </Form>
    </Modal>
  );
}

export function StagesPage() {
  const { can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const stages = useStages();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Stage | null>(null);
  const [deleting, setDeleting] = useState<Stage | null>(null);
  const [moving, setMoving] = useState(false);
  const canEdit = can(RESOURCES.stages, "edit_others");
  const list = stages.data ?? [];
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["stages"] });

  async function move(from: number, to: number) {
    const order = moveItem(list, from, to);
    setMoving(true);
    try {
      for (const [position, stage] of order.entries()) {
        if (stage.position === position) continue;
        await api.PATCH("/api/v2/stages/{stage_id}", {
          params: { path: { stage_id: stage.id } },
          headers: ifMatch(stage.version),
          body: { position },
        });
      }
    } catch (e) {
      notify("error", "Could not reorder the stages", describeError(e));
    } finally {
      await refresh();
      setMoving(false);
      window.requestAnimationFrame(() =>
        document.getElementById(`stage-${order[to]?.id}`)?.querySelector<HTMLElement>("button")?.focus(),
      );
    }
  }

  return (
    <>
      <PageHeader
        title="Stages"
        description="The steps of your lifecycle, in order (for example Lead, Qualified, Customer)."
        actions={
          can(RESOURCES.stages, "create") ? (
            <Button renderIcon={Add} onClick={() => setCreating(true)}>
              New stage
            </Button>
          ) : undefined
        }
      />
      {stages.isPending ? <PageLoading /> : null}
      {stages.isError ? (
        <InlineNotification
          kind="error"
          title="Could not load the stages"
          subtitle={describeError(stages.error)}
          hideCloseButton
        />
      ) : null}
      {stages.data && list.length === 0 ? <p className="trellis-muted">No stages yet.</p> : null}
      <ol className="trellis-ordered" aria-label="Stages in order" aria-busy={moving}>
        {list.map((s, i) => (
          <li key={s.id} id={`stage-${s.id}`}>
            <span className="trellis-ordered__n" aria-hidden>
              {i + 1}
            </span>
            <div className="trellis-ordered__body">
              <strong>{s.name}</strong>
              {s.description ? <div className="trellis-muted">{s.description}</div> : null}
            </div>
            {canEdit ? (
              <>
                <IconButton
                  kind="ghost"
                  size="sm"
                  label={`Move ${s.name} up`}
                  disabled={i === 0 || moving}
                  onClick={() => void move(i, i - 1)}
                >
                  <ArrowUp />
                </IconButton>
                <IconButton
                  kind="ghost"
                  size="sm"
                  label={`Move ${s.name} down`}
                  disabled={i === list.length - 1 || moving}
                  onClick={() => void move(i, i + 1)}
                >
                  <ArrowDown />
                </IconButton>
                <IconButton kind="ghost" size="sm" label={`Rename ${s.name}`} onClick={() => setEditing(s)}>
                  <Edit />
                </IconButton>
              </>
            ) : null}
            {can(RESOURCES.stages, "delete_others") ? (
              <IconButton kind="ghost" size="sm" label={`Delete ${s.name}`} onClick={() => setDeleting(s)}>
                <TrashCan />
              </IconButton>
            ) : null}
          </li>
        ))}
      </ol>
      <StageFormModal
        open={creating || editing !== null}
        stage={editing}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        onSaved={(s) => {
          notify("success", creating ? "Stage created" : "Stage saved", s.name);
          setCreating(false);
          setEditing(null);
          void refresh();
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete the stage ${deleting?.name ?? ""}?`}
        body="Contacts in this stage are kept, with no stage."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/stages/{stage_id}", { params: { path: { stage_id: deleting.id } } });
          notify("success", "Stage deleted", deleting.name);
          await refresh();
        }}
      />
    </>
  );
}
