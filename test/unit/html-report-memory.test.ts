// The HTML report's memory data, in Node: RSS series and totals embedded as recorded, and the client's growth per
// node, per line and per filter equal to the profile layer's call tree weighted by memory growth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileBuilder, SAMPLE_IDLE, type Profile, type RawFrame } from '../../src/profile/index.js';
import { buildReportData } from '../../src/render/html-report-data.js';
import { countNodes, decodeReport, growthRows, type ReportModel } from '../../src/render/html-client/report-model.js';
import { describeProcess } from '../../src/render/html-client/memory-view.js';
import { formatBytes } from '../../src/render/html-client/format.js';
import { callTreeTotals, modelTotals } from '../support/report-totals.js';

const MIB = 1024 * 1024;
const f = (name: string, line: number): RawFrame => ({ name, file: 'app.py', line, firstLine: 1 });
const MAIN = f('main', 2);
const LEAK = f('leak_here', 9);
const CACHE = f('fill_cache', 30);
const BURN = f('burn_cpu', 14);

/** Two workers over 2 s at 100 Hz, with endpoints: /leak grows on leak_here, /cache on fill_cache, /burn not at all. */
function buildMemoryProfile(): Profile {
  const builder = new ProfileBuilder();
  const rss = new Map([
    [10, 30 * MIB],
    [11, 40 * MIB],
  ]);
  for (let tick = 0; tick < 200; tick++) {
    const time = tick * 10;
    for (const pid of [10, 11]) {
      const phase = (tick + pid) % 4;
      const [frames, endpoint, grows] =
        phase === 0
          ? [[MAIN, LEAK], 'GET /leak', 64 * 1024]
          : phase === 1
            ? [[MAIN, CACHE], 'GET /cache', 16 * 1024]
            : [[MAIN, BURN], 'GET /burn', 0];
      builder.addSample({ pid, tid: pid, time, frames, endpoint });
      if (tick % 5 === 0) builder.addSample({ pid, tid: pid + 100, time, frames: [MAIN], flags: SAMPLE_IDLE });
      rss.set(pid, rss.get(pid)! + grows - (tick % 50 === 49 ? 4096 : 0));
      builder.addMemoryUsage({ pid, time, residentBytes: rss.get(pid)! });
    }
  }
  return builder.build({ startTime: 0, durationMs: 2000, rateHz: 100, pythonVersion: '3.12.1', command: 'app' });
}

function decode(profile: Profile): ReportModel {
  return decodeReport(JSON.parse(JSON.stringify(buildReportData(profile, 'memory'))));
}

test('the RSS series and totals are embedded as recorded', () => {
  const profile = buildMemoryProfile();
  const data = buildReportData(profile, 'memory');
  assert.deepEqual(
    data.memory!.processes.map((process) => [process.pid, process.firstBytes, process.grownBytes, process.time.length]),
    profile.memory!.map((process) => [process.pid, process.firstBytes, process.grownBytes, process.time.length]),
  );
  assert.deepEqual(data.memory!.processes[0]!.residentBytes, [...profile.memory![0]!.residentBytes]);
  assert.equal(
    describeProcess(data.memory!.processes[0]!),
    `pid 10: ${formatBytes(profile.memory![0]!.firstBytes)} at the start, ` +
      `${formatBytes(profile.memory![0]!.lastBytes)} at the end, peak ${formatBytes(profile.memory![0]!.peakBytes)}; ` +
      `grew ${formatBytes(profile.memory![0]!.grownBytes)}, freed 8.0 KiB`,
    'two of its four 4 KiB falls came at ticks that also grew: those ticks rose by less',
  );
});

test('growth per node equals the memory-weighted call tree for no filter, an endpoint, a time range, and both', () => {
  const profile = buildMemoryProfile();
  const model = decode(profile);
  const leak = profile.endpoints.indexOf('GET /leak');
  const inRange = (i: number) => profile.samples.time[i]! >= 500 && profile.samples.time[i]! < 1500;
  const range = [50, 149] as const;
  assert.equal(model.data.timeline.bucketMs, 10);
  assert.deepEqual(
    modelTotals(model, { endpoint: null, range: null }, 'memory'),
    callTreeTotals(profile, undefined, 'memory'),
  );
  assert.deepEqual(
    modelTotals(model, { endpoint: leak + 1, range: null }, 'memory'),
    callTreeTotals(profile, (i) => profile.samples.endpoint[i] === leak, 'memory'),
  );
  assert.deepEqual(modelTotals(model, { endpoint: null, range }, 'memory'), callTreeTotals(profile, inRange, 'memory'));
  assert.deepEqual(
    modelTotals(model, { endpoint: leak + 1, range }, 'memory'),
    callTreeTotals(profile, (i) => inRange(i) && profile.samples.endpoint[i] === leak, 'memory'),
  );
});

test('the growth table lists lines with their own and total growth', () => {
  const profile = buildMemoryProfile();
  const model = decode(profile);
  const { self, total } = countNodes(model, { endpoint: null, range: null }, 'memory');
  const rows = growthRows(model, self, total).sort((a, b) => b.self - a.self || b.total - a.total);
  const leakTotal = 4 * (200 / 4) * 64 * 1024 - 64 * 1024;
  assert.deepEqual(
    rows.map((row) => [row.name, row.file, row.line, row.self, row.total]),
    [
      ['leak_here', 'app.py', 9, rows[0]!.self, rows[0]!.self],
      ['fill_cache', 'app.py', 30, rows[1]!.self, rows[1]!.self],
      ['main', 'app.py', 2, 0, rows[0]!.self + rows[1]!.self],
    ],
  );
  assert.ok(Math.abs(rows[0]!.self - leakTotal / 2) <= 64 * 1024, `${rows[0]!.self} bytes on leak_here`);
  assert.ok(rows[1]!.self < rows[0]!.self / 3);
});

test('a report of a profile without memory has no memory data', () => {
  const builder = new ProfileBuilder();
  builder.addSample({ pid: 1, tid: 1, time: 0, frames: [MAIN] });
  const profile = builder.build({ startTime: 0, durationMs: 10, rateHz: 100, pythonVersion: '', command: '' });
  const data = buildReportData(profile, 'plain');
  assert.equal('memory' in data, false);
  assert.equal(decodeReport(data).recordGrowth, null);
});
