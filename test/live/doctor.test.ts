// `hotpath doctor` against real processes: a Python it can profile (also one in its own PID and mount namespace),
// a process that is not Python, a pid that does not exist (also as seen from inside a PID namespace), and a root
// Python checked by an unprivileged user, where it must say what to do.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import type { Finding } from '../../src/cli/doctor.js';
import { readDescendants } from '../../src/proc/index.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';

const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const target = path.join(repoRoot, 'test/targets/recording-target.py');
const python = listPythons().find((p) => p.label === '3.12') ?? listPythons()[0];
const isRoot = process.getuid?.() === 0;
const has = (tool: string): boolean => spawnSync(tool, ['--version']).status === 0;
/** Above Linux's pid_max: never a live process. */
const NO_SUCH_PID = 2 ** 22 + 1;

interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDoctor(args: string[], prefix: string[] = [], bin = hotpathBin): DoctorRun {
  const command = [...prefix, process.execPath, bin, 'doctor', ...args];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function findings(run: DoctorRun): Map<string, Finding> {
  return new Map((JSON.parse(run.stdout) as Finding[]).map((f) => [f.check, f]));
}

async function startPython(t: TestContext, prefix: string[] = []) {
  return spawnTarget(
    prefix[0] ?? python!.executable,
    [...prefix.slice(1), ...(prefix.length ? [python!.executable] : []), target],
    {
      owner: t,
    },
  );
}

test('a live Python: every check is ok and doctor exits 0', { skip: !python && 'no venvs' }, async (t) => {
  const live = await startPython(t);
  const json = runDoctor(['--pid', String(live.pid), '--json']);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  const byCheck = findings(json);
  assert.deepEqual(
    [...byCheck.values()].filter((f) => f.status === 'fail'),
    [],
  );
  for (const check of ['memory access', 'python runtime', 'version', 'threads']) {
    assert.equal(byCheck.get(check)?.status, 'ok', check);
  }
  assert.match(
    byCheck.get('python runtime')!.detail,
    /found by its (_PyRuntime symbol|\.PyRuntime section) in \/.*python/,
  );
  assert.match(
    byCheck.get('version')!.detail,
    new RegExp(`Python ${python!.fullVersion.replace(/\./g, '\\.')}: supported`),
  );
  assert.match(byCheck.get('threads')!.detail, /read 3 thread\(s\)/);
  const text = runDoctor(['--pid', String(live.pid)]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^hotpath doctor: pid \d+ \(\S*python /m);
  assert.match(text.stdout, /^Nothing stops hotpath from profiling pid \d+\.$/m);
  assert.doesNotMatch(text.stdout, /FAIL/);
});

test('a Python in its own PID and mount namespace is found and read through them', async (t) => {
  if (!python) return t.skip('no venvs');
  if (!isRoot || !has('unshare')) return t.skip('needs root and unshare');
  const contained = await startPython(t, ['unshare', '--pid', '--fork', '--mount', '--mount-proc']);
  assert.match(contained.readyLine, /"pid": 1\b/);
  const [pythonPid] = readDescendants(contained.pid);
  const byCheck = findings(runDoctor(['--pid', String(pythonPid), '--json']));
  assert.match(
    byCheck.get('pid namespace')!.detail,
    new RegExp(`pid ${pythonPid} is pid 1 inside its own PID namespace`),
  );
  assert.match(byCheck.get('mount namespace')!.detail, new RegExp(`through /proc/${pythonPid}/root`));
  assert.equal(byCheck.get('threads')?.status, 'ok');
});

test('a process that is not Python: exit code of not-python and what to give instead', () => {
  const run = runDoctor(['--pid', String(process.pid)]);
  assert.equal(run.code, EXIT_CODES['not-python'].code, run.stdout);
  assert.match(run.stdout, /FAIL {2}python runtime +pid \d+ is not a Python process/);
  assert.match(run.stdout, /fix: give the pid of a Python process \(pgrep -f gunicorn\)/);
  assert.match(run.stdout, /until the first FAIL above is fixed/);
});

test('no such pid: exit code of no-such-process', () => {
  const run = runDoctor(['--pid', String(NO_SUCH_PID)]);
  assert.equal(run.code, EXIT_CODES['no-such-process'].code, run.stdout);
  assert.match(run.stdout, new RegExp(`FAIL {2}process +no process with pid ${NO_SUCH_PID}`));
});

test('from inside a PID namespace, a host process is out of sight: says how to share the namespace', async (t) => {
  if (!python) return t.skip('no venvs');
  if (!isRoot || !has('unshare')) return t.skip('needs root and unshare');
  const live = await startPython(t);
  const run = runDoctor(['--pid', String(live.pid)], ['unshare', '--pid', '--fork', '--mount-proc']);
  assert.equal(run.code, EXIT_CODES['no-such-process'].code, run.stdout + run.stderr);
  assert.match(run.stdout, /in the PID namespace hotpath runs in \(a container\)/);
  assert.match(run.stdout, /docker run --pid=container:NAME/);
  assert.match(run.stdout, /shareProcessNamespace: true/);
});

test("an unprivileged user checking root's Python: permission denied, and to run as root", async (t) => {
  if (!python) return t.skip('no venvs');
  if (!isRoot || !has('setpriv')) return t.skip('needs root and setpriv to switch to uid 65534');
  const bin = copyBuildForAnyone(t);
  const live = await startPython(t);
  const run = runDoctor(
    ['--pid', String(live.pid)],
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    bin,
  );
  assert.equal(run.code, EXIT_CODES['permission-denied'].code, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`FAIL {2}user +pid ${live.pid} runs as uid 0 and hotpath as uid 65534`));
  assert.match(run.stdout, /fix: run hotpath as root: sudo hotpath/);
  assert.match(run.stdout, /FAIL {2}memory access +cannot read \/proc\/\d+\/maps: EACCES/);
  assert.match(run.stdout, /skip {2}python runtime +needs read access to the process first/);
});

/** A copy of the build that uid 65534 can read, wherever the work tree is. Returns its bin/hotpath.js. */
function copyBuildForAnyone(t: TestContext): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-doctor-'));
  t.after(() => fs.rmSync(copy, { recursive: true, force: true }));
  fs.cpSync(path.join(repoRoot, 'bin'), path.join(copy, 'bin'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'dist/src'), path.join(copy, 'dist/src'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(copy, 'package.json'));
  spawnSync('chmod', ['-R', 'a+rX', copy]);
  return path.join(copy, 'bin/hotpath.js');
}
