// What every scenario gets: where things are, how to log progress, and the worlds and profilers to compare.

import type { Profiler } from './profilers.js';
import type { World } from './worlds.js';

export interface BenchContext {
  repo: string;
  /** The Python that runs bench/python/rusage-run.py (any CPython 3.9+). */
  hostPython: string;
  /** bench/python on the host. */
  benchPython: string;
  /** A fresh host path for a scratch file. */
  scratch(name: string): string;
  log(message: string): void;
  /** Fewer rounds and shorter runs, for checking the benchmark itself. */
  quick: boolean;
}

/** A target world with the profilers that run against it, and those that cannot (with why). */
export interface Arena {
  world: World;
  profilers: Profiler[];
  missing: { name: string; reason: string }[];
}

/** A table cell that could not be measured says why. */
export interface NotRun {
  notRun: string;
}

/** Rotates `items` by `round`, so alternated runs do not always go in the same order. */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
