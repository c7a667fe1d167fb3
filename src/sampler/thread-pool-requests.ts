// Finds the request a thread pool thread works for when its own stack holds none: an anyio worker thread (Starlette's
// run_in_threadpool, so every sync `def` FastAPI endpoint) runs a work item whose future the request's asyncio task
// awaits, suspended with the request's coroutines, whose frames hold the ASGI `scope`.

import {
  findTaskAwaiting,
  isStillAwaiting,
  readAwaitChain,
  readAwaitedObject,
  readCoroutineFrame,
  readFrameCodeAddress,
  readTaskCoroutine,
  type AwaitingTask,
  type CodeInfo,
  type PyFrame,
} from '../cpython/index.js';
import type { ProcessReaderSet } from './process-readers.js';

/** anyio's worker loop, WorkerThread.run in anyio/_backends/_asyncio.py; its `future` local is the work item's. */
const WORKER_FILE_SUFFIX = '/anyio/_backends/_asyncio.py';
const WORKER_FUNCTION = 'run';
/** The worker loop's locals that hold the future of the work item it runs, and the function the item calls. */
export const WORK_ITEM_LOCAL = 'future';
export const WORK_FUNCTION_LOCAL = 'func';
const SCOPE_LOCAL = 'scope';
const MAX_TRACKED_THREADS = 10_000;

/** A `scope` local of a coroutine frame the task awaits through. */
interface ScopeLocal {
  frame: PyFrame;
  dict: number;
}

interface WorkItem {
  future: number;
  task: AwaitingTask;
  /** The coroutines the task awaits, outermost first, down to the innermost one with a scope, and their frames. */
  coroutines: number[];
  frames: number[];
  /** Innermost first. */
  scopes: ScopeLocal[];
}

export class ThreadPoolRequests {
  private readonly items = new Map<string, WorkItem>();

  /** True for frames of anyio's worker loop (`localNames` are the code object's). */
  isWorkerLoop(code: CodeInfo, localNames: readonly string[]): boolean {
    return (
      code.name === WORKER_FUNCTION &&
      code.filename.replaceAll('\\', '/').endsWith(WORKER_FILE_SUFFIX) &&
      localNames.includes(WORK_ITEM_LOCAL)
    );
  }

  /**
   * Dicts in `scope` locals (innermost first) of the task that awaits `future`, the work item a worker loop frame
   * runs (its WORK_ITEM_LOCAL); empty when no task awaits it. What was found holds while the task still awaits that
   * future through the same coroutines, frames and code, and the scopes are still in their frames: all checked again
   * each time, since every one of these addresses is reused by the next request's objects. Read as one graph from
   * the future: pages copied over a whole drain could show the task of another work item than the thread runs now.
   */
  findScopes(readers: ProcessReaderSet, threadKey: string, future: number): number[] {
    readers.beginGraph(future);
    const known = this.items.get(threadKey);
    if (known?.future === future && isUnchanged(readers, known)) return known.scopes.map((scope) => scope.dict);
    this.items.delete(threadKey);
    const item = readWorkItem(readers, future);
    if (!item) return [];
    if (this.items.size >= MAX_TRACKED_THREADS) this.items.clear();
    this.items.set(threadKey, item);
    return item.scopes.map((scope) => scope.dict);
  }

  /**
   * The task findScopes last found for the thread's work item still awaits it, read past every cache. A worker
   * thread keeps its work item's future for a while after finishing it (until it gets the GIL back), while the
   * task may already have ended and its scope been reused: asked after the scope was read.
   */
  isStillAwaited(readers: ProcessReaderSet, threadKey: string): boolean {
    const item = this.items.get(threadKey);
    try {
      return item !== undefined && isStillAwaiting(readers.freshObjects, item.task, item.future);
    } catch {
      return false;
    }
  }

  forget(threadKey: string): void {
    this.items.delete(threadKey);
  }
}

function readWorkItem(readers: ProcessReaderSet, future: number): WorkItem | undefined {
  const objects = readers.onDemandObjects;
  try {
    const task = findTaskAwaiting(objects, future);
    if (!task) return undefined;
    const chain = readAwaitChain(objects, readers.codes, readTaskCoroutine(objects, task), future);
    if (!chain) return undefined;
    const scopes: ScopeLocal[] = [];
    let innermost = -1;
    for (let i = chain.frames.length - 1; i >= 0; i--) {
      const frame = chain.frames[i]!;
      const dict = readLocal(readers, frame, SCOPE_LOCAL);
      if (dict === undefined || !objects.isDict(dict)) continue;
      scopes.push({ frame, dict });
      innermost = Math.max(innermost, i);
    }
    // What was read holds only if the task awaited the future throughout: still so, read past every cache.
    if (scopes.length === 0 || !isStillAwaiting(readers.freshObjects, task, future)) return undefined;
    const coroutines = chain.coroutines.slice(0, innermost + 1);
    return {
      future,
      task,
      coroutines,
      frames: chain.frames.slice(0, innermost + 1).map((f) => f.frameAddress),
      scopes,
    };
  } catch {
    return undefined;
  }
}

/** The same task still awaits the same future through the same coroutines (a few reads). */
function isUnchanged(readers: ProcessReaderSet, item: WorkItem): boolean {
  const objects = readers.onDemandObjects;
  try {
    if (!isStillAwaiting(objects, item.task, item.future)) return false;
    if (readTaskCoroutine(objects, item.task) !== item.coroutines[0]) return false;
    for (let i = 0; i < item.coroutines.length; i++) {
      const coroutine = item.coroutines[i]!;
      if (readCoroutineFrame(objects, coroutine) !== item.frames[i]) return false;
      if (i + 1 < item.coroutines.length && readAwaitedObject(objects, coroutine) !== item.coroutines[i + 1])
        return false;
    }
    return item.scopes.every(
      ({ frame, dict }) =>
        readFrameCodeAddress(objects.reader, objects.layout, frame.frameAddress) === frame.code.address &&
        readLocal(readers, frame, SCOPE_LOCAL) === dict,
    );
  } catch {
    return false;
  }
}

function readLocal(readers: ProcessReaderSet, frame: PyFrame, name: string): number | undefined {
  try {
    const locals = readers.onDemandLocals;
    return locals.hasLocal(frame.code, name) ? locals.findLocal(frame, name) : undefined;
  } catch {
    return undefined;
  }
}
