// The runtime scan for binaries without `_PyRuntime` symbol or section: which ranges it reads, what validates
// (a recorded 3.15 `_Py_DebugOffsets` table, the 3.9 table's interpreter lists) and what does not, on hand-built memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeDebugOffsets } from '../../src/cpython/debug-offsets.js';
import type { PythonLayout } from '../../src/cpython/layout.js';
import { findTableLayout } from '../../src/cpython/layouts/index.js';
import { findWritableRanges, scanForRuntime } from '../../src/cpython/scan-runtime.js';
import { HotpathError, MemoryReadError } from '../../src/errors/index.js';
import { parseMaps, type MemoryReader } from '../../src/proc/index.js';

const DATA = 0x7f00_0010_0000;
const DATA_BYTES = 512 * 1024;
const INTERP = 0x7f00_0100_0000;
const TSTATE = 0x7f00_0200_0000;
const MAIN_TID = 4321;
const PTHREAD = 0x7f00_0300_0040;

/** Memory made of a few buffers at fixed addresses; reads outside them fail as /proc/PID/mem would. */
function memoryOf(regions: Map<number, Buffer>): MemoryReader {
  return {
    read(address, length) {
      for (const [start, bytes] of regions) {
        if (address >= start && address + length <= start + bytes.length) {
          return bytes.subarray(address - start, address - start + length);
        }
      }
      throw new MemoryReadError(address, length, 'EIO');
    },
    close() {},
  };
}

/** A runtime at `runtime` (inside DATA) with one interpreter holding one thread, laid out as `layout` says. */
function buildProcess(layout: PythonLayout, runtime: number, prefix?: Buffer): Map<number, Buffer> {
  const data = Buffer.alloc(DATA_BYTES);
  prefix?.copy(data, runtime - DATA);
  const headAt = runtime - DATA + layout.runtimeState.interpretersHead;
  data.writeBigUInt64LE(BigInt(INTERP), headAt);
  data.writeBigUInt64LE(BigInt(INTERP), headAt + 8);
  const interp = Buffer.alloc(64 * 1024);
  interp.writeBigUInt64LE(BigInt(TSTATE), layout.interpreterState.threadsHead);
  const tstate = Buffer.alloc(Math.max(layout.threadState.size, 4096));
  tstate.writeBigUInt64LE(BigInt(INTERP), layout.threadState.interp);
  tstate.writeBigUInt64LE(BigInt(PTHREAD), layout.threadState.threadId);
  if (layout.threadState.nativeThreadId !== undefined) {
    tstate.writeBigUInt64LE(BigInt(MAIN_TID), layout.threadState.nativeThreadId);
  }
  return new Map([
    [DATA, data],
    [INTERP, interp],
    [TSTATE, tstate],
  ]);
}

const ranges = [{ start: DATA, end: DATA + DATA_BYTES }];
const fixture315 = readFileSync(new URL('../../../test/fixtures/debug-offsets-3.15.bin', import.meta.url));

test('the scanned ranges are the binary’s read-write mappings and the .bss mapping right after them', () => {
  const maps = parseMaps(
    [
      '00400000-00401000 r--p 00000000 fd:01 11 /usr/bin/python3.11',
      '00a00000-00a5c000 rw-p 00600000 fd:01 11 /usr/bin/python3.11',
      '00a5c000-00a90000 rw-p 00000000 00:00 0 ',
      '00a90000-00b00000 rw-p 00000000 00:00 0 [heap]',
      '7f0000000000-7f0000010000 rw-p 00010000 fd:01 12 /usr/lib/libc.so.6',
    ].join('\n'),
  );
  assert.deepEqual(findWritableRanges(maps, '/usr/bin/python3.11'), [{ start: 0xa00000, end: 0xa90000 }]);
});

test('a 3.13+ runtime is found by its _Py_DebugOffsets cookie once its thread list checks out', () => {
  const runtime = DATA + 0x2a40;
  const layout = decodeDebugOffsets(fixture315);
  const found = scanForRuntime(memoryOf(buildProcess(layout, runtime, fixture315)), ranges, [], new Set([MAIN_TID]));
  assert.equal(found?.address, runtime);
  assert.equal(found?.how, 'debug-offsets-cookie');
  assert.deepEqual(found?.layout.version, [3, 15]);
});

test('an older runtime is found by interpreter lists that point back at it', () => {
  const layout = findTableLayout(3, 9)!;
  const runtime = DATA + 0x1f8;
  const found = scanForRuntime(memoryOf(buildProcess(layout, runtime)), ranges, [layout], new Set([MAIN_TID]));
  assert.equal(found?.address, runtime);
  assert.equal(found?.how, 'interpreter-lists');
});

test('nothing is found where the structures do not validate', () => {
  const layout315 = decodeDebugOffsets(fixture315);
  const table311 = findTableLayout(3, 11)!;
  // The cookie with a thread state whose native id is no thread of the process.
  const wrongThreads = buildProcess(layout315, DATA + 0x100, fixture315);
  assert.equal(scanForRuntime(memoryOf(wrongThreads), ranges, [], new Set([MAIN_TID + 1])), undefined);
  // Interpreter lists whose thread state belongs to another interpreter.
  const strayInterp = buildProcess(table311, DATA + 0x100);
  strayInterp.get(TSTATE)!.writeBigUInt64LE(BigInt(INTERP + 8), table311.threadState.interp);
  assert.equal(scanForRuntime(memoryOf(strayInterp), ranges, [table311], new Set([MAIN_TID])), undefined);
  // Zeroed data, and data whose pointers lead nowhere readable.
  const zeroed = new Map([[DATA, Buffer.alloc(DATA_BYTES)]]);
  assert.equal(scanForRuntime(memoryOf(zeroed), ranges, [table311], new Set([MAIN_TID])), undefined);
  const dangling = buildProcess(table311, DATA + 0x100);
  dangling.delete(INTERP);
  assert.equal(scanForRuntime(memoryOf(dangling), ranges, [table311], new Set([MAIN_TID])), undefined);
});

test('a cookie of a version hotpath does not know is reported as that version, not as "not found"', () => {
  const claims316 = Buffer.from(fixture315);
  claims316.writeUInt32LE(0x031000f0, 8);
  const memory = memoryOf(buildProcess(decodeDebugOffsets(fixture315), DATA + 0x100, claims316));
  assert.throws(
    () => scanForRuntime(memory, ranges, [], new Set([MAIN_TID])),
    (err: unknown) => err instanceof HotpathError && err.kind === 'unsupported-version' && /3\.16\.0/.test(err.message),
  );
});
