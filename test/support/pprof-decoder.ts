// A tiny reader of pprof's profile.proto for tests: splits messages into fields, and decodes a whole (gzipped or
// plain) profile into its string table, functions and samples with their frames and labels resolved.
import { gunzipSync } from 'node:zlib';

export type Fields = Map<number, (bigint | Buffer)[]>;

/** Splits one message into fields: varints as bigint, length-delimited as bytes (packed or nested, caller decides). */
export function decodeMessage(bytes: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[offset++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (offset < bytes.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    let value: bigint | Buffer;
    if ((tag & 7) === 0) value = varint();
    else if ((tag & 7) === 2) {
      const length = Number(varint());
      value = bytes.subarray(offset, offset + length);
      offset += length;
    } else throw new Error(`unexpected wire type ${tag & 7}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

/** A packed repeated varint field. */
export function packed(bytes: Buffer | undefined): number[] {
  if (!bytes) return [];
  const values: number[] = [];
  let value = 0;
  let scale = 1;
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) {
      values.push(value);
      value = 0;
      scale = 1;
    }
  }
  return values;
}

/** The first value of a varint field, 0 when absent (proto3 leaves defaults out). */
export const num = (fields: Fields, field: number): number =>
  Number((fields.get(field)?.[0] as bigint | undefined) ?? 0n);

export const messages = (fields: Fields, field: number): Fields[] =>
  (fields.get(field) ?? []).map((b) => decodeMessage(b as Buffer));

export interface PprofFrame {
  name: string;
  file: string;
  line: number;
}

export interface PprofSample {
  /** Leaf first, as pprof stores them. */
  frames: PprofFrame[];
  values: number[];
  /** String labels as text, numeric ones as numbers. */
  labels: Record<string, string | number>;
}

export interface DecodedPprof {
  root: Fields;
  strings: string[];
  sampleTypes: string[];
  samples: PprofSample[];
  timeNanos: bigint;
  durationNanos: number;
  periodNanos: number;
}

/** Decodes a profile.proto, gunzipping it first when it starts with gzip's magic bytes. */
export function decodePprof(data: Buffer): DecodedPprof {
  const root = decodeMessage(data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data);
  const strings = (root.get(6) ?? []).map((b) => (b as Buffer).toString('utf8'));
  const functions = new Map(messages(root, 5).map((f) => [num(f, 1), f]));
  const locations = new Map(messages(root, 4).map((l) => [num(l, 1), messages(l, 4)[0]!]));
  const frameOf = (locationId: number): PprofFrame => {
    const line = locations.get(locationId)!;
    const func = functions.get(num(line, 1))!;
    return { name: strings[num(func, 2)]!, file: strings[num(func, 4)]!, line: num(line, 2) };
  };
  const samples = messages(root, 2).map((s) => ({
    frames: packed(s.get(1)?.[0] as Buffer).map(frameOf),
    values: packed(s.get(2)?.[0] as Buffer),
    labels: Object.fromEntries(
      messages(s, 3).map((l) => [strings[num(l, 1)]!, l.has(2) ? strings[num(l, 2)]! : num(l, 3)]),
    ) as Record<string, string | number>,
  }));
  return {
    root,
    strings,
    sampleTypes: messages(root, 1).map((t) => `${strings[num(t, 1)]}/${strings[num(t, 2)]}`),
    samples,
    timeNanos: (root.get(9)?.[0] as bigint | undefined) ?? 0n,
    durationNanos: num(root, 10),
    periodNanos: num(root, 12),
  };
}
