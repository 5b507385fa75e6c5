import { Button, Form, InlineNotification, Modal, Stack, Tag, TextArea, TextInput } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ifMatch, ok } from "../api/client";
import { describeError } from "../api/problem";
import type { Role } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable } from "../components/ListTable";
import { PermissionMatrix } from "../components/PermissionMatrix";
import { FormMessages, PageHeader, PageLoading, useFormErrors, useResetOnOpen } from "../components/common";
import { useToast } from "../components/Toasts";
import { RESOURCES } from "../lib/resources";

const FIELDS = ["name", "description", "permissions"] as const;

function RoleEditor({
  open,
  role,
  readOnly,
  onClose,
  onSaved,
}: {
  open: boolean;
  role: Role | null;
  readOnly: boolean;
  onClose: () => void;
  onSaved: (role: Role) => void;
}) {
  const catalog = useQuery({
    queryKey: ["permissions"],
    queryFn: async () => ok(await api.GET("/api/v2/permissions")),
    staleTime: Infinity,
    enabled: open,
  });
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [permissions, setPermissions] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FIELDS);
  const { clear } = form;

  useResetOnOpen(open, role, () => {
    setName(role?.name ?? "");
    setDescription(role?.description ?? "");
    const perms: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(role?.permissions ?? {})) if (v) perms[k] = [...v];
    setPermissions(perms);
    clear();
  });

  async function submit() {
    if (readOnly) return onClose();
    setBusy(true);
    form.clear();
    try {
      const body = { name, description, permissions };
      const saved = role
        ? ok(
            await api.PATCH("/api/v2/roles/{role_id}", {
              params: { path: { role_id: role.id } },
              headers: ifMatch(role.version),
              body,
            }),
          )
        : ok(await api.POST("/api/v2/roles", { body }));
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
      modalHeading={role ? (readOnly ? role.name : `Edit ${role.name}`) : "New role"}
      primaryButtonText={readOnly ? "Close" : busy ? "Saving…" : role ? "Save" : "Create"}
      primaryButtonDisabled={busy || (!readOnly && name.trim() === "")}
      secondaryButtonText={readOnly ? undefined : "Cancel"}
      passiveModal={false}
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
    >
      <Form
        aria-label={role ? `Role ${role.name}` : "New role"}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          {role?.is_builtin ? (
            <InlineNotification
              kind="info"
              lowContrast
              hideCloseButton
              title="Built-in role"
              subtitle="Built-in roles cannot be changed. Create a new role to grant a different set of permissions."
            />
          ) : null}
          {role?.is_admin ? (
            <InlineNotification
              kind="info"
              lowContrast
              hideCloseButton
              title="Administrator role"
              subtitle="Administrators hold every permission."
            />
          ) : null}
          <FormMessages errors={form.errors} />
          <TextInput
            id="role-name"
            labelText="Name"
            value={name}
            readOnly={readOnly}
            onChange={(e) => setName(e.target.value)}
            {...form.fieldProps("name")}
          />
          <TextArea
            id="role-description"
            labelText="Description"
            rows={2}
            value={description}
            readOnly={readOnly}
            onChange={(e) => setDescription(e.target.value)}
            {...form.fieldProps("description")}
          />
          {form.errors.fields.permissions ? (
            <InlineNotification
              kind="error"
              lowContrast
              hideCloseButton
              title="Permissions"
              subtitle={form.errors.fields.permissions}
            />
          ) : null}
          {catalog.isPending ? (
            <PageLoading label="Loading permissions" />
          ) : catalog.isError ? (
            <InlineNotification
              kind="error"
              hideCloseButton
              title="Could not load permissions"
              subtitle={describeError(catalog.error)}
            />
          ) : (
            <div style={{ overflowX: "auto" }}>
              <PermissionMatrix
                catalog={catalog.data}
                value={permissions}
                onChange={setPermissions}
                readOnly={readOnly}
                allGranted={role?.is_admin ?? false}
              />
            </div>
          )}
        </Stack>
      </Form>
    </Modal>
  );
}

export function RolesPage() {
  const { can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Role | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Role | null>(null);

  const list = useQuery({
    queryKey: ["roles", "all"],
    queryFn: async () => ok(await api.GET("/api/v2/roles", { params: { query: { "page[size]": 500, sort: "name" } } })),
  });

  const mayEdit = can(RESOURCES.roles, "edit_others") || can(RESOURCES.roles, "edit_own");
  const readOnlyFor = (r: Role | null) => r !== null && (r.is_builtin || !mayEdit);

  return (
    <>
      <PageHeader title="Roles" description="A role is a set of permissions per resource. Every user has one role." />
      <ListTable<Role>
        title="All roles"
        columns={[
          {
            key: "name",
            header: "Name",
            render: (r) => (
              <Button kind="ghost" size="sm" onClick={() => setEditing(r)}>
                {r.name}
              </Button>
            ),
          },
          { key: "description", header: "Description", render: (r) => r.description },
          {
            key: "kind",
            header: "Kind",
            render: (r) => (
              <>
                {r.is_builtin ? (
                  <Tag type="blue" size="sm">
                    Built-in
                  </Tag>
                ) : (
                  <Tag type="gray" size="sm">
                    Custom
                  </Tag>
                )}
                {r.is_admin ? (
                  <Tag type="purple" size="sm">
                    Administrator
                  </Tag>
                ) : null}
              </>
            ),
          },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(r) => r.name}
        toolbar={
          can(RESOURCES.roles, "create") ? (
            <Button renderIcon={Add} onClick={() => setCreating(true)}>
              New role
            </Button>
          ) : undefined
        }
        actions={[
          { label: "View", onClick: (r) => setEditing(r), show: (r) => readOnlyFor(r) },
          { label: "Edit", onClick: (r) => setEditing(r), show: (r) => !readOnlyFor(r) },
          {
            label: "Delete",
            danger: true,
            onClick: (r) => setDeleting(r),
            show: (r) => !r.is_builtin && can(RESOURCES.roles, "delete_others"),
          },
        ]}
      />
      <RoleEditor
        open={creating || editing !== null}
        role={editing}
        readOnly={readOnlyFor(editing)}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        onSaved={(r) => {
          notify("success", creating ? "Role created" : "Role saved", r.name);
          setCreating(false);
          setEditing(null);
          void queryClient.invalidateQueries({ queryKey: ["roles"] });
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "role"}?`}
        body="A role that users still have cannot be deleted."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/roles/{role_id}", {
            params: { path: { role_id: deleting.id } },
            headers: ifMatch(deleting.version),
          });
          notify("success", "Role deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: ["roles"] });
        }}
      />
    </>
  );
}
