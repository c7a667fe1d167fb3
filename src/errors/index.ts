// Typed errors shared by every layer. Each kind maps to one exit code in cli/exit-codes.ts,
// so a user (or a script) can tell "no such process" from "permission denied" without parsing text.

export type ErrorKind =
  | 'usage'
  | 'no-such-process'
  | 'not-python'
  | 'unsupported-version'
  | 'permission-denied'
  | 'target-exited'
  | 'runtime-not-found'
  | 'io'
  | 'bad-input-file'
  | 'not-supported'
  | 'interrupted';

export class HotpathError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HotpathError';
  }
}

/** A read of target memory that did not return what was asked (unmapped, torn, process gone). */
export class MemoryReadError extends Error {
  constructor(
    readonly address: number,
    readonly length: number,
    readonly code: string,
  ) {
    super(`cannot read ${length} bytes at 0x${address.toString(16)} (${code})`);
    this.name = 'MemoryReadError';
  }
}

/** Decoded data that fails a sanity check: a torn read or a layout mismatch. Never shown as a frame. */
export class InvalidDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDataError';
  }
}
