// hotpath's speedscope and Chrome trace exports opened by the real speedscope app (its npm package's build),
// served from 127.0.0.1 and loaded with #profileURL= in headless Chromium: the profile selector lists each thread
// with its time, and the Sandwich table shows every function with self and total time equal to hotpath's counts.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { exportChromeTrace, exportSpeedscope, speedscopeProfileName } from '../../src/export/index.js';
import { buildFunctionTotals, functionFile, functionName, type Profile } from '../../src/profile/index.js';
import { chromiumSkipReason, openBrowser, screenshotStats, type BrowserSession } from '../support/browser.js';
import { buildHandProfile, frame } from '../support/flame-profiles.js';

const INTERVAL_MS = 10;

/** The built app the speedscope npm package ships: index.html and the files it loads, all in one folder. */
const SPEEDSCOPE_APP = join(dirname(createRequire(import.meta.url).resolve('speedscope/package.json')), 'dist/release');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const main = frame('main', 'app.py', 10, 8);
const handle = frame('handle', 'views.py', 20, 18);
const query = frame('query', 'db.py', 5, 3);
const render = frame('render', 'tpl.py', 7, 6);
const run = frame('run', 'worker.py', 3, 1);
const groesse = frame('größe_berechnen', 'straße.py', 3, 1);
const nihongo = frame('日本語', 'データ.py', 7, 5);
const loop = frame('loop', 'calc.py', 9, 8);
const fib = frame('fib', 'calc.py', 4, 1);

/**
 * Three threads in two processes, one with a non-ASCII name; every function runs on one line, so speedscope's
 * rows (one per frame) are hotpath's functions. Request runs follow each other: see the Chrome trace test.
 */
function buildAppProfile(): Profile {
  const worker = { pid: 10, tid: 101, threadName: 'ワーカー' };
  const calc = { pid: 11, tid: 111 };
  return buildHandProfile(
    [
      { frames: [main, handle, query], times: 3, endpoint: 'GET /users' },
      { frames: [main, handle, render], times: 2, endpoint: 'GET /page' },
      { frames: [main, handle], endpoint: 'GET /users' },
      { frames: [run, groesse, nihongo], times: 2, ...worker },
      { frames: [run, query], times: 5, ...worker },
      { frames: [loop, fib, fib, fib], times: 3, ...calc },
      { frames: [loop], ...calc },
    ],
    { 10: 'gunicorn app:app', 11: 'python calc.py' },
  );
}

/** Self and total samples of each function, per tid: the fixture's facts. */
const KNOWN_COUNTS: Record<number, Record<string, [self: number, total: number]>> = {
  100: { main: [0, 6], handle: [1, 6], query: [3, 3], render: [2, 2] },
  101: { run: [0, 7], größe_berechnen: [0, 2], 日本語: [2, 2], query: [5, 5] },
  111: { loop: [1, 4], fib: [3, 3] },
};

interface Row {
  name: string;
  /** '' where the consumer knows no file. */
  file: string;
  /** Samples. */
  self: number;
  total: number;
}

const byName = (a: Row, b: Row) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file);

/** hotpath's own counts for one thread (the numbers of its function tables). */
function hotpathRows(profile: Profile, tid: number): Row[] {
  const thread = profile.threads.findIndex((entry) => entry.tid === tid);
  const totals = buildFunctionTotals(profile, { filter: (i) => profile.samples.thread[i] === thread });
  return [...totals]
    .map(([func, counts]) => ({ name: functionName(profile, func), file: functionFile(profile, func), ...counts }))
    .sort(byName);
}

/** Samples per endpoint on one thread: a request event's total, with no time of its own. */
function requestRows(profile: Profile, tid: number): Row[] {
  const thread = profile.threads.findIndex((entry) => entry.tid === tid);
  const counts = new Map<string, number>();
  for (let i = 0; i < profile.samples.count; i++) {
    const endpoint = profile.samples.endpoint[i]!;
    if (profile.samples.thread[i] !== thread || endpoint < 0) continue;
    counts.set(profile.endpoints[endpoint]!, (counts.get(profile.endpoints[endpoint]!) ?? 0) + 1);
  }
  return [...counts].map(([name, total]) => ({ name, file: '', self: 0, total }));
}

/** "30.00ms (50%)", "1.20s", "0.00ns (<0.01%)" as milliseconds. */
function parseTime(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ns|µs|ms|s)\b/.exec(text.trim());
  assert.ok(match, `not a time: "${text}"`);
  const scale = { ns: 1e-6, µs: 1e-3, ms: 1, s: 1000 }[match[2] as 'ns' | 'µs' | 'ms' | 's'];
  return Number(match[1]) * scale;
}

/** Serves the app's files and the given profiles, all from memory, on 127.0.0.1 and an unused port. */
async function serveSpeedscope(profiles: Record<string, Buffer>): Promise<{ server: Server; origin: string }> {
  const files = new Map<string, Buffer>(Object.entries(profiles).map(([name, data]) => [`/${name}`, data]));
  for (const name of readdirSync(SPEEDSCOPE_APP)) files.set(`/${name}`, readFileSync(join(SPEEDSCOPE_APP, name)));
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const data = files.get(path);
    if (!data) {
      response.writeHead(404).end();
      return;
    }
    const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'content-length': data.length }).end(data);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Opens the app on a served profile in the Sandwich view; resolves once the toolbar names a profile. */
async function openInSpeedscope(page: Page, origin: string, file: string, profiles: number): Promise<void> {
  // The app reads #profileURL only when it starts, so a hash change alone would not load another file.
  await page.goto('about:blank');
  await page.goto(`${origin}/index.html#profileURL=${encodeURIComponent(`${origin}/${file}`)}&view=sandwich`);
  await page.getByText(new RegExp(`^\\(\\d+/${profiles}\\)$`)).waitFor();
}

/** The profile selector's rows, shown by hovering the toolbar's profile name: [name, total time in ms]. */
async function profileSelectorRows(page: Page): Promise<[string, number][]> {
  await page.getByText(/^\(\d+\/\d+\)$/).hover();
  await page.locator('tr[title]').first().waitFor();
  const rows = await page.$$eval('tr[title]', (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
  );
  return rows.map(([, name, weight]) => [name!, parseTime(weight!)]);
}

/** Picks a profile in the selector; resolves once the toolbar shows it. */
async function selectProfile(page: Page, name: string, position: string): Promise<void> {
  await page.getByText(/^\(\d+\/\d+\)$/).hover();
  await page.locator(`tr[title=${JSON.stringify(name)}]`).click();
  await page.getByText(position, { exact: true }).waitFor();
  await page.mouse.move(600, 600);
}

/** The Sandwich table's rows (total, self, symbol name and its file, if any), in samples. */
async function sandwichRows(page: Page): Promise<{ symbol: string; file: string; self: number; total: number }[]> {
  const rows = await page.$$eval('tr:not([title])', (trs) =>
    trs
      .map((tr) =>
        Array.from(tr.querySelectorAll('td'), (td) => [td.textContent ?? '', td.getAttribute('title') ?? '']),
      )
      .filter((cells) => cells.length === 3),
  );
  return rows.map(([total, self, symbol]) => ({
    symbol: symbol![0]!,
    file: symbol![1]!,
    total: parseTime(total![0]!) / INTERVAL_MS,
    self: parseTime(self![0]!) / INTERVAL_MS,
  }));
}

describe('hotpath exports in the speedscope app (headless Chromium)', { skip: chromiumSkipReason }, () => {
  const profile = buildAppProfile();
  let served: { server: Server; origin: string } | undefined;
  let browser: BrowserSession | undefined;
  let page: Page;

  before(async () => {
    served = await serveSpeedscope({
      'hotpath.speedscope.json': exportSpeedscope(profile),
      'hotpath.trace.json': exportChromeTrace(profile),
    });
    browser = await openBrowser({ width: 1200, height: 900 });
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    const server = served?.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  beforeEach(() => {
    browser!.pageErrors.length = 0;
  });

  test("hotpath's own counts are the fixture's", () => {
    for (const [tid, functions] of Object.entries(KNOWN_COUNTS)) {
      const counts = hotpathRows(profile, Number(tid)).map((row) => [row.name, row.self, row.total]);
      assert.deepEqual(
        counts,
        Object.entries(functions)
          .map(([name, [self, total]]) => [name, self, total])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        `tid ${tid}`,
      );
    }
  });

  test('speedscope file: one profile per thread with its time; Sandwich self/total per function = hotpath', async () => {
    await openInSpeedscope(page, served!.origin, 'hotpath.speedscope.json', 3);
    // The busiest thread opens first.
    assert.ok(await page.getByText('Process 10 Thread 101 "ワーカー" (2/3)').isVisible());
    const names = profile.threads.map((thread) => speedscopeProfileName(thread));
    assert.deepEqual(names, [
      'Process 10 Thread 100 "MainThread"',
      'Process 10 Thread 101 "ワーカー"',
      'Process 11 Thread 111 "MainThread"',
    ]);
    assert.deepEqual(await profileSelectorRows(page), [
      [names[0], 6 * INTERVAL_MS],
      [names[1], 7 * INTERVAL_MS],
      [names[2], 4 * INTERVAL_MS],
    ]);
    for (const [index, thread] of profile.threads.entries()) {
      await selectProfile(page, names[index]!, `(${index + 1}/3)`);
      const shown = (await sandwichRows(page)).map(({ symbol, ...row }) => ({ name: symbol, ...row })).sort(byName);
      assert.deepEqual(shown, hotpathRows(profile, thread.tid), names[index]);
    }
    const { variance } = await screenshotStats(page);
    assert.ok(variance > 100, `luminance variance only ${variance}`);
    assert.deepEqual(browser!.pageErrors, []);
  });

  // speedscope's trace importer takes an end and a begin at the same time with the same name and args for one
  // zero-length event, so when a request ends where a sample outside any request starts in the same outer
  // function, it leaves the request open to the end (and warns). Valid nesting, a quirk of that importer: the
  // fixture's request runs therefore follow each other directly.
  test('Chrome trace: a profile per thread named from the metadata; Sandwich times = hotpath', async () => {
    await openInSpeedscope(page, served!.origin, 'hotpath.trace.json', 3);
    const names = [
      'gunicorn app:app (10) (pid 10), MainThread (100) (tid 100)',
      'gunicorn app:app (10) (pid 10), ワーカー (101) (tid 101)',
      'python calc.py (11) (pid 11), MainThread (111) (tid 111)',
    ];
    assert.deepEqual(await profileSelectorRows(page), [
      [names[0], 6 * INTERVAL_MS],
      [names[1], 7 * INTERVAL_MS],
      [names[2], 4 * INTERVAL_MS],
    ]);
    for (const [index, thread] of profile.threads.entries()) {
      await selectProfile(page, names[index]!, `(${index + 1}/3)`);
      // A function's frame is its event name followed by its args, {"file":…,"line":…}; requests have no args.
      const shown = (await sandwichRows(page))
        .map(({ symbol, self, total }) => {
          const [, name, args] = /^(.*?)(?: (\{.*\}))?$/.exec(symbol)!;
          const file = args ? (JSON.parse(args) as { file: string }).file : '';
          return { name: name!, file, self, total };
        })
        .sort(byName);
      const expected = [...hotpathRows(profile, thread.tid), ...requestRows(profile, thread.tid)].sort(byName);
      assert.deepEqual(shown, expected, names[index]);
    }
    assert.deepEqual(browser!.pageErrors, []);
  });
});
