// Which layout a target gets, and the refusals: a version hotpath does not know (from its _Py_DebugOffsets or from
// the binary) and free-threaded builds, on recorded _Py_DebugOffsets of CPython 3.14 and 3.15 (no free-threaded
// CPython can be had on the project's machines, so this is where its refusal is tested).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readPyVersion, parseVersion, type RuntimeLocation } from '../../src/cpython/find-runtime.js';
import { SUPPORTED_RANGE, selectLayout } from '../../src/cpython/select-layout.js';
import { HotpathError, MemoryReadError } from '../../src/errors/index.js';
import type { MemoryReader } from '../../src/proc/index.js';

const RUNTIME = 0x7f00_0040_0000;

function fixture(version: string): Buffer {
  return Buffer.from(readFileSync(new URL(`../../../test/fixtures/debug-offsets-${version}.bin`, import.meta.url)));
}

/** `bytes` mapped at RUNTIME, nothing else. */
function runtimeMemory(bytes: Buffer): MemoryReader {
  return {
    read(address, length) {
      const start = address - RUNTIME;
      if (start < 0 || start + length > bytes.length) throw new MemoryReadError(address, length, 'EIO');
      return bytes.subarray(start, start + length);
    },
    close() {},
  };
}

function location(binaryVersion?: string): RuntimeLocation {
  return {
    binaryPath: '/usr/bin/python3',
    openedPath: '/usr/bin/python3',
    runtimeAddress: RUNTIME,
    strategy: 'symbol',
    binaryVersion: binaryVersion ? parseVersion(binaryVersion) : undefined,
    symbols: new Map(),
    notes: [],
  };
}

function isRefusal(pattern: RegExp) {
  return (err: unknown) =>
    err instanceof HotpathError && err.kind === 'unsupported-version' && pattern.test(err.message);
}

test('a 3.13+ target gets the layout its own _Py_DebugOffsets describe', () => {
  const { layout, version } = selectLayout(runtimeMemory(fixture('3.15')), location(), readPyVersion);
  assert.equal(layout.source, 'debug-offsets');
  assert.deepEqual(layout.version, [3, 15]);
  assert.equal(version.minor, 15);
});

test('_Py_DebugOffsets claiming 3.16 are refused, naming 3.16.0 and the supported range', () => {
  const bytes = fixture('3.15');
  bytes.writeUInt32LE(0x031000f0, 8);
  assert.throws(
    () => selectLayout(runtimeMemory(bytes), location(), readPyVersion),
    isRefusal(new RegExp(`Python 3\\.16\\.0 .*not supported.*${SUPPORTED_RANGE}`)),
  );
});

test('a pre-3.13 binary of a version without a table is refused, naming it and the supported range', () => {
  const noCookie = Buffer.alloc(fixture('3.15').length);
  assert.throws(
    () => selectLayout(runtimeMemory(noCookie), location('3.8.18'), readPyVersion),
    isRefusal(new RegExp(`Python 3\\.8\\.18 is not supported \\(hotpath supports ${SUPPORTED_RANGE}`)),
  );
});

test('a free-threaded build is refused clearly, with a hint', () => {
  for (const version of ['3.14', '3.15']) {
    const bytes = fixture(version);
    bytes.writeUInt32LE(1, 16); // _Py_DebugOffsets.free_threaded
    assert.throws(
      () => selectLayout(runtimeMemory(bytes), location(), readPyVersion),
      (err: unknown) =>
        isRefusal(new RegExp(`Python ${version.replace('.', '\\.')}(\\.\\d+)? is a free-threaded build`))(err) &&
        /python3\.Xt/.test((err as HotpathError).hint ?? ''),
    );
  }
});
