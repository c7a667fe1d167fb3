// hotpath against uWSGI on 127.0.0.1 driven by real HTTP requests: a C server embedding CPython, whose master
// forks its workers from C and calls the WSGI app from C. The Flask test app on two uWSGI builds: pip's (compiled
// against pyenv's 3.12 by scripts/setup.sh) and Debian's uwsgi-core with its python3 plugin on Debian's 3.11.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PythonProcess } from '../../src/cpython/index.js';
import { dumpProcess } from '../../src/cli/dump.js';
import { loadProfile } from '../../src/export/load-profile.js';
import { processIsGone, readDescendants, readThreadIds } from '../../src/proc/index.js';
import { endpointLabel, functionFile, functionName, stackFrames, type Profile } from '../../src/profile/index.js';
import { listPythons, repoRoot, venvsRoot } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';
import { driveLoad, startRecording, webTargetsDir, type WebServer } from '../support/web-servers.js';
import { assertHeavyShareOf } from '../support/workload-share.js';

const RATE = ['-r', '250'];
/** The view function of each route in test/targets/web/flask_app.py. */
const VIEWS: Record<string, string> = {
  'GET /heavy': 'heavy',
  'GET /light': 'light',
  'GET /users/<int:user_id>': 'user',
  'GET /marked': 'marked',
};
const hotpathBin = join(repoRoot, 'bin', 'hotpath.js');
/** A first start compiles every framework module to bytecode, slow on a busy 2-core machine. Not a sleep. */
const STARTUP_TIMEOUT_MS = 90_000;

interface UwsgiBuild {
  name: string;
  command: string;
  /** Loads the Python plugin (Debian) and puts Flask on the path. */
  args: string[];
  skip?: string;
}

/** pip's uWSGI, compiled against pyenv's CPython by setup into .cache/venvs/uwsgi-<minor>. */
function pipBuild(): UwsgiBuild {
  const venv = join(venvsRoot, 'uwsgi-3.12');
  const uwsgi = join(venv, 'bin', 'uwsgi');
  if (!existsSync(uwsgi)) return { name: "pip's uWSGI", command: uwsgi, args: [], skip: 'no uWSGI venv: run setup' };
  const pythonVersion = readFileSync(join(venv, '.hotpath-complete'), 'utf8').trim();
  return {
    name: `uWSGI ${uwsgiVersion(uwsgi)} from pip on Python ${pythonVersion}`,
    command: uwsgi,
    args: ['--virtualenv', realpathSync(venv)],
  };
}

/** Debian's uwsgi-core and python3 plugin (linked against libpython3.X), on the system venv of that Python. */
function debianBuild(): UwsgiBuild {
  const uwsgi = '/usr/bin/uwsgi-core';
  const plugin = '/usr/lib/uwsgi/plugins/python3_plugin.so';
  const name = "Debian's uWSGI";
  if (!existsSync(uwsgi) || !existsSync(plugin)) return { name, command: uwsgi, args: [], skip: 'run setup' };
  const minor = /^python3(\d+)_plugin\.so$/.exec(basename(realpathSync(plugin)))?.[1];
  const system = listPythons().find((python) => python.kind === 'debian' && python.version === `3.${minor}`);
  if (!system) return { name, command: uwsgi, args: [], skip: `no system venv of Python 3.${minor}: run setup` };
  const sitePackages = join(realpathSync(join(system.binDir, '..')), 'lib', `python${system.version}`, 'site-packages');
  return {
    name: `${name} ${uwsgiVersion(uwsgi)} with its python3 plugin on Python ${system.fullVersion}`,
    command: uwsgi,
    args: ['--plugin', 'python3', '--pythonpath', sitePackages],
  };
}

function uwsgiVersion(uwsgi: string): string {
  return execFileSync(uwsgi, ['--version'], { encoding: 'utf8' }).trim();
}

interface UwsgiOptions {
  processes: number;
  /** --enable-threads --threads N. */
  threads?: number;
  maxRequests?: number;
  /** Mount a second copy of the Flask app at /sub, which uWSGI runs in a sub-interpreter of its own. */
  subInterpreter?: boolean;
}

interface UwsgiServer extends WebServer {
  /** Every worker announced so far (respawned ones too), in order. */
  announcedWorkers(): Promise<number[]>;
  /** SIGINT to the master (and its workers), as uWSGI wants to be stopped; resolves once the master exited. */
  stop(): Promise<void>;
}

/**
 * Starts `uwsgi --master --processes N` on a free loopback port with test/targets/web/uwsgi_app.py, which prints
 * READY port=<port> pid=<master> and WORKER pid=<pid> for each worker. Stopped when `t` ends.
 */
async function startUwsgi(build: UwsgiBuild, options: UwsgiOptions, t: TestContext): Promise<UwsgiServer> {
  const args = [...build.args, '--master', '--processes', String(options.processes), '--http-socket', '127.0.0.1:0'];
  // Plain --http-socket closes each connection: say so, or a keep-alive client reuses a closed socket.
  args.push('--add-header', 'Connection: close', '--module', 'uwsgi_app', '--need-app', '--die-on-term');
  args.push('--disable-logging');
  if (options.subInterpreter) args.push('--mount', '/sub=flask_app:app', '--manage-script-name');
  if (options.threads) args.push('--enable-threads', '--threads', String(options.threads));
  // A worker is recycled only once it has lived --min-worker-lifetime seconds (10 or 60 by default).
  if (options.maxRequests) args.push('--max-requests', String(options.maxRequests), '--min-worker-lifetime', '0');
  const target = await spawnTarget(build.command, args, { cwd: webTargetsDir, timeoutMs: STARTUP_TIMEOUT_MS });
  const seen = new Set<number>([target.pid]);
  const stop = async () => {
    for (const pid of readDescendants(target.pid)) seen.add(pid);
    await target.stop({ signal: 'SIGINT', graceMs: 10_000 });
  };
  t.after(async () => {
    await stop();
    const survivors = [...seen].filter((pid) => !processIsGone(pid));
    assert.deepEqual(survivors, [], 'no uWSGI process outlives the test');
  });
  const ready = /^READY port=(\d+) pid=(\d+)$/.exec(target.readyLine);
  assert.ok(ready, `unexpected readiness line from uWSGI: ${target.readyLine}`);
  assert.equal(Number(ready[2]), target.pid, 'the app is loaded in the master');
  const workers: number[] = [];
  const announcedWorkers = async (): Promise<number[]> => {
    for (;;) {
      const line = await target.nextLine(0).catch(() => undefined);
      if (line === undefined) return [...workers];
      const worker = /^WORKER pid=(\d+)$/.exec(line);
      if (worker) workers.push(Number(worker[1]));
    }
  };
  while (workers.length < options.processes) {
    const line = await target.waitForLine((text) => text.startsWith('WORKER pid='));
    workers.push(Number(line.slice('WORKER pid='.length)));
  }
  workers.forEach((pid) => seen.add(pid));
  return {
    target,
    rootPid: target.pid,
    workerPids: [...workers],
    baseUrl: `http://127.0.0.1:${ready[1]}`,
    announcedWorkers,
    stop,
  };
}

/** Records `--pid PIDS` (plus `extraArgs`) while driving `paths` `rounds` times from two clients. */
async function recordUnderLoad(
  t: TestContext,
  server: WebServer,
  pids: number[],
  extraArgs: string[],
  paths: string[],
  rounds: number,
): Promise<{ profile: Profile; stderr: string }> {
  const recording = await startRecording([...RATE, ...extraArgs, '--pid', ...pids.map(String)], t);
  await driveLoad(server.baseUrl, paths, rounds);
  const { output, stderr, exitCode } = await recording.stop();
  assert.equal(exitCode, 0, stderr);
  return { profile: loadProfile(output), stderr };
}

interface SampleFacts {
  pid: number;
  tid: number;
  endpoint: string;
  /** Outermost first: function name and file. */
  frames: { name: string; file: string }[];
}

function samplesOf(profile: Profile): SampleFacts[] {
  return Array.from({ length: profile.samples.count }, (_, i) => {
    const thread = profile.threads[profile.samples.thread[i]!]!;
    const stack = profile.samples.stack[i]!;
    const frames = stack < 0 ? [] : stackFrames(profile, stack).map((frame) => profile.frames[frame]!.func);
    return {
      pid: thread.pid,
      tid: thread.tid,
      endpoint: endpointLabel(profile, profile.samples.endpoint[i]!),
      frames: frames.map((func) => ({ name: functionName(profile, func), file: functionFile(profile, func) })),
    };
  });
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** /heavy's share of the samples of /heavy and /light, whose CPU costs are 3:1. */
function assertHeavyShare(samples: readonly SampleFacts[]): void {
  const counts = countBy(samples, (sample) => sample.endpoint);
  const heavy = counts.get('GET /heavy') ?? 0;
  const light = counts.get('GET /light') ?? 0;
  const summary = JSON.stringify([...counts]);
  assert.ok(heavy + light >= 60, `too few request samples to judge shares: ${summary}`);
  assertHeavyShareOf(heavy, light, summary);
}

/**
 * What every uWSGI recording must show: requests served by every worker and never the master, each labelled
 * with its Flask route, its stack starting at the app callable uWSGI calls from C and ending in the app's code,
 * and no stack frozen at the fork (the master's threads copied into the workers) sampled as a worker thread.
 */
function assertWorkerSamples(samples: readonly SampleFacts[], server: WebServer, threads: Map<number, number[]>): void {
  const requests = samples.filter((sample) => sample.endpoint !== '(no request)');
  const pidsWithRequests = new Set(requests.map((sample) => sample.pid));
  for (const pid of server.workerPids) assert.ok(pidsWithRequests.has(pid), `worker ${pid} served sampled requests`);
  assert.ok(!pidsWithRequests.has(server.rootPid), 'the master serves no request');
  const labels = new Set(requests.map((sample) => sample.endpoint));
  assert.ok(labels.has('GET /users/<int:user_id>'), `Flask's rule is the label: ${[...labels].join(', ')}`);
  for (const sample of requests) {
    assert.equal(sample.frames[0]!.name, 'Flask.__call__', 'the outermost frame is the app uWSGI calls');
    assert.match(sample.frames[0]!.file, /\/flask\/app\.py$/);
  }
  const spinning = requests.filter((sample) => sample.frames.at(-1)!.name === '_spin');
  assert.ok(spinning.length >= requests.length * 0.8, `most request samples are in _spin: ${spinning.length}`);
  for (const sample of spinning) {
    assert.equal(sample.frames.at(-1)!.file, join(webTargetsDir, 'workload.py'));
    assert.equal(sample.frames.at(-3)!.file, join(webTargetsDir, 'flask_app.py'));
  }
  // About one sample in 3,000 showed a view under another request's label (not seen under Gunicorn): uWSGI reuses
  // one environ dict for every request of a worker. Copying the environ's version tag with each stack left none in
  // ~32,000 samples here, but a fresh-clone run on Debian's uWSGI still had 1 in 1,057, cause unknown. Tolerated
  // here, up to 1%.
  const mislabelled = spinning.filter((sample) => sample.frames.at(-3)!.name !== VIEWS[sample.endpoint]);
  assert.ok(
    mislabelled.length <= spinning.length / 100,
    `${mislabelled.length} of ${spinning.length} samples in a view of another label than theirs: ` +
      mislabelled.map((sample) => `${sample.frames.at(-3)!.name} as ${sample.endpoint}`).join(', '),
  );
  const workers = new Set(server.workerPids);
  for (const sample of samples.filter((s) => workers.has(s.pid))) {
    assert.ok(threads.get(sample.pid)?.includes(sample.tid), `thread ${sample.tid} is a thread of ${sample.pid}`);
    assert.ok(!sample.frames.some((frame) => frame.name === 'Condition.wait'), "no master thread's frozen stack");
  }
}

function threadsOf(pids: readonly number[]): Map<number, number[]> {
  return new Map(pids.map((pid) => [pid, readThreadIds(pid)]));
}

const builds = [pipBuild(), debianBuild()];
const paths = ['/heavy', '/light', '/users/7', '/users/8'];

for (const build of builds) {
  describe(`web apps on ${build.name}`, { timeout: 240_000, skip: build.skip }, () => {
    test('record -s --pid <master>: both workers, routes, shares, the app from its callable down', async (t) => {
      const server = await startUwsgi(build, { processes: 2 }, t);
      const { profile, stderr } = await recordUnderLoad(t, server, [server.rootPid], ['-s'], paths, 40);
      const samples = samplesOf(profile);
      assertWorkerSamples(samples, server, threadsOf(server.workerPids));
      assertHeavyShare(samples);
      assert.match(stderr, /GET \/heavy +_spin \(workload\.py\)/, 'the endpoint table lists /heavy');
      const followed = new Set(profile.processes.map((entry) => entry.pid));
      assert.deepEqual([...followed].sort(), [server.rootPid, ...server.workerPids].sort(), 'master and workers');
    });

    test('record --pid with every pid of the uWSGI tree (pgrep -f uwsgi), without -s', async (t) => {
      const server = await startUwsgi(build, { processes: 2 }, t);
      const pids = [server.rootPid, ...readDescendants(server.rootPid)];
      assert.deepEqual([...pids].sort(), [server.rootPid, ...server.workerPids].sort());
      const { profile } = await recordUnderLoad(t, server, pids, [], paths, 40);
      const samples = samplesOf(profile);
      assertWorkerSamples(samples, server, threadsOf(server.workerPids));
      assertHeavyShare(samples);
    });

    test('--enable-threads --threads 2: requests on both threads of each worker are labelled', async (t) => {
      const server = await startUwsgi(build, { processes: 2, threads: 2 }, t);
      const { profile } = await recordUnderLoad(t, server, [server.rootPid], ['-s'], paths, 40);
      const threads = threadsOf(server.workerPids);
      for (const [pid, tids] of threads) assert.equal(tids.length, 2, `worker ${pid} runs 2 threads`);
      const samples = samplesOf(profile);
      assertWorkerSamples(samples, server, threads);
      const requestThreads = new Set(samples.filter((s) => s.endpoint !== '(no request)').map((s) => s.tid));
      assert.equal(requestThreads.size, 4, `requests sampled on every thread: ${[...requestThreads].join(', ')}`);
      assertHeavyShare(samples);
    });

    test('an app in a sub-interpreter (--mount) is sampled and labelled beside the main one', async (t) => {
      const server = await startUwsgi(build, { processes: 2, subInterpreter: true }, t);
      const mixed = ['/sub/heavy', '/light', '/sub/users/7', '/users/8'];
      const { profile } = await recordUnderLoad(t, server, [server.rootPid], ['-s'], mixed, 40);
      const samples = samplesOf(profile);
      assertWorkerSamples(samples, server, threadsOf(server.workerPids));
      // /sub/heavy is served only by the sub-interpreter's app, /light only by the main one; their shares still
      // follow their costs. The label is the app's own route: the mount point is not part of it.
      assertHeavyShare(samples);
    });

    test('dump --pid <worker> shows the request it serves, its stack, and only its own threads', async (t) => {
      const server = await startUwsgi(build, { processes: 1 }, t);
      const workerPid = server.workerPids[0]!;
      const worker = PythonProcess.attach(workerPid);
      t.after(() => worker.close());
      const load = driveLoad(server.baseUrl, ['/marked'], 8, 1);
      let serving: ReturnType<typeof dumpProcess>[number] | undefined;
      for (let attempt = 0; attempt < 2000 && serving === undefined; attempt++) {
        serving = dumpProcess(worker).find((thread) => thread.frames.some((frame) => frame.name === '_spin'));
        if (attempt % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
      }
      await load;
      assert.ok(serving, 'a dump caught the worker in /marked');
      assert.equal(serving.request, 'GET /marked');
      const names = serving.frames.map((frame) => `${frame.name} (${basename(frame.filename)})`);
      assert.equal(names.at(-1), 'Flask.__call__ (app.py)', `the stack starts at the app callable: ${names}`);
      assert.ok(names.includes('marked (flask_app.py)'), names.join(', '));
      assert.ok(names.includes('crunch_marked (workload.py)'), names.join(', '));
      assert.equal(serving.os_thread_id, workerPid, "the worker's main thread serves it");

      // The master's cache-refresher thread, started while uWSGI loaded the app, was not copied by the fork.
      const json = execFileSync(process.execPath, [hotpathBin, 'dump', '--json', '--pid', String(workerPid)]);
      const threads = JSON.parse(json.toString('utf8')) as { os_thread_id: number; thread_name: string | null }[];
      const summary = JSON.stringify(threads);
      assert.deepEqual(
        threads.map((thread) => thread.os_thread_id),
        [workerPid],
        `one thread, the worker's: ${summary}`,
      );
      assert.match(threads[0]!.thread_name ?? '', /^uWSGIWorker1Core0$/, summary);
    });

    test('workers respawned after --max-requests are followed', async (t) => {
      const server = await startUwsgi(build, { processes: 1, maxRequests: 8 }, t);
      const recording = await startRecording([...RATE, '-s', '--pid', String(server.rootPid)], t);
      // /marked is the slowest endpoint: each worker lives long enough to be found and sampled.
      await driveLoad(server.baseUrl, ['/marked'], 24, 1);
      const { output, stderr, exitCode } = await recording.stop();
      assert.equal(exitCode, 0, stderr);
      const announced = await server.announcedWorkers();
      assert.ok(announced.length >= 3, `uWSGI respawned its worker: ${announced.join(', ')}`);
      const requests = samplesOf(loadProfile(output)).filter((sample) => sample.endpoint === 'GET /marked');
      const pidsWithRequests = new Set(requests.map((sample) => sample.pid));
      assert.ok(pidsWithRequests.has(announced[0]!), 'the first worker was sampled');
      assert.ok(
        [...pidsWithRequests].every((pid) => announced.includes(pid)),
        `requests only in announced workers: ${[...pidsWithRequests].join(', ')} of ${announced.join(', ')}`,
      );
      assert.ok(pidsWithRequests.size >= 3, `requests sampled in ${pidsWithRequests.size} workers: ${stderr}`);
    });
  });
}
