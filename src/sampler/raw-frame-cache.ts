// One RawFrame object per code object and line, and each thread's previous frame list reused while its
// stack is unchanged: a sample then allocates no frames, and the profile builder, which caches by object
// identity, interns an unchanged stack with one lookup. RawFrames and frame lists are never mutated.

import type { CodeInfo, PyFrame } from '../cpython/index.js';
import type { RawFrame } from './sample.js';

interface ThreadFrames {
  frames: readonly RawFrame[];
  /** What they were made from, innermost first: compared by code object and line, with no lookup. */
  source: readonly PyFrame[];
  generation: number;
}

export class RawFrameCache {
  private readonly byCode = new WeakMap<CodeInfo, Map<number, RawFrame>>();
  private readonly threads = new Map<number, Map<number, ThreadFrames>>();
  private generation = 0;

  /** The stack's frames outermost first, as the same array as last time when nothing changed. */
  framesOf(pid: number, threadId: number, innermostFirst: readonly PyFrame[]): readonly RawFrame[] {
    let threads = this.threads.get(pid);
    if (!threads) {
      threads = new Map();
      this.threads.set(pid, threads);
    }
    const last = threads.get(threadId);
    const count = innermostFirst.length;
    if (last && (last.source === innermostFirst || sameFrames(last.source, innermostFirst))) {
      last.generation = this.generation;
      return last.frames;
    }
    const frames = new Array<RawFrame>(count);
    for (let i = 0; i < count; i++) frames[i] = this.frameOf(innermostFirst[count - 1 - i]!);
    threads.set(threadId, { frames, source: innermostFirst, generation: this.generation });
    return frames;
  }

  /** Forgets threads not sampled since the previous sweep (threads and processes that ended). */
  sweep(): void {
    for (const [pid, threads] of this.threads) {
      for (const [threadId, entry] of threads) if (entry.generation !== this.generation) threads.delete(threadId);
      if (threads.size === 0) this.threads.delete(pid);
    }
    this.generation++;
  }

  private frameOf(frame: PyFrame): RawFrame {
    let lines = this.byCode.get(frame.code);
    if (!lines) {
      lines = new Map();
      this.byCode.set(frame.code, lines);
    }
    let raw = lines.get(frame.line);
    if (!raw) {
      raw = { name: frame.name, file: frame.file, line: frame.line, firstLine: frame.firstLine };
      lines.set(frame.line, raw);
    }
    return raw;
  }
}

/** Same functions on the same lines (RawFrames hold nothing else). */
function sameFrames(a: readonly PyFrame[], b: readonly PyFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.code !== b[i]!.code || a[i]!.line !== b[i]!.line) return false;
  return true;
}
