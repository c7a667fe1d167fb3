// Serializes large JSON documents (traces, speedscope and Firefox Profiler files of long recordings) into a
// Buffer. One JSON.stringify call is the fastest way there, but its result must fit in one string (V8's limit is
// about 512 MiB): a value too large for that is split (an object by key, an array into halves) until pieces fit.

export interface JsonBufferOptions {
  /** Pieces longer than this are split like those over V8's string limit (tests use it to exercise splitting). */
  maxPieceChars?: number;
}

/** Short texts are gathered into one string before encoding: one Buffer per many keys, commas and brackets. */
const SHORT_TEXT = 1 << 16;
/** Numbers joined into one text at a time, and the characters `list` gathers before joining. */
const NUMBER_BLOCK = 16_384;
const LIST_BLOCK_CHARS = 1 << 20;

export function encodeJsonBuffer(value: unknown, options: JsonBufferOptions = {}): Buffer {
  const out = new JsonChunks(options.maxPieceChars);
  out.value(value);
  return out.finish();
}

/** JSON text gathered as UTF-8 Buffers and joined once; exporters that write their own text use `write`. */
export class JsonChunks {
  private chunks: Buffer[] = [];
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(private readonly maxPieceChars = Infinity) {}

  /** Text that is already JSON. */
  write(text: string): void {
    if (text.length >= SHORT_TEXT) {
      this.flushPending();
      this.chunks.push(Buffer.from(text, 'utf8'));
      return;
    }
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= SHORT_TEXT) this.flushPending();
  }

  /** Same output as JSON.stringify for the plain data exporters build (no toJSON, no undefined in arrays). */
  value(value: unknown): void {
    const text = this.stringify(value);
    if (text !== undefined) this.write(text);
    else if (Array.isArray(value)) {
      this.write('[');
      this.halves(value, 0, value.length);
      this.write(']');
    } else this.properties(value as Record<string, unknown>);
  }

  /** A JSON array of the first `length` integers; with `negativeIsNull`, negative ones are written as null. */
  integers(values: Int32Array, length: number, negativeIsNull = false): void {
    this.write('[');
    for (let start = 0; start < length; start += NUMBER_BLOCK) {
      // Concatenation beats a typed array's join (and JSON.stringify) on integers, and writes the nulls on the way.
      let text = start > 0 ? ',' : '';
      for (let i = start, end = Math.min(length, start + NUMBER_BLOCK); i < end; i++) {
        const value = values[i]!;
        const json = negativeIsNull && value < 0 ? 'null' : String(value);
        text += i > start ? `,${json}` : json;
      }
      this.write(text);
    }
    this.write(']');
  }

  /** A JSON array of the first `length` numbers of any kind (finite: the exporters write no others). */
  floats(values: Float64Array, length: number): void {
    this.write('[');
    for (let start = 0; start < length; start += NUMBER_BLOCK) {
      const text = JSON.stringify(Array.from(values.subarray(start, Math.min(length, start + NUMBER_BLOCK))));
      this.write(start > 0 ? `,${text.slice(1, -1)}` : text.slice(1, -1));
    }
    this.write(']');
  }

  /** A JSON array of `count` copies of one JSON text (a constant column). */
  repeated(json: string, count: number): void {
    this.write('[');
    const block = `${json},`.repeat(NUMBER_BLOCK);
    for (let left = count; left > 0; left -= NUMBER_BLOCK) {
      const text = left > NUMBER_BLOCK ? block : `${json},`.repeat(left - 1) + json;
      this.write(text);
    }
    this.write(']');
  }

  /** A JSON array of `count` items, each the JSON text `item(i)`, concatenated a block at a time. */
  list(count: number, item: (i: number) => string): void {
    this.write('[');
    let text = '';
    for (let i = 0; i < count; i++) {
      text += i > 0 ? `,${item(i)}` : item(i);
      if (text.length >= LIST_BLOCK_CHARS) {
        this.write(text);
        text = '';
      }
    }
    this.write(text);
    this.write(']');
  }

  finish(): Buffer {
    this.flushPending();
    return Buffer.concat(this.chunks);
  }

  /** JSON.stringify's text, or undefined when an object or array is too long for one piece. */
  private stringify(value: unknown): string | undefined {
    const splittable = typeof value === 'object' && value !== null;
    try {
      const text = JSON.stringify(value);
      return text.length <= this.maxPieceChars || !splittable ? text : undefined;
    } catch (error) {
      if (splittable && error instanceof RangeError && /string length/i.test(error.message)) return undefined;
      throw error;
    }
  }

  /** Items [start, end) of an array known too long for one piece, without brackets: each half tried on its own. */
  private halves(items: readonly unknown[], start: number, end: number): void {
    if (end - start === 1) {
      this.value(items[start] ?? null);
      return;
    }
    const middle = start + Math.floor((end - start) / 2);
    this.items(items, start, middle);
    this.write(',');
    this.items(items, middle, end);
  }

  private items(items: readonly unknown[], start: number, end: number): void {
    if (end - start === 1) {
      this.value(items[start] ?? null);
      return;
    }
    const text = this.stringify(items.slice(start, end));
    if (text !== undefined) this.write(text.slice(1, -1));
    else this.halves(items, start, end);
  }

  private properties(value: Record<string, unknown>): void {
    this.write('{');
    let first = true;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      this.write(`${first ? '' : ','}${JSON.stringify(key)}:`);
      this.value(item);
      first = false;
    }
    this.write('}');
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Buffer.from(this.pending.join(''), 'utf8'));
    this.pending = [];
    this.pendingChars = 0;
  }
}
