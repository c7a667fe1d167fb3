// One RawFrame object per code object and line, and each thread's previous frame list reused while its
// stack is unchanged, or while only its innermost line moves between a few: a sample then allocates no frames,
// and the profile builder, which caches by object identity, interns such a stack with one lookup. RawFrames and
// frame lists are never mutated.

import type { CodeInfo, PyFrame } from '../cpython/index.js';
import type { RawFrame } from './sample.js';

interface ThreadFrames {
  frames: readonly RawFrame[];
  /** What they were made from, innermost first: compared by code object and line, with no lookup. */
  source: readonly PyFrame[];
  generation: number;
  /** The lists made while the callers stayed as in `source`, by their innermost frame (a busy loop's few lines). */
  byInnermost: Map<RawFrame, readonly RawFrame[]>;
}

/** Lists kept per thread that differ in their innermost frame alone. */
const MAX_INNERMOST_VARIANTS = 32;

export class RawFrameCache {
  private readonly byCode = new WeakMap<CodeInfo, Map<number, RawFrame>>();
  private readonly threads = new Map<number, Map<number, ThreadFrames>>();
  private generation = 0;

  /**
   * The stack's frames outermost first: the same array as for the last stack or for one that differed from it in
   * the innermost line alone, when nothing else changed.
   */
  framesOf(pid: number, threadId: number, innermostFirst: readonly PyFrame[]): readonly RawFrame[] {
    let threads = this.threads.get(pid);
    if (!threads) {
      threads = new Map();
      this.threads.set(pid, threads);
    }
    const last = threads.get(threadId);
    const count = innermostFirst.length;
    if (last && (last.source === innermostFirst || sameCallers(last.source, innermostFirst))) {
      last.generation = this.generation;
      return last.source === innermostFirst ? last.frames : this.innermostVariant(last, innermostFirst);
    }
    const frames = new Array<RawFrame>(count);
    for (let i = 0; i < count; i++) frames[i] = this.frameOf(innermostFirst[count - 1 - i]!);
    const byInnermost = new Map<RawFrame, readonly RawFrame[]>();
    if (count > 0) byInnermost.set(frames[count - 1]!, frames);
    threads.set(threadId, { frames, source: innermostFirst, generation: this.generation, byInnermost });
    return frames;
  }

  /**
   * The list for `innermostFirst`, whose callers are those of `last`'s: the last one, one made before, or a new one.
   */
  private innermostVariant(last: ThreadFrames, innermostFirst: readonly PyFrame[]): readonly RawFrame[] {
    const { code, line } = innermostFirst[0]!;
    const before = last.source[0]!;
    last.source = innermostFirst;
    if (code === before.code && line === before.line) return last.frames;
    const innermost = this.frameOf(innermostFirst[0]!);
    let frames = last.byInnermost.get(innermost);
    if (!frames) {
      frames = [...last.frames.slice(0, -1), innermost];
      if (last.byInnermost.size < MAX_INNERMOST_VARIANTS) last.byInnermost.set(innermost, frames);
    }
    last.frames = frames;
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

/** Same callers of the innermost frame (a non-empty stack's), on the same lines. */
function sameCallers(a: readonly PyFrame[], b: readonly PyFrame[]): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  for (let i = 1; i < a.length; i++) if (a[i]!.code !== b[i]!.code || a[i]!.line !== b[i]!.line) return false;
  return true;
}
