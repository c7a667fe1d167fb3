// `hotpath record --memory` on a real target whose memory grows on a known line (test/targets/memory_growth.py):
// the RSS series rises, the growth lands on the leaking line of leak_here with most of the bytes, burn_cpu gets
// little or none; the summary, `convert --weight memory` and the HTML report (in Chromium) say the same. Without
// --memory a recording has no memory data at all, and the sampler opens no statm file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { loadProfile } from '../../src/export/index.js';
import {
  attributedGrowthBytes,
  buildLineGrowth,
  functionFile,
  functionName,
  type Profile,
} from '../../src/profile/index.js';
import type { ReportApp } from '../../src/render/html-client/report-app.js';
import { Sampler, type MemoryUsage } from '../../src/sampler/index.js';
import { chromiumSkipReason, openBrowser } from '../support/browser.js';
import { listPythons, repoRoot, type TestPython } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';
import { tempDir } from '../support/temp-dir.js';

const SCRIPT = path.join(repoRoot, 'test/targets/memory_growth.py');
const HOTPATH = path.join(repoRoot, 'bin/hotpath.js');
const MIB = 1024 * 1024;
/** The target keeps 1 MiB per pass, about 10 MiB a second when it has a CPU: a few seconds show a clear rise. */
const RECORD_SECONDS = '3';
const MIN_RISE = 4 * MIB;

const LEAK_LINE = markerLine('leak');
const pyenvs = listPythons().filter((python) => python.kind === 'pyenv');
/** The oldest and the newest: RSS is read the same way for all, only the frames differ. */
const pythons = [...new Set([pyenvs[0], pyenvs.at(-1)])].filter((python): python is TestPython => !!python);

function markerLine(name: string): number {
  const lines = fs.readFileSync(SCRIPT, 'utf8').split('\n');
  return lines.findIndex((text) => text.trimEnd().endsWith(`# LINE:${name}`)) + 1;
}

interface Run {
  status: number;
  stderr: string;
}

async function hotpath(args: string[]): Promise<Run> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [HOTPATH, ...args], { timeout: 120_000 });
    return { status: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { status: typeof failed.code === 'number' ? failed.code : -1, stderr: failed.stderr ?? String(error) };
  }
}

/** Bytes grown on each function's lines. */
function growthByFunction(profile: Profile): Map<string, number> {
  const totals = new Map<string, number>();
  for (const { frame, bytes } of buildLineGrowth(profile)) {
    const name = functionName(profile, profile.frames[frame]!.func);
    totals.set(name, (totals.get(name) ?? 0) + bytes);
  }
  return totals;
}

for (const python of pythons) {
  test(`record --memory on Python ${python.version}: growth on leak_here's line, RSS rising`, async (t) => {
    const target = await spawnTarget(python.executable, [SCRIPT], { owner: t });
    const dir = tempDir(t);
    const output = path.join(dir, 'memory.hotpath');
    const run = await hotpath(['record', '--memory', '-d', RECORD_SECONDS, '-o', output, '--pid', `${target.pid}`]);
    assert.equal(run.status, 0, run.stderr);
    const profile = loadProfile(output);

    const [memory] = profile.memory!;
    assert.equal(profile.memory!.length, 1);
    assert.equal(memory!.pid, target.pid);
    const series = memory!.residentBytes;
    assert.ok(series.length >= 2, `${series.length} RSS points`);
    assert.ok(series.at(-1)! - series[0]! >= MIN_RISE, `RSS went from ${series[0]} to ${series.at(-1)}`);
    assert.ok(memory!.lastBytes - memory!.firstBytes >= MIN_RISE);
    assert.ok(memory!.peakBytes >= memory!.lastBytes);
    assert.deepEqual(
      [...memory!.time],
      [...memory!.time].sort((a, b) => a - b),
      'points in time order',
    );

    const attributed = attributedGrowthBytes(profile);
    const [top] = buildLineGrowth(profile);
    assert.ok(top, 'some growth was put on a line');
    const { func, line } = profile.frames[top.frame]!;
    assert.deepEqual(
      [functionName(profile, func), functionFile(profile, func), line],
      ['leak_here', SCRIPT, LEAK_LINE],
    );
    assert.ok(top.bytes >= 0.75 * attributed, `${top.bytes} of ${attributed} bytes on the leaking line`);
    const burn = growthByFunction(profile).get('burn_cpu') ?? 0;
    assert.ok(burn <= 0.1 * top.bytes, `burn_cpu got ${burn} bytes, leak_here ${top.bytes}`);

    assert.match(run.stderr, new RegExp(`pid ${target.pid}: [\\d.]+ MiB at the start, [\\d.]+ MiB at the end, peak`));
    const listed = run.stderr.split('\n').findIndex((text) => text.includes('lines running when RSS grew'));
    assert.ok(listed > 0, run.stderr);
    assert.ok(run.stderr.split('\n')[listed + 1]!.endsWith(`leak_here (${SCRIPT}:${LEAK_LINE})`), run.stderr);

    const collapsed = path.join(dir, 'growth.txt');
    const converted = await hotpath(['convert', output, '--weight', 'memory', '-f', 'raw', '-o', collapsed]);
    assert.equal(converted.status, 0, converted.stderr);
    const stacks = fs
      .readFileSync(collapsed, 'utf8')
      .trim()
      .split('\n')
      .map((text) => ({
        stack: text.slice(0, text.lastIndexOf(' ')),
        bytes: Number(text.slice(text.lastIndexOf(' '))),
      }))
      .sort((a, b) => b.bytes - a.bytes);
    assert.ok(stacks[0]!.stack.endsWith(`;leak_here (${SCRIPT}:${LEAK_LINE})`), stacks[0]!.stack);
    assert.equal(stacks[0]!.bytes, top.bytes);
  });
}

test(
  'the HTML report of a --memory recording: RSS chart, growth table and growth-weighted flame graph',
  {
    skip: chromiumSkipReason || (pythons.length === 0 && 'no venvs'),
  },
  async (t) => {
    const target = await spawnTarget(pythons.at(-1)!.executable, [SCRIPT], { owner: t });
    const dir = tempDir(t);
    const report = path.join(dir, 'memory.html');
    const run = await hotpath(['record', '--memory', '-d', '2', '-o', report, '--pid', `${target.pid}`]);
    assert.equal(run.status, 0, run.stderr);
    const browser = await openBrowser({ width: 1300, height: 1000 });
    t.after(() => browser.close());
    const { page } = browser;
    await page.goto(`file://${report}`);
    const firstRow = await page.locator('#memory-growth tbody tr').first().locator('td').allTextContents();
    assert.deepEqual(firstRow.slice(0, 2), ['leak_here', `${SCRIPT}:${LEAK_LINE}`]);
    assert.match((await page.locator('#memory-totals').textContent()) ?? '', new RegExp(`pid ${target.pid}: .* peak`));
    assert.ok((await page.locator('#memory-canvas').boundingBox())!.height > 20, 'the RSS chart is drawn');
    await page.selectOption('#flame-weight', 'memory');
    const leaf = await page.evaluate((label) => {
      const frames = (window as unknown as { hotpath: ReportApp }).hotpath.flame.drawnFrames();
      const width = frames.filter((frame) => frame.label === label).reduce((sum, frame) => sum + frame.width, 0);
      return { width, rootWidth: frames.find((frame) => frame.label === 'all')!.width };
    }, `leak_here (${SCRIPT}:${LEAK_LINE})`);
    assert.ok(leaf.width >= 0.75 * leaf.rootWidth, `leak_here is ${leaf.width} of ${leaf.rootWidth} px wide`);
    assert.deepEqual(browser.pageErrors, []);
  },
);

test(
  'without --memory nothing about memory is recorded or printed',
  { skip: pythons.length === 0 && 'no venvs' },
  async (t) => {
    const target = await spawnTarget(pythons[0]!.executable, [SCRIPT], { owner: t });
    const output = path.join(tempDir(t), 'plain.hotpath');
    const run = await hotpath(['record', '-d', '1', '-o', output, '--pid', `${target.pid}`]);
    assert.equal(run.status, 0, run.stderr);
    const profile = loadProfile(output);
    assert.ok(profile.samples.count > 0);
    assert.equal('memory' in profile, false);
    assert.equal('memoryGrowthBytes' in profile.samples, false);
    assert.doesNotMatch(run.stderr, /resident set size|RSS/);
    const refused = await hotpath(['convert', output, '--weight', 'memory', '-f', 'raw', '-o', `${output}.txt`]);
    assert.equal(refused.status, EXIT_CODES.usage.code);
    assert.match(refused.stderr, /has no memory growth/);
  },
);

/** Our descriptors that point at the target's statm. */
function openStatmFiles(pid: number): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/statm`;
    } catch {
      return false; // the descriptor readdir itself used
    }
  }).length;
}

/** Samples the target until 20 ticks were read; says how many statm files were open then, and the readings. */
async function sampleTarget(pid: number, withMemory: boolean): Promise<{ statmFiles: number; usages: MemoryUsage[] }> {
  const usages: MemoryUsage[] = [];
  const enough = new AbortController();
  let statmFiles = -1;
  let samples = 0;
  const sampler = new Sampler([pid], {
    rateHz: 100,
    includeIdle: true,
    gilOnly: false,
    subprocesses: false,
    onSample: () => {
      if (++samples < 20 || enough.signal.aborted) return;
      statmFiles = openStatmFiles(pid);
      enough.abort();
    },
    ...(withMemory && { onMemoryUsage: (usage: MemoryUsage) => usages.push(usage) }),
  });
  try {
    sampler.attach();
    await sampler.run(enough.signal);
  } finally {
    sampler.close();
  }
  return { statmFiles, usages };
}

test(
  'the sampler reads statm only when asked for, once per tick, and closes it',
  {
    skip: pythons.length === 0 && 'no venvs',
  },
  async (t) => {
    const target = await spawnTarget(pythons[0]!.executable, [SCRIPT], { owner: t });
    const without = await sampleTarget(target.pid, false);
    assert.deepEqual(without, { statmFiles: 0, usages: [] });
    const { statmFiles, usages } = await sampleTarget(target.pid, true);
    assert.equal(statmFiles, 1);
    assert.ok(usages.length >= 19, `${usages.length} readings`);
    assert.ok(usages.every((usage) => usage.pid === target.pid && usage.residentBytes > MIB));
    assert.equal(new Set(usages.map((usage) => usage.time)).size, usages.length, 'one reading per tick');
    assert.equal(openStatmFiles(target.pid), 0, 'closed with the sampler');
  },
);

test('--weight memory needs --memory and a flame graph or raw output', async () => {
  const never = path.join(os.tmpdir(), 'hotpath-never-written.txt');
  const withoutMemory = await hotpath(['record', '--weight', 'memory', '-f', 'raw', '-o', never, '--pid', '1']);
  assert.equal(withoutMemory.status, EXIT_CODES.usage.code);
  assert.match(withoutMemory.stderr, /--weight memory needs --memory/);
  const pprof = await hotpath(['record', '--memory', '--weight', 'memory', '-f', 'pprof', '--pid', '1']);
  assert.equal(pprof.status, EXIT_CODES.usage.code);
  assert.match(pprof.stderr, /works with -f flamegraph and raw, not pprof/);
});
