// Signals and files around real recordings: a reader that goes away (SIGPIPE / EPIPE on stdout or stderr) costs
// no stack trace and no output; an output that is a pipe is refused before sampling; a disk that fills up while
// the output is written leaves nothing under the final name. (SIGINT, SIGTERM and unwritable paths are in
// engine.test.ts.)
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';
import { tempDir } from '../support/temp-dir.js';

const hotpath = `${process.execPath} ${path.join(repoRoot, 'bin/hotpath.js')}`;
const python =
  listPythons().find((p) => p.label === '3.12') ??
  listPythons()
    .filter((p) => p.kind === 'pyenv')
    .at(-1);
const isRoot = process.getuid?.() === 0;

/** Runs a shell pipeline with bash; `status` is hotpath's own exit code (the first command's). */
function pipeline(command: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['-c', `${command}; exit \${PIPESTATUS[0]}`], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

async function startTarget(t: TestContext) {
  return spawnTarget(python!.executable, [path.join(repoRoot, 'test/targets/recording-target.py')], { owner: t });
}

test('dump into a pipe closed after one line: no EPIPE, no stack trace', { skip: !python && 'no venvs' }, async (t) => {
  const target = await startTarget(t);
  for (const args of ['', '--json']) {
    const run = pipeline(`${hotpath} dump ${args} --pid ${target.pid} | head -1`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.split('\n').filter(Boolean).length, 1);
    assert.equal(run.stderr, '', 'nothing on stderr');
  }
});

test('record whose stderr reader goes away still writes its output', { skip: !python && 'no venvs' }, async (t) => {
  const target = await startTarget(t);
  const output = path.join(tempDir(t), 'profile.txt');
  const run = pipeline(`${hotpath} record -f raw --idle -d 1 -o ${output} --pid ${target.pid} 2>&1 | head -1`);
  assert.equal(run.status, 0);
  assert.match(run.stdout, /^hotpath: following process/);
  assert.match(fs.readFileSync(output, 'utf8'), /wait_on_lock_ß/);
});

test('an output that is a pipe is refused before sampling starts', { skip: !python && 'no venvs' }, async (t) => {
  const target = await startTarget(t);
  const fifo = path.join(tempDir(t), 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const run = pipeline(`${hotpath} record -d 1 -o ${fifo} --pid ${target.pid}`);
  assert.equal(run.status, EXIT_CODES.io.code);
  assert.match(run.stderr, /is a pipe, not a file/);
  assert.doesNotMatch(run.stderr, /sampling/);
});

test('a disk that fills up while the output is written: clear error, nothing under the final name', async (t) => {
  if (!python) return t.skip('no venvs');
  if (!isRoot) return t.skip('needs root to mount a small tmpfs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status !== 0) {
    fs.rmdirSync(dir);
    return t.skip('cannot mount a tmpfs');
  }
  t.after(() => {
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Leave 8 KiB free: room for the check before recording, not for an HTML report (tens of KiB at least).
  const { bavail, bsize } = fs.statfsSync(dir);
  fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(bavail * bsize - 8192));
  const target = await startTarget(t);
  const output = path.join(dir, 'report.html');
  const run = pipeline(`${hotpath} record -f html --idle -d 1 -o ${output} --pid ${target.pid}`);
  assert.equal(run.status, EXIT_CODES.io.code, run.stderr);
  assert.match(
    run.stderr,
    /cannot write .*report\.html \(ENOSPC: the disk is full\); nothing was written under that name/,
  );
  assert.match(run.stderr, /sampling/, 'the recording itself ran');
  assert.deepEqual(fs.readdirSync(dir), ['filler'], 'neither the output nor its temporary file is left');
});
