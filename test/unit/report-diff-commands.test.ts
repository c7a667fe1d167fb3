// `hotpath report` and `hotpath diff` on saved profiles: outputs written where asked, in the format the
// extension implies, usage errors typed.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffCommand, summarizeDiff } from '../../src/cli/diff.js';
import { reportCommand, replaceExtension } from '../../src/cli/report.js';
import { HotpathError } from '../../src/errors/index.js';
import { exportCollapsed, exportHotpathProfile } from '../../src/export/index.js';
import { buildProfileDiff } from '../../src/profile/index.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpath-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const main = frame('main', 'app.py', 30, 28);
const before = buildHandProfile([
  { frames: [main, frame('parse', 'app.py', 5, 3)], times: 6 },
  { frames: [main, frame('audit', 'app.py', 20, 18)], times: 4 },
]);
const afterProfile = buildHandProfile([
  { frames: [main, frame('parse', 'app.py', 7, 4)], times: 2 },
  { frames: [main, frame('render', 'app.py', 14, 11)], times: 6 },
]);

/** Runs a command with stderr silenced (it reports what it wrote there). */
async function quietly(run: () => Promise<number>): Promise<number> {
  const original = console.error;
  console.error = () => {};
  try {
    return await run();
  } finally {
    console.error = original;
  }
}

test('report renders a saved profile to HTML, next to it by default', async () => {
  const input = join(dir, 'web.hotpath');
  writeFileSync(input, exportHotpathProfile(buildWebAppProfile()));
  assert.equal(await quietly(() => reportCommand.run([input, '--title', 'Saved web app'])), 0);
  const html = readFileSync(join(dir, 'web.html'), 'utf8');
  assert.match(html, /<title>Saved web app<\/title>/);
  assert.match(html, /"samples":11/);
  assert.equal(replaceExtension('/a/b/run.speedscope.json', '.html'), '/a/b/run.speedscope.html');
});

test('diff writes HTML or SVG by the output extension, from any readable inputs', async () => {
  const beforeFile = join(dir, 'before.hotpath');
  const afterFile = join(dir, 'after.txt');
  writeFileSync(beforeFile, exportHotpathProfile(before));
  writeFileSync(afterFile, exportCollapsed(afterProfile, { frameKey: 'line' }));
  const svgFile = join(dir, 'diff.svg');
  assert.equal(await quietly(() => diffCommand.run([beforeFile, afterFile, '-o', svgFile])), 0);
  const svg = readFileSync(svgFile, 'utf8');
  assert.match(svg, /^<\?xml/);
  assert.match(svg, /data-name="audit"/);
  assert.doesNotMatch(svg, /data-name="parse"/, 'parse matched across the two formats');
  assert.match(svg, /hotpath diff: before.hotpath → after.txt/);
  const htmlFile = join(dir, 'diff.html');
  assert.equal(await quietly(() => diffCommand.run([beforeFile, afterFile, '-o', htmlFile])), 0);
  assert.match(readFileSync(htmlFile, 'utf8'), /"kind":"diff"/);
});

test('the terminal summary lists the largest changes with their sign and status', () => {
  assert.equal(
    summarizeDiff(buildProfileDiff(before, afterProfile)),
    [
      '10 samples before, 8 after; largest changes of total share:',
      '    +75.00 pts  render (app.py), added',
      '    -40.00 pts  audit (app.py), removed',
      '    -35.00 pts  parse (app.py)',
    ].join('\n'),
  );
});

test('wrong arguments are usage errors and write nothing', async () => {
  const usage = (error: unknown) => error instanceof HotpathError && error.kind === 'usage';
  await assert.rejects(() => diffCommand.run([join(dir, 'only-one.hotpath')]), usage);
  await assert.rejects(() => diffCommand.run(['a', 'b', '-f', 'png']), usage);
  await assert.rejects(() => reportCommand.run([]), usage);
  await assert.rejects(() => reportCommand.run(['--bogus', 'x']), usage);
  await assert.rejects(
    () => reportCommand.run([join(dir, 'missing.hotpath'), '-o', join(dir, 'missing.html')]),
    (error: unknown) => error instanceof HotpathError && error.kind === 'io',
  );
  assert.ok(!existsSync(join(dir, 'missing.html')));
});
