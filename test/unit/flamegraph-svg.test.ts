// The flame graph SVG as a file: well-formed XML (checked by Python's parser), every frame with its samples,
// width and tooltip, escaped and non-ASCII text intact, stable warm colours, self-contained.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeXml, fitLabel, renderFlamegraphSvg, warmColour } from '../../src/render/flamegraph-svg.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';

interface SvgFrame {
  label: string;
  samples: number;
  x: number;
  width: number;
  rectX: number;
  rectY: number;
  rectWidth: number;
  fill: string;
  title: string;
  text: string;
}

/** Parses the SVG with Python's ElementTree (so malformed XML fails here) and returns its frames. */
const PARSE_FRAMES = `
import json, sys, xml.etree.ElementTree as E
ns = {'s': 'http://www.w3.org/2000/svg'}
root = E.parse(sys.argv[1]).getroot()
frames = []
for g in root.iterfind(".//s:g[@id='frames']/s:g", ns):
    rect, text, title = g.find('s:rect', ns), g.find('s:text', ns), g.find('s:title', ns)
    frames.append(dict(label=g.get('data-label'), samples=int(g.get('data-s')), x=float(g.get('data-x')),
        width=float(g.get('data-w')), rectX=float(rect.get('x')), rectY=float(rect.get('y')),
        rectWidth=float(rect.get('width')), fill=rect.get('fill'), title=title.text, text=text.text or ''))
sys.stdout.buffer.write(json.dumps(dict(title=root.find("s:text[@id='title']", ns).text, frames=frames)).encode())
`;

function parseSvg(svg: string): { title: string; frames: SvgFrame[] } {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-svg-'));
  try {
    writeFileSync(join(dir, 'graph.svg'), svg);
    return JSON.parse(execFileSync('python3', ['-c', PARSE_FRAMES, join(dir, 'graph.svg')], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every frame is drawn with its samples, share of the width and tooltip', () => {
  const { title, frames } = parseSvg(renderFlamegraphSvg(buildWebAppProfile(), { width: 1120 }));
  assert.equal(title, 'Flame Graph');
  assert.deepEqual(
    frames.map((f) => [f.label, f.samples]),
    [
      ['all', 11],
      ['main (app.py:10)', 6],
      ['handle (views.py:20)', 4],
      ['query (db.py:5)', 3],
      ['handle (views.py:21)', 2],
      ['render (tpl.py:7)', 2],
      ['run (worker.py:3)', 5],
      ['query (db.py:5)', 4],
      ['query (db.py:6)', 1],
    ],
  );
  const chartWidth = 1100;
  for (const f of frames) {
    assert.ok(Math.abs(f.width - f.samples / 11) < 1e-12, f.label);
    assert.ok(Math.abs(f.rectWidth - (f.samples / 11) * chartWidth) < 0.01, f.label);
    assert.ok(Math.abs(f.rectX - (10 + f.x * chartWidth)) < 0.01, f.label);
  }
  const handle = frames.find((f) => f.label === 'handle (views.py:20)')!;
  assert.equal(handle.title, 'handle (views.py:20) (4 samples, 36.36%)');
  assert.equal(handle.text, 'handle (views.py:20)');
  const render = frames.find((f) => f.label === 'render (tpl.py:7)')!;
  assert.ok(Math.abs(render.rectX - (10 + (4 / 11) * chartWidth)) < 0.01);
});

test('flame graphs grow upwards from the root, icicles downwards', () => {
  const flame = parseSvg(renderFlamegraphSvg(buildWebAppProfile()));
  const icicle = parseSvg(renderFlamegraphSvg(buildWebAppProfile(), { icicle: true }));
  assert.deepEqual([flame.title, icicle.title], ['Flame Graph', 'Icicle Graph']);
  assert.ok(flame.frames[0]!.rectY > flame.frames[1]!.rectY);
  assert.ok(icicle.frames[0]!.rectY < icicle.frames[1]!.rectY);
  assert.ok(icicle.frames[0]!.rectY < flame.frames[0]!.rectY);
});

test('names with markup characters, control bytes and non-ASCII text come out intact', () => {
  const profile = buildHandProfile([
    { frames: [frame('größe_berechnen', 'straße/ü.py', 3), frame('日本語', 'データ.py', 7)], times: 2 },
    { frames: [frame('<lambda>', 'a&b "q" \'s\'.py', 9), frame('🔥burn', 'x.py', 1)] },
    { frames: [frame('bad\u0001byte\ud800', 'c.py', 2)] },
  ]);
  const svg = renderFlamegraphSvg(profile, { title: 'Title <&> "ünïcödé" 🔥', groupBy: 'thread' });
  const { title, frames } = parseSvg(svg);
  assert.equal(title, 'Title <&> "ünïcödé" 🔥');
  const labels = frames.map((f) => f.label);
  assert.ok(labels.includes('größe_berechnen (straße/ü.py:3)'));
  assert.ok(labels.includes('日本語 (データ.py:7)'));
  assert.ok(labels.includes('<lambda> (a&b "q" \'s\'.py:9)'));
  assert.ok(labels.includes('🔥burn (x.py:1)'));
  assert.ok(labels.includes('bad\ufffdbyte\ufffd (c.py:2)'));
  assert.equal(frames.find((f) => f.label.startsWith('日本語'))!.title, '日本語 (データ.py:7) (2 samples, 50.00%)');
  assert.ok(labels.includes('MainThread (100)'));
});

test('labels are cut to fit with "..", never inside a surrogate pair', () => {
  assert.equal(fitLabel('handle (views.py:20)', 1000, 7), 'handle (views.py:20)');
  assert.equal(fitLabel('handle (views.py:20)', 6 + 7 * 8, 7), 'handle..');
  assert.equal(fitLabel('🔥🔥🔥🔥🔥', 6 + 7 * 4, 7), '🔥🔥..');
  assert.equal(fitLabel('abcdef', 6 + 7 * 2, 7), '');
  const narrow = parseSvg(renderFlamegraphSvg(buildWebAppProfile(), { width: 220 })).frames;
  for (const f of narrow) assert.ok(f.text === '' || f.text === f.label || f.text.endsWith('..'), f.text);
});

test('colours are warm, stable per function name, and synthetic frames are neutral', () => {
  const { frames } = parseSvg(renderFlamegraphSvg(buildWebAppProfile()));
  const fills = new Map<string, Set<string>>();
  for (const f of frames) {
    const name = f.label.split(' (')[0]!;
    fills.set(name, (fills.get(name) ?? new Set()).add(f.fill));
  }
  assert.equal(fills.get('query')!.size, 1);
  assert.equal(fills.get('handle')!.size, 1);
  assert.notDeepEqual(fills.get('query'), fills.get('handle'));
  for (const name of ['main', 'handle', 'query', 'render', 'run', 'x', '日本語']) {
    const [red, green, blue] = warmColour(name).match(/\d+/g)!.map(Number);
    assert.ok(red! >= 205 && red! <= 255 && green! >= 70 && green! <= 230 && blue! <= 55, warmColour(name));
    assert.equal(warmColour(name), warmColour(name));
  }
  assert.notEqual(frames[0]!.fill, warmColour('all'));
});

test('frames below the minimum width in px are left out', () => {
  const profile = buildHandProfile([
    { frames: [frame('big', 'a.py', 1)], times: 999 },
    { frames: [frame('tiny', 'b.py', 1)] },
  ]);
  const labels = (minWidth: number) => parseSvg(renderFlamegraphSvg(profile, { minWidth })).frames.map((f) => f.label);
  assert.deepEqual(labels(0.1), ['all', 'big (a.py:1)', 'tiny (b.py:1)']);
  assert.deepEqual(labels(2), ['all', 'big (a.py:1)']);
});

test('the file is self-contained and options reach the output', () => {
  const svg = renderFlamegraphSvg(buildWebAppProfile(), { countName: 'ms', title: 'Requests' });
  assert.doesNotMatch(svg, /\b(href|src)=/);
  assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.match(svg, /<script type="text\/ecmascript"><!\[CDATA\[/);
  assert.match(svg, /<title>query \(db\.py:5\) \(3 ms, 27\.27%\)<\/title>/);
  const empty = parseSvg(renderFlamegraphSvg(buildHandProfile([])));
  assert.deepEqual(empty.frames, []);
  const filtered = parseSvg(renderFlamegraphSvg(buildWebAppProfile(), { filter: (i) => i >= 6, frameKey: 'function' }));
  assert.deepEqual(
    filtered.frames.map((f) => [f.label, f.samples]),
    [
      ['all', 5],
      ['run (worker.py:1)', 5],
      ['query (db.py:3)', 5],
    ],
  );
  assert.equal(escapeXml('a<b>&"\'\n'), 'a&lt;b&gt;&amp;&quot;&#39;&#10;');
});
