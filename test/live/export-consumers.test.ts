// Exported files opened by the real tools that consume them: `go tool pprof` for pprof, Python's pstats and
// SnakeViz (installed by setup in the 3.11+ venvs) for pstats. Each tool's numbers must equal the fixture's facts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPprof } from '../../src/export/pprof.js';
import { exportPstats } from '../../src/export/pstats.js';
import { buildExportProfile, EXPECTED } from '../fixtures/export-profile.js';
import { listPythons } from '../support/pythons.js';

const GO = ['/usr/local/go/bin/go', '/usr/bin/go'].find((path) => existsSync(path));
const PYTHONS = ['9.18', '10.13', '11.7', '12.1', '13.0']
  .map((version) => `/root/.pyenv/versions/3.${version}/bin/python3`)
  .concat('/usr/bin/python3')
  .filter((path) => existsSync(path));

function runPython(python: string, args: string[], input = ''): string {
  const result = spawnSync(python, args, { encoding: 'utf8', input, timeout: 60_000 });
  assert.equal(result.status, 0, `${python} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Loads a pstats file with pstats.Stats and prints what it read, keyed by function name. */
const LOAD_PSTATS = `
import json, pstats, sys
stats = pstats.Stats(sys.argv[1])
print(json.dumps({
    "total_tt": stats.total_tt,
    "total_calls": stats.total_calls,
    "functions": {name: [file, line, cc, nc, tt, ct, sorted(c[2] for c in callers)]
                  for (file, line, name), (cc, nc, tt, ct, callers) in stats.stats.items()},
}))
`;

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

for (const python of PYTHONS) {
  test(`pstats.Stats in ${python} loads the file with each function's tt and ct`, () => {
    withTempFile('profile.pstats', exportPstats(buildExportProfile()), (path) => {
      const loaded = JSON.parse(runPython(python, ['-c', LOAD_PSTATS, path])) as {
        total_tt: number;
        functions: Record<string, [string, number, number, number, number, number, string[]]>;
      };
      assert.ok(Math.abs(loaded.total_tt - EXPECTED.samples * 0.01) < 1e-9, `total_tt ${loaded.total_tt}`);
      for (const [name, facts] of Object.entries(EXPECTED.functions)) {
        const [file, line, cc, nc, tt, ct] = loaded.functions[name]!;
        assert.deepEqual([file, line, cc, nc], [facts.file, facts.firstLine, facts.total, facts.frames], name);
        assert.ok(Math.abs(tt - facts.self * 0.01) < 1e-9, `${name} tt ${tt}`);
        assert.ok(Math.abs(ct - facts.total * 0.01) < 1e-9, `${name} ct ${ct}`);
      }
      assert.deepEqual(loaded.functions.fib![6], ['fib', 'handle_request', 'run']);
    });
  });
}

test(
  'python -m pstats sorts by tottime and prints the top functions',
  { skip: PYTHONS.length === 0 && 'no Python' },
  () => {
    withTempFile('profile.pstats', exportPstats(buildExportProfile()), (path) => {
      const output = runPython(PYTHONS[0]!, ['-m', 'pstats', path], 'sort tottime\nstats 10\nquit\n');
      assert.match(output, /in 0\.120 seconds/);
      const rows = output.split('\n').filter((line) => /^\s+[\d/]+\s+\d+\.\d{3}/.test(line));
      assert.equal(rows.length, 10);
      assert.match(rows[0]!, /^\s+9\/4\s+0\.040\s+.*calc\.py:1\(fib\)$/);
      assert.match(output, /views\.py:3\(ユーザー一覧\)/);
    });
  },
);

/** setup installs SnakeViz in every venv from CPython 3.11 on (test/requirements.txt), so one without it fails. */
const SNAKEVIZ_PYTHON = listPythons().find((python) => Number(python.version.split('.')[1]) >= 11)?.executable;

test(
  'SnakeViz builds its table and call tree from the file',
  { skip: !SNAKEVIZ_PYTHON && 'no venv of CPython 3.11+ (run scripts/setup.sh)' },
  () => {
    const script = `
import json, sys
from pstats import Stats
from snakeviz.stats import json_stats, table_rows
stats = Stats(sys.argv[1])
print(json.dumps({"rows": len(table_rows(stats)), "tree": json_stats(stats)}))
`;
    withTempFile('profile.pstats', exportPstats(buildExportProfile()), (path) => {
      const { rows, tree } = JSON.parse(runPython(SNAKEVIZ_PYTHON!, ['-c', script, path])) as {
        rows: number;
        tree: Record<string, { children: Record<string, number[]> }>;
      };
      assert.equal(rows, 10);
      assert.deepEqual(Object.keys(tree['~:0(<all stacks>)']!.children).sort(), ['app.py:1(main)', 'worker.py:1(run)']);
    });
  },
);
