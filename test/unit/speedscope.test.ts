// exportSpeedscope and importSpeedscope: file structure per speedscope's spec, counts per function and thread
// equal the fixture's, our files read back to the same counts, evented files from other tools are sampled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HotpathError } from '../../src/errors/index.js';
import {
  exportSpeedscope,
  SPEEDSCOPE_SCHEMA,
  type SpeedscopeFile,
  type SpeedscopeSampledProfile,
} from '../../src/export/speedscope.js';
import { importSpeedscope } from '../../src/export/speedscope-import.js';
import { functionName, stackFrames, type Profile } from '../../src/profile/index.js';
import { buildExportProfile, EXPECTED, INTERVAL_MS, RATE_HZ, START_TIME } from '../fixtures/export-profile.js';

const exported = (): SpeedscopeFile => JSON.parse(exportSpeedscope(buildExportProfile()).toString()) as SpeedscopeFile;

/** Self and total (once per sample) counts per function name, read from a speedscope file. */
function countsFromFile(file: SpeedscopeFile): Map<string, { self: number; total: number }> {
  const counts = new Map<string, { self: number; total: number }>();
  for (const profile of file.profiles as SpeedscopeSampledProfile[]) {
    profile.samples.forEach((stack, i) => {
      const samples = profile.weights[i]! / INTERVAL_MS;
      const names = stack.map((frame) => file.shared.frames[frame]!.name);
      for (const name of new Set(names)) {
        const entry = counts.get(name) ?? { self: 0, total: 0 };
        entry.total += samples;
        if (name === names[names.length - 1]) entry.self += samples;
        counts.set(name, entry);
      }
    });
  }
  return counts;
}

/** Self and total counts per function name, read from a Profile. */
function countsFromProfile(profile: Profile): Map<string, { self: number; total: number }> {
  const counts = new Map<string, { self: number; total: number }>();
  for (let i = 0; i < profile.samples.count; i++) {
    const names = stackFrames(profile, profile.samples.stack[i]!).map((frame) =>
      functionName(profile, profile.frames[frame]!.func),
    );
    for (const name of new Set(names)) {
      const entry = counts.get(name) ?? { self: 0, total: 0 };
      entry.total++;
      if (name === names[names.length - 1]) entry.self++;
      counts.set(name, entry);
    }
  }
  return counts;
}

const expectedCounts = () =>
  new Map(Object.entries(EXPECTED.functions).map(([name, facts]) => [name, { self: facts.self, total: facts.total }]));

test('the file has the schema, shared frames with name/file/line/col as py-spy writes them and one sampled profile per thread', () => {
  const file = exported();
  assert.equal(file.$schema, SPEEDSCOPE_SCHEMA);
  assert.deepEqual(
    file.profiles.map((p) => p.name),
    ['Process 100 Thread 100 "MainThread"', 'Process 100 Thread 101 "worker-1"', 'Process 200 Thread 201'],
  );
  assert.ok(file.profiles.every((p) => p.type === 'sampled' && p.unit === 'milliseconds'));
  assert.deepEqual(
    file.shared.frames.find((frame) => frame.name === 'größe_berechnen'),
    {
      name: 'größe_berechnen',
      file: 'app.py',
      line: 31,
      col: null,
    },
  );
  const labels = file.shared.frames.map((frame) => `${frame.name} ${frame.file}:${frame.line}`);
  assert.equal(new Set(labels).size, labels.length, 'frames are shared, not repeated');
  assert.equal(file.activeProfileIndex, 0, 'the busiest thread opens first');
});

test('stacks are root first, one entry per sample (as py-spy writes them), and weights are milliseconds', () => {
  const file = exported();
  const worker = file.profiles[1] as SpeedscopeSampledProfile;
  const names = (stack: number[]) => stack.map((frame) => file.shared.frames[frame]!.name);
  assert.deepEqual(names(worker.samples[2]!), ['main', 'handle_request', 'fib', 'fib', 'fib']);
  assert.deepEqual(names(worker.samples[3]!), names(worker.samples[2]!));
  assert.deepEqual(worker.weights, [10, 10, 10, 10], 'two identical fib samples in a row stay two entries');
  assert.equal(worker.startValue, 0);
  assert.equal(worker.endValue, 40);
  for (const profile of file.profiles as SpeedscopeSampledProfile[]) {
    assert.equal(profile.samples.length, profile.weights.length);
    const tid = Number(/Thread (\d+)/.exec(profile.name)![1]);
    assert.equal(profile.endValue - profile.startValue, EXPECTED.threads[tid]! * INTERVAL_MS, profile.name);
  }
});

test('samples per function in the file equal the profile', () => {
  assert.deepEqual(countsFromFile(exported()), expectedCounts());
});

test('importSpeedscope reads our file back with the same threads, counts and metadata', () => {
  const original = buildExportProfile();
  const back = importSpeedscope(exportSpeedscope(original));
  assert.deepEqual(countsFromProfile(back), expectedCounts());
  assert.deepEqual(
    back.threads.map((t) => [t.pid, t.tid, t.name]),
    [
      [100, 100, 'MainThread'],
      [100, 101, 'worker-1'],
      [200, 201, ''],
    ],
  );
  assert.equal(back.samples.count, EXPECTED.samples);
  assert.equal(back.meta.rateHz, RATE_HZ);
  assert.equal(back.meta.startTime, START_TIME);
  assert.equal(back.meta.command, 'gunicorn app:app');
  const fib = back.frames.find((frame) => functionName(back, frame.func) === 'fib' && frame.line === 3);
  assert.ok(fib, 'executing lines survive');
  const workerTimes = [...back.samples.time].filter((_, i) => back.threads[back.samples.thread[i]!]!.tid === 101);
  assert.deepEqual(workerTimes, [0, 10, 20, 30]);
});

test('a profile with an unknown rate exports weights as counts and reads back the same counts', () => {
  const original = buildExportProfile();
  const unknownRate: Profile = { ...original, meta: { ...original.meta, rateHz: 0 } };
  const file = JSON.parse(exportSpeedscope(unknownRate).toString()) as SpeedscopeFile;
  assert.ok(file.profiles.every((p) => p.unit === 'none'));
  assert.deepEqual((file.profiles[1] as SpeedscopeSampledProfile).weights, [1, 1, 1, 1]);
  assert.deepEqual(countsFromProfile(importSpeedscope(file)), expectedCounts());
});

test('evented profiles from other tools are sampled on a 1 ms grid', () => {
  const file = {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames: [{ name: 'outer', file: 'a.py', line: 1 }, { name: 'inner' }] },
    profiles: [
      {
        type: 'evented',
        name: 'trace',
        unit: 'microseconds',
        startValue: 0,
        endValue: 10_000,
        events: [
          { type: 'O', frame: 0, at: 0 },
          { type: 'O', frame: 1, at: 2_000 },
          { type: 'C', frame: 1, at: 5_000 },
          { type: 'C', frame: 0, at: 8_000 },
        ],
      },
    ],
  };
  const profile = importSpeedscope(file);
  assert.equal(profile.meta.rateHz, 1000);
  assert.deepEqual(
    countsFromProfile(profile),
    new Map([
      ['outer', { self: 5, total: 8 }],
      ['inner', { self: 3, total: 3 }],
    ]),
  );
  assert.equal(profile.threads[0]!.name, 'trace');
});

test('sampled profiles from other tools take their smallest weight as the interval', () => {
  const file = {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames: [{ name: 'a' }, { name: 'b' }] },
    profiles: [
      {
        type: 'sampled',
        name: 'x',
        unit: 'seconds',
        startValue: 0,
        endValue: 0.05,
        samples: [[0], [0, 1]],
        weights: [0.02, 0.01],
      },
    ],
  };
  const profile = importSpeedscope(file);
  assert.equal(profile.meta.rateHz, 100);
  assert.equal(profile.samples.count, 3);
  assert.deepEqual([...profile.samples.time], [0, 10, 20]);
});

test("py-spy's files: threads from its profile names, frames whose line and col are null", () => {
  const sampled = (name: string, samples: number[][]) => ({
    type: 'sampled',
    name,
    unit: 'seconds',
    startValue: 0,
    endValue: 0.01 * samples.length,
    samples,
    weights: samples.map(() => 0.01),
  });
  const file = {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: {
      frames: [
        { name: '<module>', file: 'app.py', line: 9, col: null },
        { name: 'work', file: 'app.py', line: null, col: null },
      ],
    },
    profiles: [
      sampled('Process 7 Thread 8 "MainThread"', [[0, 1]]),
      sampled('Thread 9 "CustomThreadName-0"', [[0]]),
      sampled('process 7 thread worker (10)', [[0]]),
    ],
  };
  const profile = importSpeedscope(file);
  assert.deepEqual(
    profile.threads.map((t) => [t.pid, t.tid, t.name]),
    [
      [7, 8, 'MainThread'],
      [0, 9, 'CustomThreadName-0'],
      [7, 10, 'worker'],
    ],
  );
  assert.deepEqual(
    profile.frames.map((f) => [profile.strings[profile.functions[f.func]!.name], f.line]),
    [
      ['<module>', 9],
      ['work', 0],
    ],
  );
});

test('malformed files fail with bad-input-file and say what is wrong', () => {
  const valid = exported();
  const cases: [unknown, RegExp][] = [
    ['{not json', /JSON does not parse/],
    [{ ...valid, $schema: 'x' }, /\$schema/],
    [{ ...valid, shared: {} }, /shared\.frames is not an array/],
    [{ ...valid, profiles: [{ ...valid.profiles[0], samples: [[999]], weights: [10] }] }, /samples\[0\]\[0\] is 999/],
    [{ ...valid, profiles: [{ ...valid.profiles[0], weights: [1] }] }, /5 samples but 1 weights/],
    [
      { ...valid, profiles: [{ ...valid.profiles[0], weights: [1e12, 10, 10, 10, 10] }] },
      /more samples than hotpath loads/,
    ],
    [
      {
        ...valid,
        profiles: [
          {
            type: 'evented',
            name: 'e',
            unit: 'milliseconds',
            startValue: 0,
            endValue: 5,
            events: [{ type: 'C', frame: 0, at: 1 }],
          },
        ],
      },
      /closes frame 0, but the innermost open frame is none/,
    ],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => importSpeedscope(input as object),
      (error: unknown) =>
        error instanceof HotpathError && error.kind === 'bad-input-file' && message.test(error.message),
      String(message),
    );
  }
});
