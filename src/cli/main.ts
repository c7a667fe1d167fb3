// hotpath's command-line entry: dispatches to a subcommand and turns typed errors into a one-line
// message and the exit code from exit-codes.ts.

import { createRequire } from 'node:module';
import { HotpathError } from '../errors/index.js';
import { agentCommand } from './agent.js';
import type { Command } from './command.js';
import { completionsCommand } from './completions.js';
import { convertCommand } from './convert.js';
import { diffCommand } from './diff.js';
import { doctorCommand } from './doctor.js';
import { dumpCommand } from './dump.js';
import { EXIT_INTERNAL, exitCodeFor } from './exit-codes.js';
import { recordCommand } from './record.js';
import { reportCommand } from './report.js';
import { topCommand } from './top.js';
import { webCommand } from './web.js';

const COMMANDS: readonly Command[] = [
  recordCommand,
  topCommand,
  webCommand,
  agentCommand,
  dumpCommand,
  reportCommand,
  diffCommand,
  convertCommand,
  doctorCommand,
  completionsCommand(() => COMMANDS),
];

function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../../package.json') as { version: string }).version;
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'hotpath: a sampling profiler for Python web applications (CPython 3.9-3.15), out of process',
    '',
    'Usage: hotpath <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `hotpath <command> --help` for its options. Examples:',
    '  sudo hotpath record -o profile.svg --pid $(pgrep -f gunicorn) --subprocesses',
    '  hotpath record -o profile.svg -- python app.py',
    '  sudo hotpath web --pid $(pgrep -f gunicorn) --subprocesses',
    '  hotpath dump --pid 12345',
    '  sudo hotpath agent --server http://pyroscope:4040 --app-name shop -s --pid $(pgrep -f gunicorn)',
    '  hotpath diff before.hotpath after.hotpath -o diff.html',
  ].join('\n');
}

/** py-spy's own commands, which win a shortened name they share with others (`d` is dump, as in py-spy). */
const PY_SPY_COMMANDS = ['record', 'top', 'dump'];

/** A command by its name or, as py-spy allows, a prefix of it (`r`, `rec`); undefined when none or ambiguous. */
function findCommand(name: string): Command | undefined {
  const exact = COMMANDS.find((c) => c.name === name);
  if (exact) return exact;
  const candidates = COMMANDS.filter((c) => c.name.startsWith(name));
  if (candidates.length === 1) return candidates[0];
  const fromPySpy = candidates.filter((c) => PY_SPY_COMMANDS.includes(c.name));
  return fromPySpy.length === 1 ? fromPySpy[0] : undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined && findCommand(rest[0])) {
    console.log(findCommand(rest[0])!.usage);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(`hotpath ${version()}`);
    return 0;
  }
  const command = name.startsWith('-') ? undefined : findCommand(name);
  if (!command) {
    console.error(`hotpath: unknown command "${name}"; run hotpath --help`);
    return exitCodeFor('usage');
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof HotpathError) {
      console.error(`hotpath: error: ${err.message}${err.hint ? `. ${err.hint}` : ''}`);
      return exitCodeFor(err.kind);
    }
    console.error(`hotpath: internal error: ${(err as Error).stack ?? String(err)}`);
    return EXIT_INTERNAL;
  }
}

// A reader that went away (`hotpath dump | head -1`) is no error: what stdout carried is done with, so stop
// quietly. On stderr only messages are lost: a recording goes on and still writes its output.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.stderr.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = EXIT_INTERNAL;
  },
);
