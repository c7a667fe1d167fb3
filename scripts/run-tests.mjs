#!/usr/bin/env node
// Runs every compiled test file with Node's built-in test runner, in two phases: first the files that
// measure CPU shares, one at a time, so no other test competes with their targets for the 2 cores; then
// everything else, two files at a time. Ends with the failures of both phases, repeated so that a log's tail shows
// them, and one "N passed, N failed" line.
// HOTPATH_TEST_FILTER=substring limits the run to matching files; HOTPATH_FULL=1 enables long counts.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

/** Files whose assertions are shares of CPU time: run alone. */
const EXCLUSIVE = [
  'live/engine.test.js',
  'live/web.test.js',
  'live/fastapi-sync.test.js',
  'live/starvation.test.js',
  'live/uwsgi.test.js',
];

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

/** The spec reporter's closing list of failures, without the runner's own stack frames. */
function failuresIn(text) {
  const start = text.indexOf('\n✖ failing tests:');
  if (start < 0) return '';
  return text
    .slice(start)
    .split('\n')
    .filter((line) => !/^\s+at .*\(node:[^)]*\)$/.test(line))
    .join('\n');
}

/** Runs one phase, echoing its output, and returns its counts and failures from the runner's closing lines. */
function runPhase(files, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let text = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      text += chunk.toString();
    });
    child.on('close', (code) => {
      const count = (name) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      const failures = failuresIn(text);
      resolve({ code: code ?? 1, passed: count('pass'), failed: count('fail'), skipped: count('skipped'), failures });
    });
  });
}

const filter = process.env.HOTPATH_TEST_FILTER ?? '';
const files = collect('dist/test').filter((file) => file.includes(filter)).sort();
if (files.length === 0) {
  console.error(`no test files match "${filter}"`);
  process.exit(1);
}
const isExclusive = (file) => EXCLUSIVE.some((name) => file.endsWith(name));
const phases = [
  [files.filter(isExclusive), 1],
  [files.filter((file) => !isExclusive(file)), 2],
].filter(([phaseFiles]) => phaseFiles.length > 0);
const total = { code: 0, passed: 0, failed: 0, skipped: 0, failures: '' };
for (const [phaseFiles, concurrency] of phases) {
  const result = await runPhase(phaseFiles, concurrency);
  total.code ||= result.code;
  total.passed += result.passed;
  total.failed += result.failed;
  total.skipped += result.skipped;
  total.failures += result.failures;
}
if (phases.length > 1 && total.failures !== '') console.log(`\nagain, the failures of all phases:${total.failures}`);
console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.code !== 0 || total.failed > 0 ? 1 : 0);
