// Command-line parsing for commands that take profile files (report, diff): options plus positional file
// names, taken as they are (a file may be called "1234"), with parse errors as usage errors.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HotpathError } from '../errors/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFileArguments<T>(argv: readonly string[], options: Options): { values: T; files: string[] } {
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: parsed.values as T, files: parsed.positionals };
  } catch (err) {
    throw new HotpathError('usage', (err as Error).message.split('\n')[0]!);
  }
}
