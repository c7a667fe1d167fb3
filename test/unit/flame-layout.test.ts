// Flame layout geometry: widths as shares of the root, children in label order, rows for flame and icicle,
// and the minimum-width cutoff.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCallTree, callTreeNodeLabel } from '../../src/profile/index.js';
import { buildFlameLayout, type FlameRect } from '../../src/render/flame-layout.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';

function describe(rect: FlameRect): [string, number, number, number] {
  return [
    callTreeNodeLabel(rect.node),
    Math.round(rect.x * 1100) / 100,
    Math.round(rect.width * 1100) / 100,
    rect.depth,
  ];
}

test('rects are parents first, siblings left to right in label order, sized by total', () => {
  const layout = buildFlameLayout(buildCallTree(buildWebAppProfile()).root);
  assert.equal(layout.rows, 4);
  // x and width in samples (the profile has 11).
  assert.deepEqual(layout.rects.map(describe), [
    ['all', 0, 11, 0],
    ['main (app.py:10)', 0, 6, 1],
    ['handle (views.py:20)', 0, 4, 2],
    ['query (db.py:5)', 0, 3, 3],
    ['handle (views.py:21)', 4, 2, 2],
    ['render (tpl.py:7)', 4, 2, 3],
    ['run (worker.py:3)', 6, 5, 1],
    ['query (db.py:5)', 6, 4, 2],
    ['query (db.py:6)', 10, 1, 2],
  ]);
});

test('flame rows put the root at the bottom, icicle rows at the top', () => {
  const { root } = buildCallTree(buildWebAppProfile());
  const flame = buildFlameLayout(root);
  const icicle = buildFlameLayout(root, { icicle: true });
  assert.deepEqual(
    flame.rects.map((rect) => rect.row),
    flame.rects.map((rect) => 3 - rect.depth),
  );
  assert.deepEqual(
    icicle.rects.map((rect) => rect.row),
    icicle.rects.map((rect) => rect.depth),
  );
});

test('frames narrower than the minimum width are dropped with their callees', () => {
  const profile = buildHandProfile([
    { frames: [frame('big', 'a.py', 1), frame('leaf', 'a.py', 2)], times: 999 },
    { frames: [frame('tiny', 'b.py', 1), frame('below', 'b.py', 2)] },
  ]);
  const { root } = buildCallTree(profile);
  const labels = (minWidth: number) => buildFlameLayout(root, { minWidth }).rects.map((r) => r.node.name);
  assert.deepEqual(labels(0), ['all', 'big', 'leaf', 'tiny', 'below']);
  assert.deepEqual(labels(0.002), ['all', 'big', 'leaf']);
});

test('an empty tree has no rects, a subtree can be laid out on its own', () => {
  const empty = buildFlameLayout(buildCallTree(buildHandProfile([])).root);
  assert.deepEqual([empty.rects.length, empty.rows], [0, 0]);
  const { root } = buildCallTree(buildWebAppProfile());
  const run = [...root.children.values()].find((node) => node.name === 'run')!;
  const sub = buildFlameLayout(run);
  assert.deepEqual(
    sub.rects.map((rect) => [rect.node.name, rect.x, rect.width, rect.depth]),
    [
      ['run', 0, 1, 0],
      ['query', 0, 0.8, 1],
      ['query', 0.8, 0.2, 1],
    ],
  );
});
