// exportHotpathProfile / importHotpathProfile: an exact round trip, and every damaged file (truncated,
// corrupted, inconsistent, oversized) is refused with HotpathError('bad-input-file'), never a crash or a hang.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { HotpathError } from '../../src/errors/index.js';
import { exportHotpathProfile, importHotpathProfile } from '../../src/export/hotpath-profile.js';
import { ProfileBuilder } from '../../src/profile/index.js';
import { buildExportProfile } from '../fixtures/export-profile.js';
import { repack, unpack } from '../support/hotpath-file.js';

const isBadInput = (pattern: RegExp) => (error: unknown) =>
  error instanceof HotpathError && error.kind === 'bad-input-file' && pattern.test(error.message);

test('a profile reads back deep-equal, typed arrays, sources map and stats included', () => {
  const profile = buildExportProfile();
  profile.meta.stats.dropped['torn-read'] = 3;
  const back = importHotpathProfile(exportHotpathProfile(profile));
  assert.deepEqual(back, profile);
  assert.ok(back.samples.time instanceof Float64Array);
  assert.equal(back.sources.get('calc.py')![2], '    return fib(n - 1) + fib(n - 2)');
});

test('an empty profile and fractional times round-trip exactly', () => {
  const empty = new ProfileBuilder().build({ startTime: 0, durationMs: 0, rateHz: 0, pythonVersion: '', command: '' });
  assert.deepEqual(importHotpathProfile(exportHotpathProfile(empty)), empty);
  const builder = new ProfileBuilder();
  builder.addSample({ frames: [{ name: 'f', file: 'f.py', line: 1 }], time: 0.1 + 0.2, pid: 1, tid: 1 });
  const profile = builder.build({
    startTime: 1.5,
    durationMs: 1 / 3,
    rateHz: 97,
    pythonVersion: '3.9.18',
    command: 'x',
  });
  assert.deepEqual(importHotpathProfile(exportHotpathProfile(profile)), profile);
});

test('the file is gzip and much smaller than the JSON of the same samples', () => {
  const builder = new ProfileBuilder();
  for (let i = 0; i < 20_000; i++) {
    builder.addSample({
      frames: [
        { name: 'main', file: 'app.py', line: 3 },
        { name: `handler_${i % 7}`, file: 'app.py', line: 10 + (i % 7) },
      ],
      time: i * 10,
      pid: 1,
      tid: 1 + (i % 3),
    });
  }
  const profile = builder.build({ startTime: 0, durationMs: 200_000, rateHz: 100, pythonVersion: '', command: '' });
  const file = exportHotpathProfile(profile);
  assert.deepEqual([file[0], file[1]], [0x1f, 0x8b]);
  assert.ok(file.length < 40_000, `20k samples in ${file.length} bytes`);
});

test('every truncation of a file is refused with bad-input-file', () => {
  const file = exportHotpathProfile(buildExportProfile());
  for (let length = 0; length < file.length; length++) {
    assert.throws(() => importHotpathProfile(file.subarray(0, length)), isBadInput(/not a valid hotpath profile/));
  }
});

test('corrupted bytes anywhere are refused with bad-input-file', () => {
  const file = exportHotpathProfile(buildExportProfile());
  for (let offset = 0; offset < file.length; offset++) {
    const damaged = Buffer.from(file);
    damaged[offset] = damaged[offset]! ^ 0x5a;
    try {
      importHotpathProfile(damaged);
    } catch (error) {
      assert.ok(isBadInput(/./)(error), `offset ${offset}: ${String(error)}`);
    }
  }
});

test('corrupted payloads behind a valid gzip stream are refused by the consistency checks', () => {
  const file = exportHotpathProfile(buildExportProfile());
  const { header, body } = unpack(file);
  const columns = header.columns as { name: string; type: string; length: number }[];
  const withColumn = (name: string, patch: object) =>
    repack({ ...header, columns: columns.map((c) => (c.name === name ? { ...c, ...patch } : c)) }, body);
  const stackParentOffset = columns
    .slice(
      0,
      columns.findIndex((c) => c.name === 'stackParent'),
    )
    .reduce((sum, c) => sum + c.length * (c.type === 'int32' ? 4 : c.type === 'float64' ? 8 : 1), 0);
  const cyclic = Buffer.from(body);
  cyclic.writeInt32LE(5, stackParentOffset);
  const cases: [Buffer, RegExp][] = [
    [gzipSync(Buffer.from('not a profile at all')), /no hotpath header/],
    [Buffer.from('plain text'), /does not start with a gzip header/],
    [repack({ ...header, schemaVersion: 99 }, body), /newer hotpath \(schema 99/],
    [repack(header, body.subarray(0, body.length - 1)), /runs past the end/],
    [repack(header, Buffer.concat([body, Buffer.alloc(3)])), /3 bytes follow the last column/],
    [withColumn('sampleTime', { length: 1e15 }), /sampleTime runs past the end/],
    [withColumn('sampleFlags', { type: 'int64' }), /type "int64" is unknown/],
    [repack({ ...header, strings: ['only one'] }, body), /functionName\[\d+\] is \d+, outside \[0, 1\)/],
    [repack({ ...header, threads: [] }, body), /sampleThread\[0\] is 0, outside \[0, 0\)/],
    [repack({ ...header, meta: { ...(header.meta as object), rateHz: 'fast' } }, body), /meta\.rateHz/],
    [repack(header, cyclic), /stackParent\[0\] is 5, not an earlier stack/],
  ];
  for (const [damaged, pattern] of cases)
    assert.throws(() => importHotpathProfile(damaged), isBadInput(pattern), String(pattern));
});

test('a gzip bomb is refused before it exhausts memory', () => {
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  assert.ok(bomb.length < 16 * 1024);
  assert.throws(
    () => importHotpathProfile(bomb, { maxBytes: 1024 * 1024 }),
    isBadInput(/inflates to more than 1048576 bytes/),
  );
});
