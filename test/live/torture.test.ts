// Torture tests: hotpath record against targets that misbehave under it (test/targets/torture/): children that
// exit mid-sample, forks, exec into another program, thread churn, a 1,000-deep recursion, code objects freed
// and reused, memory pressure. In every case hotpath ends cleanly with its output written, shows how many samples
// it dropped and why, and never reports a frame that is not there. Runs take 2 s each; HOTPATH_FULL=1 runs 20 s
// each on every setup venv.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { PythonProcess } from '../../src/cpython/index.js';
import { readSmallLong } from '../../src/cpython/objects.js';
import { loadProfile, unescapeCollapsedFrame } from '../../src/export/index.js';
import { ProcMemoryReader, u64 } from '../../src/proc/index.js';
import { listPythons, repoRoot, type TestPython } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';

const FULL = process.env.HOTPATH_FULL === '1';
const SECONDS = FULL ? 20 : 2;
const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const tortureDir = path.join(repoRoot, 'test/targets/torture');
const allPythons = listPythons();
/** By default one interpreter: 3.12, or the newest pyenv build when setup has not built 3.12 (yet). */
const defaultPython = allPythons.find((p) => p.label === '3.12') ?? allPythons.filter((p) => p.kind === 'pyenv').at(-1);
const pythons: TorturePython[] = FULL ? allPythons : defaultPython ? [defaultPython] : pyenvFallback();

/** The targets need nothing but the standard library, so a bare pyenv build does while setup rebuilds the venvs. */
type TorturePython = Pick<TestPython, 'label' | 'executable'>;

function pyenvFallback(): TorturePython[] {
  const executable = path.join(process.env.PYENV_ROOT ?? '/root/.pyenv', 'versions/3.12.1/bin/python3');
  return fs.existsSync(executable) ? [{ label: '3.12.1 (pyenv)', executable }] : [];
}

interface Frame {
  name: string;
  file: string;
  line: number;
}

interface Summary {
  samples: number;
  taken: number;
  attempted: number;
  dropped: Record<string, number>;
}

interface HotpathResult {
  code: number | null;
  stderr: string;
  output: string;
  summary: Summary;
}

/** `record -f raw` of the target for SECONDS into `output`, following its children with `subprocesses`. */
function recordRaw(
  target: { pid: number },
  output: string,
  { subprocesses = false, idle = false } = {},
): Promise<HotpathResult> {
  const options = [...(subprocesses ? ['-s'] : []), ...(idle ? ['-i'] : [])];
  return record([...options, '-f', 'raw', '-d', String(SECONDS), '-o', output, '--pid', String(target.pid)]);
}

/** Runs `hotpath record …` to its end; `whileRunning` may act once it samples (e.g. signal the target). */
async function record(args: string[], whileRunning?: () => void): Promise<HotpathResult> {
  const child = spawn(process.execPath, [hotpathBin, 'record', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let acted = false;
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    if (!acted && whileRunning && /^hotpath: sampling /m.test(stderr)) {
      acted = true;
      whileRunning();
    }
  });
  // A guard against a hung hotpath, far beyond any duration here: not a wait.
  const guard = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 120) * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(guard);
  const outputFile = args[args.indexOf('-o') + 1]!;
  return { code, stderr, output: fs.existsSync(outputFile) ? outputFile : '', summary: parseSummary(stderr) };
}

/** The summary line every recording ends with: samples, reads attempted and taken, drops by reason. */
function parseSummary(stderr: string): Summary {
  const match =
    /(\d+) samples from \d+ process\(es\).*; (\d+)\/(\d+) reads ok, (?:none dropped|(\d+) dropped \(([^)]*)\))/.exec(
      stderr,
    );
  assert.ok(match, `no summary line in hotpath's output:\n${stderr}`);
  const dropped = Object.fromEntries(
    (match[5] ?? '')
      .split(', ')
      .filter(Boolean)
      .map((entry) => {
        const [reason, count] = entry.split(': ');
        return [reason!, Number(count)];
      }),
  );
  const summary = { samples: Number(match[1]), taken: Number(match[2]), attempted: Number(match[3]), dropped };
  const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
  assert.equal(droppedTotal, Number(match[4] ?? 0), 'the dropped total is the sum of its reasons');
  return summary;
}

/** Stacks of a collapsed-stacks file, outermost frame first, each with its sample count. */
function readStacks(file: string): Array<{ frames: Frame[]; count: number }> {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const space = line.lastIndexOf(' ');
      const frames = line
        .slice(0, space)
        .split(';')
        .map((label) => {
          // "name (file:line)", or "name (file)" for an instruction without a line (3.12's module-level RESUME)
          const match = /^(.*) \((.*?)(?::(\d+))?\)$/.exec(unescapeCollapsedFrame(label));
          assert.ok(match, `not a frame label: ${label}`);
          return { name: match[1]!, file: match[2]!, line: Number(match[3] ?? 0) };
        });
      return { frames, count: Number(line.slice(space + 1)) };
    });
}

/**
 * Every frame from `file` is one of `names`: hotpath never reports a function that is not in the target. A list
 * comprehension is a function of its own before 3.12, named `<listcomp>` (3.9, 3.10) or `outer.<locals>.<listcomp>`.
 */
function assertNamesIn(stacks: ReturnType<typeof readStacks>, file: string, names: readonly string[]): number {
  const known = (name: string): boolean =>
    names.includes(name) ||
    name === '<listcomp>' ||
    (/^\w+\.<locals>\.<listcomp>$/.test(name) && names.includes(name.split('.')[0]!));
  let count = 0;
  for (const { frames, count: samples } of stacks) {
    for (const frame of frames.filter((f) => f.file === file)) {
      assert.ok(known(frame.name), `unexpected frame ${frame.name} (${frame.file}:${frame.line})`);
      count += samples;
    }
  }
  return count;
}

function tempOutput(t: TestContext, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-torture-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

function startTorture(t: TestContext, python: TorturePython, script: string, args: string[] = []) {
  return spawnTarget(python.executable, [path.join(tortureDir, script), ...args], { owner: t });
}

/** Ended by its duration, output written, summary shown. */
function assertCleanEnd(result: HotpathResult): void {
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.output, `no output written:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /internal error|\n\s+at /, 'no stack trace');
  assert.ok(result.summary.taken <= result.summary.attempted);
}

test('setup built a venv to run the torture targets in', () => {
  assert.ok(pythons.length > 0, 'no venvs under .cache/venvs: run `npm run setup`');
});

for (const python of pythons) {
  describe(`torture on ${python.label}`, { concurrency: 2 }, () => {
    test('(a) short-lived children exit mid-sample, followed with --subprocesses', async (t) => {
      const target = await startTorture(t, python, 'short_lived.py');
      const output = tempOutput(t, 'short.txt');
      const result = await recordRaw(target, output, { subprocesses: true });
      assertCleanEnd(result);
      const stacks = readStacks(output);
      const childSamples = assertNamesIn(stacks, '<string>', ['short_lived_child_work', '<module>']);
      assert.ok(childSamples > 0, `no sample of a child:\n${result.stderr}`);
      t.diagnostic(`${childSamples} child samples, dropped ${JSON.stringify(result.summary.dropped)}`);
    });

    test('(b) forked children vanish mid-sample', async (t) => {
      const target = await startTorture(t, python, 'forker.py');
      const output = tempOutput(t, 'fork.txt');
      const result = await recordRaw(target, output, { subprocesses: true });
      assertCleanEnd(result);
      const file = path.join(tortureDir, 'forker.py');
      const names = ['forked_child_work', 'fork_one', 'parent_loop', 'reap', '<module>'];
      assertNamesIn(readStacks(output), file, names);
      const childSamples = readStacks(output)
        .filter((s) => s.frames.at(-1)?.name === 'forked_child_work')
        .reduce((sum, s) => sum + s.count, 0);
      assert.ok(childSamples > 0, `no sample of a forked child:\n${result.stderr}`);
      t.diagnostic(`${childSamples} child samples, dropped ${JSON.stringify(result.summary.dropped)}`);
    });

    test('(c) the target execs into /bin/sleep: dropped at once, what was sampled is written', async (t) => {
      const target = await startTorture(t, python, 'exec_away.py');
      const output = tempOutput(t, 'exec.hotpath');
      const result = await record(['-f', 'hotpath', '-d', '120', '-o', output, '--pid', String(target.pid)], () =>
        process.kill(target.pid, 'SIGUSR1'),
      );
      assert.equal(result.code, EXIT_CODES['target-exited'].code, result.stderr);
      assert.ok(result.output, 'no output written');
      assert.equal(fs.readlinkSync(`/proc/${target.pid}/exe`), '/usr/bin/sleep', 'the target runs sleep now');
      const profile = loadProfile(output);
      assert.ok(profile.samples.count > 0);
      assert.deepEqual(profile.meta.stats, {
        attempted: result.summary.attempted,
        taken: result.summary.taken,
        dropped: result.summary.dropped,
      });
      assert.equal(profile.meta.stats.dropped['target-exited'], 1, 'one drop: the read that found the exec');
      assert.equal(profile.meta.stats.dropped['read-error'], undefined, 'no read of the new program is attempted');
    });

    test('(c) followed children that exec into /bin/sleep are left, the parent is still sampled', async (t) => {
      const target = await startTorture(t, python, 'exec_away.py', ['children']);
      const output = tempOutput(t, 'exec-children.txt');
      // The parent mostly sleeps between forks (1-5 samples in 2 s when idle threads are left out): keep them.
      const result = await recordRaw(target, output, { subprocesses: true, idle: true });
      assertCleanEnd(result);
      const file = path.join(tortureDir, 'exec_away.py');
      const names = ['child_then_exec', 'exec_into_sleep', 'fork_children', '<module>'];
      assert.ok(assertNamesIn(readStacks(output), file, names) > 0);
    });

    test('(d) threads start and end at a high rate', async (t) => {
      const target = await startTorture(t, python, 'thread_churn.py');
      const output = tempOutput(t, 'threads.txt');
      const result = await recordRaw(target, output);
      assertCleanEnd(result);
      const file = path.join(tortureDir, 'thread_churn.py');
      const samples = assertNamesIn(readStacks(output), file, [
        'churn_thread_work',
        'churn_forever',
        'main',
        '<module>',
      ]);
      assert.ok(samples > 0);
      t.diagnostic(`dropped ${JSON.stringify(result.summary.dropped)} of ${result.summary.attempted}`);
    });

    test('(e) a 1,000-deep recursion: every stack has all 1,000 frames, in order', async (t) => {
      const target = await startTorture(t, python, 'deep.py');
      const output = tempOutput(t, 'deep.txt');
      const result = await recordRaw(target, output);
      assertCleanEnd(result);
      const file = path.join(tortureDir, 'deep.py');
      const stacks = readStacks(output);
      assert.ok(stacks.length > 0);
      for (const { frames } of stacks) {
        assert.deepEqual(
          frames.map((f) => f.name),
          ['<module>', ...Array<string>(1000).fill('recurse'), 'bottom'],
        );
        assert.ok(frames.every((f) => f.file === file));
        const callLines = new Set(frames.filter((f) => f.name === 'recurse').map((f) => f.line));
        assert.deepEqual([...callLines].sort(), [17, 18], 'recurse frames sit on its two call lines');
      }
    });

    test("(f) code objects freed and reused: a name never comes with another function's line", async (t) => {
      const target = await startTorture(t, python, 'code_churn.py');
      const output = tempOutput(t, 'churn.txt');
      const result = await recordRaw(target, output);
      assertCleanEnd(result);
      let churnSamples = 0;
      const wrong: string[] = [];
      for (const { frames, count } of readStacks(output)) {
        for (const frame of frames.filter((f) => f.file === '<churn>' && f.name !== '<module>')) {
          const n = Number(/^churn_(\d+)$/.exec(frame.name)?.[1]);
          if (!(frame.line >= n + 1 && frame.line <= n + 5)) wrong.push(`${frame.name} at line ${frame.line}`);
          churnSamples += count;
        }
      }
      assert.deepEqual(wrong, [], 'frames whose name belongs to another code object');
      assert.ok(churnSamples > 0, 'no sample in compiled code');
      t.diagnostic(`${churnSamples} samples in compiled functions, dropped ${JSON.stringify(result.summary.dropped)}`);
    });

    test('(f) code objects freed and reused: each churn_<n> frame really runs churn_<n> (its locals say n)', async (t) => {
      const target = await startTorture(t, python, 'code_churn.py');
      const attached = PythonProcess.attach(target.pid);
      const direct = new ProcMemoryReader(target.pid);
      t.after(() => (attached.close(), direct.close()));
      const { layout } = attached;
      const f = layout.interpreterFrame;
      /** n of the churn function whose locals (n // 100, n % 100: static small ints) the frame bytes hold. */
      const localsSay = (bytes: Buffer): number | undefined => {
        const [hundreds, units] = [u64(bytes, f.localsplus), u64(bytes, f.localsplus + 8)];
        if (hundreds === 0 || units === 0) return undefined;
        try {
          return readSmallLong(direct, layout, hundreds) * 100 + readSmallLong(direct, layout, units);
        } catch {
          return undefined; // not a churn function's locals (the slot holds another frame by now)
        }
      };
      const wrong: string[] = [];
      let checked = 0;
      let movedOn = 0;
      const deadline = Date.now() + SECONDS * 1000;
      while (Date.now() < deadline) {
        for (const frame of attached.readStacks().flatMap((s) => s.frames)) {
          const n = Number(/^churn_(\d+)$/.exec(frame.name)?.[1]);
          const slots = frame.frameAddress + f.localsplus;
          // The frame as the sample saw it (same page as its header) and as it is now: a name that is neither
          // came from a stale code object. Frames whose locals are on another page or not set yet say nothing.
          if (!n || Math.floor((slots + 15) / 4096) !== Math.floor(frame.frameAddress / 4096)) continue;
          const seen = attached.reader.read(frame.frameAddress, f.localsplus + 16);
          if (u64(seen, f.executable) !== frame.code.address) continue;
          const then = localsSay(seen);
          if (then === undefined) continue;
          checked++;
          if (then === n) continue;
          // hotpath was descheduled between reading the frame and its code object, and the next function ran in
          // the same frame meanwhile: the name is that of the present, checked fresh after the walk.
          const now = localsSay(direct.read(frame.frameAddress, f.localsplus + 16));
          if (now === n) movedOn++;
          else if (now !== undefined) wrong.push(`${frame.name} (line ${frame.line}) runs churn_${then}, then ${now}`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${checked} frames named from a stale code object`);
      assert.ok(checked > 0, 'no churn frame with its locals set was sampled');
      t.diagnostic(`${checked} churn frames checked against their own locals, ${movedOn} read across a switch`);
    });

    test('(g) under memory pressure', async (t) => {
      const target = await startTorture(t, python, 'memory_pressure.py');
      const output = tempOutput(t, 'pressure.txt');
      const result = await recordRaw(target, output);
      assertCleanEnd(result);
      const file = path.join(tortureDir, 'memory_pressure.py');
      const names = ['pressure_allocate_large', 'pressure_allocate_small', 'pressure_loop', '<module>'];
      assert.ok(assertNamesIn(readStacks(output), file, names) > 0);
    });
  });
}
