import {
  Button,
  Form,
  Modal,
  PasswordInput,
  Select,
  SelectItem,
  Stack,
  Tag,
  TableToolbarSearch,
  TextInput,
  Toggle,
} from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, ifMatch, ok } from "../api/client";
import type { User } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, FormMessages, PageHeader, useFormErrors, useResetOnOpen } from "../components/common";
import { useToast } from "../components/Toasts";
import { canAny } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { timeZones } from "../lib/timezones";
import { useDebounced } from "../lib/useDebounced";

const FIELDS = ["email", "name", "role_id", "timezone", "locale", "is_active", "password"] as const;

interface Draft {
  email: string;
  name: string;
  role_id: string;
  timezone: string;
  locale: string;
  is_active: boolean;
  password: string;
}

function UserFormModal({
  open,
  user,
  onClose,
  onSaved,
}: {
  open: boolean;
  user: User | null;
  onClose: () => void;
  onSaved: (user: User) => void;
}) {
  const roles = useQuery({
    queryKey: ["roles", "all"],
    queryFn: async () => ok(await api.GET("/api/v2/roles", { params: { query: { "page[size]": 500, sort: "name" } } })),
    enabled: open,
  });
  const zones = useMemo(() => timeZones(), []);
  const [draft, setDraft] = useState<Draft>({
    email: "",
    name: "",
    role_id: "",
    timezone: "UTC",
    locale: "en",
    is_active: true,
    password: "",
  });
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FIELDS);
  const { clear } = form;

  useResetOnOpen(open, user, () => {
    setDraft({
      email: user?.email ?? "",
      name: user?.name ?? "",
      role_id: user ? String(user.role_id) : "",
      timezone: user?.timezone ?? "UTC",
      locale: user?.locale ?? "en",
      is_active: user?.is_active ?? true,
      password: "",
    });
    clear();
  });

  // Preselect the first non-admin role for a new user once roles are known (during render:
  // the guard on an empty role makes it run once).
  if (open && !user && draft.role_id === "" && roles.data) {
    const first = roles.data.data.find((r) => !r.is_admin) ?? roles.data.data[0];
    if (first) setDraft((d) => ({ ...d, role_id: String(first.id) }));
  }

  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const common = {
        email: draft.email,
        name: draft.name,
        role_id: Number(draft.role_id),
        timezone: draft.timezone,
        locale: draft.locale,
        is_active: draft.is_active,
      };
      const saved = user
        ? ok(
            await api.PATCH("/api/v2/users/{user_id}", {
              params: { path: { user_id: user.id } },
              headers: ifMatch(user.version),
              body: draft.password ? { ...common, password: draft.password } : common,
            }),
          )
        : ok(await api.POST("/api/v2/users", { body: { ...common, password: draft.password } }));
      onSaved(saved);
    } catch (error) {
      form.fromError(error);
    } finally {
      setBusy(false);
    }
  }

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const incomplete = !draft.email || draft.role_id === "" || (!user && !draft.password);

  return (
    <Modal
      open={open}
      modalHeading={user ? `Edit ${user.name || user.email}` : "New user"}
      primaryButtonText={busy ? "Saving…" : user ? "Save" : "Create"}
      primaryButtonDisabled={busy || incomplete}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
    >
      <Form
        aria-label={user ? "Edit user" : "New user"}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          <FormMessages errors={form.errors} />
          <TextInput
            id="user-email"
            labelText="Email"
            type="email"
            value={draft.email}
            onChange={(e) => set("email", e.target.value)}
            data-modal-primary-focus
            {...form.fieldProps("email")}
          />
          <TextInput
            id="user-name"
            labelText="Name"
            value={draft.name}
            onChange={(e) => set("name", e.target.value)}
            {...form.fieldProps("name")}
          />
          <Select
            id="user-role"
            labelText="Role"
            value={draft.role_id}
            onChange={(e) => set("role_id", e.target.value)}
            {...form.fieldProps("role_id")}
          >
            {draft.role_id === "" ? <SelectItem value="" text="Choose a role" /> : null}
            {(roles.data?.data ?? []).map((r) => (
              <SelectItem key={r.id} value={String(r.id)} text={r.name} />
            ))}
          </Select>
          <Select
            id="user-timezone"
            labelText="Time zone"
            value={draft.timezone}
            onChange={(e) => set("timezone", e.target.value)}
            {...form.fieldProps("timezone")}
          >
            {(zones.includes(draft.timezone) ? zones : [draft.timezone, ...zones]).map((z) => (
              <SelectItem key={z} value={z} text={z} />
            ))}
          </Select>
          <TextInput
            id="user-locale"
            labelText="Locale"
            helperText="A language tag such as en or de-CH"
            value={draft.locale}
            onChange={(e) => set("locale", e.target.value)}
            {...form.fieldProps("locale")}
          />
          <Toggle
            id="user-active"
            labelText="Active"
            labelA="Inactive"
            labelB="Active"
            toggled={draft.is_active}
            onToggle={(checked: boolean) => set("is_active", checked)}
          />
          {form.errors.fields.is_active ? (
            <p className="cds--form-requirement" style={{ display: "block" }}>
              {form.errors.fields.is_active}
            </p>
          ) : null}
          <PasswordInput
            id="user-password"
            labelText={user ? "New password (leave empty to keep)" : "Password"}
            autoComplete="new-password"
            value={draft.password}
            onChange={(e) => set("password", e.target.value)}
            {...form.fieldProps("password")}
          />
        </Stack>
      </Form>
    </Modal>
  );
}

export function UsersPage() {
  const { me, can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [editing, setEditing] = useState<User | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<User | null>(null);

  const list = useQuery({
    queryKey: ["users", "list", pageState, q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/users", {
          params: {
            query: { "page[number]": pageState.page, "page[size]": pageState.size, sort: "email", ...(q ? { q } : {}) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  const myId = me?.user.id;
  const canEdit = (u: User) =>
    can(RESOURCES.users, u.id === myId ? "edit_own" : "edit_others") || can(RESOURCES.users, "edit_others");
  const canDelete = (u: User) => u.id !== myId && can(RESOURCES.users, "delete_others");

  return (
    <>
      <PageHeader title="Users" description="People who can log in, their role and their preferences." />
      <ListTable<User>
        title="All users"
        columns={[
          { key: "email", header: "Email", render: (u) => u.email },
          { key: "name", header: "Name", render: (u) => u.name },
          { key: "role", header: "Role", render: (u) => u.role_name },
          {
            key: "active",
            header: "Status",
            render: (u) =>
              u.is_active ? (
                <Tag type="green" size="sm">
                  Active
                </Tag>
              ) : (
                <Tag type="gray" size="sm">
                  Inactive
                </Tag>
              ),
          },
          { key: "last_login", header: "Last login", render: (u) => formatDateTime(u.last_login_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(u) => u.email}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search users"
              placeholder="Search users"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {can(RESOURCES.users, "create") ? (
              <Button renderIcon={Add} onClick={() => setCreating(true)}>
                New user
              </Button>
            ) : null}
          </>
        }
        actions={[
          ...(canAny(me, RESOURCES.users, ["edit_own", "edit_others"])
            ? [{ label: "Edit", onClick: (u: User) => setEditing(u), show: canEdit }]
            : []),
          { label: "Delete", danger: true, onClick: (u: User) => setDeleting(u), show: canDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <UserFormModal
        open={creating || editing !== null}
        user={editing}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
        onSaved={(u) => {
          notify("success", creating ? "User created" : "User saved", u.email);
          setCreating(false);
          setEditing(null);
          void queryClient.invalidateQueries({ queryKey: ["users"] });
        }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.email ?? "user"}?`}
        body="The user can no longer log in. Their past changes stay in the audit log."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.DELETE("/api/v2/users/{user_id}", {
            params: { path: { user_id: deleting.id } },
            headers: ifMatch(deleting.version),
          });
          notify("success", "User deleted", deleting.email);
          await queryClient.invalidateQueries({ queryKey: ["users"] });
        }}
      />
    </>
  );
}
