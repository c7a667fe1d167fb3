// Output files are written whole or not at all: a failed rename or a full disk mid-write leaves the previous file
// (or nothing) under the final name and no temporary file behind; outputs that cannot be renamed over (devices,
// pipes, folders) and full file systems are refused before recording.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkWritable, writeFileAtomic } from '../../src/cli/atomic-write.js';
import { HotpathError } from '../../src/errors/index.js';
import { tempDir } from '../support/temp-dir.js';

function ioError(pattern: RegExp) {
  return (err: unknown): boolean => err instanceof HotpathError && err.kind === 'io' && pattern.test(err.message);
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

test('writes the whole file and leaves nothing else', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'profile.svg');
  writeFileAtomic(file, 'x'.repeat(1 << 20));
  assert.equal(fs.readFileSync(file, 'utf8').length, 1 << 20);
  assert.deepEqual(fs.readdirSync(dir), ['profile.svg']);
});

test('a failed rename keeps the previous file and removes the temporary one', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'profile.svg');
  fs.writeFileSync(file, 'previous profile');
  const rename = mock.method(fs, 'renameSync', () => {
    throw errno('EIO');
  });
  t.after(() => rename.mock.restore());
  assert.throws(() => writeFileAtomic(file, 'new profile'), ioError(/profile\.svg \(EIO\); nothing was written/));
  assert.equal(fs.readFileSync(file, 'utf8'), 'previous profile');
  assert.deepEqual(fs.readdirSync(dir), ['profile.svg']);
});

test('a disk that fills up mid-write leaves no partial file under the final name', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'profile.txt');
  const realWrite = fs.writeSync;
  let calls = 0;
  // The first write lands half the data, the second finds the disk full.
  const write = mock.method(fs, 'writeSync', (fd: number, data: Buffer, offset: number) => {
    if (++calls > 1) throw errno('ENOSPC');
    return realWrite(fd, data, offset, (data.length - offset) >> 1);
  });
  t.after(() => write.mock.restore());
  assert.throws(() => writeFileAtomic(file, 'a'.repeat(4096)), ioError(/ENOSPC: the disk is full/));
  assert.equal(calls, 2);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('short writes are continued until all data is written', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'profile.txt');
  const realWrite = fs.writeSync;
  const write = mock.method(fs, 'writeSync', (fd: number, data: Buffer, offset: number) =>
    realWrite(fd, data, offset, Math.min(1000, data.length - offset)),
  );
  t.after(() => write.mock.restore());
  writeFileAtomic(file, 'b'.repeat(10_500));
  write.mock.restore();
  assert.equal(fs.readFileSync(file, 'utf8'), 'b'.repeat(10_500));
});

test('an output that is a symlink keeps the link and replaces what it points to', (t) => {
  const dir = tempDir(t);
  const real = path.join(dir, 'real.svg');
  const link = path.join(dir, 'link.svg');
  fs.writeFileSync(real, 'old');
  fs.symlinkSync(real, link);
  writeFileAtomic(link, 'new');
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  assert.equal(fs.readFileSync(real, 'utf8'), 'new');
});

test('devices, folders and full file systems are refused before recording', (t) => {
  const dir = tempDir(t);
  assert.throws(() => checkWritable('/dev/full'), ioError(/\/dev\/full is a device, not a file/));
  assert.throws(() => checkWritable('/dev/null'), ioError(/is a device/));
  assert.throws(() => checkWritable(dir), ioError(/is a directory/));
  const link = path.join(dir, 'to-full');
  fs.symlinkSync('/dev/full', link);
  assert.throws(() => checkWritable(link), ioError(/is a device/));
  assert.throws(() => checkWritable(path.join(dir, 'missing', 'x.svg')), ioError(/ENOENT: the folder does not exist/));
  checkWritable(path.join(dir, 'fine.svg'));
  const statfs = mock.method(fs, 'statfsSync', () => ({ blocks: 1000, bavail: 0, bsize: 4096 }));
  t.after(() => statfs.mock.restore());
  assert.throws(() => checkWritable(path.join(dir, 'fine.svg')), ioError(/no space left/));
});
