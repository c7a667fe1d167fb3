// Commands as py-spy users type them (its docs, tutorials and its own CLI tests), run against real Python:
// shortened command names, hex pids, format names in any case, py-spy's option names, a launcher script that
// starts Python later, one speedscope entry per sample, speedscope frames and thread names as py-spy's integration
// tests parse them, --nolineno, a command that cannot start, and `dump --locals` values as py-spy's local_vars
// test expects them, on every pyenv CPython.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import type { DumpedThread } from '../../src/cli/dump.js';
import type { SpeedscopeFile, SpeedscopeSampledProfile } from '../../src/export/speedscope.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';
import { tempDir } from '../support/temp-dir.js';

const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const python = listPythons().find((p) => p.label === '3.12') ?? listPythons().at(-1);
const targets = path.join(repoRoot, 'test/targets/pyspy');
const noPython = !python && 'no venvs (run scripts/setup.sh)';

function hotpath(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [hotpathBin, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

async function startSleeper(t: TestContext) {
  return spawnTarget(python!.executable, [path.join(targets, 'sleeper.py')], { owner: t });
}

test(
  'py-spy spellings: r/d/t for record/dump/top, help <command>, a hex pid, -f in any case',
  { skip: noPython },
  async (t) => {
    const target = await startSleeper(t);
    const dir = tempDir(t);

    const help = hotpath(['help', 'record']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^hotpath record \[options\] --pid PID/);

    const dump = hotpath(['d', '-p', `0x${target.pid.toString(16)}`, '--full-filenames', '--nonblocking']);
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, new RegExp(`^Process ${target.pid}:`));
    assert.match(dump.stdout, /nap_forever \(.*sleeper\.py:8\)/);

    const output = path.join(dir, 'out.json');
    const record = hotpath(['r', '-p', String(target.pid), '-d', '0.3', '--idle', '-f', 'SpeedScope', '-o', output]);
    assert.equal(record.status, 0, record.stderr);
    assert.equal((JSON.parse(fs.readFileSync(output, 'utf8')) as SpeedscopeFile).exporter, 'hotpath');

    const top = hotpath(['t', '-p', String(target.pid), '-d', '0.5', '--idle', '--delay', '0.2', '--full-filenames']);
    assert.equal(top.status, 0, top.stderr);
    assert.ok(top.stdout.includes(`nap_forever (${path.join(targets, 'sleeper.py')})`), top.stdout);

    const shared = hotpath(['re', '--help']);
    assert.match(shared.stdout, /^hotpath record /, "re could be record or report: py-spy's command wins");
    const unknown = hotpath(['zz', '-p', String(target.pid)]);
    assert.equal(unknown.status, EXIT_CODES.usage.code);
    assert.match(unknown.stderr, /^hotpath: unknown command "zz"/);
  },
);

test('speedscope has one entry per sample, as py-spy writes it', { skip: noPython }, async (t) => {
  const target = await startSleeper(t);
  const output = path.join(tempDir(t), 'sleep.json');
  const run = hotpath([
    'record',
    '-p',
    String(target.pid),
    '-d',
    '0.5',
    '--idle',
    '--format',
    'speedscope',
    '-o',
    output,
  ]);
  assert.equal(run.status, 0, run.stderr);
  const taken = Number(/(\d+) samples from/.exec(run.stderr)![1]);
  const file = JSON.parse(fs.readFileSync(output, 'utf8')) as SpeedscopeFile;
  const [profile] = file.profiles as SpeedscopeSampledProfile[];
  assert.equal(file.profiles.length, 1);
  assert.ok(taken >= 2);
  assert.equal(profile!.samples.length, taken, 'entries counted one by one equal the samples taken');
  const leaves = profile!.samples.map((stack) => file.shared.frames[stack.at(-1)!]!);
  assert.ok(leaves.every((frame) => frame.name === 'nap_forever' && frame.line === 8));
  assert.ok(
    profile!.weights.every((weight) => weight === 10),
    'each weighs one 100 Hz interval, in ms',
  );
});

test(
  "speedscope as py-spy's integration tests read it: frames with name/file/line/col, threads named in quotes",
  {
    skip: noPython,
  },
  async (t) => {
    const target = await spawnTarget(python!.executable, [path.join(targets, 'named_threads.py')], { owner: t });
    const output = path.join(tempDir(t), 'threads.json');
    const run = hotpath(
      ['record', '-p', String(target.pid), '-d', '0.5', '--threads', '--idle', '-f', 'speedscope'].concat([
        '-o',
        output,
      ]),
    );
    assert.equal(run.status, 0, run.stderr);
    const file = JSON.parse(fs.readFileSync(output, 'utf8')) as SpeedscopeFile;
    assert.ok(file.shared.frames.every((frame) => Object.keys(frame).sort().join() === 'col,file,line,name'));
    const names = file.profiles.map((profile) => /^Process (\d+) Thread \d+ "(.*)"$/.exec(profile.name)?.slice(1));
    assert.deepEqual(names.map((match) => match?.[1]).sort(), ['MainThread', 'Renamed-0', 'Renamed-1', 'Renamed-2']);
    assert.ok(names.every((match) => match?.[0] === String(target.pid)));
  },
);

test(
  '--nolineno: one frame per function, labelled without a line; -F keeps its first line',
  { skip: noPython },
  async (t) => {
    const target = await startSleeper(t);
    const dir = tempDir(t);
    const collapsed = (flag: string): string => {
      const output = path.join(dir, `${flag}.txt`);
      const run = hotpath(['record', '-p', String(target.pid), '-d', '0.3', '--idle', flag, '-f', 'raw', '-o', output]);
      assert.equal(run.status, 0, run.stderr);
      return fs.readFileSync(output, 'utf8');
    };
    const file = path.join(targets, 'sleeper.py');
    assert.match(collapsed('--nolineno'), new RegExp(`^<module> \\(${file}\\);nap_forever \\(${file}\\) \\d+\\n$`));
    assert.match(collapsed('-F'), new RegExp(`^<module> \\(${file}:1\\);nap_forever \\(${file}:6\\) \\d+\\n$`));
  },
);

test('record -s -- a launcher script: the Python process it starts is followed', { skip: noPython }, async (t) => {
  const dir = tempDir(t);
  const pidFile = path.join(dir, 'child.pid');
  t.after(() => {
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    if (pid > 0) spawnSync('kill', ['-9', String(pid)]);
  });
  const output = path.join(dir, 'launched.txt');
  const script = `${python!.executable} ${path.join(targets, 'launched_child.py')} ${pidFile}; true`;
  const run = hotpath(['record', '-s', '-d', '1', '-f', 'raw', '-o', output, '--', 'bash', '-c', script]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(fs.readFileSync(output, 'utf8'), /spin_while_parent_lives \(.*launched_child\.py:\d+\) \d+/);
});

test(
  'dump: threads renamed after start, the main thread first in text, "locals": null in JSON',
  { skip: noPython },
  async (t) => {
    const target = await spawnTarget(python!.executable, [path.join(targets, 'named_threads.py')], { owner: t });
    const text = hotpath(['dump', '-p', String(target.pid)]);
    assert.equal(text.status, 0, text.stderr);
    const names = [...text.stdout.matchAll(/^Thread \d+ \(\w+(?:\+gil)?\): "(.*)"$/gm)].map((m) => m[1]);
    assert.deepEqual(names, ['MainThread', 'Renamed-0', 'Renamed-1', 'Renamed-2']);
    const json = hotpath(['dump', '-p', String(target.pid), '--json']);
    const threads = JSON.parse(json.stdout) as { thread_name: string; frames: { locals: unknown }[] }[];
    assert.deepEqual(threads.map((thread) => thread.thread_name).sort(), [
      'MainThread',
      'Renamed-0',
      'Renamed-1',
      'Renamed-2',
    ]);
    assert.ok(threads.every((thread) => thread.frames.every((frame) => frame.locals === null)));
  },
);

test('a command that cannot start: one line, exit 2, no stack trace', () => {
  const run = hotpath(['record', '-d', '1', '-o', path.join(os.tmpdir(), 'never.svg'), '--', '/nonexistent/python3']);
  assert.equal(run.status, EXIT_CODES.usage.code);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /^hotpath: error: cannot start \/nonexistent\/python3: ENOENT/);
});

test(
  "py-spy's --capture hides the launched program's output; --hideprogress and dump --core are understood",
  {
    skip: noPython,
  },
  (t) => {
    // Split so that the command line hotpath echoes ("following process …") does not hold the output.
    const script = 'import time\nprint("OUTPUT OF" + " THE PROGRAM", flush=True)\ntime.sleep(0.2)';
    const launch = (...flags: string[]) =>
      hotpath(
        ['record', '-d', '5', ...flags, '-f', 'raw', '-o', path.join(tempDir(t), 'out.txt')].concat([
          '--',
          python!.executable,
          '-c',
          script,
        ]),
      );
    const shown = launch();
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /OUTPUT OF THE PROGRAM/);
    const captured = launch('--capture', '--hideprogress');
    assert.equal(captured.status, 0, captured.stderr);
    assert.doesNotMatch(captured.stdout + captured.stderr, /OUTPUT OF THE PROGRAM/);
    const core = hotpath(['dump', '--core', 'core.1234']);
    assert.equal(core.status, EXIT_CODES['not-supported'].code);
    assert.match(core.stderr, /^hotpath: error: dump --core \(a core dump\) is not supported/);
  },
);

test('collapsed stacks piped in as to flamegraph.pl (convert -), and -o - refused rather than written to a file "-"', (t) => {
  const dir = tempDir(t);
  const output = path.join(dir, 'piped.svg');
  const stacks = '<module> (app.py:9);handler (app.py:5) 3\n<module> (app.py:9);other (app.py:2) 1\n';
  const run = hotpath(['convert', '-', '-o', output], stacks);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /\(4 samples\)/);
  assert.match(fs.readFileSync(output, 'utf8'), /handler \(app\.py:5\)/);
  const dash = spawnSync(process.execPath, [hotpathBin, 'convert', output, '-f', 'raw', '-o', '-'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(dash.status, EXIT_CODES.usage.code);
  assert.match(dash.stderr, /^hotpath: error: hotpath writes its output to a file, not to stdout/);
  assert.equal(fs.existsSync(path.join(dir, '-')), false);
});

/** test/targets/pyspy/local_vars.py's frame, as py-spy's test_local_vars expects it, then the values hotpath decides. */
const LOCAL_VARS: [name: string, repr: string | RegExp][] = [
  ['arg1', '"foo"'],
  ['arg2', 'None'],
  ['arg3', 'True'],
  ['local1', '[-1234, 5678]'],
  ['local2', '("a", "b", "c")'],
  ['local3', '123456789123456789'],
  ['local4', '3.1415'],
  ['local5', '{"a": False, "b": (1, 2, 3)}'],
  ['long_tuple', `("${'-'.repeat(115)}", ...)`],
  ['unicode_text', `"${'测试1'.repeat(41)}..."`],
  ['empty', '""'],
  ['big', '1180591620717411303424'],
  ['negative_big', '-1000000000000000000000000000000'],
  ['huge', '+bigint'],
  ['many', `[${Array.from({ length: 32 }, (_, i) => i).join(', ')}, ...]`],
  ['wide', `{${Array.from({ length: 14 }, (_, i) => `${i}: "${i}"`).join(', ')}, ...}`],
  ['whole_float', '3.0'],
  ['tiny_float', '1.5e-07'],
  ['single', '(7,)'],
  ['quoted', '"it\'s \\"quoted\\"\\n"'],
  ['numbers', /^<set at 0x[0-9a-f]+>$/],
  ['raw', /^<bytes at 0x[0-9a-f]+>$/],
  ['nested', `${'['.repeat(20)}1${']'.repeat(20)}`],
];
const ARGUMENTS = 3;

for (const venv of listPythons().filter((p) => p.kind === 'pyenv')) {
  test(`dump --locals shows py-spy's local_vars values on ${venv.label} (${venv.fullVersion})`, async (t) => {
    const target = await spawnTarget(venv.executable, [path.join(targets, 'local_vars.py')], { owner: t });
    const json = hotpath(['dump', '-p', String(target.pid), '--locals', '--json']);
    assert.equal(json.status, 0, json.stderr);
    const [thread] = JSON.parse(json.stdout) as DumpedThread[];
    const frame = thread!.frames.find((f) => f.name === 'inspect_me');
    assert.ok(frame?.locals, json.stdout);
    assert.deepEqual(
      frame.locals.map((local) => local.name),
      LOCAL_VARS.map(([name]) => name),
    );
    frame.locals.forEach((local, i) => {
      const expected = LOCAL_VARS[i]![1];
      if (typeof expected === 'string') assert.equal(local.repr, expected, local.name);
      else assert.match(local.repr, expected, local.name);
      assert.equal(local.arg, i < ARGUMENTS, local.name);
      if (local.repr.startsWith('<')) assert.ok(local.repr.endsWith(` at 0x${local.addr.toString(16)}>`));
    });

    const text = hotpath(['dump', '-p', String(target.pid), '--locals']);
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.split('\n');
    const start = lines.findIndex((line) => /^ {4}inspect_me \(.*local_vars\.py:\d+\)$/.test(line));
    const end = lines.findIndex((line, i) => i > start && /^ {4}\S/.test(line));
    const entry = (local: { name: string; repr: string }) => `            ${local.name}: ${local.repr}`;
    assert.deepEqual(lines.slice(start + 1, end), [
      '        Arguments:',
      ...frame.locals.slice(0, ARGUMENTS).map(entry),
      '        Locals:',
      ...frame.locals.slice(ARGUMENTS).map(entry),
    ]);
  });
}
