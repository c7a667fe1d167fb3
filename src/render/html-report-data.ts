// What the HTML report embeds: the profile's interned tables, its line-level call tree depth first in label
// order, and its samples aggregated by (time bucket, thread, endpoint, tree node) with a count, which for
// real profiles is far fewer rows than samples.

import { buildCallTree, sortedChildren, type CallTreeNode, type Profile } from '../profile/index.js';
import type { ReportData } from './html-client/page-data.js';
import { niceStep } from './html-client/nice-step.js';
import { encodeColumn } from './page-columns.js';

/** The timeline never has more bars than this; its buckets are the finest time range one can select. */
export const MAX_TIMELINE_BUCKETS = 400;

export function buildReportData(profile: Profile, title: string): ReportData {
  const tree = orderCallTree(profile);
  const timeline = chooseTimeline(profile);
  const { meta } = profile;
  return {
    kind: 'report',
    title,
    meta: {
      command: meta.command,
      pythonVersion: meta.pythonVersion,
      startTime: meta.startTime,
      durationMs: meta.durationMs,
      rateHz: meta.rateHz,
      samples: profile.samples.count,
      attempted: meta.stats.attempted,
      taken: meta.stats.taken,
      dropped: { ...meta.stats.dropped },
    },
    strings: [...profile.strings],
    functions: {
      name: encodeColumn(profile.functions.map((f) => f.name)),
      file: encodeColumn(profile.functions.map((f) => f.file)),
      firstLine: encodeColumn(profile.functions.map((f) => Math.max(0, f.firstLine))),
    },
    frames: {
      func: encodeColumn(profile.frames.map((f) => f.func)),
      line: encodeColumn(profile.frames.map((f) => Math.max(0, f.line))),
    },
    nodes: {
      parent: encodeColumn(tree.nodes.map((node) => (node.parent ? tree.indexOf.get(node.parent)! : 0))),
      frame: encodeColumn(tree.nodes.map((node) => (node.kind === 'frame' ? node.key : 0))),
    },
    threads: profile.threads.map((t) => [t.pid, t.tid, t.name]),
    processes: profile.processes.map((p) => [p.pid, p.command]),
    endpoints: [...profile.endpoints],
    timeline,
    records: aggregateSamples(profile, tree.nodeOfSample, timeline.bucketMs, timeline.buckets),
    sources: sourcesOfFunctions(profile),
  };
}

interface OrderedTree {
  /** Depth first, children in label order: the order the client lays out in. */
  nodes: CallTreeNode[];
  indexOf: Map<CallTreeNode, number>;
  /** Node index of a sample's innermost frame; 0 (the root) for an empty stack. */
  nodeOfSample: (sample: number) => number;
}

function orderCallTree(profile: Profile): OrderedTree {
  const { root } = buildCallTree(profile, { frameKey: 'line' });
  const nodes: CallTreeNode[] = [];
  const pending = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    nodes.push(node);
    pending.push(...sortedChildren(node).reverse());
  }
  const indexOf = new Map(nodes.map((node, index) => [node, index]));
  const nodeOfStack = new Int32Array(profile.stackParent.length).fill(-1);
  /** Line-level tree children are keyed by frame id, so a stack's node is found by walking its frames. */
  const resolve = (stack: number): number => {
    if (stack < 0) return 0;
    const missing: number[] = [];
    let id = stack;
    for (; id >= 0 && nodeOfStack[id]! < 0; id = profile.stackParent[id]!) missing.push(id);
    let node = id < 0 ? root : nodes[nodeOfStack[id]!]!;
    for (let i = missing.length - 1; i >= 0; i--) {
      node = node.children.get(profile.stackFrame[missing[i]!]!)!;
      nodeOfStack[missing[i]!] = indexOf.get(node)!;
    }
    return nodeOfStack[stack]!;
  };
  return { nodes, indexOf, nodeOfSample: (sample) => resolve(profile.samples.stack[sample]!) };
}

/** The smallest 1-2-5 step of at least one sampling interval that keeps the timeline within its bar limit. */
export function chooseTimeline(profile: Profile): { bucketMs: number; buckets: number } {
  const { time, count } = profile.samples;
  let lastTime = 0;
  for (let i = 0; i < count; i++) lastTime = Math.max(lastTime, time[i]!);
  const intervalMs = profile.meta.rateHz > 0 ? 1000 / profile.meta.rateHz : 10;
  const spanMs = Math.max(profile.meta.durationMs, lastTime + intervalMs, 1);
  const bucketMs = niceStep(Math.max(spanMs / MAX_TIMELINE_BUCKETS, intervalMs));
  const buckets = Math.max(Math.ceil(spanMs / bucketMs), Math.floor(lastTime / bucketMs) + 1);
  return { bucketMs, buckets };
}

function aggregateSamples(
  profile: Profile,
  nodeOfSample: (sample: number) => number,
  bucketMs: number,
  buckets: number,
): ReportData['records'] {
  const { samples } = profile;
  const bucketOf = (i: number) => Math.min(buckets - 1, Math.max(0, Math.floor(samples.time[i]! / bucketMs)));
  const byBucket = groupByBucket(samples.count, buckets, bucketOf);
  const endpointSlots = profile.endpoints.length + 1;
  const nodeSlots = profile.stackParent.length + 1;
  const columns = { bucket: [] as number[], thread: [] as number[], endpoint: [] as number[], node: [] as number[] };
  const counts: number[] = [];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const rowOfKey = new Map<number, number>();
    for (let k = byBucket.start[bucket]!; k < byBucket.start[bucket + 1]!; k++) {
      const i = byBucket.order[k]!;
      const thread = samples.thread[i]!;
      const endpoint = samples.endpoint[i]! + 1;
      const node = nodeOfSample(i);
      const key = (thread * endpointSlots + endpoint) * nodeSlots + node;
      const row = rowOfKey.get(key);
      if (row !== undefined) {
        counts[row]!++;
        continue;
      }
      rowOfKey.set(key, counts.length);
      columns.bucket.push(bucket);
      columns.thread.push(thread);
      columns.endpoint.push(endpoint);
      columns.node.push(node);
      counts.push(1);
    }
  }
  return {
    bucket: encodeColumn(columns.bucket),
    thread: encodeColumn(columns.thread),
    endpoint: encodeColumn(columns.endpoint),
    node: encodeColumn(columns.node),
    count: encodeColumn(counts),
  };
}

/** Sample indices ordered by bucket (a counting sort: samples need not be in time order). */
function groupByBucket(
  count: number,
  buckets: number,
  bucketOf: (i: number) => number,
): { order: Int32Array; start: Int32Array } {
  const start = new Int32Array(buckets + 1);
  const bucket = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    bucket[i] = bucketOf(i);
    start[bucket[i]! + 1]++;
  }
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b]!;
  const next = start.slice(0, buckets);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[next[bucket[i]!]!++] = i;
  return { order, start };
}

/** Captured sources of files the profile's functions are in (a saved profile may carry others). */
function sourcesOfFunctions(profile: Profile): Record<string, string[]> {
  const files = new Set(profile.functions.map((f) => profile.strings[f.file]!));
  // No prototype: a file named "__proto__" must stay an ordinary key.
  const sources: Record<string, string[]> = Object.create(null);
  for (const [file, lines] of profile.sources) if (files.has(file)) sources[file] = [...lines];
  return sources;
}
