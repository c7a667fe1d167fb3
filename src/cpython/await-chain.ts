// Follows a suspended asyncio task out of process: which C Task awaits a future (through the wakeup callback it
// registered on the future, confirmed by its own field pointing back at it), and the chain of coroutines it awaits
// (each the top of the value stack of the one before, what _PyGen_yf peeks at). Task and future are C structs whose
// layout changes with every version: their fields are found by what they point at, never by fixed offsets.

import { InvalidDataError } from '../errors/index.js';
import { i32, isPlausiblePointer, u64 } from '../proc/index.js';
import type { CodeReader } from './code-objects.js';
import { readFrame, type PyFrame } from './frames.js';
import type { ObjectReader } from './object-reader.js';

/** A task found awaiting a future, with what tells later whether it still does. */
export interface AwaitingTask {
  task: number;
  /** The task's type object: a later read of the same address must still find a task of this type. */
  type: number;
  /** Offset of the task's pointer to the future it awaits (task_fut_waiter). */
  waiterOffset: number;
  /** Offset of the task's coroutine (task_coro). */
  coroutineOffset: number;
}

/** The coroutines a task awaits, outermost first, and their frames. */
export interface AwaitChain {
  coroutines: number[];
  frames: PyFrame[];
}

/** Tasks, futures and their callbacks are a few hundred bytes at most; a larger tp_basicsize is not one of them. */
const MAX_SCANNED_BYTES = 512;
/** Coroutines awaiting one another deeper than this are not a web request's. */
export const MAX_AWAIT_DEPTH = 64;
/** More value stack slots than this is a torn read. */
const MAX_STACK_SLOTS = 1 << 16;
/** What a C Task registers on the future it awaits: its wakeup, a TaskWakeupMethWrapper (3.9) or a bound C method. */
const WAKEUP_TYPES = new Set(['TaskWakeupMethWrapper', 'builtin_function_or_method']);
const TASK_TYPE = '_asyncio.Task';
const COROUTINE_TYPE = 'coroutine';

/** The C asyncio Task that awaits `future`, or undefined (no task awaits it, or not one hotpath can read). */
export function findTaskAwaiting(objects: ObjectReader, future: number): AwaitingTask | undefined {
  for (const [, callback] of readPointerFields(objects, future)) {
    if (!WAKEUP_TYPES.has(findTypeName(objects, callback) ?? '')) continue;
    for (const [, task] of readPointerFields(objects, callback)) {
      if (findTypeName(objects, task) !== TASK_TYPE) continue;
      const found = decodeAwaitingTask(objects, task, future);
      if (found) return found;
    }
  }
  return undefined;
}

/** True when `awaiting.task` is still a task of its type that awaits `future` (one read). */
export function isStillAwaiting(objects: ObjectReader, awaiting: AwaitingTask, future: number): boolean {
  const obType = objects.layout.pyObject.obType;
  const bytes = objects.reader.read(awaiting.task + obType, awaiting.waiterOffset + 8 - obType);
  return u64(bytes, 0) === awaiting.type && u64(bytes, awaiting.waiterOffset - obType) === future;
}

/** The task's coroutine, as of this read. */
export function readTaskCoroutine(objects: ObjectReader, awaiting: AwaitingTask): number {
  return u64(objects.reader.read(awaiting.task + awaiting.coroutineOffset, 8), 0);
}

/**
 * The coroutines `coroutine` awaits, down to the one that awaits `future` (directly or through the future's
 * iterator), with their frames; undefined when the chain ends elsewhere (not suspended on `future`, or torn).
 */
export function readAwaitChain(
  objects: ObjectReader,
  codes: CodeReader,
  coroutine: number,
  future: number,
): AwaitChain | undefined {
  const chain: AwaitChain = { coroutines: [], frames: [] };
  let current = coroutine;
  while (chain.coroutines.length < MAX_AWAIT_DEPTH) {
    const frameAddress = readCoroutineFrame(objects, current);
    const frame = readFrame(objects.reader, objects.layout, codes, frameAddress);
    if (!frame) return undefined;
    chain.coroutines.push(current);
    chain.frames.push(frame);
    const awaited = readAwaitedObject(objects, current);
    if (objects.typeName(awaited) === COROUTINE_TYPE) {
      current = awaited;
      continue;
    }
    const isFuture = awaited === future || readPointerFields(objects, awaited).some(([, value]) => value === future);
    return isFuture ? chain : undefined;
  }
  return undefined;
}

/** What a suspended coroutine awaits: the top of its frame's value stack. Throws when the layout lacks it. */
export function readAwaitedObject(objects: ObjectReader, coroutine: number): number {
  const layout = objects.layout;
  const stack = layout.valueStack;
  if (!stack) throw new InvalidDataError('value stack layout unknown');
  const frame = readCoroutineFrame(objects, coroutine);
  const slots = frame + layout.interpreterFrame.localsplus;
  let top: number;
  switch (layout.valueStackKind) {
    case 'stacktop-pointer':
      top = u64(objects.reader.read(frame + stack.top, 8), 0);
      break;
    case 'valuestack-depth': {
      if (stack.base === undefined) throw new InvalidDataError('value stack base unknown');
      const base = u64(objects.reader.read(frame + stack.base, 8), 0);
      if (base < slots) throw new InvalidDataError('value stack outside its frame');
      top = base + 8 * i32(objects.reader.read(frame + stack.top, 4), 0);
      break;
    }
    case 'localsplus-count':
      top = slots + 8 * i32(objects.reader.read(frame + stack.top, 4), 0);
      break;
    default:
      throw new InvalidDataError('value stack layout unknown');
  }
  if (top <= slots || top > slots + 8 * MAX_STACK_SLOTS) throw new InvalidDataError('bad value stack top');
  let item = readStackItem(objects, top - 8);
  // 3.15 keeps a NULL slot above the receiver of a suspended SEND: the receiver is the item under it. What is found
  // is only trusted when the chain leads to the awaited future (readAwaitChain), so a wrong guess labels nothing.
  if (item === 0 && top - 8 > slots) item = readStackItem(objects, top - 16);
  if (!isPlausiblePointer(item)) throw new InvalidDataError('bad value stack item');
  return item;
}

/** A value stack slot's object pointer: 3.14+ slots are tagged _PyStackRefs, like f_executable (0 for NULL). */
function readStackItem(objects: ObjectReader, slot: number): number {
  const raw = u64(objects.reader.read(slot, 8), 0);
  const tagMask = objects.layout.interpreterFrame.executableTagMask ?? 0;
  return tagMask ? raw - (raw % (tagMask + 1)) : raw;
}

/** The frame of a coroutine: pointed at (≤3.10) or embedded in the object (3.11+). */
export function readCoroutineFrame(objects: ObjectReader, coroutine: number): number {
  const gen = objects.layout.genObject;
  if (!gen) throw new InvalidDataError('coroutine layout unknown');
  if (!isPlausiblePointer(coroutine)) throw new InvalidDataError('bad coroutine pointer');
  if (objects.layout.frameModel === 'interpreter-frame') return coroutine + gen.frame;
  const frame = u64(objects.reader.read(coroutine + gen.frame, 8), 0);
  if (frame === 0) throw new InvalidDataError('coroutine has finished');
  return frame;
}

/** The task's waiter and coroutine fields: exactly one points at `future`, exactly one at a coroutine. */
function decodeAwaitingTask(objects: ObjectReader, task: number, future: number): AwaitingTask | undefined {
  const fields = readPointerFields(objects, task);
  const waiters = fields.filter(([, value]) => value === future);
  const coroutines = fields.filter(([, value]) => value !== future && findTypeName(objects, value) === COROUTINE_TYPE);
  if (waiters.length !== 1 || coroutines.length !== 1) return undefined;
  return {
    task,
    type: objects.typeAddress(task),
    waiterOffset: waiters[0]![0],
    coroutineOffset: coroutines[0]![0],
  };
}

/** [offset, value] of every word after an object's header, up to its type's basicsize, that could be a pointer. */
function readPointerFields(objects: ObjectReader, object: number): [number, number][] {
  const start = objects.layout.pyObject.obType + 8;
  const size = Math.min(objects.typeFacts(objects.typeAddress(object)).basicsize, MAX_SCANNED_BYTES);
  if (size <= start) return [];
  const bytes = objects.reader.read(object + start, size - start);
  const fields: [number, number][] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) {
    const value = u64(bytes, at);
    if (isPlausiblePointer(value)) fields.push([start + at, value]);
  }
  return fields;
}

/** The type name of what `address` points at, or undefined when it is no readable object. */
function findTypeName(objects: ObjectReader, address: number): string | undefined {
  try {
    return objects.typeName(address);
  } catch {
    return undefined;
  }
}
