// The engine's live suite: runs test/targets/known.py on every installed CPython and checks what `hotpath dump`
// and `hotpath record` report (names, files, lines, recursion depth, threads, CPU shares), then every failure
// mode's exit code and message. The checks of known.py's stacks are shared (test/support/known-script.ts); the process
// helpers are private here: test/support had none when it was written.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import type { ErrorKind } from '../../src/errors/index.js';
import {
  UNICODE_NAME,
  checkDumpedThreads,
  checkLaunchedRawProfile,
  checkThreadedRawProfile,
  knownPy,
  parseCollapsed,
  type DumpedThread,
  type ReadyInfo,
} from '../support/known-script.js';
import { tempDir } from '../support/temp-dir.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const pyenvVersions = path.join(process.env.PYENV_ROOT ?? '/root/.pyenv', 'versions');

const SUPPORTED_PYTHONS = [
  ...['3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0'].map((v) => ({
    label: `pyenv ${v}`,
    path: path.join(pyenvVersions, v, 'bin/python3'),
  })),
  { label: 'debian 3.11', path: '/usr/bin/python3.11' },
].map((python) => ({ ...python, present: fs.existsSync(python.path) }));
const UNSUPPORTED_PYTHONS = [
  ['3.8.18', 'python3'],
  ['3.7.16', 'python3'],
  ['3.6.15', 'python3'],
  ['2.7.18', 'python2'],
].map(([version, exe]) => ({ version: version!, path: path.join(pyenvVersions, version!, 'bin', exe!) }));

type Python = (typeof SUPPORTED_PYTHONS)[number];

// ---- process helpers: every child is tracked and killed, with its own children, when the file ends ---------

const children = new Set<ChildProcess>();
after(killChildren);
process.on('exit', killChildren);

function killChildren(): void {
  for (const child of children) for (const pid of [child.pid!, ...descendantsOf(child.pid!)]) killQuietly(pid);
}

/** A hotpath killed mid-recording cannot stop the program it launched: that one is found through /proc. */
function descendantsOf(pid: number): number[] {
  let direct: number[] = [];
  try {
    direct = fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean))
      .map(Number);
  } catch {
    // already gone
  }
  return direct.flatMap((child) => [child, ...descendantsOf(child)]);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Target {
  child: ChildProcess;
  pid: number;
  ready: ReadyInfo;
}

/** Starts `python known.py` (or any command printing a READY line) and resolves once it has printed READY. */
function startTarget(command: string, args: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): Promise<Target> {
  const child = track(spawn(command, args, { stdio: [stdin, 'pipe', 'pipe'] }));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('READY'));
      if (line === undefined || !stdout.includes('\n', stdout.indexOf(line))) return;
      const json = line.slice('READY'.length).trim();
      resolve({ child, pid: child.pid!, ready: json ? (JSON.parse(json) as ReadyInfo) : ({} as ReadyInfo) });
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${command} exited (${code ?? signal}) before READY: ${stderr}`)),
    );
  });
}

function startKnown(
  python: Python,
  args: readonly string[] = [],
  stdin: 'ignore' | 'pipe' = 'ignore',
): Promise<Target> {
  return startTarget(python.path, [knownPy, ...args], stdin);
}

interface HotpathRun {
  child: ChildProcess;
  /** Resolves when stderr has printed a line matching `pattern` (rejects if hotpath exits first). */
  stderrLine(pattern: RegExp): Promise<string>;
  /** The same for stdout (where a launched target's output goes). */
  stdoutLine(pattern: RegExp): Promise<string>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startHotpath(
  args: readonly string[],
  options: { runAs?: string[]; bin?: string; stdin?: 'ignore' | 'pipe' } = {},
): HotpathRun {
  const command = [...(options.runAs ?? []), process.execPath, options.bin ?? hotpathBin, ...args];
  const child = track(spawn(command[0]!, command.slice(1), { stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    waiters.forEach((check) => check());
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    waiters.forEach((check) => check());
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const lineOf = (text: () => string, pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = text()
          .split('\n')
          .find((l) => pattern.test(l));
        if (line !== undefined) resolve(line);
      };
      waiters.push(check);
      check();
      void done.then(({ code }) => reject(new Error(`hotpath exited (${code}) before ${pattern}: ${stderr}`)));
    });
  return {
    child,
    done,
    stderrLine: (pattern) => lineOf(() => stderr, pattern),
    stdoutLine: (pattern) => lineOf(() => stdout, pattern),
  };
}

function runHotpath(args: readonly string[], options: { runAs?: string[]; bin?: string } = {}): HotpathRun['done'] {
  return startHotpath(args, options).done;
}

/**
 * Resolves once process `pid` has made `count` more read calls than when asked. After its "sampling" line a
 * recording hotpath reads nothing but the target, so this is how a test knows samples were taken (a pipe
 * shows no progress lines, and its first sample may still be running when the line arrives).
 */
async function waitForReadCalls(pid: number, count: number): Promise<void> {
  const readCalls = (): number => Number(/^syscr:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  const enough = readCalls() + count;
  while (readCalls() < enough) await new Promise((resolve) => setTimeout(resolve, 5));
}

// ---- what the target looks like ------------------------------------------------------------------------

function exitCode(kind: ErrorKind): number {
  return EXIT_CODES[kind].code;
}

/** A failure: the expected exit code and exactly one line on stderr saying what went wrong. */
function assertFailure(result: Awaited<HotpathRun['done']>, kind: ErrorKind, message?: RegExp): void {
  const lines = result.stderr.trim().split('\n');
  assert.equal(result.code, exitCode(kind), `expected ${kind}; stderr: ${result.stderr}`);
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, /^hotpath: error: /);
  if (message) assert.match(lines[0]!, message);
}

/** Runs `check` for every supported interpreter as subtests (concurrently unless told); absent ones are skipped. */
async function forEachPython(
  t: TestContext,
  check: (python: Python, t: TestContext) => Promise<void>,
  { concurrency = SUPPORTED_PYTHONS.length } = {},
): Promise<void> {
  const queue = [...SUPPORTED_PYTHONS];
  const worker = async (): Promise<void> => {
    for (let python = queue.shift(); python; python = queue.shift()) {
      const { label, path: binary, present } = python;
      if (present) await t.test(label, (st) => check(python, st));
      else await t.test(label, { skip: `${binary} is not installed` }, () => {});
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

// ---- stacks, threads and shares on every interpreter ------------------------------------------------------

async function checkDump(python: Python, target: Target): Promise<void> {
  const result = await runHotpath(['dump', '--pid', String(target.pid), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const threads = JSON.parse(result.stdout) as DumpedThread[];
  checkDumpedThreads(threads, target, `${python.label} dump`);
  const names = Object.fromEntries(threads.map((thread) => [thread.thread_id, thread.thread_name]));
  for (const [name, { ident }] of Object.entries(target.ready.threads)) assert.equal(names[ident], name);
}

/**
 * How far work_a's 25 % share may stray. On a quiet machine it stays within 3 points. While other work competes for
 * the 2 CPUs the target loses whole time slices, each seen by several samples in a row as one frozen stack: 4 s runs
 * beside two busy loops came out at 23.4-29.4 %. (Runs at 19.2 % and 33.7 % in fresh-clone CI were aliasing, fixed
 * since: see SampleSchedule.)
 */
const WORK_A_TOLERANCE = 0.08;

async function checkRecord(python: Python, target: Target, dir: string): Promise<void> {
  const output = path.join(dir, 'profile.txt');
  // -i: the extra threads sleep, so they are idle; -t: one group per thread, to tell their stacks apart. 1,000
  // samples: on a loaded machine the sampler takes missed samples in bursts, which count for fewer than their number.
  const args = ['record', '-f', 'raw', '-d', '4', '-r', '250', '-i', '-t', '-o', output, '--pid', String(target.pid)];
  const result = await runHotpath(args);
  assert.equal(result.code, 0, result.stderr);
  const text = fs.readFileSync(output, 'utf8');
  const leaves = checkThreadedRawProfile(text, target, `${python.label} record`);
  const threadLabels = new Set(parseCollapsed(text).map(({ labels }) => labels[0]));
  const expectedLabels = Object.entries(target.ready.threads).map(
    ([name, ids]) => `thread (${ids.native_id}): ${name}`,
  );
  assert.deepEqual([...threadLabels].sort(), expectedLabels.sort(), 'each thread under its own name');
  const total = leaves.work_a + leaves.work_b;
  assert.ok(total >= 100, `only ${total} samples in work_a/work_b: ${result.stderr}`);
  const shareA = leaves.work_a / total;
  const load = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  assert.ok(
    Math.abs(shareA - 0.25) <= WORK_A_TOLERANCE,
    `work_a has ${(100 * shareA).toFixed(1)}% of ${total} samples, want 25±${100 * WORK_A_TOLERANCE}% (load ${load})`,
  );
}

// Generous bounds, so that a hung hotpath fails its test (and gets killed) instead of stalling the run.
const TIMEOUT_MS = 240_000;

// One interpreter at a time: the 1:3 share is a share of wall time, which gets noisy when the target has to
// wait for a CPU, so the suite does not compete with itself.
test('dump and record on known.py: exact frames, threads, 1:3 shares', { timeout: TIMEOUT_MS }, (t) =>
  forEachPython(
    t,
    async (python, st) => {
      const target = await startKnown(python);
      st.after(() => target.child.kill('SIGKILL'));
      await st.test('dump --json: exact frames, recursion depth, non-ASCII names, thread ids', () =>
        checkDump(python, target),
      );
      await st.test('record -f raw: every sample exact, threads apart, work_a:work_b = 1:3', () =>
        checkRecord(python, target, tempDir(st)),
      );
    },
    { concurrency: 1 },
  ),
);

test(
  'record -- python known.py: a launched run samples the target it started',
  { concurrency: true, timeout: TIMEOUT_MS },
  (t) =>
    forEachPython(t, async (python, st) => {
      const output = path.join(tempDir(st), 'launched.txt');
      // The launched target shares hotpath's stdin: it runs until that closes, once samples were taken.
      const args = ['record', '-f', 'raw', '-o', output, '--', python.path, knownPy, '--exit-on-eof'];
      const run = startHotpath(args, { stdin: 'pipe' });
      await run.stdoutLine(/^READY /);
      // Attaching reads the interpreter's files too: count reads only once sampling has begun.
      await run.stderrLine(/^hotpath: sampling /);
      await waitForReadCalls(run.child.pid!, 200);
      run.child.stdin!.end();
      const result = await run.done;
      assert.equal(result.code, 0, result.stderr);
      checkLaunchedRawProfile(fs.readFileSync(output, 'utf8'), `${python.label} launched`);
    }),
);

// ---- failures: exit codes and messages ----------------------------------------------------------------

const newestPython = [...SUPPORTED_PYTHONS].reverse().find((p) => p.present && p.label.startsWith('pyenv'));
const needsPython = newestPython ? {} : { skip: 'no pyenv CPython 3.9-3.13 installed' };

describe('hotpath failures', { concurrency: true, timeout: TIMEOUT_MS }, () => {
  test('no such pid', async () => {
    const gone = spawnSync('true').pid;
    const output = path.join(os.tmpdir(), 'hotpath-never-written.txt');
    for (const args of [['dump'], ['record', '-o', output]]) {
      assertFailure(await runHotpath([...args, '--pid', String(gone)]), 'no-such-process', new RegExp(`${gone}`));
    }
  });

  test('a process that is not Python', async (t) => {
    const sleeper = track(spawn('sleep', ['100'], { stdio: 'ignore' }));
    t.after(() => sleeper.kill('SIGKILL'));
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    assertFailure(await runHotpath(['dump', '--pid', String(sleeper.pid)]), 'not-python', /not a Python process/);
    // A dump is of this moment: with --subprocesses it does not wait for Python to start, as a recording does.
    const withChildren = await runHotpath(['dump', '-s', '--pid', String(sleeper.pid)]);
    assertFailure(withChildren, 'not-python', /not a Python process/);
  });

  test('with --subprocesses, a launcher that starts Python later is waited for', needsPython, async (t) => {
    const dir = tempDir(t);
    const go = path.join(dir, 'go');
    const script = 'def started_late():\n    while True:\n        pass\nstarted_late()\n';
    // A shell that starts Python only once told to, as a container's init or a wrapper script would.
    const launcher = track(
      spawn(
        'sh',
        ['-c', `while [ ! -e "$1" ]; do sleep 0.05; done; exec "$2" -c "$3"`, 'sh', go, newestPython!.path, script],
        {
          stdio: 'ignore',
        },
      ),
    );
    t.after(() => launcher.kill('SIGKILL'));
    const output = path.join(dir, 'late.txt');
    const run = startHotpath([
      'record',
      '-s',
      '-f',
      'raw',
      '-r',
      '50',
      '-d',
      '4',
      '-o',
      output,
      '--pid',
      `${launcher.pid}`,
    ]);
    await run.stderrLine(/waiting for the Python processes it starts/);
    fs.writeFileSync(go, '');
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`following process ${launcher.pid} `), "the shell exec'd into Python");
    assert.ok(fs.readFileSync(output, 'utf8').includes('started_late'), 'samples of the Python it started');
  });

  test('with --subprocesses, a launcher that never starts Python ends with the not-python code', async (t) => {
    const sleeper = track(spawn('sleep', ['100'], { stdio: 'ignore' }));
    t.after(() => sleeper.kill('SIGKILL'));
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    const output = path.join(tempDir(t), 'never.txt');
    const result = await runHotpath(['record', '-s', '-d', '1', '-o', output, '--pid', String(sleeper.pid)]);
    // It said it was waiting, then ends in one error line with the code of a process that is not Python.
    assert.equal(result.code, exitCode('not-python'), result.stderr);
    assert.match(result.stderr, /waiting for the Python processes it starts/);
    assert.match(result.stderr.trimEnd().split('\n').at(-1)!, /^hotpath: error: no Python process started under \d+/);
    assert.ok(!fs.existsSync(output), 'nothing written');
  });

  test('a pid that is not Python among several is skipped, as is one that is gone', needsPython, async (t) => {
    const sleeper = track(spawn('sleep', ['100'], { stdio: 'ignore' }));
    t.after(() => sleeper.kill('SIGKILL'));
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    const gone = spawnSync('true').pid;
    const target = await startKnown(newestPython!);
    t.after(() => target.child.kill('SIGKILL'));
    const output = path.join(tempDir(t), 'several.txt');
    const pids = [sleeper.pid, target.pid, gone].map(String);
    const result = await runHotpath(['record', '-f', 'raw', '-r', '50', '-d', '1', '-o', output, '--pid', ...pids]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`not profiling process ${sleeper.pid}: .*not a Python process`));
    assert.match(result.stderr, new RegExp(`not profiling process ${gone}: .*no process`));
    assert.ok(fs.readFileSync(output, 'utf8').includes(`${UNICODE_NAME} (${knownPy}:`), 'samples of the Python pid');
  });

  test('unsupported Python versions', { concurrency: true }, async (t) => {
    const block = 'import sys; sys.stdout.write("READY\\n"); sys.stdout.flush(); sys.stdin.read()';
    await Promise.all(
      UNSUPPORTED_PYTHONS.map(({ version, path: python }) =>
        fs.existsSync(python)
          ? t.test(`Python ${version}`, async (st) => {
              const target = await startTarget(python, ['-c', block], 'pipe');
              st.after(() => target.child.kill('SIGKILL'));
              const minor = version.split('.').slice(0, 2).join('.');
              const result = await runHotpath(['dump', '--pid', String(target.pid)]);
              assertFailure(result, 'unsupported-version', new RegExp(`${minor.replace('.', '\\.')}.*not supported`));
            })
          : t.test(`Python ${version}`, { skip: `${python} is not installed` }, () => {}),
      ),
    );
  });

  test('permission denied, run as an unprivileged user', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to switch to uid 65534');
    if (spawnSync('setpriv', ['--version']).status !== 0) return t.skip('setpriv is not installed');
    if (!newestPython) return t.skip('no pyenv CPython installed');
    // A copy of the build that uid 65534 can read (the work tree may sit under a private home).
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-unprivileged-'));
    t.after(() => fs.rmSync(copy, { recursive: true, force: true }));
    fs.cpSync(path.join(repoRoot, 'bin'), path.join(copy, 'bin'), { recursive: true });
    fs.cpSync(path.join(repoRoot, 'dist/src'), path.join(copy, 'dist/src'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(copy, 'package.json'));
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    const target = await startKnown(newestPython);
    t.after(() => target.child.kill('SIGKILL'));
    const runAs = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const bin = path.join(copy, 'bin/hotpath.js');
    for (const args of [
      ['dump', '--pid', String(target.pid)],
      ['record', '-o', '/tmp/x.txt', '--pid', String(target.pid)],
    ]) {
      const result = await runHotpath(args, { runAs, bin });
      assertFailure(result, 'permission-denied', /root|CAP_SYS_PTRACE|ptrace_scope/);
    }
  });

  test('the target exits during recording', needsPython, async (t) => {
    const target = await startKnown(newestPython!, ['--exit-on-eof'], 'pipe');
    const output = path.join(tempDir(t), 'exited.txt');
    const run = startHotpath(['record', '-f', 'raw', '-i', '-d', '30', '-o', output, '--pid', String(target.pid)]);
    await run.stderrLine(/^hotpath: sampling /);
    await waitForReadCalls(run.child.pid!, 200);
    target.child.stdin!.end();
    const result = await run.done;
    assert.equal(result.code, exitCode('target-exited'), result.stderr);
    const text = fs.readFileSync(output, 'utf8');
    assert.ok(text.includes(`${UNICODE_NAME} (${knownPy}:`), text);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} ends a recording, writes the output atomically, exits 0`, needsPython, async (t) => {
      const target = await startKnown(newestPython!);
      t.after(() => target.child.kill('SIGKILL'));
      const dir = tempDir(t);
      const output = path.join(dir, 'interrupted.txt');
      const run = startHotpath(['record', '-f', 'raw', '-i', '-o', output, '--pid', String(target.pid)]);
      await run.stderrLine(/^hotpath: sampling /);
      assert.deepEqual(fs.readdirSync(dir), [], 'nothing is written before the recording ends');
      run.child.kill(signal);
      const result = await run.done;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(fs.readdirSync(dir), ['interrupted.txt'], 'no temporary file is left behind');
      const text = fs.readFileSync(output, 'utf8');
      assert.ok(
        text.endsWith('\n') &&
          text
            .split('\n')
            .slice(0, -1)
            .every((l) => /^\S.* \d+$/.test(l)),
        text,
      );
      assert.ok(text.includes(`${UNICODE_NAME} (${knownPy}:`), text);
      assert.equal(target.child.exitCode, null, 'the target keeps running');
    });
  }

  test('--native is not supported', async () => {
    for (const command of ['dump', 'record']) {
      assertFailure(await runHotpath([command, '--native', '--pid', String(process.pid)]), 'not-supported', /--native/);
    }
  });

  test('an unwritable output path fails before recording', async () => {
    const result = await runHotpath(['record', '-o', '/nonexistent/dir/x.svg', '--pid', String(process.pid)]);
    assertFailure(result, 'io', /\/nonexistent\/dir/);
  });
});
