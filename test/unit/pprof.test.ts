// exportPprof: decodes the gzipped profile.proto with a tiny reader and checks tables, values and labels
// against the fixture's facts (go tool pprof itself is exercised in test/live/export-consumers.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { exportPprof } from '../../src/export/pprof.js';
import { ProtobufWriter } from '../../src/export/protobuf-writer.js';
import { ProfileBuilder, stackFrames, type Profile } from '../../src/profile/index.js';
import { buildExportProfile, EXPECTED, START_TIME } from '../fixtures/export-profile.js';
import { buildInterleavedProfile, countSamples } from '../fixtures/interleaved-profile.js';
import { decodeMessage, decodePprof, messages, num, packed } from '../support/pprof-decoder.js';

const META = { startTime: START_TIME, durationMs: 10, rateHz: 100, pythonVersion: '3.12.1', command: 'app' };

function decodeProfile() {
  const root = decodeMessage(gunzipSync(exportPprof(buildExportProfile())));
  const strings = (root.get(6) ?? []).map((b) => (b as Buffer).toString('utf8'));
  const functions = new Map(messages(root, 5).map((f) => [num(f, 1), f]));
  const locations = new Map(messages(root, 4).map((l) => [num(l, 1), messages(l, 4)[0]!]));
  const functionNameOfLocation = (id: number) => strings[num(functions.get(num(locations.get(id)!, 1))!, 2)]!;
  const samples = messages(root, 2).map((s) => ({
    locations: packed(s.get(1)?.[0] as Buffer),
    values: packed(s.get(2)?.[0] as Buffer),
    labels: Object.fromEntries(
      messages(s, 3).map((l) => [strings[num(l, 1)]!, l.has(2) ? strings[num(l, 2)]! : num(l, 3)]),
    ) as Record<string, string | number>,
  }));
  return { root, strings, functions, locations, samples, functionNameOfLocation };
}

test('string table starts with "" and sample types are samples/count and cpu/nanoseconds', () => {
  const { root, strings } = decodeProfile();
  assert.equal(strings[0], '');
  const types = messages(root, 1).map((t) => `${strings[num(t, 1)]}/${strings[num(t, 2)]}`);
  assert.deepEqual(types, ['samples/count', 'cpu/nanoseconds']);
  const periodType = messages(root, 11)[0]!;
  assert.equal(`${strings[num(periodType, 1)]}/${strings[num(periodType, 2)]}`, 'cpu/nanoseconds');
  assert.equal(num(root, 12), 10_000_000, 'period = 1e9 / 100 Hz');
  assert.equal(num(root, 10), 50_000_000, 'duration_nanos');
  assert.equal(BigInt(num(root, 9)), BigInt(START_TIME) * 1_000_000n, 'time_nanos');
  assert.equal(strings[num(root, 14)], 'cpu', 'default sample type');
});

test('functions carry name, system name, file and first line', () => {
  const { functions, strings } = decodeProfile();
  const byName = new Map([...functions.values()].map((f) => [strings[num(f, 2)]!, f]));
  for (const [name, facts] of Object.entries(EXPECTED.functions)) {
    const entry = byName.get(name);
    assert.ok(entry, `function ${name}`);
    assert.equal(strings[num(entry, 3)], name);
    assert.equal(strings[num(entry, 4)], facts.file);
    assert.equal(num(entry, 5), facts.firstLine);
  }
});

test('flat and cumulative sample counts per function equal the profile', () => {
  const { samples, functionNameOfLocation } = decodeProfile();
  const flat = new Map<string, number>();
  const cum = new Map<string, number>();
  let total = 0;
  for (const sample of samples) {
    const [count, cpu] = sample.values;
    assert.equal(cpu, count! * 10_000_000);
    total += count!;
    const names = sample.locations.map(functionNameOfLocation);
    if (names.length) flat.set(names[0]!, (flat.get(names[0]!) ?? 0) + count!);
    for (const name of new Set(names)) cum.set(name, (cum.get(name) ?? 0) + count!);
  }
  assert.equal(total, EXPECTED.samples);
  for (const [name, facts] of Object.entries(EXPECTED.functions)) {
    assert.equal(flat.get(name) ?? 0, facts.self, `flat ${name}`);
    assert.equal(cum.get(name), facts.total, `cum ${name}`);
  }
});

test('locations are leaf first and carry the executing line', () => {
  const { samples, locations, functionNameOfLocation } = decodeProfile();
  const fibSample = samples.find((s) => s.labels.tid === 101 && s.labels.endpoint === 'POST /fib')!;
  assert.deepEqual(fibSample.locations.map(functionNameOfLocation), ['fib', 'fib', 'fib', 'handle_request', 'main']);
  assert.deepEqual(
    fibSample.locations.map((id) => num(locations.get(id)!, 2)),
    [3, 3, 2, 15, 2],
  );
});

test('labels name thread, tid, pid and endpoint when known', () => {
  const { samples } = decodeProfile();
  const perTid = new Map<number, number>();
  for (const sample of samples)
    perTid.set(sample.labels.tid as number, (perTid.get(sample.labels.tid as number) ?? 0) + sample.values[0]!);
  assert.deepEqual(Object.fromEntries(perTid), EXPECTED.threads);
  const main = samples.find((s) => s.labels.tid === 100 && s.labels.endpoint)!;
  assert.deepEqual(main.labels, { thread: 'MainThread', tid: 100, pid: 100, endpoint: 'GET /users/{id}' });
  const unnamed = samples.find((s) => s.labels.tid === 201)!;
  assert.deepEqual(unnamed.labels, { tid: 201, pid: 200 }, 'no thread name, no endpoint');
  const list = samples.find((s) => s.labels.tid === 101 && s.labels.endpoint !== 'POST /fib')!;
  assert.equal(list.labels.endpoint, 'GET /ユーザー');
});

test("labels: 'pyroscope' writes thread name and pid as strings, no tid, and sums threads sharing them", () => {
  const pyroscope = decodePprof(exportPprof(buildExportProfile(), { labels: 'pyroscope' }));
  for (const sample of pyroscope.samples) {
    assert.ok(!('tid' in sample.labels), JSON.stringify(sample.labels));
    assert.ok(Object.values(sample.labels).every((value) => typeof value === 'string'));
  }
  const fib = pyroscope.samples.find((s) => s.labels.endpoint === 'POST /fib')!;
  assert.deepEqual(fib.labels, { thread: 'worker-1', pid: '100', endpoint: 'POST /fib' });
  assert.equal(fib.values[0], 2, 'two samples of one stack and label set');
  assert.deepEqual(pyroscope.samples.find((s) => s.labels.pid === '200')!.labels, { pid: '200' });
  const total = (samples: { values: number[] }[]) => samples.reduce((sum, s) => sum + s.values[0]!, 0);
  assert.equal(total(pyroscope.samples), EXPECTED.samples);

  const builder = new ProfileBuilder();
  const frames = [{ name: 'serve', file: 'app.py', line: 3 }];
  for (const tid of [11, 12]) builder.addSample({ pid: 10, tid, threadName: 'worker', time: 0, frames });
  const merged = decodePprof(exportPprof(builder.build(META), { labels: 'pyroscope' }));
  assert.deepEqual(
    merged.samples.map((s) => [s.values[0], s.labels]),
    [[2, { thread: 'worker', pid: '10' }]],
  );
});

test('protobuf writer encodes varints, negative int64 and packed fields as the wire format says', () => {
  const bytes = new ProtobufWriter().varint(1, 300).varint(2, -1).packedVarints(3, [1, 128]).varint(4, 0).finish();
  assert.deepEqual([...bytes], [0x08, 0xac, 0x02, 0x10, ...Array(9).fill(0xff), 0x01, 0x1a, 0x03, 0x01, 0x80, 0x01]);
  const big = new ProtobufWriter().varint(1, 1_700_000_000_000_000_000n).finish();
  assert.equal(decodeMessage(big).get(1)![0], 1_700_000_000_000_000_000n);
});

/** A sample's stack as pprof stores it, leaf first, each frame as name@file:line. */
function leafFirst(frames: { name: string; file: string; line: number }[]): string {
  return frames.map((f) => `${f.name}@${f.file}:${f.line}`).join(' < ');
}

function profileStack(profile: Profile, stack: number): string {
  const frames = stackFrames(profile, stack).map((id) => {
    const { func, line } = profile.frames[id]!;
    const entry = profile.functions[func]!;
    return { name: profile.strings[entry.name]!, file: profile.strings[entry.file]!, line };
  });
  return leafFirst(frames.reverse());
}

test('thousands of interleaved samples: one pprof sample per stack and label set, carrying its sample count', () => {
  const profile = buildInterleavedProfile();
  const decoded = decodePprof(exportPprof(profile));
  const { samples } = profile;
  const expected = countSamples(profile, (i) => {
    const thread = profile.threads[samples.thread[i]!]!;
    const endpoint = samples.endpoint[i]! >= 0 ? profile.endpoints[samples.endpoint[i]!] : undefined;
    return JSON.stringify([thread.tid, endpoint ?? null, profileStack(profile, samples.stack[i]!)]);
  });
  const exported = new Map<string, number>();
  for (const sample of decoded.samples) {
    const key = JSON.stringify([sample.labels.tid, sample.labels.endpoint ?? null, leafFirst(sample.frames)]);
    assert.ok(!exported.has(key), `${key} is summed into one sample`);
    const [count, cpu] = sample.values;
    assert.equal(cpu, count! * decoded.periodNanos);
    exported.set(key, count!);
  }
  assert.ok(expected.has(JSON.stringify([500, null, ''])), 'the fixture has empty stacks without a request');
  assert.deepEqual(exported, expected);
  assert.equal(decoded.samples.length, expected.size);
});

test("thousands of interleaved samples, 'pyroscope' labels: per pid, thread name and endpoint the profile's counts", () => {
  const profile = buildInterleavedProfile();
  const { samples } = profile;
  const expected = countSamples(profile, (i) => {
    const thread = profile.threads[samples.thread[i]!]!;
    const endpoint = samples.endpoint[i]! >= 0 ? profile.endpoints[samples.endpoint[i]!] : undefined;
    return JSON.stringify([String(thread.pid), thread.name || null, endpoint ?? null]);
  });
  const exported = new Map<string, number>();
  for (const sample of decodePprof(exportPprof(profile, { labels: 'pyroscope' })).samples) {
    const key = JSON.stringify([sample.labels.pid, sample.labels.thread ?? null, sample.labels.endpoint ?? null]);
    exported.set(key, (exported.get(key) ?? 0) + sample.values[0]!);
  }
  assert.deepEqual(exported, expected);
});

test('protobuf writer grows past its first buffer and writes announced bodies in place', () => {
  const text = 'x'.repeat(1000);
  const writer = new ProtobufWriter().string(1, text).lengthDelimited(2, 3).rawVarint(300).rawVarint(5);
  for (let i = 0; i < 500; i++) writer.varint(3, i + 1);
  const fields = decodeMessage(writer.finish());
  assert.equal((fields.get(1)![0] as Buffer).toString(), text);
  assert.deepEqual(packed(fields.get(2)![0] as Buffer), [300, 5]);
  assert.deepEqual(
    fields.get(3)!.map((value) => Number(value)),
    Array.from({ length: 500 }, (_, i) => i + 1),
  );
});
