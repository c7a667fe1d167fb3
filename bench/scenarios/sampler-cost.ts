// Scenarios 1 and 2: a profiler's own CPU per sample and the rate it achieves, attached to a CPU-bound
// target whose stack is 30 frames deep. Each profiler runs twice, short and long, against the same
// target: its CPU is read over a window of the long run past the short run's length, and its samples there
// counted at the rate the two runs differ by, so that start-up and shutdown costs are left out.

import { errorText, type Arena, type BenchContext } from '../lib/context.js';
import { runMeasured, start, stop, type MeasuredRun } from '../lib/processes.js';
import { meanDepth } from '../lib/profiler-output.js';
import type { Profiler, Rate } from '../lib/profilers.js';
import { windowCostPerUnit } from '../lib/stats.js';
import { measureWakeFloor, type WakeFloor } from '../lib/wake-floor.js';

export const STACK_DEPTH = 30;
export const RATES: readonly Rate[] = [100, 1000, 'max'];
/**
 * Seconds of the short and the long run at each rate. The long run's CPU is read from the short run's length on (a
 * recording's steady cost), so the short run must outlast start-up and hotpath's JIT warm-up: V8 optimises a
 * function called once per sample after a few hundred calls, which takes 5-20 s at 100 Hz (`node --trace-opt`), and
 * runs it unoptimised until then. At 1,000 Hz hotpath's CPU per second settles after about 4 s (120, 100, 80 ms in
 * seconds 2-4, then 60-90).
 */
const RUN_SECONDS: Record<string, readonly [number, number]> = { 100: [6, 16], 1000: [4, 12], max: [1, 4] };
const QUICK_RUN_SECONDS = [1, 2] as const;
/** Seconds of each wake-floor measurement. */
const FLOOR_SECONDS = 4;
/** The long run's CPU window ends this long before its end, so that no profiler has begun to stop. */
const WINDOW_END_MARGIN_SECONDS = 0.5;

export interface CostRun {
  durationSec: number;
  cpuSeconds: number;
  wallSeconds: number;
  samples: number;
  maxRssKiB: number;
  meanDepth: number;
  /** CPU over the window (windowSeconds long) of a run measured over one. */
  windowCpuSeconds?: number;
  windowSeconds?: number;
}

export interface SamplerCostRow {
  world: string;
  profiler: string;
  rate: Rate;
  notRun?: string;
  short?: CostRun;
  long?: CostRun;
  /** CPU per sample over a window of the long run, start-up excluded (windowCostPerUnit). */
  cpuPerSampleUs?: number;
  /** CPU of the long run over its samples, start-up included. */
  wholeRunCpuPerSampleUs?: number;
  /** Samples of the long run over its duration (each profiler's duration starts when it starts sampling). */
  achievedHz?: number;
}

export interface SamplerCost {
  rows: SamplerCostRow[];
  /** The machine's CPU per timed wake-up at the fixed rates, beside the same spinning target. */
  floors: WakeFloor[];
}

export async function measureSamplerCost(ctx: BenchContext, arena: Arena): Promise<SamplerCost> {
  const { world } = arena;
  const rows: SamplerCostRow[] = [];
  const floors: WakeFloor[] = [];
  for (const { name, reason } of arena.missing) {
    for (const rate of RATES) rows.push({ world: world.label, profiler: name, rate, notRun: reason });
  }
  const target = start(world.python('deep.py', [String(STACK_DEPTH)]));
  try {
    const pid = Number((await target.waitForLine(/^READY (\d+)/, 20_000))[1]);
    for (const rate of RATES) {
      if (rate === 'max') continue;
      const floor = await measureWakeFloor(ctx, world.label, rate, ctx.quick ? 1 : FLOOR_SECONDS);
      ctx.log(`wake floor ${world.label} @${rate}: ${floor.notRun ?? `${floor.cpuPerWakeUs} µs/wake`}`);
      floors.push(floor);
    }
    for (const profiler of arena.profilers) {
      for (const rate of RATES) {
        const row: SamplerCostRow = { world: world.label, profiler: profiler.name, rate };
        const [short, long] = ctx.quick ? QUICK_RUN_SECONDS : RUN_SECONDS[rate]!;
        try {
          row.short = await costRun(ctx, profiler, pid, rate, short);
          row.long = await costRun(ctx, profiler, pid, rate, long, short);
          const window = { cost: row.long.windowCpuSeconds!, seconds: row.long.windowSeconds! };
          const run = (r: CostRun) => ({ units: r.samples, seconds: r.durationSec });
          row.cpuPerSampleUs = windowCostPerUnit(window, run(row.short), run(row.long)) * 1e6;
          row.wholeRunCpuPerSampleUs = (row.long.cpuSeconds / row.long.samples) * 1e6;
          row.achievedHz = row.long.samples / row.long.durationSec;
        } catch (err) {
          row.notRun = `failed: ${errorText(err)}`;
        }
        ctx.log(
          `cost ${world.label} ${profiler.name} @${rate}: ` +
            (row.notRun ?? `${row.cpuPerSampleUs?.toFixed(1)} µs/sample, ${row.achievedHz?.toFixed(0)} Hz`),
        );
        rows.push(row);
      }
    }
  } finally {
    await stop(target, 'SIGKILL');
  }
  return { rows, floors };
}

/**
 * One recording of `durationSec`; with `windowFromSec`, its CPU is also read from then until WINDOW_END_MARGIN_SECONDS
 * before its end (seconds after launch: a profiler with a duration flag stops a little later still).
 */
async function costRun(
  ctx: BenchContext,
  profiler: Profiler,
  pid: number,
  rate: Rate,
  durationSec: number,
  windowFromSec?: number,
): Promise<CostRun> {
  const output = profiler.outputFile(`cost-${rate}-${durationSec}.txt`);
  const request = profiler.record({ pid, rate, durationSec, output: output.path });
  const windowToSec = durationSec - WINDOW_END_MARGIN_SECONDS;
  const run: MeasuredRun = await runMeasured(ctx.hostPython, ctx.benchPython, request.command, {
    interruptAfterMs: request.interruptAfterMs,
    timeoutMs: durationSec * 1000 + 60_000,
    cpuWindowMs: windowFromSec === undefined ? undefined : [windowFromSec * 1000, windowToSec * 1000],
  });
  const parsed = profiler.read(output.hostPath);
  if (parsed.samples === 0) throw new Error(`${profiler.name} reported no samples`);
  if (windowFromSec !== undefined && run.windowCpuSeconds === undefined) {
    throw new Error(`${profiler.name} ended before ${windowToSec} s`);
  }
  return {
    windowCpuSeconds: run.windowCpuSeconds,
    windowSeconds: windowFromSec === undefined ? undefined : windowToSec - windowFromSec,
    durationSec,
    cpuSeconds: run.usage.userSeconds + run.usage.systemSeconds,
    wallSeconds: run.usage.wallSeconds,
    samples: parsed.samples,
    maxRssKiB: run.usage.maxRssKiB,
    meanDepth: meanDepth(parsed),
  };
}
