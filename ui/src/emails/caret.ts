/**
 * A caret in an editable element, kept as character offsets into its text rather than as DOM
 * nodes: GrapesJS rebuilds a text block's DOM from its model when editing ends, so a saved
 * Range would point at nodes that are gone, while the offsets still mean the same place.
 */

/** Start and end of a selection, counted in characters of text (a line break counts as one). */
export interface TextOffsets {
  start: number;
  end: number;
}

/** The units that carry characters: text nodes, and line breaks (one character each). */
function units(root: Node): (Text | HTMLBRElement)[] {
  const doc = root.ownerDocument ?? (root as Document);
  const walker = doc.createTreeWalker(root, 0x1 | 0x4 /* SHOW_ELEMENT | SHOW_TEXT */);
  const found: (Text | HTMLBRElement)[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === 3) found.push(node as Text);
    else if (node.nodeName === "BR") found.push(node as HTMLBRElement);
  }
  return found;
}

function length(unit: Text | HTMLBRElement): number {
  return unit.nodeType === 3 ? (unit as Text).data.length : 1;
}

/**
 * The text offset, within `root`, of the DOM boundary point (`node`, `offset`); null when the
 * point is outside `root`.
 */
export function textOffset(root: Node, node: Node, offset: number): number | null {
  if (node !== root && !root.contains(node)) return null;
  const doc = root.ownerDocument ?? (root as Document);
  const point = doc.createRange();
  point.setStart(node, offset);
  let total = 0;
  for (const unit of units(root)) {
    if (unit.nodeType === 3 && unit === node) return total + Math.min(offset, length(unit));
    // A unit wholly before the point counts in full.
    const unitEnd = doc.createRange();
    unitEnd.setStartAfter(unit);
    if (point.compareBoundaryPoints(Range.START_TO_START, unitEnd) < 0) break;
    total += length(unit);
  }
  return total;
}

/** The offsets of a selection's first range, when both of its ends are inside `root`. */
export function selectionOffsets(root: Node, selection: Selection | null): TextOffsets | null {
  if (!selection || selection.rangeCount === 0) return null;
  const range = selection.getRangeAt(0);
  const start = textOffset(root, range.startContainer, range.startOffset);
  const end = textOffset(root, range.endContainer, range.endOffset);
  if (start === null || end === null) return null;
  return { start, end };
}

/** Where a text offset falls: in a text node, or just before a line break or at the very end. */
function boundary(root: Node, units: (Text | HTMLBRElement)[], offset: number): [Node, number] {
  let total = 0;
  for (const unit of units) {
    const size = length(unit);
    // On the border between two units, the earlier one wins: typing there continues its text.
    if (unit.nodeType === 3 && offset <= total + size) return [unit, Math.max(0, offset - total)];
    if (unit.nodeType !== 3 && offset <= total) {
      const parent = unit.parentNode as Node;
      return [parent, Array.from<Node>(parent.childNodes).indexOf(unit)];
    }
    total += size;
  }
  return [root, root.childNodes.length];
}

/**
 * A Range over `offsets` within `root`. Offsets past the end (the text got shorter) clamp to
 * the end, so the caret lands in the block rather than nowhere.
 */
export function rangeAt(root: Node, offsets: TextOffsets): Range {
  const doc = root.ownerDocument ?? (root as Document);
  const all = units(root);
  const total = all.reduce((sum, unit) => sum + length(unit), 0);
  const end = Math.max(0, Math.min(offsets.end, total));
  const start = Math.max(0, Math.min(offsets.start, end));
  const range = doc.createRange();
  range.setStart(...boundary(root, all, start));
  range.setEnd(...boundary(root, all, end));
  return range;
}
