// `npm run bench`: runs hotpath, py-spy, austin and Tachyon against the same targets (issue 6's six
// scenarios) and writes bench/results/latest.json and latest.md.
//   node dist/bench/run.js [--quick] [--only cost,slowdown,web,accuracy,output] [--profilers hotpath,…] [--out DIR]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorText, type Arena, type BenchContext } from './lib/context.js';
import { runMeasured, start, stop } from './lib/processes.js';
import {
  austinProfiler,
  hotpathProfiler,
  pySpyProfiler,
  tachyonProfiler,
  type HostScratch,
  type Profiler,
} from './lib/profilers.js';
import { renderReport } from './lib/report.js';
import type { BenchResults, ProfilerInfo, WorldInfo } from './lib/results.js';
import { openChrootWorld, openPyenvWorld, type World, type WorldOrReason } from './lib/worlds.js';
import { measureAccuracy } from './scenarios/accuracy.js';
import { measureOutputs } from './scenarios/output-formats.js';
import { measureSamplerCost, STACK_DEPTH } from './scenarios/sampler-cost.js';
import { measureSlowdown } from './scenarios/slowdown.js';
import { measureWebThroughput } from './scenarios/web-throughput.js';

const SCENARIOS = ['cost', 'slowdown', 'web', 'accuracy', 'output'] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      profilers: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const only = values.only ? values.only.split(',') : [...SCENARIOS];
  const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const outDir = path.resolve(values.out ?? path.join(repo, 'bench/results'));
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-bench-'));
  let counter = 0;
  const scratch: HostScratch = (name) => path.join(scratchDir, `${counter++}-${name}`);
  const started = Date.now();
  const ctx: BenchContext = {
    repo,
    hostPython: findHostPython(),
    benchPython: path.join(repo, 'bench/python'),
    scratch,
    quick: values.quick ?? false,
    log: (message) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`),
  };
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    durationSec: 0,
    commit: gitCommit(repo),
    quick: ctx.quick,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      kernel: os.release(),
      loadAverageBefore: os.loadavg(),
      loadAverageAfter: [],
    },
    worlds: [],
    profilers: [],
    samplerCost: [],
    wakeFloor: [],
    slowdown: [],
    web: [],
    accuracy: [],
    skipped: SCENARIOS.filter((name) => !only.includes(name)),
  };
  const hotpath = hotpathProfiler(repo, scratch);
  const opened: [string, WorldOrReason][] = [
    ['3.13', openPyenvWorld(repo, '3.13')],
    ['3.15', await openChrootWorld(repo, 'sid', '3.15')],
  ];
  const arenas: Arena[] = [];
  const profilerInfo = new Map<string, ProfilerInfo>();
  const note = (name: string, version: string): ProfilerInfo => {
    const info = profilerInfo.get(name) ?? { name, version, worlds: [], notRun: [] };
    if (!info.version) info.version = version;
    profilerInfo.set(name, info);
    return info;
  };
  try {
    for (const [label, { world, reason }] of opened) {
      const candidates: (Profiler | { name: string; reason: string })[] =
        label === '3.13'
          ? [hotpath, named('py-spy', pySpyProfiler(repo, scratch)), named('austin', austinProfiler(repo, scratch))]
          : [hotpath, world ? named('Tachyon', tachyonProfiler(world)) : { name: 'Tachyon', reason: reason! }];
      if (values.profilers) {
        const wanted = values.profilers.split(',');
        candidates.splice(0, candidates.length, ...candidates.filter((c) => wanted.includes(c.name)));
      }
      const info: WorldInfo = { label, description: world?.description, notRun: reason };
      results.worlds.push(info);
      if (!world) {
        for (const candidate of candidates)
          note(candidate.name, 'version' in candidate ? candidate.version : '').notRun.push({
            world: label,
            reason: `target ${label} missing: ${reason}`,
          });
        continue;
      }
      const arena = await probeArena(ctx, world, candidates);
      for (const profiler of arena.profilers) note(profiler.name, profiler.version).worlds.push(label);
      for (const missing of arena.missing) {
        const candidate = candidates.find((c) => c.name === missing.name);
        note(missing.name, candidate && 'version' in candidate ? candidate.version : '').notRun.push({
          world: label,
          reason: missing.reason,
        });
      }
      arenas.push(arena);
    }
    results.profilers = [...profilerInfo.values()];
    if (only.includes('cost'))
      for (const arena of arenas) {
        const { rows, floors } = await measureSamplerCost(ctx, arena);
        results.samplerCost.push(...rows);
        results.wakeFloor.push(...floors);
      }
    if (only.includes('slowdown')) for (const arena of arenas) results.slowdown.push(await measureSlowdown(ctx, arena));
    if (only.includes('web'))
      for (const arena of arenas)
        results.web.push(await measureWebThroughput(ctx, withoutLabels(arena, repo, scratch)));
    if (only.includes('accuracy'))
      for (const arena of arenas) results.accuracy.push(...(await measureAccuracy(ctx, arena)));
    if (only.includes('output')) results.output = await measureOutputs(ctx);
  } finally {
    for (const [, { world }] of opened) await world?.close();
    fs.rmSync(scratchDir, { recursive: true, force: true });
  }
  results.machine.loadAverageAfter = os.loadavg();
  results.durationSec = (Date.now() - started) / 1000;
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.md'), renderReport(results));
  ctx.log(`wrote ${path.relative(process.cwd(), path.join(outDir, 'latest.md'))} and latest.json`);
}

/**
 * On 3.13, the web scenario also runs hotpath without request labels (`--no-locals`): what following the workers
 * costs apart from reading each request's labels, beside austin, which reads none.
 */
function withoutLabels(arena: Arena, repo: string, scratch: HostScratch): Arena {
  if (arena.world.label !== '3.13' || !arena.profilers.some((p) => p.name === 'hotpath')) return arena;
  return { ...arena, profilers: [...arena.profilers, hotpathProfiler(repo, scratch, ['--no-locals'])] };
}

function named(name: string, profiler: Profiler | string): Profiler | { name: string; reason: string } {
  return typeof profiler === 'string' ? { name, reason: profiler } : profiler;
}

/**
 * Keeps the profilers that can record this world's Python: each records a 30-frame target for a second.
 * One that cannot (an unsupported version, a missing permission) is reported with its own error.
 */
async function probeArena(
  ctx: BenchContext,
  world: World,
  candidates: readonly (Profiler | { name: string; reason: string })[],
): Promise<Arena> {
  const arena: Arena = { world, profilers: [], missing: [] };
  const target = start(world.python('deep.py', [String(STACK_DEPTH)]));
  try {
    const pid = Number((await target.waitForLine(/^READY (\d+)/, 20_000))[1]);
    for (const candidate of candidates) {
      if (!('record' in candidate)) {
        arena.missing.push(candidate);
        continue;
      }
      try {
        const output = candidate.outputFile('probe.txt');
        const request = candidate.record({ pid, rate: 100, durationSec: 1, output: output.path });
        await runMeasured(ctx.hostPython, ctx.benchPython, request.command, {
          interruptAfterMs: request.interruptAfterMs,
          timeoutMs: 60_000,
        });
        if (candidate.read(output.hostPath).samples === 0) throw new Error('it recorded no samples');
        arena.profilers.push(candidate);
      } catch (err) {
        arena.missing.push({ name: candidate.name, reason: errorText(err) });
      }
    }
  } catch (err) {
    for (const candidate of candidates)
      arena.missing.push({ name: candidate.name, reason: `target failed: ${errorText(err)}` });
    arena.profilers = [];
  } finally {
    await stop(target, 'SIGKILL');
  }
  ctx.log(
    `target ${world.label}: ${arena.profilers.map((p) => p.name).join(', ') || 'no profiler'}` +
      arena.missing.map((m) => `; ${m.name} not run: ${m.reason}`).join(''),
  );
  return arena;
}

function findHostPython(): string {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', 'import os; os.wait4'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error('the benchmark needs a python3 on PATH (to measure CPU with wait4)');
}

function gitCommit(repo: string): string {
  try {
    return execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
