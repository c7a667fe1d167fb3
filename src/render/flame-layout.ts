// Flame graph geometry, apart from any drawing: one rectangle per call-tree node, as fractions of the
// full width, children in label order like flamegraph.pl, frames below a minimum width dropped.

import { sortedChildren, type CallTreeNode } from '../profile/index.js';

export interface FlameLayoutOptions {
  /** Rectangles narrower than this fraction of the root (and so all their descendants) are left out. */
  minWidth?: number;
  /** Icicle: root on the top row, callees below; otherwise the root is the bottom row. */
  icicle?: boolean;
}

export interface FlameRect {
  /** Left edge and width as fractions of the root's width. */
  x: number;
  width: number;
  /** 0 for the root, parent + 1 below. */
  depth: number;
  /** Row from the top of the drawing, following `icicle`. */
  row: number;
  node: CallTreeNode;
}

export interface FlameLayout {
  /** Parents before children, siblings left to right. */
  rects: FlameRect[];
  /** Number of rows drawn (deepest kept depth + 1). */
  rows: number;
}

export function buildFlameLayout(root: CallTreeNode, options: FlameLayoutOptions = {}): FlameLayout {
  const minWidth = options.minWidth ?? 0;
  const placed: Array<Omit<FlameRect, 'row'>> = [];
  if (root.total > 0) placeNode(root, 0, root.total, minWidth, placed);
  const rows = placed.reduce((deepest, rect) => Math.max(deepest, rect.depth + 1), 0);
  const rects = placed.map((rect) => ({ ...rect, row: options.icicle ? rect.depth : rows - 1 - rect.depth }));
  return { rects, rows };
}

/** Iterative so deep recursion in the target cannot overflow our stack. */
function placeNode(
  root: CallTreeNode,
  x: number,
  rootTotal: number,
  minWidth: number,
  placed: Array<Omit<FlameRect, 'row'>>,
): void {
  const pending = [{ node: root, x }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const width = item.node.total / rootTotal;
    if (width < minWidth || width === 0) continue;
    placed.push({ x: item.x, width, depth: item.node.depth - root.depth, node: item.node });
    const children = sortedChildren(item.node);
    let childX = item.x;
    const next: Array<{ node: CallTreeNode; x: number }> = [];
    for (const child of children) {
      next.push({ node: child, x: childX });
      childX += child.total / rootTotal;
    }
    pending.push(...next.reverse());
  }
}
