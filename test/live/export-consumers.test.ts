// Exported files opened by the real tools that consume them: `go tool pprof` for pprof, Python's pstats
// (and SnakeViz when installed) for pstats. Each tool's numbers must equal the fixture's facts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPprof } from '../../src/export/pprof.js';
import { buildExportProfile, EXPECTED } from '../fixtures/export-profile.js';

const GO = ['/usr/local/go/bin/go', '/usr/bin/go'].find((path) => existsSync(path));

function withTempFile(name: string, data: Buffer | string, use: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-export-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, data);
    use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function goPprof(args: string[], path: string): string {
  const result = spawnSync(GO!, ['tool', 'pprof', ...args, path], {
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    timeout: 300_000,
  });
  assert.equal(result.status, 0, `go tool pprof failed: ${result.stderr}`);
  return result.stdout;
}

/** Rows of `pprof -top`: function → [flat, cum]. */
function parseTop(output: string): Map<string, [number, number]> {
  const rows = new Map<string, [number, number]>();
  for (const line of output.split('\n')) {
    const match = /^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+)$/.exec(line);
    if (match) rows.set(match[3]!, [Number(match[1]), Number(match[2])]);
  }
  return rows;
}

test(
  'go tool pprof -top shows the same flat and cumulative samples per function',
  { skip: !GO && 'Go is not installed' },
  () => {
    withTempFile('profile.pb.gz', exportPprof(buildExportProfile()), (path) => {
      const output = goPprof(['-top', '-nodecount=100', '-sample_index=samples'], path);
      assert.match(output, /Total samples = 12\b/);
      const rows = parseTop(output);
      for (const [name, facts] of Object.entries(EXPECTED.functions)) {
        assert.deepEqual(rows.get(name), [facts.self, facts.total], `${name}: ${output}`);
      }
      const cpu = goPprof(['-top', '-sample_index=cpu'], path);
      assert.match(cpu, /Total samples = 120ms\b/, 'cpu values are samples × 10 ms');
    });
  },
);

test('go tool pprof -traces shows thread, tid, pid and endpoint labels', { skip: !GO && 'Go is not installed' }, () => {
  withTempFile('profile.pb.gz', exportPprof(buildExportProfile()), (path) => {
    const output = goPprof(['-traces', '-sample_index=samples'], path);
    const traces = output.split(/^-+\+-+$/m).slice(1);
    const fibTrace = traces.find((trace) => trace.includes('POST /fib'))!;
    assert.match(fibTrace, /thread:\s+worker-1/);
    assert.match(fibTrace, /tid:\s+101/);
    assert.match(fibTrace, /pid:\s+100/);
    assert.match(fibTrace, /^\s+2\s+fib\n\s+fib\n\s+fib\n\s+handle_request\n\s+main$/m);
    assert.ok(traces.some((trace) => trace.includes('GET /ユーザー') && trace.includes('ユーザー一覧')));
    const unnamed = traces.filter((trace) => /tid:\s+201/.test(trace));
    assert.equal(unnamed.length, 3);
    assert.ok(unnamed.every((trace) => !/thread:|endpoint:/.test(trace)));
  });
});
