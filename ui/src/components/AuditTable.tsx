import {
  DataTableSkeleton,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableExpandedRow,
  TableExpandHeader,
  TableExpandRow,
  TableHead,
  TableHeader,
  TableRow,
} from "@carbon/react";
import { Fragment, useState, type ReactNode } from "react";
import type { AuditEntry } from "../api/types";
import { flattenChanges, summarizeChanges, type ChangeLine } from "../lib/auditFormat";
import { formatDateTime } from "./common";

function ChangeList({ changes }: { changes: unknown }) {
  const lines = flattenChanges(changes);
  if (lines.length === 0) return <p className="trellis-muted">No field changes recorded.</p>;
  return (
    <ul className="trellis-changes" aria-label="Field changes">
      {lines.map((line, i) => (
        <li key={i}>
          <span className="trellis-changes__path">{line.path}</span>
          <ChangeText line={line} />
        </li>
      ))}
    </ul>
  );
}

function ChangeText({ line }: { line: ChangeLine }) {
  switch (line.kind) {
    case "changed":
      return (
        <>
          <span className="trellis-changes__old">{line.old}</span>
          {" -> "}
          <span className="trellis-changes__new">{line.new}</span>
        </>
      );
    case "added":
      return <span className="trellis-changes__new">added {line.value}</span>;
    case "removed":
      return <span className="trellis-changes__old">removed {line.value}</span>;
  }
}

/** Audit entries with expandable rows that show field changes as old -> new. */
export function AuditTable({
  title,
  entries,
  loading,
  footer,
  showEntity = true,
}: {
  title: string;
  entries: AuditEntry[] | undefined;
  loading: boolean;
  footer?: ReactNode;
  showEntity?: boolean;
}) {
  const [expanded, setExpanded] = useState<Set<number>>(new Set());
  const columns = showEntity ? 6 : 5;
  const toggle = (id: number) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <TableContainer title={title}>
      {loading && !entries ? (
        <DataTableSkeleton columnCount={columns} rowCount={5} showHeader={false} showToolbar={false} />
      ) : (
        <Table aria-label={title} size="md">
          <TableHead>
            <TableRow>
              <TableExpandHeader aria-label="Expand row" />
              <TableHeader>When</TableHeader>
              <TableHeader>Actor</TableHeader>
              <TableHeader>Action</TableHeader>
              {showEntity ? <TableHeader>Entity</TableHeader> : null}
              <TableHeader>Changed fields</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {(entries ?? []).length === 0 ? (
              <TableRow>
                <TableCell colSpan={columns}>
                  <span className="trellis-muted">No audit entries.</span>
                </TableCell>
              </TableRow>
            ) : (
              (entries ?? []).map((entry) => {
                const isExpanded = expanded.has(entry.id);
                return (
                  <Fragment key={entry.id}>
                    <TableExpandRow
                      isExpanded={isExpanded}
                      onExpand={() => toggle(entry.id)}
                      aria-label={isExpanded ? "Collapse row" : "Expand row"}
                      expandIconDescription={`Show changes of entry ${entry.id}`}
                    >
                      <TableCell>{formatDateTime(entry.occurred_at)}</TableCell>
                      <TableCell>
                        {entry.actor_name}
                        <span className="trellis-muted"> ({entry.actor_type})</span>
                      </TableCell>
                      <TableCell>{entry.action}</TableCell>
                      {showEntity ? (
                        <TableCell>
                          {entry.entity_type}
                          {entry.entity_id !== null && entry.entity_id !== undefined ? ` #${entry.entity_id}` : ""}
                          {entry.entity_name ? ` · ${entry.entity_name}` : ""}
                        </TableCell>
                      ) : null}
                      <TableCell>{summarizeChanges(entry.changes)}</TableCell>
                    </TableExpandRow>
                    {isExpanded ? (
                      <TableExpandedRow colSpan={columns}>
                        <ChangeList changes={entry.changes} />
                        {entry.ip || entry.user_agent ? (
                          <p className="trellis-muted">
                            {entry.ip ? `From ${entry.ip}` : ""}
                            {entry.user_agent ? ` · ${entry.user_agent}` : ""}
                          </p>
                        ) : null}
                      </TableExpandedRow>
                    ) : null}
                  </Fragment>
                );
              })
            )}
          </TableBody>
        </Table>
      )}
      {footer}
    </TableContainer>
  );
}
