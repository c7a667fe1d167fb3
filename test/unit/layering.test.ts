// The layers of docs/architecture.md, checked in the source: a folder under src/ imports only from itself and the
// layers before it (export and render are siblings: neither imports the other).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../../../src/', import.meta.url));
const ORDER = ['errors', 'proc', 'elf', 'cpython', 'sampler', 'profile', 'export', 'render', 'agent', 'web', 'cli'];
const SIBLINGS = new Set(['export', 'render']);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): string {
  return path.relative(srcDir, file).split(path.sep)[0]!;
}

test('every folder under src/ is a known layer', () => {
  const folders = fs.readdirSync(srcDir, { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.deepEqual(
    folders.map((e) => e.name).filter((name) => !ORDER.includes(name)),
    [],
  );
});

test('layers import only from themselves and the layers before them', () => {
  const wrong: string[] = [];
  let crossings = 0;
  for (const file of sourceFiles(srcDir)) {
    const from = layerOf(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const to = layerOf(path.resolve(path.dirname(file), specifier!));
      if (to === from) continue;
      crossings++;
      const backwards = ORDER.indexOf(to) > ORDER.indexOf(from);
      const sideways = SIBLINGS.has(from) && SIBLINGS.has(to);
      if (backwards || sideways) wrong.push(`${path.relative(srcDir, file)} imports ${to} (${specifier})`);
    }
  }
  assert.ok(crossings > 50, `only ${crossings} imports across layers found: the import pattern is broken`);
  assert.deepEqual(wrong, []);
});
