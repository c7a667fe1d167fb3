// The dashboard's model without a target: raw samples in, snapshots out. Rolling-window arithmetic, own and total
// counts (recursion once), the flame graph's depth-first label order and its node cap, endpoints and processes,
// and the page's own decoding of a snapshot's flame graph (labels, zoom paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawFrame, RawSample } from '../../src/sampler/index.js';
import { LiveProfile, type SamplingFacts, type Snapshot } from '../../src/web/index.js';
import { buildView } from '../../src/web/build-view.js';
import { RollingWindow } from '../../src/web/rolling-window.js';
import { StackTrie } from '../../src/web/stack-trie.js';
import { decodeFlame, findLabelPath, labelPath } from '../../src/web/client/dashboard-model.js';

const frame = (name: string, line: number, file = 'app.py', firstLine = line - 1): RawFrame => ({
  name,
  file,
  line,
  firstLine,
});
const MAIN = frame('main', 10);
const HANDLE = frame('handle', 20);
const QUERY = frame('query', 30, 'db.py');
const RENDER = frame('render', 40);
const RECURSE_OUTER = frame('walk', 50, 'tree.py', 49);
const RECURSE_INNER = frame('walk', 51, 'tree.py', 49);

function sample(frames: RawFrame[], time: number, endpoint?: string): RawSample {
  return { frames, time, pid: 100, tid: 100, endpoint };
}

function facts(elapsedMs: number): SamplingFacts {
  return {
    startTime: 1,
    elapsedMs,
    rateHz: 100,
    achievedHz: 99,
    ticks: 10,
    attempted: 10,
    taken: 9,
    dropped: { 'torn-read': 1 },
  };
}

/** Flame node labels as "name:line" paths from the root, in the snapshot's order. */
function flamePaths(snapshot: Snapshot): string[] {
  const { flame, functions } = snapshot;
  const paths: string[] = [];
  flame.parent.forEach((parent, node) => {
    const own = node === 0 ? 'all' : `${functions[flame.func[node]!]!.name}:${flame.line[node]}`;
    paths.push(parent < 0 ? own : `${paths[parent]} > ${own}`);
  });
  return paths;
}

test('a snapshot counts own and total per function, once per sample under recursion', () => {
  const live = new LiveProfile('title', 60);
  live.add(sample([MAIN, HANDLE, QUERY], 0, 'GET /users/{id}'));
  live.add(sample([MAIN, HANDLE, QUERY], 10, 'GET /users/{id}'));
  live.add(sample([MAIN, HANDLE, RENDER], 20, 'GET /users/{id}'));
  live.add(sample([MAIN, RECURSE_OUTER, RECURSE_INNER, RECURSE_INNER], 30));
  const snapshot = live.snapshot(60, facts(100));
  assert.equal(snapshot.view.samples, 4);
  assert.equal(snapshot.sampling.samples, 4);
  assert.deepEqual(snapshot.sampling.dropped, { 'torn-read': 1 });
  const byName = Object.fromEntries(snapshot.functions.map((f) => [f.name, f]));
  assert.deepEqual(byName['query'], { name: 'query', file: 'db.py', line: 29, own: 2, total: 2 });
  assert.deepEqual(byName['walk'], { name: 'walk', file: 'tree.py', line: 49, own: 1, total: 1 });
  assert.equal(byName['main']!.total, 4);
  assert.equal(byName['main']!.own, 0);
  assert.equal(byName['handle']!.total, 3);
  assert.equal(snapshot.functions[0]!.name, 'query', 'most own samples first');
  assert.deepEqual(snapshot.endpoints, [
    { label: 'GET /users/{id}', samples: 3 },
    { label: '(no request)', samples: 1 },
  ]);
});

test('the flame graph is depth first with children in label order and totals per node', () => {
  const live = new LiveProfile('title', 60);
  live.add(sample([MAIN, HANDLE, RENDER], 0));
  live.add(sample([MAIN, HANDLE, QUERY], 1));
  live.add(sample([MAIN, HANDLE, QUERY], 2));
  live.add(sample([MAIN, RECURSE_OUTER], 3));
  const snapshot = live.snapshot(null, facts(10));
  assert.deepEqual(flamePaths(snapshot), [
    'all',
    'all > main:10',
    'all > main:10 > handle:20',
    'all > main:10 > handle:20 > query:30',
    'all > main:10 > handle:20 > render:40',
    'all > main:10 > walk:50',
  ]);
  assert.deepEqual(snapshot.flame.total, [4, 4, 3, 2, 1, 1]);
  assert.equal(snapshot.flame.func[0], -1);
  assert.equal(snapshot.flame.omitted, 0);
});

test('the rolling window keeps the last seconds up to now; "since start" keeps everything', () => {
  const live = new LiveProfile('title', 3);
  live.add(sample([MAIN, QUERY], 500));
  live.add(sample([MAIN, HANDLE], 1500));
  live.add(sample([MAIN, HANDLE], 3500));
  live.add(sample([MAIN, RENDER], 4200));
  const names = (snapshot: Snapshot) => snapshot.functions.map((f) => `${f.name}=${f.total}`).sort();
  assert.deepEqual(names(live.snapshot(3, facts(4300))), ['handle=1', 'main=2', 'render=1']);
  assert.deepEqual(names(live.snapshot(1, facts(4300))), ['main=1', 'render=1']);
  assert.deepEqual(names(live.snapshot(3, facts(9000))), [], 'nothing sampled in the last 3 s');
  assert.deepEqual(names(live.snapshot(null, facts(9000))), ['handle=2', 'main=4', 'query=1', 'render=1']);
  assert.equal(live.snapshot(3, facts(9000)).view.window, 3);
  assert.equal(live.snapshot(null, facts(9000)).view.window, null);
});

test('a ring slot reused by a later second forgets the earlier one', () => {
  const window = new RollingWindow(2);
  window.add(0, 1, 'a');
  window.add(2000, 2, 'b');
  const counts = window.sum(2, 2500);
  assert.deepEqual([...counts.nodes], [[2, 1]]);
  assert.deepEqual([...counts.endpoints], [['b', 1]]);
});

test('over the node cap the narrowest nodes are left out and the rest still form a tree', () => {
  const trie = new StackTrie();
  const own = new Map<number, number>();
  for (let i = 0; i < 20; i++) own.set(trie.nodeOf([MAIN, frame(`leaf${String(i).padStart(2, '0')}`, 100 + i)]), i + 1);
  const view = buildView(trie, { samples: 210, nodes: own, endpoints: new Map() }, 6);
  assert.ok(view.flame.parent.length < 6, `${view.flame.parent.length} nodes`);
  assert.equal(view.flame.omitted, 22 - view.flame.parent.length);
  assert.equal(view.flame.total[0], 210, 'the root keeps every sample');
  view.flame.parent.forEach((parent, node) => assert.ok(parent < node, 'parents come first'));
  const keptLeaves = view.flame.func.slice(2).map((func) => view.functions[func]!.total);
  assert.deepEqual(keptLeaves.sort(), [18, 19, 20], 'the widest leaves stay');
  assert.equal(view.functions.length, 21, 'the function table keeps every function');
});

test('processes are followed from attach to detach, with the latest events', () => {
  const live = new LiveProfile('title', 60);
  live.noteProcessEvent({ kind: 'attach', pid: 7, detail: 'gunicorn: master', pythonVersion: '3.12.1' }, 1000);
  live.noteProcessEvent({ kind: 'attach', pid: 8, detail: 'gunicorn: worker', pythonVersion: '3.12.1' }, 1001);
  live.noteProcessEvent({ kind: 'detach', pid: 8, detail: 'exited' }, 2000);
  const snapshot = live.snapshot(60, facts(0));
  assert.deepEqual(snapshot.processes, [
    { pid: 7, pythonVersion: '3.12.1', command: 'gunicorn: master', attachedAt: 1000, leftAt: null, leftReason: null },
    {
      pid: 8,
      pythonVersion: '3.12.1',
      command: 'gunicorn: worker',
      attachedAt: 1001,
      leftAt: 2000,
      leftReason: 'exited',
    },
  ]);
  assert.deepEqual(
    snapshot.events.map((event) => `${event.kind} ${event.pid}`),
    ['attach 7', 'attach 8', 'detach 8'],
  );
});

test('the whole profile since the start is there to download', () => {
  const live = new LiveProfile('title', 60);
  live.noteProcessEvent({ kind: 'attach', pid: 100, detail: 'python app.py', pythonVersion: '3.12.1' });
  for (let i = 0; i < 5; i++) live.add(sample([MAIN, HANDLE], i * 1000, 'GET /'));
  const profile = live.buildProfile({
    startTime: 1,
    durationMs: 5000,
    rateHz: 100,
    pythonVersion: '3.12.1',
    command: 'python app.py',
    stats: { attempted: 5, taken: 5, dropped: {} },
  });
  assert.equal(profile.samples.count, 5);
  assert.deepEqual(profile.endpoints, ['GET /']);
  assert.deepEqual(profile.processes, [{ pid: 100, command: 'python app.py' }]);
});

test('a path labelled before its route was known is counted under the route, in views and in the download', () => {
  const aliases = new Map<string, string>();
  const live = new LiveProfile('title', 60, () => aliases);
  live.add(sample([MAIN, HANDLE], 0, 'GET /users/{id}'));
  live.add(sample([MAIN, HANDLE], 10, 'GET /users/<int:user_id>'));
  live.add(sample([MAIN, HANDLE], 20, 'GET /users/<int:user_id>'));
  const labels = (snapshot: Snapshot) => snapshot.endpoints.map(({ label, samples }) => `${label}: ${samples}`);
  assert.deepEqual(labels(live.snapshot(null, facts(100))), ['GET /users/<int:user_id>: 2', 'GET /users/{id}: 1']);
  aliases.set('GET /users/{id}', 'GET /users/<int:user_id>');
  assert.deepEqual(labels(live.snapshot(null, facts(100))), ['GET /users/<int:user_id>: 3']);
  assert.deepEqual(labels(live.snapshot(60, facts(100))), ['GET /users/<int:user_id>: 3']);
  live.add(sample([MAIN, HANDLE], 30, 'GET /users/{id}'));
  const meta = { startTime: 1, durationMs: 40, rateHz: 100, pythonVersion: '3.12.1', command: 'python app.py' };
  const profile = live.buildProfile({ ...meta, stats: { attempted: 4, taken: 4, dropped: {} } });
  assert.deepEqual(profile.endpoints, ['GET /users/<int:user_id>']);
  assert.deepEqual([...profile.samples.endpoint], [0, 0, 0, 0]);
});

test('the page decodes the flame graph and finds a zoomed frame again by its labels', () => {
  const live = new LiveProfile('title', 60);
  live.add(sample([MAIN, HANDLE, QUERY], 0));
  live.add(sample([MAIN, HANDLE, RENDER], 0));
  const before = decodeFlame(live.snapshot(60, facts(10)));
  assert.equal(before.labels[0], 'all');
  assert.equal(before.labels[3], 'query (db.py:30)');
  assert.equal(before.names[3], 'query');
  assert.deepEqual([...before.total], [2, 2, 2, 1, 1]);
  const path = labelPath(before, 4);
  assert.deepEqual(path, ['main (app.py:10)', 'handle (app.py:20)', 'render (app.py:40)']);
  // A new caller sorts before the zoomed frame's branch: its node number changes, its labels do not.
  live.add(sample([frame('aaa', 1), MAIN], 0));
  live.add(sample([MAIN, frame('early', 15), RENDER], 0));
  const after = decodeFlame(live.snapshot(60, facts(10)));
  const found = findLabelPath(after, path);
  assert.notEqual(found, 4);
  assert.deepEqual(labelPath(after, found), path);
  assert.equal(
    findLabelPath(after, ['main (app.py:10)', 'gone (app.py:1)']),
    findLabelPath(after, ['main (app.py:10)']),
  );
  assert.equal(findLabelPath(after, []), 0);
});
