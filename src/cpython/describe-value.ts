// A short, repr-like text for an object in the target, for `dump --locals`: the value of str, int,
// float, bool and None; `<TypeName at 0x...>` for anything else. Never longer than `maxChars`.

import type { ObjectReader } from './object-reader.js';

export const DESCRIBED_VALUE_CHARS = 100;

export function describeValue(objects: ObjectReader, address: number, maxChars = DESCRIBED_VALUE_CHARS): string {
  let text: string;
  try {
    text = describeKnownValue(objects, address);
  } catch {
    text = `<unreadable at 0x${address.toString(16)}>`;
  }
  return text.length > maxChars ? `${text.slice(0, maxChars - 3)}...` : text;
}

function describeKnownValue(objects: ObjectReader, address: number): string {
  const type = objects.typeName(address);
  switch (type) {
    case 'str':
      return quote(objects.readStr(address, DESCRIBED_VALUE_CHARS * 2));
    case 'int':
      try {
        return String(objects.readInt(address));
      } catch {
        return '<int (large)>';
      }
    case 'bool':
      return objects.readInt(address) ? 'True' : 'False';
    case 'float':
      return formatFloat(objects.readFloat(address));
    case 'NoneType':
      return 'None';
    default:
      return `<${type} at 0x${address.toString(16)}>`;
  }
}

/** Python's repr quoting: single quotes unless the text contains one and no double quote. */
function quote(text: string): string {
  const useDouble = text.includes("'") && !text.includes('"');
  const mark = useDouble ? '"' : "'";
  const escaped = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return mark + (useDouble ? escaped : escaped.replace(/'/g, "\\'")) + mark;
}

function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? value.toFixed(1) : String(value);
}
