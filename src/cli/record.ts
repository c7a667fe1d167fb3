// `hotpath record`: samples one or more processes (attached by pid, or launched after `--`) and
// writes a profile in the chosen format. Ctrl-C, SIGTERM, the duration or the target's exit end the
// recording; in every case what was sampled is written, atomically. With --memory, each process's RSS is read
// every tick too, and its growth put on the samples of the lines running when it was seen.

import path from 'node:path';
import type { SamplerProgress } from '../sampler/index.js';
import { ProfileBuilder, filterByEndpoint, type Profile, type SampleWeight } from '../profile/index.js';
import { renderEndpointTable } from '../render/index.js';
import { parseCommandLine, parseEndpointPattern } from './arguments.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, resolveSampling, type SamplingValues } from './sampling-options.js';
import { checkWritable, writeFileAtomic } from './atomic-write.js';
import {
  OUTPUT_FORMATS,
  findOutputFormat,
  formatForFile,
  parseWeight,
  type OutputFormat,
  type OutputOptions,
} from './formats.js';
import { HotpathError } from '../errors/index.js';
import { formatMemorySummary } from './memory-summary.js';
import { describeProcessEvent, describeSampled, runSession } from './session.js';
import { MarkedRequestProfiles, siblingOutputPath, splitByEndpoint } from './request-outputs.js';
import { formatSummary } from './summary.js';
import type { Command } from './command.js';
import { EXIT_OK, exitCodeFor } from './exit-codes.js';

interface RecordValues extends SamplingValues {
  output?: string;
  format?: string;
  threads?: boolean;
  function?: boolean;
  nolineno?: boolean;
  'full-filenames'?: boolean;
  title?: string;
  endpoint?: string;
  'split-endpoints'?: boolean;
  memory?: boolean;
  weight?: string;
  capture?: boolean;
  hideprogress?: boolean;
}

export const RECORD_OPTIONS = {
  ...SAMPLING_OPTIONS,
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  threads: { type: 'boolean', short: 't' },
  function: { type: 'boolean', short: 'F' },
  nolineno: { type: 'boolean' },
  'full-filenames': { type: 'boolean' },
  title: { type: 'string' },
  endpoint: { type: 'string' },
  'split-endpoints': { type: 'boolean' },
  memory: { type: 'boolean' },
  weight: { type: 'string' },
  capture: { type: 'boolean' },
  hideprogress: { type: 'boolean' },
} as const;

export const recordCommand: Command = {
  name: 'record',
  summary: 'Sample a running or launched Python program and write a profile',
  usage: `hotpath record [options] --pid PID [PID...]
hotpath record [options] -- python app.py [args]

Options:
${SAMPLING_USAGE}
  -o, --output FILE      where to write (default: hotpath-<pid>-<time>.<ext>)
  -f, --format FORMAT    ${OUTPUT_FORMATS.map((f) => f.name).join(', ')} (default flamegraph,
                         or implied by the -o extension)
  -t, --threads          split the output by thread
  -F, --function         merge lines of a function (one frame per function)
      --nolineno         merge lines of a function and show no line numbers
      --title TEXT       title of the flame graph
      --capture          hide the launched program's output (stdout, stderr), as py-spy's --capture does
      --hideprogress     show no progress line while recording
      --memory           also read each process's resident memory (RSS) every tick: RSS over time in
                         the html and hotpath outputs, and its growth put on the lines running when it was
                         seen (a sampling estimate, see docs/memory.md); prints the top lines at the end
      --weight WEIGHT    samples (default), or memory: flamegraph and raw weighted by bytes grown
                         (needs --memory; per-request outputs stay by samples)

Web applications (WSGI: Gunicorn, Flask, Django; ASGI: uvicorn, Starlette, FastAPI):
      --endpoint REGEX   keep only samples of requests whose label ("GET /users/{id}") matches
      --split-endpoints  also write one output per endpoint: <output>.endpoint-<name>.<ext>
  A request with a \`hotpath\` query parameter (?hotpath) or an X-Hotpath header gets its own profile,
  <output>.request-<n>.<ext>. Only method, route/path and the marker's presence are read from requests.`,
  formats: OUTPUT_FORMATS.map((format) => format.name),
  run: runRecord,
};

async function runRecord(argv: readonly string[]): Promise<number> {
  const { values, extraPids, command } = parseCommandLine<RecordValues>(argv, RECORD_OPTIONS);
  if (values.help) {
    console.log(recordCommand.usage);
    return 0;
  }
  const {
    pids,
    rateHz,
    durationSec,
    sampler: samplerOptions,
    endpointAliases,
  } = resolveSampling('record', values, extraPids, command);
  const endpointPattern = parseEndpointPattern(values.endpoint);
  const format = pickFormat(values);
  const weight = parseWeight(values.weight, format);
  if (weight === 'memory' && !values.memory) throw new HotpathError('usage', '--weight memory needs --memory');
  const output = values.output ?? defaultOutputName(pids[0], format);
  checkWritable(output);

  const builder = new ProfileBuilder();
  const marked = new MarkedRequestProfiles();
  /** The Python version of the first process followed (with a launcher as the root, none may be at the start). */
  let pythonVersion: string | undefined;
  const { sampler, stopReason, launched } = await runSession({
    ...samplerOptions,
    // Growth goes to the GIL holder of a tick when one is known, so it is marked.
    ...(values.memory && { markGil: true, onMemoryUsage: (usage) => builder.addMemoryUsage(usage) }),
    pids,
    command,
    onSource: (file, lines) => builder.addSource(file, lines),
    onSample: (sample) => {
      builder.addSample(sample);
      marked.add(sample);
    },
    hideOutput: values.capture ?? false,
    onProgress: process.stderr.isTTY && !values.hideprogress ? showProgress : undefined,
    onProcessEvent: (event) => {
      if (event.kind === 'attach') {
        pythonVersion ??= event.pythonVersion ?? '';
        builder.addProcess(event.pid, event.detail);
        marked.noteProcess(event.pid, event.detail);
      }
      if (event.kind !== 'detach' || process.stderr.isTTY) log(describeProcessEvent(event));
    },
    onStart: (started) =>
      log(
        `sampling ${describeSampled(started)} at ${rateHz} Hz` +
          (durationSec ? ` for ${durationSec}s` : '') +
          '; press Ctrl-C to stop and write the profile',
      ),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (pythonVersion === undefined) {
    throw new HotpathError('not-python', `no Python process started under ${pids.join(', ')} while hotpath waited`);
  }
  const meta = {
    startTime: sampler.startWallTime,
    durationMs: sampler.elapsedMs,
    rateHz,
    pythonVersion,
    command: launched ? command.join(' ') : pids.join(' '),
  };
  const restrict = (profile: Profile): Profile =>
    endpointPattern ? filterByEndpoint(profile, endpointPattern) : profile;
  const aliases = endpointAliases();
  builder.mergeEndpoints(aliases);
  const profile = restrict(builder.build({ ...meta, stats: sampler.stats }));
  writeProfile(profile, format, output, values);
  writeWebOutputs(profile, marked.build(meta, aliases).map(restrict), format, output, values);
  if (values.memory) console.error(formatMemorySummary(profile));
  if (launched?.child.exitCode) log(`the program exited with status ${launched.child.exitCode}`);
  if (stopReason !== 'targets-exited' || launched) return EXIT_OK;
  log('the target exited before the recording ended; wrote what was sampled');
  return exitCodeFor('target-exited');
}

function outputOptions(profile: Profile, values: RecordValues): OutputOptions {
  return {
    title: values.title ?? `hotpath: ${profile.meta.command}`,
    groupBy: values.threads ? 'thread' : 'none',
    frameKey: values.nolineno ? 'function-no-line' : values.function ? 'function' : 'line',
    weight: weightOf(profile, values),
  };
}

/** Marked requests are profiles of their own samples, without memory data: those stay weighted by samples. */
function weightOf(profile: Profile, values: RecordValues): SampleWeight {
  return values.weight === 'memory' && profile.samples.memoryGrowthBytes ? 'memory' : 'samples';
}

function pickFormat(values: RecordValues): OutputFormat {
  if (values.format) return findOutputFormat(values.format);
  return (values.output && formatForFile(values.output)) || findOutputFormat('flamegraph');
}

function defaultOutputName(pid: number | undefined, format: OutputFormat): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return `hotpath-${pid ?? 'run'}-${stamp}.${format.extension}`;
}

function writeProfile(profile: Profile, format: OutputFormat, output: string, values: RecordValues): void {
  writeFileAtomic(output, format.write(profile, outputOptions(profile, values)));
  console.error(formatSummary(profile, `wrote ${format.name} to ${path.resolve(output)}`));
}

/** Per-request and per-endpoint outputs beside the main one, then the endpoint table. */
function writeWebOutputs(
  profile: Profile,
  markedProfiles: Profile[],
  format: OutputFormat,
  output: string,
  values: RecordValues,
): void {
  markedProfiles
    .filter((request) => request.samples.count > 0)
    .forEach((request, i) => {
      const file = siblingOutputPath(output, format.extension, `request-${i + 1}`);
      writeFileAtomic(file, format.write(request, outputOptions(request, values)));
      log(
        `wrote marked request ${i + 1} (${request.endpoints.join(', ')}, ${request.samples.count} samples) to ${file}`,
      );
    });
  if (values['split-endpoints']) {
    for (const part of splitByEndpoint(profile)) {
      const file = siblingOutputPath(output, format.extension, part.suffix);
      writeFileAtomic(file, format.write(part.profile, outputOptions(part.profile, values)));
      log(`wrote ${part.label} (${part.profile.samples.count} samples) to ${file}`);
    }
  }
  if (profile.endpoints.length > 0 && profile.samples.count > 0) {
    console.error(['hotpath: endpoints by CPU share', ...renderEndpointTable(profile)].join('\n'));
  }
}

function showProgress(progress: SamplerProgress): void {
  const seconds = progress.elapsedMs / 1000;
  const rate = seconds > 0 ? progress.ticks / seconds : 0;
  process.stderr.write(
    `\r  ${progress.samples} samples, ${rate.toFixed(0)}/s, ${progress.processes} process(es), ` +
      `${progress.dropped} dropped, ${seconds.toFixed(1)}s `,
  );
}

function log(message: string): void {
  console.error(`hotpath: ${message}`);
}
