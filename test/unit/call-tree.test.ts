// Call tree: totals and self counts per node, line- and function-level merging, thread/process groups, filters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCallTree,
  callTreeNodeLabel,
  callTreePath,
  sortedChildren,
  walkCallTree,
  type CallTreeNode,
} from '../../src/profile/index.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';

/** The child path given by labels, failing the test when one is missing. */
function nodeAt(root: CallTreeNode, ...labels: string[]): CallTreeNode {
  let node = root;
  for (const label of labels) {
    const child = [...node.children.values()].find((candidate) => callTreeNodeLabel(candidate) === label);
    assert.ok(child, `no "${label}" under "${callTreeNodeLabel(node)}"`);
    node = child;
  }
  return node;
}

function assertTotalsAddUp(root: CallTreeNode): void {
  for (const node of walkCallTree(root)) {
    const below = [...node.children.values()].reduce((sum, child) => sum + child.total, 0);
    assert.equal(node.total, node.self + below, `total of ${callTreeNodeLabel(node)}`);
  }
}

test('line-level tree keeps each executing line apart', () => {
  const { root } = buildCallTree(buildWebAppProfile());
  assert.equal(root.kind, 'root');
  assert.equal(root.total, 11);
  assert.deepEqual(sortedChildren(root).map(callTreeNodeLabel), ['main (app.py:10)', 'run (worker.py:3)']);
  const main = nodeAt(root, 'main (app.py:10)');
  assert.deepEqual([main.total, main.self], [6, 0]);
  const handle20 = nodeAt(main, 'handle (views.py:20)');
  assert.deepEqual([handle20.total, handle20.self], [4, 1]);
  const query = nodeAt(handle20, 'query (db.py:5)');
  assert.deepEqual([query.total, query.self, query.depth], [3, 3, 3]);
  assert.deepEqual([nodeAt(main, 'handle (views.py:21)', 'render (tpl.py:7)').total], [2]);
  const run = nodeAt(root, 'run (worker.py:3)');
  assert.deepEqual([nodeAt(run, 'query (db.py:5)').total, nodeAt(run, 'query (db.py:6)').total], [4, 1]);
  assert.deepEqual(
    callTreePath(query).map((node) => node.name),
    ['all', 'main', 'handle', 'query'],
  );
  assertTotalsAddUp(root);
});

test('line-level children are keyed by frame id', () => {
  const profile = buildWebAppProfile();
  const { root } = buildCallTree(profile);
  for (const node of walkCallTree(root)) {
    for (const [key, child] of node.children) {
      const entry = profile.frames[key]!;
      assert.equal(entry.func, child.func);
      assert.equal(entry.line, child.line);
    }
  }
});

test('function-level tree merges the lines of a function and labels it with its first line', () => {
  const profile = buildWebAppProfile();
  const { root, frameKey } = buildCallTree(profile, { frameKey: 'function' });
  assert.equal(frameKey, 'function');
  const handle = nodeAt(root, 'main (app.py:8)', 'handle (views.py:18)');
  assert.deepEqual([handle.total, handle.self], [6, 1]);
  assert.deepEqual(sortedChildren(handle).map(callTreeNodeLabel), ['query (db.py:3)', 'render (tpl.py:6)']);
  const workerQuery = nodeAt(root, 'run (worker.py:1)', 'query (db.py:3)');
  assert.equal(workerQuery.total, 5);
  assert.equal(profile.functions[workerQuery.key]!.firstLine, 3);
  assertTotalsAddUp(root);
});

test('grouping by thread adds one synthetic node per thread', () => {
  const { root } = buildCallTree(buildWebAppProfile(), { groupBy: 'thread' });
  const threads = sortedChildren(root);
  assert.deepEqual(
    threads.map((node) => [node.kind, callTreeNodeLabel(node), node.total]),
    [
      ['thread', 'MainThread (100)', 6],
      ['thread', 'worker (101)', 5],
    ],
  );
  assert.equal(nodeAt(threads[0]!, 'main (app.py:10)', 'handle (views.py:20)').depth, 3);
  assertTotalsAddUp(root);
});

test('grouping by process labels each with its pid and command', () => {
  const { root } = buildCallTree(buildWebAppProfile(), { groupBy: 'process' });
  assert.deepEqual(
    sortedChildren(root).map((node) => [node.kind, node.key, callTreeNodeLabel(node), node.total]),
    [
      ['process', 10, 'process 10 (python app.py)', 6],
      ['process', 11, 'process 11 (python worker.py)', 5],
    ],
  );
});

test('a filter keeps only the samples it accepts', () => {
  const profile = buildWebAppProfile();
  const users = profile.endpoints.indexOf('GET /users');
  const { root } = buildCallTree(profile, { filter: (i) => profile.samples.endpoint[i] === users });
  assert.equal(root.total, 4);
  assert.deepEqual(sortedChildren(root).map(callTreeNodeLabel), ['main (app.py:10)']);
  assert.equal(nodeAt(root, 'main (app.py:10)', 'handle (views.py:20)', 'query (db.py:5)').self, 3);
  assert.equal(buildCallTree(profile, { filter: () => false }).root.total, 0);
});

test('samples without frames count as self time of their group', () => {
  const profile = buildHandProfile([{ frames: [], times: 2 }, { frames: [frame('f', 'a.py', 1)] }]);
  assert.deepEqual([buildCallTree(profile).root.self, buildCallTree(profile).root.total], [2, 3]);
  const thread = nodeAt(buildCallTree(profile, { groupBy: 'thread' }).root, 'MainThread (100)');
  assert.deepEqual([thread.self, thread.total], [2, 3]);
});

test('recursion stays one node per level and deep stacks do not overflow', () => {
  const deep = Array.from({ length: 20_000 }, (_, i) => frame('recurse', 'r.py', 5 + (i % 2)));
  const { root } = buildCallTree(buildHandProfile([{ frames: deep }]));
  let depth = 0;
  for (const node of walkCallTree(root)) depth = Math.max(depth, node.depth);
  assert.equal(depth, 20_000);
});
