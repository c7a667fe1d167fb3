// Exports a profile as the marshalled dict Python's pstats.Stats loads, for `python -m pstats`, SnakeViz,
// tuna and other cProfile viewers: {(file, first line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}.
//
// A sampler cannot count calls, so the "call" columns count samples instead:
//   cc (primitive calls) = samples with the function on the stack, counted once per sample;
//   nc (total calls)     = frames of the function over all samples, so recursion shows as nc/cc like cProfile;
//   tt = samples with the function innermost × interval;  ct = cc × interval (recursion counted once).
// Caller entries use the same rules for the caller→callee edge: nc = its occurrences, cc = samples that have
// it, tt = samples where the callee is innermost right under that caller, ct = cc × interval.
// Samples with an empty stack have no function to charge and are left out. When stacks start in more than
// one function (threads have different entry points), a synthetic ('~', 0, '<all stacks>') calls them all:
// SnakeViz draws from a single root and would otherwise show only the busiest one.

import { stackFrames, type Profile } from '../profile/index.js';
import { MarshalWriter, PyFloat, type PyValue } from './marshal-writer.js';
import { sampleIntervalMs } from './sample-interval.js';

/** Function id standing for the synthetic root; real ids are never negative. */
const ALL_STACKS = -1;

interface Counts {
  primitive: number;
  total: number;
  self: number;
}

interface FunctionCounts extends Counts {
  /** Keyed by caller function id. */
  callers: Map<number, Counts>;
}

export function exportPstats(profile: Profile): Buffer {
  const intervalMs = sampleIntervalMs(profile);
  const seconds = (samples: number) => new PyFloat((samples * intervalMs) / 1000);
  const stats = new Map<PyValue, PyValue>();
  for (const [func, entry] of countSamplesPerFunction(profile)) {
    const callers = new Map<PyValue, PyValue>();
    for (const [caller, edge] of entry.callers) callers.set(pstatsKey(profile, caller), edgeTuple(edge, seconds));
    stats.set(pstatsKey(profile, func), [
      entry.primitive,
      entry.total,
      seconds(entry.self),
      seconds(entry.primitive),
      callers,
    ]);
  }
  return new MarshalWriter().value(stats).finish();
}

/** cProfile's caller entries are (nc, cc, tt, ct): total calls first, unlike the function's own tuple. */
function edgeTuple(edge: Counts, seconds: (samples: number) => PyFloat): PyValue[] {
  return [edge.total, edge.primitive, seconds(edge.self), seconds(edge.primitive)];
}

/** pstats identifies a function by (filename, line number, function name); ours by name, file and first line. */
function pstatsKey(profile: Profile, func: number): PyValue[] {
  if (func === ALL_STACKS) return ['~', 0, '<all stacks>'];
  const entry = profile.functions[func]!;
  return [profile.strings[entry.file]!, entry.firstLine, profile.strings[entry.name]!];
}

/** Per-function and per-edge counts, walking each distinct stack once and weighting it by its sample count. */
function countSamplesPerFunction(profile: Profile): Map<number, FunctionCounts> {
  const stacks = [...samplesPerStack(profile)].map(([stack, samples]) => ({
    funcs: stackFrames(profile, stack).map((frame) => profile.frames[frame]!.func),
    samples,
  }));
  const rootless = new Set(stacks.map(({ funcs }) => funcs[0])).size > 1;
  const counts = new Map<number, FunctionCounts>();
  for (const { funcs, samples } of stacks) countStack(counts, rootless ? [ALL_STACKS, ...funcs] : funcs, samples);
  return counts;
}

function countStack(counts: Map<number, FunctionCounts>, funcs: number[], samples: number): void {
  const seen = new Set<number>();
  const seenEdges = new Set<string>();
  funcs.forEach((func, depth) => {
    const entry = functionCounts(counts, func);
    entry.total += samples;
    if (!seen.has(func)) entry.primitive += samples;
    seen.add(func);
    const innermost = depth === funcs.length - 1;
    if (innermost) entry.self += samples;
    if (depth === 0) return;
    const caller = funcs[depth - 1]!;
    const edge = edgeCounts(entry, caller);
    edge.total += samples;
    if (!seenEdges.has(`${caller}>${func}`)) edge.primitive += samples;
    seenEdges.add(`${caller}>${func}`);
    if (innermost) edge.self += samples;
  });
}

function samplesPerStack(profile: Profile): Map<number, number> {
  const perStack = new Map<number, number>();
  for (let i = 0; i < profile.samples.count; i++) {
    const stack = profile.samples.stack[i]!;
    if (stack >= 0) perStack.set(stack, (perStack.get(stack) ?? 0) + 1);
  }
  return perStack;
}

function functionCounts(counts: Map<number, FunctionCounts>, func: number): FunctionCounts {
  let entry = counts.get(func);
  if (!entry) {
    entry = { primitive: 0, total: 0, self: 0, callers: new Map() };
    counts.set(func, entry);
  }
  return entry;
}

function edgeCounts(entry: FunctionCounts, caller: number): Counts {
  let edge = entry.callers.get(caller);
  if (!edge) {
    edge = { primitive: 0, total: 0, self: 0 };
    entry.callers.set(caller, edge);
  }
  return edge;
}
