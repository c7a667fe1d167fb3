// The README's main job end to end: `node dist/scripts/demo.js` (what `npm run demo` runs after setup and
// build) serves the demo under Gunicorn, profiles it under load and writes its outputs. The flame graph
// must show the hot handler by name, and the endpoint table must put GET /cpu_hog first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDemoPython, repoRoot } from '../support/pythons.js';

function runDemo(outputDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist/scripts/demo.js')], {
      cwd: repoRoot,
      env: { ...process.env, HOTPATH_DEMO_SECONDS: '6', HOTPATH_DEMO_OUTPUT: outputDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('the demo profiles the Flask app and finds /cpu_hog', { timeout: 180_000 }, async (t) => {
  try {
    findDemoPython();
  } catch (err) {
    t.skip(`no demo venv: ${(err as Error).message}`);
    return;
  }
  const outputDir = mkdtempSync(join(tmpdir(), 'hotpath-demo-'));
  t.after(() => rmSync(outputDir, { recursive: true, force: true }));
  const { code, output } = await runDemo(outputDir);
  assert.equal(code, 0, output);
  const svg = readFileSync(join(outputDir, 'profile.svg'), 'utf8');
  assert.match(svg, /<title>cpu_hog \([^)]*demo\/app\.py:\d+\)/, 'the hot handler is a frame of the flame graph');
  for (const file of ['profile.hotpath', 'profile.html', 'profile.speedscope.json']) {
    assert.ok(existsSync(join(outputDir, file)), `${file} written`);
  }
  const table = output.slice(output.indexOf('endpoints by CPU share'));
  const firstRow = table.split('\n').find((line) => /^\s+\d+\s+[\d.]+%/.test(line));
  assert.match(firstRow ?? '', /GET \/cpu_hog\s/, `GET /cpu_hog is the top endpoint:\n${table}`);
});
