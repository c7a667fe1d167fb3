// `hotpath agent` against a Pyroscope ingest endpoint run in the test process (test/support/pyroscope-receiver.ts;
// Grafana Pyroscope itself has no npm, PyPI or Debian package): real targets (known.py, a Flask app on Gunicorn),
// real uploads decoded. The profiles hold the target's functions, files and labels; intervals tile; the name,
// tags and credentials arrive, from options or Pyroscope's environment variables; a failing or absent server
// does not stop sampling and loses nothing while the queue has room; Ctrl-C sends the last interval and exits 0.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { LINE, UNICODE_NAME, knownPy, type ReadyInfo } from '../support/known-script.js';
import type { PprofFrame } from '../support/pprof-decoder.js';
import { startPyroscopeReceiver, type ReceivedUpload } from '../support/pyroscope-receiver.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';
import { driveLoad, findFreePort, startGunicorn, venvRunner } from '../support/web-servers.js';

const python =
  listPythons().find((p) => p.label === '3.12') ??
  listPythons()
    .filter((p) => p.kind === 'pyenv')
    .at(-1);
const skip = !python && 'no setup venvs: run bash scripts/setup.sh';

interface RunningAgent {
  /** Lines hotpath wrote to stderr so far. */
  readonly stderr: string[];
  waitForLine(pattern: RegExp): Promise<string>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `hotpath agent ARGS` with only `env`'s PYROSCOPE_* variables; resolves once it samples. */
async function startAgent(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<RunningAgent> {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PYROSCOPE_')));
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/hotpath.js'), 'agent', ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    for (const listener of listeners) listener();
  });
  const waitForLine = (pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = stderr.find((text) => pattern.test(text));
        if (line === undefined) return;
        listeners.delete(check);
        resolve(line);
      };
      listeners.add(check);
      check();
      void exited.then((code) => reject(new Error(`agent exited (${code}) before ${pattern}:\n${stderr.join('\n')}`)));
    });
  await waitForLine(/^hotpath: sampling /);
  return {
    stderr,
    waitForLine,
    async stop(signal = 'SIGINT') {
      child.kill(signal);
      return exited;
    },
  };
}

async function startKnownTarget(t: TestContext): Promise<{ pid: number; ready: ReadyInfo }> {
  const target = await spawnTarget(python!.executable, [knownPy], { owner: t });
  return { pid: target.pid, ready: JSON.parse(target.readyLine.slice('READY '.length)) as ReadyInfo };
}

const byFrom = (uploads: ReceivedUpload[]): ReceivedUpload[] => [...uploads].sort((a, b) => a.from - b.from);
const samplesOf = (uploads: ReceivedUpload[]) => uploads.flatMap((upload) => upload.profile.samples);

/** Each upload's [from, until) starts where the one before ended, in whole seconds of at most `intervalSec`. */
function assertTiled(uploads: ReceivedUpload[], intervalSec: number): void {
  const ranges = byFrom(uploads).map((u) => [u.from, u.until]);
  const text = JSON.stringify(ranges);
  ranges.forEach(([from, until], i) => {
    assert.ok(until! > from! && until! - from! <= intervalSec, `range ${i} of ${text}`);
    if (i > 0) assert.equal(from, ranges[i - 1]![1], `gap or overlap before range ${i} of ${text}`);
  });
}

/** The known.py facts every upload must show: its functions in its file on their lines, its pid and threads. */
function assertKnownProfile(uploads: ReceivedUpload[], target: { pid: number }): void {
  const samples = samplesOf(uploads);
  assert.ok(samples.length > 0, 'uploads carry samples');
  const frames = samples.flatMap((sample) => sample.frames);
  const named = (name: string): PprofFrame[] => frames.filter((frame) => frame.name === name);
  for (const name of ['<module>', 'main', 'recurse', UNICODE_NAME, 'work_a', 'work_b']) {
    assert.ok(named(name).length > 0, `${name} is in the uploads`);
    for (const frame of named(name)) assert.equal(frame.file, knownPy, `${name}'s file`);
  }
  for (const frame of named('work_b')) assert.ok([LINE.work_b, LINE.work_b! - 1].includes(frame.line), `${frame.line}`);
  for (const frame of named('recurse'))
    assert.ok([LINE.recurse_call, LINE.recurse_bottom].includes(frame.line), `recurse at ${frame.line}`);
  for (const sample of samples) {
    assert.equal(sample.labels.pid, String(target.pid));
    assert.equal(sample.labels.thread, 'MainThread', 'only the busy thread without --idle');
    assert.ok(!('tid' in sample.labels));
  }
  for (const upload of uploads) {
    const { profile, from, until } = upload;
    assert.deepEqual(profile.sampleTypes, ['samples/count', 'cpu/nanoseconds']);
    assert.equal(profile.periodNanos, 10_000_000, '100 Hz');
    assert.equal(profile.timeNanos, BigInt(from) * 1_000_000_000n);
    assert.equal(profile.durationNanos, (until - from) * 1_000_000_000);
    for (const sample of profile.samples) assert.equal(sample.values[1], sample.values[0]! * profile.periodNanos);
  }
}

test(
  'known.py: functions, files, lines and labels; tiled intervals; name, tags and token; Ctrl-C sends the rest',
  { skip },
  async (t) => {
    const receiver = await startPyroscopeReceiver(t);
    const target = await startKnownTarget(t);
    const agent = await startAgent(t, [
      ...['--server', `${receiver.url}/`, '--app-name', 'hotpath.test', '--tag', 'env=ci', '--tag', 'host=box-1'],
      ...['--upload-interval', '1', '--auth-token', 'tok-123', '--tenant-id', 'team-a', '-r', '100'],
      ...['--pid', String(target.pid)],
    ]);
    await receiver.waitFor('3 uploads', (uploads) => uploads.length >= 3);
    const interruptedAt = Date.now();
    assert.equal(await agent.stop('SIGINT'), 0, agent.stderr.join('\n'));
    const uploads = receiver.uploads;
    assert.deepEqual(receiver.malformed, []);
    for (const upload of uploads) {
      assert.equal(upload.name, 'hotpath.test{env=ci,host=box-1}');
      assert.deepEqual([upload.app, upload.tags], ['hotpath.test', { env: 'ci', host: 'box-1' }]);
      const { sampleRate, spyName, units, aggregationType } = upload.query;
      assert.deepEqual(
        { sampleRate, spyName, units, aggregationType },
        {
          sampleRate: '100',
          spyName: 'pyspy',
          units: 'samples',
          aggregationType: 'sum',
        },
      );
      assert.equal(upload.headers.authorization, 'Bearer tok-123');
      assert.equal(upload.headers['x-scope-orgid'], 'team-a');
    }
    assertTiled(uploads, 1);
    assertKnownProfile(uploads, target);
    const last = byFrom(uploads).at(-1)!;
    assert.ok(last.receivedAt >= interruptedAt, 'the last interval was sent after Ctrl-C');
    assert.ok(last.until * 1000 >= interruptedAt, `the last interval reaches the interruption (${last.until})`);
    assert.equal(agent.stderr.at(-1), `hotpath: sent ${uploads.length} interval(s) to Pyroscope`);
  },
);

test('a Flask app on Gunicorn: samples carry their endpoint, the worker pid and the handler', { skip }, async (t) => {
  const receiver = await startPyroscopeReceiver(t);
  const server = await startGunicorn(venvRunner(python!), { app: 'flask_app:app', workers: 1 }, t);
  const agent = await startAgent(t, [
    ...['--server', receiver.url, '--app-name', 'shop', '--upload-interval', '1'],
    ...['-s', '--pid', String(server.rootPid)],
  ]);
  const endpointsSeen = (uploads: ReceivedUpload[]) => new Set(samplesOf(uploads).map((s) => s.labels.endpoint));
  const wanted = ['GET /heavy', 'GET /users/<int:user_id>'];
  const labelled = receiver.waitFor('uploads with both endpoints', (uploads) =>
    wanted.every((endpoint) => endpointsSeen(uploads).has(endpoint)),
  );
  let done = false;
  void labelled.finally(() => (done = true)).catch(() => {});
  while (!done) await driveLoad(server.baseUrl, ['/heavy', '/users/7'], 3);
  await labelled;
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr.join('\n'));
  const samples = samplesOf(receiver.uploads);
  const heavy = samples.filter((s) => s.labels.endpoint === 'GET /heavy');
  assert.ok(
    heavy.some((s) => s.frames.some((f) => f.name === 'crunch_heavy' && f.file.endsWith('/workload.py'))),
    "GET /heavy's samples hold its handler's work",
  );
  assert.ok(
    heavy.every((s) => server.workerPids.includes(Number(s.labels.pid))),
    'the worker is the pid label',
  );
  assert.ok(!endpointsSeen(receiver.uploads).has('GET /users/7'), 'the route, not the raw path');
  assertTiled(receiver.uploads, 1);
});

test(
  'a server answering 500: sampling goes on, one log line, the failed interval arrives later; env settings',
  { skip },
  async (t) => {
    const receiver = await startPyroscopeReceiver(t);
    const failures = 3;
    receiver.answer = (index) => (index < failures ? 500 : 200);
    const target = await startKnownTarget(t);
    const agent = await startAgent(t, ['--upload-interval', '1', '--pid', String(target.pid)], {
      PYROSCOPE_SERVER_ADDRESS: receiver.url,
      PYROSCOPE_APPLICATION_NAME: 'env.app',
      PYROSCOPE_LABELS: 'team=core,zone=b',
      PYROSCOPE_BASIC_AUTH_USER: '12345',
      PYROSCOPE_BASIC_AUTH_PASSWORD: 'glc_secret',
      PYROSCOPE_TENANT_ID: 'tenant-7',
    });
    await receiver.waitFor('3 accepted uploads after the failures', () => receiver.accepted().length >= 3);
    await agent.waitForLine(/uploads go through again/);
    assert.equal(await agent.stop('SIGINT'), 0, agent.stderr.join('\n'));
    const failed = receiver.uploads.slice(0, failures);
    assert.ok(
      failed.every((upload) => upload.from === failed[0]!.from),
      'the same interval was retried',
    );
    const accepted = receiver.accepted();
    assert.equal(byFrom(accepted)[0]!.from, failed[0]!.from, 'the interval that failed was delivered after all');
    assertTiled(accepted, 1);
    assertKnownProfile(accepted, target);
    const failureLines = agent.stderr.filter((line) => /upload failed/.test(line));
    assert.equal(failureLines.length, 1, agent.stderr.join('\n'));
    assert.match(failureLines[0]!, /HTTP 500.*the test server says no.*sampling goes on/);
    for (const upload of receiver.uploads) {
      assert.equal(upload.name, 'env.app{team=core,zone=b}');
      assert.equal(upload.headers.authorization, `Basic ${Buffer.from('12345:glc_secret').toString('base64')}`);
      assert.equal(upload.headers['x-scope-orgid'], 'tenant-7');
    }
    assert.ok(!agent.stderr.join('\n').includes('glc_secret'), 'the password is never logged');
  },
);

test(
  'no server listening: the agent keeps sampling and delivers the queued intervals once it comes up',
  { skip },
  async (t) => {
    const port = await findFreePort();
    const target = await startKnownTarget(t);
    const agent = await startAgent(t, [
      ...['--server', `http://127.0.0.1:${port}`, '--app-name', 'late', '--upload-interval', '1'],
      ...['--pid', String(target.pid)],
    ]);
    await agent.waitForLine(/cannot reach the server/);
    const receiver = await startPyroscopeReceiver(t, port);
    const upAt = Date.now();
    await receiver.waitFor('an interval sampled after the server came up', (uploads) =>
      uploads.some((upload) => upload.from * 1000 > upAt),
    );
    await agent.waitForLine(/uploads go through again/);
    assert.equal(await agent.stop('SIGINT'), 0, agent.stderr.join('\n'));
    const uploads = receiver.uploads;
    assert.ok(byFrom(uploads)[0]!.until * 1000 <= upAt, 'intervals from before the server came up were kept');
    assertTiled(uploads, 1);
    assertKnownProfile(uploads, target);
    assert.equal(
      agent.stderr.filter((line) => /cannot reach the server/.test(line)).length,
      1,
      agent.stderr.join('\n'),
    );
  },
);
