// A minimal protocol-buffers encoder for writing pprof's profile.proto: varints, length-delimited fields
// (strings, nested messages) and packed repeated varints. Only what the exporters need; no schema, no reader.
// Everything goes into one growing byte buffer, so a million fields cost no per-field allocation.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const INITIAL_CAPACITY = 64;
const SHORT_COPY = 64;

/** Bytes the varint encoding of a non-negative safe integer takes. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** Accumulates one message. A nested message is either a separate writer whose bytes are embedded, or written in
 * place after `lengthDelimited(field, length)` when its length is known beforehand. */
export class ProtobufWriter {
  private buffer = new Uint8Array(INITIAL_CAPACITY);
  private length = 0;

  /** A varint field; zero is skipped, as proto3 does for defaults. Negative int64s take ten bytes. */
  varint(field: number, value: number | bigint): this {
    if (value === 0 || value === 0n) return this;
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, Buffer.from(text, 'utf8'));
  }

  /** A string field written even when empty: the string table needs "" at index 0. */
  stringAlways(field: number, text: string): this {
    return this.bytesAlways(field, Buffer.from(text, 'utf8'));
  }

  bytes(field: number, data: Uint8Array): this {
    if (data.length === 0) return this;
    return this.bytesAlways(field, data);
  }

  message(field: number, nested: ProtobufWriter): this {
    return this.bytesAlways(field, nested.view());
  }

  /** A packed repeated varint field (pprof's location ids and sample values). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const body = new ProtobufWriter();
    for (const value of values) body.rawVarint(value);
    return this.message(field, body);
  }

  /** The header of a length-delimited field whose `length` bytes the caller writes next (rawVarint, raw). */
  lengthDelimited(field: number, length: number): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(length);
    return this;
  }

  /** Bytes copied as they are: pre-encoded fields, or the body announced by lengthDelimited. */
  raw(data: Uint8Array): this {
    this.reserve(data.length);
    // A byte loop beats set() on the few bytes of a label or an id list; set() wins on long ones.
    if (data.length < SHORT_COPY) for (let i = 0; i < data.length; i++) this.buffer[this.length + i] = data[i]!;
    else this.buffer.set(data, this.length);
    this.length += data.length;
    return this;
  }

  /** A varint without a tag, inside a packed field or a length-delimited body. */
  rawVarint(value: number | bigint): this {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) this.smallVarint(value);
    else this.bigVarint(BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  /** The bytes written so far, without copying; valid until the next write. */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  finish(): Buffer {
    return Buffer.from(this.buffer.buffer, this.buffer.byteOffset, this.length);
  }

  private bytesAlways(field: number, data: Uint8Array): this {
    return this.lengthDelimited(field, data.length).raw(data);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** Non-negative safe integers, without BigInt (the common case: ids, counts, string indices). */
  private smallVarint(value: number): void {
    this.reserve(10);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  private bigVarint(value: bigint): void {
    this.reserve(10);
    let rest = value;
    while (rest >= 0x80n) {
      this.buffer[this.length++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buffer[this.length++] = Number(rest);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.view());
    this.buffer = grown;
  }
}
