/**
 * The import wizard: upload an export ZIP, review the analysis (each entity new, identical or
 * conflicting, with a choice per entity), apply in one go, then the summary with an Undo button.
 */
import {
  Button,
  FileUploaderDropContainer,
  FileUploaderItem,
  InlineNotification,
  ProgressIndicator,
  ProgressStep,
  Select,
  SelectItem,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
} from "@carbon/react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { describeError } from "../api/problem";
import { PageHeader } from "../components/common";
import "./portability.scss";
import { useToast } from "../components/Toasts";
import {
  analyseImport,
  applyImport,
  changedChoices,
  CHOICE_LABELS,
  type Choice,
  describeOrigin,
  type ImportAnalysis,
  type ImportResult,
  KIND_LABELS,
  noteLines,
  summarise,
  type TranslationNote,
  undoImport,
} from "./api";

const STATUS_TAG = { new: "green", identical: "gray", conflicting: "magenta" } as const;

/** What of a Mautic export was not translated (nothing for our own files). */
function TranslationReport({ notes }: { notes: TranslationNote[] | undefined }) {
  const lines = noteLines(notes);
  if (!lines.length) return null;
  return (
    <InlineNotification
      kind="warning"
      title="Not translated from Mautic"
      subtitle={`${lines.length} item(s); review them before publishing.`}
      lowContrast
      hideCloseButton
    >
      <ul className="trellis-portability-notes">
        {lines.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </InlineNotification>
  );
}

export function ImportCampaignsPage() {
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [analysis, setAnalysis] = useState<ImportAnalysis | null>(null);
  const [chosen, setChosen] = useState<Record<string, Choice>>({});
  const [result, setResult] = useState<ImportResult | null>(null);
  const [undone, setUndone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const step = result ? 2 : analysis ? 1 : 0;

  async function analyse(next: File) {
    setFile(next);
    setAnalysis(null);
    setError(null);
    setBusy(true);
    try {
      const found = await analyseImport(next);
      setAnalysis(found);
      setChosen(Object.fromEntries(found.entities.map((e) => [e.uuid, e.default])));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  async function apply() {
    if (!file || !analysis) return;
    setBusy(true);
    setError(null);
    try {
      const done = await applyImport(file, changedChoices(analysis.entities, chosen));
      setResult(done);
      notify("success", "Campaigns imported", summarise(done));
      await queryClient.invalidateQueries({ queryKey: ["campaigns"] });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  async function undo() {
    if (!result) return;
    setBusy(true);
    try {
      await undoImport(result.import_id);
      setUndone(true);
      notify("success", "Import undone", "What it created was deleted.");
      await queryClient.invalidateQueries({ queryKey: ["campaigns"] });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  function restart() {
    setFile(null);
    setAnalysis(null);
    setResult(null);
    setUndone(false);
    setError(null);
  }

  return (
    <>
      <PageHeader
        title="Import campaigns"
        description="Bring in campaigns exported from a Trellis instance or from Mautic 7, with their emails, forms, segments, assets and fields. Imported campaigns stay unpublished."
      />
      <ProgressIndicator currentIndex={step} className="trellis-portability-steps">
        <ProgressStep label="Upload" />
        <ProgressStep label="Review" />
        <ProgressStep label="Done" />
      </ProgressIndicator>
      {error ? (
        <InlineNotification
          kind="error"
          title="The file was not imported"
          subtitle={error}
          lowContrast
          hideCloseButton
          role="alert"
        />
      ) : null}
      {step === 0 ? (
        <div className="trellis-portability-upload">
          <FileUploaderDropContainer
            id="campaign-import-file"
            labelText="Drag an export ZIP (Trellis or Mautic) or Mautic's entity_data.json here, or click to choose it"
            accept={[".zip", "application/zip", ".json", "application/json"]}
            onAddFiles={(_: unknown, { addedFiles }: { addedFiles: File[] }) => {
              if (addedFiles[0]) void analyse(addedFiles[0]);
            }}
          />
          {file ? <FileUploaderItem name={file.name} status={busy ? "uploading" : "edit"} onDelete={restart} /> : null}
        </div>
      ) : null}
      {step === 1 && analysis ? (
        <>
          <p className="trellis-muted">{describeOrigin(analysis, file?.name ?? "")}</p>
          <TranslationReport notes={analysis.notes} />
          {analysis.warnings.length ? (
            <InlineNotification
              kind="warning"
              title="Left out of the file"
              subtitle={analysis.warnings.join(" ")}
              lowContrast
              hideCloseButton
            />
          ) : null}
          <TableContainer
            title="What the file holds"
            description="Choose, for each entity that exists here already, what to do."
          >
            <Table aria-label="Entities in the file">
              <TableHead>
                <TableRow>
                  <TableHeader>Kind</TableHeader>
                  <TableHeader>Name</TableHeader>
                  <TableHeader>Status</TableHeader>
                  <TableHeader>Action</TableHeader>
                </TableRow>
              </TableHead>
              <TableBody>
                {analysis.entities.map((e) => (
                  <TableRow key={e.uuid}>
                    <TableCell>{KIND_LABELS[e.kind] ?? e.kind}</TableCell>
                    <TableCell>{e.name}</TableCell>
                    <TableCell>
                      <Tag size="sm" type={STATUS_TAG[e.status]}>
                        {e.status}
                      </Tag>
                      {e.match ? <span className="trellis-muted"> (same {e.match})</span> : null}
                    </TableCell>
                    <TableCell>
                      <Select
                        id={`choice-${e.uuid}`}
                        labelText={`Action for ${e.name}`}
                        hideLabel
                        size="sm"
                        value={chosen[e.uuid] ?? e.default}
                        disabled={e.choices.length < 2}
                        onChange={(ev) => setChosen((c) => ({ ...c, [e.uuid]: ev.target.value as Choice }))}
                      >
                        {e.choices.map((choice) => (
                          <SelectItem key={choice} value={choice} text={CHOICE_LABELS[choice]} />
                        ))}
                      </Select>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
          <div className="trellis-form-actions">
            <Button kind="secondary" onClick={restart} disabled={busy}>
              Choose another file
            </Button>
            <Button onClick={() => void apply()} disabled={busy}>
              {busy ? "Importing…" : "Import"}
            </Button>
          </div>
        </>
      ) : null}
      {step === 2 && result ? (
        <>
          <InlineNotification
            kind={undone ? "info" : "success"}
            title={undone ? "Import undone" : "Import done"}
            subtitle={summarise(result)}
            lowContrast
            hideCloseButton
          />
          <TranslationReport notes={result.notes} />
          {!undone ? (
            <ul className="trellis-portability-campaigns">
              {result.campaign_ids.map((id) => (
                <li key={id}>
                  <Link to={`/campaigns/${id}`}>Open imported campaign {id}</Link> (unpublished)
                </li>
              ))}
            </ul>
          ) : null}
          <div className="trellis-form-actions">
            <Button kind="secondary" onClick={restart} disabled={busy}>
              Import another file
            </Button>
            {!undone ? (
              <Button kind="danger--tertiary" onClick={() => void undo()} disabled={busy}>
                Undo this import
              </Button>
            ) : null}
          </div>
        </>
      ) : null}
    </>
  );
}
