// `hotpath web` against real Python processes: the snapshot API carries known.py's exact stacks, functions and
// process; the page, downloads and -o work; it stops with Ctrl-C or when the targets exit; tokens and the Host
// check guard it; a Gunicorn app's endpoints and worker respawns show; and the page draws it in Chromium.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadProfile, importProfileData } from '../../src/export/index.js';
import { functionName } from '../../src/profile/index.js';
import type { Snapshot } from '../../src/web/index.js';
import type { DashboardApp } from '../../src/web/client/dashboard-app.js';
import { chromiumSkipReason, openBrowser } from '../support/browser.js';
import {
  LINE,
  UNICODE_NAME,
  checkMainStack,
  isMovedOnStack,
  knownPy,
  type Frame,
  type ReadyInfo,
} from '../support/known-script.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { spawnTarget, type SpawnedTarget } from '../support/spawn-target.js';
import { driveLoad, httpGet, startGunicorn, venvRunner } from '../support/web-servers.js';
import { tempDir } from '../support/temp-dir.js';

const hotpathBin = join(repoRoot, 'bin/hotpath.js');
const pythons = listPythons().filter((python) => python.kind === 'pyenv');
const python = pythons.at(-1);
const webPython = pythons.find((candidate) => candidate.version === '3.13');
const URL_LINE = 'hotpath web: open ';
const SNAPSHOT_DEADLINE_MS = 30_000;

interface Dashboard {
  process: SpawnedTarget;
  /** The URL printed, as printed. */
  url: URL;
  /** http://127.0.0.1:PORT, where every server in these tests can be reached. */
  base: string;
  token: string | null;
}

/** Starts `hotpath web ARGS` and waits for the URL it prints; its whole process group is killed after the test. */
async function startDashboard(t: TestContext, args: string[]): Promise<Dashboard> {
  const process = await spawnTarget(globalThis.process.execPath, [hotpathBin, 'web', '--rate', '200', ...args], {
    owner: t,
    readyPrefix: URL_LINE,
    readyAnywhere: true,
  });
  const url = new URL(process.readyLine.slice(process.readyLine.indexOf(URL_LINE) + URL_LINE.length));
  return { process, url, base: `http://127.0.0.1:${url.port}`, token: url.searchParams.get('token') };
}

async function startKnown(t: TestContext): Promise<{ target: SpawnedTarget; ready: ReadyInfo }> {
  const target = await spawnTarget(python!.executable, [knownPy], { owner: t });
  return { target, ready: JSON.parse(target.readyLine.slice('READY '.length)) as ReadyInfo };
}

/** Polls the snapshot API until `done` accepts a snapshot; fails with the last one after the deadline. */
async function waitForSnapshot(
  dashboard: Dashboard,
  done: (snapshot: Snapshot) => boolean,
  query = '',
): Promise<Snapshot> {
  const deadline = Date.now() + SNAPSHOT_DEADLINE_MS;
  const headers: Record<string, string> = dashboard.token ? { authorization: `Bearer ${dashboard.token}` } : {};
  for (;;) {
    const response = await fetch(`${dashboard.base}/api/snapshot${query}`, { headers });
    assert.equal(response.status, 200);
    const snapshot = (await response.json()) as Snapshot;
    if (done(snapshot)) return snapshot;
    if (Date.now() > deadline) assert.fail(`no such snapshot in time; the last: ${JSON.stringify(snapshot)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const hasFunctions =
  (...names: string[]) =>
  (snapshot: Snapshot): boolean =>
    names.every((name) => snapshot.functions.some((f) => f.name === name && f.own > 0));

/** The sampled stacks of a snapshot's flame graph (nodes with own samples), outermost frame first. */
function flameStacks(snapshot: Snapshot): Array<{ frames: Frame[]; samples: number }> {
  const { flame, functions } = snapshot;
  const childSamples = new Array<number>(flame.parent.length).fill(0);
  flame.parent.forEach((parent, node) => {
    if (parent >= 0) childSamples[parent] += flame.total[node]!;
  });
  const framesOf = (node: number): Frame[] =>
    node === 0
      ? []
      : [
          ...framesOf(flame.parent[node]!),
          {
            name: functions[flame.func[node]!]!.name,
            file: functions[flame.func[node]!]!.file,
            line: flame.line[node]!,
          },
        ];
  return flame.total
    .map((total, node) => ({ node, samples: total - childSamples[node]! }))
    .filter(({ node, samples }) => node > 0 && samples > 0)
    .map(({ node, samples }) => ({ frames: framesOf(node), samples }));
}

function assertSecurityHeaders(response: Response, where: string): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/, where);
  assert.match(csp, /script-src 'self'/, where);
  assert.doesNotMatch(csp, /unsafe|https?:|\*/, where);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', where);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', where);
  assert.equal(response.headers.get('cache-control'), 'no-store', where);
  for (const name of response.headers.keys()) assert.doesNotMatch(name, /^access-control-/, `${where}: ${name}`);
}

async function exitOf(process: SpawnedTarget): Promise<number | null> {
  if (process.child.exitCode !== null) return process.child.exitCode;
  return new Promise((resolve) => process.child.once('exit', (code) => resolve(code)));
}

describe('hotpath web', { skip: python ? false : 'no pyenv venv (run scripts/setup.sh)' }, () => {
  test('the snapshot API carries the target’s exact stacks, functions and process', async (t) => {
    const { target, ready } = await startKnown(t);
    const dashboard = await startDashboard(t, ['--pid', String(target.pid)]);
    assert.equal(dashboard.url.origin, dashboard.base, 'loopback by default');
    assert.equal(dashboard.token, null, 'no token on loopback unless asked for');
    const snapshot = await waitForSnapshot(dashboard, hasFunctions('work_a', 'work_b'));

    const byName = new Map(snapshot.functions.map((f) => [f.name, f]));
    for (const name of ['work_a', 'work_b'] as const) {
      const row = byName.get(name)!;
      assert.equal(row.file, knownPy, name);
      assert.equal(row.line, LINE[name]! - 1, `${name} starts on its def line`);
      assert.equal(row.total, row.own, `${name} calls nothing`);
    }
    assert.equal(byName.get('<module>')!.total, snapshot.view.samples, 'only the main thread runs');
    assert.equal(byName.get('recurse')!.total, snapshot.view.samples, 'recursion counted once per sample');
    assert.ok(byName.get(UNICODE_NAME)!.total >= byName.get('work_a')!.own + byName.get('work_b')!.own);
    let checked = 0;
    for (const { frames, samples } of flameStacks(snapshot)) {
      if (!isMovedOnStack(frames)) checkMainStack(frames, 'dashboard flame graph');
      checked += samples;
    }
    assert.equal(checked, snapshot.view.samples, 'every sample is in the flame graph');
    assert.deepEqual(snapshot.endpoints, [{ label: '(no request)', samples: snapshot.view.samples }]);
    assert.deepEqual(
      snapshot.processes.map((p) => [p.pid, p.pythonVersion, p.leftAt]),
      [[target.pid, ready.version, null]],
    );
    assert.deepEqual(
      snapshot.events.map((event) => [event.kind, event.pid]),
      [['attach', target.pid]],
    );
    assert.equal(snapshot.view.window, 60);
    assert.equal(snapshot.sampling.rateHz, 200);
    assert.ok(snapshot.sampling.ticks > 0 && snapshot.sampling.achievedHz > 0);
    assert.ok(snapshot.sampling.taken <= snapshot.sampling.attempted);

    const sinceStart = await waitForSnapshot(dashboard, () => true, '?window=all');
    assert.equal(sinceStart.view.window, null);
    assert.ok(sinceStart.view.samples >= snapshot.view.samples);
    assert.equal((await waitForSnapshot(dashboard, () => true, '?window=5')).view.window, 5);
    for (const bad of ['0', '61', '1.5', 'soon']) {
      assert.equal((await fetch(`${dashboard.base}/api/snapshot?window=${bad}`)).status, 400, bad);
    }
    // Ctrl-C at a terminal: hotpath stops serving and exits 0; the attached target keeps running.
    const stopped = dashboard.process.stop({ signal: 'SIGINT' });
    assert.equal(await exitOf(dashboard.process), 0, dashboard.process.stderrText());
    await stopped;
    assert.match(dashboard.process.stderrText(), /hotpath: stopped after \d+ samples/);
    assert.equal(target.child.exitCode, null);
  });

  test('the page, its files and downloads, with strict headers; GET and HEAD only', async (t) => {
    const { target } = await startKnown(t);
    const dashboard = await startDashboard(t, ['--pid', String(target.pid), '--window', '30']);
    await waitForSnapshot(dashboard, hasFunctions('work_b'));

    const page = await fetch(`${dashboard.base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assertSecurityHeaders(page, 'page');
    const html = await page.text();
    assert.match(html, /<script src="\/dashboard.js" defer>/);
    assert.doesNotMatch(html, /https?:\/\//, 'no remote asset');
    for (const [path, type] of [
      ['/dashboard.js', /^text\/javascript/],
      ['/dashboard.css', /^text\/css/],
      ['/api/snapshot', /^application\/json/],
    ] as const) {
      const response = await fetch(dashboard.base + path);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type')!, type, path);
      assertSecurityHeaders(response, path);
    }
    const missing = await fetch(`${dashboard.base}/etc/passwd`);
    assert.equal(missing.status, 404);
    assertSecurityHeaders(missing, '404');
    const head = await fetch(`${dashboard.base}/api/snapshot`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await fetch(`${dashboard.base}/api/snapshot`, { method });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'GET, HEAD');
    }

    const saved = await fetch(`${dashboard.base}/download/profile.hotpath`);
    assert.equal(saved.status, 200);
    assert.match(saved.headers.get('content-disposition')!, /^attachment; filename="hotpath-.*\.hotpath"$/);
    const profile = importProfileData(Buffer.from(await saved.arrayBuffer()));
    assert.ok(profile.samples.count > 0);
    const names = new Set(profile.functions.map((_, func) => functionName(profile, func)));
    assert.ok(names.has('work_b') && names.has(UNICODE_NAME), [...names].join(', '));
    assert.deepEqual(
      profile.processes.map((p) => p.pid),
      [target.pid],
    );
    assert.equal(profile.meta.rateHz, 200);
    assert.ok(profile.meta.stats.attempted > 0);
    const speedscope = await fetch(`${dashboard.base}/download/profile.speedscope.json`);
    const document = (await speedscope.json()) as { $schema: string; shared: { frames: Array<{ name: string }> } };
    assert.equal(document.$schema, 'https://www.speedscope.app/file-format-schema.json');
    assert.ok(document.shared.frames.some((frame) => frame.name === 'work_a'));
    assert.equal((await waitForSnapshot(dashboard, () => true)).view.maxWindow, 30);
  });

  test('a launched program: Ctrl-C stops both, exit 0, and -o writes the whole profile', async (t) => {
    const output = join(tempDir(t), 'profile.hotpath');
    const dashboard = await startDashboard(t, ['-o', output, '--', python!.executable, knownPy]);
    const snapshot = await waitForSnapshot(dashboard, hasFunctions('work_a', 'work_b'));
    assert.equal(snapshot.processes.length, 1);
    assert.equal(snapshot.processes[0]!.command, `${python!.executable} ${knownPy}`);
    const stopped = dashboard.process.stop({ signal: 'SIGINT' });
    assert.equal(await exitOf(dashboard.process), 0, dashboard.process.stderrText());
    await stopped;
    const profile = loadProfile(output);
    assert.ok(profile.samples.count >= snapshot.sampling.samples);
    assert.match(dashboard.process.stderrText(), /hotpath: wrote hotpath to /);
  });

  test('when the targets exit, it exits 0 by itself', async (t) => {
    const { target } = await startKnown(t);
    const dashboard = await startDashboard(t, ['--pid', String(target.pid)]);
    await waitForSnapshot(dashboard, hasFunctions('work_b'));
    await target.stop();
    assert.equal(await exitOf(dashboard.process), 0, dashboard.process.stderrText());
    await assert.rejects(fetch(`${dashboard.base}/api/snapshot`), 'the server is closed');
  });

  test('--host 0.0.0.0 without --token makes a token and refuses requests without it', async (t) => {
    const { target } = await startKnown(t);
    const dashboard = await startDashboard(t, ['--pid', String(target.pid), '--host', '0.0.0.0']);
    const token = dashboard.token;
    assert.match(token ?? '', /^[A-Za-z0-9_-]{32}$/, `printed ${dashboard.url}`);
    assert.equal(dashboard.url.pathname, '/');
    const snapshot = await waitForSnapshot(dashboard, hasFunctions('work_b'));
    for (const [what, init] of [
      ['no token', {}],
      ['a wrong token', { headers: { authorization: `Bearer ${token!.slice(1)}x` } }],
      ['a wrong cookie', { headers: { cookie: `hotpath-token-${dashboard.url.port}=nope` } }],
    ] as const) {
      for (const path of ['/', '/api/snapshot', '/dashboard.js', '/download/profile.hotpath', `/?token=${token}x`]) {
        const response = await fetch(dashboard.base + path, init);
        assert.equal(response.status, 401, `${what}: ${path}`);
        assertSecurityHeaders(response, `401 ${path}`);
        const body = await response.text();
        assert.doesNotMatch(body, /work_|known\.py|recurse/, 'no data');
      }
    }
    const page = await fetch(`${dashboard.base}/?token=${token}`);
    assert.equal(page.status, 200);
    const cookie = page.headers.get('set-cookie')!;
    assert.equal(cookie, `hotpath-token-${dashboard.url.port}=${token}; Path=/; HttpOnly; SameSite=Strict`);
    const withCookie = await fetch(`${dashboard.base}/api/snapshot`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(withCookie.status, 200);
    assert.ok(((await withCookie.json()) as Snapshot).functions.length >= snapshot.functions.length - 10);
    const elsewhere = await httpGet(`${dashboard.base}/api/snapshot`, {
      host: `some-name.example:${dashboard.url.port}`,
      authorization: `Bearer ${token}`,
    });
    assert.equal(elsewhere.status, 200, 'off loopback the token, not the Host, decides');
  });

  test('on loopback a given --token is required, and a foreign Host header is refused', async (t) => {
    const { target } = await startKnown(t);
    const token = 'a-token-given-by-the-user.1';
    const dashboard = await startDashboard(t, ['--pid', String(target.pid), '--token', token]);
    assert.equal(dashboard.token, token);
    assert.equal(dashboard.url.hostname, '127.0.0.1');
    await waitForSnapshot(dashboard, hasFunctions('work_b'));
    assert.equal((await fetch(`${dashboard.base}/api/snapshot`)).status, 401);
    const port = dashboard.url.port;
    const auth = { authorization: `Bearer ${token}` };
    for (const host of [
      `rebound.attacker.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
    ]) {
      const refused = await httpGet(`${dashboard.base}/api/snapshot`, { host, ...auth });
      assert.equal(refused.status, 403, host);
      assert.doesNotMatch(refused.body, /work_|known\.py/);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      assert.equal((await httpGet(`${dashboard.base}/api/snapshot`, { host, ...auth })).status, 200, host);
    }
  });

  test('bad options are usage errors', async () => {
    for (const args of [
      ['--token', 'short'],
      ['--port', '70000'],
      ['--window', '0'],
      ['--window', '3601'],
    ]) {
      const result = spawnSync(process.execPath, [hotpathBin, 'web', ...args, '--pid', String(process.pid)], {
        encoding: 'utf8',
      });
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^hotpath: error: /);
    }
  });

  test(
    'a Gunicorn app: endpoints by share, workers followed as they respawn',
    { skip: webPython ? false : 'no 3.13 venv with Flask and Gunicorn' },
    async (t) => {
      const server = await startGunicorn(
        venvRunner(webPython!),
        { app: 'flask_app:app', workerClass: 'sync', workers: 1, maxRequests: 8 },
        t,
      );
      const dashboard = await startDashboard(t, ['-s', '--pid', String(server.rootPid)]);
      await driveLoad(server.baseUrl, ['/heavy', '/light'], 16, 1);
      const snapshot = await waitForSnapshot(
        dashboard,
        (s) =>
          ['GET /heavy', 'GET /light'].every((label) => s.endpoints.some((e) => e.label === label)) &&
          s.events.some((event) => event.kind === 'detach'),
      );
      const heavy = snapshot.endpoints.find((e) => e.label === 'GET /heavy')!;
      const light = snapshot.endpoints.find((e) => e.label === 'GET /light')!;
      assert.ok(heavy.samples > light.samples, `${heavy.samples} vs ${light.samples}`);
      assert.ok(snapshot.functions.some((f) => f.name === 'crunch_heavy' && f.file.endsWith('workload.py')));
      const pids = snapshot.processes.map((p) => p.pid);
      assert.ok(pids.includes(server.rootPid) && pids.includes(server.workerPids[0]!), pids.join(', '));
      assert.ok(pids.length >= 3, `a respawned worker is followed: ${JSON.stringify(snapshot.processes)}`);
      const left = snapshot.processes.find((p) => p.pid === server.workerPids[0]);
      assert.ok(left?.leftAt !== null && left?.leftReason, 'the first worker left after --max-requests');
      assert.ok(snapshot.processes.every((p) => p.pythonVersion === webPython!.fullVersion));
    },
  );

  test(
    'the page draws the live flame graph in Chromium, keeps a zoom, and searches',
    { skip: chromiumSkipReason },
    async (t) => {
      const { target } = await startKnown(t);
      const dashboard = await startDashboard(t, ['--pid', String(target.pid), '--host', '0.0.0.0']);
      await waitForSnapshot(dashboard, hasFunctions('work_a', 'work_b'));
      const browser = await openBrowser({ width: 1280, height: 900 });
      t.after(() => browser.close());
      const { page } = browser;
      await page.goto(`${dashboard.base}/?token=${dashboard.token}`);
      const drawnLabels = () =>
        page.evaluate(() =>
          (window as unknown as { hotpath: DashboardApp }).hotpath.flame.drawnFrames().map((frame) => frame.label),
        );
      await page.waitForFunction(
        () => {
          const app = (window as unknown as { hotpath?: DashboardApp }).hotpath;
          return app !== undefined && app.flame.drawnFrames().some((frame) => frame.label.startsWith('work_b ('));
        },
        null,
        { timeout: SNAPSHOT_DEADLINE_MS },
      );
      assert.ok((await drawnLabels()).includes(`work_b (${knownPy}:${LINE.work_b})`));
      assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
      assert.match(await page.locator('#functions').innerText(), new RegExp(UNICODE_NAME));
      assert.match(await page.locator('#endpoints').innerText(), /\(no request\)\s+[\d,]+\s+100\.00%/);
      assert.match(await page.locator('#processes').innerText(), new RegExp(`${target.pid}`));
      assert.match(await page.locator('#status').innerText(), /^Live/);

      // Zoom into ünïcode_函数 by clicking it; after later refreshes the zoom is still there.
      const unicode = await page.evaluate((name) => {
        const app = (window as unknown as { hotpath: DashboardApp }).hotpath;
        return app.flame.drawnFrames().find((frame) => frame.label.startsWith(`${name} (`) && frame.width > 20);
      }, UNICODE_NAME);
      assert.ok(unicode, 'ünïcode_函数 is drawn wide enough to click');
      const canvas = page.locator('#flame-canvas');
      await canvas.click({ position: { x: unicode.x + unicode.width / 2, y: unicode.y + unicode.height / 2 } });
      const refreshes = await page.evaluate(() => (window as unknown as { hotpath: DashboardApp }).hotpath.refreshes);
      await page.waitForFunction(
        (seen) => (window as unknown as { hotpath: DashboardApp }).hotpath.refreshes >= seen + 2,
        refreshes,
        { timeout: SNAPSHOT_DEADLINE_MS },
      );
      const zoomed = await page.evaluate(() =>
        (window as unknown as { hotpath: DashboardApp }).hotpath.flame.drawnFrames(),
      );
      const widest = zoomed.filter((frame) => !frame.dimmed).sort((a, b) => b.width - a.width)[0]!;
      assert.ok(widest.label.startsWith(`${UNICODE_NAME} (`), `zoomed on ${widest.label}`);
      assert.ok(
        zoomed.some((frame) => frame.dimmed && frame.label.startsWith('recurse (')),
        'callers dimmed',
      );

      await page.fill('#flame-search', '^work_a');
      assert.match(await page.locator('#flame-matched').innerText(), /^Matched: \d+\.\d\d% \(/);
      await page.locator('#view').selectOption('all');
      await page.waitForFunction(
        () => (window as unknown as { hotpath: DashboardApp }).hotpath.snapshot?.view.window === null,
        null,
        { timeout: SNAPSHOT_DEADLINE_MS },
      );
      assert.deepEqual(browser.pageErrors, []);
    },
  );
});
