// `diff` on two real recordings of one script before and after a known change (test/targets/diff_target.py):
// the function made cheaper is blue, the one that grew red, the removed one listed as removed, in the SVG,
// in the HTML page's table and on its canvas (headless Chromium). Also checks the sources captured at the
// end of each recording reach the report's line view.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildProfileDiff, ProfileBuilder, type Profile, type ProfileDiff } from '../../src/profile/index.js';
import { renderDiffFlamegraphSvg, renderDiffHtml } from '../../src/render/index.js';
import { buildReportData } from '../../src/render/html-report-data.js';
import type { DiffApp } from '../../src/render/html-client/diff-app.js';
import { Sampler } from '../../src/sampler/index.js';
import { chromiumSkipReason, openBrowser, type BrowserSession } from '../support/browser.js';
import { listPythons } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';

const SCRIPT = fileURLToPath(new URL('../../../test/targets/diff_target.py', import.meta.url));
const RATE_HZ = 200;
const SAMPLES_PER_RECORDING = 300;

const python =
  listPythons().find((candidate) => candidate.kind === 'pyenv' && candidate.version === '3.12') ?? listPythons()[0];

/** Records the target in one mode with the real sampler, sources included, as `record` does; stops it after. */
async function recordTarget(mode: 'before' | 'after'): Promise<Profile> {
  const target = await spawnTarget(python!.executable, [SCRIPT, mode]);
  const builder = new ProfileBuilder();
  // Until enough samples, not for a fixed time: on a loaded machine the target gets less CPU per second.
  const enough = new AbortController();
  const sampler = new Sampler([target.pid], {
    rateHz: RATE_HZ,
    includeIdle: false,
    gilOnly: false,
    subprocesses: false,
    onSample: (sample) => {
      builder.addSample(sample);
      if (builder.size >= SAMPLES_PER_RECORDING) enough.abort();
    },
    onSource: (file, lines) => builder.addSource(file, lines),
    onProcessEvent: (event) => {
      if (event.kind === 'attach') builder.addProcess(event.pid, event.detail);
    },
  });
  try {
    const [attached] = sampler.attach();
    await sampler.run(enough.signal);
    return builder.build({
      startTime: sampler.startWallTime,
      durationMs: sampler.elapsedMs,
      rateHz: RATE_HZ,
      pythonVersion: attached!.version.text,
      command: `diff_target.py ${mode}`,
      stats: sampler.stats,
    });
  } finally {
    sampler.close();
    await target.stop();
  }
}

function rgb(fill: string): [number, number, number] {
  const match = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(fill);
  assert.ok(match, `${fill} is not rgb()`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

const isRed = (fill: string) => rgb(fill)[0] === 255 && rgb(fill)[2] < 255;
const isBlue = (fill: string) => rgb(fill)[2] === 255 && rgb(fill)[0] < 255;

/** Fill and change of the SVG frame of a function of the script. */
function svgFrame(svg: string, name: string): { fill: string; change: number } {
  const label = `${name} (${SCRIPT})`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(
    `<g class="f" data-label="${label}" data-samples="\\d+" data-change="([^"]+)">.*?fill="([^"]+)"`,
  ).exec(svg);
  assert.ok(match, `no SVG frame for ${name}`);
  return { change: Number(match[1]), fill: match[2]! };
}

const skip = python ? false : 'no Python venv (run scripts/setup.sh)';

describe('diff of two recordings of one script, before and after a change', { skip }, () => {
  let diff: ProfileDiff;
  let afterProfile: Profile;
  let dir = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-diff-'));
    const beforeProfile = await recordTarget('before');
    afterProfile = await recordTarget('after');
    diff = buildProfileDiff(beforeProfile, afterProfile);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the numbers: parse shrank, render grew, audit was removed', () => {
    assert.ok(
      diff.beforeSamples > 100 && diff.afterSamples > 100,
      `${diff.beforeSamples} / ${diff.afterSamples} samples`,
    );
    const byName = new Map(diff.functions.filter((f) => f.file === SCRIPT).map((f) => [f.name, f]));
    const [parse, render, audit] = ['parse', 'render', 'audit'].map((name) => byName.get(name)!);
    assert.equal(parse!.status, 'both');
    assert.ok(parse!.change.total < -0.15, `parse changed by ${parse!.change.total}`);
    assert.equal(render!.status, 'both');
    assert.ok(render!.change.total > 0.3, `render changed by ${render!.change.total}`);
    assert.equal(audit!.status, 'removed');
    assert.ok(audit!.beforeShare.total > 0.1 && audit!.change.total === -audit!.beforeShare.total);
  });

  test('the SVG colours parse blue and render red, and lists audit as removed', () => {
    const svg = renderDiffFlamegraphSvg(diff);
    writeFileSync(join(dir, 'diff.svg'), svg);
    const parse = svgFrame(svg, 'parse');
    const render = svgFrame(svg, 'render');
    assert.ok(isBlue(parse.fill) && parse.change < 0, `parse: ${parse.fill} ${parse.change}`);
    assert.ok(isRed(render.fill) && render.change > 0, `render: ${render.fill} ${render.change}`);
    assert.doesNotMatch(svg, /data-label="audit /);
    assert.match(svg, /<text class="removed" [^>]*data-name="audit" data-change="-0\.\d+">audit \(/);
  });

  test('the captured source reaches the report data of the recording', () => {
    const lines = buildReportData(afterProfile, 'after').sources[SCRIPT];
    assert.ok(lines, `no source for ${SCRIPT}`);
    assert.equal(lines[6], 'def parse(n):');
  });

  test(
    'the HTML page shows the same colours on its canvas and signs in its table',
    { skip: chromiumSkipReason },
    async () => {
      const file = join(dir, 'diff.html');
      writeFileSync(file, renderDiffHtml(diff, { beforeName: 'before', afterName: 'after' }));
      let browser: BrowserSession | undefined;
      try {
        browser = await openBrowser({ width: 1200, height: 900 });
        const { page, pageErrors: errors } = browser;
        await page.goto(pathToFileURL(file).href);
        assert.deepEqual(errors, []);
        const frames = await page.evaluate(() =>
          (window as unknown as { hotpath: DiffApp }).hotpath.flame.drawnFrames(),
        );
        const fillOf = (name: string) =>
          frames.find((frame) => frame.label === `${name} (${SCRIPT})`)?.fill ?? 'missing';
        assert.ok(isBlue(fillOf('parse')), `parse drawn ${fillOf('parse')}`);
        assert.ok(isRed(fillOf('render')), `render drawn ${fillOf('render')}`);
        assert.equal(fillOf('audit'), 'missing');
        const rows = await page.$$eval('#diff-functions tbody tr', (trs) =>
          trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => [td.textContent ?? '', td.className])),
        );
        const row = (name: string) => rows.find((cells) => cells[0]![0] === name && cells[1]![0] === SCRIPT)!;
        assert.deepEqual(row('parse')[2], ['shrank', 'shrank']);
        assert.match(row('parse')[5]![0], /^-\d+\.\d\d pts$/);
        assert.deepEqual(row('render')[2], ['grew', 'grew']);
        assert.match(row('render')[5]![0], /^\+\d+\.\d\d pts$/);
        assert.deepEqual(row('audit')[2], ['removed', 'shrank']);
        assert.equal(row('audit')[4]![0], '0.00%');
        assert.match(row('audit')[5]![0], /^-\d+\.\d\d pts$/);
      } finally {
        await browser?.close();
      }
    },
  );
});
