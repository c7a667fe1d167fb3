// What the HTML report embeds: the profile's interned tables, its line-level call tree depth first in label
// order, and its samples aggregated by (time bucket, thread, endpoint, tree node) with a count, which for
// real profiles is far fewer rows than samples. Linear in samples apart from small per-bucket sorts. Profiles
// recorded with --memory add their RSS series and the bytes of growth of each record that has some.

import { functionFile, functionName, type Profile } from '../profile/index.js';
import { formatFrameLabel } from './html-client/format.js';
import type { ReportData, ReportMemory } from './html-client/page-data.js';
import { niceStep } from './html-client/nice-step.js';
import { encodeColumn } from './page-columns.js';

/** The timeline never has more bars than this; its buckets are the finest time range one can select. */
export const MAX_TIMELINE_BUCKETS = 400;

export function buildReportData(profile: Profile, title: string): ReportData {
  const tree = orderStacks(profile);
  const timeline = chooseTimeline(profile);
  const { meta } = profile;
  const { records, growth } = aggregateSamples(
    profile,
    tree.nodeOfStack,
    tree.parent.length,
    timeline.bucketMs,
    timeline.buckets,
  );
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
    nodes: { parent: encodeColumn(tree.parent), frame: encodeColumn(tree.frame) },
    threads: profile.threads.map((t) => [t.pid, t.tid, t.name]),
    processes: profile.processes.map((p) => [p.pid, p.command]),
    endpoints: [...profile.endpoints],
    timeline,
    records,
    sources: sourcesOfFunctions(profile),
    ...(profile.memory && { memory: memoryData(profile.memory, growth) }),
  };
}

function memoryData(memory: NonNullable<Profile['memory']>, growth: ReportMemory['growth']): ReportMemory {
  return {
    processes: memory.map(({ time, residentBytes, ...totals }) => ({
      ...totals,
      time: Array.from(time, Math.round),
      residentBytes: Array.from(residentBytes),
    })),
    growth,
  };
}

/**
 * The line-level call tree in the order the client lays it out. The profile's interned stacks already form
 * that tree (a stack node is a parent and a frame, as a line-level call-tree node is), so this only orders
 * the stacks that have samples: depth first, children by label like sortedChildren, then by frame id.
 */
interface OrderedStacks {
  /** Per node (0 = the root, "all"): parent node (0 for the root itself) and frame id (0 for the root). */
  parent: Int32Array;
  frame: Int32Array;
  /** Node of each stack id; 0 for stacks without samples. */
  nodeOfStack: Int32Array;
}

function orderStacks(profile: Profile): OrderedStacks {
  const stacks = profile.stackParent.length;
  const used = markSampledStacks(profile);
  const rank = rankFramesByLabel(profile);
  // Children of each stack (slot 0: the roots, slot s + 1: children of stack s), grouped by counting.
  const childStart = new Int32Array(stacks + 2);
  for (let s = 0; s < stacks; s++) if (used[s]) childStart[profile.stackParent[s]! + 2]++;
  for (let slot = 1; slot < childStart.length; slot++) childStart[slot] += childStart[slot - 1]!;
  const children = new Int32Array(childStart[stacks + 1]!);
  const fill = childStart.slice(0, stacks + 1);
  for (let s = 0; s < stacks; s++) if (used[s]) children[fill[profile.stackParent[s]! + 1]!++] = s;
  const byLabel = (a: number, b: number) => rank[profile.stackFrame[a]!]! - rank[profile.stackFrame[b]!]!;
  for (let slot = 0; slot <= stacks; slot++) children.subarray(childStart[slot]!, childStart[slot + 1]!).sort(byLabel);

  const size = children.length + 1;
  const parent = new Int32Array(size);
  const frame = new Int32Array(size);
  const nodeOfStack = new Int32Array(stacks);
  const pending: number[] = [];
  const pushChildren = (slot: number) => {
    for (let k = childStart[slot + 1]! - 1; k >= childStart[slot]!; k--) pending.push(children[k]!);
  };
  pushChildren(0);
  for (let node = 1; pending.length > 0; node++) {
    const stack = pending.pop()!;
    const caller = profile.stackParent[stack]!;
    nodeOfStack[stack] = node;
    parent[node] = caller < 0 ? 0 : nodeOfStack[caller]!;
    frame[node] = profile.stackFrame[stack]!;
    pushChildren(stack + 1);
  }
  return { parent, frame, nodeOfStack };
}

/** 1 for every stack some sample is in or under. */
function markSampledStacks(profile: Profile): Uint8Array {
  const used = new Uint8Array(profile.stackParent.length);
  const { stack, count } = profile.samples;
  for (let i = 0; i < count; i++) {
    for (let s = stack[i]!; s >= 0 && !used[s]; s = profile.stackParent[s]!) used[s] = 1;
  }
  return used;
}

/** Each frame's position in label order (code-unit order, then frame id), the order sortedChildren gives. */
function rankFramesByLabel(profile: Profile): Int32Array {
  const labels = profile.frames.map(({ func, line }) =>
    formatFrameLabel(functionName(profile, func), functionFile(profile, func), line),
  );
  const order = labels
    .map((_, id) => id)
    .sort((a, b) => (labels[a]! < labels[b]! ? -1 : labels[a]! > labels[b]! ? 1 : a - b));
  const rank = new Int32Array(labels.length);
  order.forEach((frameId, position) => (rank[frameId] = position));
  return rank;
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

/**
 * One row per distinct (bucket, thread, endpoint, node) with its sample count. Within a bucket, samples are
 * sorted by a numeric key of the other three, so equal ones are adjacent: no hash map over a million keys.
 * The few samples with memory growth are summed per bucket and key apart, then given to their rows.
 */
function aggregateSamples(
  profile: Profile,
  nodeOfStack: Int32Array,
  nodes: number,
  bucketMs: number,
  buckets: number,
): { records: ReportData['records']; growth: ReportMemory['growth'] } {
  const { samples } = profile;
  const bucketOf = (i: number) => Math.min(buckets - 1, Math.max(0, Math.floor(samples.time[i]! / bucketMs)));
  const byBucket = groupByBucket(samples.count, buckets, bucketOf);
  const endpointSlots = profile.endpoints.length + 1;
  const keys = new Float64Array(samples.count);
  const growthByBucket = new Map<number, Map<number, number>>();
  byBucket.order.forEach((i, k) => {
    const stack = samples.stack[i]!;
    const node = stack < 0 ? 0 : nodeOfStack[stack]!;
    keys[k] = (samples.thread[i]! * endpointSlots + samples.endpoint[i]! + 1) * nodes + node;
    const bytes = samples.memoryGrowthBytes?.[i] ?? 0;
    if (bytes > 0) addTo(growthByBucket, bucketOf(i), keys[k]!, bytes);
  });
  const growth = { record: [] as number[], bytes: [] as number[] };
  const columns = {
    bucket: new Int32Array(samples.count),
    thread: new Int32Array(samples.count),
    endpoint: new Int32Array(samples.count),
    node: new Int32Array(samples.count),
    count: new Int32Array(samples.count),
  };
  let rows = 0;
  for (let bucket = 0; bucket < buckets; bucket++) {
    const sorted = keys.subarray(byBucket.start[bucket]!, byBucket.start[bucket + 1]!).sort();
    for (let k = 0; k < sorted.length; k++) {
      if (k > 0 && sorted[k] === sorted[k - 1]) {
        columns.count[rows - 1]!++;
        continue;
      }
      const lane = Math.floor(sorted[k]! / nodes);
      const bytes = growthByBucket.get(bucket)?.get(sorted[k]!);
      if (bytes !== undefined) {
        growth.record.push(rows);
        growth.bytes.push(bytes);
      }
      columns.bucket[rows] = bucket;
      columns.thread[rows] = Math.floor(lane / endpointSlots);
      columns.endpoint[rows] = lane % endpointSlots;
      columns.node[rows] = sorted[k]! % nodes;
      columns.count[rows++] = 1;
    }
  }
  return {
    records: {
      bucket: encodeColumn(columns.bucket.subarray(0, rows)),
      thread: encodeColumn(columns.thread.subarray(0, rows)),
      endpoint: encodeColumn(columns.endpoint.subarray(0, rows)),
      node: encodeColumn(columns.node.subarray(0, rows)),
      count: encodeColumn(columns.count.subarray(0, rows)),
    },
    growth: { record: encodeColumn(growth.record), bytes: growth.bytes },
  };
}

function addTo(table: Map<number, Map<number, number>>, outer: number, inner: number, amount: number): void {
  let row = table.get(outer);
  if (!row) {
    row = new Map();
    table.set(outer, row);
  }
  row.set(inner, (row.get(inner) ?? 0) + amount);
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
