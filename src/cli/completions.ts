// `hotpath completions SHELL`: prints a completion script for bash, zsh or fish, as `py-spy completions` does.
// Commands and options are read from each command's own usage text, so the script always matches --help.

import { HotpathError } from '../errors/index.js';
import type { Command } from './command.js';

interface OptionSpec {
  short?: string;
  long: string;
  /** The argument's placeholder (PID, FILE, FORMAT…); undefined for a flag. */
  argument?: string;
  description: string;
}

interface CommandSpec {
  name: string;
  summary: string;
  options: OptionSpec[];
  /** What its --format takes, space-separated; empty without one. */
  formats: string;
}

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Processes worth offering after --pid: Python and the servers that run it. */
const PID_PATTERN = 'python|gunicorn|uwsgi|uvicorn|celery|daphne|hypercorn';

const USAGE = `Usage: hotpath completions SHELL

Prints a completion script for SHELL (${SHELLS.join(', ')}): commands, their options, format names after
--format, pids of Python processes after --pid, files elsewhere.

  bash:  hotpath completions bash > /etc/bash_completion.d/hotpath
         (or: source <(hotpath completions bash) in ~/.bashrc)
  zsh:   hotpath completions zsh > "\${fpath[1]}/_hotpath"
  fish:  hotpath completions fish > ~/.config/fish/completions/hotpath.fish`;

/** `commands` is called when the command runs: it lists every command, this one included. */
export function completionsCommand(commands: () => readonly Command[]): Command {
  return {
    name: 'completions',
    summary: 'print a shell completion script (bash, zsh, fish)',
    usage: USAGE,
    async run(argv) {
      if (argv[0] === '--help' || argv[0] === '-h') {
        console.log(USAGE);
        return 0;
      }
      const shell = argv[0];
      if (argv.length !== 1 || !SHELLS.includes(shell as Shell)) {
        throw new HotpathError('usage', `completions needs one shell: ${SHELLS.join(', ')}`);
      }
      process.stdout.write(renderCompletions(shell as Shell, commands().map(describeCommand)));
      return 0;
    },
  };
}

function describeCommand(command: Command): CommandSpec {
  const formats = (command.formats ?? []).join(' ');
  return { name: command.name, summary: command.summary, options: parseOptions(command.usage), formats };
}

/** Option lines of a usage text: "  -p, --pid PID   what it does" or "      --no-locals   what it does". */
export function parseOptions(usage: string): OptionSpec[] {
  const options: OptionSpec[] = [];
  for (const line of usage.split('\n')) {
    const match = /^\s+(?:-([A-Za-z]), )?--([a-z][a-z0-9-]*)(?:[ =]([A-Z][A-Z0-9_:=]*))?(?:\s+(.*))?$/.exec(line);
    if (!match || options.some((o) => o.long === match[2])) continue;
    options.push({ short: match[1], long: match[2]!, argument: match[3], description: match[4]?.trim() ?? '' });
  }
  options.push({ short: 'h', long: 'help', description: 'print help' });
  return options;
}

function renderCompletions(shell: Shell, commands: readonly CommandSpec[]): string {
  if (shell === 'fish') return renderFish(commands);
  const bash = renderBash(commands);
  return shell === 'zsh' ? `#compdef hotpath\nautoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

function optionWords(options: readonly OptionSpec[]): string {
  return options.flatMap((o) => (o.short ? [`-${o.short}`, `--${o.long}`] : [`--${o.long}`])).join(' ');
}

function renderBash(commands: readonly CommandSpec[]): string {
  const cases = commands
    .map((c) => `    ${c.name}) options="${optionWords(c.options)}" formats="${c.formats}" ;;`)
    .join('\n');
  return `# hotpath completion for bash (hotpath completions bash)
_hotpath() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" options="" formats=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  case "$prev" in
    -p|--pid) COMPREPLY=($(compgen -W "$(pgrep -d ' ' -f '${PID_PATTERN}' 2>/dev/null)" -- "$cur")); return ;;
    -f|--format) COMPREPLY=($(compgen -W "$formats" -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _hotpath hotpath
`;
}

/** A fish string literal. */
const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function renderFish(commands: readonly CommandSpec[]): string {
  const lines = ['# hotpath completion for fish (hotpath completions fish)'];
  for (const c of commands) {
    lines.push(`complete -c hotpath -n __fish_use_subcommand -f -a ${c.name} -d ${fishQuote(c.summary)}`);
    for (const o of c.options) {
      const parts = ['complete -c hotpath', `-n ${fishQuote(`__fish_seen_subcommand_from ${c.name}`)}`];
      if (o.short) parts.push(`-s ${o.short}`);
      parts.push(`-l ${o.long}`);
      if (o.argument) parts.push('-r', fishArguments(o, c));
      if (o.description) parts.push(`-d ${fishQuote(o.description)}`);
      lines.push(parts.join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}

function fishArguments(option: OptionSpec, command: CommandSpec): string {
  if (option.long === 'pid') return `-f -a "(pgrep -f '${PID_PATTERN}')"`;
  if (option.long === 'format') return `-f -a ${fishQuote(command.formats)}`;
  return '-F';
}
