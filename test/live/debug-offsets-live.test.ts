// Reads `_Py_DebugOffsets` out of running CPython 3.13, 3.14 and 3.15 processes (pyenv, and the Debian
// rootfs of scripts/provision-chroots.sh) and walks the target's own threads and frames with the decoded layout.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { readDebugOffsets } from '../../src/cpython/debug-offsets.js';
import type { PythonLayout } from '../../src/cpython/layout.js';
import { chrootCommand, findRootfsPython } from '../support/rootfs.js';
import { ProcMemoryReader, i64, mappingBase, readMaps, u32, u64, u8, type MemoryReader } from '../../src/proc/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const targetScript = readFileSync(join(repoRoot, 'test/targets/debug-offsets-target.py'), 'utf8');
const layoutCheckScript = readFileSync(join(repoRoot, 'test/targets/layout-check.py'), 'utf8');
const pyenvVersions = join(process.env.PYENV_ROOT ?? '/root/.pyenv', 'versions');

interface Interpreter {
  label: string;
  minor: string;
  /** The command line that runs `python -c ...`: the interpreter, or chroot ROOT pythonX.Y. */
  command: string[];
  /** Whether the target sees a /proc: the host's, or one mounted for it in the chroot. */
  hasProc: boolean;
  /** Why it cannot run here; the test is then skipped with this reason. */
  skip?: string;
}

/** A rootfs interpreter; `withMounts` also checks that a target under private /proc mounts reads the same. */
function chrootInterpreter(rootfs: string, minor: string, options: { withMounts?: boolean } = {}): Interpreter {
  const found = findRootfsPython(rootfs, minor);
  const label = `${rootfs} python${minor}${options.withMounts ? ' (with /proc mounted)' : ''}`;
  const hasProc = options.withMounts === true;
  if (found.skip !== undefined) return { label, minor, hasProc, command: [], skip: found.skip };
  return { label, minor, hasProc, command: chrootCommand(found.root, minor, options) };
}

function pyenvInterpreters(minor: string): Interpreter[] {
  const builds = existsSync(pyenvVersions)
    ? readdirSync(pyenvVersions).filter((name) => name.startsWith(`${minor}.`) && /^[\d.]+$/.test(name))
    : [];
  if (builds.length === 0) {
    return [{ label: `pyenv ${minor}`, minor, hasProc: true, command: [], skip: `no pyenv ${minor}.x` }];
  }
  return builds.map((name) => ({
    label: `pyenv ${name}`,
    minor,
    hasProc: true,
    command: [join(pyenvVersions, name, 'bin', 'python3')],
  }));
}

const interpreters: Interpreter[] = [
  ...pyenvInterpreters('3.13'),
  chrootInterpreter('trixie', '3.13', { withMounts: true }),
  chrootInterpreter('sid', '3.14'),
  chrootInterpreter('sid', '3.15'),
];

interface Ready {
  version: string;
  thread_id: number;
  native_thread_id: number;
  has_proc: boolean;
}

/** Starts the target and waits for the JSON line it prints once it stands still in wait_for_stdin(). */
async function startTarget(t: TestContext, command: string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(command[0]!, [...command.slice(1), '-c', targetScript], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${command.join(' ')} exited with ${String(code)} before it was ready:\n${stderr}`);
  });
  exited.catch(() => {}); // an exit after the ready line (the kill in t.after) is expected
  const [line] = (await Promise.race([once(lines, 'line', { signal: AbortSignal.timeout(60_000) }), exited])) as [
    string,
  ];
  return { child, ready: JSON.parse(line) as Ready };
}

/** `_PyRuntime`'s address in the target, from `nm -D` of libpython if mapped, else of the executable. */
function findRuntimeAddress(pid: number): number {
  const maps = readMaps(pid);
  const libpython = maps.find((entry) => /^libpython3\.\d+\.so/.test(basename(entry.path)));
  const file = libpython?.path ?? readlinkSync(`/proc/${pid}/exe`);
  const symbols = spawnSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' }).stdout;
  const match = /^([0-9a-f]+) [A-Za-z] _PyRuntime$/m.exec(symbols);
  assert.ok(match, `no _PyRuntime in the dynamic symbols of ${file}`);
  const header = spawnSync('readelf', ['-h', file], { encoding: 'utf8' }).stdout;
  // Debian's python3.X is a non-PIE ET_EXEC: symbol values are absolute. A PIE or shared library (pyenv's
  // libpython, whose first segment is at address 0) is shifted by where it was mapped.
  const isPositionIndependent = /Type:\s+DYN/.test(header);
  const base = isPositionIndependent ? mappingBase(maps, file) : 0;
  assert.ok(base !== undefined, `${file} is not mapped in ${pid}`);
  return parseInt(match[1]!, 16) + base;
}

function pointer(reader: MemoryReader, address: number): number {
  return u64(reader.read(address, 8), 0);
}

function readAsciiString(reader: MemoryReader, layout: PythonLayout, address: number): string {
  const uo = layout.unicodeObject;
  const header = reader.read(address, uo.asciiobjectSize);
  const state = u32(header, uo.state);
  assert.equal((state >>> uo.asciiBit) & 1, 1, 'expected a compact ASCII str');
  return reader.read(address + uo.asciiobjectSize, i64(header, uo.length)).toString('latin1');
}

interface ThreadView {
  tstate: number;
  threadId: number;
  nativeThreadId: number;
}

function readThreads(reader: MemoryReader, layout: PythonLayout, runtime: number): ThreadView[] {
  const interp = pointer(reader, runtime + layout.runtimeState.interpretersHead);
  const threads: ThreadView[] = [];
  for (let tstate = pointer(reader, interp + layout.interpreterState.threadsHead); tstate !== 0;) {
    const ts = reader.read(tstate, layout.threadState.size);
    threads.push({
      tstate,
      threadId: u64(ts, layout.threadState.threadId),
      nativeThreadId: u64(ts, layout.threadState.nativeThreadId!),
    });
    tstate = u64(ts, layout.threadState.next);
    assert.ok(threads.length < 100, 'thread list does not end');
  }
  return threads;
}

/** co_name of each Python frame of a thread, innermost first, skipping frames no Python code owns. */
function readFrameNames(reader: MemoryReader, layout: PythonLayout, tstate: number): string[] {
  const fr = layout.interpreterFrame;
  const tagModulus = (fr.executableTagMask ?? 0) + 1;
  const names: string[] = [];
  let frame = pointer(reader, tstate + layout.threadState.currentFrame);
  for (let depth = 0; frame !== 0 && depth < 50; depth++) {
    const bytes = reader.read(frame, fr.size);
    if (u8(bytes, fr.owner!) < fr.ownerCStack!) {
      const executable = u64(bytes, fr.executable);
      const code = executable - (executable % tagModulus);
      names.push(readAsciiString(reader, layout, pointer(reader, code + layout.codeObject.name)));
    }
    frame = u64(bytes, fr.previous);
  }
  return names;
}

function readTypeName(reader: MemoryReader, layout: PythonLayout, object: number): string {
  const type = pointer(reader, object + layout.pyObject.obType);
  const name = pointer(reader, type + layout.typeObject.tpName);
  return reader.read(name, 16).toString('latin1').split('\0')[0]!;
}

for (const interpreter of interpreters) {
  const skip = interpreter.skip ?? false;

  test(
    `${interpreter.label}: _Py_DebugOffsets read from the live process walk to its own threads and frames`,
    { skip },
    async (t) => {
      const { child, ready } = await startTarget(t, interpreter.command);
      assert.ok(ready.version.startsWith(`${interpreter.minor}.`), `${interpreter.label} is ${ready.version}`);
      // A plain chroot target runs without /proc: reading it needs only the host's /proc/PID.
      assert.equal(ready.has_proc, interpreter.hasProc);
      const reader = new ProcMemoryReader(child.pid!);
      t.after(() => reader.close());
      const runtime = findRuntimeAddress(child.pid!);
      const layout = readDebugOffsets(reader, runtime);
      assert.ok(layout, 'no _Py_DebugOffsets cookie at _PyRuntime');
      assert.equal(layout.source, 'debug-offsets');
      assert.equal(layout.version.join('.'), interpreter.minor);
      assert.equal(layout.freeThreaded, false);

      const threads = readThreads(reader, layout, runtime);
      const main = threads.find((thread) => thread.threadId === ready.thread_id);
      assert.ok(main, `no thread state with thread_id ${ready.thread_id} among ${threads.map((x) => x.threadId)}`);
      assert.equal(main.nativeThreadId, ready.native_thread_id);
      assert.equal(main.nativeThreadId, child.pid);
      assert.deepEqual(readFrameNames(reader, layout, main.tstate), ['wait_for_stdin', '<module>']);

      const interp = pointer(reader, runtime + layout.runtimeState.interpretersHead);
      const modules = pointer(reader, interp + layout.interpreterState.modules);
      assert.equal(readTypeName(reader, layout, modules), 'dict');
    },
  );

  test(
    `${interpreter.label}: the decoded layout passes layout-check.py inside that interpreter`,
    { skip },
    async (t) => {
      const { child } = await startTarget(t, interpreter.command);
      const reader = new ProcMemoryReader(child.pid!);
      t.after(() => reader.close());
      const layout = readDebugOffsets(reader, findRuntimeAddress(child.pid!));
      assert.ok(layout);
      const result = spawnSync(interpreter.command[0]!, [...interpreter.command.slice(1), '-c', layoutCheckScript], {
        input: JSON.stringify(layout),
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 0, result.stderr);
      const report = JSON.parse(result.stdout) as { checks: [string, unknown, unknown][] };
      assert.ok(report.checks.length > 20, `only ${report.checks.length} checks ran`);
      assert.deepEqual(
        report.checks.filter(([, actual, expected]) => !isDeepStrictEqual(actual, expected)),
        [],
      );
    },
  );
}
