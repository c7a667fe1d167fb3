// docs/support.md is generated: it must be exactly what `npm run support-table` renders from docs/support.json (the
// outcomes of the live coverage run it was made from), and the renderer must show outcomes as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseCoverageResults,
  renderSupportTable,
  type CoverageCase,
  type CoverageResults,
} from '../support/coverage-results.js';

const docs = new URL('../../../docs/', import.meta.url);

test('docs/support.md is the rendering of docs/support.json, not hand-edited', () => {
  const results = parseCoverageResults(readFileSync(new URL('support.json', docs), 'utf8'));
  assert.equal(
    readFileSync(new URL('support.md', docs), 'utf8'),
    renderSupportTable(results),
    'run npm run support-table',
  );
});

test('every passing case in docs/support.json carries its build facts and three passed checks', () => {
  const results = parseCoverageResults(readFileSync(new URL('support.json', docs), 'utf8'));
  const passed = results.cases.filter((c) => c.outcome === 'pass');
  assert.ok(passed.length > 0);
  for (const c of passed) {
    assert.ok(c.version?.startsWith(`${c.minor}.`), `${c.id}: version ${c.version}`);
    assert.ok(c.build && c.runtime, c.id);
    assert.deepEqual(c.checks, { dump: 'pass', attached: 'pass', launched: 'pass' }, c.id);
  }
});

const passing: CoverageCase = {
  id: 'pyenv-3.12',
  column: 'pyenv',
  minor: '3.12',
  label: 'pyenv 3.12.1',
  outcome: 'pass',
  version: '3.12.1',
  build: { executable: 'PIE', libpython: 'shared', stripped: false },
  runtime: { strategy: 'symbol', openedVia: 'path', layout: 'table' },
  checks: { dump: 'pass', attached: 'pass', launched: 'pass' },
};

function results(cases: CoverageCase[]): CoverageResults {
  return { format: 1, finished: '2026-01-01T00:00:00Z', platform: 'Linux x86_64', cases };
}

test('cells show each outcome with its version; absent kinds are dashes; skips and failures are listed with reasons', () => {
  const text = renderSupportTable(
    results([
      passing,
      {
        ...passing,
        id: 'scan-pyenv-3.12',
        column: 'scan',
        outcome: 'fail',
        checks: { dump: 'pass', attached: 'fail', launched: 'pass' },
        reason: 'stack moved',
      },
      {
        id: 'chroot-sid-3.14',
        column: 'chroot',
        minor: '3.14',
        label: 'sid python3.14 (chroot)',
        outcome: 'skip',
        reason: 'rootfs sid failed: no network',
      },
    ]),
  );
  const row312 = text.split('\n').find((line) => line.startsWith('| 3.12 |'))!;
  assert.match(row312, /^\| 3\.12 \| ✅ 3\.12\.1 \| — \| — \| — \| — \| — \| ❌ 3\.12\.1 \|$/);
  assert.match(text, /^\| 3\.14 \| — \| — \| — \| ⏭️ \| — \| — \| — \|$/m);
  assert.match(text, /## Failed\n\n- pyenv 3\.12\.1: stack moved/);
  assert.match(text, /## Skipped\n\n- sid python3\.14 \(chroot\): rootfs sid failed: no network/);
  assert.match(
    text,
    /^\| pyenv 3\.12\.1 \| 3\.12\.1 \| PIE \| shared \| no \| symbol \| `path` \| table \| ✅ \| ❌ \| ✅ \|$/m,
  );
});

test('results of another format or with unknown columns are rejected', () => {
  assert.throws(() => parseCoverageResults(JSON.stringify({ ...results([passing]), format: 2 })), /format 1/);
  const stray = { ...passing, column: 'docker' };
  assert.throws(() => parseCoverageResults(JSON.stringify(results([stray as unknown as CoverageCase]))), /malformed/);
});
