// Scenario 5: the share of samples each profiler gives to three functions that take 10 %, 30 % and 60 %
// of a busy target's time (bench/python/shares.py), at 1,000 Hz.

import { errorText, type Arena, type BenchContext } from '../lib/context.js';
import { runMeasured, start, stop } from '../lib/processes.js';
import { functionShares } from '../lib/profiler-output.js';

export const TRUE_SHARES: Readonly<Record<string, number>> = { share_10: 0.1, share_30: 0.3, share_60: 0.6 };
const RATE_HZ = 1000;

export interface AccuracyRow {
  world: string;
  profiler: string;
  notRun?: string;
  samples?: number;
  shares?: Record<string, number>;
  /** Largest |reported - true| share, in percentage points. */
  maxErrorPp?: number;
}

export async function measureAccuracy(ctx: BenchContext, arena: Arena): Promise<AccuracyRow[]> {
  const { world } = arena;
  const rows: AccuracyRow[] = arena.missing.map(({ name, reason }) => ({
    world: world.label,
    profiler: name,
    notRun: reason,
  }));
  const durationSec = ctx.quick ? 2 : 4;
  const target = start(world.python('shares.py'));
  try {
    const pid = Number((await target.waitForLine(/^READY (\d+)/, 20_000))[1]);
    for (const profiler of arena.profilers) {
      const row: AccuracyRow = { world: world.label, profiler: profiler.name };
      try {
        const output = profiler.outputFile('accuracy.txt');
        const request = profiler.record({ pid, rate: RATE_HZ, durationSec, output: output.path });
        await runMeasured(ctx.hostPython, ctx.benchPython, request.command, {
          interruptAfterMs: request.interruptAfterMs,
          timeoutMs: durationSec * 1000 + 60_000,
        });
        const parsed = profiler.read(output.hostPath);
        const shares = functionShares(parsed, Object.keys(TRUE_SHARES));
        row.samples = parsed.samples;
        row.shares = Object.fromEntries(shares);
        row.maxErrorPp = Math.max(
          ...Object.entries(TRUE_SHARES).map(([name, truth]) => Math.abs(shares.get(name)! - truth) * 100),
        );
      } catch (err) {
        row.notRun = `failed: ${errorText(err)}`;
      }
      ctx.log(
        `accuracy ${world.label} ${profiler.name}: ${row.notRun ?? `max error ${row.maxErrorPp?.toFixed(2)} pp`}`,
      );
      rows.push(row);
    }
  } finally {
    await stop(target, 'SIGKILL');
  }
  return rows;
}
