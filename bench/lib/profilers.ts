// The profilers under comparison, each as: how to record a pid at a rate for a duration, how to read
// the samples it wrote, and its version. A profiler that cannot run says why; the tables show that
// reason instead of a number.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAustin, parseCollapsed, type ParsedSamples } from './profiler-output.js';
import type { World } from './worlds.js';

export type Rate = number | 'max';

export interface RecordRequest {
  pid: number;
  rate: Rate;
  durationSec: number;
  /** Output file, as a path inside the profiler's world. */
  output: string;
  subprocesses?: boolean;
}

export interface RecordCommand {
  command: string[];
  /** Stop it like Ctrl-C after this long, for a profiler whose duration flag means something else. */
  interruptAfterMs?: number;
}

export interface Profiler {
  name: string;
  version: string;
  /** True for the references hotpath is compared with. */
  reference: boolean;
  /** The rate asked for when looking for its maximum. */
  maxRateHz: number;
  record(request: RecordRequest): RecordCommand;
  /** Reads the output file (a host path). */
  read(hostPath: string): ParsedSamples;
  /** A new output file: the path the profiler writes to, and the same file seen from the host. */
  outputFile(name: string): { path: string; hostPath: string };
}

/** Fresh output files under one host directory, for profilers that run on the host. */
export type HostScratch = (name: string) => string;

function onHost(scratch: HostScratch): (name: string) => { path: string; hostPath: string } {
  return (name) => {
    const file = scratch(name);
    return { path: file, hostPath: file };
  };
}

/** Requested rate in Hz, with `max` spelled as the profiler's max request. */
export function requestedHz(profiler: Profiler, rate: Rate): number {
  return rate === 'max' ? profiler.maxRateHz : rate;
}

/** hotpath with extra options, shown as its own row ("hotpath --no-locals"); hotpath as a user runs it without. */
export function hotpathProfiler(repo: string, scratch: HostScratch, options: readonly string[] = []): Profiler {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const profiler: Profiler = {
    name: ['hotpath', ...options].join(' '),
    version: `${pkg.version}${commit ? ` (${commit})` : ''}`,
    reference: false,
    maxRateHz: 100_000,
    record: (r) => ({
      command: [
        process.execPath,
        path.join(repo, 'bin/hotpath.js'),
        'record',
        '--pid',
        String(r.pid),
        '--rate',
        String(requestedHz(profiler, r.rate)),
        '--duration',
        String(r.durationSec),
        '--format',
        'raw',
        '--output',
        r.output,
        ...(r.subprocesses ? ['--subprocesses'] : []),
        ...options,
      ],
    }),
    read: (file) => parseCollapsed(fs.readFileSync(file, 'utf8'), 'name-file-line'),
    outputFile: onHost(scratch),
  };
  return profiler;
}

function toolsBinary(repo: string, name: string): string {
  return path.join(repo, '.cache/venvs/tools/bin', name);
}

function versionOf(command: readonly string[], pattern: RegExp): string {
  const output = execFileSync(command[0]!, command.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return pattern.exec(output)?.[1] ?? output.trim();
}

/** py-spy, stopped like Ctrl-C: its --duration counts samples at the requested rate, not seconds. */
export function pySpyProfiler(repo: string, scratch: HostScratch): Profiler | string {
  const binary = toolsBinary(repo, 'py-spy');
  if (!fs.existsSync(binary)) return `py-spy is not installed at ${binary} (scripts/setup.sh --bench installs it)`;
  const profiler: Profiler = {
    name: 'py-spy',
    version: versionOf([binary, '--version'], /py-spy (\S+)/),
    reference: true,
    maxRateHz: 100_000,
    record: (r) => ({
      command: [
        binary,
        'record',
        '--pid',
        String(r.pid),
        '--rate',
        String(requestedHz(profiler, r.rate)),
        '--format',
        'raw',
        '--output',
        r.output,
        '--nonblocking',
        ...(r.subprocesses ? ['--subprocesses'] : []),
      ],
      interruptAfterMs: r.durationSec * 1000,
    }),
    read: (file) => parseCollapsed(fs.readFileSync(file, 'utf8'), 'name-file-line'),
    outputFile: onHost(scratch),
  };
  return profiler;
}

/** austin: -i is the pause between samples in µs. */
export function austinProfiler(repo: string, scratch: HostScratch): Profiler | string {
  const binary = toolsBinary(repo, 'austin');
  if (!fs.existsSync(binary))
    return `austin is not installed at ${binary} (scripts/setup.sh --bench installs austin-dist)`;
  const profiler: Profiler = {
    name: 'austin',
    version: versionOf([binary, '--version'], /austin (\S+)/),
    reference: true,
    maxRateHz: 100_000,
    record: (r) => ({
      command: [
        binary,
        '--pid',
        String(r.pid),
        `--interval=${Math.round(1e6 / requestedHz(profiler, r.rate))}`,
        `--exposure=${r.durationSec}`,
        `--output=${r.output}`,
        ...(r.subprocesses ? ['--children'] : []),
      ],
    }),
    read: (file) => parseAustin(fs.readFileSync(file, 'utf8')),
    outputFile: onHost(scratch),
  };
  return profiler;
}

/** Tachyon: CPython 3.15's own sampler, run inside the target's world (it attaches only to its own version). */
export function tachyonProfiler(world: World): Profiler | string {
  const python = `python${world.label}`;
  let version: string;
  try {
    version = versionOf(
      world.wrap([python, '-c', 'import platform, profiling.sampling; print(platform.python_version())']),
      /(\S+)/,
    );
  } catch (err) {
    return `${python} -m profiling.sampling does not run in the ${world.label} world: ${(err as Error).message.split('\n')[0]}`;
  }
  const profiler: Profiler = {
    name: 'Tachyon',
    version: `CPython ${version} profiling.sampling`,
    reference: true,
    maxRateHz: 100_000,
    record: (r) => ({
      command: world.wrap([
        python,
        '-m',
        'profiling.sampling',
        'attach',
        '--sampling-rate',
        String(requestedHz(profiler, r.rate)),
        '--duration',
        String(r.durationSec),
        '--all-threads',
        '--collapsed',
        '--output',
        r.output,
        ...(r.subprocesses ? ['--subprocesses'] : []),
        String(r.pid),
      ]),
    }),
    read: (file) => parseCollapsed(fs.readFileSync(file, 'utf8'), 'file-name-line'),
    outputFile: (name) => {
      const file = world.scratchFile(name);
      return { path: file, hostPath: world.hostPath(file) };
    },
  };
  return profiler;
}
