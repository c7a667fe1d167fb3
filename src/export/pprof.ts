// Exports a profile as pprof's gzipped profile.proto, for `go tool pprof`, Pyroscope, Grafana and friends.
// One location per (function, line) frame; samples with the same stack and labels are summed.

import { constants, gzipSync } from 'node:zlib';
import type { Profile, ThreadEntry } from '../profile/index.js';
import { ProtobufWriter, varintSize } from './protobuf-writer.js';
import { sampleIntervalMs } from './sample-interval.js';

// Field numbers from profile.proto.
const PROFILE = {
  sampleType: 1,
  sample: 2,
  location: 4,
  function: 5,
  stringTable: 6,
  timeNanos: 9,
  durationNanos: 10,
  periodType: 11,
  period: 12,
  comment: 13,
  defaultSampleType: 14,
};
const VALUE_TYPE = { type: 1, unit: 2 };
const SAMPLE = { locationId: 1, value: 2, label: 3 };
const LABEL = { key: 1, str: 2, num: 3 };
const LOCATION = { id: 1, line: 4 };
const LINE = { functionId: 1, line: 2 };
const FUNCTION = { id: 1, name: 2, systemName: 3, filename: 4, startLine: 5 };

const NANOS_PER_MS = 1_000_000;

/** pprof's own string table: index 0 is always "". */
class StringTable {
  readonly strings: string[] = [''];
  private ids = new Map<string, number>([['', 0]]);

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(text);
      this.ids.set(text, id);
    }
    return id;
  }
}

/** Samples summed by stack and label set, as parallel columns of `length` rows, ordered by stack. */
interface AggregatedSamples {
  length: number;
  stack: Int32Array;
  labelSet: Int32Array;
  count: Int32Array;
}

/** The labels a sample carries: its thread (or the first one it shares labels with) and its endpoint. */
interface LabelSet {
  thread: number;
  endpoint: number;
}

export interface PprofOptions {
  /**
   * 'pprof' (default): thread name, tid and pid, ids as numbers. 'pyroscope': thread name and pid, every value a
   * string, no tid: Pyroscope ignores numeric labels and stores each distinct label set as a series of its own.
   */
  labels?: 'pprof' | 'pyroscope';
}

export function exportPprof(profile: Profile, options: PprofOptions = {}): Buffer {
  const strings = new StringTable();
  const out = new ProtobufWriter();
  const periodNanos = Math.round(sampleIntervalMs(profile) * NANOS_PER_MS);
  const writeLabels = options.labels === 'pyroscope' ? pyroscopeLabels : pprofLabels;
  out.message(PROFILE.sampleType, valueType(strings, 'samples', 'count'));
  out.message(PROFILE.sampleType, valueType(strings, 'cpu', 'nanoseconds'));
  const threadKey = options.labels === 'pyroscope' ? threadsByPidAndName(profile) : undefined;
  const { samples, labelSets } = aggregateSamples(profile, threadKey);
  const labelBytes = labelSets.map((labels) => encodeLabels(profile, strings, labels, writeLabels));
  // Rows come grouped by stack, so each stack's location ids are encoded once for all its label sets.
  let locationIds: Uint8Array = new Uint8Array(0);
  for (let row = 0; row < samples.length; row++) {
    const stack = samples.stack[row]!;
    if (row === 0 || stack !== samples.stack[row - 1]) locationIds = encodeLocationIds(profile, stack);
    writeSample(out, locationIds, samples.count[row]!, periodNanos, labelBytes[samples.labelSet[row]!]!);
  }
  for (let frame = 0; frame < profile.frames.length; frame++)
    out.message(PROFILE.location, buildLocation(profile, frame));
  for (let func = 0; func < profile.functions.length; func++)
    out.message(PROFILE.function, buildFunction(profile, strings, func));
  out.varint(PROFILE.timeNanos, BigInt(Math.round(profile.meta.startTime)) * BigInt(NANOS_PER_MS));
  out.varint(PROFILE.durationNanos, Math.round(profile.meta.durationMs * NANOS_PER_MS));
  out.message(PROFILE.periodType, valueType(strings, 'cpu', 'nanoseconds'));
  out.varint(PROFILE.period, periodNanos);
  out.packedVarints(
    PROFILE.comment,
    comments(profile).map((text) => strings.id(text)),
  );
  out.varint(PROFILE.defaultSampleType, strings.id('cpu'));
  // The string table goes last: every other part has interned its strings by now.
  for (const text of strings.strings) out.stringAlways(PROFILE.stringTable, text);
  // Level 1, as Go's runtime/pprof writes: rows grouped by stack already compress well, and it is several times faster.
  return gzipSync(out.finish(), { level: constants.Z_BEST_SPEED });
}

function valueType(strings: StringTable, type: string, unit: string): ProtobufWriter {
  return new ProtobufWriter().varint(VALUE_TYPE.type, strings.id(type)).varint(VALUE_TYPE.unit, strings.id(unit));
}

/**
 * Samples sharing stack, thread and endpoint differ only in time, which pprof does not keep. `sameThreadAs` maps
 * each thread to the first one whose labels it shares, when fewer labels are written than tell threads apart.
 */
function aggregateSamples(
  profile: Profile,
  sameThreadAs?: Int32Array,
): { samples: AggregatedSamples; labelSets: LabelSet[] } {
  const { labelSets, sampleLabelSets } = findLabelSets(profile, sameThreadAs);
  const { order, groupEnd } = samplesByStack(profile);
  const rows: AggregatedSamples = {
    length: 0,
    stack: new Int32Array(order.length),
    labelSet: new Int32Array(order.length),
    count: new Int32Array(order.length),
  };
  // Within one stack's group, a label set's row is the one made when `rowStack` last saw it.
  const rowStack = new Int32Array(labelSets.length).fill(-2);
  const rowOf = new Int32Array(labelSets.length);
  let next = 0;
  for (let stack = -1; stack < profile.stackParent.length; stack++) {
    for (const end = groupEnd[stack + 1]!; next < end; next++) {
      const labelSet = sampleLabelSets[order[next]!]!;
      if (rowStack[labelSet] !== stack) {
        rowStack[labelSet] = stack;
        rowOf[labelSet] = rows.length;
        rows.stack[rows.length] = stack;
        rows.labelSet[rows.length] = labelSet;
        rows.length++;
      }
      rows.count[rowOf[labelSet]!]!++;
    }
  }
  return { samples: rows, labelSets };
}

/** Each sample's label set, numbered in order of first appearance. */
function findLabelSets(
  profile: Profile,
  sameThreadAs?: Int32Array,
): { labelSets: LabelSet[]; sampleLabelSets: Int32Array } {
  const { samples } = profile;
  const labelSets: LabelSet[] = [];
  const idsByThread = profile.threads.map(() => new Map<number, number>());
  const sampleLabelSets = new Int32Array(samples.count);
  for (let i = 0; i < samples.count; i++) {
    const thread = sameThreadAs ? sameThreadAs[samples.thread[i]!]! : samples.thread[i]!;
    const endpoint = samples.endpoint[i]!;
    let id = idsByThread[thread]!.get(endpoint);
    if (id === undefined) {
      id = labelSets.push({ thread, endpoint }) - 1;
      idsByThread[thread]!.set(endpoint, id);
    }
    sampleLabelSets[i] = id;
  }
  return { labelSets, sampleLabelSets };
}

/**
 * Sample indices grouped by stack with a counting sort, so no hashing per sample: the group of stack s ends at
 * groupEnd[s + 1] and starts where the group of s - 1 ends (0 for the empty stack -1, first).
 */
function samplesByStack(profile: Profile): { order: Int32Array; groupEnd: Int32Array } {
  const { samples } = profile;
  const groupEnd = new Int32Array(profile.stackParent.length + 2);
  for (let i = 0; i < samples.count; i++) groupEnd[samples.stack[i]! + 2]!++;
  for (let s = 1; s < groupEnd.length; s++) groupEnd[s]! += groupEnd[s - 1]!;
  const order = new Int32Array(samples.count);
  for (let i = 0; i < samples.count; i++) order[groupEnd[samples.stack[i]! + 1]!++] = i;
  return { order, groupEnd };
}

/** Thread i → the first thread with the same pid and name (unnamed threads of a process count as one). */
function threadsByPidAndName(profile: Profile): Int32Array {
  const first = new Map<string, number>();
  return Int32Array.from(profile.threads, (thread, i) => {
    const key = `${thread.pid}:${thread.name}`;
    if (!first.has(key)) first.set(key, i);
    return first.get(key)!;
  });
}

type LabelWriter = (message: ProtobufWriter, strings: StringTable, thread: ThreadEntry) => void;

function pprofLabels(message: ProtobufWriter, strings: StringTable, thread: ThreadEntry): void {
  if (thread.name) message.message(SAMPLE.label, stringLabel(strings, 'thread', thread.name));
  message.message(SAMPLE.label, numberLabel(strings, 'tid', thread.tid));
  message.message(SAMPLE.label, numberLabel(strings, 'pid', thread.pid));
}

function pyroscopeLabels(message: ProtobufWriter, strings: StringTable, thread: ThreadEntry): void {
  if (thread.name) message.message(SAMPLE.label, stringLabel(strings, 'thread', thread.name));
  message.message(SAMPLE.label, stringLabel(strings, 'pid', String(thread.pid)));
}

/** A label set's label fields, encoded once and copied into every sample that carries it. */
function encodeLabels(profile: Profile, strings: StringTable, labels: LabelSet, writeLabels: LabelWriter): Uint8Array {
  const message = new ProtobufWriter();
  writeLabels(message, strings, profile.threads[labels.thread]!);
  if (labels.endpoint >= 0) {
    message.message(SAMPLE.label, stringLabel(strings, 'endpoint', profile.endpoints[labels.endpoint]!));
  }
  return message.view();
}

/** pprof wants the leaf first, as walking up from the stack's node goes; location ids are frame ids plus one. */
function encodeLocationIds(profile: Profile, stack: number): Uint8Array {
  const ids = new ProtobufWriter();
  for (let node = stack; node >= 0; node = profile.stackParent[node]!) ids.rawVarint(profile.stackFrame[node]! + 1);
  return ids.view();
}

/** One Sample message, written in place: its length is known from the cached parts before any byte goes out. */
function writeSample(
  out: ProtobufWriter,
  locationIds: Uint8Array,
  count: number,
  periodNanos: number,
  labels: Uint8Array,
): void {
  const cpu = count * periodNanos;
  // Packed, so a zero value still takes its slot: values line up with sample_type by position.
  const valuesLength = varintSize(count) + varintSize(cpu);
  const length =
    (locationIds.length > 0 ? fieldSize(SAMPLE.locationId, locationIds.length) : 0) +
    fieldSize(SAMPLE.value, valuesLength) +
    labels.length;
  out.lengthDelimited(PROFILE.sample, length);
  if (locationIds.length > 0) out.lengthDelimited(SAMPLE.locationId, locationIds.length).raw(locationIds);
  out.lengthDelimited(SAMPLE.value, valuesLength).rawVarint(count).rawVarint(cpu);
  out.raw(labels);
}

/** Bytes of a length-delimited field: tag, length and body. */
function fieldSize(field: number, length: number): number {
  return varintSize(field * 8 + 2) + varintSize(length) + length;
}

function stringLabel(strings: StringTable, key: string, value: string): ProtobufWriter {
  return new ProtobufWriter().varint(LABEL.key, strings.id(key)).varint(LABEL.str, strings.id(value));
}

function numberLabel(strings: StringTable, key: string, value: number): ProtobufWriter {
  return new ProtobufWriter().varint(LABEL.key, strings.id(key)).varint(LABEL.num, value);
}

function buildLocation(profile: Profile, frame: number): ProtobufWriter {
  const { func, line } = profile.frames[frame]!;
  const lineMessage = new ProtobufWriter().varint(LINE.functionId, func + 1).varint(LINE.line, line);
  return new ProtobufWriter().varint(LOCATION.id, frame + 1).message(LOCATION.line, lineMessage);
}

function buildFunction(profile: Profile, strings: StringTable, func: number): ProtobufWriter {
  const entry = profile.functions[func]!;
  const name = strings.id(profile.strings[entry.name]!);
  return new ProtobufWriter()
    .varint(FUNCTION.id, func + 1)
    .varint(FUNCTION.name, name)
    .varint(FUNCTION.systemName, name)
    .varint(FUNCTION.filename, strings.id(profile.strings[entry.file]!))
    .varint(FUNCTION.startLine, entry.firstLine);
}

function comments(profile: Profile): string[] {
  const { command, pythonVersion } = profile.meta;
  return [
    'hotpath',
    ...(command ? [`command: ${command}`] : []),
    ...(pythonVersion ? [`python: ${pythonVersion}`] : []),
  ];
}
