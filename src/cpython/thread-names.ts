// Python thread names (threading.Thread.name) by threading ident, read from the target's
// sys.modules['threading']._active: ident → Thread, whose `_name` attribute is the name. The address
// of `_active` is found once and re-found only when it stops being a dict; a sys.modules without threading is
// looked through again only once its size changed (a script that never imports threading is asked every second).

import type { MemoryReader } from '../proc/index.js';
import { i64, u64 } from '../proc/index.js';
import type { PythonLayout } from './layout.js';
import type { ObjectReader } from './object-reader.js';
import { readInterpreters } from './threads.js';

/** sys.modules of a large app (Django) holds a few thousand modules. */
const MAX_MODULES = 1 << 16;
const MAX_THREADS = 4096;

export class ThreadNameReader {
  private activeDicts: number[] = [];
  /** Each sys.modules (by address) that had no threading when looked through, and its size then. */
  private readonly withoutThreading = new Map<number, number>();

  constructor(
    private readonly objects: ObjectReader,
    private readonly runtimeAddress: number,
  ) {}

  /** Names by threading ident; empty when threading is not imported (yet). */
  read(): Map<number, string> {
    if (!this.activeDictsStillValid()) this.activeDicts = this.findActiveDicts();
    const names = new Map<number, string>();
    for (const active of this.activeDicts) {
      for (const { key, value } of this.objects.readDict(active, MAX_THREADS)) {
        try {
          const name = this.objects.findAttribute(value, '_name');
          if (name !== undefined) names.set(this.objects.readInt(key), this.objects.readStr(name, 256));
        } catch {
          // a thread being created or torn down right now: named next time
        }
      }
    }
    return names;
  }

  private activeDictsStillValid(): boolean {
    if (this.activeDicts.length === 0) return false;
    try {
      return this.activeDicts.every((dict) => this.objects.isDict(dict));
    } catch {
      return false;
    }
  }

  /** threading._active of every interpreter that has imported threading. */
  private findActiveDicts(): number[] {
    const { reader, layout } = this.objects;
    const found: number[] = [];
    for (const interp of readInterpreters(reader, layout, this.runtimeAddress)) {
      const active = this.findActiveDict(reader, layout, interp);
      if (active !== undefined) found.push(active);
    }
    return found;
  }

  private findActiveDict(reader: MemoryReader, layout: PythonLayout, interp: number): number | undefined {
    const mdDict = layout.moduleObject?.mdDict;
    if (mdDict === undefined) return undefined;
    const modules = u64(reader.read(interp + layout.interpreterState.modules, 8), 0);
    if (modules === 0) return undefined;
    const size = i64(reader.read(modules + layout.dictObject.maUsed, 8), 0);
    if (this.withoutThreading.get(modules) === size) return undefined;
    const threading = this.objects.findDictValue(modules, 'threading', MAX_MODULES);
    if (threading === undefined) {
      this.withoutThreading.set(modules, size);
      return undefined;
    }
    this.withoutThreading.delete(modules);
    const globals = u64(reader.read(threading + mdDict, 8), 0);
    return this.objects.findDictValue(globals, '_active', MAX_MODULES);
  }
}
