/**
 * Assets: the list (search, projects filter, downloads per asset, copy the tracked link), an
 * upload area (drag and drop), publish toggles and the gate form.
 */
import { Copy } from "@carbon/icons-react";
import {
  Button,
  Dropdown,
  FileUploaderDropContainer,
  InlineLoading,
  Stack,
  TableToolbarSearch,
  Tag,
  TextInput,
  Tile,
  Toggle,
} from "@carbon/react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable, type PageState } from "../components/ListTable";
import { FormMessages, formatDateTime, PageHeader, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";
import { useProjects } from "../emails/api";
import { useFormsList } from "../forms/api";
import { canAny, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useDebounced } from "../lib/useDebounced";
import { assetsApi, assetsKey, formatSize, useAssetsList, type Asset } from "./api";

const ASSETS = RESOURCES.assets;
const ACCEPT = [
  ".pdf",
  ".png",
  ".jpg",
  ".jpeg",
  ".gif",
  ".webp",
  ".svg",
  ".zip",
  ".docx",
  ".xlsx",
  ".pptx",
  ".txt",
  ".csv",
  ".mp4",
];
const UPLOAD_FIELDS = ["file", "name", "slug", "gate_form_id", "projects"] as const;

export function AssetsPage() {
  const { me } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim());
  const [project, setProject] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Asset | null>(null);
  const [uploading, setUploading] = useState(false);
  const [name, setName] = useState("");
  const [publish, setPublish] = useState(true);
  const [gate, setGate] = useState<{ id: number; name: string } | null>(null);
  const form = useFormErrors(UPLOAD_FIELDS);
  const projects = useProjects(canView(me, RESOURCES.projects));
  const forms = useFormsList(canView(me, RESOURCES.forms));
  const list = useAssetsList({ page: pageState.page, size: pageState.size, q, project });
  const mayCreate = canAny(me, ASSETS, ["create"]);
  const mayEdit = canAny(me, ASSETS, ["edit_own", "edit_others"]);
  const mayDelete = canAny(me, ASSETS, ["delete_own", "delete_others"]);

  async function upload(files: File[]) {
    form.clear();
    setUploading(true);
    try {
      for (const file of files) {
        const asset = await assetsApi.upload(file, {
          name: files.length === 1 ? name.trim() : "",
          is_published: publish,
          gate_form_id: gate?.id ?? null,
        });
        notify("success", "Uploaded", asset.name);
      }
      setName("");
      void queryClient.invalidateQueries({ queryKey: assetsKey });
    } catch (e) {
      form.fromError(e);
    } finally {
      setUploading(false);
    }
  }

  async function copyLink(asset: Asset) {
    try {
      await navigator.clipboard.writeText(asset.url);
      notify("success", "Link copied", asset.url);
    } catch {
      notify("warning", "Copy the link by hand", asset.url);
    }
  }

  async function togglePublished(asset: Asset) {
    try {
      await assetsApi.update(asset.id, asset.version, { is_published: !asset.is_published });
      void queryClient.invalidateQueries({ queryKey: assetsKey });
    } catch (e) {
      notify("error", "Could not save", describeError(e));
    }
  }

  const projectItems: ({ id: number; name: string } | null)[] = [null, ...(projects.data ?? [])];
  const gateItems: ({ id: number; name: string } | null)[] = [
    null,
    ...(forms.data ?? []).map((f) => ({ id: f.id, name: f.name })),
  ];
  return (
    <>
      <PageHeader
        title="Assets"
        description="Files to download through tracked links (/a/…): PDF, images, ZIP, Office files, text, CSV and MP4. A gated asset asks for a form first."
      />
      {mayCreate ? (
        <Tile>
          <Stack gap={4}>
            <FormMessages errors={form.errors} title="The file was not accepted" />
            <div style={{ display: "flex", gap: "1rem", flexWrap: "wrap", alignItems: "flex-end" }}>
              <TextInput
                id="asset-name"
                labelText="Name (optional: the file name)"
                value={name}
                maxLength={200}
                onChange={(e) => setName(e.target.value)}
                {...form.fieldProps("name")}
              />
              <Dropdown<{ id: number; name: string } | null>
                id="asset-gate"
                titleText="Gate form"
                label="No gate"
                items={gateItems}
                itemToString={(f) => (f ? f.name : "No gate: download at once")}
                selectedItem={gate}
                onChange={({ selectedItem }) => setGate(selectedItem ?? null)}
              />
              <Toggle
                id="asset-publish"
                labelText="Published"
                labelA="No"
                labelB="Yes"
                toggled={publish}
                onToggle={setPublish}
              />
            </div>
            <FileUploaderDropContainer
              id="asset-file"
              multiple
              labelText="Drag files here or click to choose them"
              accept={ACCEPT}
              onAddFiles={(_e, { addedFiles }) => {
                if (addedFiles.length) void upload(addedFiles);
              }}
            />
            {form.errors.fields.file ? (
              <p role="alert" className="trellis-error">
                {form.errors.fields.file}
              </p>
            ) : null}
            {uploading ? <InlineLoading description="Uploading…" /> : null}
          </Stack>
        </Tile>
      ) : null}
      {list.isError ? (
        <p role="alert" className="trellis-muted">
          Could not load the assets: {describeError(list.error)}
        </p>
      ) : null}
      <ListTable<Asset>
        title="All assets"
        columns={[
          { key: "name", header: "Name", render: (a) => a.name },
          {
            key: "file",
            header: "File",
            render: (a) => (
              <span>
                {a.filename} <span className="trellis-muted">({formatSize(a.size)})</span>
              </span>
            ),
          },
          {
            key: "published",
            header: "Published",
            render: (a) =>
              a.is_published ? (
                <Tag size="sm" type="blue">
                  Published
                </Tag>
              ) : (
                <Tag size="sm" type="warm-gray">
                  Unpublished
                </Tag>
              ),
          },
          {
            key: "gate",
            header: "Gate",
            render: (a) =>
              a.gate_form_id ? (
                <Tag size="sm" type="purple">
                  Form #{a.gate_form_id}
                </Tag>
              ) : (
                <span className="trellis-muted">—</span>
              ),
          },
          { key: "downloads", header: "Downloads", render: (a) => a.download_count.toLocaleString() },
          { key: "last", header: "Last download", render: (a) => formatDateTime(a.last_download_at) },
          {
            key: "link",
            header: "Link",
            render: (a) => (
              <Button
                kind="ghost"
                size="sm"
                renderIcon={Copy}
                iconDescription="Copy the download link"
                onClick={() => void copyLink(a)}
              >
                Copy link
              </Button>
            ),
          },
        ]}
        items={list.data?.data}
        loading={list.isPending}
        rowLabel={(a) => a.name}
        emptyText={q || project !== null ? "No asset matches these filters." : "No assets yet."}
        toolbar={
          <>
            <TableToolbarSearch
              persistent
              labelText="Search assets"
              placeholder="Search name or file"
              value={search}
              onChange={(e: unknown) => {
                const target = (e as { target?: { value?: string } } | undefined)?.target;
                setSearch(target?.value ?? "");
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            />
            {projectItems.length > 1 ? (
              <Dropdown<{ id: number; name: string } | null>
                id="assets-project"
                titleText=""
                hideLabel
                label="Project"
                type="inline"
                size="md"
                items={projectItems}
                itemToString={(p) => (p ? p.name : "All projects")}
                selectedItem={projectItems.find((p) => (p?.id ?? null) === project) ?? null}
                onChange={({ selectedItem }) => {
                  setProject(selectedItem?.id ?? null);
                  setPageState((s) => ({ ...s, page: 1 }));
                }}
              />
            ) : null}
          </>
        }
        actions={[
          { label: "Copy link", onClick: (a) => void copyLink(a) },
          { label: "Publish", onClick: (a) => void togglePublished(a), show: (a) => mayEdit && !a.is_published },
          { label: "Unpublish", onClick: (a) => void togglePublished(a), show: (a) => mayEdit && a.is_published },
          { label: "Delete", danger: true, onClick: (a) => setDeleting(a), show: () => mayDelete },
        ]}
        pagination={{ state: pageState, total: list.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "asset"}?`}
        body="The file and its download history are deleted; its links stop working."
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await assetsApi.remove(deleting.id);
          notify("success", "Asset deleted", deleting.name);
          await queryClient.invalidateQueries({ queryKey: assetsKey });
        }}
      />
    </>
  );
}
