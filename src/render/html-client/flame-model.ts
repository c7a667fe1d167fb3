// Pure flame graph arithmetic for the HTML pages, over a call tree stored depth first (a parent before its
// children, siblings left to right): subtree bounds, totals from self counts, x offsets, search matches.
// Everything is one linear pass over typed arrays, so a 100k-node tree refreshes in milliseconds.

export interface FlameTree {
  readonly size: number;
  /** Parent node per node; -1 for the root, node 0. */
  readonly parent: Int32Array;
  /** 0 for the root. */
  readonly depth: Int32Array;
  /** One past the last node of each node's subtree: the subtree of i is i .. end[i] - 1. */
  readonly end: Int32Array;
}

export function buildFlameTree(parent: Int32Array): FlameTree {
  const size = parent.length;
  const depth = new Int32Array(size);
  const end = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const p = parent[i]!;
    if (i === 0 ? p !== -1 : p < 0 || p >= i) throw new Error(`call tree is not depth first at node ${i}`);
    depth[i] = i === 0 ? 0 : depth[p]! + 1;
    end[i] = i + 1;
  }
  for (let i = size - 1; i > 0; i--) {
    const p = parent[i]!;
    if (end[i]! > end[p]!) end[p] = end[i]!;
  }
  return { size, parent, depth, end };
}

/** Total per node: its own samples plus everything below it. */
export function sumTotals(tree: FlameTree, self: ArrayLike<number>): Float64Array {
  const total = Float64Array.from(self);
  for (let i = tree.size - 1; i > 0; i--) total[tree.parent[i]!] += total[i]!;
  return total;
}

/** Left edge of each node in samples from the root's left edge, children packed in order. */
export function layoutOffsets(tree: FlameTree, total: ArrayLike<number>): Float64Array {
  const x = new Float64Array(tree.size);
  const nextChildX = new Float64Array(tree.size);
  for (let i = 1; i < tree.size; i++) {
    const p = tree.parent[i]!;
    x[i] = nextChildX[p]!;
    nextChildX[p] += total[i]!;
    nextChildX[i] = x[i]!;
  }
  return x;
}

export interface SearchResult {
  /** 1 for nodes whose label matches. The root never matches: it is not a frame. */
  matched: Uint8Array;
  /** Samples under a match, each counted once however many matches nest above it. */
  samples: number;
}

export function findMatches(
  tree: FlameTree,
  total: ArrayLike<number>,
  pattern: RegExp,
  labelOf: (node: number) => string,
): SearchResult {
  const matched = new Uint8Array(tree.size);
  const covered = new Uint8Array(tree.size);
  let samples = 0;
  for (let i = 1; i < tree.size; i++) {
    if (total[i] === 0) continue;
    const p = tree.parent[i]!;
    covered[i] = covered[p]! | matched[p]!;
    pattern.lastIndex = 0;
    if (!pattern.test(labelOf(i))) continue;
    matched[i] = 1;
    if (!covered[i]) samples += total[i]!;
  }
  return { matched, samples };
}

/**
 * 1 for nodes with no ancestor of the same key (function or frame): summing totals over these counts each
 * sample once per key even under recursion. Negative keys (synthetic nodes) are never counted.
 */
export function outermostByKey(tree: FlameTree, keyOf: ArrayLike<number>, keyCount: number): Uint8Array {
  const outermost = new Uint8Array(tree.size);
  const onPath = new Int32Array(keyCount);
  const path: number[] = [];
  for (let i = 0; i < tree.size; i++) {
    while (path.length > 0 && path[path.length - 1] !== tree.parent[i]) {
      const left = keyOf[path.pop()!]!;
      if (left >= 0) onPath[left]--;
    }
    const key = keyOf[i]!;
    if (key >= 0) {
      outermost[i] = onPath[key] === 0 ? 1 : 0;
      onPath[key]++;
    }
    path.push(i);
  }
  return outermost;
}
