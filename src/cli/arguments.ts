// Shared command-line parsing: node's parseArgs with py-spy's option names, plus the conventions
// py-spy users rely on (`--pid $(pgrep -f gunicorn)` expanding to several pids, `-- python app.py`).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HotpathError } from '../errors/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommandLine<T> {
  values: T;
  /** Numeric positionals, taken as more pids (what `--pid $(pgrep ...)` expands to). */
  extraPids: number[];
  /** The command after `--` (or the first non-numeric positional onward) to launch and profile. */
  command: string[];
}

export function parseCommandLine<T>(argv: readonly string[], options: Options): ParsedCommandLine<T> {
  const separator = argv.indexOf('--');
  const own = separator >= 0 ? argv.slice(0, separator) : [...argv];
  let command = separator >= 0 ? argv.slice(separator + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new HotpathError('usage', (err as Error).message.split('\n')[0]!);
  }
  const extraPids: number[] = [];
  const positionals = [...parsed.positionals];
  while (positionals.length > 0 && /^\d+$/.test(positionals[0]!)) extraPids.push(Number(positionals.shift()));
  if (positionals.length > 0) command = [...positionals, ...command];
  return { values: parsed.values as T, extraPids, command };
}

/** A pid in decimal, or in hex with 0x (py-spy takes both). */
export function parsePid(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  if (!/^(\d+|0x[0-9a-f]+)$/i.test(text.trim()) || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new HotpathError('usage', `--pid takes a process id, not "${text}"`);
  }
  return pid;
}

export function parsePositiveNumber(name: string, text: string | undefined, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new HotpathError('usage', `${name} takes a positive number, not "${text}"`);
  return value;
}

/** The pids a command should attach to: --pid plus any extra numeric arguments, without repeats. */
export function collectPids(pid: string | undefined, extraPids: readonly number[]): number[] {
  const first = parsePid(pid);
  return [...new Set([...(first !== undefined ? [first] : []), ...extraPids])];
}

/** --endpoint's regular expression over endpoint labels ("GET /users/{id}"). */
export function parseEndpointPattern(text: string | undefined): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (err) {
    throw new HotpathError('usage', `--endpoint takes a regular expression: ${(err as Error).message}`);
  }
}
