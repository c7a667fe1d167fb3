// A minimal protocol-buffers encoder for writing pprof's profile.proto: varints, length-delimited fields
// (strings, nested messages) and packed repeated varints. Only what the exporters need; no schema, no reader.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/** Accumulates one message; nested messages are separate writers whose bytes are embedded. */
export class ProtobufWriter {
  private chunks: Uint8Array[] = [];
  private pending: number[] = [];

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
    return this.bytesAlways(field, nested.finish());
  }

  /** A packed repeated varint field (pprof's location ids and sample values). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const body = new ProtobufWriter();
    for (const value of values) body.rawVarint(value);
    return this.bytesAlways(field, body.finish());
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private bytesAlways(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(data.length);
    this.flush();
    this.chunks.push(data);
    return this;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number | bigint): void {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      this.smallVarint(value);
      return;
    }
    this.bigVarint(BigInt.asUintN(64, BigInt(value)));
  }

  /** Non-negative safe integers, without BigInt (the common case: ids, counts, string indices). */
  private smallVarint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.pending.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.pending.push(rest);
  }

  private bigVarint(value: bigint): void {
    let rest = value;
    while (rest >= 0x80n) {
      this.pending.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.pending.push(Number(rest));
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.pending = [];
  }
}
