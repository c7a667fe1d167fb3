// Finds `_PyRuntime` in a binary that has neither the symbol nor a `.PyRuntime` section (fully stripped, or its
// symbols renamed): scans the binary's writable data in the target's memory for a structure that validates as the
// runtime: the `_Py_DebugOffsets` cookie (3.13+), else interpreter and thread lists that check out (3.9–3.12).

import { HotpathError, InvalidDataError, MemoryReadError } from '../errors/index.js';
import { MAX_READ_BYTES, isPlausiblePointer, u64, type MapEntry, type MemoryReader } from '../proc/index.js';
import { readDebugOffsets } from './debug-offsets.js';
import type { PythonLayout } from './layout.js';
import { readInterpreters, readThreadStates } from './threads.js';

export interface AddressRange {
  start: number;
  end: number;
}

export interface ScannedRuntime {
  address: number;
  /** The layout the runtime validated with: its own `_Py_DebugOffsets`, or the table tried. */
  layout: PythonLayout;
  how: 'debug-offsets-cookie' | 'interpreter-lists';
}

const COOKIE = Buffer.from('xdebugpy', 'latin1');
/** `_PyRuntime` holds pointers, so it is at least pointer-aligned. */
const ALIGNMENT = 8;
/** Chunks overlap by this much so that a structure's head fields are never split between two reads. */
const CHUNK_OVERLAP = 64 * 1024;
const CHUNK_BYTES = Math.min(MAX_READ_BYTES, 4 * 1024 * 1024);
/**
 * In 3.9–3.13 `_PyRuntime.interpreters` is { mutex, head, main, next_id }: `main` is the pointer right after
 * `head`, and in a process without subinterpreters both point at the main interpreter. A cheap first filter.
 */
const MAIN_AFTER_HEAD = 8;
/** The kernel's largest pid_max: a native thread id above it is not one. */
const MAX_PID = 4_194_304;

/**
 * The binary's writable data as the target mapped it: its read-write file mappings (.data) and the anonymous
 * mapping that directly follows one (.bss past the file's last page).
 */
export function findWritableRanges(maps: readonly MapEntry[], binaryPath: string): AddressRange[] {
  const ranges: AddressRange[] = [];
  maps.forEach((entry, index) => {
    if (entry.path !== binaryPath || entry.perms[1] !== 'w') return;
    const next = maps[index + 1];
    const bssFollows = next !== undefined && next.path === '' && next.start === entry.end && next.perms[1] === 'w';
    ranges.push({ start: entry.start, end: bssFollows ? next.end : entry.end });
  });
  return ranges;
}

/**
 * Scans `ranges` for the runtime: first for the 3.13+ cookie, then, with each layout of `tables`, for interpreter
 * lists. A candidate counts only when its interpreters' thread lists point back at them and the threads' ids are
 * those of the process (`threadIds`, from /proc/PID/task). Throws when a cookie names an unsupported version.
 */
export function scanForRuntime(
  reader: MemoryReader,
  ranges: readonly AddressRange[],
  tables: readonly PythonLayout[],
  threadIds: ReadonlySet<number>,
): ScannedRuntime | undefined {
  for (const { address, bytes } of readChunks(reader, ranges)) {
    for (let at = bytes.indexOf(COOKIE); at !== -1; at = bytes.indexOf(COOKIE, at + 1)) {
      if ((address + at) % ALIGNMENT !== 0) continue;
      const layout = readCookieLayout(reader, address + at);
      if (layout && runtimeValidates(reader, layout, address + at, threadIds)) {
        return { address: address + at, layout, how: 'debug-offsets-cookie' };
      }
    }
  }
  for (const layout of tables) {
    const headOffset = layout.runtimeState.interpretersHead;
    for (const { address, bytes } of readChunks(reader, ranges)) {
      for (let at = 0; at + headOffset + MAIN_AFTER_HEAD + 8 <= bytes.length; at += ALIGNMENT) {
        const head = u64(bytes, at + headOffset);
        if (!isPlausiblePointer(head) || u64(bytes, at + headOffset + MAIN_AFTER_HEAD) !== head) continue;
        if (runtimeValidates(reader, layout, address + at, threadIds)) {
          return { address: address + at, layout, how: 'interpreter-lists' };
        }
      }
    }
  }
  return undefined;
}

/** Total bytes a scan of `ranges` reads, for messages. */
export function rangeBytes(ranges: readonly AddressRange[]): number {
  return ranges.reduce((sum, { start, end }) => sum + end - start, 0);
}

function* readChunks(
  reader: MemoryReader,
  ranges: readonly AddressRange[],
): Generator<{ address: number; bytes: Buffer }> {
  for (const { start, end } of ranges) {
    for (let address = start; address < end; address += CHUNK_BYTES - CHUNK_OVERLAP) {
      const length = Math.min(CHUNK_BYTES, end - address);
      try {
        yield { address, bytes: reader.read(address, length) };
      } catch (err) {
        if (!(err instanceof MemoryReadError)) throw err;
      }
      if (address + length >= end) break;
    }
  }
}

/** The layout a cookie describes; undefined when the bytes after it are not a table (a stray "xdebugpy"). */
function readCookieLayout(reader: MemoryReader, address: number): PythonLayout | undefined {
  try {
    return readDebugOffsets(reader, address);
  } catch (err) {
    if (err instanceof HotpathError && err.kind === 'unsupported-version') throw err;
    if (err instanceof InvalidDataError || err instanceof MemoryReadError || err instanceof HotpathError) {
      return undefined;
    }
    throw err;
  }
}

/** Whether the interpreters at `runtime` have thread states that point back at them and run in this process. */
function runtimeValidates(
  reader: MemoryReader,
  layout: PythonLayout,
  runtime: number,
  threadIds: ReadonlySet<number>,
): boolean {
  try {
    const threads = readInterpreters(reader, layout, runtime).flatMap((interp) =>
      readThreadStates(reader, layout, interp).map((thread) => ({ ...thread, owner: interp })),
    );
    // A thread being started has a thread state before its OS thread runs: its ids are still 0 (and the lists one
    // longer than /proc/PID/task), so only the threads that have ids are checked, and one must be a thread of ours.
    if (threads.some((thread) => thread.interp !== thread.owner)) return false;
    const started = threads.filter((thread) => thread.threadId !== 0);
    if (started.length === 0 || !started.every((thread) => isPlausiblePointer(thread.threadId))) return false;
    if (layout.threadState.nativeThreadId === undefined) return true;
    const nativeIds = started.map((thread) => thread.nativeThreadId!);
    return nativeIds.some((id) => threadIds.has(id)) && nativeIds.every((id) => id >= 0 && id <= MAX_PID);
  } catch (err) {
    if (err instanceof InvalidDataError || err instanceof MemoryReadError) return false;
    throw err;
  }
}
