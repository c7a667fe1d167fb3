// Decodes `_Py_DebugOffsets` recorded from live CPython 3.13.0, 3.14.10 and 3.15.2 processes
// (scripts/record-debug-offsets.sh) and checks the results against offsets read off each version's headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  decodeDebugOffsets,
  decodeDebugOffsetsTable,
  formatVersionHex,
  readDebugOffsets,
} from '../../src/cpython/debug-offsets.js';
import { findTableLayout } from '../../src/cpython/layouts/index.js';
import { HotpathError, InvalidDataError, MemoryReadError } from '../../src/errors/index.js';
import type { MemoryReader } from '../../src/proc/index.js';

function fixture(version: string): Buffer {
  return readFileSync(new URL(`../../../test/fixtures/debug-offsets-${version}.bin`, import.meta.url));
}

/** The same bytes with PY_VERSION_HEX (right after the cookie) replaced. */
function withVersion(buf: Buffer, versionHex: number): Buffer {
  const copy = Buffer.from(buf);
  copy.writeUInt32LE(versionHex, 8);
  return copy;
}

/** Replays recorded bytes as if they were mapped at `base`. */
function replayReader(bytes: Buffer, base: number): MemoryReader {
  return {
    read(address, length) {
      const start = address - base;
      if (start < 0 || start + length > bytes.length) throw new MemoryReadError(address, length, 'EIO');
      return bytes.subarray(start, start + length);
    },
    close() {},
  };
}

test('the recorded tables carry the version of the interpreter they came from', () => {
  const versions = ['3.13', '3.14', '3.15'].map((v) => decodeDebugOffsetsTable(fixture(v)));
  assert.deepEqual(
    versions.map(({ versionText, major, minor, freeThreaded }) => [versionText, major, minor, freeThreaded]),
    [
      ['3.13.0', 3, 13, false],
      ['3.14.10', 3, 14, false],
      ['3.15.2', 3, 15, false],
    ],
  );
});

test('3.13: every member matches the snapshot gen-layouts.sh took from a live 3.13.0', () => {
  const snapshot = JSON.parse(
    readFileSync(new URL('../../../test/fixtures/debug-offsets-3.13.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
  const { members } = decodeDebugOffsetsTable(fixture('3.13'));
  for (const [group, values] of Object.entries(snapshot)) {
    if (typeof values !== 'object' || values === null) continue;
    for (const [name, value] of Object.entries(values)) assert.equal(members[`${group}.${name}`], value, name);
  }
  assert.equal(members['header.version'], snapshot.version);
});

test('3.13: the decoded layout equals the table generated from the 3.13.0 headers', () => {
  const table = findTableLayout(3, 13);
  assert.ok(table);
  assert.deepEqual({ ...decodeDebugOffsets(fixture('3.13')), source: 'table' }, table);
});

test('3.14: offsets match Include/internal/pycore_interpframe_structs.h and cpython/code.h of 3.14', () => {
  const layout = decodeDebugOffsets(fixture('3.14'));
  assert.equal(layout.source, 'debug-offsets');
  assert.deepEqual(layout.version, [3, 14]);
  // f_executable, previous, f_funcobj, f_globals, f_builtins, f_locals, frame_obj, instr_ptr, stackpointer,
  // return_offset (u16), owner (char), visited, localsplus
  assert.deepEqual(layout.interpreterFrame, {
    size: 80,
    previous: 8,
    executable: 0,
    instrPtr: 56,
    owner: 74,
    localsplus: 80,
    ownerCStack: 3,
    executableTagMask: 3,
  });
  assert.deepEqual(
    [layout.codeObject.filename, layout.codeObject.name, layout.codeObject.qualname, layout.codeObject.linetable],
    [112, 120, 128, 136],
  );
  // _co_unique_id (new in 3.14) pushes _co_firsttraceable and co_code_adaptive one word further than in 3.13.
  assert.equal(layout.codeObject.firstTraceable, 192);
  assert.equal(layout.codeObject.coCodeAdaptive, 208);
  // PyTupleObject gained ob_hash before ob_item.
  assert.equal(layout.tupleObject.obItem, 32);
  assert.equal(layout.dictObject.maVersionTag, undefined);
});

test('3.15: new thread-state members shift thread_id; its own table agrees with the derived values', () => {
  const buf = fixture('3.15');
  const layout = decodeDebugOffsets(buf);
  const { members } = decodeDebugOffsetsTable(buf);
  // base_frame, last_profiled_frame and last_profiled_frame_seq sit between current_frame and thread_id.
  assert.equal(layout.threadState.currentFrame, 72);
  assert.equal(layout.threadState.threadId, 176);
  assert.equal(layout.threadState.nativeThreadId, 184);
  assert.deepEqual(layout.typeObject, { tpName: 24, tpBasicsize: 32, tpDictoffset: 288, tpFlags: 168 });
  // What 3.13 and 3.14 derive (see SUPPLEMENT_3_13), 3.15 states: the derivations hold here too.
  assert.equal(members['type_object.tp_basicsize'], members['type_object.tp_name']! + 8);
  assert.equal(members['type_object.tp_dictoffset'], members['type_object.tp_flags']! + 120);
  assert.equal(members['heap_type_object.ht_cached_keys'], members['type_object.size']! + 464);
  assert.equal(members['unicode_object.compactunicodeobject_size'], members['unicode_object.asciiobject_size']! + 16);
});

test('a version hotpath has no table for is an unsupported-version error naming it and the range', () => {
  for (const [hex, name] of [
    [0x031000f0, '3.16.0'],
    [0x030c01f0, '3.12.1'],
    [0, '0.0.0'],
  ] as const) {
    assert.throws(
      () => decodeDebugOffsets(withVersion(fixture('3.15'), hex)),
      (err: unknown) =>
        err instanceof HotpathError &&
        err.kind === 'unsupported-version' &&
        err.message.includes(`Python ${name} `) &&
        err.message.includes('3.13–3.15'),
    );
  }
});

test('bytes in another version’s member order are rejected, not decoded into garbage', () => {
  for (const [bytesOf, claimed] of [
    ['3.15', 0x030e0af0],
    ['3.14', 0x030f02f0],
    ['3.13', 0x030e0af0],
  ] as const) {
    assert.throws(
      () => decodeDebugOffsets(withVersion(fixture(bytesOf), claimed)),
      (err: unknown) => err instanceof HotpathError && err.kind === 'unsupported-version',
      `${bytesOf} bytes read as ${formatVersionHex(claimed)}`,
    );
  }
});

test('a free-threaded build gets its own unicode state bits, stack-ref tag and managed dict slot', () => {
  const buf = Buffer.from(fixture('3.14'));
  buf.writeUInt32LE(1, 16);
  const layout = decodeDebugOffsets(buf);
  assert.equal(layout.freeThreaded, true);
  assert.equal(layout.gilKind, 'none');
  assert.deepEqual(
    [layout.unicodeObject.kindShift, layout.unicodeObject.compactBit, layout.unicodeObject.asciiBit],
    [8, 11, 12],
  );
  assert.equal(layout.interpreterFrame.executableTagMask, 1);
  assert.equal(layout.managedDict?.dictOffset, -8);
});

test('readDebugOffsets reads at _PyRuntime, and finds nothing where the cookie is absent', () => {
  const base = 0x7f00_1234_5000;
  const recorded = fixture('3.15');
  assert.deepEqual(readDebugOffsets(replayReader(recorded, base), base), decodeDebugOffsets(recorded));
  const withoutCookie = Buffer.alloc(recorded.length);
  assert.equal(readDebugOffsets(replayReader(withoutCookie, base), base), undefined);
});

test('missing cookie and short buffers are invalid data', () => {
  assert.throws(() => decodeDebugOffsets(Buffer.alloc(1024)), InvalidDataError);
  assert.throws(() => decodeDebugOffsets(fixture('3.14').subarray(0, 100)), InvalidDataError);
});

test('formatVersionHex spells releases and pre-releases like sys.version', () => {
  assert.equal(formatVersionHex(0x030e0af0), '3.14.10');
  assert.equal(formatVersionHex(0x030f00a2), '3.15.0a2');
  assert.equal(formatVersionHex(0x030d00c1), '3.13.0rc1');
});
