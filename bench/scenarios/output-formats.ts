// Scenario 6: time, peak memory and file size to turn 1,000,000 samples into each output format the CLI
// offers (src/cli/formats.ts; the list is read at run time, so new formats are measured as they come).
// Each conversion runs in its own process; "load only" shows what reading the saved profile costs.

import fs from 'node:fs';
import path from 'node:path';
import { OUTPUT_FORMATS } from '../../src/cli/formats.js';
import { errorText, type BenchContext } from '../lib/context.js';
import { start } from '../lib/processes.js';

/** A format that takes longer than this is reported as such: the whole benchmark must fit in 15 minutes. */
const FORMAT_TIMEOUT_MS = 60_000;

export interface OutputRow {
  format: string;
  notRun?: string;
  exportMs?: number;
  maxRssKiB?: number;
  bytes?: number;
}

export interface OutputResult {
  samples: number;
  buildMs?: number;
  stacks?: number;
  savedBytes?: number;
  loadMs?: number;
  loadMaxRssKiB?: number;
  rows: OutputRow[];
  notRun?: string;
}

export async function measureOutputs(ctx: BenchContext): Promise<OutputResult> {
  const samples = ctx.quick ? 100_000 : 1_000_000;
  const result: OutputResult = { samples, rows: [] };
  const saved = ctx.scratch('synthetic.hotpath');
  try {
    const built = await worker(ctx, ['build', String(samples), saved], 300_000);
    Object.assign(result, { buildMs: built.buildMs, stacks: built.stacks, savedBytes: built.bytes });
    const loaded = await worker(ctx, ['export', saved, '-', '-'], 300_000);
    Object.assign(result, { loadMs: loaded.loadMs, loadMaxRssKiB: loaded.maxRssKiB });
  } catch (err) {
    result.notRun = `failed: ${errorText(err)}`;
    return result;
  }
  for (const format of OUTPUT_FORMATS) {
    const row: OutputRow = { format: format.name };
    const out = ctx.scratch(`synthetic.${format.extension}`);
    try {
      const measured = await worker(ctx, ['export', saved, format.name, out], FORMAT_TIMEOUT_MS);
      Object.assign(row, { exportMs: measured.exportMs, maxRssKiB: measured.maxRssKiB, bytes: measured.bytes });
    } catch (err) {
      row.notRun = `failed: ${errorText(err)}`;
    } finally {
      fs.rmSync(out, { force: true });
    }
    ctx.log(`output ${format.name}: ${row.notRun ?? `${row.exportMs?.toFixed(0)} ms, ${row.bytes} bytes`}`);
    result.rows.push(row);
  }
  fs.rmSync(saved, { force: true });
  return result;
}

async function worker(ctx: BenchContext, args: string[], timeoutMs: number): Promise<Record<string, number>> {
  const script = path.join(ctx.repo, 'dist/bench/output-worker.js');
  const run = start([process.execPath, '--max-old-space-size=8192', script, ...args]);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    const line = await run.waitForLine(/^\{.*\}$/, timeoutMs + 1000).catch(() => {
      if (run.child.signalCode === 'SIGKILL') throw new Error(`no result within ${timeoutMs / 1000} s`);
      // Node prints an uncaught error as its source line, a caret, then "Name: message".
      const lines = run.stderrTail().trim().split('\n');
      const error = lines.find((l) => /^\w*Error\b.*: /.test(l)) ?? lines.pop();
      throw new Error(`the export failed: ${error ?? 'no message'}`);
    });
    await run.exited;
    return JSON.parse(line[0]) as Record<string, number>;
  } finally {
    clearTimeout(timer);
  }
}
