// Shape checks for profile files read back from disk: each failure is a HotpathError('bad-input-file') that
// names the file format and the offending field, so a malformed file never surfaces as a TypeError later.

import { HotpathError } from '../errors/index.js';

export class InputChecker {
  constructor(private readonly format: string) {}

  fail(message: string): never {
    throw new HotpathError('bad-input-file', `not a valid ${this.format} file: ${message}`);
  }

  object(value: unknown, what: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(`${what} is not an object`);
    return value as Record<string, unknown>;
  }

  array(value: unknown, what: string): unknown[] {
    if (!Array.isArray(value)) this.fail(`${what} is not an array`);
    return value;
  }

  string(value: unknown, what: string): string {
    if (typeof value !== 'string') this.fail(`${what} is not a string`);
    return value;
  }

  number(value: unknown, what: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(`${what} is not a finite number`);
    return value;
  }

  /** An integer in [min, max): ids into tables, counts, line numbers. */
  integer(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value >= max) {
      this.fail(`${what} is ${JSON.stringify(value)}, expected an integer in [${min}, ${max})`);
    }
    return value;
  }

  optionalString(value: unknown, what: string, fallback = ''): string {
    return value === undefined || value === null ? fallback : this.string(value, what);
  }

  optionalInteger(value: unknown, what: string, fallback = 0): number {
    return value === undefined || value === null ? fallback : this.integer(value, what, Number.MIN_SAFE_INTEGER);
  }

  parseJson(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      return this.fail(`JSON does not parse (${(error as Error).message})`);
    }
  }
}
