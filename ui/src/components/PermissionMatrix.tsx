import { Checkbox } from "@carbon/react";
import type { PermissionCatalog } from "../api/types";
import { togglePermission } from "../lib/permissions";

/** Resources down, permissions across; a checkbox where the resource has that permission. */
export function PermissionMatrix({
  catalog,
  value,
  onChange,
  readOnly,
  allGranted = false,
}: {
  catalog: PermissionCatalog;
  value: Record<string, readonly string[] | undefined>;
  onChange: (next: Record<string, string[]>) => void;
  readOnly: boolean;
  allGranted?: boolean;
}) {
  return (
    <table className="trellis-matrix" aria-label="Permissions">
      <thead>
        <tr>
          <th scope="col">Resource</th>
          {catalog.permissions.map((p) => (
            <th key={p.key} scope="col">
              {p.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {catalog.resources.map((r) => (
          <tr key={r.key}>
            <th scope="row">{r.label}</th>
            {catalog.permissions.map((p) => {
              if (!r.permissions.includes(p.key)) {
                return (
                  <td key={p.key} aria-label={`${r.label}: ${p.label} does not apply`}>
                    <span className="trellis-muted" aria-hidden>
                      —
                    </span>
                  </td>
                );
              }
              const checked = allGranted || (value[r.key]?.includes(p.key) ?? false);
              return (
                <td key={p.key}>
                  <Checkbox
                    id={`perm-${r.key}-${p.key}`}
                    labelText={`${r.label}: ${p.label}`}
                    hideLabel
                    checked={checked}
                    disabled={readOnly}
                    onChange={(_e, { checked: next }) => onChange(togglePermission(value, r.key, p.key, next))}
                  />
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
