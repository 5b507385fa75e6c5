import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  FileUploaderDropContainer,
  InlineLoading,
  InlineNotification,
  ProgressBar,
  ProgressIndicator,
  ProgressStep,
  Select,
  SelectItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
  Tile,
} from "@carbon/react";
import { Download, Upload } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useFields, useOwners } from "../api/queries";
import type { ImportJob, ImportPreview } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { TagInput } from "../components/fields/TagInput";
import { useToast } from "../components/Toasts";
import { duplicateTargets, hasIdentifier, mergeMapping, SKIP, TAGS_TARGET } from "../lib/importMapping";
import { canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";

const PREVIEW_BYTES = 1024 * 1024;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function statusTag(status: string) {
  const type = status === "done" ? "green" : status === "failed" ? "red" : status === "running" ? "blue" : "gray";
  return (
    <Tag size="sm" type={type}>
      {status}
    </Tag>
  );
}

function multipart(file: Blob, filename: string, options: Record<string, unknown>): FormData {
  const fd = new FormData();
  fd.append("file", file, filename);
  fd.append("options", JSON.stringify(options));
  return fd;
}

/** Upload → map → start; then the import's own page shows progress and the report. */
export function ImportPage() {
  const { can, me } = useAuth();
  const { notify } = useToast();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const fields = useFields("contact");
  const owners = useOwners();
  const segments = useQuery({
    queryKey: ["segments", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/segments", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    enabled: canView(me, RESOURCES.segments),
    staleTime: 60_000,
  });
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [tags, setTags] = useState<string[]>([]);
  const [segmentId, setSegmentId] = useState("");
  const [ownerId, setOwnerId] = useState("");
  const [busy, setBusy] = useState<null | "preview" | "start">(null);
  const form = useFormErrors([
    "file",
    "options",
    "options.tags",
    "options.segment_id",
    "options.owner_id",
    "options.mapping",
  ]);
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 10 });

  const past = useQuery({
    queryKey: ["imports", "list", pageState],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/imports", {
          params: { query: { "page[number]": pageState.page, "page[size]": pageState.size } },
        }),
      ),
    placeholderData: keepPreviousData,
    enabled: canView(me, RESOURCES.imports),
  });

  const targets = useMemo(() => (fields.data ?? []).map((f) => ({ alias: f.alias, label: f.label })), [fields.data]);
  const identifiers = useMemo(
    () => (fields.data ?? []).filter((f) => f.is_identifier).map((f) => f.alias),
    [fields.data],
  );
  const duplicates = duplicateTargets(mapping);
  const step = preview ? 1 : 0;

  async function pick(chosen: File) {
    setFile(chosen);
    setPreview(null);
    setBusy("preview");
    form.clear();
    try {
      const body = multipart(chosen.slice(0, PREVIEW_BYTES), chosen.name, {});
      const result = ok(await api.POST("/api/v2/imports/preview", { body: body as never }));
      // The fields must be known to keep the server's proposal (a proposal naming no field is dropped).
      const known = fields.data ?? (await fields.refetch()).data ?? [];
      setPreview(result);
      setMapping(
        mergeMapping(
          result.headers,
          known.map((f) => ({ alias: f.alias, label: f.label })),
          result.mapping,
        ),
      );
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(null);
    }
  }

  async function start() {
    if (!file || !preview) return;
    setBusy("start");
    form.clear();
    try {
      const options = {
        mapping: Object.fromEntries(Object.entries(mapping).map(([h, t]) => [h, t === SKIP ? null : t])),
        delimiter: preview.delimiter,
        encoding: preview.encoding,
        tags,
        ...(segmentId ? { segment_id: Number(segmentId) } : {}),
        ...(ownerId ? { owner_id: Number(ownerId) } : {}),
      };
      const res = await api.POST("/api/v2/imports", { body: multipart(file, file.name, options) as never });
      const job = res.data as unknown as ImportJob;
      notify("info", "Import started", file.name);
      void queryClient.invalidateQueries({ queryKey: ["imports"] });
      void navigate(`/contacts/import/${job.id}`);
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/contacts">Contacts</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title="Import contacts"
        description="Upload a CSV file. Contacts are created, or updated when an identifying field (such as email) matches."
      />
      {can(RESOURCES.imports, "create") ? (
        <div className="trellis-stack">
          <ProgressIndicator currentIndex={step} spaceEqually className="trellis-steps">
            <ProgressStep label="Upload" description="Choose a CSV file" />
            <ProgressStep label="Map columns" description="Match headers to fields" />
            <ProgressStep label="Import" description="Progress and report" />
          </ProgressIndicator>
          <FormMessages errors={form.errors} title="The file could not be read" />
          <Tile>
            <Stack gap={4}>
              <h2 className="trellis-h3">1. Upload</h2>
              <FileUploaderDropContainer
                id="import-file"
                labelText={
                  file
                    ? `${file.name} (${formatBytes(file.size)}): drop or click to choose another file`
                    : "Drag a CSV file here or click to choose one"
                }
                accept={[".csv", "text/csv", "text/plain"]}
                onAddFiles={(_e, { addedFiles }) => {
                  const first = addedFiles[0];
                  if (first) void pick(first);
                }}
              />
              {busy === "preview" ? <InlineLoading description="Reading the file…" /> : null}
            </Stack>
          </Tile>
          {preview ? (
            <Tile>
              <Stack gap={5}>
                <h2 className="trellis-h3">2. Map columns</h2>
                <p className="trellis-muted">
                  Read as {preview.encoding}, separated by{" "}
                  {preview.delimiter === "\t" ? "tabs" : `“${preview.delimiter}”`}.
                  {preview.notes.length ? ` ${preview.notes.join(" ")}` : ""}
                </p>
                {preview.errors.length ? (
                  <InlineNotification
                    kind="warning"
                    lowContrast
                    hideCloseButton
                    title={`${preview.errors.length} problem(s) in the first rows`}
                    subtitle={preview.errors
                      .slice(0, 5)
                      .map((e) => `line ${e.line}${e.column ? `, ${e.column}` : ""}: ${e.reason}`)
                      .join("; ")}
                  />
                ) : null}
                <TableContainer
                  title="Column mapping"
                  description="Choose the field each column fills; skipped columns are not imported."
                >
                  <Table size="sm" aria-label="Column mapping">
                    <TableHead>
                      <TableRow>
                        <TableHeader>CSV column</TableHeader>
                        <TableHeader>First values</TableHeader>
                        <TableHeader>Imported into</TableHeader>
                      </TableRow>
                    </TableHead>
                    <TableBody>
                      {preview.columns.map((col, i) => {
                        const target = mapping[col.header] ?? SKIP;
                        const dup = target !== SKIP && duplicates.includes(target);
                        return (
                          <TableRow key={`${col.header}-${i}`}>
                            <TableCell>
                              <strong>{col.header || <span className="trellis-muted">(no header)</span>}</strong>
                            </TableCell>
                            <TableCell className="trellis-samples">
                              {col.samples.slice(0, 3).join(" · ") || <span className="trellis-muted">—</span>}
                            </TableCell>
                            <TableCell>
                              <Select
                                id={`map-${i}`}
                                labelText={`Field for column ${col.header}`}
                                hideLabel
                                size="sm"
                                value={target}
                                invalid={dup}
                                invalidText={dup ? "Another column fills this field" : undefined}
                                onChange={(e) => setMapping((m) => ({ ...m, [col.header]: e.target.value }))}
                              >
                                <SelectItem value={SKIP} text="Skip this column" />
                                <SelectItem value={TAGS_TARGET} text="Tags (separated by | or ,)" />
                                {targets.map((f) => (
                                  <SelectItem key={f.alias} value={f.alias} text={`${f.label} (${f.alias})`} />
                                ))}
                              </Select>
                            </TableCell>
                          </TableRow>
                        );
                      })}
                    </TableBody>
                  </Table>
                </TableContainer>
                {!hasIdentifier(mapping, identifiers) ? (
                  <InlineNotification
                    kind="info"
                    lowContrast
                    hideCloseButton
                    title="No identifying column"
                    subtitle={`Map a column to ${identifiers.join(" or ") || "email"} to update existing contacts; otherwise every row creates a contact.`}
                  />
                ) : null}
                <h2 className="trellis-h3">Apply to every imported contact</h2>
                <div className="trellis-grid-3">
                  <TagInput
                    id="import-tags"
                    labelText="Tags"
                    value={tags}
                    onChange={setTags}
                    {...form.fieldProps("options.tags")}
                  />
                  {canView(me, RESOURCES.segments) ? (
                    <Select
                      id="import-segment"
                      labelText="Add to segment"
                      value={segmentId}
                      onChange={(e) => setSegmentId(e.target.value)}
                      {...form.fieldProps("options.segment_id")}
                    >
                      <SelectItem value="" text="No segment" />
                      {(segments.data ?? []).map((s) => (
                        <SelectItem key={s.id} value={String(s.id)} text={s.name} />
                      ))}
                    </Select>
                  ) : null}
                  <Select
                    id="import-owner"
                    labelText="Owner"
                    value={ownerId}
                    onChange={(e) => setOwnerId(e.target.value)}
                    {...form.fieldProps("options.owner_id")}
                  >
                    <SelectItem value="" text="No owner" />
                    {(owners.data ?? []).map((u) => (
                      <SelectItem key={u.id} value={String(u.id)} text={u.name || u.email} />
                    ))}
                  </Select>
                </div>
                <div>
                  <Button
                    renderIcon={Upload}
                    disabled={busy !== null || duplicates.length > 0}
                    onClick={() => void start()}
                  >
                    {busy === "start" ? "Uploading…" : "Start import"}
                  </Button>
                </div>
              </Stack>
            </Tile>
          ) : null}
        </div>
      ) : (
        <p className="trellis-muted">You may not import contacts.</p>
      )}
      {canView(me, RESOURCES.imports) ? (
        <section aria-label="Past imports" className="trellis-section">
          <ListTable<ImportJob>
            title="Past imports"
            columns={[
              { key: "file", header: "File", render: (j) => <Link to={`/contacts/import/${j.id}`}>{j.filename}</Link> },
              { key: "status", header: "Status", render: (j) => statusTag(j.status) },
              { key: "rows", header: "Rows", render: (j) => j.rows_read.toLocaleString() },
              { key: "created", header: "Created", render: (j) => j.created.toLocaleString() },
              { key: "updated", header: "Updated", render: (j) => j.updated.toLocaleString() },
              { key: "failed", header: "Failed", render: (j) => j.failed.toLocaleString() },
              { key: "when", header: "Started", render: (j) => formatDateTime(j.created_at) },
            ]}
            items={past.data?.data}
            loading={past.isPending}
            rowLabel={(j) => j.filename}
            emptyText="No imports yet."
            pagination={{ state: pageState, total: past.data?.meta.total ?? 0, onChange: setPageState }}
          />
        </section>
      ) : null}
    </>
  );
}

/** One import: live progress while it runs, then its report. */
export function ImportDetailPage() {
  const params = useParams();
  const importId = Number(params.importId);
  const queryClient = useQueryClient();
  const job = useQuery({
    queryKey: ["imports", "detail", importId],
    queryFn: async () =>
      ok(await api.GET("/api/v2/imports/{import_id}", { params: { path: { import_id: importId } } })),
    enabled: Number.isInteger(importId),
    refetchInterval: (q) => {
      const status = q.state.data?.status;
      return status === "done" || status === "failed" ? false : 750;
    },
  });
  const finished = job.data?.status === "done" || job.data?.status === "failed";
  useEffect(() => {
    if (finished) {
      void queryClient.invalidateQueries({ queryKey: ["imports", "list"] });
      void queryClient.invalidateQueries({ queryKey: ["contacts"] });
    }
  }, [finished, queryClient]);

  if (job.isPending) return <PageLoading />;
  if (job.isError || !job.data) {
    return (
      <>
        <PageHeader title="Import" />
        <InlineNotification
          kind="error"
          title="Could not load the import"
          subtitle={describeError(job.error)}
          hideCloseButton
        />
      </>
    );
  }
  const j = job.data;
  const percent = Math.round(Math.min(1, j.progress) * 100);
  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/contacts">Contacts</Link>
        </BreadcrumbItem>
        <BreadcrumbItem>
          <Link to="/contacts/import">Import</Link>
        </BreadcrumbItem>
      </Breadcrumb>
      <PageHeader
        title={`Import of ${j.filename}`}
        description={
          <>
            Started {formatDateTime(j.started_at ?? j.created_at)} · {statusTag(j.status)}
          </>
        }
      />
      <div className="trellis-stack">
        <ProgressBar
          label={finished ? (j.status === "done" ? "Import finished" : "Import failed") : "Importing"}
          helperText={`${formatBytes(j.bytes_read)} of ${formatBytes(j.size_bytes)} read (${percent}%)`}
          value={j.status === "done" ? 100 : percent}
          max={100}
          status={j.status === "failed" ? "error" : j.status === "done" ? "finished" : "active"}
        />
        {j.message ? (
          <InlineNotification
            kind={j.status === "failed" ? "error" : "info"}
            lowContrast
            hideCloseButton
            title={j.message}
          />
        ) : null}
        <dl className="trellis-counts" aria-label="Import counts">
          <div>
            <dt>Rows read</dt>
            <dd>{j.rows_read.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{j.created.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{j.updated.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Unchanged</dt>
            <dd>{j.unchanged.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd className={j.failed ? "trellis-error" : undefined}>{j.failed.toLocaleString()}</dd>
          </div>
        </dl>
        {finished ? (
          <section aria-labelledby="import-report">
            <div className="trellis-tile-head">
              <h2 id="import-report" className="trellis-h2">
                Report
              </h2>
              {j.failed > 0 || j.errors.length > 0 ? (
                <Button kind="tertiary" size="sm" renderIcon={Download} href={`/api/v2/imports/${j.id}/errors.csv`}>
                  Download errors.csv
                </Button>
              ) : null}
            </div>
            {j.errors.length === 0 ? (
              <p>Every row was imported.</p>
            ) : (
              <TableContainer
                title="Import errors"
                description={
                  j.errors.length < j.failed ? `The first ${j.errors.length}; errors.csv lists them all.` : undefined
                }
              >
                <Table size="sm" aria-label="Import errors">
                  <TableHead>
                    <TableRow>
                      <TableHeader>Line</TableHeader>
                      <TableHeader>Column</TableHeader>
                      <TableHeader>Reason</TableHeader>
                      <TableHeader>Value</TableHeader>
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {j.errors.map((e, i) => (
                      <TableRow key={i}>
                        <TableCell>{e.line}</TableCell>
                        <TableCell>{e.column || <span className="trellis-muted">(whole row)</span>}</TableCell>
                        <TableCell>{e.reason}</TableCell>
                        <TableCell>
                          <code>{e.value}</code>
                        </TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </TableContainer>
            )}
            <p>
              <Link to="/contacts">See the contacts</Link> · <Link to="/contacts/import">Import another file</Link>
            </p>
          </section>
        ) : null}
      </div>
    </>
  );
}
