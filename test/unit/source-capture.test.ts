// Source capture for line-level views: files read as the target sees them (absolute through /proc/PID/root,
// relative through /proc/PID/cwd), cut at a whole line when too big, binary and pseudo files refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SourceFileTally, readSourceFile } from '../../src/sampler/index.js';

function withTempDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-source-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads an absolute path through the process root, keeping lines and dropping the final newline', () => {
  withTempDir((dir) => {
    const file = join(dir, 'app.py');
    writeFileSync(file, 'def handle():\r\n    return 1\n\nprint("ok")\n');
    assert.deepEqual(readSourceFile(process.pid, file), ['def handle():', '    return 1', '', 'print("ok")']);
  });
});

test('resolves a relative path against the process working directory', () => {
  withTempDir((dir) => {
    const file = join(dir, 'views.py');
    writeFileSync(file, 'x = 1\n');
    assert.deepEqual(readSourceFile(process.pid, relative(process.cwd(), file)), ['x = 1']);
  });
});

test('cuts a large file at the last whole line within the bound', () => {
  withTempDir((dir) => {
    const file = join(dir, 'big.py');
    writeFileSync(file, 'aaaa\nbbbb\ncccc\n');
    assert.deepEqual(readSourceFile(process.pid, file, 12), ['aaaa', 'bbbb']);
  });
});

test('refuses binary files, pseudo file names, folders and missing files', () => {
  withTempDir((dir) => {
    const binary = join(dir, 'mod.pyc');
    writeFileSync(binary, Buffer.from([0x61, 0x00, 0x62]));
    assert.equal(readSourceFile(process.pid, binary), undefined);
    assert.equal(readSourceFile(process.pid, '<frozen importlib._bootstrap>'), undefined);
    assert.equal(readSourceFile(process.pid, dir), undefined);
    assert.equal(readSourceFile(process.pid, join(dir, 'missing.py')), undefined);
  });
});

test('the tally captures the hottest readable files only', () => {
  withTempDir((dir) => {
    const [hot, warm, cold] = ['hot.py', 'warm.py', 'cold.py'].map((name) => join(dir, name));
    for (const file of [hot!, warm!, cold!]) writeFileSync(file, `# ${file}\n`);
    const tally = new SourceFileTally();
    for (let i = 0; i < 5; i++) tally.note(process.pid, hot!);
    for (let i = 0; i < 3; i++) tally.note(process.pid, join(dir, 'gone.py'));
    for (let i = 0; i < 2; i++) tally.note(process.pid, warm!);
    tally.note(process.pid, cold!);
    const sources = tally.capture(3);
    assert.deepEqual([...sources.keys()], [hot, warm]);
    assert.deepEqual(sources.get(hot!), [`# ${hot}`]);
  });
});
