// Records test/fixtures/recorded-<label>.json: every byte hotpath reads from test/targets/recording-target.py while
// attaching, reading all stacks once, every frame's locals and the dicts and instance main() holds, and what that
// gave. The recording is replayed before it is written, so a fixture always decodes to its own expectations.
// Usage: npx tsc -p tsconfig.json && node dist/scripts/record-fixtures.js [venv label...]  (default: 3.9 3.12 3.13:
// the oldest frame-object layout, the fixture the fuzz tests start from, and the first with inline values)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LocalsReader, ObjectReader, PythonProcess, describeValue, type ThreadStack } from '../src/cpython/index.js';
import { ProcMemoryReader, u64 } from '../src/proc/index.js';
import { listPythons, repoRoot } from '../test/support/pythons.js';
import {
  REPLAY_PID,
  RecordingReader,
  ReplayReader,
  locationOf,
  saveRecording,
  type MemoryRecording,
  type RecordedThread,
  decodeDictKeys,
} from '../test/support/recorded-memory.js';

const TARGET = path.join(repoRoot, 'test/targets/recording-target.py');
const STABLE_ATTEMPTS = 50;

async function main(): Promise<void> {
  const labels = process.argv.slice(2);
  const wanted = labels.length > 0 ? labels : ['3.9', '3.12', '3.13'];
  for (const label of wanted) {
    const python = listPythons().find((p) => p.label === label);
    if (!python) throw new Error(`no venv labelled ${label} under .cache/venvs: run scripts/setup.sh`);
    const child = spawn(python.executable, [TARGET], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await waitForReady(child);
      await waitUntilStable(child.pid!);
      const recording = record(child.pid!, python.fullVersion, label);
      checkReplay(recording);
      const file = path.join(repoRoot, 'test/fixtures', `recorded-${label}.json`);
      saveRecording(file, recording);
      const bytes = recording.chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
      console.log(`${file}: ${recording.chunks.length} chunks, ${bytes} bytes, ${recording.threads.length} threads`);
    } finally {
      child.kill('SIGKILL');
    }
  }
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      if (output.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`recording target exited (${code}) before READY`)));
  });
}

/** Waits until two readings of every stack agree: each thread has reached its blocking call. */
async function waitUntilStable(pid: number): Promise<void> {
  const python = PythonProcess.attach(pid);
  try {
    let previous = summarize(python.readStacks());
    for (let attempt = 0; attempt < STABLE_ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const current = summarize(python.readStacks());
      if (isDeepStrictEqual(previous, current) && current.length === 3) return;
      previous = current;
    }
  } finally {
    python.close();
  }
  throw new Error(`pid ${pid}: stacks did not settle`);
}

function summarize(stacks: ThreadStack[]): unknown[] {
  return stacks.map((s) => s.frames.map((f) => `${f.name}:${f.line}`));
}

function record(pid: number, version: string, label: string): MemoryRecording {
  const recorder = new RecordingReader(new ProcMemoryReader(pid));
  const python = PythonProcess.attach(pid, { reader: recorder });
  try {
    const stacks = python.readStacks();
    const objects = new ObjectReader(python.reader, python.layout);
    const locals = readMainLocals(python, objects, stacks);
    const { dicts, instance } = decodeLocals(objects, locals);
    readEveryLocal(objects, stacks);
    const { symbols, notes: _notes, ...location } = python.location;
    return {
      python: version,
      recordedBy: `node dist/scripts/record-fixtures.js ${label}`,
      maps: fs.readFileSync(`/proc/${pid}/maps`, 'utf8'),
      location: { ...location, symbols: Object.fromEntries(symbols) },
      chunks: recorder.chunks(),
      threads: stacks.map((stack) => recordThread(python, stack)),
      dicts,
      instance,
      objects: findObjects(python, objects, stacks, locals),
    };
  } finally {
    python.close();
  }
}

function recordThread(python: PythonProcess, stack: ThreadStack): RecordedThread {
  return {
    threadId: stack.threadId,
    ...(python.layout.threadState.nativeThreadId !== undefined ? { nativeThreadId: stack.nativeThreadId } : {}),
    truncated: stack.truncated,
    frames: stack.frames.map((f) => ({ name: f.name, file: f.file, line: f.line })),
    threadStateAddress: stack.threadStateAddress,
    frameAddresses: stack.frames.map((f) => f.frameAddress),
  };
}

/** Reads (so records) every frame's locals as `dump --locals` would: the memory the locals fuzz target starts from. */
function readEveryLocal(objects: ObjectReader, stacks: ThreadStack[]): void {
  const locals = new LocalsReader(objects);
  for (const frame of stacks.flatMap((s) => s.frames)) {
    for (const value of locals.readLocals(frame).values()) describeValue(objects, value);
  }
}

/** The target's main() locals by name: object addresses read from the frame's localsplus slots. */
function readMainLocals(python: PythonProcess, objects: ObjectReader, stacks: ThreadStack[]): Map<string, number> {
  const frame = stacks.flatMap((s) => s.frames).find((f) => f.name === 'main');
  if (!frame) throw new Error('no main() frame in the recording target');
  const names = objects.readSequence(frame.code.localsplusnames, 64).map((name) => objects.readStr(name));
  const slots = python.reader.read(frame.frameAddress + python.layout.interpreterFrame.localsplus, names.length * 8);
  return new Map(names.map((name, i) => [name, u64(slots, i * 8)]));
}

function decodeLocals(objects: ObjectReader, locals: Map<string, number>): Pick<MemoryRecording, 'dicts' | 'instance'> {
  const local = (name: string): number => {
    const address = locals.get(name);
    if (!address) throw new Error(`main() has no local ${name}`);
    return address;
  };
  const dicts = ['mixed', 'plain'].map((name) => ({
    name,
    address: local(name),
    keys: decodeDictKeys(objects, local(name)),
  }));
  const point = local('point');
  const attributes = Object.fromEntries(
    [...objects.readAttributes(point)].map(([name, value]) => [name, objects.readInt(value)]),
  );
  return { dicts, instance: { address: point, attributes } };
}

/** Addresses of objects of each kind the decoders read: the code objects on the stacks, what they point to, ints. */
function findObjects(
  python: PythonProcess,
  objects: ObjectReader,
  stacks: ThreadStack[],
  locals: Map<string, number>,
): MemoryRecording['objects'] {
  const { reader, layout } = python;
  const c = layout.codeObject;
  const codes = [...new Set(stacks.flatMap((s) => s.frames.map((f) => f.code.address)))];
  const strings = new Set<number>();
  const bytes = new Set<number>();
  const tuples = new Set<number>();
  for (const code of codes) {
    const header = reader.read(code, c.size);
    for (const offset of [c.name, c.filename, c.qualname ?? c.name]) strings.add(u64(header, offset));
    bytes.add(u64(header, c.linetable));
    tuples.add(u64(header, c.localsplusnames));
  }
  const ints = objects
    .readDict(locals.get('mixed')!)
    .flatMap(({ key, value }) => [key, value])
    .filter((address) => objects.typeName(address) === 'int');
  return { codes, strings: [...strings], bytes: [...bytes], tuples: [...tuples], ints };
}

/** Decodes the recording offline and fails unless it gives exactly what was decoded live. */
function checkReplay(recording: MemoryRecording): void {
  const python = PythonProcess.open(REPLAY_PID, new ReplayReader(recording.chunks), locationOf(recording));
  const threads = python.readStacks().map((stack) => recordThread(python, stack));
  if (!isDeepStrictEqual(threads, recording.threads)) throw new Error('replayed stacks differ from the live ones');
  const objects = new ObjectReader(python.reader, python.layout);
  for (const dict of recording.dicts) {
    if (!isDeepStrictEqual(decodeDictKeys(objects, dict.address), dict.keys))
      throw new Error(`replayed ${dict.name} differs`);
  }
}

await main();
