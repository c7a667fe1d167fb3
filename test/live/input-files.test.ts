// The commands that read profiles (convert, report, diff) against truncated, corrupted, oversized and absurd
// files, through the real CLI: each gives one line naming the file and exit code 10 (bad-input-file), quickly,
// with no stack trace and no output file. The importers themselves are fuzzed in test/unit/fuzz-decoders.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { MAX_PROFILE_FILE_BYTES, exportHotpathProfile, exportSpeedscope } from '../../src/export/index.js';
import { buildExportProfile } from '../fixtures/export-profile.js';
import { repoRoot } from '../support/pythons.js';
import { tempDir } from '../support/temp-dir.js';

const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const BAD_INPUT = EXIT_CODES['bad-input-file'].code;

function hotpath(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [hotpathBin, ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (_, __, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

/** Every reading command refuses `file` with one line naming it, and writes nothing (the four run at once). */
async function assertRefused(dir: string, file: string, reason: RegExp): Promise<void> {
  const good = path.join(dir, 'good.hotpath');
  if (!fs.existsSync(good)) fs.writeFileSync(good, exportHotpathProfile(buildExportProfile()));
  const commands = [
    ['convert', file, '-o', path.join(dir, 'convert.html')],
    ['report', file, '-o', path.join(dir, 'report.html')],
    ['diff', good, file, '-o', path.join(dir, 'diff-after.html')],
    ['diff', file, good, '-o', path.join(dir, 'diff-before.html')],
  ];
  const runs = await Promise.all(commands.map(hotpath));
  commands.forEach((args, i) => {
    const run = runs[i]!;
    assert.equal(run.code, BAD_INPUT, `${args.join(' ')}: ${run.stderr}`);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace: ${run.stderr}`);
    assert.ok(lines[0]!.includes(file), `names the file: ${lines[0]}`);
    assert.match(lines[0]!, reason);
    assert.ok(!fs.existsSync(args.at(-1)!), 'no output written');
  });
}

test('a truncated saved profile', async (t) => {
  const dir = tempDir(t);
  const data = exportHotpathProfile(buildExportProfile());
  const file = path.join(dir, 'cut.hotpath');
  fs.writeFileSync(file, data.subarray(0, data.length >> 1));
  await assertRefused(dir, file, /hotpath profile/);
});

test('a saved profile whose inflated bytes were corrupted', async (t) => {
  const dir = tempDir(t);
  const inflated = zlib.gunzipSync(exportHotpathProfile(buildExportProfile()));
  inflated.fill(0xff, 12, 40); // inside the JSON header
  const file = path.join(dir, 'corrupt.hotpath');
  fs.writeFileSync(file, zlib.gzipSync(inflated));
  await assertRefused(dir, file, /hotpath profile/);
});

test('a speedscope file with absurd numbers', async (t) => {
  const dir = tempDir(t);
  const speedscope = JSON.parse(String(exportSpeedscope(buildExportProfile()))) as {
    profiles: Array<{ weights: number[]; endValue: number }>;
  };
  speedscope.profiles[0]!.weights[0] = -1e308;
  const file = path.join(dir, 'absurd.speedscope.json');
  fs.writeFileSync(file, JSON.stringify(speedscope));
  await assertRefused(dir, file, /speedscope/);
});

test('collapsed stacks claiming more samples than can be held', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'huge-counts.txt');
  fs.writeFileSync(file, 'main (app.py:1);work (app.py:5) 1000000000000000000\n');
  const started = Date.now();
  await assertRefused(dir, file, /collapsed|samples/);
  t.diagnostic(`refused in ${Date.now() - started} ms for four commands`);
});

test('a file larger than hotpath loads is refused without being read', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'huge.hotpath');
  // Sparse: it takes no disk space, and reading it would take seconds and a gigabyte of memory.
  fs.closeSync(fs.openSync(file, 'w'));
  fs.truncateSync(file, MAX_PROFILE_FILE_BYTES + 1);
  await assertRefused(dir, file, /more than the \d+ hotpath loads/);
});

test('binary garbage and an empty file', async (t) => {
  const dir = tempDir(t);
  const garbage = path.join(dir, 'garbage.bin');
  fs.writeFileSync(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  await assertRefused(dir, garbage, /cannot read this profile/);
  const empty = path.join(dir, 'empty.txt');
  fs.writeFileSync(empty, '');
  await assertRefused(dir, empty, /empty/);
});
