// Walks _PyRuntime → interpreters → thread states, reading each thread state in one piece.
// Lists are bounded and cycle-checked: a torn read gives an error, never an endless loop.

import { InvalidDataError } from '../errors/index.js';
import { isPlausiblePointer, u64, type MemoryReader } from '../proc/index.js';
import type { PythonLayout } from './layout.js';

const MAX_INTERPRETERS = 256;
const MAX_THREADS = 16_384;

export interface ThreadStateInfo {
  address: number;
  interp: number;
  /** pthread_t: what threading.get_ident() returns. */
  threadId: number;
  /** OS thread id where the thread state records it (3.11+). */
  nativeThreadId?: number;
  /** Innermost frame, 0 when the thread runs no Python code. */
  frameAddress: number;
  /** Where frameAddress was read: the thread state's field, or its _PyCFrame's (3.11–3.12). */
  framePointerAt: number;
}

function readLinkedList(reader: MemoryReader, head: number, nextOffset: number, limit: number): number[] {
  const items: number[] = [];
  const seen = new Set<number>();
  for (let address = head; address !== 0; address = u64(reader.read(address + nextOffset, 8), 0)) {
    if (!isPlausiblePointer(address) || seen.has(address) || items.length >= limit) {
      throw new InvalidDataError('bad linked list');
    }
    seen.add(address);
    items.push(address);
  }
  return items;
}

export function readInterpreters(reader: MemoryReader, layout: PythonLayout, runtime: number): number[] {
  const head = u64(reader.read(runtime + layout.runtimeState.interpretersHead, 8), 0);
  return readLinkedList(reader, head, layout.interpreterState.next, MAX_INTERPRETERS);
}

export function readThreadStates(reader: MemoryReader, layout: PythonLayout, interp: number): ThreadStateInfo[] {
  const t = layout.threadState;
  const head = u64(reader.read(interp + layout.interpreterState.threadsHead, 8), 0);
  const threads: ThreadStateInfo[] = [];
  const seen = new Set<number>();
  for (let address = head; address !== 0;) {
    if (!isPlausiblePointer(address) || seen.has(address) || threads.length >= MAX_THREADS) {
      throw new InvalidDataError('bad thread list');
    }
    seen.add(address);
    const state = reader.read(address, t.size);
    threads.push({
      address,
      interp: u64(state, t.interp),
      threadId: u64(state, t.threadId),
      nativeThreadId: t.nativeThreadId !== undefined ? u64(state, t.nativeThreadId) : undefined,
      ...readFramePointer(reader, layout, address, state),
    });
    address = u64(state, t.next);
  }
  return threads;
}

/**
 * The threads of `known` (as the last full walk found them, interpreters' lists one after another) with their
 * current frames, reading each thread state once; undefined when the lists changed shape: a thread started (a new
 * state is pushed at the head, so the head's `prev` is set), ended (a neighbour's link changed) or a state was
 * given to another thread. Then walk the lists again. One read per thread instead of the whole walk.
 */
export function rereadThreadStates(
  reader: MemoryReader,
  layout: PythonLayout,
  known: readonly ThreadStateInfo[],
): ThreadStateInfo[] | undefined {
  const t = layout.threadState;
  const current: ThreadStateInfo[] = [];
  for (let i = 0; i < known.length; i++) {
    const thread = known[i]!;
    const before = known[i - 1];
    const after = known[i + 1];
    const state = reader.read(thread.address, t.size);
    const unchanged =
      u64(state, t.prev) === (before?.interp === thread.interp ? before.address : 0) &&
      u64(state, t.next) === (after?.interp === thread.interp ? after.address : 0) &&
      u64(state, t.interp) === thread.interp &&
      u64(state, t.threadId) === thread.threadId &&
      (t.nativeThreadId === undefined || u64(state, t.nativeThreadId) === thread.nativeThreadId);
    if (!unchanged) return undefined;
    current.push({ ...thread, ...readFramePointer(reader, layout, thread.address, state) });
  }
  return current;
}

/** Where a thread's innermost frame is now, read on its own: to tell whether a stack moved on while it was walked. */
export function readCurrentFrameAddress(reader: MemoryReader, layout: PythonLayout, threadState: number): number {
  const state = reader.read(threadState, layout.threadState.currentFrame + 8);
  return readFramePointer(reader, layout, threadState, state).frameAddress;
}

/** A thread's innermost frame from the bytes of its state, through the _PyCFrame where there is one (3.11-3.12). */
function readFramePointer(
  reader: MemoryReader,
  layout: PythonLayout,
  threadState: number,
  state: Buffer,
): { frameAddress: number; framePointerAt: number } {
  const pointer = u64(state, layout.threadState.currentFrame);
  const field = threadState + layout.threadState.currentFrame;
  if (layout.currentFrameKind !== 'cframe' || pointer === 0) return { frameAddress: pointer, framePointerAt: field };
  const framePointerAt = pointer + (layout.threadState.cframeCurrentFrame ?? 0);
  return { frameAddress: u64(reader.read(framePointerAt, 8), 0), framePointerAt };
}
