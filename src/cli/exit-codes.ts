// Every exit code hotpath uses, in one table: scripts can tell failures apart without parsing text.
// docs/exit-codes.md is checked against this table by a test.

import type { ErrorKind } from '../errors/index.js';

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;

export const EXIT_CODES: Record<ErrorKind, { code: number; meaning: string }> = {
  usage: { code: 2, meaning: 'bad command line (unknown option, missing --pid, bad value)' },
  'no-such-process': { code: 3, meaning: 'no process has the given pid' },
  'not-python': { code: 4, meaning: 'the process is not running Python' },
  'unsupported-version': { code: 5, meaning: 'the Python version or build is not supported' },
  'permission-denied': { code: 6, meaning: "not allowed to read the process's memory (see the hint printed)" },
  'runtime-not-found': { code: 7, meaning: "Python's runtime state could not be located in the process" },
  'target-exited': { code: 8, meaning: 'the target exited while attached; what was sampled has been written' },
  io: { code: 9, meaning: 'the output could not be written' },
  'bad-input-file': { code: 10, meaning: 'an input profile is malformed, truncated or of an unknown format' },
  'not-supported': { code: 11, meaning: 'the option is not supported (yet), e.g. --native' },
  interrupted: { code: 130, meaning: 'interrupted before anything could be written' },
};

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT_CODES[kind].code;
}
