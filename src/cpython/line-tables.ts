// Pure decoders for CPython's instruction → line tables: 3.9's co_lnotab, 3.10's co_linetable and
// the PEP 657 location table of 3.11+. Each takes the table bytes, the first line and an address.

/** 3.9 co_lnotab: (address delta, signed line delta) pairs; `byteOffset` is f_lasti. */
export function decodeLnotabLine(table: Buffer, firstLine: number, byteOffset: number): number {
  let line = firstLine;
  let address = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    address += table[i]!;
    if (address > byteOffset) break;
    line += (table[i + 1]! << 24) >> 24;
  }
  return line;
}

/** 3.10 co_linetable: (byte delta, signed line delta) pairs; -128 marks a range with no line. */
export function decodeLinetable310Line(table: Buffer, firstLine: number, byteOffset: number): number {
  let line = firstLine;
  let end = 0;
  for (let i = 0; i + 1 < table.length; i += 2) {
    const start = end;
    end += table[i]!;
    const delta = (table[i + 1]! << 24) >> 24;
    if (delta !== -128) line += delta;
    if (byteOffset >= start && byteOffset < end) return delta === -128 ? -1 : line;
  }
  return -1;
}

/** 3.11+ location table: varint-coded entries, each covering 1–8 code units (2-byte instructions). */
export function decodeLocationTableLine(table: Buffer, firstLine: number, codeUnit: number): number {
  let line = firstLine;
  let address = 0;
  let at = 0;
  const readVarint = (): number => {
    let byte = table[at++] ?? 0;
    let value = byte & 63;
    let shift = 0;
    while (byte & 64 && at < table.length && shift < 30) {
      byte = table[at++]!;
      shift += 6;
      value += (byte & 63) * 2 ** shift;
    }
    return value;
  };
  const readSignedVarint = (): number => {
    const value = readVarint();
    return value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2);
  };
  while (at < table.length) {
    const header = table[at++]!;
    if ((header & 0x80) === 0) return -1; // not an entry start: a corrupt or misread table
    const code = (header >> 3) & 15;
    const length = (header & 7) + 1;
    let entryLine = line;
    if (code === 15) {
      entryLine = -1;
    } else if (code === 14) {
      line += readSignedVarint();
      entryLine = line;
      readVarint(); // end line delta
      readVarint(); // column
      readVarint(); // end column
    } else if (code === 13) {
      line += readSignedVarint();
      entryLine = line;
    } else if (code >= 10) {
      line += code - 10;
      entryLine = line;
      at += 2; // column, end column
    } else {
      at += 1; // short form: column bits
    }
    if (codeUnit >= address && codeUnit < address + length) return entryLine;
    address += length;
  }
  return -1;
}
