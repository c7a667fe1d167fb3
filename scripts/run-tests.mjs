#!/usr/bin/env node
// Runs every compiled test file with Node's built-in test runner.
// HOTPATH_TEST_FILTER=substring limits the run to matching files; HOTPATH_FULL=1 enables long counts.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filter = process.env.HOTPATH_TEST_FILTER ?? '';
const files = collect('dist/test').filter((file) => file.includes(filter)).sort();
if (files.length === 0) {
  console.error(`no test files match "${filter}"`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
