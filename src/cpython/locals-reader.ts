// Reads a frame's local variables by name: the names come from the code object (co_varnames before
// 3.11, co_localsplusnames after), the values from the frame's localsplus slots. Cell and free variables
// are unboxed where the slot holds a cell; before 3.11 only plain locals are read (their names suffice).

import { InvalidDataError } from '../errors/index.js';
import { isPlausiblePointer, u64 } from '../proc/index.js';
import type { CodeInfo } from './code-objects.js';
import type { PyFrame } from './frames.js';
import type { ObjectReader } from './object-reader.js';
import { readSequenceItems } from './objects.js';

/** More locals than this in one code object is not a real function: a torn read. */
const MAX_LOCALS = 1024;

export class LocalsReader {
  private readonly names = new WeakMap<CodeInfo, readonly string[]>();
  /** slotsOf's answers, by code object and name: labelling asks for the same few at every sample. */
  private readonly slots = new WeakMap<CodeInfo, Map<string, readonly number[]>>();

  constructor(private readonly objects: ObjectReader) {}

  /** Names of the frame slots that hold locals, in slot order (cached per code object). */
  localNames(code: CodeInfo): readonly string[] {
    let names = this.names.get(code);
    if (!names) {
      names = this.decodeNames(code);
      this.names.set(code, names);
    }
    return names;
  }

  /** The object in local `name` of `frame` (a cell's content for cell variables), or undefined if unset. */
  findLocal(frame: PyFrame, name: string): number | undefined {
    // Before 3.11 an argument that is also a cell has two slots: the argument's (emptied) and the cell's.
    for (const slot of this.slotsOf(frame.code, name)) {
      const value = this.readSlots(frame, slot, 1)[0]!;
      if (value !== 0) return this.unboxCell(value);
    }
    return undefined;
  }

  /** The localsplus slots named `name` in frames of `code` (before 3.11, an argument that is a cell has two). */
  slotsOf(code: CodeInfo, name: string): readonly number[] {
    let byName = this.slots.get(code);
    if (!byName) this.slots.set(code, (byName = new Map()));
    let slots = byName.get(name);
    if (!slots) byName.set(name, (slots = this.findSlots(code, name)));
    return slots;
  }

  private findSlots(code: CodeInfo, name: string): number[] {
    const names = this.localNames(code);
    const slots: number[] = [];
    for (let slot = names.indexOf(name); slot >= 0; slot = names.indexOf(name, slot + 1)) slots.push(slot);
    return slots;
  }

  /** The object a slot's value stands for: a cell's content for cell variables, otherwise the value itself. */
  unboxCell(value: number): number {
    const cell = this.objects.layout.cellObject;
    if (!cell || this.objects.typeName(value) !== 'cell') return value;
    return u64(this.objects.reader.read(value + cell.obRef, 8), 0);
  }

  /** True when frames of `code` have a local called `name`: a cheap test before reading any slot. */
  hasLocal(code: CodeInfo, name: string): boolean {
    return this.localNames(code).includes(name);
  }

  /** Every bound local of the frame by name, in slot order. */
  readLocals(frame: PyFrame): Map<string, number> {
    const names = this.localNames(frame.code);
    const values = names.length > 0 ? this.readSlots(frame, 0, names.length) : [];
    const locals = new Map<string, number>();
    names.forEach((name, i) => {
      const value = values[i]!;
      if (value === 0) return;
      try {
        locals.set(name, this.unboxCell(value));
      } catch {
        // an unreadable slot is left out rather than failing the whole frame
      }
    });
    return locals;
  }

  private readSlots(frame: PyFrame, first: number, count: number): number[] {
    const layout = this.objects.layout;
    const bytes = this.objects.reader.read(
      frame.frameAddress + layout.interpreterFrame.localsplus + first * 8,
      count * 8,
    );
    const tagMask = layout.interpreterFrame.executableTagMask ?? 0;
    return Array.from({ length: count }, (_, i) => {
      const raw = u64(bytes, i * 8);
      // 3.14+ slots are tagged _PyStackRefs: the low bits are flags, not address.
      const value = tagMask ? raw - (raw % (tagMask + 1)) : raw;
      if (value !== 0 && !isPlausiblePointer(value)) throw new InvalidDataError('bad local slot');
      return value;
    });
  }

  private decodeNames(code: CodeInfo): string[] {
    if (code.nlocalsplus < 0 || code.nlocalsplus > MAX_LOCALS) throw new InvalidDataError('bad local count');
    const names = this.readNameTuple(code.localsplusnames).slice(0, code.nlocalsplus);
    const c = this.objects.layout.codeObject;
    if (c.cellvars === undefined || c.freevars === undefined) return names;
    // ≤3.10: cell then free variables follow the co_nlocals plain locals, named by their own tuples.
    const header = this.objects.reader.read(code.address, Math.max(c.cellvars, c.freevars) + 8);
    return [...names, ...this.readNameTuple(u64(header, c.cellvars)), ...this.readNameTuple(u64(header, c.freevars))];
  }

  private readNameTuple(tuple: number): string[] {
    const items = readSequenceItems(this.objects.reader, this.objects.layout.tupleObject, tuple, MAX_LOCALS);
    return items.map((item) => this.objects.readStr(item, 256));
  }
}
