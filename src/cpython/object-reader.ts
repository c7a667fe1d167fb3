// Reads Python objects of one process by what they are: type names, str, ints, lists, tuples, dicts keyed by
// str, and instance attributes (tp_dictoffset before 3.11, managed dicts and inline values after). Type facts
// are cached per type address; everything else is read fresh, since objects change under us.

import { InvalidDataError } from '../errors/index.js';
import { i64, isPlausiblePointer, u64, type MemoryReader } from '../proc/index.js';
import {
  MAX_DICT_ENTRIES,
  readDictItems,
  readDictPrefix,
  readKeysItems,
  type DictItem,
  type DictPrefix,
} from './dicts.js';
import type { PythonLayout } from './layout.js';
import {
  readBytes,
  readLong,
  readSequenceItems,
  readSequencePrefix,
  readSmallLong,
  readTypeAddress,
  readTypeName,
  readUnicode,
  readUnicodePrefix,
  type LongValue,
  type SequencePrefix,
  type StrPrefix,
} from './objects.js';

interface TypeFacts {
  name: string;
  flags: number;
  basicsize: number;
  dictoffset: number;
  /** ht_cached_keys of a heap type, 0 otherwise. */
  cachedKeys: number;
}

/** Py_TPFLAGS_HEAPTYPE, the same in every supported version: only heap types have ht_cached_keys. */
const TPFLAGS_HEAPTYPE = 1 << 9;
/**
 * Py_TPFLAGS_*_SUBCLASS, the same in every supported version: a type and its subclasses (bool, IntEnum, str
 * enums, namedtuples, OrderedDict, defaultdict...) share the base type's layout.
 */
const TPFLAGS_LONG_SUBCLASS = 1 << 24;
const TPFLAGS_LIST_SUBCLASS = 1 << 25;
const TPFLAGS_TUPLE_SUBCLASS = 1 << 26;
const TPFLAGS_UNICODE_SUBCLASS = 1 << 28;
const TPFLAGS_DICT_SUBCLASS = 1 << 29;

/** The built-in layouts an object shares, by its type's subclass flags; 'other' for the rest. */
export type ObjectKind = 'int' | 'str' | 'dict' | 'list' | 'tuple' | 'other';

export interface ObjectType {
  name: string;
  kind: ObjectKind;
}

const KIND_FLAGS: readonly [ObjectKind, number][] = [
  ['int', TPFLAGS_LONG_SUBCLASS],
  ['str', TPFLAGS_UNICODE_SUBCLASS],
  ['dict', TPFLAGS_DICT_SUBCLASS],
  ['list', TPFLAGS_LIST_SUBCLASS],
  ['tuple', TPFLAGS_TUPLE_SUBCLASS],
];

/** Longest str read as a value (a path, a method, a thread name). */
const MAX_STR_CHARS = 4096;
/** Dict key texts remembered by address, at most (cleared when full). */
const MAX_KEY_TEXTS = 10_000;

/** A str key as decoded, with what tells another str at its address apart: type, length and hash. */
interface KeyText {
  type: number;
  length: number;
  hash: number;
  text: string;
}

export class ObjectReader {
  private readonly types = new Map<number, TypeFacts>();
  /**
   * Dict keys are mostly the same str objects from one dict to the next (a request's environ keys are the
   * server's constants): decoded once, then recognised from their header.
   */
  private readonly keyTexts = new Map<number, KeyText>();

  constructor(
    readonly reader: MemoryReader,
    readonly layout: PythonLayout,
  ) {}

  typeAddress(object: number): number {
    if (!isPlausiblePointer(object)) throw new InvalidDataError('bad object pointer');
    return readTypeAddress(this.reader, this.layout, object);
  }

  typeName(object: number): string {
    return this.typeFacts(this.typeAddress(object)).name;
  }

  /** The value of a str object; throws if `object` is not a str. */
  readStr(object: number, maxChars = MAX_STR_CHARS): string {
    this.expectType(object, 'str');
    const text = readUnicode(this.reader, this.layout, object);
    return text.length > maxChars ? text.slice(0, maxChars) : text;
  }

  /** The type's name and which built-in layout the object has. */
  typeOf(object: number): ObjectType {
    const { name, flags } = this.typeFacts(this.typeAddress(object));
    const kind = KIND_FLAGS.find(([, flag]) => (flags & flag) !== 0)?.[0] ?? 'other';
    return { name, kind };
  }

  /** The first `maxChars` characters of a str (or str subclass) and its length; throws for other types. */
  readStrPrefix(object: number, maxChars: number): StrPrefix {
    this.expectKind(object, 'str');
    return readUnicodePrefix(this.reader, this.layout, object, maxChars);
  }

  /** An int (bool, int subclass) exactly, when it has at most `maxDigits` digits; throws for other types. */
  readLong(object: number, maxDigits?: number): LongValue {
    this.expectKind(object, 'int');
    return readLong(this.reader, this.layout, object, maxDigits);
  }

  /** The size and first `maxItems` item addresses of a list or tuple (or a subclass); throws for other types. */
  readSequencePrefix(object: number, maxItems: number): SequencePrefix {
    const { kind, name } = this.typeOf(object);
    if (kind === 'tuple') return readSequencePrefix(this.reader, this.layout.tupleObject, object, maxItems);
    if (kind === 'list') return readSequencePrefix(this.reader, this.layout.listObject, object, maxItems, false);
    throw new InvalidDataError(`expected list or tuple, found ${name}`);
  }

  /** The first items of a dict of any size, from at most `maxSlots` entries; throws if `object` is not a dict. */
  readDictPrefix(object: number, maxSlots: number): DictPrefix {
    this.expectKind(object, 'dict');
    return readDictPrefix(this.reader, this.layout, object, maxSlots);
  }

  /** The value of an int that fits a JS number exactly; throws for other types. */
  readInt(object: number): number {
    const name = this.typeName(object);
    if (name !== 'int' && name !== 'bool') throw new InvalidDataError(`expected int, found ${name}`);
    return readSmallLong(this.reader, this.layout, object);
  }

  /** The payload of a bytes object; throws for other types. */
  readBytes(object: number): Buffer {
    this.expectType(object, 'bytes');
    return readBytes(this.reader, this.layout, object);
  }

  /** Item addresses of a list or tuple of at most `maxItems` items; throws for other types. */
  readSequence(object: number, maxItems: number): number[] {
    const name = this.typeName(object);
    if (name === 'tuple') return readSequenceItems(this.reader, this.layout.tupleObject, object, maxItems);
    if (name === 'list') return readSequenceItems(this.reader, this.layout.listObject, object, maxItems, false);
    throw new InvalidDataError(`expected list or tuple, found ${name}`);
  }

  /** The value of a float object; throws for other types or when the layout lacks floats. */
  readFloat(object: number): number {
    this.expectType(object, 'float');
    const offset = this.layout.floatObject?.obFval;
    if (offset === undefined) throw new InvalidDataError('float layout unknown');
    return this.reader.read(object + offset, 8).readDoubleLE(0);
  }

  isDict(object: number): boolean {
    return (this.typeFacts(this.typeAddress(object)).flags & TPFLAGS_DICT_SUBCLASS) !== 0;
  }

  /** Items of a dict (or a dict subclass); throws if `object` is not one. */
  readDict(object: number, maxEntries = MAX_DICT_ENTRIES): DictItem[] {
    if (!this.isDict(object)) throw new InvalidDataError(`expected dict, found ${this.typeName(object)}`);
    return readDictItems(this.reader, this.layout, object, maxEntries);
  }

  /** A dict's str-keyed items by key; other keys are skipped. */
  readStrKeyedDict(object: number, maxEntries = MAX_DICT_ENTRIES): Map<string, number> {
    return this.strKeyed(this.readDict(object, maxEntries));
  }

  /** The value stored under the str key `key`, or undefined when the dict has no such key. */
  findDictValue(dict: number, key: string, maxEntries = MAX_DICT_ENTRIES): number | undefined {
    for (const item of this.readDict(dict, maxEntries)) {
      if (this.isKeyText(item.key, key)) return item.value;
    }
    return undefined;
  }

  /** An object's instance attributes (its __dict__ or inline values) by name; empty when it has none. */
  readAttributes(object: number): Map<string, number> {
    return this.strKeyed(this.readAttributeItems(object));
  }

  /** One instance attribute, or undefined. */
  findAttribute(object: number, name: string): number | undefined {
    for (const item of this.readAttributeItems(object)) {
      if (this.isKeyText(item.key, name)) return item.value;
    }
    return undefined;
  }

  /** Facts about a type object, read once per address. */
  typeFacts(type: number): TypeFacts {
    let facts = this.types.get(type);
    if (!facts) {
      facts = this.decodeType(type);
      this.types.set(type, facts);
    }
    return facts;
  }

  private expectType(object: number, name: string): void {
    const actual = this.typeName(object);
    if (actual !== name) throw new InvalidDataError(`expected ${name}, found ${actual}`);
  }

  private expectKind(object: number, kind: ObjectKind): void {
    const actual = this.typeOf(object);
    if (actual.kind !== kind) throw new InvalidDataError(`expected ${kind}, found ${actual.name}`);
  }

  /** Whether a dict key is the str `text`; keys are mostly the same few interned strs, so their texts are cached. */
  private isKeyText(key: number, text: string): boolean {
    try {
      return this.readKeyText(key) === text;
    } catch {
      return false;
    }
  }

  private strKeyed(items: DictItem[]): Map<string, number> {
    const result = new Map<string, number>();
    for (const { key, value } of items) {
      try {
        const text = this.readKeyText(key);
        if (text !== undefined) result.set(text, value);
      } catch {
        // a key that does not decode is left out
      }
    }
    return result;
  }

  /** The text of a str key, undefined when the key is not a str. */
  private readKeyText(key: number): string | undefined {
    if (!isPlausiblePointer(key)) throw new InvalidDataError('bad key pointer');
    const u = this.layout.unicodeObject;
    // PyASCIIObject: ob_type, then length and, right after it, the hash (always computed for a dict key).
    const header = this.reader.read(key, u.length + 16);
    const type = u64(header, this.layout.pyObject.obType);
    const length = i64(header, u.length);
    const hash = i64(header, u.length + 8);
    const known = this.keyTexts.get(key);
    if (known && known.type === type && known.length === length && known.hash === hash && hash !== -1) {
      return known.text;
    }
    if (this.typeFacts(type).name !== 'str') return undefined;
    const text = readUnicode(this.reader, this.layout, key);
    if (this.keyTexts.size >= MAX_KEY_TEXTS) this.keyTexts.clear();
    this.keyTexts.set(key, { type, length, hash, text });
    return text;
  }

  private readAttributeItems(object: number): DictItem[] {
    const facts = this.typeFacts(this.typeAddress(object));
    const managed = this.layout.managedDict;
    const isManaged = managed !== undefined && (facts.flags & managed.flag) !== 0;
    if (!isManaged) {
      if (facts.dictoffset <= 0) return [];
      return this.readDictAt(u64(this.reader.read(object + facts.dictoffset, 8), 0));
    }
    switch (this.layout.instanceDictKind) {
      case 'managed-values': {
        const values = managed.valuesOffset !== undefined ? this.readPointerAt(object + managed.valuesOffset) : 0;
        if (values !== 0) return this.readSharedKeysValues(facts, values);
        return this.readDictAt(this.readPointerAt(object + managed.dictOffset));
      }
      case 'dict-or-values': {
        const pointer = this.readPointerAt(object + managed.dictOffset);
        if (pointer % 2 === 1) return this.readSharedKeysValues(facts, pointer + 1);
        return this.readDictAt(pointer);
      }
      case 'inline-values': {
        const dict = this.readPointerAt(object + managed.dictOffset);
        if (dict !== 0) return this.readDictAt(dict);
        if (managed.inlineValuesFlag === undefined || (facts.flags & managed.inlineValuesFlag) === 0) return [];
        return this.readSharedKeysValues(facts, object + facts.basicsize);
      }
      default:
        return [];
    }
  }

  private readPointerAt(address: number): number {
    return u64(this.reader.read(address, 8), 0);
  }

  private readDictAt(dict: number): DictItem[] {
    return dict === 0 ? [] : this.readDict(dict);
  }

  private readSharedKeysValues(facts: TypeFacts, values: number): DictItem[] {
    if (facts.cachedKeys === 0) return [];
    return readKeysItems(this.reader, this.layout, facts.cachedKeys, values);
  }

  private decodeType(type: number): TypeFacts {
    const t = this.layout.typeObject;
    const cachedKeysOffset = this.layout.heapTypeObject?.htCachedKeys;
    const end = Math.max(t.tpFlags, t.tpBasicsize, t.tpDictoffset, cachedKeysOffset ?? 0) + 8;
    const bytes = this.reader.read(type, end);
    const flags = u64(bytes, t.tpFlags);
    const isHeapType = (flags & TPFLAGS_HEAPTYPE) !== 0;
    return {
      name: readTypeName(this.reader, this.layout, type),
      flags,
      basicsize: i64(bytes, t.tpBasicsize),
      dictoffset: i64(bytes, t.tpDictoffset),
      cachedKeys: isHeapType && cachedKeysOffset !== undefined ? u64(bytes, cachedKeysOffset) : 0,
    };
  }
}
