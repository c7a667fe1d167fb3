// Regression tests for what the decoder fuzz tests found: ELF headers pointing past the file, legacy str objects at
// the end of mapped memory, and _Py_DebugOffsets layouts whose fields lie outside the bytes read for their struct.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeDebugOffsets } from '../../src/cpython/debug-offsets.js';
import { findLayoutProblems } from '../../src/cpython/layout-problems.js';
import { tableLayouts } from '../../src/cpython/layouts/index.js';
import { readUnicode } from '../../src/cpython/objects.js';
import { ElfFile } from '../../src/elf/index.js';
import { InvalidDataError, MemoryReadError } from '../../src/errors/index.js';
import { ReplayReader } from '../support/recorded-memory.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url);

test('every generated layout table and every recorded _Py_DebugOffsets layout is safe to decode with', () => {
  for (const [version, layout] of tableLayouts) assert.deepEqual(findLayoutProblems(layout), [], version);
  for (const name of fs.readdirSync(fixtures).filter((n) => /^debug-offsets-.*\.bin$/.test(n))) {
    assert.deepEqual(findLayoutProblems(decodeDebugOffsets(fs.readFileSync(new URL(name, fixtures)))), [], name);
  }
});

test('a layout with a field outside the bytes read for its struct is reported', () => {
  const layout = tableLayouts.get('3.12')!;
  const broken = { ...layout, threadState: { ...layout.threadState, next: layout.threadState.size - 4 } };
  assert.match(findLayoutProblems(broken).join('\n'), /threadState\.next/);
  const negative = { ...layout, codeObject: { ...layout.codeObject, firstlineno: -4 } };
  assert.match(findLayoutProblems(negative).join('\n'), /codeObject\.firstlineno at -4/);
  const huge = { ...layout, interpreterFrame: { ...layout.interpreterFrame, size: 1 << 24 } };
  assert.match(findLayoutProblems(huge).join('\n'), /interpreterFrame\.size/);
});

function withElf(mutate: (image: Buffer) => Buffer, check: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-elf-'));
  try {
    const file = path.join(dir, 'damaged');
    fs.writeFileSync(file, mutate(fs.readFileSync('/bin/true')));
    check(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('an ELF file whose headers point past its end is an InvalidDataError, not a crash', () => {
  // e_phoff far beyond the file (a 2^55 offset once made fs.readSync throw a RangeError)
  withElf(
    (image) => (image.writeBigUInt64LE(1n << 55n, 32), image),
    (file) => assert.throws(() => ElfFile.open(file), InvalidDataError),
  );
  // more program headers than the file holds
  withElf(
    (image) => (image.writeUInt16LE(4000, 56), image),
    (file) => assert.throws(() => ElfFile.open(file), InvalidDataError),
  );
  // cut in the middle of the section table
  withElf(
    (image) => image.subarray(0, image.length - 100),
    (file) => assert.throws(() => ElfFile.open(file), InvalidDataError),
  );
});

test('a legacy (non-compact) str at the end of mapped memory is read through its data pointer', () => {
  const layout = tableLayouts.get('3.9')!;
  const u = layout.unicodeObject;
  const strAddress = 0x10000;
  const dataAddress = 0x20000;
  // The header is the last thing mapped: the speculative read past it fails, the exact-size fallback succeeds,
  // and the data pointer just after the header must still be read.
  const header = Buffer.alloc(u.compactobjectSize + 8);
  header.writeUInt32LE(3, u.length);
  header.writeUInt32LE((1 << u.kindShift) | (0 << u.compactBit), u.state);
  header.writeUInt32LE(dataAddress, u.compactobjectSize);
  const reader = new ReplayReader([
    { address: strAddress, data: header },
    { address: dataAddress, data: Buffer.from('abc', 'latin1') },
  ]);
  assert.equal(readUnicode(reader, layout, strAddress), 'abc');
  // Without the data pointer mapped at all, the failure is a MemoryReadError.
  const cut = new ReplayReader([{ address: strAddress, data: header.subarray(0, u.compactobjectSize) }]);
  assert.throws(() => readUnicode(cut, layout, strAddress), MemoryReadError);
});
