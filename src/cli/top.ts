// `hotpath top`: a live, refreshing view of the functions (and endpoints) using the CPU, like py-spy top.
// On a terminal it redraws in place (q quits; 1-4 choose the sort column); otherwise it prints a frame
// per refresh, which is also what tests read.

import { HotpathError } from '../errors/index.js';
import { LiveCounts } from '../profile/live-counts.js';
import { renderTopView, type TopSortKey } from '../render/top-view.js';
import { collectPids, parseCommandLine, parsePositiveNumber } from './arguments.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { runSession } from './session.js';

interface TopValues {
  pid?: string;
  rate?: string;
  duration?: string;
  subprocesses?: boolean;
  idle?: boolean;
  gil?: boolean;
  native?: boolean;
  nonblocking?: boolean;
  refresh?: string;
  help?: boolean;
}

const SORT_KEYS: Record<string, TopSortKey> = { '1': 'own', '2': 'total', '3': 'ownTime', '4': 'totalTime' };

export const topCommand: Command = {
  name: 'top',
  summary: 'Show a live view of the functions using the CPU',
  usage: `hotpath top [options] --pid PID [PID...]
hotpath top [options] -- python app.py [args]

Options:
  -p, --pid PID          process to watch (more pids may follow)
  -r, --rate HZ          samples per second (default 100)
  -d, --duration SECONDS stop after this long
  -s, --subprocesses     also watch child processes (workers)
  -i, --idle             include waiting threads
  -g, --gil              only the thread holding the GIL
      --refresh SECONDS  time between redraws (default 1)
      --nonblocking      accepted for py-spy compatibility: hotpath never pauses the target
Keys: q quits; 1-4 sort by %Own, %Total, OwnTime, TotalTime.`,
  run: runTop,
};

async function runTop(argv: readonly string[]): Promise<number> {
  const { values, extraPids, command } = parseCommandLine<TopValues>(argv, {
    pid: { type: 'string', short: 'p' },
    rate: { type: 'string', short: 'r' },
    duration: { type: 'string', short: 'd' },
    subprocesses: { type: 'boolean', short: 's' },
    idle: { type: 'boolean', short: 'i' },
    gil: { type: 'boolean', short: 'g' },
    native: { type: 'boolean', short: 'n' },
    nonblocking: { type: 'boolean' },
    refresh: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(topCommand.usage);
    return EXIT_OK;
  }
  if (values.native) throw new HotpathError('not-supported', '--native (C frames) is not supported yet');
  const pids = collectPids(values.pid, extraPids);
  if (pids.length === 0 && command.length === 0)
    throw new HotpathError('usage', 'top needs --pid PID or a command after --');
  const rateHz = parsePositiveNumber('--rate', values.rate, 100)!;
  const durationSec = parsePositiveNumber('--duration', values.duration);
  const refreshMs = parsePositiveNumber('--refresh', values.refresh, 1)! * 1000;
  const counts = new LiveCounts();
  const abort = new AbortController();
  const screen = new TopScreen(abort);
  let title = 'hotpath top';
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void =>
    screen.draw(
      renderTopView(counts.snapshot(true), {
        title,
        sampleIntervalMs: 1000 / rateHz,
        sortBy: screen.sortBy,
        width: process.stdout.columns ?? 160,
        height: process.stdout.rows ?? 50,
      }),
    );
  try {
    await runSession({
      pids,
      command,
      rateHz,
      durationMs: durationSec !== undefined ? durationSec * 1000 : undefined,
      includeIdle: values.idle ?? false,
      gilOnly: values.gil ?? false,
      markGil: true,
      subprocesses: values.subprocesses ?? false,
      abort,
      onSample: (sample) => counts.add(sample),
      onStart: (attached) => {
        title = `Collecting samples from ${attached.map((p) => `${p.pid} (python v${p.version.text})`).join(', ')}`;
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
