// Every decoder hotpath runs on bytes it does not control, as a fuzz target: one case = one seeded mutation of
// real input (recorded process memory, a real ELF file, real maps, real line tables) fed to one decoder. A case
// passes when the decoder returns a well-formed value or throws one of the expected error classes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CodeReader,
  LocalsReader,
  ObjectReader,
  PythonProcess,
  decodeVersionHex,
  DESCRIBED_VALUE_CHARS,
  describeValue,
  findInterpreterCandidates,
  parseVersion,
  readDictItems,
  readInterpreters,
  readThreadStates,
  walkFrames,
  type PyFrame,
  type PythonLayout,
  type ThreadStack,
} from '../../src/cpython/index.js';
import { decodeDebugOffsets } from '../../src/cpython/debug-offsets.js';
import { decodeLinetable310Line, decodeLnotabLine, decodeLocationTableLine } from '../../src/cpython/line-tables.js';
import { readBytes, readSequenceItems, readSmallLong, readUnicode } from '../../src/cpython/objects.js';
import { ElfFile } from '../../src/elf/index.js';
import {
  HOTPATH_PROFILE_MAGIC,
  exportCollapsed,
  exportHotpathProfile,
  exportSpeedscope,
  importProfileData,
} from '../../src/export/index.js';
import { HotpathError } from '../../src/errors/index.js';
import { buildExportProfile } from '../fixtures/export-profile.js';
import { mappingBase, parseMaps } from '../../src/proc/index.js';
import { FuzzReader, Rng, mutateMemory } from './fuzz.js';
import {
  FIXTURES_DIR,
  FUZZ_FIXTURE,
  REPLAY_PID,
  ReplayReader,
  loadRecording,
  locationOf,
  type MemoryRecording,
} from './recorded-memory.js';

/** A decoder returned something no input should give (as opposed to throwing an expected error). */
export class PropertyError extends Error {}

function check(condition: boolean, message: string): void {
  if (!condition) throw new PropertyError(message);
}

/** One recording, decoded once without mutations: the addresses and values cases start from. */
interface Baseline {
  recording: MemoryRecording;
  layout: PythonLayout;
  stacks: ThreadStack[];
  frames: PyFrame[];
  /** Frames whose locals decode from the recording (the others' names were never read, so not recorded). */
  framesWithLocals: PyFrame[];
  interpreters: number[];
}

export interface FuzzContext {
  /** The 3.12 recording first: memory cases use it half the time, the other recordings the rest. */
  baselines: Baseline[];
  elfSeed: Buffer;
  /** A scratch file for mutated ELF images, private to this worker. */
  elfPath: string;
  debugOffsets: Buffer[];
  /** Profile files as hotpath writes them, from the exporters' test profile. */
  profiles: { hotpath: Buffer; speedscope: string; collapsed: string };
}

export type FuzzTarget = (rng: Rng, context: FuzzContext) => void;

export function buildFuzzContext(): FuzzContext {
  const files = fs.readdirSync(FIXTURES_DIR).filter((name) => /^recorded-.*\.json$/.test(name));
  files.sort((a, b) => (a === FUZZ_FIXTURE ? -1 : b === FUZZ_FIXTURE ? 1 : a.localeCompare(b)));
  const baselines = files.map((name) => buildBaseline(loadRecording(path.join(FIXTURES_DIR, name))));
  const debugOffsets = fs
    .readdirSync(FIXTURES_DIR)
    .filter((name) => /^debug-offsets-.*\.bin$/.test(name))
    .map((name) => fs.readFileSync(path.join(FIXTURES_DIR, name)));
  return {
    baselines,
    elfSeed: fs.readFileSync(findSmallElf()),
    elfPath: path.join(os.tmpdir(), `hotpath-fuzz-${process.pid}-${threadId}.elf`),
    debugOffsets,
    profiles: savedProfiles(),
  };
}

function savedProfiles(): FuzzContext['profiles'] {
  const profile = buildExportProfile();
  return {
    hotpath: gunzipSync(exportHotpathProfile(profile)),
    speedscope: String(exportSpeedscope(profile)),
    collapsed: String(exportCollapsed(profile, { groupBy: 'thread' })),
  };
}

function buildBaseline(recording: MemoryRecording): Baseline {
  const python = PythonProcess.open(REPLAY_PID, new ReplayReader(recording.chunks), locationOf(recording));
  const stacks = python.readStacks();
  const frames = stacks.flatMap((s) => s.frames);
  const locals = new LocalsReader(new ObjectReader(python.reader, python.layout));
  return {
    recording,
    layout: python.layout,
    stacks,
    frames,
    framesWithLocals: frames.filter((frame) => {
      try {
        return locals.readLocals(frame).size > 0;
      } catch {
        return false;
      }
    }),
    interpreters: readInterpreters(python.reader, python.layout, recording.location.runtimeAddress),
  };
}

/** A real, small ELF executable with .symtab, .dynsym and a build-id: a pyenv python, else /bin/true. */
function findSmallElf(): string {
  const pyenv = path.join(process.env.PYENV_ROOT ?? '/root/.pyenv', 'versions');
  const candidates = fs.existsSync(pyenv)
    ? fs
        .readdirSync(pyenv)
        .map((version) => path.join(pyenv, version, 'bin', `python${version.split('.').slice(0, 2).join('.')}`))
    : [];
  return [...candidates, '/bin/true'].find((file) => fs.existsSync(file) && fs.statSync(file).size < 1 << 20)!;
}

function pickBaseline(rng: Rng, context: FuzzContext): Baseline {
  return rng.chance(0.5) ? context.baselines[0]! : rng.pick(context.baselines);
}

/** A reader over the baseline's memory mutated around `hot`. */
function mutatedReader(rng: Rng, baseline: Baseline, hot: readonly number[]): FuzzReader {
  return new FuzzReader(mutateMemory(baseline.recording.chunks, hot, rng));
}

/** A code reader that knows PyCode_Type's address, as a live one does from the ELF symbols. */
function codeReaderFor(reader: FuzzReader, layout: PythonLayout, baseline: Baseline): CodeReader {
  return new CodeReader(reader, layout, {}, baseline.recording.location.symbols.PyCode_Type);
}

function checkFrame(frame: PyFrame): void {
  check(typeof frame.name === 'string' && typeof frame.file === 'string', 'frame name or file is not a string');
  check(
    Number.isInteger(frame.line) && Number.isInteger(frame.firstLine),
    `frame line ${frame.line} is not an integer`,
  );
}

function objectTarget(
  kind: keyof MemoryRecording['objects'],
  decode: (reader: FuzzReader, layout: PythonLayout, address: number) => void,
): FuzzTarget {
  return (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const address = rng.pick(baseline.recording.objects[kind]);
    decode(mutatedReader(rng, baseline, [address]), baseline.layout, address);
  };
}

const memoryTargets: Record<string, FuzzTarget> = {
  strings: objectTarget('strings', (reader, layout, address) => {
    const text = readUnicode(reader, layout, address);
    check(typeof text === 'string' && text.length <= 1 << 20, 'str decoded to something too long');
  }),
  bytes: objectTarget('bytes', (reader, layout, address) => {
    check(readBytes(reader, layout, address).length <= 1 << 20, 'bytes decoded too long');
  }),
  tuples: objectTarget('tuples', (reader, layout, address) => {
    check(readSequenceItems(reader, layout.tupleObject, address).length <= 4096, 'tuple too long');
  }),
  ints: objectTarget('ints', (reader, layout, address) => {
    check(Number.isFinite(readSmallLong(reader, layout, address)), 'int is not finite');
  }),
  'code-objects': (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const { codes, strings, bytes } = baseline.recording.objects;
    const address = rng.pick(codes);
    const reader = mutatedReader(rng, baseline, rng.chance(0.5) ? [address] : [address, ...strings, ...bytes]);
    const codeReader = codeReaderFor(reader, baseline.layout, baseline);
    const info = codeReader.read(address);
    check(typeof info.qualname === 'string' && Number.isInteger(info.firstLine), 'code object decoded badly');
    for (let i = 0; i < 4; i++) {
      const instruction = info.codeStart ? info.codeStart + 2 * rng.int(4096) - 64 : rng.int(1 << 16) - 8;
      check(Number.isInteger(codeReader.lineFor(info, instruction)), 'line is not an integer');
    }
  },
  frames: (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const thread = rng.pick(baseline.recording.threads);
    const hot = rng.chance(0.5)
      ? thread.frameAddresses
      : [...thread.frameAddresses, ...baseline.recording.objects.codes];
    const reader = mutatedReader(rng, baseline, hot);
    const walk = walkFrames(
      reader,
      baseline.layout,
      codeReaderFor(reader, baseline.layout, baseline),
      thread.frameAddresses[0]!,
    );
    walk.frames.forEach(checkFrame);
  },
  threads: (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const runtime = baseline.recording.location.runtimeAddress;
    const hot = [runtime, ...baseline.interpreters, ...baseline.recording.threads.map((t) => t.threadStateAddress)];
    const reader = mutatedReader(rng, baseline, hot);
    for (const interp of readInterpreters(reader, baseline.layout, runtime)) {
      for (const thread of readThreadStates(reader, baseline.layout, interp)) {
        check(Number.isFinite(thread.frameAddress) && Number.isFinite(thread.threadId), 'thread state decoded badly');
      }
    }
  },
  dicts: (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const dict = rng.pick(baseline.recording.dicts).address;
    const reader = mutatedReader(rng, baseline, [dict, ...baseline.recording.objects.ints]);
    check(readDictItems(reader, baseline.layout, dict).length <= 4096, 'dict too long');
    const objects = new ObjectReader(reader, baseline.layout);
    for (const [name, value] of objects.readStrKeyedDict(dict)) {
      check(typeof name === 'string' && Number.isFinite(value), 'dict item decoded badly');
    }
  },
  attributes: (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const instance = baseline.recording.instance.address;
    const reader = mutatedReader(rng, baseline, [instance, instance - 32, ...baseline.recording.objects.ints]);
    const objects = new ObjectReader(reader, baseline.layout);
    for (const value of objects.readAttributes(instance).values()) describeValue(objects, value);
  },
  locals: (rng, context) => {
    const withLocals = context.baselines.filter((b) => b.framesWithLocals.length > 0);
    const baseline =
      rng.chance(0.5) && withLocals.includes(context.baselines[0]!) ? context.baselines[0]! : rng.pick(withLocals);
    const frame = rng.pick(baseline.framesWithLocals);
    const reader = mutatedReader(rng, baseline, [frame.frameAddress, ...baseline.recording.objects.tuples]);
    const objects = new ObjectReader(reader, baseline.layout);
    for (const value of new LocalsReader(objects).readLocals(frame).values()) {
      check(describeValue(objects, value).length <= DESCRIBED_VALUE_CHARS, 'described value too long');
    }
  },
  'whole-sample': (rng, context) => {
    const baseline = pickBaseline(rng, context);
    const { recording } = baseline;
    const hot = [
      recording.location.runtimeAddress,
      ...baseline.interpreters,
      ...recording.threads.flatMap((t) => [t.threadStateAddress, ...t.frameAddresses]),
      ...recording.objects.codes,
    ];
    const python = PythonProcess.open(REPLAY_PID, mutatedReader(rng, baseline, hot), locationOf(recording));
    for (let tick = 0; tick < 2; tick++) {
      for (const stack of python.readStacks()) {
        check(stack.frames.length <= 4096, 'stack deeper than the bound');
        stack.frames.forEach(checkFrame);
        python.readGilHolder(stack.interp);
      }
    }
  },
  'debug-offsets': (rng, context) => {
    const seed = Buffer.from(rng.pick(context.debugOffsets));
    // Mostly members (8-byte offsets and sizes after the cookie and version), now and then the header too.
    const member = (): number => 16 + 8 * rng.int(Math.max(1, (seed.length - 16) / 8));
    mutateBytes(seed, rng, rng.chance(0.1) ? [0, 8] : [member(), member(), member()]);
    const layout = decodeDebugOffsets(seed);
    // A layout that passed the checks must be safe to decode with: walk the 3.13 recording with it.
    const baseline = context.baselines.find((b) => b.recording.python.startsWith('3.13'));
    if (!baseline) return;
    const reader = new FuzzReader(baseline.recording.chunks);
    const runtime = baseline.recording.location.runtimeAddress;
    const codes = codeReaderFor(reader, layout, baseline);
    for (const interp of readInterpreters(reader, layout, runtime)) {
      for (const thread of readThreadStates(reader, layout, interp)) {
        walkFrames(reader, layout, codes, thread.frameAddress).frames.forEach(checkFrame);
      }
    }
  },
};

/** Mutates `data` in place: a few byte, bit, 16/32/64-bit boundary writes, most at `hot` offsets. */
function mutateBytes(data: Buffer, rng: Rng, hot: readonly number[]): void {
  const mutations = 1 + rng.int(6);
  for (let m = 0; m < mutations && data.length > 0; m++) {
    const at = Math.min(
      data.length - 1,
      hot.length > 0 && rng.chance(0.7) ? rng.pick(hot) + rng.int(64) : rng.int(data.length),
    );
    const room = data.length - at;
    switch (rng.int(5)) {
      case 0:
        data[at] = data[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        if (room >= 2) data.writeUInt16LE(rng.pick([0, 1, 0xffff, 0x8000, 64, 56, 24]), at);
        break;
      case 2:
        if (room >= 4) data.writeUInt32LE(rng.pick([0, 1, 0xffffffff, 0x80000000, 0x7fffffff, data.length]) >>> 0, at);
        break;
      case 3:
        if (room >= 8) {
          const value = rng.pick([
            0,
            1,
            2 ** 32,
            2 ** 40,
            2 ** 53 - 1,
            data.length,
            data.length - 8,
            rng.int(data.length),
          ]);
          data.writeUInt32LE((value % 2 ** 32) >>> 0, at);
          data.writeUInt32LE(Math.floor(value / 2 ** 32) >>> 0, at + 4);
        }
        break;
      default:
        data[at] = rng.int(256);
    }
  }
}

/** ELF64 header fields: program/section header offsets, sizes and counts, and the section name index. */
const ELF_HEADER_FIELDS = [16, 24, 32, 40, 54, 56, 58, 60, 62];

const fileTargets: Record<string, FuzzTarget> = {
  elf: (rng, context) => {
    const image = Buffer.from(context.elfSeed);
    const sectionTable = Number(image.readBigUInt64LE(40));
    const programTable = Number(image.readBigUInt64LE(32));
    const hot = [
      ...ELF_HEADER_FIELDS,
      programTable + 56 * rng.int(8),
      sectionTable + 64 * rng.int(image.readUInt16LE(60)),
    ];
    mutateBytes(image, rng, hot);
    const data = rng.chance(0.1) ? image.subarray(0, rng.int(image.length)) : image;
    fs.writeFileSync(context.elfPath, data);
    const elf = ElfFile.open(context.elfPath);
    try {
      for (const name of ['_PyRuntime', 'Py_Version', 'PyCode_Type', 'main']) elf.findSymbol(name);
      elf.section('.PyRuntime');
      elf.buildId();
      check(Number.isFinite(elf.imageBaseVaddr()), 'image base is not a number');
    } finally {
      elf.close();
    }
  },
  maps: (rng, context) => {
    const lines = pickBaseline(rng, context).recording.maps.split('\n');
    const mutations = 1 + rng.int(6);
    for (let m = 0; m < mutations; m++) {
      const index = rng.int(lines.length);
      const line = lines[index]!;
      const at = rng.int(line.length + 1);
      switch (rng.int(5)) {
        case 0:
          lines[index] = line.slice(0, at) + line.slice(at + 1 + rng.int(20));
          break;
        case 1:
          lines[index] =
            line.slice(0, at) +
            rng.pick(['f'.repeat(40), '-', ' ', '\t', '(deleted)', '\0', 'ß', '/python3.12']) +
            line.slice(at);
          break;
        case 2:
          lines.splice(index, 0, line);
          break;
        case 3:
          lines[index] = line.replace(/^[0-9a-f]+/, rng.pick(['ffffffffffffffffffff', '0', '']));
          break;
        default:
          lines[index] = line.replace(/\s\S+$/, ` /usr/lib/libpython3.${rng.int(40)}.so.1.0`);
      }
    }
    const maps = parseMaps(lines.join('\n'));
    for (const entry of maps) {
      check([entry.start, entry.end, entry.offset, entry.inode].every(Number.isFinite), 'map entry has a non-number');
    }
    for (const candidate of findInterpreterCandidates(maps, '/usr/bin/python3')) mappingBase(maps, candidate.path);
  },
  'line-tables': (rng, context) => {
    const decoders = [decodeLnotabLine, decodeLinetable310Line, decodeLocationTableLine];
    const decoder = rng.pick(decoders);
    const real = context.baselines.flatMap((b) => b.frames.map((f) => f.code.lineTable)).filter((t) => t.length > 0);
    const table = rng.chance(0.5) ? rng.bytes(rng.int(64)) : Buffer.from(rng.pick(real));
    if (table.length > 0) mutateBytes(table, rng, []);
    const line = decoder(table, rng.int(100_000) - 10, rng.int(table.length * 16 + 16) - 8);
    check(Number.isInteger(line), `line ${line} is not an integer`);
  },
  versions: (rng) => {
    const version = decodeVersionHex(rng.next32());
    check(version === undefined || version.major === 3, 'decoded a version other than 3.x');
    const text = Array.from({ length: rng.int(16) }, () => rng.pick([...'0123456789.abrc+ ', '\0'])).join('');
    parseVersion(text);
  },
};

/** Values that break importers most often where a number, string, list or object was expected. */
const INTERESTING_JSON: unknown[] = [
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53,
  1e308,
  -1e308,
  '',
  'x'.repeat(1000),
  null,
  true,
  [],
  {},
  [[[[]]]],
];

/** Replaces, deletes or multiplies one value somewhere in parsed JSON. */
function mutateJson(value: unknown, rng: Rng): unknown {
  if (Array.isArray(value) && value.length > 0 && rng.chance(0.7)) {
    const index = rng.int(value.length);
    if (rng.chance(0.1)) return [...value, ...Array<unknown>(rng.int(1000)).fill(value[index])];
    const copy = [...value];
    if (rng.chance(0.2)) copy.splice(index, 1);
    else copy[index] = mutateJson(copy[index], rng);
    return copy;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && rng.chance(0.7)) {
    const keys = Object.keys(value);
    if (keys.length > 0) {
      const key = rng.pick(keys);
      const copy = { ...(value as Record<string, unknown>) };
      if (rng.chance(0.15)) delete copy[key];
      else copy[key] = mutateJson(copy[key], rng);
      return copy;
    }
  }
  return rng.pick(INTERESTING_JSON);
}

/** Cuts the data short, or changes a few of its bytes. */
function damageBytes(data: Buffer, rng: Rng): Buffer {
  if (rng.chance(0.5)) return data.subarray(0, rng.int(data.length));
  const copy = Buffer.from(data);
  mutateBytes(copy, rng, []);
  return copy;
}

/** A loaded profile must be whole: every exporter can walk it. Anything else must be a bad-input-file error. */
function loadAndUse(data: Buffer): void {
  let profile;
  try {
    profile = importProfileData(data);
  } catch (err) {
    if (err instanceof HotpathError && err.kind !== 'bad-input-file') {
      throw new PropertyError(`a damaged profile gave a ${err.kind} error, not bad-input-file: ${err.message}`);
    }
    throw err;
  }
  exportCollapsed(profile);
  exportCollapsed(profile, { groupBy: 'thread', frameKey: 'function' });
}

const profileTargets: Record<string, FuzzTarget> = {
  'profile-hotpath': (rng, context) => {
    const inflated = context.profiles.hotpath;
    const headerStart = HOTPATH_PROFILE_MAGIC.length + 4;
    const headerEnd = headerStart + inflated.readUInt32LE(HOTPATH_PROFILE_MAGIC.length);
    let content: Buffer;
    if (rng.chance(0.5)) {
      const header = mutateJson(JSON.parse(inflated.toString('utf8', headerStart, headerEnd)), rng);
      const headerBytes = Buffer.from(JSON.stringify(header) ?? '', 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(rng.chance(0.1) ? rng.next32() : headerBytes.length);
      content = Buffer.concat([HOTPATH_PROFILE_MAGIC, length, headerBytes, inflated.subarray(headerEnd)]);
    } else {
      content = damageBytes(inflated, rng);
    }
    const gzipped = gzipSync(content);
    loadAndUse(rng.chance(0.2) ? damageBytes(gzipped, rng) : gzipped);
  },
  'profile-speedscope': (rng, context) => {
    const text = context.profiles.speedscope;
    const data = rng.chance(0.6)
      ? Buffer.from(JSON.stringify(mutateJson(JSON.parse(text), rng)) ?? '')
      : damageBytes(Buffer.from(text), rng);
    loadAndUse(data);
  },
  'profile-collapsed': (rng, context) => {
    const lines = context.profiles.collapsed.split('\n');
    const index = rng.int(lines.length);
    const line = lines[index]!;
    const at = rng.int(line.length + 1);
    const insert = rng.pick([
      ' ',
      ';',
      ';;',
      ' 99999999999999999999',
      ' -5',
      ' 1e400',
      ' NaN',
      '\0',
      '\r',
      '%3',
      '(x:',
      ':9999999999999999',
    ]);
    lines[index] = rng.chance(0.5) ? line.slice(0, at) + insert + line.slice(at) : line.slice(0, at);
    if (rng.chance(0.1)) lines.push(...Array<string>(rng.int(2000)).fill(line));
    const data = Buffer.from(lines.join(rng.chance(0.1) ? '\r\n' : '\n'));
    loadAndUse(rng.chance(0.2) ? damageBytes(data, rng) : data);
  },
};

export const FUZZ_TARGETS: Readonly<Record<string, FuzzTarget>> = {
  ...memoryTargets,
  ...fileTargets,
  ...profileTargets,
};
