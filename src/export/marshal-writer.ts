// A minimal encoder for Python's marshal format, enough for the dict pstats.Stats loads: int, float, str,
// tuple and dict. marshal has no header and no schema; pstats files are one marshalled dict.

/** A Python float; a plain JS number is written as a Python int (and must be an integer). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Arrays become tuples, Maps become dicts. */
export type PyValue = number | string | PyFloat | readonly PyValue[] | ReadonlyMap<PyValue, PyValue>;

// Type codes from CPython's Python/marshal.c.
const TYPE_NULL = 0x30; // '0', ends a dict
const TYPE_INT = 0x69; // 'i', int32
const TYPE_LONG = 0x6c; // 'l', arbitrary precision in 15-bit digits
const TYPE_BINARY_FLOAT = 0x67; // 'g', IEEE double
const TYPE_UNICODE = 0x75; // 'u', UTF-8
const TYPE_TUPLE = 0x28; // '('
const TYPE_DICT = 0x7b; // '{'

const LONG_DIGIT_BITS = 15n;
const LONG_DIGIT_MASK = (1n << LONG_DIGIT_BITS) - 1n;

export class MarshalWriter {
  private chunks: Buffer[] = [];

  value(value: PyValue): this {
    if (typeof value === 'number') this.int(value);
    else if (typeof value === 'string') this.str(value);
    else if (value instanceof PyFloat) this.float(value.value);
    else if (value instanceof Map) this.dict(value);
    else this.tuple(value as readonly PyValue[]);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private int(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`marshal int must be a safe integer, got ${value}`);
    if (value >= -(2 ** 31) && value < 2 ** 31) {
      this.byte(TYPE_INT);
      this.int32(value);
    } else {
      this.long(BigInt(value));
    }
  }

  /** Sign goes in the digit count; digits are 15-bit, least significant first. */
  private long(value: bigint): void {
    const digits: number[] = [];
    for (let rest = value < 0n ? -value : value; rest > 0n; rest >>= LONG_DIGIT_BITS) {
      digits.push(Number(rest & LONG_DIGIT_MASK));
    }
    this.byte(TYPE_LONG);
    this.int32(value < 0n ? -digits.length : digits.length);
    const body = Buffer.alloc(digits.length * 2);
    digits.forEach((digit, i) => body.writeUInt16LE(digit, i * 2));
    this.chunks.push(body);
  }

  private float(value: number): void {
    this.byte(TYPE_BINARY_FLOAT);
    const body = Buffer.alloc(8);
    body.writeDoubleLE(value);
    this.chunks.push(body);
  }

  private str(value: string): void {
    const body = Buffer.from(value, 'utf8');
    this.byte(TYPE_UNICODE);
    this.int32(body.length);
    this.chunks.push(body);
  }

  private tuple(items: readonly PyValue[]): void {
    this.byte(TYPE_TUPLE);
    this.int32(items.length);
    for (const item of items) this.value(item);
  }

  private dict(entries: ReadonlyMap<PyValue, PyValue>): void {
    this.byte(TYPE_DICT);
    for (const [key, item] of entries) this.value(key).value(item);
    this.byte(TYPE_NULL);
  }

  private byte(value: number): void {
    this.chunks.push(Buffer.of(value));
  }

  private int32(value: number): void {
    const body = Buffer.alloc(4);
    body.writeInt32LE(value);
    this.chunks.push(body);
  }
}
