// Scenario 3: how much a profiler slows its target. A fixed CPU-bound workload (30 frames deep) times
// itself, unprofiled and profiled by each tool (non-blocking), alternated round by round so that the
// machine's speed changes hit all of them alike; each profiled time is divided by its round's unprofiled one.

import { errorText, rotate, type Arena, type BenchContext } from '../lib/context.js';
import { awaitExit, sleep, start, stop } from '../lib/processes.js';
import type { Profiler } from '../lib/profilers.js';
import { pairedRatios, spreadOf, type Spread } from '../lib/stats.js';
import type { World } from '../lib/worlds.js';
import { STACK_DEPTH } from './sampler-cost.js';

export const SLOWDOWN_RATES = [100, 1000] as const;
/** Time a profiler gets to attach and settle before the workload starts. */
const WARMUP_MS = 1500;

export interface SlowdownRow {
  world: string;
  profiler: string;
  rate: number;
  notRun?: string;
  /** Profiled / unprofiled wall time, one per round. */
  ratios?: number[];
  spread?: Spread;
}

export interface SlowdownResult {
  world: string;
  workloadRounds: number;
  baselineSeconds: Record<number, number[]>;
  rows: SlowdownRow[];
}

export async function measureSlowdown(ctx: BenchContext, arena: Arena): Promise<SlowdownResult> {
  const { world } = arena;
  const rounds = ctx.quick ? 2 : 5;
  const workloadRounds = await calibrate(world, ctx.quick ? 0.5 : 1.0);
  const result: SlowdownResult = { world: world.label, workloadRounds, baselineSeconds: {}, rows: [] };
  for (const { name, reason } of arena.missing) {
    for (const rate of SLOWDOWN_RATES) result.rows.push({ world: world.label, profiler: name, rate, notRun: reason });
  }
  for (const rate of SLOWDOWN_RATES) {
    const times = new Map<Profiler | undefined, number[]>([[undefined, []]]);
    const failures = new Map<Profiler, string>();
    for (const profiler of arena.profilers) times.set(profiler, []);
    for (let round = 0; round < rounds; round++) {
      for (const profiler of rotate([undefined, ...arena.profilers], round)) {
        try {
          times.get(profiler)!.push(await timeWorkload(world, workloadRounds, profiler, rate));
        } catch (err) {
          times.get(profiler)!.push(NaN);
          if (profiler) failures.set(profiler, errorText(err));
          else throw err;
        }
      }
    }
    const baseline = times.get(undefined)!;
    result.baselineSeconds[rate] = baseline;
    for (const profiler of arena.profilers) {
      const ratios = pairedRatios(times.get(profiler)!, baseline);
      const row: SlowdownRow = { world: world.label, profiler: profiler.name, rate, ratios, spread: spreadOf(ratios) };
      if (row.spread!.n === 0) row.notRun = `failed: ${failures.get(profiler) ?? 'no run finished'}`;
      ctx.log(`slowdown ${world.label} ${profiler.name} @${rate}: ${row.notRun ?? row.spread!.median.toFixed(4)}`);
      result.rows.push(row);
    }
  }
  return result;
}

/** Workload rounds that take about `seconds` unprofiled. */
async function calibrate(world: World, seconds: number): Promise<number> {
  const probe = 200;
  const elapsed = await timeWorkload(world, probe, undefined, 0, 0);
  return Math.max(probe, Math.round((probe * seconds) / elapsed));
}

/** Wall seconds the target reports for `workloadRounds` rounds, with `profiler` attached at `rate`. */
async function timeWorkload(
  world: World,
  workloadRounds: number,
  profiler: Profiler | undefined,
  rate: number,
  warmupMs = WARMUP_MS,
): Promise<number> {
  const target = start(world.python('deep.py', [String(STACK_DEPTH), String(workloadRounds)]), { stdin: 'pipe' });
  let recorder: ReturnType<typeof start> | undefined;
  try {
    const pid = Number((await target.waitForLine(/^READY (\d+)/, 20_000))[1]);
    if (profiler) {
      const output = profiler.outputFile(`slowdown-${rate}.txt`);
      recorder = start(profiler.record({ pid, rate, durationSec: 120, output: output.path }).command);
    }
    await sleep(warmupMs);
    if (recorder && recorder.child.exitCode !== null) throw new Error(`${profiler!.name} exited before the workload`);
    target.child.stdin!.end('go\n');
    const done = await target.waitForLine(/^DONE ([\d.]+)/, 300_000);
    return Number(done[1]);
  } finally {
    await stop(target, 'SIGKILL');
    // Every profiler stops by itself when its target exits; a stuck one is stopped like Ctrl-C.
    if (recorder) await awaitExit(recorder, 10_000);
  }
}
