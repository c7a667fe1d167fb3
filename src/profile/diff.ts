// Compares two profiles of one program, before and after a change: per-function self and total shares, each
// normalised by its own profile's sample count, and one merged call tree whose widths are AFTER's counts and
// whose nodes carry the change in share. Functions match by name and file, not line: an edit moves lines.

import { buildCallTree, type CallTreeNode } from './call-tree.js';
import { buildFunctionTotals, type FunctionCounts } from './function-totals.js';
import type { Profile } from './model.js';

/** 'both': sampled in both profiles; 'added': only in AFTER; 'removed': only in BEFORE. */
export type FunctionDiffStatus = 'both' | 'added' | 'removed';

export interface FunctionDiff {
  /** The function's id in this diff: the `func` of its tree nodes. */
  id: number;
  name: string;
  file: string;
  /** Sample counts in each profile. */
  before: FunctionCounts;
  after: FunctionCounts;
  /** Counts as fractions (0..1) of each profile's own sample count. */
  beforeShare: FunctionCounts;
  afterShare: FunctionCounts;
  /** afterShare − beforeShare: positive grew, negative shrank. */
  change: FunctionCounts;
  status: FunctionDiffStatus;
}

/** A node of the merged tree: `total` and `self` are AFTER's counts (the widths drawn). */
export interface DiffTreeNode extends CallTreeNode {
  readonly parent: DiffTreeNode | null;
  readonly children: Map<number, DiffTreeNode>;
  /** BEFORE's counts on the same call path; a path only BEFORE has keeps total 0 here. */
  readonly before: FunctionCounts;
  /** Change in share of each profile's samples (after − before), filled once both sides are merged. */
  readonly change: FunctionCounts;
}

export interface ProfileDiff {
  beforeSamples: number;
  afterSamples: number;
  root: DiffTreeNode;
  /** Every function sampled in either profile, the largest change of total share first. */
  functions: FunctionDiff[];
}

export function buildProfileDiff(before: Profile, after: Profile): ProfileDiff {
  const identities = new FunctionIdentities();
  const beforeIds = identities.ofProfile(before);
  const afterIds = identities.ofProfile(after);
  const root = createDiffNode(-1, 'all', '', null);
  mergeTree(root, before, beforeIds, (node) => node.before);
  mergeTree(root, after, afterIds, (node) => node);
  const beforeSamples = before.samples.count;
  const afterSamples = after.samples.count;
  for (const node of walkDiffTree(root)) {
    node.change.self = share(node.self, afterSamples) - share(node.before.self, beforeSamples);
    node.change.total = share(node.total, afterSamples) - share(node.before.total, beforeSamples);
  }
  const beforeTotals = buildFunctionTotals(before, { keyOf: (func) => beforeIds[func]! });
  const afterTotals = buildFunctionTotals(after, { keyOf: (func) => afterIds[func]! });
  const functions = identities.all().flatMap(({ id, name, file }) => {
    const beforeCounts = beforeTotals.get(id);
    const afterCounts = afterTotals.get(id);
    if (!beforeCounts && !afterCounts) return [];
    return [describeFunction(id, name, file, beforeCounts, afterCounts, beforeSamples, afterSamples)];
  });
  functions.sort(byLargestChange);
  return { beforeSamples, afterSamples, root, functions };
}

/** Every node, parents before children. */
export function* walkDiffTree(root: DiffTreeNode): Generator<DiffTreeNode> {
  const pending = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    yield node;
    pending.push(...node.children.values());
  }
}

/** A count as a fraction of `samples`; 0 for an empty profile rather than NaN. */
export function share(count: number, samples: number): number {
  return samples > 0 ? count / samples : 0;
}

/** One id per (name, file) across both profiles. */
class FunctionIdentities {
  private readonly ids = new Map<string, number>();
  private readonly entries: Array<{ id: number; name: string; file: string }> = [];

  /** The identity of each of the profile's function ids. */
  ofProfile(profile: Profile): Int32Array {
    return Int32Array.from(profile.functions, (entry) =>
      this.idOf(profile.strings[entry.name]!, profile.strings[entry.file]!),
    );
  }

  all(): ReadonlyArray<{ id: number; name: string; file: string }> {
    return this.entries;
  }

  private idOf(name: string, file: string): number {
    const key = `${name}\0${file}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.entries.length;
      this.entries.push({ id, name, file });
      this.ids.set(key, id);
    }
    return id;
  }
}

/** Adds one profile's function-level call tree into the merged tree, on the side `countsOf` picks. */
function mergeTree(
  root: DiffTreeNode,
  profile: Profile,
  identityOf: Int32Array,
  countsOf: (node: DiffTreeNode) => FunctionCounts,
): void {
  const tree = buildCallTree(profile, { frameKey: 'function' });
  const pending: Array<[CallTreeNode, DiffTreeNode]> = [[tree.root, root]];
  for (let pair = pending.pop(); pair; pair = pending.pop()) {
    const [source, target] = pair;
    countsOf(target).total += source.total;
    countsOf(target).self += source.self;
    for (const child of source.children.values()) {
      const id = identityOf[child.func]!;
      let merged = target.children.get(id);
      if (!merged) {
        merged = createDiffNode(id, child.name, child.file, target);
        target.children.set(id, merged);
      }
      pending.push([child, merged]);
    }
  }
}

function createDiffNode(id: number, name: string, file: string, parent: DiffTreeNode | null): DiffTreeNode {
  return {
    kind: parent ? 'frame' : 'root',
    key: id,
    func: id,
    name,
    file,
    line: 0,
    depth: parent ? parent.depth + 1 : 0,
    parent,
    children: new Map(),
    total: 0,
    self: 0,
    before: { self: 0, total: 0 },
    change: { self: 0, total: 0 },
  };
}

function describeFunction(
  id: number,
  name: string,
  file: string,
  beforeCounts: FunctionCounts | undefined,
  afterCounts: FunctionCounts | undefined,
  beforeSamples: number,
  afterSamples: number,
): FunctionDiff {
  const before = beforeCounts ?? { self: 0, total: 0 };
  const after = afterCounts ?? { self: 0, total: 0 };
  const beforeShare = { self: share(before.self, beforeSamples), total: share(before.total, beforeSamples) };
  const afterShare = { self: share(after.self, afterSamples), total: share(after.total, afterSamples) };
  return {
    id,
    name,
    file,
    before,
    after,
    beforeShare,
    afterShare,
    change: { self: afterShare.self - beforeShare.self, total: afterShare.total - beforeShare.total },
    status: !afterCounts ? 'removed' : !beforeCounts ? 'added' : 'both',
  };
}

function byLargestChange(a: FunctionDiff, b: FunctionDiff): number {
  return (
    Math.abs(b.change.total) - Math.abs(a.change.total) ||
    Math.abs(b.change.self) - Math.abs(a.change.self) ||
    compareText(a.name, b.name) ||
    compareText(a.file, b.file)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
