/** The node types of the canvas: the sources at the top and the steps, styled by kind. */
import { Add, Document, Group, UserMultiple, WarningFilled } from "@carbon/icons-react";
import { KIND_LABEL, KindIcon } from "../lib/stepTypes";
import { decidedNote, summarizeCounts } from "../lib/stepCounts";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { createContext, memo, useContext, type MouseEvent } from "react";
import {
  IN_HANDLE,
  OUT_HANDLE,
  sourceKey,
  type SourcesNodeData,
  type StepCountsLike,
  type StepNodeData,
} from "../lib/flow";
import { SOURCES_ID } from "../lib/doc";
import { ENTITY_KINDS, useEntityName, type EntityKind } from "../../components/EntityPicker";

export interface AddAnchor {
  source: string | null;
  path: string | null;
  /** Client coordinates of the "+" button, to open the menu next to it. */
  x: number;
  y: number;
}

/** What the nodes need from the canvas without passing it through every node's data. */
export const CanvasActions = createContext<{ openAdd: (anchor: AddAnchor) => void }>({ openAdd: () => undefined });

export { KIND_LABEL, KindIcon };

function Counts({ counts, kind }: { counts: StepCountsLike; kind: string | null }) {
  const s = summarizeCounts(counts);
  const pct = (p: number | null) => (p === null ? "–" : `${p}%`);
  return (
    <dl className="trellis-node__counts" aria-label="Contacts at this step">
      <div>
        <dt>{kind === "decision" ? "Waiting" : "Scheduled"}</dt>
        <dd data-count="pending">{s.pending}</dd>
      </div>
      <div>
        <dt>Done</dt>
        <dd data-count="done">{s.done}</dd>
      </div>
      {s.failed ? (
        <div className="trellis-node__count--failed">
          <dt>Failed</dt>
          <dd data-count="failed">{s.failed}</dd>
        </div>
      ) : null}
      {s.dead ? (
        <div className="trellis-node__count--failed">
          <dt>Dead</dt>
          <dd data-count="dead">{s.dead}</dd>
        </div>
      ) : null}
      {kind === "condition" || kind === "decision" ? (
        <>
          <div className="trellis-node__count--yes">
            <dt>Yes</dt>
            <dd data-count="yes">
              {s.yes} <span>({pct(s.yesPercent)})</span>
            </dd>
          </div>
          <div className="trellis-node__count--no">
            <dt>No</dt>
            <dd data-count="no">
              {s.no} <span>({pct(s.noPercent)})</span>
            </dd>
          </div>
          <div className="trellis-node__count--note" data-count="decided">
            {decidedNote(s)}
          </div>
        </>
      ) : null}
    </dl>
  );
}

function Outputs({
  nodeId,
  outputs,
  readOnly,
  title,
}: {
  nodeId: string;
  outputs: { id: string; path: string | null; label: string }[];
  readOnly: boolean;
  title: string;
}) {
  const { openAdd } = useContext(CanvasActions);
  const source = nodeId === SOURCES_ID ? null : nodeId;
  return (
    <>
      {outputs.map((out, index) => {
        const left = `${((index + 1) / (outputs.length + 1)) * 100}%`;
        const name = out.label ? `${title}, output ${out.label}` : `${title}, output`;
        const onPlus = (event: MouseEvent<HTMLButtonElement>) => {
          event.stopPropagation();
          const rect = event.currentTarget.getBoundingClientRect();
          openAdd({ source, path: out.path, x: rect.left + rect.width / 2, y: rect.bottom });
        };
        return (
          <div key={out.id}>
            <Handle
              type="source"
              position={Position.Bottom}
              id={out.id}
              style={{ left }}
              className={`trellis-handle trellis-handle--${out.path ?? "next"}`}
              isConnectable={!readOnly}
              aria-label={name}
              data-output={out.path ?? OUT_HANDLE}
            />
            {out.label ? (
              <span className={`trellis-node__output-label trellis-node__output-label--${out.path}`} style={{ left }}>
                {out.label}
              </span>
            ) : null}
            {readOnly ? null : (
              <button
                type="button"
                className="trellis-node__plus nodrag nopan"
                style={{ left }}
                aria-label={`Add a step after ${name}`}
                title="Add a step here"
                onClick={onPlus}
              >
                <Add size={16} aria-hidden />
              </button>
            )}
          </div>
        );
      })}
    </>
  );
}

function Problems({ problems }: { problems: string[] }) {
  if (!problems.length) return null;
  return (
    <div className="trellis-node__problems" role="note" data-testid="node-problems">
      <WarningFilled size={16} aria-hidden />
      <span>
        {problems[0]}
        {problems.length > 1 ? ` (+${problems.length - 1} more)` : ""}
      </span>
    </div>
  );
}

const NODE_ENTITY_KINDS: Record<string, EntityKind> = {
  email: "email",
  segment: "segment",
  form: "form",
  page: "page",
  asset: "asset",
  campaign: "campaign",
  user: "user",
  company: "company",
};

/** The first id a config field refers to (a single id, or the first of a list), and how many. */
function firstReference(value: unknown): { id: number; more: number } | null {
  if (typeof value === "number") return { id: value, more: 0 };
  if (Array.isArray(value)) {
    const ids = value.filter((v): v is number => typeof v === "number");
    return ids.length ? { id: ids[0]!, more: ids.length - 1 } : null;
  }
  return null;
}

function ReferenceName({ kind, id, more }: { kind: EntityKind; id: number; more: number }) {
  const entity = useEntityName(kind, id);
  return (
    <span className="trellis-node__uses-name">
      {entity.data?.name ?? "…"}
      {more ? ` +${more}` : ""}
    </span>
  );
}

/** What the step uses, by name: "Email: Welcome", "Segment: Customers +2". */
function Uses({ info, config }: { info: StepNodeData["info"]; config: Record<string, unknown> | undefined }) {
  const uses = Object.entries(info?.references ?? {}).flatMap(([field, refKind]) => {
    const kind = NODE_ENTITY_KINDS[refKind];
    const ref = kind ? firstReference(config?.[field]) : null;
    return kind && ref ? [{ field, kind, ...ref }] : [];
  });
  if (uses.length === 0) return null;
  return (
    <div className="trellis-node__uses">
      {uses.map((u) => (
        <div key={u.field}>
          <span className="trellis-node__uses-kind">{ENTITY_KINDS[u.kind].singular}:</span>{" "}
          <ReferenceName kind={u.kind} id={u.id} more={u.more} />
        </div>
      ))}
    </div>
  );
}

export const StepNode = memo(function StepNode({ id, data, selected }: NodeProps<Node<StepNodeData, "step">>) {
  const kind = data.kind ?? "action";
  return (
    <div
      className={`trellis-node trellis-node--${kind}${selected ? " is-selected" : ""}${data.problems.length ? " has-problems" : ""}${data.outputs.some((o) => o.label) ? " trellis-node--labelled-outputs" : ""}`}
      data-step-key={id}
      data-step-type={data.step.type}
    >
      <Handle
        type="target"
        position={Position.Top}
        id={IN_HANDLE}
        className="trellis-handle trellis-handle--in"
        isConnectable={!data.readOnly}
        aria-label={`${data.title}, input`}
      />
      <div className="trellis-node__kind">
        <KindIcon kind={kind} />
        <span>{KIND_LABEL[kind] ?? kind}</span>
        {data.step.name?.trim() ? <span className="trellis-node__type">· {data.typeLabel}</span> : null}
      </div>
      <div className="trellis-node__title">{data.title}</div>
      <Uses info={data.info} config={data.step.config} />
      <Problems problems={data.problems} />
      {data.counts ? <Counts counts={data.counts} kind={kind} /> : null}
      <Outputs nodeId={id} outputs={data.outputs} readOnly={data.readOnly} title={data.title} />
    </div>
  );
});

export const SourcesNode = memo(function SourcesNode({ data, selected }: NodeProps<Node<SourcesNodeData, "sources">>) {
  return (
    <div
      className={`trellis-node trellis-node--sources${selected ? " is-selected" : ""}${data.problems.length ? " has-problems" : ""}`}
    >
      <div className="trellis-node__kind">
        <UserMultiple size={16} aria-hidden />
        <span>Contacts enter from</span>
      </div>
      {data.sources.length ? (
        <ul className="trellis-node__sources">
          {data.sources.map((s) => (
            <li
              key={sourceKey(s)}
              className={`trellis-node__source trellis-node__source--${s.kind}`}
              data-source-kind={s.kind}
            >
              <span className="trellis-node__source-name">
                {s.kind === "form" ? (
                  <Document size={16} aria-label="Form" />
                ) : (
                  <Group size={16} aria-label="Segment" />
                )}
                {data.names[sourceKey(s)] ?? `${s.kind === "segment" ? "Segment" : "Form"} #${s.id}`}
              </span>
              <span
                className={`trellis-node__audience trellis-node__audience--${s.kind === "form" ? "form" : s.audience}`}
              >
                {s.kind === "segment"
                  ? s.audience === "locked"
                    ? "locked audience"
                    : "live audience"
                  : "form: on submit"}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <div className="trellis-node__title trellis-node__title--muted">No source yet</div>
      )}
      {data.entered !== null ? (
        <div className="trellis-node__entered" data-count="entered">
          {data.entered} entered
        </div>
      ) : null}
      <Problems problems={data.problems} />
      <Outputs
        nodeId={SOURCES_ID}
        outputs={[{ id: OUT_HANDLE, path: null, label: "" }]}
        readOnly={data.readOnly}
        title="Sources"
      />
    </div>
  );
});

export const nodeTypes = { step: StepNode, sources: SourcesNode };
