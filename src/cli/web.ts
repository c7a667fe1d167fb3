// `hotpath web`: samples like `top` and serves a live dashboard of it on 127.0.0.1 (a flame graph of the last minute
// or since the start, functions, endpoints, processes), printing the URL to open. Runs until Ctrl-C or the targets
// exit; with -o it then writes the whole profile as `record` would.

import path from 'node:path';
import { HotpathError } from '../errors/index.js';
import type { ProfileMeta } from '../profile/index.js';
import type { Sampler } from '../sampler/index.js';
import { LiveProfile, findTokenProblem, startDashboardServer, type SamplingFacts } from '../web/index.js';
import { parseCommandLine } from './arguments.js';
import { checkWritable, writeFileAtomic } from './atomic-write.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { findOutputFormat, formatForFile, type OutputFormat } from './formats.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, resolveSampling, type SamplingValues } from './sampling-options.js';
import { describeProcessEvent, describeSampled, runSession } from './session.js';
import { formatSummary } from './summary.js';

interface WebValues extends SamplingValues {
  host?: string;
  port?: string;
  token?: string;
  window?: string;
  output?: string;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_WINDOW_SECONDS = 60;
/** A longer window would keep a bucket of counts per second for hours; "since start" covers that. */
const MAX_WINDOW_SECONDS = 3600;

export const webCommand: Command = {
  name: 'web',
  summary: 'Serve a live dashboard (flame graph, functions, endpoints) in the browser',
  usage: `hotpath web [options] --pid PID [PID...]
hotpath web [options] -- python app.py [args]

Prints the URL to open, then samples and serves a live dashboard until Ctrl-C or the targets exit: a flame graph
of the last --window seconds (or since the start) with zoom and search, the hottest functions, the endpoints,
the processes followed (workers as they come and go), the sampling rate achieved and what was dropped, and
downloads of the profile since the start (.hotpath, speedscope). JSON of the same: GET /api/snapshot.
Security and API: docs/dashboard.md.

Options:
${SAMPLING_USAGE}
      --host HOST        address to serve on (default ${DEFAULT_HOST}); any other (e.g. 0.0.0.0) requires a token
      --port PORT        port to serve on (default 0: any free port)
      --token TOKEN      require this token of every request (at least 16 of A-Z a-z 0-9 . _ ~ -);
                         without it, one is generated when --host is not a loopback address
      --window SECONDS   the live view's rolling window (default ${DEFAULT_WINDOW_SECONDS}, at most ${MAX_WINDOW_SECONDS})
  -o, --output FILE      also write the whole profile when it ends; the format is implied by the extension
                         as for record (.hotpath, .html, .speedscope.json, ...; flame graph SVG otherwise)`,
  run: runWeb,
};

async function runWeb(argv: readonly string[]): Promise<number> {
  const { values, extraPids, command } = parseCommandLine<WebValues>(argv, {
    ...SAMPLING_OPTIONS,
    host: { type: 'string' },
    port: { type: 'string' },
    token: { type: 'string' },
    window: { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (values.help) {
    console.log(webCommand.usage);
    return EXIT_OK;
  }
  const { pids, rateHz, sampler: samplerOptions, endpointAliases } = resolveSampling('web', values, extraPids, command);
  const port = parseWholeNumber('--port', values.port, 0, 65535) ?? 0;
  const windowSeconds = parseWholeNumber('--window', values.window, 1, MAX_WINDOW_SECONDS) ?? DEFAULT_WINDOW_SECONDS;
  const tokenProblem = values.token === undefined ? undefined : findTokenProblem(values.token);
  if (tokenProblem) throw new HotpathError('usage', tokenProblem);
  const output = values.output && { file: values.output, format: outputFormat(values.output) };
  if (output) checkWritable(output.file);

  const target = command.length > 0 ? command.join(' ') : pids.join(' ');
  const live = new LiveProfile(`hotpath web: ${target}`, windowSeconds, endpointAliases);
  let sampler: Sampler | undefined;
  let pythonVersion = '';
  const profileMeta = (): ProfileMeta => ({
    startTime: sampler?.startWallTime ?? 0,
    durationMs: sampler?.elapsedMs ?? 0,
    rateHz,
    pythonVersion,
    command: target,
    stats: structuredClone(sampler?.stats ?? { attempted: 0, taken: 0, dropped: {} }),
  });
  const dashboard = await startDashboardServer({
    host: values.host ?? DEFAULT_HOST,
    port,
    token: values.token,
    live,
    sampling: () => samplingFacts(sampler, rateHz),
    profileMeta,
    onError: (error) => log(`the dashboard failed to answer a request: ${error.stack ?? error.message}`),
  });
  try {
    await runSession({
      ...samplerOptions,
      pids,
      command,
      onSample: (sample) => live.add(sample),
      onSource: output ? (file, lines) => live.addSource(file, lines) : undefined,
      onProcessEvent: (event) => {
        if (event.kind === 'attach') pythonVersion ||= event.pythonVersion ?? '';
        live.noteProcessEvent(event);
        log(describeProcessEvent(event));
      },
      onStart: (attached, _launched, started) => {
        sampler = started;
        console.log(`hotpath web: open ${dashboard.url}`);
        log(`sampling ${describeSampled(attached)} at ${rateHz} Hz; press Ctrl-C to stop`);
      },
    });
  } finally {
    await dashboard.close();
  }
  if (output) {
    const profile = live.buildProfile(profileMeta());
    writeFileAtomic(output.file, output.format.write(profile, { title: live.title }));
    console.error(formatSummary(profile, `wrote ${output.format.name} to ${path.resolve(output.file)}`));
  } else {
    log(`stopped after ${live.samples} samples`);
  }
  return EXIT_OK;
}

/** Read live from the sampler at each request: its stats object is the one it updates as it samples. */
function samplingFacts(sampler: Sampler | undefined, rateHz: number): SamplingFacts {
  const progress = sampler?.progress();
  const elapsedMs = progress?.elapsedMs ?? 0;
  const ticks = progress?.ticks ?? 0;
  return {
    startTime: sampler?.startWallTime ?? 0,
    elapsedMs,
    rateHz,
    achievedHz: elapsedMs > 0 ? ticks / (elapsedMs / 1000) : 0,
    ticks,
    attempted: sampler?.stats.attempted ?? 0,
    taken: sampler?.stats.taken ?? 0,
    dropped: { ...sampler?.stats.dropped },
  };
}

/** As record picks it when -f is not given: by the file's extension, else the flame graph. */
function outputFormat(file: string): OutputFormat {
  return formatForFile(file) ?? findOutputFormat('flamegraph');
}

function parseWholeNumber(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new HotpathError('usage', `${name} takes a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function log(message: string): void {
  console.error(`hotpath: ${message}`);
}
