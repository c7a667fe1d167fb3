// Per-function totals (once per sample under recursion) and the before/after diff: shares normalised by each
// profile's own sample count, functions matched by name and file across moved lines, the merged call tree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFunctionTotals,
  buildProfileDiff,
  functionName,
  walkDiffTree,
  type DiffTreeNode,
  type Profile,
} from '../../src/profile/index.js';
import { buildHandProfile, frame } from '../support/flame-profiles.js';

const main = frame('main', 'app.py', 30, 28);

/** 10 samples: parse 6, render 1, audit 3. */
function buildBefore(): Profile {
  return buildHandProfile([
    { frames: [main, frame('parse', 'app.py', 5, 3)], times: 6 },
    { frames: [main, frame('render', 'app.py', 12, 10)] },
    { frames: [main, frame('audit', 'app.py', 20, 18)], times: 3 },
  ]);
}

/** 8 samples after an edit that moved every line: parse 2, render 5, a new function 1, audit gone. */
function buildAfter(): Profile {
  const movedMain = frame('main', 'app.py', 31, 27);
  return buildHandProfile([
    { frames: [movedMain, frame('parse', 'app.py', 7, 4)], times: 2 },
    { frames: [movedMain, frame('render', 'app.py', 14, 11)], times: 5 },
    { frames: [movedMain, frame('cache', 'cache.py', 3, 1)] },
  ]);
}

function countsByName(profile: Profile, filter?: (i: number) => boolean): Record<string, [number, number]> {
  const result: Record<string, [number, number]> = {};
  for (const [func, counts] of buildFunctionTotals(profile, { filter }))
    result[functionName(profile, func)] = [counts.self, counts.total];
  return result;
}

function child(node: DiffTreeNode, name: string): DiffTreeNode {
  const found = [...node.children.values()].find((candidate) => candidate.name === name);
  assert.ok(found, `no ${name} under ${node.name}`);
  return found;
}

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

test('function totals count a recursive function once per sample', () => {
  const fib = (line: number) => frame('fib', 'calc.py', line, 1);
  const profile = buildHandProfile([
    { frames: [main, fib(2), fib(3), fib(3)], times: 4 },
    { frames: [main, fib(2)] },
    { frames: [main], times: 2 },
  ]);
  assert.deepEqual(countsByName(profile), { main: [2, 7], fib: [5, 5] });
});

test('function totals honour a sample filter', () => {
  const profile = buildBefore();
  assert.deepEqual(countsByName(profile), { main: [0, 10], parse: [6, 6], render: [1, 1], audit: [3, 3] });
  assert.deepEqual(
    countsByName(profile, (i) => i < 7),
    { main: [0, 7], parse: [6, 6], render: [1, 1] },
  );
});

test('the diff normalises each side by its own sample count and orders by the largest change', () => {
  const diff = buildProfileDiff(buildBefore(), buildAfter());
  assert.equal(diff.beforeSamples, 10);
  assert.equal(diff.afterSamples, 8);
  assert.deepEqual(
    diff.functions.map((f) => [f.name, f.status]),
    [
      ['render', 'both'],
      ['parse', 'both'],
      ['audit', 'removed'],
      ['cache', 'added'],
      ['main', 'both'],
    ],
  );
  const [render, parse, audit, cache, mainDiff] = diff.functions;
  close(render!.change.total, 5 / 8 - 1 / 10);
  close(render!.change.self, 5 / 8 - 1 / 10);
  assert.deepEqual(
    [parse!.before, parse!.after],
    [
      { self: 6, total: 6 },
      { self: 2, total: 2 },
    ],
  );
  close(parse!.beforeShare.total, 0.6);
  close(parse!.afterShare.total, 0.25);
  close(parse!.change.total, -0.35);
  assert.deepEqual(audit!.after, { self: 0, total: 0 });
  close(audit!.change.total, -0.3);
  close(cache!.change.self, 0.125);
  assert.equal(cache!.file, 'cache.py');
  close(mainDiff!.change.total, 0);
  close(mainDiff!.change.self, 0);
});

test('the merged tree takes widths from AFTER and keeps paths only BEFORE had at width 0', () => {
  const diff = buildProfileDiff(buildBefore(), buildAfter());
  const { root } = diff;
  assert.deepEqual([root.total, root.before.total], [8, 10]);
  const mainNode = child(root, 'main');
  assert.equal(root.children.size, 1, 'main matched across its moved lines');
  assert.deepEqual([mainNode.total, mainNode.before.total, mainNode.line], [8, 10, 0]);
  const parse = child(mainNode, 'parse');
  assert.deepEqual([parse.total, parse.self, parse.before.total], [2, 2, 6]);
  close(parse.change.total, -0.35);
  const audit = child(mainNode, 'audit');
  assert.deepEqual([audit.total, audit.before.total], [0, 3]);
  close(audit.change.total, -0.3);
  const cache = child(mainNode, 'cache');
  assert.deepEqual([cache.total, cache.before.total], [1, 0]);
  assert.equal(cache.func, diff.functions.find((f) => f.name === 'cache')!.id);
  for (const node of walkDiffTree(root)) {
    const below = [...node.children.values()].reduce((sum, next) => sum + next.total, 0);
    assert.equal(node.total, node.self + below);
  }
});

test('an empty side counts as zero shares, not NaN', () => {
  const empty = buildHandProfile([]);
  const diff = buildProfileDiff(empty, buildAfter());
  assert.ok(diff.functions.every((f) => f.status === 'added' && Number.isFinite(f.change.total)));
  close(diff.functions.find((f) => f.name === 'render')!.change.total, 5 / 8);
});
