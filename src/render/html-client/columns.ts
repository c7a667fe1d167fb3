// Decodes the numeric columns an HTML page embeds (see page-columns.ts for the encoding).

import type { EncodedColumn } from './page-data.js';

export function decodeColumn(column: EncodedColumn): Int32Array {
  const text = atob(column.base64);
  const values = new Int32Array(column.length);
  const { width } = column;
  for (let i = 0, at = 0; i < column.length; i++, at += width) {
    let value = 0;
    for (let byte = width - 1; byte >= 0; byte--) value = value * 256 + text.charCodeAt(at + byte);
    values[i] = value;
  }
  return values;
}
