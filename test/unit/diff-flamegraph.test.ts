// The differential flame graph: widths from AFTER, red for a share that grew and blue for one that shrank
// (deeper for larger changes), removed functions listed under the SVG graph and in the HTML page's data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProfileDiff, type Profile } from '../../src/profile/index.js';
import { buildDiffData, renderDiffFlamegraphSvg, renderDiffHtml } from '../../src/render/index.js';
import { diffColour, UNCHANGED_COLOUR } from '../../src/render/html-client/colours.js';
import { formatChange } from '../../src/render/html-client/format.js';
import { buildHandProfile, frame } from '../support/flame-profiles.js';

const main = frame('main', 'app.py', 30, 28);

function buildBefore(): Profile {
  return buildHandProfile([
    { frames: [main, frame('parse', 'app.py', 5, 3)], times: 6 },
    { frames: [main, frame('render', 'app.py', 12, 10)] },
    { frames: [main, frame('audit', 'app.py', 20, 18)], times: 3 },
  ]);
}

function buildAfter(): Profile {
  return buildHandProfile([
    { frames: [main, frame('parse', 'app.py', 7, 4)], times: 2 },
    { frames: [main, frame('render', 'app.py', 14, 11)], times: 5 },
    { frames: [main, frame('cache', 'cache.py', 3, 1)] },
  ]);
}

interface SvgFrame {
  label: string;
  samples: number;
  change: number;
  fill: string;
  width: number;
  title: string;
}

function svgFrames(svg: string): SvgFrame[] {
  const pattern =
    /<g class="f" data-label="([^"]*)" data-samples="(\d+)" data-change="([^"]+)"><title>([^<]*)<\/title><rect [^>]*width="([\d.]+)"[^>]*fill="([^"]+)"/g;
  return [...svg.matchAll(pattern)].map((m) => ({
    label: m[1]!,
    samples: Number(m[2]),
    change: Number(m[3]),
    title: m[4]!,
    width: Number(m[5]),
    fill: m[6]!,
  }));
}

function rgb(fill: string): [number, number, number] {
  const match = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(fill);
  assert.ok(match, `${fill} is not rgb()`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function frameNamed(frames: SvgFrame[], label: string): SvgFrame {
  const found = frames.find((f) => f.label === label);
  assert.ok(found, `no frame ${label}`);
  return found;
}

test('the SVG draws AFTER widths, grown frames red and shrunk ones blue, deepest for the largest change', () => {
  const svg = renderDiffFlamegraphSvg(buildProfileDiff(buildBefore(), buildAfter()), { width: 820 });
  const frames = svgFrames(svg);
  assert.deepEqual(
    frames.map((f) => [f.label, f.samples]),
    [
      ['all', 8],
      ['main (app.py)', 8],
      ['cache (cache.py)', 1],
      ['parse (app.py)', 2],
      ['render (app.py)', 5],
    ],
  );
  assert.equal(frameNamed(frames, 'render (app.py)').width, (5 / 8) * 800);
  const [rr, rg, rb] = rgb(frameNamed(frames, 'render (app.py)').fill);
  assert.ok(rr === 255 && rg < 100 && rb === rg, 'render (+52.5 pts, the largest change) is deep red');
  const [pr, pg, pb] = rgb(frameNamed(frames, 'parse (app.py)').fill);
  assert.ok(pb === 255 && pr === pg && pr < 200, 'parse (-35 pts) is blue');
  const [cr, cg] = rgb(frameNamed(frames, 'cache (cache.py)').fill);
  assert.ok(cr === 255 && cg > rg, 'cache (added, +12.5 pts) is a paler red than render');
  assert.equal(frameNamed(frames, 'main (app.py)').fill, UNCHANGED_COLOUR);
  assert.equal(
    frameNamed(frames, 'parse (app.py)').title,
    'parse (app.py): 2 samples, 25.00% (was 60.00%, -35.00 pts)',
  );
  assert.ok(!frames.some((f) => f.label.startsWith('audit')), 'a removed function has no width in AFTER');
});

test('the SVG lists functions only BEFORE had, in blue, with their lost share', () => {
  const svg = renderDiffFlamegraphSvg(buildProfileDiff(buildBefore(), buildAfter()), {
    beforeName: 'before.hotpath',
    afterName: 'after.hotpath',
  });
  assert.match(svg, /<text class="removed" [^>]*>Only in BEFORE \(removed\), 1:<\/text>/);
  assert.match(
    svg,
    /<text class="removed" [^>]*data-name="audit" data-change="-0.3">audit \(app.py\): was 30.00%, -30.00 pts<\/text>/,
  );
  assert.match(svg, /\.removed \{ fill: rgb\(30,30,200\); \}/);
  assert.match(
    svg,
    /width: AFTER after.hotpath \(8 samples\); colour: change of share against BEFORE before.hotpath \(10 samples\)/,
  );
});

test('the HTML page embeds the merged tree and every function, removed ones included', () => {
  const diff = buildProfileDiff(buildBefore(), buildAfter());
  const data = buildDiffData(diff, { title: 'Diff' });
  const names = new Map(data.names.map(([id, name]) => [id, name]));
  assert.deepEqual(
    data.functions.map(([id, beforeSelf, beforeTotal, afterSelf, afterTotal]) => [
      names.get(id),
      beforeSelf,
      beforeTotal,
      afterSelf,
      afterTotal,
    ]),
    [
      ['render', 1, 1, 5, 5],
      ['parse', 6, 6, 2, 2],
      ['audit', 3, 3, 0, 0],
      ['cache', 0, 0, 1, 1],
      ['main', 0, 10, 0, 8],
    ],
  );
  assert.equal(data.nodes.parent.length, 5, 'all, main and the three AFTER children; audit has no width');
  const html = renderDiffHtml(diff, { title: 'Diff' });
  assert.match(html, /<title>Diff<\/title>/);
});

test('diff colours: grey for no change, red up, blue down, saturating at the largest change', () => {
  assert.equal(diffColour(0, 0.5), UNCHANGED_COLOUR);
  assert.equal(diffColour(1e-9, 0.5), UNCHANGED_COLOUR);
  assert.equal(diffColour(0.5, 0.5), 'rgb(255,50,50)');
  assert.equal(diffColour(-0.5, 0.5), 'rgb(50,50,255)');
  assert.equal(diffColour(-1, 0.5), 'rgb(50,50,255)');
  assert.equal(diffColour(0.25, 0.5), 'rgb(255,133,133)');
  assert.deepEqual(
    [formatChange(0.042), formatChange(-0.3), formatChange(-0.00001)],
    ['+4.20 pts', '-30.00 pts', '0.00 pts'],
  );
});
