// Encodes numeric columns for the HTML pages: each value in the narrowest of 1, 2 or 4 little-endian bytes,
// base64. A million samples then cost a few megabytes instead of tens, and decode in milliseconds.

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
    largest = Math.max(largest, value);
  }
  const width = largest <= 0xff ? 1 : largest <= 0xffff ? 2 : 4;
  const bytes = Buffer.alloc(values.length * width);
  for (let i = 0; i < values.length; i++) bytes.writeUIntLE(values[i]!, i * width, width);
  return { width, length: values.length, base64: bytes.toString('base64') };
}
