// The benchmark's report: a CPU per sample below the wake floor measured beside the same target is the two runs'
// noise, so it is marked and counts neither in the targets nor as a ratio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, renderReport } from '../../bench/lib/report.js';
import type { BenchResults } from '../../bench/lib/results.js';
import type { SamplerCostRow } from '../../bench/scenarios/sampler-cost.js';

const row = (world: string, profiler: string, cpuPerSampleUs: number): SamplerCostRow => ({
  world,
  profiler,
  rate: 100,
  cpuPerSampleUs,
  wholeRunCpuPerSampleUs: cpuPerSampleUs,
  achievedHz: 100,
});

function results(samplerCost: SamplerCostRow[]): BenchResults {
  return {
    startedAt: '2026-12-02T00:00:00.000Z',
    durationSec: 1,
    commit: 'abc1234',
    quick: false,
    machine: { cpus: 2, model: 'test', node: 'v20', kernel: 'test', loadAverageBefore: [0], loadAverageAfter: [0] },
    worlds: [],
    profilers: [],
    samplerCost,
    wakeFloor: [
      { world: '3.13', rate: 100, cpuPerWakeUs: 50 },
      { world: '3.15', rate: 100, cpuPerWakeUs: 60 },
    ],
    slowdown: [],
    web: [],
    accuracy: [],
    skipped: ['slowdown', 'web', 'accuracy', 'output'],
  };
}

test('a CPU per sample below the wake floor is left out of the targets and marked as noise', () => {
  const run = results([row('3.13', 'hotpath', 5.6), row('3.15', 'hotpath', 91.1), row('3.13', 'austin', 241.9)]);
  const at100 = checkTargets(run).find((check) => check.goal.startsWith('CPU per sample at 100 Hz'))!;
  assert.match(at100.hotpath, /^91\.1 µs \(hotpath on 3\.15\)/);
  const report = renderReport(run);
  assert.match(
    report,
    /\| 3\.13 \| hotpath \| 100 Hz \| 100 Hz \| 5\.6 µs \(noise: below the floor\) \| -44\.4 µs \| .* \| – \|/,
  );
  assert.match(report, /\| 3\.15 \| hotpath \| 100 Hz \| 100 Hz \| 91\.1 µs \| 31\.1 µs \|/);
});

test('with every hotpath figure below the floor, the target has no measurement', () => {
  const run = results([row('3.13', 'hotpath', 5.6), row('3.13', 'austin', 241.9)]);
  const at100 = checkTargets(run).find((check) => check.goal.startsWith('CPU per sample at 100 Hz'))!;
  assert.doesNotMatch(at100.hotpath, /5\.6/);
});
