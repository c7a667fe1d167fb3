// Memory growth in the profile model (record --memory): how a rise in RSS is shared among the samples of the tick
// that saw it, the thinned RSS series, the totals per process, and the derivations (lines, weighted call tree,
// filters) that read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attributedGrowthBytes,
  buildCallTree,
  buildLineGrowth,
  filterProfile,
  frameLabel,
  ProfileBuilder,
  ResidentSeries,
  SAMPLE_HAS_GIL,
  SAMPLE_IDLE,
  shareGrowth,
  type Profile,
  type RawFrame,
} from '../../src/profile/index.js';

const MIB = 1024 * 1024;
const f = (name: string, line: number): RawFrame => ({ name, file: '/srv/app.py', line, firstLine: 1 });
const MAIN = f('main', 3);
const LEAK = f('leak_here', 12);
const BURN = f('burn_cpu', 20);
const WAIT = f('wait', 30);

test('a rise goes to the running GIL holder, else evenly to the running threads; idle threads get nothing', () => {
  assert.deepEqual(shareGrowth(4096, [SAMPLE_IDLE, SAMPLE_HAS_GIL, 0]), [0, 4096, 0]);
  assert.deepEqual(shareGrowth(4096, [0, SAMPLE_IDLE, 0]), [2048, 0, 2048]);
  assert.deepEqual(shareGrowth(10, [0, 0, 0]), [4, 3, 3], 'whole bytes, the remainder to the first');
  assert.deepEqual(shareGrowth(4096, [SAMPLE_IDLE, SAMPLE_IDLE]), [0, 0], 'nobody running: nobody takes it');
  assert.deepEqual(shareGrowth(4096, []), []);
  assert.deepEqual(
    shareGrowth(4096, [SAMPLE_IDLE | SAMPLE_HAS_GIL, 0]),
    [0, 4096],
    'an idle GIL holder is not running: the running thread takes it',
  );
});

test('the series keeps one point per interval, the highest, and halves itself past its limit', () => {
  const series = new ResidentSeries(4, 100);
  [
    [0, 10],
    [40, 30],
    [90, 20],
    [100, 5],
    [250, 7],
    [310, 9],
  ].forEach(([time, bytes]) => series.add(time!, bytes!));
  assert.deepEqual([...series.points().time], [40, 100, 250, 310]);
  assert.deepEqual([...series.points().residentBytes], [30, 5, 7, 9]);
  series.add(420, 1);
  assert.equal(series.pointMs, 200, 'a fifth point doubled the interval');
  assert.deepEqual([...series.points().time], [40, 310, 420]);
  assert.deepEqual([...series.points().residentBytes], [30, 9, 1]);
  for (let time = 500; time < 100_000; time += 10) series.add(time, time);
  assert.ok(series.points().time.length <= 4);
  assert.equal(series.points().residentBytes.at(-1), 99_990, 'the last interval keeps its highest reading');
});

interface Tick {
  rss: number;
  samples: Array<{ tid: number; frames: RawFrame[]; flags?: number; pid?: number }>;
  pid?: number;
}

/** Feeds ticks as the sampler emits them: the samples of a process, then its RSS reading. */
function record(ticks: Tick[]): Profile {
  const builder = new ProfileBuilder();
  ticks.forEach((tick, i) => {
    const pid = tick.pid ?? 1;
    for (const sample of tick.samples) builder.addSample({ pid, time: i * 10, ...sample });
    builder.addMemoryUsage({ pid, time: i * 10, residentBytes: tick.rss });
  });
  return builder.build({ startTime: 0, durationMs: ticks.length * 10, rateHz: 100, pythonVersion: '', command: '' });
}

test('each rise lands on the samples of the tick that saw it; falls are freed; totals are exact', () => {
  const profile = record([
    { rss: 50 * MIB, samples: [{ tid: 1, frames: [MAIN, LEAK] }] },
    { rss: 52 * MIB, samples: [{ tid: 1, frames: [MAIN, LEAK] }] },
    {
      rss: 55 * MIB,
      samples: [
        { tid: 1, frames: [MAIN, LEAK] },
        { tid: 2, frames: [WAIT], flags: SAMPLE_IDLE },
      ],
    },
    { rss: 54 * MIB, samples: [{ tid: 1, frames: [MAIN, BURN] }] },
    { rss: 56 * MIB, samples: [{ tid: 2, frames: [WAIT], flags: SAMPLE_IDLE }] },
    { rss: 57 * MIB, samples: [{ tid: 1, frames: [MAIN, BURN] }] },
  ]);
  assert.deepEqual([...profile.samples.memoryGrowthBytes!], [0, 2 * MIB, 3 * MIB, 0, 0, 0, 1 * MIB]);
  const [memory] = profile.memory!;
  assert.equal(memory!.pid, 1);
  assert.equal(memory!.firstBytes, 50 * MIB);
  assert.equal(memory!.lastBytes, 57 * MIB);
  assert.equal(memory!.peakBytes, 57 * MIB);
  assert.equal(memory!.grownBytes, 8 * MIB);
  assert.equal(memory!.freedBytes, 1 * MIB);
  assert.equal(memory!.unattributedBytes, 2 * MIB, 'the rise seen while only an idle thread was there');
  assert.equal(attributedGrowthBytes(profile), 6 * MIB);
  assert.deepEqual([...memory!.time], [50], 'six readings within 100 ms: one point, the highest');
  assert.deepEqual([...memory!.residentBytes], [57 * MIB]);
  const lines = buildLineGrowth(profile).map(({ frame, bytes }) => [frameLabel(profile, frame), bytes]);
  assert.deepEqual(lines, [
    ['leak_here (/srv/app.py:12)', 5 * MIB],
    ['burn_cpu (/srv/app.py:20)', 1 * MIB],
  ]);
});

test('processes are apart: a rise in one goes only to its own samples of that tick', () => {
  const builder = new ProfileBuilder();
  const tick = (time: number, rssA: number, rssB: number) => {
    builder.addSample({ pid: 10, tid: 10, time, frames: [MAIN, LEAK] });
    builder.addMemoryUsage({ pid: 10, time, residentBytes: rssA });
    builder.addSample({ pid: 20, tid: 20, time, frames: [MAIN, BURN] });
    builder.addMemoryUsage({ pid: 20, time, residentBytes: rssB });
  };
  tick(0, 100, 1000);
  tick(10, 4196, 1000);
  tick(20, 4196, 9192);
  const profile = builder.build({ startTime: 0, durationMs: 30, rateHz: 100, pythonVersion: '', command: '' });
  assert.deepEqual([...profile.samples.memoryGrowthBytes!], [0, 0, 4096, 0, 0, 8192]);
  assert.deepEqual(
    profile.memory!.map((m) => [m.pid, m.grownBytes, m.unattributedBytes]),
    [
      [10, 4096, 0],
      [20, 8192, 0],
    ],
  );
});

test('without RSS readings a profile has no memory data at all', () => {
  const builder = new ProfileBuilder();
  builder.addSample({ pid: 1, tid: 1, time: 0, frames: [MAIN] });
  const profile = builder.build({ startTime: 0, durationMs: 10, rateHz: 100, pythonVersion: '', command: '' });
  assert.equal('memory' in profile, false);
  assert.equal('memoryGrowthBytes' in profile.samples, false);
  assert.deepEqual(buildLineGrowth(profile), []);
});

test('the call tree weighs samples by their growth on request; filters keep the growth of what they keep', () => {
  const profile = record([
    { rss: 0, samples: [{ tid: 1, frames: [MAIN, LEAK] }] },
    { rss: 3 * MIB, samples: [{ tid: 1, frames: [MAIN, LEAK] }] },
    { rss: 4 * MIB, samples: [{ tid: 1, frames: [MAIN, BURN] }] },
    { rss: 4 * MIB, samples: [{ tid: 1, frames: [MAIN, BURN] }] },
  ]);
  const bySamples = buildCallTree(profile).root;
  assert.equal(bySamples.total, 4);
  const byGrowth = buildCallTree(profile, { weight: 'memory' }).root;
  assert.equal(byGrowth.total, 4 * MIB);
  const main = [...byGrowth.children.values()][0]!;
  assert.deepEqual(
    [...main.children.values()].map((node) => [node.name, node.self]),
    [
      ['leak_here', 3 * MIB],
      ['burn_cpu', 1 * MIB],
    ],
  );
  const lastTwo = filterProfile(profile, (i) => i >= 2);
  assert.deepEqual([...lastTwo.samples.memoryGrowthBytes!], [1 * MIB, 0]);
  assert.equal(lastTwo.memory, profile.memory, 'the RSS series is per process: kept whole');
});
