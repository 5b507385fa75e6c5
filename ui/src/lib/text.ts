/**
 * Any value as one line of text: nothing is "", a scalar as itself, an object or a list as JSON
 * (never "[object Object]"). For input values and labels built from loosely typed data.
 */
export function valueAsText(value: unknown): string {
  switch (typeof value) {
    case "undefined":
      return "";
    case "string":
      return value;
    case "object":
      return value === null ? "" : JSON.stringify(value);
    case "number":
    case "boolean":
    case "bigint":
    case "symbol":
      return value.toString();
  }
  return "";
}
