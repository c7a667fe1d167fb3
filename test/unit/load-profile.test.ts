// loadProfile sniffs saved hotpath profiles, speedscope JSON and collapsed stacks from files; formats it cannot
// read back fail with a clear bad-input-file error. Also checks the FORMATS table every exporter is listed in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HotpathError } from '../../src/errors/index.js';
import {
  exportChromeTrace,
  exportCollapsed,
  exportGecko,
  exportHotpathProfile,
  exportPprof,
  exportPstats,
  exportSpeedscope,
  FORMATS,
  loadProfile,
} from '../../src/export/index.js';
import { buildExportProfile, EXPECTED } from '../fixtures/export-profile.js';

function withFile(data: string | Buffer, use: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-load-'));
  try {
    writeFileSync(join(dir, 'profile'), data);
    use(join(dir, 'profile'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fails = (kind: string, pattern: RegExp) => (error: unknown) =>
  error instanceof HotpathError && error.kind === kind && pattern.test(error.message);

test('a saved hotpath profile loads back exactly', () => {
  const profile = buildExportProfile();
  withFile(exportHotpathProfile(profile), (path) => assert.deepEqual(loadProfile(path), profile));
});

test('speedscope JSON loads with the same sample count', () => {
  withFile(exportSpeedscope(buildExportProfile()), (path) => {
    const profile = loadProfile(path);
    assert.equal(profile.samples.count, EXPECTED.samples);
    assert.equal(profile.threads.length, 3);
  });
  const indented = `\uFEFF  ${JSON.stringify(JSON.parse(exportSpeedscope(buildExportProfile()).toString()), null, 2)}`;
  withFile(indented, (path) => assert.equal(loadProfile(path).samples.count, EXPECTED.samples));
});

test('collapsed stacks load through importCollapsed', () => {
  withFile(exportCollapsed(buildExportProfile()), (path) =>
    assert.equal(loadProfile(path).samples.count, EXPECTED.samples),
  );
});

test('formats that cannot be read back fail with bad-input-file naming the file', () => {
  const profile = buildExportProfile();
  const cases: [string | Buffer, RegExp][] = [
    [exportPprof(profile), /profile: .*no hotpath header \(pprof/],
    [exportPstats(profile), /binary file .*pstats/],
    [exportChromeTrace(profile), /JSON but not a speedscope file/],
    [exportGecko(profile), /JSON but not a speedscope file/],
    ['{"$schema": "https://www.speedscope.app/file-format-schema.json", "shared"', /JSON does not parse/],
    ['', /the file is empty/],
  ];
  for (const [data, pattern] of cases) {
    withFile(data, (path) => assert.throws(() => loadProfile(path), fails('bad-input-file', pattern), String(pattern)));
  }
});

test('a missing file is an io error', () => {
  assert.throws(() => loadProfile('/nonexistent/profile.hotpath'), fails('io', /ENOENT/));
});

test('FORMATS names each exporter once, with an extension, and each writes something', () => {
  const names = FORMATS.map((format) => format.name);
  assert.deepEqual(names, ['raw', 'speedscope', 'pprof', 'pstats', 'chrometrace', 'gecko', 'hotpath']);
  const profile = buildExportProfile();
  for (const format of FORMATS) {
    assert.match(format.extension, /^[a-z0-9.]+$/);
    assert.ok(format.export(profile).length > 0, format.name);
  }
});
