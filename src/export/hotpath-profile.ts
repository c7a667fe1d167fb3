// hotpath's own saved profile: the interned model, lossless. Layout inside gzip: the magic "HOTPATH\0", a u32
// (little-endian) header length, a JSON header (tables and meta), then the numeric columns it lists, back to back.
// Recordings made with --memory add a growth column per sample and the RSS series (header `memory`, with each
// process's number of points, and two columns of all points); files without them read as profiles without memory.

import { gunzipSync, gzipSync } from 'node:zlib';
import { HotpathError } from '../errors/index.js';
import {
  PROFILE_SCHEMA_VERSION,
  type FrameEntry,
  type FunctionEntry,
  type ProcessMemory,
  type Profile,
  type ProfileMeta,
  type ProcessEntry,
  type ThreadEntry,
} from '../profile/index.js';
import { InputChecker } from './input-checks.js';

export const HOTPATH_PROFILE_MAGIC = Buffer.from('HOTPATH\0', 'latin1');

export interface ImportHotpathProfileOptions {
  /** Refuse to inflate more than this: a gzip bomb would otherwise exhaust memory. */
  maxBytes?: number;
}

export const DEFAULT_MAX_HOTPATH_PROFILE_BYTES = 1024 * 1024 * 1024;

type ColumnType = 'int32' | 'float64' | 'uint8';
type Column = Int32Array | Float64Array | Uint8Array;

const BYTES_PER: Record<ColumnType, number> = { int32: 4, float64: 8, uint8: 1 };

interface ColumnHeader {
  name: string;
  type: ColumnType;
  length: number;
}

interface FileHeader {
  schemaVersion: number;
  strings: readonly string[];
  threads: readonly ThreadEntry[];
  processes: readonly ProcessEntry[];
  endpoints: readonly string[];
  sources: [string, readonly string[]][];
  meta: ProfileMeta;
  columns: ColumnHeader[];
  memory?: MemoryHeader[];
}

/** A ProcessMemory without its series, which are the columns memoryTime and memoryResident. */
type MemoryHeader = Omit<ProcessMemory, 'time' | 'residentBytes'> & { points: number };

export function exportHotpathProfile(profile: Profile): Buffer {
  const columns = profileColumns(profile);
  const header: FileHeader = {
    schemaVersion: profile.schemaVersion,
    strings: profile.strings,
    threads: profile.threads,
    processes: profile.processes,
    endpoints: profile.endpoints,
    sources: [...profile.sources],
    meta: profile.meta,
    columns: Object.entries(columns).map(([name, column]) => ({
      name,
      type: columnType(column),
      length: column.length,
    })),
    ...(profile.memory && {
      memory: profile.memory.map(({ time, residentBytes: _, ...totals }) => ({ ...totals, points: time.length })),
    }),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLength = Buffer.alloc(4);
  headerLength.writeUInt32LE(headerBytes.length);
  return gzipSync(
    Buffer.concat([HOTPATH_PROFILE_MAGIC, headerLength, headerBytes, ...Object.values(columns).map(encodeColumn)]),
  );
}

/** Reads a file written by exportHotpathProfile; anything else fails with HotpathError('bad-input-file'). */
export function importHotpathProfile(data: Uint8Array, options: ImportHotpathProfileOptions = {}): Profile {
  const check = new InputChecker('hotpath profile');
  const bytes = inflate(check, data, options.maxBytes ?? DEFAULT_MAX_HOTPATH_PROFILE_BYTES);
  if (
    bytes.length < HOTPATH_PROFILE_MAGIC.length + 4 ||
    !bytes.subarray(0, HOTPATH_PROFILE_MAGIC.length).equals(HOTPATH_PROFILE_MAGIC)
  ) {
    check.fail('it is gzip data but has no hotpath header (pprof and other gzip files cannot be read back)');
  }
  const headerStart = HOTPATH_PROFILE_MAGIC.length + 4;
  const headerLength = bytes.readUInt32LE(HOTPATH_PROFILE_MAGIC.length);
  if (headerLength > bytes.length - headerStart) check.fail('the header is longer than the file (truncated?)');
  const header = check.object(
    check.parseJson(bytes.toString('utf8', headerStart, headerStart + headerLength)),
    'header',
  );
  checkSchemaVersion(check, header.schemaVersion);
  const columns = decodeColumns(check, header.columns, bytes.subarray(headerStart + headerLength));
  return assembleProfile(check, header, columns);
}

function profileColumns(profile: Profile): Record<string, Column> {
  const { samples } = profile;
  return {
    functionName: Int32Array.from(profile.functions, (entry) => entry.name),
    functionFile: Int32Array.from(profile.functions, (entry) => entry.file),
    functionFirstLine: Int32Array.from(profile.functions, (entry) => entry.firstLine),
    frameFunc: Int32Array.from(profile.frames, (entry) => entry.func),
    frameLine: Int32Array.from(profile.frames, (entry) => entry.line),
    stackParent: profile.stackParent,
    stackFrame: profile.stackFrame,
    sampleStack: samples.stack,
    sampleTime: samples.time,
    sampleThread: samples.thread,
    sampleEndpoint: samples.endpoint,
    sampleFlags: samples.flags,
    ...(samples.memoryGrowthBytes && { sampleMemoryGrowth: samples.memoryGrowthBytes }),
    ...(profile.memory && {
      memoryTime: concatFloat64(profile.memory.map((process) => process.time)),
      memoryResident: concatFloat64(profile.memory.map((process) => process.residentBytes)),
    }),
  };
}

function concatFloat64(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

function columnType(column: Column): ColumnType {
  if (column instanceof Int32Array) return 'int32';
  if (column instanceof Float64Array) return 'float64';
  return 'uint8';
}

/** Little-endian whatever the host, so files move between machines. */
function encodeColumn(column: Column): Buffer {
  const type = columnType(column);
  const out = Buffer.alloc(column.length * BYTES_PER[type]);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < column.length; i++) {
    if (type === 'int32') view.setInt32(i * 4, column[i]!, true);
    else if (type === 'float64') view.setFloat64(i * 8, column[i]!, true);
    else view.setUint8(i, column[i]!);
  }
  return out;
}

function inflate(check: InputChecker, data: Uint8Array, maxBytes: number): Buffer {
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) check.fail('it does not start with a gzip header');
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError) check.fail(`it inflates to more than ${maxBytes} bytes`);
    return check.fail(`gzip data is truncated or corrupted (${(error as Error).message})`);
  }
}

function checkSchemaVersion(check: InputChecker, value: unknown): void {
  const version = check.integer(value, 'schemaVersion', 1);
  if (version > PROFILE_SCHEMA_VERSION) {
    throw new HotpathError(
      'bad-input-file',
      `this profile was saved by a newer hotpath (schema ${version}; this one reads schema ${PROFILE_SCHEMA_VERSION})`,
      'upgrade hotpath to read it',
    );
  }
}

function decodeColumns(check: InputChecker, value: unknown, body: Buffer): Map<string, Column> {
  const columns = new Map<string, Column>();
  let offset = 0;
  for (const [i, raw] of check.array(value, 'columns').entries()) {
    const entry = check.object(raw, `columns[${i}]`);
    const name = check.string(entry.name, `columns[${i}].name`);
    const type = check.string(entry.type, `columns[${i}].type`);
    if (!(type in BYTES_PER)) check.fail(`columns[${i}].type "${type}" is unknown`);
    const length = check.integer(entry.length, `columns[${i}].length`, 0);
    const size = length * BYTES_PER[type as ColumnType];
    if (size > body.length - offset) check.fail(`column ${name} runs past the end of the file (truncated?)`);
    columns.set(name, decodeColumn(type as ColumnType, body.subarray(offset, offset + size), length));
    offset += size;
  }
  if (offset !== body.length) check.fail(`${body.length - offset} bytes follow the last column`);
  return columns;
}

function decodeColumn(type: ColumnType, bytes: Buffer, length: number): Column {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === 'uint8') return Uint8Array.from(bytes);
  if (type === 'int32') return Int32Array.from({ length }, (_, i) => view.getInt32(i * 4, true));
  return Float64Array.from({ length }, (_, i) => view.getFloat64(i * 8, true));
}

/** Builds the Profile and checks every id points inside its table, so later walks cannot loop or read past ends. */
function assembleProfile(check: InputChecker, header: Record<string, unknown>, columns: Map<string, Column>): Profile {
  const column = <T extends Column>(name: string, kind: new (length: number) => T): T => {
    const found = columns.get(name);
    if (!(found instanceof kind)) check.fail(`column ${name} is missing or has the wrong type`);
    return found;
  };
  const strings = check.array(header.strings, 'strings').map((text, i) => check.string(text, `strings[${i}]`));
  const functions = buildFunctions(check, strings.length, [
    column('functionName', Int32Array),
    column('functionFile', Int32Array),
    column('functionFirstLine', Int32Array),
  ]);
  const frames = buildFrames(check, functions.length, column('frameFunc', Int32Array), column('frameLine', Int32Array));
  const stackParent = column('stackParent', Int32Array);
  const stackFrame = column('stackFrame', Int32Array);
  checkStacks(check, stackParent, stackFrame, frames.length);
  const threads = readThreads(check, header.threads);
  const endpoints = check.array(header.endpoints, 'endpoints').map((text, i) => check.string(text, `endpoints[${i}]`));
  const growth = columns.has('sampleMemoryGrowth') ? column('sampleMemoryGrowth', Float64Array) : undefined;
  const samples = {
    count: column('sampleStack', Int32Array).length,
    stack: column('sampleStack', Int32Array),
    time: column('sampleTime', Float64Array),
    thread: column('sampleThread', Int32Array),
    endpoint: column('sampleEndpoint', Int32Array),
    flags: column('sampleFlags', Uint8Array),
    ...(growth && { memoryGrowthBytes: growth }),
  };
  checkSamples(check, samples, stackParent.length, threads.length, endpoints.length);
  const memory =
    header.memory === undefined
      ? undefined
      : readMemory(check, header.memory, column('memoryTime', Float64Array), column('memoryResident', Float64Array));
  return {
    schemaVersion: PROFILE_SCHEMA_VERSION,
    strings,
    functions,
    frames,
    stackParent,
    stackFrame,
    threads,
    processes: readProcesses(check, header.processes),
    endpoints,
    samples,
    ...(memory && { memory }),
    sources: readSources(check, header.sources),
    meta: readMeta(check, header.meta),
  };
}

function checkIds(check: InputChecker, ids: ArrayLike<number>, what: string, min: number, limit: number): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i]! < min || ids[i]! >= limit) check.fail(`${what}[${i}] is ${ids[i]}, outside [${min}, ${limit})`);
  }
}

function sameLengths(check: InputChecker, what: string, columns: ArrayLike<number>[]): void {
  if (columns.some((c) => c.length !== columns[0]!.length)) check.fail(`the ${what} columns differ in length`);
}

function buildFunctions(
  check: InputChecker,
  stringCount: number,
  [names, files, firstLines]: Int32Array[],
): FunctionEntry[] {
  sameLengths(check, 'function', [names!, files!, firstLines!]);
  checkIds(check, names!, 'functionName', 0, stringCount);
  checkIds(check, files!, 'functionFile', 0, stringCount);
  return Array.from(names!, (name, i) => ({ name, file: files![i]!, firstLine: firstLines![i]! }));
}

function buildFrames(check: InputChecker, functionCount: number, funcs: Int32Array, lines: Int32Array): FrameEntry[] {
  sameLengths(check, 'frame', [funcs, lines]);
  checkIds(check, funcs, 'frameFunc', 0, functionCount);
  return Array.from(funcs, (func, i) => ({ func, line: lines[i]! }));
}

/** A parent always precedes its child (the builder interns callers first), which also rules out cycles. */
function checkStacks(check: InputChecker, parents: Int32Array, frames: Int32Array, frameCount: number): void {
  sameLengths(check, 'stack', [parents, frames]);
  checkIds(check, frames, 'stackFrame', 0, frameCount);
  for (let i = 0; i < parents.length; i++) {
    if (parents[i]! < -1 || parents[i]! >= i) check.fail(`stackParent[${i}] is ${parents[i]}, not an earlier stack`);
  }
}

function checkSamples(
  check: InputChecker,
  samples: Profile['samples'],
  stackCount: number,
  threadCount: number,
  endpointCount: number,
): void {
  sameLengths(check, 'sample', [samples.stack, samples.time, samples.thread, samples.endpoint, samples.flags]);
  checkIds(check, samples.stack, 'sampleStack', -1, stackCount);
  checkIds(check, samples.thread, 'sampleThread', 0, threadCount);
  checkIds(check, samples.endpoint, 'sampleEndpoint', -1, endpointCount);
  if (!samples.time.every(Number.isFinite)) check.fail('a sample time is not a finite number');
  if (samples.memoryGrowthBytes) {
    if (samples.memoryGrowthBytes.length !== samples.count)
      check.fail('the sampleMemoryGrowth column differs in length');
    if (!samples.memoryGrowthBytes.every(isByteCount))
      check.fail('a sample memory growth is not a whole number of bytes');
  }
}

function isByteCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Each process's series is its `points` next values of the two memory columns, in header order. */
function readMemory(check: InputChecker, value: unknown, times: Float64Array, bytes: Float64Array): ProcessMemory[] {
  sameLengths(check, 'memory', [times, bytes]);
  if (!times.every(Number.isFinite)) check.fail('a memory reading time is not a finite number');
  if (!bytes.every(isByteCount)) check.fail('a memory reading is not a whole number of bytes');
  let at = 0;
  const memory = check.array(value, 'memory').map((raw, i) => {
    const entry = check.object(raw, `memory[${i}]`);
    const total = (name: string) => check.integer(entry[name], `memory[${i}].${name}`, 0);
    const points = total('points');
    if (points > times.length - at) check.fail(`memory[${i}] has more points than the memory columns hold`);
    const process: ProcessMemory = {
      pid: total('pid'),
      time: times.slice(at, at + points),
      residentBytes: bytes.slice(at, at + points),
      firstBytes: total('firstBytes'),
      lastBytes: total('lastBytes'),
      peakBytes: total('peakBytes'),
      grownBytes: total('grownBytes'),
      freedBytes: total('freedBytes'),
      unattributedBytes: total('unattributedBytes'),
    };
    at += points;
    return process;
  });
  if (at !== times.length) check.fail(`${times.length - at} memory readings belong to no process`);
  return memory;
}

function readThreads(check: InputChecker, value: unknown): ThreadEntry[] {
  return check.array(value, 'threads').map((raw, i) => {
    const entry = check.object(raw, `threads[${i}]`);
    return {
      pid: check.integer(entry.pid, `threads[${i}].pid`, 0),
      tid: check.integer(entry.tid, `threads[${i}].tid`, 0),
      name: check.string(entry.name, `threads[${i}].name`),
    };
  });
}

function readProcesses(check: InputChecker, value: unknown): ProcessEntry[] {
  return check.array(value, 'processes').map((raw, i) => {
    const entry = check.object(raw, `processes[${i}]`);
    return {
      pid: check.integer(entry.pid, `processes[${i}].pid`, 0),
      command: check.string(entry.command, `processes[${i}].command`),
    };
  });
}

function readSources(check: InputChecker, value: unknown): Map<string, readonly string[]> {
  const sources = new Map<string, readonly string[]>();
  for (const [i, raw] of check.array(value, 'sources').entries()) {
    const [file, lines] = check.array(raw, `sources[${i}]`);
    const texts = check.array(lines, `sources[${i}][1]`).map((line, j) => check.string(line, `sources[${i}][1][${j}]`));
    sources.set(check.string(file, `sources[${i}][0]`), texts);
  }
  return sources;
}

function readMeta(check: InputChecker, value: unknown): ProfileMeta {
  const meta = check.object(value, 'meta');
  const stats = check.object(meta.stats, 'meta.stats');
  const dropped = check.object(stats.dropped, 'meta.stats.dropped');
  return {
    startTime: check.number(meta.startTime, 'meta.startTime'),
    durationMs: check.number(meta.durationMs, 'meta.durationMs'),
    rateHz: check.number(meta.rateHz, 'meta.rateHz'),
    pythonVersion: check.string(meta.pythonVersion, 'meta.pythonVersion'),
    command: check.string(meta.command, 'meta.command'),
    stats: {
      attempted: check.integer(stats.attempted, 'meta.stats.attempted', 0),
      taken: check.integer(stats.taken, 'meta.stats.taken', 0),
      dropped: Object.fromEntries(
        Object.entries(dropped).map(([reason, count]) => [
          reason,
          check.integer(count, `meta.stats.dropped.${reason}`, 0),
        ]),
      ),
    },
  };
}
