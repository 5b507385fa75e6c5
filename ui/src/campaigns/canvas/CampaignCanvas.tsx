/* eslint-disable jsx-a11y/no-noninteractive-element-interactions -- arrow keys and Escape are
   handled on a labelled group around focusable controls (keyboard use of the controls inside),
   not as a click target of its own */
/**
 * The campaign canvas: the campaign document drawn with React Flow. It edits nothing itself:
 * every change becomes a new document handed to `onChange`, so the owner keeps undo/redo,
 * saving and validation. Read-only, it shows the live counts on every node.
 */
import "@xyflow/react/dist/style.css";
import "./canvas.scss";
import { InlineNotification } from "@carbon/react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
  type Node,
  type NodeChange,
  type EdgeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type JSX, type KeyboardEvent } from "react";
import { copySteps, isClip, pasteSteps, type StepClip } from "../lib/clipboard";
import { addStep, connect, movePositions, placeFor, removeEdges, removeSteps, SOURCES_ID, type XY } from "../lib/doc";
import { docToFlow, edgeFromFlow, type FlowEdge, type FlowNode } from "../lib/flow";
import { connectionRefusal, indexTypes, outputsOf, typesAllowedAt, type GraphProblem } from "../lib/graph";
import { CanvasActions, nodeTypes, type AddAnchor } from "./nodes";
import { STEP_MIME, StepPicker } from "./StepPicker";
import type { CampaignDoc, EventTypeInfo } from "./types";

export type { CampaignDoc, EventTypeInfo } from "./types";
export { SOURCES_ID } from "../lib/doc";

export interface StepCounts {
  scheduled: number;
  waiting: number;
  done: number;
  warned: number;
  failed: number;
  dead: number;
  yes: number;
  no: number;
  cancelled: number;
}

export interface CampaignCanvasProps {
  /** The campaign document as the API returns it (sources, events, edges, canvas). */
  doc: CampaignDoc;
  /** From GET /api/v2/event-types. */
  eventTypes: EventTypeInfo[];
  /** Campaign page: no editing, counts shown on nodes. */
  readOnly?: boolean;
  /** GET /api/v2/campaigns/{id}/stats, keyed by event key. */
  counts?: Record<string, StepCounts>;
  onChange?: (doc: CampaignDoc) => void;
  onSelectStep?: (key: string | null) => void;
  height?: number | string;
  /** Problems to show on the nodes (local rules and the server's validation). */
  problems?: readonly GraphProblem[];
  /** Display names of the sources, keyed "segment:12". */
  sourceNames?: Record<string, string>;
  /** The step to show selected (the builder's side panel follows it). */
  selectedKey?: string | null;
  /** Told when a connection is refused, with the reason (also shown on the canvas). */
  onRefuse?: (reason: string) => void;
}

// React Flow compares these props by identity: new objects on every render would make it
// re-register key listeners and refresh its store on every frame of a drag.
const FIT_VIEW_OPTIONS = { padding: 0.15, maxZoom: 1.1 };
const PRO_OPTIONS = { hideAttribution: true };
const DELETE_KEYS = ["Delete", "Backspace"];
const MULTI_SELECT_KEYS = ["Shift", "Meta", "Control"];
const ARIA_LABELS = {
  "node.a11yDescription.default":
    "Press Enter or Space to select this step, Delete to remove it, the arrow keys to move it.",
};
const MINIMAP_STYLE = { width: 160, height: 110 };

// One clipboard for every canvas of the page, so steps copy between campaigns opened in turn.
let clipboard: StepClip | null = null;

export function CampaignCanvas(props: CampaignCanvasProps): JSX.Element {
  return (
    <ReactFlowProvider>
      <CanvasInner {...props} />
    </ReactFlowProvider>
  );
}

type AnyNode = Node<Record<string, unknown>>;

function isEditableTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

function CanvasInner({
  doc,
  eventTypes,
  readOnly = false,
  counts,
  onChange,
  onSelectStep,
  height = 600,
  problems,
  sourceNames,
  selectedKey,
  onRefuse,
}: CampaignCanvasProps) {
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const types = useMemo(() => indexTypes(eventTypes), [eventTypes]);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [addAnchor, setAddAnchor] = useState<AddAnchor | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set(selectedKey ? [selectedKey] : []));
  const docRef = useRef(doc);
  // eslint-disable-next-line react-hooks/refs -- a latest-value ref read by callbacks; moving it into an effect needs the builder's state sync reworked (issue 18)
  docRef.current = doc;

  useEffect(() => {
    if (selectedKey === undefined) return;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- React Flow owns node state during a drag; it is re-seeded when the document changes
    setSelected((prev) => {
      if (selectedKey === null) return prev.size && !prev.has(SOURCES_ID) ? new Set() : prev;
      return prev.size === 1 && prev.has(selectedKey) ? prev : new Set([selectedKey]);
    });
  }, [selectedKey]);

  const derived = useMemo(
    () => docToFlow(doc, types, { readOnly, counts, problems, sourceNames }),
    [doc, types, readOnly, counts, problems, sourceNames],
  );
  // React Flow owns positions while a drag is in progress; the document gets them on drop.
  const [nodes, setNodes] = useState<AnyNode[]>([]);
  const selectedRef = useRef(selected);
  // eslint-disable-next-line react-hooks/refs -- a latest-value ref read by callbacks; moving it into an effect needs the builder's state sync reworked (issue 18)
  selectedRef.current = selected;
  useEffect(() => {
    setNodes(derived.nodes.map((n: FlowNode) => ({ ...n, selected: selectedRef.current.has(n.id) })));
  }, [derived.nodes]);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- React Flow's controlled nodes follow the selection; see the note above
    setNodes((prev) =>
      prev.map((n) => (n.selected === selected.has(n.id) ? n : { ...n, selected: selected.has(n.id) })),
    );
  }, [selected]);
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(() => new Set());
  const edges = useMemo(
    () => (derived.edges as unknown as Edge[]).map((e) => (selectedEdges.has(e.id) ? { ...e, selected: true } : e)),
    [derived.edges, selectedEdges],
  );
  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => {
    const picks = changes.filter((c) => c.type === "select");
    if (!picks.length) return;
    setSelectedEdges((prev) => {
      const next = new Set(prev);
      for (const c of picks) {
        if (c.type !== "select") continue;
        if (c.selected) next.add(c.id);
        else next.delete(c.id);
      }
      return next;
    });
  }, []);

  const change = useCallback((next: CampaignDoc) => onChange?.(next), [onChange]);

  const refuse = useCallback(
    (reason: string) => {
      setRefusal(reason);
      onRefuse?.(reason);
    },
    [onRefuse],
  );
  useEffect(() => {
    if (!refusal) return;
    const timer = window.setTimeout(() => setRefusal(null), 8000);
    return () => window.clearTimeout(timer);
  }, [refusal]);

  const onNodesChange = useCallback((changes: NodeChange<AnyNode>[]) => {
    // Removals and selection go through the document and onSelectionChange; positions and
    // measured sizes stay local until the drag ends.
    const local = changes.filter((c) => c.type === "position" || c.type === "dimensions");
    if (local.length) setNodes((prev) => applyNodeChanges(local, prev));
    const picks = changes.filter((c) => c.type === "select");
    if (picks.length) {
      setSelected((prev) => {
        const next = new Set(prev);
        for (const c of picks) {
          if (c.type !== "select") continue;
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        }
        return next;
      });
    }
  }, []);

  const lastReported = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    const steps = [...selected].filter((k) => k !== SOURCES_ID);
    const key = selected.size === 1 && steps.length === 1 ? steps[0]! : null;
    if (lastReported.current === key) return;
    lastReported.current = key;
    onSelectStep?.(key);
  }, [selected, onSelectStep]);

  const onNodeDragStop = useCallback(
    (_event: unknown, _node: AnyNode, dragged: AnyNode[]) => {
      const positions: Record<string, XY> = {};
      for (const n of dragged) positions[n.id] = n.position;
      change(movePositions(docRef.current, positions));
    },
    [change],
  );

  const isValidConnection = useCallback(
    (c: Connection | Edge) =>
      connectionRefusal(docRef.current, types, {
        ...edgeFromFlow(c),
        path: edgeFromFlow(c).path ?? null,
        source: edgeFromFlow(c).source ?? null,
      }) === null,
    [types],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const edge = edgeFromFlow(c);
      const result = connect(docRef.current, types, {
        source: edge.source ?? null,
        path: edge.path ?? null,
        target: edge.target,
      });
      if (result.ok) change(result.doc);
      else refuse(result.reason);
    },
    [types, change, refuse],
  );

  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (!("fromNode" in state) || !state.fromNode || !state.toNode || state.isValid) return;
      const from = state.fromHandle;
      const to = state.toHandle;
      if (!from || !to) return;
      if (from.type === to.type) {
        refuse(
          from.type === "source"
            ? "Connect an output to the input at the top of a step."
            : "Connect the input of a step to an output of the step before.",
        );
        return;
      }
      const c =
        from.type === "source"
          ? { source: state.fromNode.id, sourceHandle: from.id ?? null, target: state.toNode.id }
          : { source: state.toNode.id, sourceHandle: to.id ?? null, target: state.fromNode.id };
      const edge = edgeFromFlow(c);
      const reason = connectionRefusal(docRef.current, types, {
        source: edge.source ?? null,
        path: edge.path ?? null,
        target: edge.target,
      });
      if (reason) refuse(reason);
    },
    [types, refuse],
  );

  const onDelete = useCallback(
    ({ nodes: gone, edges: goneEdges }: { nodes: AnyNode[]; edges: Edge[] }) => {
      let next = docRef.current;
      const keys = gone.map((n) => n.id).filter((id) => id !== SOURCES_ID);
      next = removeSteps(next, keys);
      next = removeEdges(
        next,
        goneEdges.map((e) => (e as unknown as FlowEdge).data?.edge ?? edgeFromFlow(e)),
      );
      if (next !== docRef.current) change(next);
      setSelected(new Set());
      setSelectedEdges(new Set());
    },
    [change],
  );

  const addAt = useCallback(
    (type: EventTypeInfo, at: { source: string | null; path: string | null } | null, position?: XY) => {
      const current = docRef.current;
      let outputs: (string | null)[] = [null];
      if (at?.source) {
        const parent = current.events.find((e) => e.key === at.source);
        if (parent) outputs = outputsOf(parent, types);
      }
      const place = position ?? placeFor(current, at, outputs);
      const key = crypto.randomUUID();
      change(addStep(current, type, types, { key, position: place, ...(at ? { parent: at } : {}) }));
      setSelected(new Set([key]));
      setAddAnchor(null);
    },
    [change, types],
  );

  const onDragOver = useCallback(
    (event: DragEvent<HTMLDivElement>) => {
      if (readOnly || !event.dataTransfer.types.includes(STEP_MIME)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    },
    [readOnly],
  );

  const onDrop = useCallback(
    (event: DragEvent<HTMLDivElement>) => {
      if (readOnly) return;
      const key = event.dataTransfer.getData(STEP_MIME);
      const type = eventTypes.find((t) => t.key === key);
      if (!type) return;
      event.preventDefault();
      const point = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addAt(type, null, { x: point.x - 120, y: point.y - 30 });
    },
    [readOnly, eventTypes, flow, addAt],
  );

  /** Alt+arrows walk the graph: up to the parent, down to the first child, sideways to siblings. */
  const walk = useCallback(
    (direction: "up" | "down" | "left" | "right") => {
      const current = docRef.current;
      const from = [...selectedRef.current][0] ?? null;
      const parentOf = (key: string) => current.edges.find((e) => e.target === key)?.source ?? SOURCES_ID;
      const childrenOf = (key: string) =>
        current.edges.filter((e) => (e.source ?? SOURCES_ID) === key).map((e) => e.target);
      let next: string | undefined;
      if (from === null) next = SOURCES_ID;
      else if (direction === "up") next = from === SOURCES_ID ? undefined : parentOf(from);
      else if (direction === "down") next = childrenOf(from)[0];
      else if (from !== SOURCES_ID) {
        const siblings = childrenOf(parentOf(from));
        const at = siblings.indexOf(from);
        next = siblings[at + (direction === "right" ? 1 : -1)];
      }
      if (!next) return;
      setSelected(new Set([next]));
      const node = flow.getNode(next);
      if (node)
        void flow.setCenter(node.position.x + 120, node.position.y + 44, { duration: 200, zoom: flow.getZoom() });
      window.requestAnimationFrame(() => {
        wrapper.current?.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(next)}"]`)?.focus();
      });
    },
    [flow],
  );

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDivElement>) => {
      if (isEditableTarget(event.target)) return;
      const mod = event.ctrlKey || event.metaKey;
      if (event.altKey && event.key.startsWith("Arrow")) {
        event.preventDefault();
        walk(event.key.slice(5).toLowerCase() as "up" | "down" | "left" | "right");
        return;
      }
      if (event.key === "Escape" && addAnchor) {
        setAddAnchor(null);
        return;
      }
      if (readOnly || !mod) return;
      const key = event.key.toLowerCase();
      if (key === "c") {
        const clip = copySteps(docRef.current, selectedRef.current);
        if (!clip) return;
        clipboard = clip;
        event.preventDefault();
        // Also on the system clipboard, so steps paste into a campaign open in another tab.
        void navigator.clipboard?.writeText(JSON.stringify(clip)).catch(() => undefined);
      } else if (key === "v") {
        event.preventDefault();
        const paste = (clip: StepClip) => {
          const result = pasteSteps(docRef.current, clip);
          change(result.doc);
          setSelected(new Set(result.keys));
        };
        if (clipboard) paste(clipboard);
        else
          void navigator.clipboard
            ?.readText()
            .then((text) => {
              const parsed: unknown = JSON.parse(text);
              if (isClip(parsed)) paste(parsed);
            })
            .catch(() => undefined);
      } else if (key === "a") {
        event.preventDefault();
        setSelected(new Set(docRef.current.events.map((e) => e.key)));
      }
    },
    [readOnly, walk, change, addAnchor],
  );

  const allowedHere = useMemo(
    () => (addAnchor ? typesAllowedAt(doc, eventTypes, { source: addAnchor.source, path: addAnchor.path }) : []),
    [addAnchor, doc, eventTypes],
  );
  const actions = useMemo(() => ({ openAdd: (anchor: AddAnchor) => setAddAnchor(anchor) }), []);
  const closeAdd = useCallback(() => setAddAnchor(null), []);
  // eslint-disable-next-line react-hooks/refs -- the add menu is placed from the wrapper's box when it opens (after a click, never on first render)
  const box = addAnchor ? wrapper.current?.getBoundingClientRect() : undefined;
  const menuStyle =
    addAnchor && box
      ? {
          left: Math.max(8, Math.min(addAnchor.x - box.left - 150, box.width - 316)),
          top: Math.max(8, Math.min(addAnchor.y - box.top + 8, box.height - 340)),
        }
      : undefined;

  return (
    <CanvasActions.Provider value={actions}>
      <div
        ref={wrapper}
        className={`trellis-canvas${readOnly ? " trellis-canvas--readonly" : ""}`}
        style={{ height }}
        onKeyDown={onKeyDown}
        onDragOver={onDragOver}
        onDrop={onDrop}
        role="region"
        aria-label={readOnly ? "Campaign canvas (read only)" : "Campaign canvas"}
        aria-describedby="trellis-canvas-help"
      >
        <p id="trellis-canvas-help" className="cds--visually-hidden">
          Tab moves between steps, Enter selects one, Alt and the arrow keys walk the journey,
          {readOnly ? "" : " Delete removes the selection, Ctrl+C and Ctrl+V copy and paste steps, Ctrl+Z undoes."}
        </p>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onNodeDragStop={onNodeDragStop}
          onConnect={onConnect}
          onConnectEnd={onConnectEnd}
          isValidConnection={isValidConnection}
          onDelete={onDelete}
          onEdgesChange={onEdgesChange}
          onPaneClick={closeAdd}
          nodesDraggable={!readOnly}
          nodesConnectable={!readOnly}
          edgesFocusable={!readOnly}
          elementsSelectable
          deleteKeyCode={readOnly ? null : DELETE_KEYS}
          multiSelectionKeyCode={MULTI_SELECT_KEYS}
          fitView
          fitViewOptions={FIT_VIEW_OPTIONS}
          minZoom={0.1}
          maxZoom={2}
          onlyRenderVisibleElements={doc.events.length > 120}
          proOptions={PRO_OPTIONS}
          connectionRadius={28}
          ariaLabelConfig={ARIA_LABELS}
        >
          <Background gap={24} />
          <MiniMap
            pannable
            zoomable
            ariaLabel="Mini map of the campaign"
            className="trellis-canvas__minimap"
            style={MINIMAP_STYLE}
          />
          <Controls showInteractive={false} aria-label="Zoom and fit view" />
        </ReactFlow>
        {refusal ? (
          <div className="trellis-canvas__refusal">
            <InlineNotification
              kind="error"
              role="alert"
              title="Cannot connect"
              subtitle={refusal}
              lowContrast
              onClose={() => {
                setRefusal(null);
                return false;
              }}
            />
          </div>
        ) : null}
        {addAnchor && menuStyle ? (
          <div className="trellis-canvas__add-menu" style={menuStyle} role="dialog" aria-label="Add a step here">
            <StepPicker
              id="trellis-add-menu"
              label="Steps that may follow here"
              types={allowedHere}
              // eslint-disable-next-line jsx-a11y/no-autofocus -- the menu opens on the user's click; focus must move into it for the keyboard.
              autoFocus
              onPick={(t) => addAt(t, { source: addAnchor.source, path: addAnchor.path })}
              onEscape={() => setAddAnchor(null)}
            />
          </div>
        ) : null}
      </div>
    </CanvasActions.Provider>
  );
}
