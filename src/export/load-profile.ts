// Loads a profile file (or stdin, named `-`) for `convert`, `diff` and `report`, whatever hotpath format it is in:
// the first bytes tell a saved hotpath profile (gzip), speedscope JSON and collapsed stacks (text) apart.

import fs from 'node:fs';
import { HotpathError } from '../errors/index.js';
import type { Profile } from '../profile/index.js';
import { importCollapsed } from './collapsed-import.js';
import { importHotpathProfile } from './hotpath-profile.js';
import { InputChecker } from './input-checks.js';
import { SPEEDSCOPE_SCHEMA } from './speedscope.js';
import { importSpeedscope } from './speedscope-import.js';

/** Larger files are refused up front: Node cannot hold them in one buffer anyway. */
export const MAX_PROFILE_FILE_BYTES = 1024 * 1024 * 1024;

const READABLE = 'hotpath reads back its own saved profiles (.hotpath), speedscope JSON and collapsed stacks';

export function loadProfile(path: string): Profile {
  const data = path === '-' ? readStdin() : readProfileFile(path);
  try {
    return importProfileData(data);
  } catch (error) {
    const name = path === '-' ? 'stdin' : path;
    if (error instanceof HotpathError) throw new HotpathError(error.kind, `${name}: ${error.message}`, error.hint);
    throw error;
  }
}

/** Sniffs the format of a profile file's bytes and imports it. */
export function importProfileData(data: Buffer): Profile {
  if (data.length === 0) throw unreadable('the file is empty');
  if (data[0] === 0x1f && data[1] === 0x8b) return importHotpathProfile(data);
  if (data.subarray(0, 4096).includes(0)) {
    throw unreadable('it is a binary file hotpath does not know (pprof and pstats files cannot be read back)');
  }
  const text = data.toString('utf8').replace(/^\uFEFF/, '');
  return /^\s*[[{]/.test(text) ? importJsonProfile(text) : importCollapsed(text);
}

function importJsonProfile(text: string): Profile {
  const parsed = new InputChecker('JSON profile').parseJson(text);
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    (parsed as { $schema?: unknown }).$schema === SPEEDSCOPE_SCHEMA
  ) {
    return importSpeedscope(parsed);
  }
  throw unreadable(
    'it is JSON but not a speedscope file (Chrome trace and Firefox Profiler files cannot be read back)',
  );
}

function unreadable(reason: string): HotpathError {
  return new HotpathError('bad-input-file', `cannot read this profile: ${reason}`, READABLE);
}

/** Everything piped in, as flamegraph.pl reads it (`cat stacks.txt | hotpath convert - -o out.svg`). */
function readStdin(): Buffer {
  try {
    return fs.readFileSync(0);
  } catch (error) {
    throw new HotpathError('io', `cannot read stdin: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function readProfileFile(path: string): Buffer {
  try {
    const size = fs.statSync(path).size;
    if (size > MAX_PROFILE_FILE_BYTES) {
      throw new HotpathError(
        'bad-input-file',
        `${path} is ${size} bytes, more than the ${MAX_PROFILE_FILE_BYTES} hotpath loads`,
      );
    }
    return fs.readFileSync(path);
  } catch (error) {
    if (error instanceof HotpathError) throw error;
    throw new HotpathError('io', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
