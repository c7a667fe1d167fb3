// The .hotpath format with memory data (record --memory): growth per sample and RSS series read back exactly,
// files without them still read (as profiles without memory), and inconsistent memory data is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HotpathError } from '../../src/errors/index.js';
import { exportHotpathProfile, importHotpathProfile } from '../../src/export/hotpath-profile.js';
import { ProfileBuilder, SAMPLE_IDLE, type Profile, type RawFrame } from '../../src/profile/index.js';
import { buildExportProfile } from '../fixtures/export-profile.js';
import { repack, unpack } from '../support/hotpath-file.js';

const MIB = 1024 * 1024;
const frame = (name: string, line: number): RawFrame => ({ name, file: 'leak.py', line, firstLine: 1 });

/** Two processes over 3 s at 100 Hz: one grows on leak_here, one is flat; an idle thread now and then. */
function buildMemoryProfile(): Profile {
  const builder = new ProfileBuilder();
  for (let tick = 0; tick < 300; tick++) {
    const time = tick * 10 + 0.25;
    builder.addSample({ pid: 7, tid: 7, time, frames: [frame('main', 2), frame('leak_here', 9)] });
    if (tick % 3 === 0) builder.addSample({ pid: 7, tid: 8, time, frames: [frame('wait', 20)], flags: SAMPLE_IDLE });
    builder.addMemoryUsage({ pid: 7, time, residentBytes: 20 * MIB + tick * 4096 });
    builder.addSample({ pid: 9, tid: 9, time, frames: [frame('burn_cpu', 14)] });
    builder.addMemoryUsage({ pid: 9, time, residentBytes: 10 * MIB - (tick % 2) * 4096 });
  }
  return builder.build({ startTime: 1e12, durationMs: 3000, rateHz: 100, pythonVersion: '3.12.1', command: 'x' });
}

const isBadInput = (pattern: RegExp) => (error: unknown) =>
  error instanceof HotpathError && error.kind === 'bad-input-file' && pattern.test(error.message);

test('growth per sample and RSS series read back deep-equal', () => {
  const profile = buildMemoryProfile();
  assert.equal(profile.memory!.length, 2);
  assert.ok(profile.memory![0]!.time.length >= 30, 'one point per 100 ms');
  const back = importHotpathProfile(exportHotpathProfile(profile));
  assert.deepEqual(back, profile);
  assert.ok(back.samples.memoryGrowthBytes instanceof Float64Array);
  assert.equal(back.memory![0]!.grownBytes, 299 * 4096);
  assert.equal(back.memory![1]!.freedBytes, 150 * 4096);
});

test('a profile without memory writes no memory columns and reads back without them', () => {
  const profile = buildExportProfile();
  const file = exportHotpathProfile(profile);
  const { header } = unpack(file);
  assert.equal('memory' in header, false);
  assert.ok(!(header.columns as Array<{ name: string }>).some((column) => /memory/i.test(column.name)));
  const back = importHotpathProfile(file);
  assert.equal('memory' in back, false);
  assert.equal('memoryGrowthBytes' in back.samples, false);
});

test('memory data that does not add up is refused', () => {
  const { header, body } = unpack(exportHotpathProfile(buildMemoryProfile()));
  const memory = header.memory as Array<Record<string, unknown>>;
  const forged = (change: (copy: Array<Record<string, unknown>>) => void) => {
    const copy = structuredClone(memory);
    change(copy);
    return repack({ ...header, memory: copy }, body);
  };
  assert.throws(
    () => importHotpathProfile(forged((copy) => (copy[0]!.points = (copy[0]!.points as number) + 1))),
    isBadInput(/belong to no process|more points/),
  );
  assert.throws(
    () => importHotpathProfile(forged((copy) => (copy[1]!.points = 0))),
    isBadInput(/belong to no process/),
  );
  assert.throws(() => importHotpathProfile(forged((copy) => (copy[0]!.peakBytes = -1))), isBadInput(/peakBytes/));
  const withoutColumns = {
    ...header,
    columns: (header.columns as Array<{ name: string }>).filter((column) => !column.name.startsWith('memory')),
  };
  const bodyWithoutSeries = body.subarray(0, body.length - 16 * sumPoints(memory));
  assert.throws(
    () => importHotpathProfile(repack(withoutColumns, bodyWithoutSeries)),
    isBadInput(/memoryTime is missing/),
  );
});

function sumPoints(memory: Array<Record<string, unknown>>): number {
  return memory.reduce((sum, entry) => sum + (entry.points as number), 0);
}
