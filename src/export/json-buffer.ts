// Serializes large JSON documents (traces, speedscope and Firefox Profiler files of long recordings) into a
// Buffer piece by piece: JSON.stringify of the whole value fails past V8's ~512 MiB string limit.

/** Values with fewer nested entries than this are stringified in one call; larger ones entry by entry. */
const WHOLE_LIMIT = 4096;
const CHUNK_CHARS = 1 << 20;

export function encodeJsonBuffer(value: unknown): Buffer {
  const out = new ChunkedOutput();
  writeValue(out, value);
  return out.finish();
}

class ChunkedOutput {
  private chunks: Buffer[] = [];
  private pending: string[] = [];
  private pendingChars = 0;

  write(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private flush(): void {
    this.chunks.push(Buffer.from(this.pending.join(''), 'utf8'));
    this.pending = [];
    this.pendingChars = 0;
  }
}

/** Same output as JSON.stringify for the plain data exporters build (no toJSON, no undefined in arrays). */
function writeValue(out: ChunkedOutput, value: unknown): void {
  if (typeof value !== 'object' || value === null || countEntries(value, WHOLE_LIMIT) < WHOLE_LIMIT) {
    out.write(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    out.write('[');
    value.forEach((item, i) => {
      if (i > 0) out.write(',');
      writeValue(out, item ?? null);
    });
    out.write(']');
  } else {
    out.write('{');
    let first = true;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out.write(`${first ? '' : ','}${JSON.stringify(key)}:`);
      writeValue(out, item);
      first = false;
    }
    out.write('}');
  }
}

/** Values inside `value`, nested ones included, counting stops once it reaches `limit`. */
function countEntries(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 1;
  let count = 1;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    count += countEntries(item, limit - count);
    if (count >= limit) break;
  }
  return count;
}
