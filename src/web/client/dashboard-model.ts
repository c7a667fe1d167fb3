// The dashboard page's pure part: a snapshot's flame graph as the flame view's tree with labels, and a zoomed
// frame remembered by its labels from the root, so a zoom outlives a refresh that renumbers the nodes.

import { buildFlameTree, type FlameTree } from '../../render/html-client/flame-model.js';
import { formatFrameLabel } from '../../render/html-client/format.js';
import type { Snapshot } from '../snapshot.js';

export interface FlameData {
  tree: FlameTree;
  total: Float64Array;
  /** "function (file:line)" per node; "all" for the root. */
  labels: string[];
  /** Function name per node, for colours; '' for the root. */
  names: string[];
}

export function decodeFlame(snapshot: Snapshot): FlameData {
  const { flame, functions } = snapshot;
  const names = flame.func.map((func) => (func < 0 ? '' : functions[func]!.name));
  const labels = flame.func.map((func, node) =>
    func < 0 ? 'all' : formatFrameLabel(functions[func]!.name, functions[func]!.file, flame.line[node]!),
  );
  return { tree: buildFlameTree(Int32Array.from(flame.parent)), total: Float64Array.from(flame.total), labels, names };
}

/** Labels of the frames from the root's child down to `node`; empty for the root. */
export function labelPath(flame: FlameData, node: number): string[] {
  const path: string[] = [];
  for (let n = node; n > 0; n = flame.tree.parent[n]!) path.push(flame.labels[n]!);
  return path.reverse();
}

/** The node at the end of `path`, or the deepest one of its callers still in the tree (0, the root, at worst). */
export function findLabelPath(flame: FlameData, path: readonly string[]): number {
  let node = 0;
  for (const label of path) {
    let child = -1;
    for (let n = node + 1; n < flame.tree.end[node]!; n = flame.tree.end[n]!) {
      if (flame.labels[n] === label) {
        child = n;
        break;
      }
    }
    if (child < 0) break;
    node = child;
  }
  return node;
}
