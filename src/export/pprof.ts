// Exports a profile as pprof's gzipped profile.proto, for `go tool pprof`, Pyroscope, Grafana and friends.
// One location per (function, line) frame; samples with the same stack and labels are summed.

import { gzipSync } from 'node:zlib';
import { stackFrames, type Profile, type ThreadEntry } from '../profile/index.js';
import { ProtobufWriter } from './protobuf-writer.js';
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

interface AggregatedSample {
  stack: number;
  thread: number;
  endpoint: number;
  count: number;
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
  for (const sample of aggregateSamples(profile, threadKey))
    out.message(PROFILE.sample, buildSample(profile, strings, sample, periodNanos, writeLabels));
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
  return gzipSync(out.finish());
}

function valueType(strings: StringTable, type: string, unit: string): ProtobufWriter {
  return new ProtobufWriter().varint(VALUE_TYPE.type, strings.id(type)).varint(VALUE_TYPE.unit, strings.id(unit));
}

/**
 * Samples sharing stack, thread and endpoint differ only in time, which pprof does not keep. `sameThreadAs` maps
 * each thread to the first one whose labels it shares, when fewer labels are written than tell threads apart.
 */
function aggregateSamples(profile: Profile, sameThreadAs?: Int32Array): AggregatedSample[] {
  const { samples } = profile;
  const byKey = new Map<string, AggregatedSample>();
  for (let i = 0; i < samples.count; i++) {
    const stack = samples.stack[i]!;
    const thread = sameThreadAs ? sameThreadAs[samples.thread[i]!]! : samples.thread[i]!;
    const endpoint = samples.endpoint[i]!;
    const key = `${stack}:${thread}:${endpoint}`;
    const existing = byKey.get(key);
    if (existing) existing.count++;
    else byKey.set(key, { stack, thread, endpoint, count: 1 });
  }
  return [...byKey.values()];
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

function buildSample(
  profile: Profile,
  strings: StringTable,
  sample: AggregatedSample,
  periodNanos: number,
  writeLabels: LabelWriter,
): ProtobufWriter {
  const message = new ProtobufWriter();
  message.packedVarints(SAMPLE.locationId, leafFirstLocationIds(profile, sample.stack));
  // Packed, so a zero value still takes its slot: values line up with sample_type by position.
  message.packedVarints(SAMPLE.value, [sample.count, sample.count * periodNanos]);
  writeLabels(message, strings, profile.threads[sample.thread]!);
  if (sample.endpoint >= 0) {
    message.message(SAMPLE.label, stringLabel(strings, 'endpoint', profile.endpoints[sample.endpoint]!));
  }
  return message;
}

/** pprof wants the leaf first; location ids are frame ids plus one (0 is not a valid id). */
function leafFirstLocationIds(profile: Profile, stack: number): number[] {
  return stackFrames(profile, stack)
    .reverse()
    .map((frame) => frame + 1);
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
