// `hotpath top`: a live, refreshing view of the functions (and endpoints) using the CPU, like py-spy top.
// On a terminal it redraws in place (q quits; 1-4 choose the sort column); otherwise it prints a frame
// per refresh, which is also what tests read.

import { HotpathError } from '../errors/index.js';
import { LiveCounts, mergeEndpointCounts } from '../profile/index.js';
import { renderTopView, type TopSortKey } from '../render/top-view.js';
import { parseCommandLine, parsePositiveNumber } from './arguments.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, resolveSampling, type SamplingValues } from './sampling-options.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { describeSampled, runSession } from './session.js';

interface TopValues extends SamplingValues {
  refresh?: string;
  delay?: string;
  'full-filenames'?: boolean;
}

const SORT_KEYS: Record<string, TopSortKey> = { '1': 'own', '2': 'total', '3': 'ownTime', '4': 'totalTime' };

export const topCommand: Command = {
  name: 'top',
  summary: 'Show a live view of the functions using the CPU',
  usage: `hotpath top [options] --pid PID [PID...]
hotpath top [options] -- python app.py [args]

Options:
${SAMPLING_USAGE}
      --refresh SECONDS  time between redraws (default 1); --delay is py-spy's name for it
      --full-filenames   show whole file paths in the Function column
Keys: q quits; 1-4 sort by %Own, %Total, OwnTime, TotalTime.`,
  run: runTop,
};

async function runTop(argv: readonly string[]): Promise<number> {
  const { values, extraPids, command } = parseCommandLine<TopValues>(argv, {
    ...SAMPLING_OPTIONS,
    refresh: { type: 'string' },
    delay: { type: 'string' },
    'full-filenames': { type: 'boolean' },
  });
  if (values.help) {
    console.log(topCommand.usage);
    return EXIT_OK;
  }
  const { pids, rateHz, sampler, endpointAliases } = resolveSampling('top', values, extraPids, command);
  if (values.refresh !== undefined && values.delay !== undefined)
    throw new HotpathError('usage', 'give --refresh or --delay, not both (they are the same option)');
  const refreshMs =
    parsePositiveNumber(values.delay !== undefined ? '--delay' : '--refresh', values.refresh ?? values.delay, 1)! *
    1000;
  const counts = new LiveCounts();
  const abort = new AbortController();
  const screen = new TopScreen(abort);
  let title = 'hotpath top';
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    const snapshot = counts.snapshot(true);
    const endpoints = mergeEndpointCounts(snapshot.endpoints, endpointAliases());
    screen.draw(
      renderTopView(
        { ...snapshot, endpoints },
        {
          title,
          sampleIntervalMs: 1000 / rateHz,
          sortBy: screen.sortBy,
          width: process.stdout.columns ?? 160,
          height: process.stdout.rows ?? 50,
          fullFilenames: values['full-filenames'] ?? false,
        },
      ),
    );
  };
  try {
    await runSession({
      ...sampler,
      markGil: true,
      pids,
      command,
      abort,
      onSample: (sample) => counts.add(sample),
      onStart: (attached) => {
        title = `Collecting samples from ${describeSampled(attached, (p) => `${p.pid} (python v${p.version.text})`)}`;
        screen.start();
        timer = setInterval(draw, refreshMs);
      },
    });
  } finally {
    if (timer) clearInterval(timer);
    screen.stop();
  }
  draw();
  return EXIT_OK;
}

/** The terminal side of top: alternate screen and raw keys on a TTY, plain frames otherwise. */
class TopScreen {
  sortBy: TopSortKey = 'own';
  private readonly tty = Boolean(process.stdout.isTTY && process.stdin.isTTY);
  private active = false;

  constructor(private readonly abort: AbortController) {}

  start(): void {
    if (!this.tty) return;
    this.active = true;
    process.stdout.write('\x1b[?1049h\x1b[?25l');
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', this.onKey);
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    process.stdin.off('data', this.onKey);
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.write('\x1b[?25h\x1b[?1049l');
  }

  draw(lines: string[]): void {
    if (this.active) process.stdout.write('\x1b[H\x1b[2J' + lines.join('\n'));
    else process.stdout.write(lines.join('\n') + '\n\n');
  }

  private onKey = (data: Buffer): void => {
    const key = data.toString();
    if (key === 'q' || key === '\x03') this.abort.abort();
    else if (SORT_KEYS[key]) this.sortBy = SORT_KEYS[key]!;
  };
}
