import {
  DataTableSkeleton,
  OverflowMenu,
  OverflowMenuItem,
  Pagination,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableHeader,
  TableRow,
  TableBatchActions,
  TableSelectAll,
  TableSelectRow,
  TableToolbar,
  TableToolbarContent,
} from "@carbon/react";
import type { ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: string;
  render: (item: T) => ReactNode;
}

export interface RowAction<T> {
  label: string;
  onClick: (item: T) => void;
  danger?: boolean;
  show?: (item: T) => boolean;
}

export interface PageState {
  page: number;
  size: number;
}

interface Props<T extends { id: number | string }> {
  title: string;
  description?: string;
  columns: Column<T>[];
  items: T[] | undefined;
  loading: boolean;
  toolbar?: ReactNode;
  actions?: RowAction<T>[];
  rowLabel: (item: T) => string;
  emptyText?: string;
  pagination?: { state: PageState; total: number; onChange: (next: PageState) => void };
  /** Row checkboxes, and the batch actions shown while some rows are selected. */
  selection?: {
    selected: ReadonlySet<T["id"]>;
    onChange: (next: Set<T["id"]>) => void;
    batchActions: ReactNode;
  };
}

/** A Carbon data table for server-paginated lists, with a per-row action menu. */
export function ListTable<T extends { id: number | string }>({
  title,
  description,
  columns,
  items,
  loading,
  toolbar,
  actions = [],
  rowLabel,
  emptyText = "Nothing here yet.",
  pagination,
  selection,
}: Props<T>) {
  const hasActions = actions.length > 0;
  const rows = items ?? [];
  const selectedHere = selection ? rows.filter((i) => selection.selected.has(i.id)).length : 0;
  const extraColumns = (hasActions ? 1 : 0) + (selection ? 1 : 0);
  const toggleRow = (id: T["id"]) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    selection.onChange(next);
  };
  const toggleAll = () => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (selectedHere === rows.length) rows.forEach((i) => next.delete(i.id));
    else rows.forEach((i) => next.add(i.id));
    selection.onChange(next);
  };
  return (
    <TableContainer title={title} description={description}>
      {toolbar || selection ? (
        <TableToolbar aria-label={`${title} toolbar`}>
          {selection ? (
            <TableBatchActions
              shouldShowBatchActions={selection.selected.size > 0}
              totalSelected={selection.selected.size}
              onCancel={() => selection.onChange(new Set())}
            >
              {selection.batchActions}
            </TableBatchActions>
          ) : null}
          <TableToolbarContent aria-hidden={selection && selection.selected.size > 0 ? true : undefined}>
            {toolbar}
          </TableToolbarContent>
        </TableToolbar>
      ) : null}
      {loading && !items ? (
        <DataTableSkeleton columnCount={columns.length} rowCount={5} showHeader={false} showToolbar={false} />
      ) : (
        <Table aria-label={title} size="md">
          <TableHead>
            <TableRow>
              {selection ? (
                <TableSelectAll
                  id={`${title}-select-all`}
                  name={`${title}-select-all`}
                  ariaLabel="Select all rows on this page"
                  checked={rows.length > 0 && selectedHere === rows.length}
                  indeterminate={selectedHere > 0 && selectedHere < rows.length}
                  onSelect={toggleAll}
                />
              ) : null}
              {columns.map((c) => (
                <TableHeader key={c.key}>{c.header}</TableHeader>
              ))}
              {hasActions ? (
                <TableHeader key="__actions">
                  <span className="cds--visually-hidden">Actions</span>
                </TableHeader>
              ) : null}
            </TableRow>
          </TableHead>
          <TableBody>
            {(items ?? []).length === 0 ? (
              <TableRow>
                <TableCell colSpan={columns.length + extraColumns}>
                  <span className="trellis-muted">{emptyText}</span>
                </TableCell>
              </TableRow>
            ) : (
              (items ?? []).map((item) => {
                const visible = actions.filter((a) => !a.show || a.show(item));
                return (
                  <TableRow key={item.id} isSelected={selection?.selected.has(item.id)}>
                    {selection ? (
                      <TableSelectRow
                        id={`${title}-select-${item.id}`}
                        name={`${title}-select`}
                        ariaLabel={`Select ${rowLabel(item)}`}
                        checked={selection.selected.has(item.id)}
                        onSelect={() => toggleRow(item.id)}
                      />
                    ) : null}
                    {columns.map((c) => (
                      <TableCell key={c.key}>{c.render(item)}</TableCell>
                    ))}
                    {hasActions ? (
                      <TableCell className="cds--table-column-menu">
                        {visible.length > 0 ? (
                          <OverflowMenu aria-label={`Actions for ${rowLabel(item)}`} flipped size="sm">
                            {visible.map((a) => (
                              <OverflowMenuItem
                                key={a.label}
                                itemText={a.label}
                                isDelete={a.danger}
                                hasDivider={a.danger}
                                onClick={() => a.onClick(item)}
                              />
                            ))}
                          </OverflowMenu>
                        ) : null}
                      </TableCell>
                    ) : null}
                  </TableRow>
                );
              })
            )}
          </TableBody>
        </Table>
      )}
      {pagination ? (
        <Pagination
          page={pagination.state.page}
          pageSize={pagination.state.size}
          pageSizes={[10, 25, 50, 100]}
          totalItems={pagination.total}
          onChange={({ page, pageSize }: { page: number; pageSize: number }) =>
            pagination.onChange({ page, size: pageSize })
          }
        />
      ) : null}
    </TableContainer>
  );
}
