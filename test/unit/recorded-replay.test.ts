// Decodes memory recorded from real processes (test/fixtures/recorded-*.json, written by
// scripts/record-fixtures.ts) offline, and checks it gives exactly what hotpath decoded live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ObjectReader, PythonProcess } from '../../src/cpython/index.js';
import { MemoryReadError } from '../../src/errors/index.js';
import {
  FIXTURES_DIR,
  REPLAY_PID,
  ReplayReader,
  decodeDictKeys,
  loadRecording,
  locationOf,
  type MemoryRecording,
} from '../support/recorded-memory.js';

const fixtures = fs
  .readdirSync(FIXTURES_DIR)
  .filter((name) => /^recorded-.*\.json$/.test(name))
  .map((name) => path.join(FIXTURES_DIR, name));

test('a 3.12 recording exists', () => {
  assert.ok(fixtures.some((file) => file.endsWith('recorded-3.12.json')));
});

function openReplay(recording: MemoryRecording): PythonProcess {
  return PythonProcess.open(REPLAY_PID, new ReplayReader(recording.chunks), locationOf(recording));
}

for (const file of fixtures) {
  const recording = loadRecording(file);
  const name = path.basename(file);

  test(`${name}: replayed stacks are the recorded ones`, () => {
    const python = openReplay(recording);
    assert.equal(python.version.text, recording.python);
    const stacks = python.readStacks();
    assert.deepEqual(
      stacks.map((s) => ({
        threadId: s.threadId,
        truncated: s.truncated,
        frames: s.frames.map((f) => `${f.name}:${f.line}`),
      })),
      recording.threads.map((t) => ({
        threadId: t.threadId,
        truncated: t.truncated,
        frames: t.frames.map((f) => `${f.name}:${f.line}`),
      })),
    );
    // The facts the recording target was written to have, independent of the recording's own expectations.
    const innermost = stacks.map((s) => s.frames[0]!.name).sort();
    assert.deepEqual(innermost, ['sleeping_generator_函数', 'wait_on_lock_ß', 'wait_on_lock_ß']);
    const deep = stacks.find((s) => s.frames.filter((f) => f.name === 'recurse').length > 0)!;
    assert.equal(deep.frames.filter((f) => f.name === 'recurse').length, 40);
    assert.ok(stacks.some((s) => s.frames.some((f) => f.name === 'drive_generator_𠀀')));
  });

  test(`${name}: replayed dicts and instance attributes are the recorded ones`, () => {
    const python = openReplay(recording);
    const objects = new ObjectReader(python.reader, python.layout);
    for (const dict of recording.dicts) assert.deepEqual(decodeDictKeys(objects, dict.address), dict.keys);
    assert.deepEqual(recording.dicts.find((d) => d.name === 'mixed')!.keys, [
      'alpha',
      'beta_ß',
      'gamma_函数',
      'int:7',
      'delta_𠀀',
    ]);
    const attributes = objects.readAttributes(recording.instance.address);
    assert.deepEqual(Object.fromEntries([...attributes].map(([key, value]) => [key, objects.readInt(value)])), {
      x: 3,
      y: 4,
    });
  });
}

test('the replay reader fails on memory that was not recorded', () => {
  const reader = new ReplayReader([{ address: 0x1000, data: Buffer.alloc(16, 7) }]);
  assert.deepEqual([...reader.read(0x1004, 4)], [7, 7, 7, 7]);
  assert.throws(() => reader.read(0x0ff8, 16), MemoryReadError);
  assert.throws(() => reader.read(0x100c, 8), MemoryReadError);
  assert.throws(() => reader.read(0x2000, 1), MemoryReadError);
});
