import { describe, expect, it } from "vitest";
import { rangeAt, selectionOffsets, textOffset } from "./caret";

function block(html: string): HTMLElement {
  const el = document.createElement("div");
  el.innerHTML = html;
  document.body.appendChild(el);
  return el;
}

/** The text of `root` with the range's ends marked as [ and ]. */
function marked(root: HTMLElement, range: Range): string {
  const copy = root.cloneNode(true) as HTMLElement;
  const path = (node: Node): number[] => {
    const steps: number[] = [];
    for (let n = node; n !== root; n = n.parentNode as Node) {
      steps.unshift(Array.from<Node>((n.parentNode as Node).childNodes).indexOf(n));
    }
    return steps;
  };
  const follow = (steps: number[]): Node => steps.reduce<Node>((n, i) => n.childNodes[i] as Node, copy);
  const insert = (node: Node, offset: number, mark: string) => {
    if (node.nodeType === 3) {
      const text = node as Text;
      text.data = text.data.slice(0, offset) + mark + text.data.slice(offset);
    } else {
      node.insertBefore(document.createTextNode(mark), node.childNodes[offset] ?? null);
    }
  };
  const start = follow(path(range.startContainer));
  const end = follow(path(range.endContainer));
  // The end first, so that the start's offset still holds when both are in one text node.
  insert(end, range.endOffset, "]");
  insert(start, range.startOffset, "[");
  return copy.innerHTML.replace(/<br>/g, "\n");
}

describe("textOffset", () => {
  it("counts the characters before a point in text, across inline elements and line breaks", () => {
    const root = block("Spring <b>sale</b> for<br>you");
    const sale = root.querySelector("b")?.firstChild as Text;
    expect(textOffset(root, root.firstChild as Node, 0)).toBe(0);
    expect(textOffset(root, sale, 2)).toBe(9);
    expect(textOffset(root, root.lastChild as Node, 1)).toBe(17);
  });
  it("reads a point given as a child index, as a browser gives after a line break or an element", () => {
    const root = block("ab<br>cd");
    expect(textOffset(root, root, 0)).toBe(0);
    expect(textOffset(root, root, 1)).toBe(2);
    expect(textOffset(root, root, 2)).toBe(3);
    expect(textOffset(root, root, 3)).toBe(5);
  });
  it("is null for a point outside the block", () => {
    const root = block("inside");
    const other = block("outside");
    expect(textOffset(root, other.firstChild as Node, 1)).toBeNull();
  });
});

describe("rangeAt", () => {
  it("puts a collapsed caret back at the same character", () => {
    const root = block("Spring <b>sale</b> for<br>you");
    expect(marked(root, rangeAt(root, { start: 0, end: 0 }))).toBe("[]Spring <b>sale</b> for\nyou");
    expect(marked(root, rangeAt(root, { start: 9, end: 9 }))).toBe("Spring <b>sa[]le</b> for\nyou");
    expect(marked(root, rangeAt(root, { start: 17, end: 17 }))).toBe("Spring <b>sale</b> for\ny[]ou");
  });
  it("keeps a caret at a line start after the line break, not before it", () => {
    const root = block("ab<br>cd");
    expect(marked(root, rangeAt(root, { start: 3, end: 3 }))).toBe("ab\n[]cd");
    expect(marked(root, rangeAt(root, { start: 2, end: 2 }))).toBe("ab[]\ncd");
    const leading = block("<br>cd");
    expect(marked(leading, rangeAt(leading, { start: 0, end: 0 }))).toBe("[]\ncd");
  });
  it("spans a selection and clamps offsets beyond the text to its end", () => {
    const root = block("Spring <b>sale</b>");
    expect(marked(root, rangeAt(root, { start: 2, end: 9 }))).toBe("Sp[ring <b>sa]le</b>");
    expect(marked(root, rangeAt(root, { start: 40, end: 50 }))).toBe("Spring <b>sale[]</b>");
    const empty = block("");
    expect(marked(empty, rangeAt(empty, { start: 3, end: 3 }))).toBe("[]");
  });
  it("round-trips through selectionOffsets after the block's DOM is rebuilt", () => {
    const root = block("Hello <i>dear</i> reader");
    const selection = window.getSelection() as Selection;
    selection.removeAllRanges();
    selection.addRange(rangeAt(root, { start: 7, end: 13 }));
    const saved = selectionOffsets(root, selection);
    expect(saved).toEqual({ start: 7, end: 13 });
    root.innerHTML = "Hello <i>dear</i> reader";
    expect(marked(root, rangeAt(root, saved as { start: number; end: number }))).toBe("Hello <i>d[ear</i> re]ader");
  });
  it("ignores a selection that is not in the block", () => {
    const root = block("mine");
    const other = block("theirs");
    const selection = window.getSelection() as Selection;
    selection.removeAllRanges();
    selection.addRange(rangeAt(other, { start: 1, end: 1 }));
    expect(selectionOffsets(root, selection)).toBeNull();
    expect(selectionOffsets(root, null)).toBeNull();
  });
});
