// Request labelling helpers: path normalisation (ids, UUIDs, hashes), the hotpath marker in query
// strings, the endpoint table and the per-endpoint / per-request output names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasMarkerParameter, normalisePath } from '../../src/sampler/request-context.js';
import { MarkedRequestProfiles, siblingOutputPath, splitByEndpoint } from '../../src/cli/request-outputs.js';
import { ProfileBuilder, buildEndpointTable, functionName, mergeEndpointCounts } from '../../src/profile/index.js';
import { renderEndpointTable } from '../../src/render/index.js';

test('normalisePath folds ids, UUIDs and long hex hashes, and keeps words', () => {
  assert.equal(normalisePath('/users/42'), '/users/{id}');
  assert.equal(normalisePath('/users/42/orders/7'), '/users/{id}/orders/{id}');
  assert.equal(normalisePath('/files/0b7e6c2a-4f1d-4c55-9d5e-2f7a6a1b9c3d'), '/files/{uuid}');
  assert.equal(normalisePath('/blobs/3f786850e387550fdab836ed7e6dc881de23001b'), '/blobs/{hash}');
  assert.equal(normalisePath('/v2/deadbeefcafebabe/x'), '/v2/deadbeefcafebabe/x', 'hex without a digit is a word');
  assert.equal(normalisePath('/'), '/');
  assert.equal(normalisePath(''), '/');
  assert.equal(normalisePath('/api/v2/items'), '/api/v2/items');
  assert.ok(normalisePath(`/${'a'.repeat(500)}`).length <= 203);
});

test('the marker is a query parameter name, whatever its value', () => {
  assert.equal(hasMarkerParameter('hotpath'), true);
  assert.equal(hasMarkerParameter('hotpath=1'), true);
  assert.equal(hasMarkerParameter('a=1&hotpath'), true);
  assert.equal(hasMarkerParameter('a=1;hotpath=yes'), true);
  assert.equal(hasMarkerParameter('a=hotpath'), false);
  assert.equal(hasMarkerParameter('hotpathx=1'), false);
  assert.equal(hasMarkerParameter(''), false);
});

function webProfile() {
  const builder = new ProfileBuilder();
  const frames = (leaf: string) => [
    { name: 'handle', file: '/srv/app.py', line: 1 },
    { name: leaf, file: '/srv/work.py', line: 2 },
  ];
  for (let i = 0; i < 6; i++)
    builder.addSample({ frames: frames('crunch'), time: i, pid: 1, tid: 1, endpoint: 'GET /heavy' });
  for (let i = 0; i < 2; i++)
    builder.addSample({ frames: frames('render'), time: i, pid: 1, tid: 1, endpoint: 'GET /light' });
  builder.addSample({ frames: frames('crunch'), time: 9, pid: 1, tid: 1, endpoint: 'GET /heavy' });
  builder.addSample({ frames: frames('wait'), time: 9, pid: 1, tid: 2 });
  return builder.build({ startTime: 0, durationMs: 10, rateHz: 100, pythonVersion: '3.12.1', command: 'test' });
}

test('the endpoint table ranks endpoints by samples, with their hottest functions', () => {
  const profile = webProfile();
  const rows = buildEndpointTable(profile);
  assert.deepEqual(
    rows.map((row) => [row.label, row.samples, row.share]),
    [
      ['GET /heavy', 7, 0.7],
      ['GET /light', 2, 0.2],
      ['(no request)', 1, 0.1],
    ],
  );
  assert.equal(functionName(profile, rows[0]!.topFunctions[0]!.func), 'crunch');
  const text = renderEndpointTable(profile);
  assert.match(text[1]!, /^ +7 +70\.0% +GET \/heavy +crunch \(work\.py\) 100%$/);
});

test('split outputs and marked requests are named beside the main output', () => {
  assert.equal(siblingOutputPath('out/profile.svg', 'svg', 'request-1'), 'out/profile.request-1.svg');
  assert.equal(siblingOutputPath('profile', 'svg', 'request-2'), 'profile.request-2.svg');
  const parts = splitByEndpoint(webProfile());
  assert.deepEqual(
    parts.map((part) => [part.suffix, part.profile.samples.count]),
    [
      ['endpoint-no-request', 1],
      ['endpoint-GET-heavy', 7],
      ['endpoint-GET-light', 2],
    ],
  );
});

test('labels of paths sampled before their route was known are merged into the route, counts summed', () => {
  const aliases = new Map([['GET /users/{id}', 'GET /users/<int:user_id>']]);
  const counts = new Map([
    ['GET /users/{id}', 2],
    ['GET /users/<int:user_id>', 5],
    ['(no request)', 1],
  ]);
  assert.deepEqual(
    [...mergeEndpointCounts(counts, aliases)],
    [
      ['GET /users/<int:user_id>', 7],
      ['(no request)', 1],
    ],
  );
  // A marked request sampled first by its path, then by its route, is one endpoint in its own profile.
  const marked = new MarkedRequestProfiles();
  const frames = [{ name: 'handle', file: '/srv/app.py', line: 1 }];
  for (const [time, endpoint] of [
    [0, 'GET /users/{id}'],
    [1, 'GET /users/<int:user_id>'],
  ] as const) {
    marked.add({ frames, time, pid: 1, tid: 1, endpoint, markedRequest: 'request-1' });
  }
  const meta = { startTime: 0, durationMs: 10, rateHz: 100, pythonVersion: '3.12.1', command: 'test' };
  const [request] = marked.build(meta, aliases);
  assert.deepEqual(request!.endpoints, ['GET /users/<int:user_id>']);
  assert.deepEqual([...request!.samples.endpoint], [0, 0]);
});
