// The sample schedule: absolute deadlines, each anywhere in its interval, missed samples caught up, skipping ahead
// when far behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampleSchedule } from '../../src/sampler/clock.js';
import { Rng } from '../support/fuzz.js';

test('deadlines stay on the absolute grid despite late wake-ups', () => {
  const schedule = new SampleSchedule(100, 1000, 0, () => 0.5);
  assert.equal(schedule.next(1000), 1010);
  assert.equal(schedule.next(1013), 1020); // late by 3 ms: the next deadline does not move
  assert.equal(schedule.next(1020), 1030);
});

test('by default a deadline falls anywhere in its own interval, and only there', () => {
  const low = new SampleSchedule(1000, 0, undefined, () => 0);
  const high = new SampleSchedule(1000, 0, undefined, () => 1);
  assert.ok(Math.abs(low.next(0) - 0.5) < 1e-9);
  assert.ok(Math.abs(high.next(0) - 1.5) < 1e-9);
});

test('work repeating with the period of the interval is sampled at every phase, not at a few', () => {
  // A loop spending its first quarter in one function, sampled at exactly its period: every phase must come up.
  const rng = new Rng(6);
  const schedule = new SampleSchedule(250, 0, undefined, () => rng.next32() / 2 ** 32);
  const periodMs = 4;
  let now = 0;
  let inFirstQuarter = 0;
  for (let i = 0; i < 4000; i++) {
    now = schedule.next(now);
    if (now % periodMs < periodMs / 4) inFirstQuarter++;
  }
  assert.ok(Math.abs(inFirstQuarter / 4000 - 0.25) < 0.03, `${inFirstQuarter} of 4000 in the first quarter`);
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
