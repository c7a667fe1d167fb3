// Turns one view's counts (per call-tree node and endpoint) into the tables and flame graph of a snapshot. Linear
// in the size of the call tree apart from sorting the functions, so it stays quick however long sampling runs.

import type { ViewCounts } from './rolling-window.js';
import type { SnapshotEndpoint, SnapshotFlame, SnapshotFunction } from './snapshot.js';
import { ROOT_NODE, type StackTrie } from './stack-trie.js';

/** A flame graph wider than this many nodes loses its narrowest ones: no screen shows more, and JSON stays small. */
export const MAX_FLAME_NODES = 50_000;

export interface View {
  functions: SnapshotFunction[];
  flame: SnapshotFlame;
  endpoints: SnapshotEndpoint[];
}

export function buildView(trie: StackTrie, counts: ViewCounts, maxNodes = MAX_FLAME_NODES): View {
  const total = sumTotals(trie, counts.nodes);
  const { functions, rowOfFunction } = buildFunctionRows(trie, counts.nodes, total);
  return {
    functions,
    flame: buildFlame(trie, total, rowOfFunction, maxNodes),
    endpoints: [...counts.endpoints.entries()]
      .map(([label, samples]) => ({ label, samples }))
      .sort((a, b) => b.samples - a.samples || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)),
  };
}

/** Samples in each node and below: children have higher ids than their parent, so one backward pass sums them. */
function sumTotals(trie: StackTrie, own: ReadonlyMap<number, number>): Float64Array {
  const total = new Float64Array(trie.size);
  for (const [node, count] of own) total[node] += count;
  for (let node = trie.size - 1; node > ROOT_NODE; node--) total[trie.parent[node]!] += total[node]!;
  return total;
}

function buildFunctionRows(
  trie: StackTrie,
  own: ReadonlyMap<number, number>,
  total: Float64Array,
): { functions: SnapshotFunction[]; rowOfFunction: Int32Array } {
  const funcOwn = new Float64Array(trie.functions.length);
  const funcTotal = new Float64Array(trie.functions.length);
  for (const [node, count] of own) if (node !== ROOT_NODE) funcOwn[trie.func[node]!] += count;
  for (let node = 1; node < trie.size; node++) {
    if (trie.outermost[node]) funcTotal[trie.func[node]!] += total[node]!;
  }
  const ids: number[] = [];
  funcTotal.forEach((samples, func) => samples > 0 && ids.push(func));
  ids.sort((a, b) => funcOwn[b]! - funcOwn[a]! || funcTotal[b]! - funcTotal[a]! || a - b);
  const rowOfFunction = new Int32Array(trie.functions.length).fill(-1);
  ids.forEach((func, row) => (rowOfFunction[func] = row));
  const functions = ids.map((func) => {
    const { name, file, firstLine } = trie.functions[func]!;
    return { name, file, line: firstLine, own: funcOwn[func]!, total: funcTotal[func]! };
  });
  return { functions, rowOfFunction };
}

/** The nodes with samples, depth first in the trie's label order, without the narrowest beyond `maxNodes`. */
function buildFlame(trie: StackTrie, total: Float64Array, rowOfFunction: Int32Array, maxNodes: number): SnapshotFlame {
  const { minimum, omitted } = keptMinimum(total, maxNodes);
  const flame: SnapshotFlame = { parent: [], func: [], line: [], total: [], omitted };
  const pending: Array<[node: number, parent: number]> = [[ROOT_NODE, -1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, parent] = next;
    const index = flame.parent.length;
    flame.parent.push(parent);
    flame.func.push(node === ROOT_NODE ? -1 : rowOfFunction[trie.func[node]!]!);
    flame.line.push(node === ROOT_NODE ? 0 : Math.max(0, trie.line[node]!));
    flame.total.push(total[node]!);
    const children = trie.children[node]!;
    for (let k = children.length - 1; k >= 0; k--) {
      if (total[children[k]!]! >= minimum) pending.push([children[k]!, index]);
    }
  }
  return flame;
}

/**
 * The smallest total a node needs to be sent: 1 sample, or more when over `maxNodes` nodes have samples. A
 * child never has more samples than its parent, so the nodes kept always form a tree.
 */
function keptMinimum(total: Float64Array, maxNodes: number): { minimum: number; omitted: number } {
  const sampled = total.filter((count) => count > 0);
  if (sampled.length <= maxNodes) return { minimum: 1, omitted: 0 };
  sampled.sort().reverse();
  const minimum = sampled[maxNodes - 1]! + 1;
  return { minimum, omitted: sampled.filter((count) => count < minimum).length };
}
