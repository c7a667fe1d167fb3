// The flame graph SVG in a real browser (headless Debian Chromium via playwright-core): hover details,
// regex search with the matched share, click to zoom, reset, and a screenshot that shows something.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { renderFlamegraphSvg } from '../../src/render/index.js';
import { chromiumSkipReason, openBrowser, screenshotStats, type BrowserSession } from '../support/browser.js';
import { buildHandProfile, frame } from '../support/flame-profiles.js';

const WIDTH = 1200;
const CHART_WIDTH = WIDTH - 20;
const MATCH_FILL = 'rgb(230,0,230)';

const main = frame('main', 'app.py', 10);
const handle = frame('handle', 'views.py', 20);
const query = frame('query', 'db.py', 5);
const run = frame('run', 'worker.py', 3);

/** 12 samples; query appears under handle (3), on its own under run (4) and nowhere else. */
function buildBrowserProfile() {
  return buildHandProfile([
    { frames: [main, handle, query], times: 3 },
    { frames: [main, handle] },
    { frames: [main, frame('handle', 'views.py', 21), frame('render', 'tpl.py', 7)], times: 2 },
    { frames: [run, query], tid: 101, threadName: 'worker', times: 4 },
    { frames: [run, frame('größe_berechnen', 'straße.py', 3), frame('日本語', 'データ.py', 7)], tid: 101, times: 2 },
  ]);
}

interface FrameState {
  label: string;
  x: number;
  width: number;
  fill: string;
  hidden: boolean;
}

async function frameStates(page: Page): Promise<FrameState[]> {
  return page.$$eval('#frames > g.f', (groups) =>
    groups.map((g) => {
      const rect = g.querySelector('rect')!;
      return {
        label: g.getAttribute('data-label')!,
        x: Number(rect.getAttribute('x')),
        width: Number(rect.getAttribute('width')),
        fill: rect.getAttribute('fill')!,
        hidden: getComputedStyle(g).display === 'none',
      };
    }),
  );
}

function stateOf(states: FrameState[], label: string): FrameState {
  const state = states.find((candidate) => candidate.label === label);
  assert.ok(state, `no frame "${label}"`);
  return state;
}

function frameRect(page: Page, label: string) {
  return page.locator(`#frames > g.f[data-label="${label}"] > rect`);
}

async function textOf(page: Page, id: string): Promise<string> {
  return (await page.locator(`#${id}`).textContent()) ?? '';
}

/** Answers the next search prompt with `pattern`. */
function answerPrompt(page: Page, pattern: string): void {
  page.once('dialog', (dialog) => void dialog.accept(pattern));
}

describe('flame graph SVG in headless Chromium', { skip: chromiumSkipReason }, () => {
  let dir = '';
  let browser: BrowserSession | undefined;
  let page: Page;
  let url = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-flamegraph-'));
    const file = join(dir, 'flamegraph.svg');
    writeFileSync(file, renderFlamegraphSvg(buildBrowserProfile(), { title: 'Browser test', width: WIDTH }));
    url = pathToFileURL(file).href;
    browser = await openBrowser({ width: WIDTH, height: 300 });
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await page.goto(url);
  });

  test('hovering a frame shows its function, file:line, samples and share', async () => {
    await frameRect(page, 'handle (views.py:20)').hover();
    assert.equal(await textOf(page, 'details'), 'handle (views.py:20) (4 samples, 33.33%)');
    await frameRect(page, '日本語 (データ.py:7)').hover();
    assert.equal(await textOf(page, 'details'), '日本語 (データ.py:7) (2 samples, 16.67%)');
    await page.mouse.move(WIDTH / 2, 5);
    assert.equal((await textOf(page, 'details')).trim(), '');
  });

  test('search highlights exactly the matching frames and shows their share once', async () => {
    answerPrompt(page, '^query ');
    await page.locator('#search').click();
    let states = await frameStates(page);
    assert.deepEqual(
      states.filter((s) => s.fill === MATCH_FILL).map((s) => s.label),
      ['query (db.py:5)', 'query (db.py:5)'],
    );
    assert.equal(await textOf(page, 'matched'), `Matched: ${((100 * 7) / 12).toFixed(1)}%`);

    // Reset, then a pattern whose matches nest (query under handle:20) must count those samples once.
    await page.locator('#search').click();
    assert.equal((await textOf(page, 'matched')).trim(), '');
    assert.equal((await frameStates(page)).filter((s) => s.fill === MATCH_FILL).length, 0);
    answerPrompt(page, 'views\\.py:20|^query|straße');
    await page.keyboard.press('Control+f');
    states = await frameStates(page);
    assert.deepEqual(
      states.filter((s) => s.fill === MATCH_FILL).map((s) => s.label),
      ['handle (views.py:20)', 'query (db.py:5)', 'größe_berechnen (straße.py:3)', 'query (db.py:5)'],
    );
    assert.equal(await textOf(page, 'matched'), `Matched: ${((100 * (4 + 4 + 2)) / 12).toFixed(1)}%`);
  });

  test('clicking a frame zooms into it and Reset Zoom restores the graph', async () => {
    const before = await frameStates(page);
    assert.ok(await page.locator('#unzoom').isHidden());
    await frameRect(page, 'handle (views.py:20)').click();
    const zoomed = await frameStates(page);
    const clicked = stateOf(zoomed, 'handle (views.py:20)');
    assert.deepEqual([clicked.x, clicked.width], [10, CHART_WIDTH]);
    const child = zoomed.find((s) => s.label === 'query (db.py:5)' && !s.hidden)!;
    assert.deepEqual([child.x, child.width], [10, (3 / 4) * CHART_WIDTH]);
    assert.deepEqual(
      [stateOf(zoomed, 'all').width, stateOf(zoomed, 'main (app.py:10)').width],
      [CHART_WIDTH, CHART_WIDTH],
    );
    assert.ok(stateOf(zoomed, 'run (worker.py:3)').hidden);
    assert.ok(stateOf(zoomed, 'handle (views.py:21)').hidden);
    assert.ok(await page.locator('#unzoom').isVisible());

    await page.locator('#unzoom').click();
    assert.deepEqual(await frameStates(page), before);
    assert.ok(await page.locator('#unzoom').isHidden());
  });

  test('a screenshot shows the graph, not a blank page', async () => {
    const { colours } = await screenshotStats(page);
    assert.ok(colours > 20, `only ${colours} colours in the screenshot`);
  });
});
