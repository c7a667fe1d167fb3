// The benchmark's arithmetic: medians, spreads, paired ratios, marginal costs and ratios to the best reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findBest, median, pairedRatios, ratioToBest, spreadOf, windowCostPerUnit } from '../../bench/lib/stats.js';
import { formatSpread } from '../../bench/lib/report.js';

test('median of odd and even counts, unsorted input left alone', () => {
  const values = [5, 1, 3];
  assert.equal(median(values), 3);
  assert.deepEqual(values, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('spread ignores runs that failed (NaN)', () => {
  assert.deepEqual(spreadOf([1.02, NaN, 0.98, 1.1]), { n: 3, median: 1.02, min: 0.98, max: 1.1 });
  assert.equal(spreadOf([NaN]).n, 0);
});

test('paired ratios divide run i by baseline run i', () => {
  assert.deepEqual(pairedRatios([2, 3, 5], [1, 2, 4]), [2, 1.5, 1.25]);
  assert.throws(() => pairedRatios([1], [1, 2]));
});

test('cost per unit over a window counts units at the marginal rate, start-up excluded', () => {
  // Sampling at 1,000 Hz starts 0.3 s after launch: 700 samples in a 1 s run, 3,700 in a 4 s one. A window of 2 s
  // in the long run cost 40 ms: 20 µs per sample.
  const short = { units: 700, seconds: 1 };
  const long = { units: 3700, seconds: 4 };
  assert.ok(Math.abs(windowCostPerUnit({ cost: 0.04, seconds: 2 }, short, long) - 20e-6) < 1e-12);
  assert.ok(Number.isNaN(windowCostPerUnit({ cost: 0.04, seconds: 2 }, short, { units: 700, seconds: 4 })));
});

test('the best reference is the cheapest finite one, or the largest when higher is better', () => {
  const refs = [
    { name: 'austin', value: 100 },
    { name: 'Tachyon', value: 33 },
    { name: 'broken', value: NaN },
  ];
  assert.equal(findBest(refs)?.name, 'Tachyon');
  assert.equal(findBest(refs, true)?.name, 'austin');
  assert.deepEqual(ratioToBest(16.5, refs), { ratio: 0.5, best: refs[1] });
  assert.equal(ratioToBest(10, [{ name: 'x', value: NaN }]), undefined);
});

test('a spread reads "median [min – max]"', () => {
  const text = formatSpread({ n: 3, median: 1.004, min: 0.99, max: 1.02 }, (r) => `${((r - 1) * 100).toFixed(1)} %`);
  assert.equal(text, '0.4 % [-1.0 % – 2.0 %]');
  assert.equal(formatSpread({ n: 0, median: NaN, min: NaN, max: NaN }, String), '–');
});
