// The call tree every flame graph and collapsed-stack export is derived from: samples merged
// root-first into nodes with total and self counts, optionally under one synthetic node per thread or process.

import { threadLabel, type Profile } from './model.js';

/**
 * 'line': one node per function and line, as py-spy draws (default); 'function': lines of a function merged,
 * labelled with its first line (py-spy's -F); 'function-no-line': merged and labelled without a line (--nolineno).
 */
export type FrameKey = 'line' | 'function' | 'function-no-line';
export type GroupBy = 'none' | 'thread' | 'process';
export type CallTreeNodeKind = 'root' | 'thread' | 'process' | 'frame';
/** What a sample weighs: 1, or the bytes of RSS growth attributed to it (profiles recorded with --memory). */
export type SampleWeight = 'samples' | 'memory';

export interface CallTreeOptions {
  /** Keeps only the samples it accepts (endpoint, thread or time-range views). */
  filter?: (sampleIndex: number) => boolean;
  groupBy?: GroupBy;
  frameKey?: FrameKey;
  /** 'samples' by default; with 'memory', counts are bytes and samples without growth are left out. */
  weight?: SampleWeight;
}

export interface CallTreeNode {
  readonly kind: CallTreeNodeKind;
  /** Key in the parent's `children`: frame id ('line'), function id ('function'), thread id or pid (groups). */
  readonly key: number;
  /** Function id for frame nodes, -1 for synthetic nodes. */
  readonly func: number;
  /** Function name, or the synthetic node's label ("all", "MainThread (4242)", "process 17 (gunicorn)"). */
  readonly name: string;
  /** Source file; '' for synthetic nodes. */
  readonly file: string;
  /** Executing line ('line'), the function's first line ('function'); 0 when unknown, synthetic or not wanted. */
  readonly line: number;
  readonly depth: number;
  readonly parent: CallTreeNode | null;
  readonly children: Map<number, CallTreeNode>;
  /** Samples (or their weight) in this node and below. */
  total: number;
  /** Samples (or their weight) whose innermost frame is this node. */
  self: number;
}

export interface CallTree {
  readonly root: CallTreeNode;
  readonly frameKey: FrameKey;
  readonly groupBy: GroupBy;
}

export function buildCallTree(profile: Profile, options: CallTreeOptions = {}): CallTree {
  const frameKey = options.frameKey ?? 'line';
  const groupBy = options.groupBy ?? 'none';
  const root = createNode('root', 0, -1, 'all', '', 0, null);
  const nodeOfStack = new Map<number, CallTreeNode>();
  const counts = countSamplesByGroupAndStack(profile, groupBy, options.filter, options.weight ?? 'samples');
  for (const [pairKey, count] of counts) {
    const group = Math.floor(pairKey / stackSlots(profile));
    const stack = (pairKey % stackSlots(profile)) - 1;
    const top = groupBy === 'none' ? root : findOrAddGroupNode(profile, root, groupBy, group);
    const node = findOrAddStackNode(profile, frameKey, top, group, stack, nodeOfStack);
    node.self += count;
    for (let n: CallTreeNode | null = node; n; n = n.parent) n.total += count;
  }
  return { root, frameKey, groupBy };
}

/** Nodes from the root down to `node`, inclusive. */
export function callTreePath(node: CallTreeNode): CallTreeNode[] {
  const path: CallTreeNode[] = [];
  for (let n: CallTreeNode | null = node; n; n = n.parent) path.push(n);
  return path.reverse();
}

/** "function (file:line)" for frames, like py-spy; "function (file)" when the line is unknown. */
export function callTreeNodeLabel(node: CallTreeNode): string {
  if (node.kind !== 'frame') return node.name;
  if (!node.file) return node.name;
  return node.line > 0 ? `${node.name} (${node.file}:${node.line})` : `${node.name} (${node.file})`;
}

/**
 * Children in label order, like flamegraph.pl (which sorts its input lines): deterministic, and the same
 * function lands in the same place in two graphs. Code-unit order, so no locale changes it.
 */
export function sortedChildren(node: CallTreeNode): CallTreeNode[] {
  const labelled = [...node.children.values()].map((child) => ({ child, label: callTreeNodeLabel(child) }));
  labelled.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.child.key - b.child.key));
  return labelled.map(({ child }) => child);
}

/** Every node, parents before children. */
export function* walkCallTree(root: CallTreeNode): Generator<CallTreeNode> {
  const pending = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    yield node;
    pending.push(...node.children.values());
  }
}

/** Stack ids are shifted by one so that an empty stack (-1) still has a slot. */
function stackSlots(profile: Profile): number {
  return profile.stackParent.length + 1;
}

/** Sample counts per (group, stack): distinct stacks are far fewer than samples, so the tree is walked per stack. */
function countSamplesByGroupAndStack(
  profile: Profile,
  groupBy: GroupBy,
  filter: CallTreeOptions['filter'],
  weight: SampleWeight,
): Map<number, number> {
  const { samples } = profile;
  const growth = weight === 'memory' ? (samples.memoryGrowthBytes ?? new Float64Array(samples.count)) : undefined;
  const counts = new Map<number, number>();
  for (let i = 0; i < samples.count; i++) {
    const amount = growth ? growth[i]! : 1;
    if (amount === 0 || (filter && !filter(i))) continue;
    const key = groupOf(profile, groupBy, samples.thread[i]!) * stackSlots(profile) + samples.stack[i]! + 1;
    counts.set(key, (counts.get(key) ?? 0) + amount);
  }
  return counts;
}

function groupOf(profile: Profile, groupBy: GroupBy, thread: number): number {
  if (groupBy === 'thread') return thread;
  if (groupBy === 'process') return profile.threads[thread]!.pid;
  return 0;
}

function findOrAddGroupNode(profile: Profile, root: CallTreeNode, groupBy: GroupBy, group: number): CallTreeNode {
  const existing = root.children.get(group);
  if (existing) return existing;
  const node =
    groupBy === 'thread'
      ? createNode('thread', group, -1, threadLabel(profile.threads[group]!), '', 0, root)
      : createNode('process', group, -1, processLabel(profile, group), '', 0, root);
  root.children.set(group, node);
  return node;
}

function processLabel(profile: Profile, pid: number): string {
  const command = profile.processes.find((process) => process.pid === pid)?.command;
  return command ? `process ${pid} (${command})` : `process ${pid}`;
}

/** The tree node of `stack` under `top`, creating the missing part of its path (memoised per group and stack). */
function findOrAddStackNode(
  profile: Profile,
  frameKey: FrameKey,
  top: CallTreeNode,
  group: number,
  stack: number,
  nodeOfStack: Map<number, CallTreeNode>,
): CallTreeNode {
  const memoKey = (id: number) => group * stackSlots(profile) + id;
  const missing: number[] = [];
  let node = top;
  for (let id = stack; id >= 0; id = profile.stackParent[id]!) {
    const known = nodeOfStack.get(memoKey(id));
    if (known) {
      node = known;
      break;
    }
    missing.push(id);
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    node = findOrAddFrameChild(profile, frameKey, node, profile.stackFrame[missing[i]!]!);
    nodeOfStack.set(memoKey(missing[i]!), node);
  }
  return node;
}

function findOrAddFrameChild(profile: Profile, frameKey: FrameKey, parent: CallTreeNode, frame: number): CallTreeNode {
  const { func, line } = profile.frames[frame]!;
  const key = frameKey === 'line' ? frame : func;
  const existing = parent.children.get(key);
  if (existing) return existing;
  const entry = profile.functions[func]!;
  const child = createNode(
    'frame',
    key,
    func,
    profile.strings[entry.name]!,
    profile.strings[entry.file]!,
    frameKey === 'line' ? line : frameKey === 'function' ? entry.firstLine : 0,
    parent,
  );
  parent.children.set(key, child);
  return child;
}

function createNode(
  kind: CallTreeNodeKind,
  key: number,
  func: number,
  name: string,
  file: string,
  line: number,
  parent: CallTreeNode | null,
): CallTreeNode {
  return {
    kind,
    key,
    func,
    name,
    file,
    line,
    depth: parent ? parent.depth + 1 : 0,
    parent,
    children: new Map(),
    total: 0,
    self: 0,
  };
}
