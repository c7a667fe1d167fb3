// Sync (`def`) FastAPI endpoints under uvicorn with real HTTP load: Starlette runs them on anyio worker threads whose
// stacks hold no ASGI scope, and hotpath labels their samples with the route of the task awaiting the work item. On
// one venv CPython ≤3.10, one ≥3.12 and Debian sid's 3.14 and 3.15 (HOTPATH_WEB_PYTHONS=3.9,3.13 picks others), with
// and without an HTTP middleware (which runs the endpoint in a child task of an anyio task group).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfile } from '../../src/export/load-profile.js';
import { endpointLabel, functionName, stackFrames, type Profile } from '../../src/profile/index.js';
import {
  driveLoad,
  startRecording,
  startUvicorn,
  webInterpretersUnderTest,
  type WebInterpreter,
} from '../support/web-servers.js';
import { assertHeavyShareOf } from '../support/workload-share.js';

/** Samples inside an endpoint that carry its route: the rest fall in the moments a work item starts or ends. */
const MIN_LABELLED_SHARE = 0.9;
/** The endpoints of test/targets/web/fastapi_sync_app.py, by the function that handles each. */
const ROUTES = new Map([
  ['heavy', 'GET /heavy'],
  ['light', 'GET /light'],
  ['item', 'GET /items/{item_id}'],
]);
/** anyio names its worker threads so (threading's name, read by hotpath). */
const WORKER_THREAD = 'AnyIO worker thread';

/** The sync endpoint a sample ran in (its function on the stack; 3.11+ names it build_app.<locals>.heavy). */
function endpointFunctionOf(profile: Profile, sample: number): string | undefined {
  const stack = profile.samples.stack[sample]!;
  if (stack < 0) return undefined;
  for (const frame of stackFrames(profile, stack)) {
    const name = functionName(profile, profile.frames[frame]!.func).split('.').at(-1)!;
    if (ROUTES.has(name)) return name;
  }
  return undefined;
}

/** Samples inside each endpoint function, by the label they carry, and the threads they ran on. */
function labelsByEndpoint(profile: Profile): { labels: Map<string, Map<string, number>>; threads: Set<string> } {
  const labels = new Map<string, Map<string, number>>();
  const threads = new Set<string>();
  for (let i = 0; i < profile.samples.count; i++) {
    const endpoint = endpointFunctionOf(profile, i);
    if (endpoint === undefined) continue;
    const label = endpointLabel(profile, profile.samples.endpoint[i]!);
    const counts = labels.get(endpoint) ?? new Map<string, number>();
    counts.set(label, (counts.get(label) ?? 0) + 1);
    labels.set(endpoint, counts);
    threads.add(profile.threads[profile.samples.thread[i]!]!.name);
  }
  return { labels, threads };
}

async function recordSyncApp(t: TestContext, python: WebInterpreter, app: string): Promise<Profile> {
  const server = await startUvicorn(python.runner(t), `fastapi_sync_app:${app}`, 1, t);
  const recording = await startRecording(['-r', '250', '-s', '--pid', String(server.rootPid)], t);
  // Two clients at once: two requests in flight, each on its own worker thread.
  await driveLoad(server.baseUrl, ['/heavy', '/light', '/items/5', '/items/6'], 40);
  const { output, stderr, exitCode } = await recording.stop();
  assert.equal(exitCode, 0, stderr);
  return loadProfile(output);
}

function assertSyncEndpointsLabelled(profile: Profile): void {
  const { labels, threads } = labelsByEndpoint(profile);
  const summary = JSON.stringify([...labels].map(([name, counts]) => [name, [...counts]]));
  assert.deepEqual([...threads].sort(), [WORKER_THREAD], `endpoint samples ran on worker threads only: ${summary}`);
  for (const [endpoint, route] of ROUTES) {
    const counts = labels.get(endpoint) ?? new Map<string, number>();
    const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
    assert.ok(total >= 20, `too few samples in ${endpoint} to judge: ${summary}`);
    // A wrong label is worse than none: every labelled sample carries its own endpoint's route.
    const wrong = [...counts.keys()].filter((label) => label !== route && label !== '(no request)');
    assert.deepEqual(wrong, [], `samples of ${endpoint} labelled with another route: ${summary}`);
    const share = (counts.get(route) ?? 0) / total;
    assert.ok(share >= MIN_LABELLED_SHARE, `${endpoint}: ${(100 * share).toFixed(1)}% labelled ${route}: ${summary}`);
  }
  const heavy = labels.get('heavy')?.get('GET /heavy') ?? 0;
  const light = labels.get('light')?.get('GET /light') ?? 0;
  assertHeavyShareOf(heavy, light, summary);
  assert.ok(profile.endpoints.includes('GET /items/{item_id}'), `route pattern: ${profile.endpoints.join(', ')}`);
}

const pythons = webInterpretersUnderTest(['3.14', '3.15']);
if (pythons.length === 0)
  test('sync FastAPI endpoints', { skip: 'no setup venvs: run bash scripts/setup.sh' }, () => {});

for (const python of pythons) {
  describe(`sync FastAPI endpoints on ${python.name}`, { timeout: 240_000, skip: python.skip }, () => {
    test('samples on anyio worker threads carry the route of their request, shares by CPU cost', async (t) => {
      assertSyncEndpointsLabelled(await recordSyncApp(t, python, 'app'));
    });

    test('the same behind an HTTP middleware, which runs the endpoint in a child task', async (t) => {
      assertSyncEndpointsLabelled(await recordSyncApp(t, python, 'app_with_middleware'));
    });
  });
}
