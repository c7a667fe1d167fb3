// RawFrameCache: one RawFrame per code object and line, a thread's frame list reused while unchanged (or while
// only its innermost line moves between a few), outermost first, and threads forgotten once they stop being sampled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeInfo, PyFrame } from '../../src/cpython/index.js';
import { RawFrameCache } from '../../src/sampler/raw-frame-cache.js';

function code(name: string, firstLine: number): CodeInfo {
  return {
    address: firstLine * 64,
    name,
    qualname: `App.${name}`,
    filename: '/srv/app.py',
    firstLine,
    lineTable: Buffer.alloc(0),
    codeStart: 0,
    codeEnd: 0,
    firstTraceable: 0,
    localsplusnames: 0,
    nlocalsplus: 0,
    argcount: 0,
    flags: 0,
  };
}

const MAIN = code('main', 1);
const HANDLE = code('handle', 10);

function frame(info: CodeInfo, line: number, frameAddress: number): PyFrame {
  return { name: info.qualname, file: info.filename, line, firstLine: info.firstLine, frameAddress, code: info };
}

test('frames come outermost first, one object per code object and line', () => {
  const cache = new RawFrameCache();
  const frames = cache.framesOf(7, 1, [frame(HANDLE, 12, 0x2000), frame(MAIN, 3, 0x1000)]);
  assert.deepEqual(frames, [
    { name: 'App.main', file: '/srv/app.py', line: 3, firstLine: 1 },
    { name: 'App.handle', file: '/srv/app.py', line: 12, firstLine: 10 },
  ]);
  // Another thread at the same places, from frames at other addresses: the same objects.
  const other = cache.framesOf(7, 2, [frame(HANDLE, 12, 0x9000), frame(MAIN, 3, 0x8000)]);
  assert.notEqual(other, frames);
  assert.equal(other[0], frames[0]);
  assert.equal(other[1], frames[1]);
});

test("an unchanged stack gives the thread's previous array; a moved line a new one sharing the callers", () => {
  const cache = new RawFrameCache();
  const first = cache.framesOf(7, 1, [frame(HANDLE, 12, 0x2000), frame(MAIN, 3, 0x1000)]);
  assert.equal(cache.framesOf(7, 1, [frame(HANDLE, 12, 0x2000), frame(MAIN, 3, 0x1000)]), first);
  const moved = cache.framesOf(7, 1, [frame(HANDLE, 13, 0x2000), frame(MAIN, 3, 0x1000)]);
  assert.notEqual(moved, first);
  assert.equal(moved[0], first[0]);
  assert.equal(moved[1]!.line, 13);
  assert.equal(first[1]!.line, 12, 'arrays handed out are never changed');
  const shorter = cache.framesOf(7, 1, [frame(MAIN, 3, 0x1000)]);
  assert.deepEqual(shorter, [first[0]]);
});

test("a busy loop's innermost lines each keep their array while the callers stay; new callers start afresh", () => {
  const cache = new RawFrameCache();
  const at = (line: number, mainLine = 3) =>
    cache.framesOf(7, 1, [frame(HANDLE, line, 0x2000), frame(MAIN, mainLine, 0x1000)]);
  const on12 = at(12);
  const on13 = at(13);
  assert.notEqual(on13, on12);
  assert.equal(at(12), on12, 'back on line 12: the array made for it before');
  assert.equal(at(13), on13);
  assert.equal(on12[1]!.line, 12);
  assert.equal(on13[1]!.line, 13);
  const calledFrom4 = at(12, 4);
  assert.notEqual(calledFrom4, on12, 'the caller moved: a new array');
  assert.equal(calledFrom4[0]!.line, 4);
  assert.notEqual(at(13, 4), on13, 'arrays made under the old callers are not handed out under new ones');
});

test('a thread not sampled between two sweeps is forgotten', () => {
  const cache = new RawFrameCache();
  const stack = [frame(MAIN, 3, 0x1000)];
  const kept = cache.framesOf(7, 1, stack);
  const dropped = cache.framesOf(7, 2, stack);
  cache.sweep();
  assert.equal(cache.framesOf(7, 1, stack), kept);
  cache.sweep();
  assert.equal(cache.framesOf(7, 1, stack), kept);
  assert.notEqual(cache.framesOf(7, 2, stack), dropped, 'thread 2 was forgotten: a new array');
});
