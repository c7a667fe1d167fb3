// The demo app under Gunicorn, on every setup venv: the readiness lines, the worker processes, and each
// endpoint's response over loopback. Tests the demo app and the test support helpers, not the profiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEMO_WORKER_COUNT, startDemoServer } from '../support/demo-server.js';
import { listPythons } from '../support/pythons.js';

/** demo/app.py's CPU_HOG_COUNT; both hog endpoints report the sum of 0 … CPU_HOG_COUNT-1. */
const CPU_HOG_COUNT = 2_500_000;
const CPU_HOG_SUM = (CPU_HOG_COUNT * (CPU_HOG_COUNT - 1)) / 2;

const pythons = listPythons();

test('setup built the venvs the live tests run in', () => {
  assert.ok(pythons.length > 0, 'no venvs under .cache/venvs: run `npm run setup`');
});

for (const python of pythons) {
  test(`demo app under gunicorn on ${python.label} (Python ${python.fullVersion})`, async (t) => {
    const server = await startDemoServer(python, t);
    const get = (path: string) => fetch(`${server.baseUrl}${path}`);

    await t.test('master forked the configured workers', () => {
      assert.equal(server.masterPid, server.target.pid);
      assert.equal(new Set(server.workerPids).size, DEMO_WORKER_COUNT);
      for (const workerPid of server.workerPids) assert.equal(readParentPid(workerPid), server.masterPid);
    });

    await t.test('/ says hello', async () => {
      const response = await get('/');
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'Hello, World!');
    });

    await t.test('/cpu_hog and /cpu_hog_reformed compute the same sum', async () => {
      for (const path of ['/cpu_hog', '/cpu_hog_reformed']) {
        const response = await get(path);
        assert.equal(response.status, 200);
        assert.match(await response.text(), new RegExp(`^Counted up to ${CPU_HOG_SUM}\\b`));
      }
    });

    await t.test('/users/<id> returns the user as JSON, and a JSON 404 for an unknown id', async () => {
      const found = await get('/users/42');
      assert.equal(found.status, 200);
      assert.match(found.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await found.json(), {
        id: 42,
        name: 'Alan Allen',
        email: 'alan.allen42@example.com',
        city: 'Lyon',
      });
      const missing = await get('/users/1000');
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'no user with id 1000' });
    });

    await t.test('/search ranks the products matching every word', async () => {
      const response = await get('/search?q=Oak%20CHAIR');
      assert.equal(response.status, 200);
      const body = (await response.json()) as { query: string; total: number; results: { title: string }[] };
      assert.equal(body.query, 'Oak CHAIR');
      assert.equal(body.total, 8, 'one oak chair per adjective');
      assert.equal(body.results.length, 8);
      for (const { title } of body.results) assert.match(title, /^\w+ Oak Chair$/);
      const none = (await (await get('/search?q=titanium')).json()) as { total: number };
      assert.equal(none.total, 0);
    });
  });
}

function readParentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
