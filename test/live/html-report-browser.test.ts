// The HTML report in a real browser (headless Debian Chromium via playwright-core): search highlights the
// right frames with the right share, click zooms, the endpoint table filters the flame graph, the line view
// shows source lines with counts, a timeline range filters, the screenshot is not blank, and a synthetic
// 1,000,000-sample profile renders with the right numbers.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import {
  buildFunctionTotals,
  functionName,
  ProfileBuilder,
  type Profile,
  type RawFrame,
} from '../../src/profile/index.js';
import { formatCount, renderHtmlReport } from '../../src/render/index.js';
import type { DrawnFrame } from '../../src/render/html-client/flame-view.js';
import type { ReportApp } from '../../src/render/html-client/report-app.js';
import { chromiumSkipReason, openBrowser, screenshotStats, type BrowserSession } from '../support/browser.js';

const MATCH_FILL = 'rgb(230,0,230)';

const VIEWS_SOURCE = [
  'import db',
  '',
  'def list_users(request):',
  '    users = db.query("users")',
  '    total = sum(user.age for user in users)',
  '    return users, total',
  '',
  'def show_page(request):',
  '    return render_page(request)',
];

const f = (name: string, file: string, line: number, firstLine: number): RawFrame => ({ name, file, line, firstLine });
const serve = f('serve', 'server.py', 10, 8);
const listUsersQuery = f('list_users', 'views.py', 4, 3);
const listUsersSum = f('list_users', 'views.py', 5, 3);
const showPage = f('show_page', 'views.py', 9, 8);
const renderPage = f('render_page', 'tpl.py', 3, 1);
const query = f('query', 'db.py', 12, 10);
const workerLoop = f('worker_loop', 'worker.py', 7, 5);

/**
 * 80 samples over 2 s: GET /users (40) in the first second, GET /page (20) in the second, and a worker
 * thread outside any request (20) throughout. views.py's source was captured, db.py's was not.
 */
function buildWebProfile(): Profile {
  const builder = new ProfileBuilder();
  builder.addProcess(10, 'gunicorn app:app');
  const add = (frames: RawFrame[], time: number, endpoint?: string, tid = 100, threadName = 'MainThread') =>
    builder.addSample({ frames, time, pid: 10, tid, threadName, endpoint });
  for (let i = 0; i < 40; i++)
    add(i < 30 ? [serve, listUsersQuery, query] : [serve, listUsersSum], i * 25, 'GET /users');
  for (let i = 0; i < 20; i++) add([serve, showPage, renderPage], 1000 + i * 50, 'GET /page');
  for (let i = 0; i < 20; i++) add([workerLoop, query], i * 100, undefined, 101, 'worker');
  builder.addSource('views.py', VIEWS_SOURCE);
  return builder.build({
    startTime: 1_700_000_000_000,
    durationMs: 2000,
    rateHz: 100,
    pythonVersion: '3.12.1',
    command: 'gunicorn app:app',
    stats: { attempted: 210, taken: 200, dropped: { 'target-exited': 4, 'read-error': 6 } },
  });
}

async function drawnFrames(page: Page): Promise<DrawnFrame[]> {
  return page.evaluate(() => (window as unknown as { hotpath: ReportApp }).hotpath.flame.drawnFrames());
}

function frameNamed(frames: DrawnFrame[], label: string, index = 0): DrawnFrame {
  const found = frames.filter((frame) => frame.label === label)[index];
  assert.ok(found, `no drawn frame "${label}" (#${index})`);
  return found;
}

async function clickFrame(page: Page, frame: DrawnFrame): Promise<void> {
  const box = (await page.locator('#flame-canvas').boundingBox())!;
  await page.mouse.click(box.x + frame.x + frame.width / 2, box.y + frame.y + frame.height / 2);
}

/** The colour the canvas really painted at a frame's left part (below its label's baseline). */
async function paintedColour(page: Page, frame: DrawnFrame): Promise<string> {
  return page.evaluate(
    ({ x, y }) => {
      const canvas = document.getElementById('flame-canvas') as HTMLCanvasElement;
      const ratio = canvas.width / canvas.clientWidth;
      const [r, g, b] = canvas.getContext('2d')!.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
      return `rgb(${r},${g},${b})`;
    },
    { x: frame.x + 1, y: frame.y + frame.height - 2 },
  );
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

async function tableRows(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (rows) =>
    rows.map((row) => Array.from(row.querySelectorAll('td'), (cell) => cell.textContent ?? '')),
  );
}

describe('HTML report in headless Chromium', { skip: chromiumSkipReason }, () => {
  let dir = '';
  let browser: BrowserSession | undefined;
  let page: Page;
  let url = '';
  let errors: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotpath-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(buildWebProfile(), { title: 'Browser report' }));
    url = pathToFileURL(file).href;
    browser = await openBrowser({ width: 1200, height: 1600 });
    page = browser.page;
    errors = browser.pageErrors;
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await page.goto(url);
  });

  test('the header shows the meta and the trust line', async () => {
    assert.equal(await text(page, 'h1'), 'Browser report');
    const meta = await page.$$eval('#meta dt, #meta dd', (cells) => cells.map((cell) => cell.textContent));
    assert.deepEqual(meta.slice(0, 4), ['Command', 'gunicorn app:app', 'Python', '3.12.1']);
    assert.ok(meta.includes('2.0 s') && meta.includes('100 Hz'), meta.join(' | '));
    assert.ok(meta.includes('80 stacks from 1 process(es), 2 thread(s)'), meta.join(' | '));
    assert.equal(await text(page, '#trust'), '210 attempted, 200 taken, 10 dropped (target-exited: 4, read-error: 6)');
    assert.deepEqual(errors, []);
  });

  test('search highlights exactly the matching frames, paints them, and shows their share', async () => {
    await page.locator('#flame-search').fill('^query ');
    const frames = await drawnFrames(page);
    assert.deepEqual(
      frames.filter((frame) => frame.matched).map((frame) => frame.label),
      ['query (db.py:12)', 'query (db.py:12)'],
    );
    assert.equal(await text(page, '#flame-matched'), 'Matched: 62.50% (50 samples)');
    assert.equal(await paintedColour(page, frameNamed(frames, 'query (db.py:12)')), MATCH_FILL);
    // Nested matches (list_users above query) count their samples once.
    await page.locator('#flame-search').fill('list_users|query');
    assert.equal(await text(page, '#flame-matched'), 'Matched: 75.00% (60 samples)');
    await page.locator('#flame-search').fill('(');
    assert.equal(await text(page, '#flame-matched'), 'Invalid regular expression');
    await page.locator('#flame-search').fill('');
    assert.ok((await drawnFrames(page)).every((frame) => !frame.matched));
  });

  test('hovering shows the frame, file:line, samples and share', async () => {
    const frame = frameNamed(await drawnFrames(page), 'render_page (tpl.py:3)');
    const box = (await page.locator('#flame-canvas').boundingBox())!;
    await page.mouse.move(box.x + frame.x + frame.width / 2, box.y + frame.y + frame.height / 2);
    assert.equal(await page.locator('#flame-tooltip').innerText(), 'render_page (tpl.py:3)\n20 samples, 25.00%');
  });

  test('clicking a frame zooms into it, ancestors full width, other branches gone; reset restores', async () => {
    const width = (await page.locator('#flame-canvas').boundingBox())!.width;
    const before = await drawnFrames(page);
    assert.ok(frameNamed(before, 'list_users (views.py:4)').width < width / 2);
    await clickFrame(page, frameNamed(before, 'list_users (views.py:4)'));
    const zoomed = await drawnFrames(page);
    const clicked = frameNamed(zoomed, 'list_users (views.py:4)');
    assert.deepEqual([clicked.x, Math.round(clicked.width)], [0, Math.round(width)]);
    assert.deepEqual(
      zoomed.map((frame) => [frame.label, frame.dimmed]),
      [
        ['all', true],
        ['serve (server.py:10)', true],
        ['list_users (views.py:4)', false],
        ['query (db.py:12)', false],
      ],
    );
    await page.locator('#flame-reset').click();
    assert.deepEqual(await drawnFrames(page), before);
  });

  test('the icicle toggle puts the root on top', async () => {
    const rootY = async () => frameNamed(await drawnFrames(page), 'all').y;
    assert.ok((await rootY()) > 0);
    await page.locator('#flame-icicle').check();
    assert.equal(await rootY(), 0);
  });

  test('the endpoint table lists endpoints; clicking one filters the flame graph and tables to it', async () => {
    assert.deepEqual(
      (await tableRows(page, '#endpoints')).map((cells) => cells.slice(0, 4)),
      [
        ['GET /users', '40', '50.00%', 'query 75.0%, list_users 25.0%'],
        ['(no request)', '20', '25.00%', 'query 100.0%'],
        ['GET /page', '20', '25.00%', 'render_page 100.0%'],
      ],
    );
    await page.locator('#endpoints tbody tr', { hasText: 'GET /page' }).click();
    assert.deepEqual(
      (await drawnFrames(page)).map((frame) => frame.label),
      ['all', 'serve (server.py:10)', 'show_page (views.py:9)', 'render_page (tpl.py:3)'],
    );
    assert.equal(await text(page, '#shown-samples'), '20 of 80 samples');
    assert.deepEqual(
      (await tableRows(page, '#functions')).map((cells) => [cells[0], cells[2], cells[4]]),
      [
        ['render_page', '20', '20'],
        ['serve', '0', '20'],
        ['show_page', '0', '20'],
      ],
    );
    assert.ok(await page.locator('#endpoints tr.selected', { hasText: 'GET /page' }).isVisible());
    await page.locator('#endpoints tbody tr', { hasText: 'GET /page' }).click();
    assert.equal(await text(page, '#shown-samples'), '80 of 80 samples');
  });

  test('the function table sorts by self, and by another column on click', async () => {
    const names = async () => (await tableRows(page, '#functions')).map((cells) => cells[0]);
    assert.deepEqual((await tableRows(page, '#functions'))[0], ['query', 'db.py:10', '50', '62.50%', '50', '62.50%']);
    await page.locator('#functions th', { hasText: /^Total$/ }).click();
    assert.deepEqual((await names()).slice(0, 3), ['serve', 'query', 'list_users']);
    await page.locator('#functions th', { hasText: /^Function$/ }).click();
    assert.deepEqual(await names(), ['list_users', 'query', 'render_page', 'serve', 'show_page', 'worker_loop']);
  });

  test('the line view shows source lines with their counts, and counts alone where no source was captured', async () => {
    const lines = async (name: string) =>
      page.$$eval(`#lines .hot-function[data-function="${name}"] tbody tr`, (rows) =>
        rows.map((row) => Array.from(row.querySelectorAll('td'), (cell) => cell.textContent ?? '')),
      );
    assert.deepEqual(await lines('list_users'), [
      ['3', '', '', '', 'def list_users(request):'],
      ['4', '0', '30', '75.0%', '    users = db.query("users")'],
      ['5', '10', '10', '25.0%', '    total = sum(user.age for user in users)'],
    ]);
    assert.deepEqual(await lines('query'), [['12', '50', '50', '100.0%', '']]);
    assert.match(await text(page, '#lines .hot-function[data-function="query"] .no-source'), /Source not captured/);
    assert.deepEqual(
      await page.$$eval('#lines .hot-function', (blocks) => blocks.map((block) => block.getAttribute('data-function'))),
      ['query', 'render_page', 'list_users'],
    );
  });

  test('selecting a range on the timeline filters the flame graph and tables', async () => {
    const box = (await page.locator('#timeline-canvas').boundingBox())!;
    const [from, to, buckets] = await page.evaluate(() => {
      const app = (window as unknown as { hotpath: ReportApp }).hotpath;
      const { bucketMs, buckets } = app.model.data.timeline;
      return [app.timeline.bucketCentre(1000 / bucketMs), app.timeline.bucketCentre(buckets - 1), buckets];
    });
    await page.mouse.move(box.x + from, box.y + 10);
    await page.mouse.down();
    await page.mouse.move(box.x + to, box.y + 30, { steps: 5 });
    await page.mouse.up();
    const filter = await page.evaluate(() => (window as unknown as { hotpath: ReportApp }).hotpath.currentFilter());
    assert.deepEqual(filter.range, [100, buckets - 1]);
    assert.equal(await text(page, '#shown-samples'), '30 of 80 samples');
    const labels = new Set((await drawnFrames(page)).map((frame) => frame.label));
    assert.ok(!labels.has('list_users (views.py:4)'), 'GET /users ran only before the range');
    assert.ok(labels.has('render_page (tpl.py:3)') && labels.has('worker_loop (worker.py:7)'));
    assert.deepEqual(
      (await tableRows(page, '#endpoints')).map((cells) => cells.slice(0, 2)),
      [
        ['GET /page', '20'],
        ['(no request)', '10'],
      ],
    );
    await page.locator('#filters .chip button').click();
    assert.equal(await text(page, '#shown-samples'), '80 of 80 samples');
  });

  test('a screenshot shows the report, not a blank page', async () => {
    const stats = await screenshotStats(page);
    assert.ok(stats.colours > 50, `only ${stats.colours} colours`);
    assert.ok(stats.variance > 100, `luminance variance only ${stats.variance}`);
    assert.deepEqual(errors, []);
  });
});

/** A deterministic pseudo-random sequence in [0, 1) (xorshift32), so the big profile is the same every run. */
function randomSequence(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** 1,000,000 samples over ~100k stack nodes, 8 threads, 5 endpoints; stacks skewed so some are hot. */
function buildMillionSampleProfile(): Profile {
  const random = randomSequence(42);
  const builder = new ProfileBuilder();
  const frames = Array.from({ length: 20_000 }, (_, i) => {
    const func = builder.internFunction(`func_${i % 5000}`, `/srv/app/module_${i % 200}.py`, 1 + (i % 5000));
    return builder.internFrame(func, 2 + (i % 37));
  });
  const nodes: number[] = [];
  while (nodes.length < 100_000) {
    const parent = nodes.length < 16 || random() < 0.02 ? -1 : nodes[Math.floor(random() * nodes.length)]!;
    nodes.push(builder.internStack(parent, frames[Math.floor(random() * frames.length)]!));
  }
  const threads = Array.from({ length: 8 }, (_, i) => builder.internThread(1000 + (i % 2), 2000 + i, `worker-${i}`));
  const endpoints = ['GET /a', 'GET /b', 'POST /c', 'GET /d', 'PUT /e'].map((label) => builder.internEndpoint(label));
  for (let i = 0; i < 1_000_000; i++) {
    const stack = nodes[Math.floor(nodes.length * random() ** 3)]!;
    const endpoint = i % 6 === 5 ? -1 : endpoints[i % 5]!;
    builder.addInterned(stack, i / 8, threads[i % 8]!, endpoint, 0);
  }
  return builder.build({
    startTime: 0,
    durationMs: 125_000,
    rateHz: 1000,
    pythonVersion: '3.12.1',
    command: 'synthetic',
  });
}

describe('HTML report of 1,000,000 samples in headless Chromium', { skip: chromiumSkipReason }, () => {
  test('renders its first view with the right numbers', { timeout: 300_000 }, async () => {
    const profile = buildMillionSampleProfile();
    const dir = mkdtempSync(join(tmpdir(), 'hotpath-big-report-'));
    let browser: BrowserSession | undefined;
    try {
      const file = join(dir, 'big.html');
      writeFileSync(file, renderHtmlReport(profile));
      browser = await openBrowser({ width: 1200, height: 1000 });
      const { page, pageErrors: errors } = browser;
      await page.goto(pathToFileURL(file).href, { timeout: 240_000 });
      assert.deepEqual(errors, []);
      assert.equal(await text(page, '#shown-samples'), '1,000,000 of 1,000,000 samples');
      const frames = await drawnFrames(page);
      assert.equal(frames[0]!.label, 'all');
      assert.ok(frames.length > 100, `only ${frames.length} frames drawn`);
      const [top] = [...buildFunctionTotals(profile)].sort((a, b) => b[1].self - a[1].self || a[0] - b[0]);
      const firstRow = (await tableRows(page, '#functions'))[0]!;
      assert.deepEqual(
        [firstRow[0], firstRow[2], firstRow[4]],
        [functionName(profile, top![0]), formatCount(top![1].self), formatCount(top![1].total)],
      );
      const endpointSamples = (await tableRows(page, '#endpoints')).map((cells) => [cells[0], cells[1]]);
      assert.deepEqual(
        endpointSamples.find((cells) => cells[0] === '(no request)'),
        ['(no request)', '166,666'],
      );
      const stats = await screenshotStats(page);
      assert.ok(stats.variance > 100, `luminance variance only ${stats.variance}`);
    } finally {
      await browser?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
