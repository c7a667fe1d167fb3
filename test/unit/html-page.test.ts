// The HTML pages' shell: client modules link into one script that compiles, the page is self-contained (CSP,
// no external references), and names from the target cannot break out of the embedded JSON.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkClientModules } from '../../src/render/client-linker.js';
import { renderHtmlReport } from '../../src/render/index.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';

function embeddedData(html: string): unknown {
  const match = /<script type="application\/json" id="hotpath-data">([^<]*)<\/script>/.exec(html);
  assert.ok(match, 'no embedded data');
  return JSON.parse(match[1]!);
}

test('modules link in dependency order, imports become reads of earlier modules', () => {
  const sources: Record<string, string> = {
    entry: [
      "import { twice, PLUS as plus } from './lib.js';",
      "import { id } from './base.js';",
      'export function startPage(x) { return plus + twice(id(x)); }',
      '//# sourceMappingURL=entry.js.map',
    ].join('\n'),
    lib: [
      "import { id } from './base.js';",
      'export const PLUS = 1;',
      'export function twice(x) { return 2 * id(x); }',
    ].join('\n'),
    base: 'export function id(x) { return x; }\nexport class Unused {}',
  };
  const script = linkClientModules('entry', (name) => sources[name]!);
  assert.ok(script.indexOf('module_base =') < script.indexOf('module_lib ='));
  assert.ok(script.indexOf('module_lib =') < script.indexOf('module_entry ='));
  assert.ok(!script.includes('sourceMappingURL'));
  const startPage = new Function(`${script}\nreturn hotpathClient.startPage;`)() as (x: number) => number;
  assert.equal(startPage(5), 11);
});

test('forms the linker does not understand are refused, not mangled', () => {
  const link = (code: string) => () => linkClientModules('entry', () => code);
  assert.throws(link("import * as all from './lib.js';"), /unsupported import/);
  assert.throws(link("import { readFileSync } from 'node:fs';"), /unsupported import/);
  assert.throws(link('export default 1;'), /unsupported export/);
  assert.throws(link('const a = 1;\nexport { a };'), /unsupported export/);
  assert.throws(
    () => linkClientModules('a', (name) => `import { x } from './${name === 'a' ? 'b' : 'a'}.js';`),
    /cycle/,
  );
});

test('the report is one self-contained page: CSP, inline script and data, no external references', () => {
  const html = renderHtmlReport(buildWebAppProfile(), { title: 'Web app' });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.match(html, /<title>Web app<\/title>/);
  assert.doesNotMatch(html, /\b(src|href)=/);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script[^>]* src=/);
  const data = embeddedData(html) as { kind: string; title: string; meta: { samples: number } };
  assert.deepEqual([data.kind, data.title, data.meta.samples], ['report', 'Web app', 11]);
  // The linked client compiles (running it needs a DOM).
  const script = /<script>\n([\s\S]*)\n<\/script>/.exec(html)![1]!;
  assert.doesNotThrow(() => new Function(script));
});

test('hostile names stay data: no early </script>, the title escaped', () => {
  const evil = '</script><script>alert(1)</script>';
  const profile = buildHandProfile([{ frames: [frame(evil, '<b>x.py', 1)], endpoint: `GET /${evil}` }]);
  const html = renderHtmlReport(profile, { title: `<img onerror=x> ${evil}` });
  assert.equal(html.match(/<\/script>/g)!.length, 2, 'only the two real script ends');
  assert.match(html, /<title>&#60;img onerror=x&#62; &#60;\/script&#62;/);
  const data = embeddedData(html) as { strings: string[]; endpoints: string[] };
  assert.ok(data.strings.includes(evil));
  assert.deepEqual(data.endpoints, [`GET /${evil}`]);
});
