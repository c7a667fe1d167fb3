// The machine's floor under CPU per sample: what one timed wake-up costs a thread that does nothing else
// (bench/native/wake-floor.c, compiled here with the C compiler that builds hotpath's addons).

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { errorText, type BenchContext } from './context.js';
import { start } from './processes.js';

export interface WakeFloor {
  world: string;
  rate: number;
  /** CPU per wake-up of a thread that only sleeps to timed deadlines, beside the world's spinning target. */
  cpuPerWakeUs?: number;
  notRun?: string;
}

let compiled: string | Error | undefined;

function wakeFloorProgram(ctx: BenchContext): string {
  if (compiled === undefined) {
    const program = ctx.scratch('wake-floor');
    try {
      const source = path.join(ctx.repo, 'bench/native/wake-floor.c');
      execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', program, source], { stdio: 'pipe' });
      compiled = program;
    } catch (err) {
      compiled = new Error(`could not compile bench/native/wake-floor.c: ${errorText(err)}`);
    }
  }
  if (compiled instanceof Error) throw compiled;
  return compiled;
}

/** The floor at `rate`, measured for `seconds` while the world's cost target runs. */
export async function measureWakeFloor(
  ctx: BenchContext,
  world: string,
  rate: number,
  seconds: number,
): Promise<WakeFloor> {
  try {
    const run = start([wakeFloorProgram(ctx), String(rate), String(seconds)]);
    const [, perWake] = await run.waitForLine(/^WAKES \d+ CPU_US ([\d.]+)$/, seconds * 1000 + 30_000);
    await run.exited;
    return { world, rate, cpuPerWakeUs: Number(perWake) };
  } catch (err) {
    return { world, rate, notRun: errorText(err) };
  }
}
