// The engine's live suite: runs test/targets/known.py on every installed CPython and checks what `hotpath dump`
// and `hotpath record` report (names, files, lines, recursion depth, threads, CPU shares), then every failure
// mode's exit code and message. The process helpers are private here: test/support had none when it was written.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import type { ErrorKind } from '../../src/errors/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const knownPy = path.join(repoRoot, 'test/targets/known.py');
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

// ---- process helpers: every child is tracked and killed when the file ends --------------------------------

const children = new Set<ChildProcess>();
after(() => children.forEach((child) => child.kill('SIGKILL')));
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface ReadyInfo {
  pid: number;
  version: string;
  threads: Record<string, { ident: number; native_id: number }>;
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
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startHotpath(args: readonly string[], options: { runAs?: string[]; bin?: string } = {}): HotpathRun {
  const command = [...(options.runAs ?? []), process.execPath, options.bin ?? hotpathBin, ...args];
  const child = track(spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    waiters.forEach((check) => check());
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    done,
    stderrLine: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const line = stderr.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) resolve(line);
        };
        waiters.push(check);
        check();
        void done.then(({ code }) => reject(new Error(`hotpath exited (${code}) before ${pattern}: ${stderr}`)));
      }),
  };
}

function runHotpath(args: readonly string[], options: { runAs?: string[]; bin?: string } = {}): HotpathRun['done'] {
  return startHotpath(args, options).done;
}

// ---- what the target looks like ------------------------------------------------------------------------

/** Line numbers of the `# LINE:<name>` markers in known.py. */
function readMarkers(): Record<string, number> {
  const markers: Record<string, number> = {};
  fs.readFileSync(knownPy, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const match = /# LINE:(\w+)\s*$/.exec(text);
      if (match) markers[match[1]!] = index + 1;
    });
  return markers;
}

const LINE = readMarkers();
const UNICODE_NAME = 'ünïcode_函数';
const ALPHA_NAME = 'alpha_loop_ß';
const BETA_NAME = 'beta_loop_𠀀';
const RECURSION_DEPTH = 50;

interface Frame {
  name: string;
  file: string;
  line: number;
}

/** Checks one main-thread stack, outermost frame first; returns its leaf work function, if any. */
function checkMainStack(frames: readonly Frame[], where: string): 'work_a' | 'work_b' | undefined {
  const describe = (): string => `${where}: ${frames.map((f) => `${f.name}:${f.line}`).join(' > ')}`;
  for (const frame of frames) assert.equal(frame.file, knownPy, describe());
  const expected: Array<[string, number[]]> = [
    ['<module>', [LINE.module_call!]],
    ['main', [LINE.main_call!]],
    ...Array.from({ length: RECURSION_DEPTH - 1 }, (): [string, number[]] => ['recurse', [LINE.recurse_call!]]),
    ['recurse', [LINE.recurse_bottom!]],
  ];
  const leaf = frames.length === expected.length + 2 ? frames.at(-1)!.name : undefined;
  const unicodeLines =
    leaf === 'work_a'
      ? [LINE.unicode_call_a!]
      : leaf === 'work_b'
        ? [LINE.unicode_call_b!]
        : [LINE.unicode_loop!, LINE.unicode_call_a!, LINE.unicode_call_b!];
  expected.push([UNICODE_NAME, unicodeLines]);
  // A work function's frame sits on its loop line; on entry (before its first line runs) on its `def` line.
  if (leaf === 'work_a') expected.push(['work_a', [LINE.work_a!, LINE.work_a! - 1]]);
  if (leaf === 'work_b') expected.push(['work_b', [LINE.work_b!, LINE.work_b! - 1]]);
  assert.equal(frames.length, expected.length, describe());
  expected.forEach(([name, lines], i) => {
    assert.equal(frames[i]!.name, name, describe());
    assert.ok(lines.includes(frames[i]!.line), `frame ${i} line ${frames[i]!.line} not in ${lines}: ${describe()}`);
  });
  assert.equal(frames.filter((f) => f.name === 'recurse').length, RECURSION_DEPTH);
  return leaf === 'work_a' || leaf === 'work_b' ? leaf : undefined;
}

/** Checks an extra thread's stack, outermost first: threading's bootstrap frames, then its own loop. */
function checkThreadStack(frames: readonly Frame[], loopName: string, loopLine: number, version: string): void {
  const qualified = Number(version.split('.')[1]) >= 11 ? 'Thread.' : '';
  const names = frames.map((f) => f.name);
  assert.deepEqual(names, [`${qualified}_bootstrap`, `${qualified}_bootstrap_inner`, `${qualified}run`, loopName]);
  for (const frame of frames.slice(0, 3)) {
    assert.ok(frame.file.endsWith('/threading.py') && frame.line > 0, `${frame.name} ${frame.file}:${frame.line}`);
  }
  assert.deepEqual(frames[3], { name: loopName, file: knownPy, line: loopLine });
}

const THREAD_LOOPS: Record<string, [string, number]> = {
  'alpha-thread': [ALPHA_NAME, LINE.alpha_spin!],
  'beta-thread': [BETA_NAME, LINE.beta_spin!],
};

function taskIds(pid: number): Set<number> {
  return new Set(fs.readdirSync(`/proc/${pid}/task`).map(Number));
}

/** Parses py-spy raw / collapsed output: "label;label;… count" lines, labels "name (file:line)". */
function parseCollapsed(text: string): Array<{ labels: string[]; count: number }> {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const space = line.lastIndexOf(' ');
      return { labels: line.slice(0, space).split(';'), count: Number(line.slice(space + 1)) };
    });
}

function parseFrameLabel(label: string): Frame {
  const match = /^(.*) \((.*):(\d+)\)$/.exec(label);
  assert.ok(match, `not a frame label: ${label}`);
  return { name: match[1]!, file: match[2]!, line: Number(match[3]) };
}

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

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-engine-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
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

interface DumpedThread {
  pid: number;
  thread_id: number;
  os_thread_id: number | null;
  thread_name: string | null;
  frames: Array<{ name: string; filename: string; line: number }>;
}

async function checkDump(python: Python, target: Target): Promise<void> {
  const result = await runHotpath(['dump', '--pid', String(target.pid), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const threads = JSON.parse(result.stdout) as DumpedThread[];
  assert.equal(threads.length, 3, `threads: ${JSON.stringify(threads.map((th) => th.os_thread_id))}`);
  const tasks = taskIds(target.pid);
  for (const [name, ids] of Object.entries(target.ready.threads)) {
    const thread = threads.find((th) => th.thread_id === ids.ident);
    assert.ok(thread, `no thread with ident ${ids.ident} (${name})`);
    assert.equal(thread.pid, target.pid);
    assert.equal(thread.os_thread_id, ids.native_id, name);
    assert.ok(tasks.has(thread.os_thread_id), `${thread.os_thread_id} not in /proc/${target.pid}/task`);
    if (thread.thread_name !== null) assert.equal(thread.thread_name, name);
    const frames = thread.frames.map((f) => ({ name: f.name, file: f.filename, line: f.line })).reverse();
    if (name === 'MainThread') {
      assert.equal(thread.os_thread_id, target.pid);
      checkMainStack(frames, `${python.label} dump`);
    } else {
      const [loopName, loopLine] = THREAD_LOOPS[name]!;
      checkThreadStack(frames, loopName, loopLine, target.ready.version);
    }
  }
}

async function checkRecord(python: Python, target: Target, dir: string): Promise<void> {
  const output = path.join(dir, 'profile.txt');
  // -i: the extra threads sleep, so they are idle; -t: one group per thread, to tell their stacks apart.
  const args = ['record', '-f', 'raw', '-d', '3', '-r', '200', '-i', '-t', '-o', output, '--pid', String(target.pid)];
  const result = await runHotpath(args);
  assert.equal(result.code, 0, result.stderr);
  const tasks = taskIds(target.pid);
  const nameByTid = new Map(Object.entries(target.ready.threads).map(([name, ids]) => [ids.native_id, name]));
  const seenTids = new Set<number>();
  const leaves = { work_a: 0, work_b: 0 };
  for (const { labels, count } of parseCollapsed(fs.readFileSync(output, 'utf8'))) {
    const thread = /^thread \((\d+)\)(?:: (.*))?$/.exec(labels[0]!);
    assert.ok(thread, `first label is not a thread: ${labels[0]}`);
    const tid = Number(thread[1]);
    const name = nameByTid.get(tid);
    assert.ok(name && tasks.has(tid), `thread ${tid} is not one of ${[...nameByTid.keys()]} in /proc/PID/task`);
    if (thread[2] !== undefined) assert.equal(thread[2], name);
    seenTids.add(tid);
    const frames = labels.slice(1).map(parseFrameLabel);
    if (name === 'MainThread') {
      assert.equal(tid, target.pid);
      const leaf = checkMainStack(frames, `${python.label} record`);
      if (leaf) leaves[leaf] += count;
    } else {
      const [loopName, loopLine] = THREAD_LOOPS[name]!;
      checkThreadStack(frames, loopName, loopLine, target.ready.version);
    }
  }
  assert.deepEqual([...seenTids].sort(), [...nameByTid.keys()].sort());
  const total = leaves.work_a + leaves.work_b;
  assert.ok(total >= 100, `only ${total} samples in work_a/work_b: ${result.stderr}`);
  const shareA = leaves.work_a / total;
  const load = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  assert.ok(
    Math.abs(shareA - 0.25) <= 0.05,
    `work_a has ${(100 * shareA).toFixed(1)}% of ${total} samples, want 25±5% (load average ${load})`,
  );
}

// One interpreter at a time: the 1:3 share is a share of wall time, which gets noisy when the target has to
// wait for a CPU, so the suite does not compete with itself.
test('dump and record on known.py: exact frames, threads, 1:3 shares', (t) =>
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
  ));

test('record -- python known.py: a launched run samples the target it started', { concurrency: true }, (t) =>
  forEachPython(t, async (python, st) => {
    const output = path.join(tempDir(st), 'launched.txt');
    const result = await runHotpath(['record', '-f', 'raw', '-d', '2', '-o', output, '--', python.path, knownPy]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^READY /m);
    const stacks = parseCollapsed(fs.readFileSync(output, 'utf8')).map(({ labels }) => labels.map(parseFrameLabel));
    // The first samples may catch the interpreter starting up (imports, thread starts): only the steady state is known.
    const steady = stacks.filter((frames) => frames.some((f) => f.name === 'recurse'));
    assert.ok(steady.length > 0, `no main-thread stacks in:\n${stacks.map((s) => s.at(-1)?.name).join('\n')}`);
    for (const frames of steady) checkMainStack(frames, `${python.label} launched`);
  }),
);

// ---- failures: exit codes and messages ----------------------------------------------------------------

const newestPython = [...SUPPORTED_PYTHONS].reverse().find((p) => p.present && p.label.startsWith('pyenv'));
const needsPython = newestPython ? {} : { skip: 'no pyenv CPython 3.9-3.13 installed' };

describe('hotpath failures', { concurrency: true }, () => {
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
    target.child.stdin!.end();
    const result = await run.done;
    assert.equal(result.code, exitCode('target-exited'), result.stderr);
    const stacks = parseCollapsed(fs.readFileSync(output, 'utf8'));
    assert.ok(stacks.some(({ labels }) => labels.some((l) => l.startsWith(`${UNICODE_NAME} (${knownPy}:`))));
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
