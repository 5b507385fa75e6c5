import { Button, CopyButton, Form, InlineNotification, Modal, Stack, Tag, TextInput } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import type { Token, TokenCreated } from "../api/types";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable } from "../components/ListTable";
import { formatDateTime, FormMessages, PageHeader, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";

const FIELDS = ["name", "scopes", "expires_at"] as const;

function parseScopes(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function CreateTokenModal({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (token: TokenCreated) => void;
}) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState("");
  const [expires, setExpires] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FIELDS);

  async function submit() {
    setBusy(true);
    form.clear();
    try {
      const parsed = parseScopes(scopes);
      const body: { name: string; scopes?: string[]; expires_at?: string } = { name };
      if (parsed.length > 0) body.scopes = parsed;
      if (expires) body.expires_at = new Date(`${expires}T23:59:59`).toISOString();
      const created = ok(await api.POST("/api/v2/tokens", { body }));
      setName("");
      setScopes("");
      setExpires("");
      onCreated(created);
    } catch (error) {
      form.fromError(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open={open}
      modalHeading="New API token"
      primaryButtonText={busy ? "Creating…" : "Create"}
      primaryButtonDisabled={busy || !name.trim()}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void submit()}
    >
      <Form
        aria-label="New API token"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap={5}>
          <FormMessages errors={form.errors} />
          <TextInput
            id="token-name"
            labelText="Name"
            helperText="What the token is for, e.g. CRM sync"
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-modal-primary-focus
            {...form.fieldProps("name")}
          />
          <TextInput
            id="token-scopes"
            labelText="Scopes (optional)"
            helperText="Separated by commas or spaces. Empty: everything your role allows."
            value={scopes}
            onChange={(e) => setScopes(e.target.value)}
            {...form.fieldProps("scopes")}
          />
          <TextInput
            id="token-expires"
            labelText="Expires on (optional)"
            type="date"
            value={expires}
            onChange={(e) => setExpires(e.target.value)}
            {...form.fieldProps("expires_at")}
          />
        </Stack>
      </Form>
    </Modal>
  );
}

function SecretModal({ token, onClose }: { token: TokenCreated | null; onClose: () => void }) {
  return (
    <Modal
      open={token !== null}
      modalHeading="Copy your new token"
      primaryButtonText="Done"
      onRequestClose={onClose}
      onRequestSubmit={onClose}
      preventCloseOnClickOutside
    >
      {token ? (
        <Stack gap={5}>
          <InlineNotification
            kind="warning"
            lowContrast
            hideCloseButton
            title="Shown only once"
            subtitle="Store the token somewhere safe now. Trellis keeps only a hash of it and cannot show it again."
          />
          <div style={{ display: "flex", alignItems: "center", gap: "0.5rem" }}>
            <code className="trellis-secret" aria-label="Token secret">
              {token.token}
            </code>
            <CopyButton
              iconDescription="Copy token"
              feedback="Copied"
              onClick={() => void navigator.clipboard?.writeText(token.token)}
            />
          </div>
        </Stack>
      ) : null}
    </Modal>
  );
}

export function TokensPage() {
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<TokenCreated | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);

  const list = useQuery({
    queryKey: ["tokens"],
    queryFn: async () => ok(await api.GET("/api/v2/tokens", { params: { query: { "page[size]": 500 } } })),
  });

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let scripts and integrations call the API as you. They are shown once, when created."
      />
      <ListTable<Token>
        title="Your tokens"
        columns={[
          { key: "name", header: "Name", render: (t) => t.name },
          { key: "prefix", header: "Prefix", render: (t) => <code>{t.prefix}…</code> },
          {
            key: "scopes",
            header: "Scopes",
            render: (t) =>
              t.scopes.length === 0 ? (
                <span className="trellis-muted">All of your role</span>
              ) : (
                t.scopes.map((s) => (
                  <Tag key={s} size="sm" type="cool-gray">
                    {s}
                  </Tag>
                ))
              ),
          },
          { key: "expires", header: "Expires", render: (t) => (t.expires_at ? formatDateTime(t.expires_at) : "Never") },
          {
            key: "last_used",
            header: "Last used",
            render: (t) => (t.last_used_at ? formatDateTime(t.last_used_at) : "Never"),
          },
          { key: "created", header: "Created", render: (t) => formatDateTime(t.created_at) },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(t) => t.name}
        emptyText="You have no API tokens."
        toolbar={
          <Button renderIcon={Add} onClick={() => setCreating(true)}>
            New token
          </Button>
        }
        actions={[{ label: "Revoke", danger: true, onClick: (t) => setRevoking(t) }]}
      />
      <CreateTokenModal
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(t) => {
          setCreating(false);
          setSecret(t);
          void queryClient.invalidateQueries({ queryKey: ["tokens"] });
        }}
      />
      <SecretModal token={secret} onClose={() => setSecret(null)} />
      <ConfirmDelete
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? "token"}?`}
        confirmLabel="Revoke"
        body="Programs using this token stop working at once."
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await api.DELETE("/api/v2/tokens/{token_id}", { params: { path: { token_id: revoking.id } } });
          notify("success", "Token revoked", revoking.name);
          await queryClient.invalidateQueries({ queryKey: ["tokens"] });
        }}
      />
    </>
  );
}
