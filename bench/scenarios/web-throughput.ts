// Scenario 4: requests per second of a 2-worker Gunicorn app under a bounded local load, unprofiled and
// with each profiler following all workers at 100 Hz, alternated round by round; and each profiler's own
// CPU while it follows them (from /proc, over the load window only, so start-up is not counted).

import net from 'node:net';
import path from 'node:path';
import { errorText, rotate, type Arena, type BenchContext } from '../lib/context.js';
import { readTreeCpuSeconds, sleep, start, stop, type Started } from '../lib/processes.js';
import type { Profiler } from '../lib/profilers.js';
import { pairedRatios, spreadOf, type Spread } from '../lib/stats.js';

const WORKERS = 2;
const CONNECTIONS = 4;
const RATE_HZ = 100;
/** Time a profiler gets to attach to the master and its workers before the load starts. */
const ATTACH_MS = 2000;
/**
 * Load a profiler follows before the measured window, as it would in any recording longer than a few seconds:
 * hotpath's JIT compiler settles only after several seconds of busy workers at 100 Hz (about 10 % of a core in
 * the first seconds, 5-6 % after, measured while developing this scenario). The C profilers are unaffected.
 */
const WARMUP_LOAD_SECONDS = 8;

export interface WebRow {
  world: string;
  profiler: string;
  notRun?: string;
  /** Profiled / unprofiled requests per second, one per round. */
  rpsRatios?: number[];
  rpsSpread?: Spread;
  /** The profiler's CPU during the load, in % of one core, one per round. */
  cpuPercent?: number[];
  cpuSpread?: Spread;
}

export interface WebResult {
  world: string;
  workers: number;
  connections: number;
  rateHz: number;
  loadSeconds: number;
  /** Seconds of load each profiler followed before its measured window. */
  warmupSeconds: number;
  baselineRps: number[];
  rows: WebRow[];
  notRun?: string;
}

interface Window {
  rps: number;
  cpuPercent: number;
}

export async function measureWebThroughput(ctx: BenchContext, arena: Arena): Promise<WebResult> {
  const { world } = arena;
  const rounds = ctx.quick ? 1 : 3;
  const loadSeconds = ctx.quick ? 2 : 5;
  const warmupSeconds = ctx.quick ? 1 : WARMUP_LOAD_SECONDS;
  const result: WebResult = {
    world: world.label,
    workers: WORKERS,
    connections: CONNECTIONS,
    rateHz: RATE_HZ,
    loadSeconds,
    warmupSeconds,
    baselineRps: [],
    rows: arena.missing.map(({ name, reason }) => ({ world: world.label, profiler: name, notRun: reason })),
  };
  const port = await findFreePort();
  const server = start(world.gunicorn(port, WORKERS));
  try {
    const url = `http://127.0.0.1:${port}/`;
    await waitUntilServing(ctx, server, url);
    await runLoad(ctx, url, 2);
    const windows = new Map<Profiler | undefined, (Window | undefined)[]>([[undefined, []]]);
    const failures = new Map<Profiler, string>();
    for (const profiler of arena.profilers) windows.set(profiler, []);
    for (let round = 0; round < rounds; round++) {
      for (const profiler of rotate([undefined, ...arena.profilers], round)) {
        try {
          windows
            .get(profiler)!
            .push(await measureWindow(ctx, url, server.child.pid!, profiler, loadSeconds, warmupSeconds));
        } catch (err) {
          if (!profiler) throw err;
          windows.get(profiler)!.push(undefined);
          failures.set(profiler, errorText(err));
        }
      }
    }
    result.baselineRps = windows.get(undefined)!.map((w) => w!.rps);
    for (const profiler of arena.profilers) {
      const measured = windows.get(profiler)!;
      const rpsRatios = pairedRatios(
        measured.map((w) => w?.rps ?? NaN),
        result.baselineRps,
      );
      const cpuPercent = measured.map((w) => w?.cpuPercent ?? NaN);
      const row: WebRow = {
        world: world.label,
        profiler: profiler.name,
        rpsRatios,
        rpsSpread: spreadOf(rpsRatios),
        cpuPercent,
        cpuSpread: spreadOf(cpuPercent),
      };
      if (row.rpsSpread!.n === 0) row.notRun = `failed: ${failures.get(profiler) ?? 'no round finished'}`;
      ctx.log(
        `web ${world.label} ${profiler.name}: ` +
          (row.notRun ?? `rps ×${row.rpsSpread!.median.toFixed(3)}, ${row.cpuSpread!.median.toFixed(1)} % CPU`),
      );
      result.rows.push(row);
    }
  } catch (err) {
    result.notRun = `failed: ${errorText(err)}`;
    ctx.log(`web ${world.label}: ${result.notRun}`);
  } finally {
    await stop(server, 'SIGTERM', 10_000);
  }
  return result;
}

async function measureWindow(
  ctx: BenchContext,
  url: string,
  masterPid: number,
  profiler: Profiler | undefined,
  loadSeconds: number,
  warmupSeconds: number,
): Promise<Window> {
  let recorder: Started | undefined;
  try {
    if (profiler) {
      const output = profiler.outputFile('web.txt');
      const durationSec = Math.ceil(ATTACH_MS / 1000 + warmupSeconds + loadSeconds + 30);
      recorder = start(
        profiler.record({ pid: masterPid, rate: RATE_HZ, durationSec, output: output.path, subprocesses: true })
          .command,
      );
      await sleep(ATTACH_MS);
      await runLoad(ctx, url, warmupSeconds);
      if (recorder.child.exitCode !== null) throw new Error(`${profiler.name} exited before the load`);
    }
    const cpuBefore = recorder ? readTreeCpuSeconds(recorder.child.pid!) : 0;
    const startedAt = performance.now();
    const load = await runLoad(ctx, url, loadSeconds);
    const elapsed = (performance.now() - startedAt) / 1000;
    const cpuAfter = recorder ? readTreeCpuSeconds(recorder.child.pid!) : 0;
    if (load.errors > 0 && load.requests === 0) throw new Error('every request failed');
    return { rps: load.requests / load.seconds, cpuPercent: ((cpuAfter - cpuBefore) / elapsed) * 100 };
  } finally {
    if (recorder) await stop(recorder, 'SIGINT', 20_000);
  }
}

async function runLoad(
  ctx: BenchContext,
  url: string,
  seconds: number,
): Promise<{ requests: number; errors: number; seconds: number }> {
  const script = path.join(ctx.repo, 'dist/bench/load-loop.js');
  const load = start([process.execPath, script, url, String(CONNECTIONS), String(seconds)]);
  const line = await load.waitForLine(/^\{.*\}$/, seconds * 1000 + 30_000);
  await load.exited;
  return JSON.parse(line[0]) as { requests: number; errors: number; seconds: number };
}

async function waitUntilServing(ctx: BenchContext, server: Started, url: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`gunicorn exited with ${server.child.exitCode}`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  ctx.log('gunicorn did not answer within 30 s');
  throw new Error('gunicorn did not answer within 30 s');
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
