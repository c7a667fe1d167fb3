// The HTML report's numbers, pure: decodes the embedded profile and derives, for the current filter (an
// endpoint, a time range), the call tree counts, the function table, the endpoint table, per-line heat and
// the timeline, and for profiles recorded with --memory the same counts in bytes of growth and the growth table.
// The page code only draws what these return.

import { decodeColumn } from './columns.js';
import { buildFlameTree, outermostByKey, sumTotals, type FlameTree } from './flame-model.js';
import { formatFrameLabel } from './format.js';
import type { ReportData } from './page-data.js';

export interface ReportModel {
  readonly data: ReportData;
  readonly tree: FlameTree;
  /** Frame and function of each node; -1 for the root. */
  readonly nodeFrame: Int32Array;
  readonly nodeFunc: Int32Array;
  readonly frameFunc: Int32Array;
  readonly frameLine: Int32Array;
  readonly funcName: Int32Array;
  readonly funcFile: Int32Array;
  readonly funcFirstLine: Int32Array;
  /** Nodes that are the outermost of their function / frame on their path (see outermostByKey). */
  readonly outermostFunc: Uint8Array;
  readonly outermostFrame: Uint8Array;
  readonly records: {
    readonly bucket: Int32Array;
    readonly thread: Int32Array;
    /** Endpoint id + 1; 0 for samples outside any request. */
    readonly endpoint: Int32Array;
    readonly node: Int32Array;
    readonly count: Int32Array;
  };
  /** Record indices grouped by endpoint (+ 1): those of endpoint e are order[start[e]] .. order[start[e + 1] - 1]. */
  readonly recordsByEndpoint: { readonly order: Int32Array; readonly start: Int32Array };
  /** Bytes of memory growth per record; null when the profile has no memory data. */
  readonly recordGrowth: Float64Array | null;
}

/** What the flame graph's widths count: samples, or bytes of memory growth. */
export type NodeWeight = 'samples' | 'memory';

/** Which samples a view shows; null means no restriction. */
export interface SampleFilter {
  /** Endpoint id + 1, 0 for "no request". */
  endpoint: number | null;
  /** First and last time bucket, inclusive. */
  range: readonly [number, number] | null;
}

export const NO_FILTER: SampleFilter = { endpoint: null, range: null };

export function decodeReport(data: ReportData): ReportModel {
  const parent = decodeColumn(data.nodes.parent);
  if (parent.length > 0) parent[0] = -1;
  const tree = buildFlameTree(parent);
  const nodeFrame = decodeColumn(data.nodes.frame);
  if (nodeFrame.length > 0) nodeFrame[0] = -1;
  const frameFunc = decodeColumn(data.frames.func);
  const nodeFunc = nodeFrame.map((frame) => (frame < 0 ? -1 : frameFunc[frame]!));
  const funcName = decodeColumn(data.functions.name);
  const recordEndpoint = decodeColumn(data.records.endpoint);
  const recordCount = decodeColumn(data.records.count);
  return {
    data,
    tree,
    nodeFrame,
    nodeFunc,
    frameFunc,
    frameLine: decodeColumn(data.frames.line),
    funcName,
    funcFile: decodeColumn(data.functions.file),
    funcFirstLine: decodeColumn(data.functions.firstLine),
    outermostFunc: outermostByKey(tree, nodeFunc, funcName.length),
    outermostFrame: outermostByKey(tree, nodeFrame, frameFunc.length),
    records: {
      bucket: decodeColumn(data.records.bucket),
      thread: decodeColumn(data.records.thread),
      endpoint: recordEndpoint,
      node: decodeColumn(data.records.node),
      count: recordCount,
    },
    recordsByEndpoint: groupIndices(recordEndpoint, data.endpoints.length + 1),
    recordGrowth: data.memory ? decodeGrowth(data.memory.growth, recordCount.length) : null,
  };
}

function decodeGrowth(growth: NonNullable<ReportData['memory']>['growth'], records: number): Float64Array {
  const bytes = new Float64Array(records);
  decodeColumn(growth.record).forEach((record, k) => (bytes[record] = growth.bytes[k]!));
  return bytes;
}

/** Indices 0..n-1 grouped by their value (a counting sort), with where each value's group starts. */
function groupIndices(values: Int32Array, distinct: number): { order: Int32Array; start: Int32Array } {
  const start = new Int32Array(distinct + 1);
  for (const value of values) start[value + 1]++;
  for (let v = 0; v < distinct; v++) start[v + 1] += start[v]!;
  const next = start.slice(0, distinct);
  const order = new Int32Array(values.length);
  values.forEach((value, index) => (order[next[value]!++] = index));
  return { order, start };
}

function accepts(model: ReportModel, filter: SampleFilter, record: number): boolean {
  const { records } = model;
  if (filter.endpoint !== null && records.endpoint[record] !== filter.endpoint) return false;
  if (filter.range === null) return true;
  const bucket = records.bucket[record]!;
  return bucket >= filter.range[0] && bucket <= filter.range[1];
}

/** Samples (or bytes grown) whose innermost frame is each node (the root's: samples with an empty stack). */
export function countNodeSelf(model: ReportModel, filter: SampleFilter, weight: NodeWeight = 'samples'): Float64Array {
  const self = new Float64Array(model.tree.size);
  const { node } = model.records;
  const amount = weight === 'memory' ? (model.recordGrowth ?? new Float64Array(node.length)) : model.records.count;
  for (let r = 0; r < node.length; r++) {
    if (amount[r] !== 0 && accepts(model, filter, r)) self[node[r]!] += amount[r]!;
  }
  return self;
}

/** Self and total per node for a filter; total[0] is the number of samples (or bytes grown) shown. */
export function countNodes(
  model: ReportModel,
  filter: SampleFilter,
  weight: NodeWeight = 'samples',
): { self: Float64Array; total: Float64Array } {
  const self = countNodeSelf(model, filter, weight);
  return { self, total: sumTotals(model.tree, self) };
}

export function functionName(model: ReportModel, func: number): string {
  return model.data.strings[model.funcName[func]!]!;
}

export function functionFile(model: ReportModel, func: number): string {
  return model.data.strings[model.funcFile[func]!]!;
}

/** "function (file:line)" of a node; "all" for the root. */
export function nodeLabel(model: ReportModel, node: number): string {
  const frame = model.nodeFrame[node]!;
  if (frame < 0) return 'all';
  const func = model.frameFunc[frame]!;
  return formatFrameLabel(functionName(model, func), functionFile(model, func), model.frameLine[frame]!);
}

export interface FunctionRow {
  func: number;
  name: string;
  file: string;
  firstLine: number;
  self: number;
  /** Samples with the function on the stack, once per sample. */
  total: number;
}

/** One row per function with samples under the filter, unsorted. */
export function functionRows(model: ReportModel, self: ArrayLike<number>, total: ArrayLike<number>): FunctionRow[] {
  const funcSelf = new Float64Array(model.funcName.length);
  const funcTotal = new Float64Array(model.funcName.length);
  for (let i = 1; i < model.tree.size; i++) {
    const func = model.nodeFunc[i]!;
    funcSelf[func] += self[i]!;
    if (model.outermostFunc[i]) funcTotal[func] += total[i]!;
  }
  const rows: FunctionRow[] = [];
  for (let func = 0; func < funcTotal.length; func++) {
    if (funcTotal[func] === 0) continue;
    rows.push({
      func,
      name: functionName(model, func),
      file: functionFile(model, func),
      firstLine: model.funcFirstLine[func]!,
      self: funcSelf[func]!,
      total: funcTotal[func]!,
    });
  }
  return rows;
}

export interface GrowthRow {
  frame: number;
  name: string;
  file: string;
  line: number;
  /** Bytes grown while this line was the innermost frame. */
  self: number;
  /** Bytes grown with this line anywhere on the stack, once per sample. */
  total: number;
}

/** One row per line (function and line) with memory growth under it, from node counts in bytes; unsorted. */
export function growthRows(model: ReportModel, self: ArrayLike<number>, total: ArrayLike<number>): GrowthRow[] {
  const counts = frameCounts(model, self, total);
  const rows: GrowthRow[] = [];
  counts.total.forEach((bytes, frame) => {
    if (bytes === 0) return;
    const func = model.frameFunc[frame]!;
    rows.push({
      frame,
      name: functionName(model, func),
      file: functionFile(model, func),
      line: model.frameLine[frame]!,
      self: counts.self[frame]!,
      total: bytes,
    });
  });
  return rows;
}

export interface EndpointRow {
  /** Endpoint id + 1; 0 for samples outside any request. */
  endpoint: number;
  label: string;
  samples: number;
  /** Functions with the most self samples in this endpoint, most first. */
  top: Array<{ func: number; name: string; self: number }>;
}

export const NO_REQUEST_LABEL = '(no request)';

/** Samples per endpoint within a time range (every endpoint, whichever is selected), most first. */
export function endpointRows(model: ReportModel, range: SampleFilter['range'], topCount = 3): EndpointRow[] {
  const filter: SampleFilter = { endpoint: null, range };
  const { node, count } = model.records;
  const { order, start } = model.recordsByEndpoint;
  // One dense per-function tally reused for each endpoint in turn, cleared through the list of what it touched.
  const selfOf = new Float64Array(model.funcName.length);
  const rows: EndpointRow[] = [];
  for (let e = 0; e + 1 < start.length; e++) {
    let samples = 0;
    const touched: number[] = [];
    for (let k = start[e]!; k < start[e + 1]!; k++) {
      const r = order[k]!;
      if (!accepts(model, filter, r)) continue;
      samples += count[r]!;
      const func = model.nodeFunc[node[r]!]!;
      if (func < 0) continue;
      if (selfOf[func] === 0) touched.push(func);
      selfOf[func] += count[r]!;
    }
    const top = touched
      .map((func) => ({ func, name: functionName(model, func), self: selfOf[func]! }))
      .sort((a, b) => b.self - a.self || a.func - b.func)
      .slice(0, topCount);
    for (const func of touched) selfOf[func] = 0;
    if (samples === 0) continue;
    rows.push({ endpoint: e, label: e === 0 ? NO_REQUEST_LABEL : model.data.endpoints[e - 1]!, samples, top });
  }
  return rows.sort((a, b) => b.samples - a.samples || a.endpoint - b.endpoint);
}

export interface LineRow {
  line: number;
  /** Samples executing this line of the function as the innermost frame. */
  self: number;
  /** Samples with the function at this line anywhere on the stack, once per sample. */
  total: number;
}

/** Self and total per frame (function + line) for node counts. */
export function frameCounts(
  model: ReportModel,
  self: ArrayLike<number>,
  total: ArrayLike<number>,
): { self: Float64Array; total: Float64Array } {
  const frameSelf = new Float64Array(model.frameFunc.length);
  const frameTotal = new Float64Array(model.frameFunc.length);
  for (let i = 1; i < model.tree.size; i++) {
    const frame = model.nodeFrame[i]!;
    frameSelf[frame] += self[i]!;
    if (model.outermostFrame[i]) frameTotal[frame] += total[i]!;
  }
  return { self: frameSelf, total: frameTotal };
}

/** The sampled lines of a function, in line order. */
export function lineRows(
  model: ReportModel,
  func: number,
  counts: { self: Float64Array; total: Float64Array },
): LineRow[] {
  const byLine = new Map<number, LineRow>();
  for (let frame = 0; frame < model.frameFunc.length; frame++) {
    if (model.frameFunc[frame] !== func || counts.total[frame] === 0) continue;
    const line = model.frameLine[frame]!;
    const row = byLine.get(line) ?? { line, self: 0, total: 0 };
    row.self += counts.self[frame]!;
    row.total += counts.total[frame]!;
    byLine.set(line, row);
  }
  return [...byLine.values()].sort((a, b) => a.line - b.line);
}

export interface TimelineRow {
  /** Thread id, or -1 for the row that gathers the least busy threads. */
  thread: number;
  label: string;
  /** Samples per time bucket. */
  counts: Float64Array;
  samples: number;
}

/** Samples per bucket per thread (for an endpoint filter; the range is what the timeline selects), busiest first. */
export function timelineRows(model: ReportModel, endpoint: SampleFilter['endpoint'], maxRows = 12): TimelineRow[] {
  const { buckets } = model.data.timeline;
  const perThread = model.data.threads.map(() => new Float64Array(buckets));
  const filter: SampleFilter = { endpoint, range: null };
  const { bucket, thread, count } = model.records;
  for (let r = 0; r < bucket.length; r++) {
    if (accepts(model, filter, r)) perThread[thread[r]!]![bucket[r]!] += count[r]!;
  }
  const rows = perThread
    .map((counts, id) => ({ thread: id, label: threadLabel(model, id), counts, samples: sum(counts) }))
    .filter((row) => row.samples > 0)
    .sort((a, b) => b.samples - a.samples || a.thread - b.thread);
  if (rows.length <= maxRows) return rows;
  const rest = rows.slice(maxRows - 1);
  const counts = new Float64Array(buckets);
  for (const row of rest) row.counts.forEach((value, b) => (counts[b] += value));
  return [
    ...rows.slice(0, maxRows - 1),
    { thread: -1, label: `${rest.length} other threads`, counts, samples: sum(counts) },
  ];
}

/** "pid 42 · MainThread (42)", or "pid 42 · thread 43" when Python's name is unknown. */
export function threadLabel(model: ReportModel, thread: number): string {
  const [pid, tid, name] = model.data.threads[thread]!;
  return `pid ${pid} · ${name ? `${name} (${tid})` : `thread ${tid}`}`;
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** A function body longer than this shows only its sampled lines with a line of context each side. */
export const MAX_WHOLE_FUNCTION_LINES = 60;

/**
 * The line numbers a line view lists, null marking skipped lines. With source: the function from its first
 * line to its last sampled line when short enough, else the sampled lines with context. Without: the
 * sampled lines alone.
 */
export function displayedLines(
  sampled: readonly number[],
  firstLine: number,
  sourceLength: number | undefined,
): Array<number | null> {
  if (sampled.length === 0) return [];
  const last = Math.max(...sampled);
  const wanted = new Set<number>();
  if (sourceLength === undefined) {
    sampled.forEach((line) => wanted.add(line));
  } else {
    const first = firstLine > 0 && firstLine <= Math.min(...sampled) ? firstLine : Math.min(...sampled);
    const whole = last - first + 1 <= MAX_WHOLE_FUNCTION_LINES;
    if (whole) for (let line = first; line <= last; line++) wanted.add(line);
    else for (const line of sampled) for (let near = line - 1; near <= line + 1; near++) wanted.add(near);
  }
  const lines = [...wanted].filter(
    (line) => line >= 1 && (sourceLength === undefined || line <= sourceLength || sampled.includes(line)),
  );
  lines.sort((a, b) => a - b);
  return lines.flatMap((line, index) => (index > 0 && line > lines[index - 1]! + 1 ? [null, line] : [line]));
}
