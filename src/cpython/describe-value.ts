// The text `dump --locals` shows for an object in the target, as py-spy shows it: str in double quotes, ints
// exactly, floats, bool, None, and the contents of lists, tuples and dicts cut to a length budget with "...";
// `<TypeName at 0x...>` for anything else. Reads are bounded by the budget (items and nesting cost characters);
// a part that cannot be read is shown by its type and address, never thrown.

import type { ObjectReader, ObjectType } from './object-reader.js';

/** py-spy's budget for one local's text (`--locals` given once). */
export const DESCRIBED_VALUE_CHARS = 128;
/** With this many characters left or fewer, a value or the rest of a container is "...". */
const EXHAUSTED_BUDGET = 5;
/** The cheapest item a list or tuple shows: one character and its ", ". */
const MIN_ITEM_CHARS = 3;
/** The cheapest dict item: a one-character key and value, ": " and ", ". */
const MIN_DICT_ITEM_CHARS = 6;
/** Entry slots read per dict item that could be shown: room for a few deleted entries among them. */
const DICT_SLOTS_PER_ITEM = 2;
const ELLIPSIS = '...';

export function describeValue(objects: ObjectReader, address: number, maxChars = DESCRIBED_VALUE_CHARS): string {
  return describe(objects, address, maxChars);
}

/**
 * Every level of nesting costs at least its 2 brackets, so the budget also bounds the depth (about 60 levels of
 * 128 characters) and with it the objects read: at most the budget per level.
 */
function describe(objects: ObjectReader, address: number, budget: number): string {
  if (budget <= EXHAUSTED_BUDGET) return ELLIPSIS;
  const hex = address.toString(16);
  let type: ObjectType;
  try {
    type = objects.typeOf(address);
  } catch {
    return `<unreadable at 0x${hex}>`;
  }
  try {
    return describeKnown(objects, address, type, budget);
  } catch {
    return `<${type.name} at 0x${hex}>`;
  }
}

function describeKnown(objects: ObjectReader, address: number, { name, kind }: ObjectType, budget: number): string {
  switch (kind) {
    case 'int':
      return describeInt(objects, address, name === 'bool');
    case 'str':
      return describeStr(objects, address, budget);
    case 'dict':
      return describeDict(objects, address, budget);
    case 'list':
    case 'tuple':
      return describeSequence(objects, address, kind, budget);
  }
  if (name === 'float') return formatFloat(objects.readFloat(address));
  if (name === 'NoneType') return 'None';
  return `<${name} at 0x${address.toString(16)}>`;
}

/** Exact up to 420 bits (127 digits, which the budget can show); bigger ones as py-spy names them. */
function describeInt(objects: ObjectReader, address: number, isBool: boolean): string {
  const { value, negative } = objects.readLong(address);
  if (isBool) return value ? 'True' : 'False';
  if (value === undefined) return negative ? '-bigint' : '+bigint';
  return value.toString();
}

/** Double-quoted as py-spy writes them; longer than the budget allows: cut, with "..." inside the quotes. */
function describeStr(objects: ObjectReader, address: number, budget: number): string {
  const { text, length } = objects.readStrPrefix(address, budget);
  const room = budget - EXHAUSTED_BUDGET;
  let shown = '';
  let shownChars = 0;
  let read = 0;
  for (const character of text) {
    const escaped = escapeCharacter(character);
    if (shownChars + escaped.length > room) return `"${shown}${ELLIPSIS}"`;
    shown += escaped;
    shownChars += escaped.length;
    read++;
  }
  return read === length ? `"${shown}"` : `"${shown}${ELLIPSIS}"`;
}

/** Escapes that keep a value on one line and its quotes unambiguous. */
function escapeCharacter(character: string): string {
  switch (character) {
    case '\\':
      return '\\\\';
    case '"':
      return '\\"';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
  }
  const code = character.codePointAt(0)!;
  return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : character;
}

function describeSequence(objects: ObjectReader, address: number, kind: 'list' | 'tuple', budget: number): string {
  const { size, items } = objects.readSequencePrefix(address, Math.ceil(budget / MIN_ITEM_CHARS) + 1);
  const texts = joinWithinBudget(
    items.map((item) => (left: number) => [describe(objects, item, left)]),
    size > items.length,
    budget - 2,
  );
  if (kind === 'list') return `[${texts}]`;
  return size === 1 && items.length === 1 ? `(${texts},)` : `(${texts})`;
}

function describeDict(objects: ObjectReader, address: number, budget: number): string {
  const maxItems = Math.ceil(budget / MIN_DICT_ITEM_CHARS) + 1;
  const { items, more } = objects.readDictPrefix(address, maxItems * DICT_SLOTS_PER_ITEM);
  const texts = joinWithinBudget(
    items.map(({ key, value }) => (left: number) => [describe(objects, key, left), describe(objects, value, left)]),
    more,
    budget - 2,
  );
  return `{${texts}}`;
}

/**
 * py-spy's budget rule: each item is described with what is left, then costs its UTF-8 length plus its
 * separators (", ", and ": " between a key and its value); once 5 characters or fewer would be left, that item
 * becomes "..." and the rest are dropped. Items not read at all (`more`) also end in "...".
 */
function joinWithinBudget(items: ((left: number) => string[])[], more: boolean, budget: number): string {
  const shown: string[] = [];
  let left = budget;
  for (const describeItem of items) {
    const parts = describeItem(left);
    left -= parts.reduce((sum, part) => sum + Buffer.byteLength(part) + 2, 0);
    if (left <= EXHAUSTED_BUDGET) return [...shown, ELLIPSIS].join(', ');
    shown.push(parts.join(': '));
  }
  return (more ? [...shown, ELLIPSIS] : shown).join(', ');
}

/** Python's repr of a float: the shortest digits that read back the same, exponent below 1e-4 and from 1e16. */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const exponentSign = exponent < 0 ? '-' : '+';
    return `${sign}${digits[0]}${fraction}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}
