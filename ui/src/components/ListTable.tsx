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
}: Props<T>) {
  const hasActions = actions.length > 0;
  return (
    <TableContainer title={title} description={description}>
      {toolbar ? (
        <TableToolbar aria-label={`${title} toolbar`}>
          <TableToolbarContent>{toolbar}</TableToolbarContent>
        </TableToolbar>
      ) : null}
      {loading && !items ? (
        <DataTableSkeleton columnCount={columns.length} rowCount={5} showHeader={false} showToolbar={false} />
      ) : (
        <Table aria-label={title} size="md">
          <TableHead>
            <TableRow>
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
                <TableCell colSpan={columns.length + (hasActions ? 1 : 0)}>
                  <span className="trellis-muted">{emptyText}</span>
                </TableCell>
              </TableRow>
            ) : (
              (items ?? []).map((item) => {
                const visible = actions.filter((a) => !a.show || a.show(item));
                return (
                  <TableRow key={item.id}>
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
