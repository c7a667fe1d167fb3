// Encodes numeric columns for the HTML pages: each value in the narrowest of 1, 2 or 4 little-endian bytes,
// base64. A million samples then cost a few megabytes instead of tens, and decode in milliseconds.

import { endianness } from 'node:os';
import type { EncodedColumn } from './html-client/page-data.js';

/** The client decodes into Int32Array. */
const MAX_ENCODED = 0x7fffffff;

export function encodeColumn(values: ArrayLike<number>): EncodedColumn {
  let largest = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isInteger(value) || value < 0 || value > MAX_ENCODED) {
      throw new RangeError(`column value ${value} at ${i} is not an integer in 0..2^31-1`);
    }
    if (value > largest) largest = value;
  }
  const width = largest <= 0xff ? 1 : largest <= 0xffff ? 2 : 4;
  const typed =
    width === 1
      ? new Uint8Array(values.length)
      : width === 2
        ? new Uint16Array(values.length)
        : new Uint32Array(values.length);
  typed.set(values as ArrayLike<number>);
  const bytes = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  if (endianness() === 'BE') {
    if (width === 2) bytes.swap16();
    if (width === 4) bytes.swap32();
  }
  return { width, length: values.length, base64: bytes.toString('base64') };
}
