// The HTML report's data and the client's arithmetic over it, in Node: the embedded tree, records and columns
// decode to the same numbers the profile layer computes (call tree, function totals), under every filter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFunctionTotals, functionName, ProfileBuilder, type Profile } from '../../src/profile/index.js';
import { buildReportData, chooseTimeline } from '../../src/render/html-report-data.js';
import { encodeColumn } from '../../src/render/page-columns.js';
import { decodeColumn } from '../../src/render/html-client/columns.js';
import { buildFlameTree, findMatches, layoutOffsets, sumTotals } from '../../src/render/html-client/flame-model.js';
import {
  countNodes,
  decodeReport,
  displayedLines,
  endpointRows,
  frameCounts,
  functionRows,
  lineRows,
  nodeLabel,
  timelineRows,
  type ReportModel,
} from '../../src/render/html-client/report-model.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';
import { callTreeTotals, modelTotals } from '../support/report-totals.js';

function decode(profile: Profile): ReportModel {
  return decodeReport(JSON.parse(JSON.stringify(buildReportData(profile, 'test'))));
}

test('the tree is embedded depth first in label order, with the timeline at the sampling resolution', () => {
  const profile = buildWebAppProfile();
  const data = buildReportData(profile, 'Web app');
  assert.deepEqual([data.kind, data.title, data.meta.samples, data.meta.command], ['report', 'Web app', 11, 'app.py']);
  assert.deepEqual(data.timeline, { bucketMs: 10, buckets: 12 });
  assert.deepEqual(data.endpoints, ['GET /users', 'GET /page']);
  assert.deepEqual(data.processes, [
    [10, 'python app.py'],
    [11, 'python worker.py'],
  ]);
  const model = decode(profile);
  assert.deepEqual(
    Array.from({ length: model.tree.size }, (_, node) => nodeLabel(model, node)),
    [
      'all',
      'main (app.py:10)',
      'handle (views.py:20)',
      'query (db.py:5)',
      'handle (views.py:21)',
      'render (tpl.py:7)',
      'run (worker.py:3)',
      'query (db.py:5)',
      'query (db.py:6)',
    ],
  );
  assert.equal(
    decodeColumn(data.records.count).reduce((a, b) => a + b, 0),
    11,
  );
});

test('node totals equal the call tree for no filter, an endpoint, a time range, and both', () => {
  const profile = buildWebAppProfile();
  const model = decode(profile);
  const users = profile.endpoints.indexOf('GET /users');
  const inRange = (i: number) => profile.samples.time[i]! >= 10 && profile.samples.time[i]! < 50;
  assert.deepEqual(modelTotals(model, { endpoint: null, range: null }), callTreeTotals(profile));
  assert.deepEqual(
    modelTotals(model, { endpoint: users + 1, range: null }),
    callTreeTotals(profile, (i) => profile.samples.endpoint[i] === users),
  );
  assert.deepEqual(
    modelTotals(model, { endpoint: 0, range: null }),
    callTreeTotals(profile, (i) => profile.samples.endpoint[i] === -1),
  );
  assert.deepEqual(modelTotals(model, { endpoint: null, range: [1, 4] }), callTreeTotals(profile, inRange));
  assert.deepEqual(
    modelTotals(model, { endpoint: users + 1, range: [1, 4] }),
    callTreeTotals(profile, (i) => inRange(i) && profile.samples.endpoint[i] === users),
  );
});

test('function rows count a recursive function once per sample, like buildFunctionTotals', () => {
  const fib = (line: number) => frame('fib', 'calc.py', line, 1);
  const main = frame('main', 'app.py', 9, 1);
  const profile = buildHandProfile([
    { frames: [main, fib(2), fib(3), fib(3)], times: 4 },
    { frames: [main, fib(2)], times: 2 },
    { frames: [main] },
  ]);
  const model = decode(profile);
  const counts = countNodes(model, { endpoint: null, range: null });
  const rows = functionRows(model, counts.self, counts.total);
  const expected = [...buildFunctionTotals(profile)].map(([func, c]) => [functionName(profile, func), c.self, c.total]);
  assert.deepEqual(rows.map((row) => [row.name, row.self, row.total]).sort(), expected.sort());
  assert.deepEqual(
    rows.find((row) => row.name === 'fib'),
    {
      func: rows.find((row) => row.name === 'fib')!.func,
      name: 'fib',
      file: 'calc.py',
      firstLine: 1,
      self: 6,
      total: 6,
    },
  );
  // Lines: fib:3 is on the stack of 4 samples (once each though it appears twice), fib:2 on 6.
  const fibRow = rows.find((row) => row.name === 'fib')!;
  assert.deepEqual(lineRows(model, fibRow.func, frameCounts(model, counts.self, counts.total)), [
    { line: 2, self: 2, total: 6 },
    { line: 3, self: 4, total: 4 },
  ]);
});

test('endpoint rows give samples and top self functions per endpoint within a time range', () => {
  const model = decode(buildWebAppProfile());
  assert.deepEqual(
    endpointRows(model, null).map((row) => [row.label, row.samples, row.top.map((top) => [top.name, top.self])]),
    [
      ['(no request)', 5, [['query', 5]]],
      [
        'GET /users',
        4,
        [
          ['query', 3],
          ['handle', 1],
        ],
      ],
      ['GET /page', 2, [['render', 2]]],
    ],
  );
  assert.deepEqual(
    endpointRows(model, [4, 6]).map((row) => [row.label, row.samples]),
    [
      ['GET /page', 2],
      ['GET /users', 1],
    ],
  );
});

test('timeline rows count samples per thread per bucket, busiest first, folding the rest', () => {
  const model = decode(buildWebAppProfile());
  const rows = timelineRows(model, null);
  assert.deepEqual(
    rows.map((row) => [row.label, row.samples, Array.from(row.counts)]),
    [
      ['pid 10 · MainThread (100)', 6, [0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]],
      ['pid 11 · worker (101)', 5, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]],
    ],
  );
  const folded = timelineRows(model, null, 1);
  assert.deepEqual(
    folded.map((row) => [row.thread, row.label, row.samples]),
    [[-1, '2 other threads', 11]],
  );
  assert.deepEqual(
    timelineRows(model, 2).map((row) => [row.label, row.samples]),
    [['pid 10 · MainThread (100)', 2]],
  );
});

test('many samples aggregate into one record per (bucket, thread, endpoint, node)', () => {
  const builder = new ProfileBuilder();
  for (let i = 0; i < 1000; i++) {
    builder.addSample({
      frames: [frame('main', 'app.py', 1), frame(i % 2 ? 'a' : 'b', 'app.py', 2)],
      time: i,
      pid: 1,
      tid: 1,
      endpoint: i % 4 < 2 ? 'GET /' : undefined,
    });
  }
  const profile = builder.build({ startTime: 0, durationMs: 1000, rateHz: 1000, pythonVersion: '3.12', command: 'x' });
  const data = buildReportData(profile, 'agg');
  assert.deepEqual(data.timeline, { bucketMs: 5, buckets: 200 });
  const counts = decodeColumn(data.records.count);
  assert.equal(counts.length, 200 * 4);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    1000,
  );
});

test('the timeline bucket is a 1-2-5 step keeping at most 400 bars', () => {
  const at = (durationMs: number, rateHz: number) =>
    chooseTimeline({
      ...buildHandProfile([]),
      meta: {
        startTime: 0,
        durationMs,
        rateHz,
        pythonVersion: '',
        command: '',
        stats: { attempted: 0, taken: 0, dropped: {} },
      },
    });
  assert.deepEqual(at(60_000, 100), { bucketMs: 200, buckets: 300 });
  assert.deepEqual(at(3_600_000, 100), { bucketMs: 10_000, buckets: 360 });
  assert.deepEqual(at(1000, 1000), { bucketMs: 5, buckets: 200 });
});

test('sources travel only for files the profile has functions in', () => {
  const builder = new ProfileBuilder();
  builder.addSample({ frames: [frame('main', '/srv/app.py', 2, 1)], time: 0, pid: 1, tid: 1 });
  builder.addSource('/srv/app.py', ['def main():', '    work()']);
  builder.addSource('/srv/other.py', ['x = 1']);
  builder.addSource('__proto__', ['odd but legal']);
  const data = buildReportData(
    builder.build({ startTime: 0, durationMs: 10, rateHz: 100, pythonVersion: '', command: '' }),
    't',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(data.sources)), { '/srv/app.py': ['def main():', '    work()'] });
});

test('columns round-trip at 1, 2 and 4 bytes and refuse what Int32Array cannot hold', () => {
  for (const values of [[0, 1, 255], [0, 256, 65535], [0, 65536, 2 ** 31 - 1], []]) {
    const column = encodeColumn(values);
    assert.deepEqual(Array.from(decodeColumn(column)), values);
  }
  assert.deepEqual(
    [[255], [256], [65536]].map((values) => encodeColumn(values).width),
    [1, 2, 4],
  );
  assert.throws(() => encodeColumn([-1]), RangeError);
  assert.throws(() => encodeColumn([2 ** 31]), RangeError);
  assert.throws(() => encodeColumn([1.5]), RangeError);
});

test('flame arithmetic: totals, offsets, nested matches counted once, subtree ends', () => {
  // 0 all ─ 1 a ─ 2 b ─ 3 a
  //       └ 4 c
  const tree = buildFlameTree(Int32Array.from([-1, 0, 1, 2, 0]));
  assert.deepEqual(Array.from(tree.end), [5, 4, 4, 4, 5]);
  assert.deepEqual(Array.from(tree.depth), [0, 1, 2, 3, 1]);
  const total = sumTotals(tree, [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(total), [10, 6, 5, 3, 4]);
  assert.deepEqual(Array.from(layoutOffsets(tree, total)), [0, 0, 0, 0, 6]);
  const labels = ['all', 'a', 'b', 'a', 'c'];
  const result = findMatches(tree, total, /^a$/, (node) => labels[node]!);
  assert.deepEqual(Array.from(result.matched), [0, 1, 0, 1, 0]);
  assert.equal(result.samples, 6);
  assert.equal(findMatches(tree, total, /all|c/, (node) => labels[node]!).samples, 4);
  assert.throws(() => buildFlameTree(Int32Array.from([-1, 2, 0])), /depth first/);
});

test('line views list the whole function when short, sampled lines with context when long', () => {
  assert.deepEqual(displayedLines([12, 14], 10, 100), [10, 11, 12, 13, 14]);
  assert.deepEqual(displayedLines([12, 14], 0, 100), [12, 13, 14]);
  assert.deepEqual(displayedLines([12, 200], 10, 300), [11, 12, 13, null, 199, 200, 201]);
  assert.deepEqual(displayedLines([3, 7], 1, undefined), [3, null, 7]);
  assert.deepEqual(displayedLines([5, 6], 4, 5), [4, 5, 6]);
  assert.deepEqual(displayedLines([], 4, 5), []);
});
