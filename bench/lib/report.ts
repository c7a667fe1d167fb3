// Turns the results into bench/results/latest.md: the targets first, then one table per scenario.
// Every cell a profiler could not fill says why ("not run: …"); nothing is dropped.

import type { Rate } from './profilers.js';
import type { BenchResults } from './results.js';
import type { SamplerCostRow } from '../scenarios/sampler-cost.js';
import { findBest, spreadOf, type Spread } from './stats.js';

export interface TargetCheck {
  goal: string;
  hotpath: string;
  reference: string;
  /** 'inconclusive' when the paired runs spread wider than the effect looked for. */
  met: boolean | 'inconclusive' | undefined;
}

/** Paired ratios spreading wider than this (max − min) cannot show a 1 % effect. */
const CONCLUSIVE_SPREAD = 0.1;

function verdict(spread: Spread, met: boolean): boolean | 'inconclusive' {
  return spread.max - spread.min > CONCLUSIVE_SPREAD ? 'inconclusive' : met;
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);

const percent = (ratio: number | undefined, digits = 1): string =>
  ratio === undefined || !Number.isFinite(ratio) ? '–' : `${(ratio * 100).toFixed(digits)} %`;

/** A spread as "median [min – max]", each through `format`. */
export function formatSpread(spread: Spread | undefined, format: (value: number) => string): string {
  if (!spread || spread.n === 0) return '–';
  return `${format(spread.median)} [${format(spread.min)} – ${format(spread.max)}]`;
}

const signedPercent = (ratio: number): string => `${ratio >= 1 ? '+' : '−'}${Math.abs((ratio - 1) * 100).toFixed(1)} %`;

const rateLabel = (rate: Rate): string => (rate === 'max' ? 'max' : `${rate} Hz`);

const kib = (value: number | undefined): string => (value === undefined ? '–' : `${(value / 1024).toFixed(0)} MiB`);

function bytes(value: number | undefined): string {
  if (value === undefined) return '–';
  if (value >= 1 << 20) return `${(value / (1 << 20)).toFixed(1)} MiB`;
  return `${(value / 1024).toFixed(0)} KiB`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const notRun = (reason: string): string => `not run: ${reason}`;

/** hotpath rows are "hotpath" and hotpath with options ("hotpath --no-locals"); every other row is a reference. */
const isReference = (profiler: string): boolean => profiler !== 'hotpath' && !profiler.startsWith('hotpath ');

const floorOf = (results: BenchResults, world: string, rate: Rate): number | undefined =>
  results.wakeFloor.find((floor) => floor.world === world && floor.rate === rate)?.cpuPerWakeUs;

/**
 * A CPU per sample below the wake floor is no steady cost (every sample pays the floor): the measurement was noise
 * (the machine changing speed, samples counted at a rate the runs did not keep).
 */
function isBelowFloor(results: BenchResults, row: SamplerCostRow): boolean {
  const floor = floorOf(results, row.world, row.rate);
  return floor !== undefined && row.cpuPerSampleUs !== undefined && row.cpuPerSampleUs < floor;
}

/** Checks every target of issue 6 against this run. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const cost = results.samplerCost;
  const costOf = (rate: Rate, wanted: (name: string) => boolean) =>
    cost.filter(
      (row) =>
        row.rate === rate &&
        wanted(row.profiler) &&
        row.cpuPerSampleUs !== undefined &&
        row.notRun === undefined &&
        !isBelowFloor(results, row),
    );
  for (const rate of [100, 1000, 'max'] as const) {
    const hotpath = costOf(rate, (name) => name === 'hotpath');
    const references = costOf(rate, isReference);
    const worst = findBest(
      hotpath.map((row) => ({ name: `hotpath on ${row.world}`, value: row.cpuPerSampleUs! })),
      true,
    );
    const best = findBest(
      references.map((row) => ({ name: `${row.profiler} on ${row.world}`, value: row.cpuPerSampleUs! })),
    );
    checks.push({
      goal: `CPU per sample at ${rateLabel(rate)} ≤ 0.5× the best reference`,
      hotpath: worst ? `${fixed(worst.value, 1)} µs (${worst.name})` : notRun('no hotpath measurement'),
      reference: best
        ? `${fixed(best.value, 1)} µs (${best.name}); ratio ${fixed(worst ? worst.value / best.value : NaN, 2)}`
        : '–',
      met: worst && best ? worst.value <= 0.5 * best.value : undefined,
    });
    if (rate === 1000) {
      checks.push({
        goal: 'CPU per sample at 1,000 Hz ≤ ~17 µs (30-frame stack)',
        hotpath: worst ? `${fixed(worst.value, 1)} µs` : '–',
        reference: '17 µs',
        met: worst ? worst.value <= 17 : undefined,
      });
    }
  }
  const achieved = cost.filter((row) => row.profiler === 'hotpath' && row.achievedHz !== undefined);
  const at1000 = achieved.filter((row) => row.rate === 1000);
  const atMax = achieved.filter((row) => row.rate === 'max');
  checks.push({
    goal: 'sustains ≥ 1,000 Hz (achieved at a 1,000 Hz request; highest reached)',
    hotpath: `${at1000.map((row) => `${fixed(row.achievedHz, 0)} Hz`).join(', ') || '–'}; max ${atMax.map((row) => `${fixed(row.achievedHz, 0)} Hz`).join(', ') || '–'}`,
    reference: '≥ 990 Hz',
    met: at1000.length > 0 ? at1000.every((row) => row.achievedHz! >= 990) : undefined,
  });
  for (const web of results.web) {
    const hotpath = web.rows.find((row) => row.profiler === 'hotpath' && !row.notRun);
    const austin = web.rows.find((row) => row.profiler === 'austin' && !row.notRun);
    const unlabelled = web.rows.find((row) => row.profiler === 'hotpath --no-locals' && !row.notRun);
    for (const [row, how] of [
      [hotpath, ''],
      [unlabelled, ' without request labels (`--no-locals`, not the default)'],
    ] as const) {
      if (!row || !austin) continue;
      const ratio = row.cpuSpread!.median / austin.cpuSpread!.median;
      checks.push({
        goal: `following 2 Gunicorn workers at 100 Hz (${web.world})${how}: CPU ≤ 0.5× austin's`,
        hotpath: `${fixed(row.cpuSpread!.median, 1)} % of a core`,
        reference: `austin ${fixed(austin.cpuSpread!.median, 1)} %; ratio ${fixed(ratio, 2)}`,
        met: ratio <= 0.5,
      });
    }
    if (hotpath) {
      const losses = spreadOf((hotpath.rpsRatios ?? []).map((ratio) => 1 - ratio));
      checks.push({
        goal: `web throughput loss at 100 Hz ≤ 1 % (${web.world})`,
        hotpath: formatSpread(losses, (loss) => percent(loss)),
        reference: bestOther(web.rows, (row) => (row.rpsSpread ? 1 - row.rpsSpread.median : NaN), percent),
        met: verdict(losses, losses.median <= 0.01),
      });
    }
  }
  for (const slowdown of results.slowdown) {
    const row = slowdown.rows.find((r) => r.profiler === 'hotpath' && r.rate === 100 && !r.notRun);
    if (!row) continue;
    checks.push({
      goal: `target slowdown at 100 Hz ≤ 1 % (${slowdown.world})`,
      hotpath: formatSpread(row.spread, signedPercent),
      reference: bestOther(
        slowdown.rows.filter((r) => r.rate === 100),
        (r) => (r.spread ? r.spread.median - 1 : NaN),
        (value) => signedPercent(value + 1),
      ),
      met: verdict(row.spread!, row.spread!.median - 1 <= 0.01),
    });
  }
  for (const row of results.accuracy.filter((r) => r.profiler === 'hotpath' && !r.notRun)) {
    checks.push({
      goal: `shares within 1 pp of the truth at 1,000 Hz (${row.world})`,
      hotpath: `${fixed(row.maxErrorPp, 2)} pp`,
      reference: bestOther(
        results.accuracy.filter((r) => r.world === row.world),
        (r) => r.maxErrorPp ?? NaN,
        (value) => `${fixed(value, 2)} pp`,
      ),
      met: row.maxErrorPp! <= 1,
    });
  }
  const html = results.output?.rows.find((row) => row.format === 'html');
  checks.push({
    goal: '1,000,000 samples to HTML in ≤ 3 s',
    hotpath:
      html?.exportMs !== undefined
        ? `${fixed(html.exportMs / 1000, 2)} s`
        : notRun(html?.notRun ?? 'no html format yet'),
    reference: '3 s',
    met: html?.exportMs !== undefined ? html.exportMs <= 3000 : undefined,
  });
  return checks;
}

/** The best reference (lowest `value`) among rows, formatted, e.g. "austin 2.1 %". */
function bestOther<T extends { profiler: string; notRun?: string }>(
  rows: readonly T[],
  value: (row: T) => number,
  format: (value: number) => string,
): string {
  const best = findBest(
    rows
      .filter((row) => isReference(row.profiler) && !row.notRun)
      .map((row) => ({ name: row.profiler, value: value(row) })),
  );
  return best ? `best reference: ${best.name} ${format(best.value)}` : 'no reference ran';
}

/** Ratio of hotpath's value to the best reference's in the same group, as "0.42×". */
function ratioCell<T extends { profiler: string; notRun?: string }>(
  row: T,
  group: readonly T[],
  value: (row: T) => number | undefined,
): string {
  const mine = value(row);
  if (isReference(row.profiler) || mine === undefined) return '';
  const best = findBest(
    group
      .filter((r) => isReference(r.profiler) && !r.notRun)
      .map((r) => ({ name: r.profiler, value: value(r) ?? NaN })),
  );
  return best ? `${(mine / best.value).toFixed(2)}× ${best.name}` : '';
}

export function renderReport(results: BenchResults): string {
  const parts: string[] = [];
  parts.push('# hotpath benchmark: latest run');
  parts.push(
    `Run ${results.startedAt} at commit ${results.commit}${results.quick ? ' (**quick mode**: fewer, shorter runs)' : ''}, ` +
      `${Math.round(results.durationSec)} s, on ${results.machine.cpus} × ${results.machine.model}, ` +
      `Linux ${results.machine.kernel}, Node ${results.machine.node}; load average ` +
      `${results.machine.loadAverageBefore.map((l) => l.toFixed(1)).join('/')} before, ` +
      `${results.machine.loadAverageAfter.map((l) => l.toFixed(1)).join('/')} after. ` +
      'Written by `npm run bench` (bench/run.ts); raw numbers in [latest.json](latest.json); ' +
      'optimisation before/after numbers in [history.md](history.md).',
  );
  const busy = Math.max(results.machine.loadAverageBefore[0] ?? 0, results.machine.loadAverageAfter[0] ?? 0);
  if (busy > results.machine.cpus) {
    parts.push(
      `**The machine was busy** (load average up to ${busy.toFixed(1)} on ${results.machine.cpus} CPUs): other work ` +
        'competed with every measurement, so rates, times and slowdowns are far noisier than on an idle machine. ' +
        'CPU per sample is the steadiest figure; compare profilers only within this run.',
    );
  }
  parts.push(
    'Absolute times are noisy on shared machines, so comparisons are ratios measured in the same run, with their ' +
      'spread as median [min – max]. CPU is the profiler process and all its children (wait4 for whole runs, ' +
      '/proc/PID/task/TID/schedstat over a window of a run for CPU per sample, /proc/PID/stat over a window for ' +
      'the web scenario).',
  );
  parts.push('## Targets and profilers');
  parts.push(
    table(
      ['target (Python)', 'how it runs'],
      results.worlds.map((w) => [w.label, w.notRun ? notRun(w.notRun) : (w.description ?? '')]),
    ),
  );
  parts.push(
    table(
      ['profiler', 'version', 'ran against', 'not run'],
      results.profilers.map((p) => [
        p.name,
        p.version || '–',
        p.worlds.join(', ') || '–',
        p.notRun.map((n) => `${n.world}: ${n.reason}`).join('; '),
      ]),
    ),
  );
  parts.push('## hotpath against its targets');
  parts.push(
    table(
      ['goal', 'hotpath', 'reference', 'met'],
      checkTargets(results).map((c) => [c.goal, c.hotpath, c.reference, metLabel(c.met)]),
    ),
  );
  parts.push(...renderScenarios(results));
  return parts.join('\n\n') + '\n';
}

function metLabel(met: TargetCheck['met']): string {
  if (met === 'inconclusive') return `inconclusive: runs spread over ${CONCLUSIVE_SPREAD * 100} pp`;
  return met === undefined ? '–' : met ? 'yes' : '**no**';
}

function skipped(results: BenchResults, scenario: string): string | undefined {
  return results.skipped.includes(scenario) ? `_not run in this run (--only)_` : undefined;
}

/** "6 s and 16 s at 100 Hz, …": the short and long run of each rate, as measured. */
function runDurations(results: BenchResults): string {
  const byRate = new Map<string, string>();
  for (const row of results.samplerCost) {
    if (row.short && row.long && !byRate.has(rateLabel(row.rate))) {
      byRate.set(
        rateLabel(row.rate),
        `${row.short.durationSec} s and ${row.long.durationSec} s at ${rateLabel(row.rate)}`,
      );
    }
  }
  return [...byRate.values()].join(', ');
}

/** What waking up costs on this machine, measured beside each target: part of every CPU per sample at 100 and 1000 Hz. */
function wakeFloorText(results: BenchResults): string {
  if (results.wakeFloor.length === 0) return '';
  const measured = results.wakeFloor.map(
    (floor) =>
      `${floor.notRun ? notRun(floor.notRun) : `${fixed(floor.cpuPerWakeUs, 1)} µs`} at ${floor.rate} Hz (${floor.world})`,
  );
  return (
    'Wake floor: a C thread that only sleeps on a futex to timed deadlines, as a sampling loop does between ' +
    `samples, beside the same spinning target (bench/native/wake-floor.c), costs ${measured.join(', ')} of CPU per ` +
    'wake-up on this machine. Every profiler pays it once per sample below its highest rate; "above wake floor" ' +
    'is the CPU per sample minus it. A CPU per sample below the floor is no steady cost but noise: it is marked ' +
    'and left out of the targets and ratios.\n\n'
  );
}

function aboveFloor(results: BenchResults, row: SamplerCostRow): string {
  const floor = floorOf(results, row.world, row.rate);
  return floor === undefined || row.cpuPerSampleUs === undefined ? '–' : `${fixed(row.cpuPerSampleUs - floor, 1)} µs`;
}

function renderScenarios(results: BenchResults): string[] {
  const parts: string[] = [];
  parts.push('## 1–2. Sampler cost and achieved rate (30-frame CPU-bound target)');
  parts.push(
    skipped(results, 'cost') ??
      "CPU per sample is the CPU of the long run from the short run's length to 0.5 s before its end, over the " +
        'samples taken in that window at the rate the two runs differ by ((samples of the long run − samples of the ' +
        "short run) / their difference in seconds), so start-up and warm-up are excluded: a recording's steady cost. " +
        `The runs last ${runDurations(results)} ` +
        "(hotpath's JIT compiler optimises code called once per sample only after 5–20 s at 100 Hz). " +
        '"whole run" divides the long run\'s CPU by its samples, start-up included. Achieved rate ' +
        'is the long run\'s samples over its duration. "max" asks for 100,000 Hz. The last column compares with the ' +
        'best reference on the same target; the targets table above compares with the best on any.\n\n' +
        wakeFloorText(results) +
        table(
          [
            'target',
            'profiler',
            'requested',
            'achieved',
            'CPU/sample',
            'above wake floor',
            'whole run',
            'frames/sample',
            'peak RSS',
            'vs best reference',
          ],
          results.samplerCost.map((row) =>
            row.notRun
              ? [row.world, row.profiler, rateLabel(row.rate), notRun(row.notRun), '', '', '', '', '', '']
              : [
                  row.world,
                  row.profiler,
                  rateLabel(row.rate),
                  `${fixed(row.achievedHz, 0)} Hz`,
                  `${fixed(row.cpuPerSampleUs, 1)} µs${isBelowFloor(results, row) ? ' (noise: below the floor)' : ''}`,
                  aboveFloor(results, row),
                  `${fixed(row.wholeRunCpuPerSampleUs, 1)} µs`,
                  fixed(row.long?.meanDepth, 1),
                  kib(row.long?.maxRssKiB),
                  isBelowFloor(results, row)
                    ? '–'
                    : ratioCell(
                        row,
                        results.samplerCost.filter(
                          (r) => r.rate === row.rate && r.world === row.world && !isBelowFloor(results, r),
                        ),
                        (r) => r.cpuPerSampleUs,
                      ),
                ],
          ),
        ),
  );
  parts.push('## 3. Target slowdown (fixed CPU-bound workload, 30 frames deep)');
  parts.push(
    skipped(results, 'slowdown') ??
      results.slowdown
        .map(
          (s) =>
            `Target ${s.world}: ${s.workloadRounds} work rounds, unprofiled ` +
            Object.entries(s.baselineSeconds)
              .map(
                ([rate, times]) => `${formatSpread(spreadOf(times), (t) => `${t.toFixed(2)} s`)} (${rate} Hz rounds)`,
              )
              .join(', ') +
            '. Wall time profiled / unprofiled, paired by round, as a slowdown.',
        )
        .join('\n\n') +
        '\n\n' +
        table(
          ['target', 'profiler', 'rate', 'slowdown'],
          results.slowdown.flatMap((s) =>
            s.rows.map((row) => [
              row.world,
              row.profiler,
              `${row.rate} Hz`,
              row.notRun ? notRun(row.notRun) : formatSpread(row.spread, signedPercent),
            ]),
          ),
        ),
  );
  parts.push('## 4. Web throughput (Gunicorn, 2 sync workers, 4-connection closed loop on 127.0.0.1)');
  parts.push(
    skipped(results, 'web') ??
      results.web
        .map((w) =>
          w.notRun
            ? `Target ${w.world}: ${notRun(w.notRun)}`
            : `Target ${w.world}: unprofiled ${formatSpread(spreadOf(w.baselineRps), (r) => `${r.toFixed(0)} req/s`)} over ${w.loadSeconds} s windows; ` +
              `each profiler follows the master and its workers at 100 Hz, measured after ${w.warmupSeconds} s of ` +
              'the same load (hotpath compiles its hot code in the first seconds).' +
              (w.rows.some((row) => row.profiler === 'hotpath --no-locals')
                ? ' `hotpath --no-locals` is hotpath without request labels: its stacks are walked by the native loop.'
                : ''),
        )
        .join('\n\n') +
        '\n\n' +
        table(
          ['target', 'profiler', 'throughput change', 'profiler CPU (% of a core)', 'CPU vs best reference'],
          results.web.flatMap((w) =>
            w.rows.map((row) =>
              row.notRun
                ? [row.world, row.profiler, notRun(row.notRun), '', '']
                : [
                    row.world,
                    row.profiler,
                    formatSpread(row.rpsSpread, signedPercent),
                    formatSpread(row.cpuSpread, (c) => c.toFixed(1)),
                    ratioCell(row, w.rows, (r) => r.cpuSpread?.median),
                  ],
            ),
          ),
        ),
  );
  parts.push('## 5. Accuracy (functions taking 10 %, 30 %, 60 % of the time; 1,000 Hz)');
  parts.push(
    skipped(results, 'accuracy') ??
      table(
        ['target', 'profiler', 'samples', 'share_10', 'share_30', 'share_60', 'largest error'],
        results.accuracy.map((row) =>
          row.notRun
            ? [row.world, row.profiler, notRun(row.notRun), '', '', '', '']
            : [
                row.world,
                row.profiler,
                String(row.samples),
                percent(row.shares?.share_10),
                percent(row.shares?.share_30),
                percent(row.shares?.share_60),
                `${fixed(row.maxErrorPp, 2)} pp`,
              ],
        ),
      ),
  );
  const output = results.output;
  parts.push(`## 6. Output: ${output ? output.samples.toLocaleString('en') : '1,000,000'} samples into each format`);
  parts.push(
    skipped(results, 'output') ??
      (!output || output.notRun
        ? notRun(output?.notRun ?? 'no result')
        : `A synthetic profile (2 processes × 4 threads, 20 endpoints, ${output.stacks} stack nodes) built with ` +
          `ProfileBuilder in ${fixed(output.buildMs, 0)} ms and saved as ${bytes(output.savedBytes)}; loading it takes ` +
          `${fixed(output.loadMs, 0)} ms and ${kib(output.loadMaxRssKiB)} peak RSS. Each format is written by its own ` +
          'process: time of the export call, peak RSS of that process (load included), file size.\n\n' +
          table(
            ['format', 'time', 'peak RSS', 'size'],
            output.rows.map((row) =>
              row.notRun
                ? [row.format, notRun(row.notRun), '', '']
                : [row.format, `${fixed((row.exportMs ?? NaN) / 1000, 2)} s`, kib(row.maxRssKiB), bytes(row.bytes)],
            ),
          )),
  );
  return parts;
}
