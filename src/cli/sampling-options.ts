// The options every sampling command (record, top) shares, parsed and checked in one place, and the
// readers of thread names and request labels they plug into the sampler.

import { HotpathError } from '../errors/index.js';
import { ProcessReaders, RequestContextReader, type SamplerOptions } from '../sampler/index.js';
import { collectPids, parsePositiveNumber } from './arguments.js';

export const SAMPLING_OPTIONS = {
  pid: { type: 'string', short: 'p' },
  rate: { type: 'string', short: 'r' },
  duration: { type: 'string', short: 'd' },
  subprocesses: { type: 'boolean', short: 's' },
  idle: { type: 'boolean', short: 'i' },
  gil: { type: 'boolean', short: 'g' },
  nonblocking: { type: 'boolean' },
  native: { type: 'boolean', short: 'n' },
  'no-locals': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface SamplingValues {
  pid?: string;
  rate?: string;
  duration?: string;
  subprocesses?: boolean;
  idle?: boolean;
  gil?: boolean;
  nonblocking?: boolean;
  native?: boolean;
  'no-locals'?: boolean;
  help?: boolean;
}

export interface Sampling {
  pids: number[];
  command: readonly string[];
  rateHz: number;
  durationSec: number | undefined;
  sampler: Omit<SamplerOptions, 'onSample'>;
  /** Endpoint labels to merge once sampling ends (RequestContextReader.endpointAliases). */
  endpointAliases(): ReadonlyMap<string, string>;
}

/** Checks the shared options; `name` is the command, for messages. */
export function resolveSampling(
  name: string,
  values: SamplingValues,
  extraPids: readonly number[],
  command: readonly string[],
): Sampling {
  if (values.native) throw new HotpathError('not-supported', '--native (C frames) is not supported yet');
  const pids = collectPids(values.pid, extraPids);
  if (pids.length === 0 && command.length === 0) {
    throw new HotpathError(
      'usage',
      `${name} needs --pid PID or a command after --, e.g. hotpath ${name} -- python app.py`,
    );
  }
  if (pids.length > 0 && command.length > 0)
    throw new HotpathError('usage', 'give either --pid or a command, not both');
  const rateHz = parsePositiveNumber('--rate', values.rate, 100)!;
  const durationSec = parsePositiveNumber('--duration', values.duration);
  const readers = new ProcessReaders();
  const requests = values['no-locals'] ? undefined : new RequestContextReader(readers);
  return {
    pids,
    command,
    rateHz,
    durationSec,
    sampler: {
      rateHz,
      durationMs: durationSec !== undefined ? durationSec * 1000 : undefined,
      includeIdle: values.idle ?? false,
      gilOnly: values.gil ?? false,
      subprocesses: values.subprocesses ?? false,
      readThreadNames: (python) => readers.readThreadNames(python),
      labelRequest: requests && ((python, stack, sampled) => requests.labelByReading(python, stack, sampled)),
      labelFromCopies: requests && ((python, stack, sampled) => requests.labelFromCopies(python, stack, sampled)),
      mayHoldRequest: requests && ((python, stack) => requests.mayHoldRequest(python, stack)),
      watchedSlots: requests && ((python, code) => requests.watchedSlots(python, code)),
    },
    endpointAliases: () => requests?.endpointAliases() ?? new Map(),
  };
}

/** Usage lines of the shared options, for each command's --help. */
export const SAMPLING_USAGE = `  -p, --pid PID          process to profile (more pids may follow, e.g. --pid $(pgrep -f gunicorn))
  -r, --rate HZ          samples per second (default 100)
  -d, --duration SECONDS stop after this long (default: until Ctrl-C or the program exits)
  -s, --subprocesses     also profile child processes, following workers as they come and go
  -i, --idle             keep samples of threads that are waiting (sleep, I/O, locks)
  -g, --gil              keep only samples of the thread holding the GIL
      --no-locals        read no frame locals: no request labels
      --nonblocking      accepted for py-spy compatibility: hotpath never pauses the target
  -n, --native           native (C) frames: not supported yet`;
