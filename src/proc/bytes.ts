// Little helpers to pull fixed-width integers out of a Buffer as plain numbers.
// User-space addresses on x86-64/arm64 fit in 48 bits, so a JS number holds them exactly.

const TWO_32 = 0x1_0000_0000;

/** Unsigned 64-bit little-endian value; exact for anything below 2^53 (all user addresses). */
export function u64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32;
}

/** Signed 64-bit value (Py_ssize_t), exact within ±2^53. */
export function i64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readInt32LE(offset + 4) * TWO_32;
}

export function u32(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset);
}

export function i32(buf: Buffer, offset: number): number {
  return buf.readInt32LE(offset);
}

export function u16(buf: Buffer, offset: number): number {
  return buf.readUInt16LE(offset);
}

export function u8(buf: Buffer, offset: number): number {
  return buf.readUInt8(offset);
}

/** A NUL-terminated string starting at offset (latin1, as C strings are bytes). */
export function cString(buf: Buffer, offset = 0): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end < 0 ? buf.length : end);
}

/** The largest address a user-space pointer can hold on the 48-bit address spaces we support. */
export const MAX_USER_ADDRESS = 2 ** 48;

export function isPlausiblePointer(value: number): boolean {
  return value >= 0x1000 && value < MAX_USER_ADDRESS && value % 8 === 0;
}
