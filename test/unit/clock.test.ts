// The sample schedule: absolute deadlines, bounded jitter, missed samples caught up, skipping ahead when far behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleSchedule } from '../../src/sampler/clock.js';

test('deadlines stay on the absolute grid despite late wake-ups', () => {
  const schedule = new SampleSchedule(100, 1000, 0, () => 0.5);
  assert.equal(schedule.next(1000), 1010);
  assert.equal(schedule.next(1013), 1020); // late by 3 ms: the next deadline does not move
  assert.equal(schedule.next(1020), 1030);
});

test('jitter stays within ±10% of an interval', () => {
  const low = new SampleSchedule(1000, 0, 0.1, () => 0);
  const high = new SampleSchedule(1000, 0, 0.1, () => 1);
  assert.ok(Math.abs(low.next(0) - 0.9) < 1e-9);
  assert.ok(Math.abs(high.next(0) - 1.1) < 1e-9);
});

test('far behind (a stalled event loop) skips missed samples instead of bursting', () => {
  const schedule = new SampleSchedule(100, 0, 0, () => 0.5);
  schedule.next(0);
  assert.equal(schedule.next(505), 510);
});

test('a few missed samples are caught up at once, so the rate asked for is kept', () => {
  const schedule = new SampleSchedule(1000, 0, 0, () => 0.5);
  schedule.next(0);
  // Off the CPU for 5 ms (under CATCH_UP_MS): the 4 missed deadlines are due at once, then the grid goes on.
  const deadlines = [1, 2, 3, 4, 5].map(() => schedule.next(5.2));
  assert.deepEqual(deadlines, [2, 3, 4, 5, 6]);
  assert.equal(schedule.next(6), 7);
});
