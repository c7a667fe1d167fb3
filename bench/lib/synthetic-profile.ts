// A synthetic but realistic profile for the output scenario: a web app's shape (2 worker processes of
// 4 threads, 20 endpoints, 3,000 functions in 300 files, 10,000 distinct stacks 10–40 frames deep that
// share long prefixes, a few hot), built through ProfileBuilder and deterministic from a seed.

import { ProfileBuilder, type Profile, type RawFrame } from '../../src/profile/index.js';

export interface SyntheticProfileOptions {
  samples: number;
  seed?: number;
}

const FILES = 300;
const FUNCTIONS = 3000;
const DISTINCT_STACKS = 10_000;
const PROCESSES = 2;
const THREADS_PER_PROCESS = 4;
const ENDPOINTS = 20;

/** A small, fast, seeded generator (mulberry32): the same profile on every machine (and test fixture). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildSyntheticProfile(options: SyntheticProfileOptions): Profile {
  const random = seededRandom(options.seed ?? 1);
  const pick = (n: number): number => Math.floor(random() * n);
  const builder = new ProfileBuilder();
  const functions = Array.from({ length: FUNCTIONS }, (_, i) => ({
    name: `module_${i % 97}.Handler${i % 13}.method_${i}`,
    file: `/srv/app/pkg${i % FILES}/module_${i % 97}.py`,
    firstLine: 10 + (i % 400),
  }));
  const frame = (): RawFrame => {
    const f = functions[pick(FUNCTIONS)]!;
    return { name: f.name, file: f.file, line: f.firstLine + pick(30), firstLine: f.firstLine };
  };
  const stacks: number[] = [];
  const frameLists: RawFrame[][] = [];
  for (let i = 0; i < DISTINCT_STACKS; i++) {
    const depth = 10 + pick(31);
    // Most stacks continue another one from a few frames below its leaf, as calls from one view do.
    const parent = frameLists.length > 0 && random() < 0.95 ? frameLists[pick(frameLists.length)]! : [];
    const frames = parent.slice(0, Math.max(0, Math.min(parent.length, depth) - 1 - pick(4)));
    while (frames.length < depth) frames.push(frame());
    frameLists.push(frames);
    stacks.push(builder.internFrames(frames));
  }
  const threads: number[] = [];
  for (let p = 0; p < PROCESSES; p++) {
    const pid = 1000 + p;
    builder.addProcess(pid, `gunicorn: worker [app:${p}]`);
    for (let t = 0; t < THREADS_PER_PROCESS; t++)
      threads.push(builder.internThread(pid, pid + t, t === 0 ? 'MainThread' : `worker-${t}`));
  }
  const endpoints = Array.from({ length: ENDPOINTS }, (_, i) =>
    builder.internEndpoint(`GET /api/v1/resource${i}/{id}`),
  );
  for (let i = 0; i < options.samples; i++) {
    // A few stacks are hot: squaring a uniform number favours low indices.
    const stack = stacks[Math.floor(random() ** 2 * DISTINCT_STACKS)]!;
    const thread = threads[i % threads.length]!;
    const time = Math.floor(i / threads.length);
    builder.addInterned(stack, time, thread, random() < 0.8 ? endpoints[pick(ENDPOINTS)]! : -1, 0);
  }
  return builder.build({
    startTime: Date.UTC(2026, 0, 1),
    durationMs: Math.ceil(options.samples / threads.length),
    rateHz: 1000,
    pythonVersion: '3.13.0',
    command: 'gunicorn app:app (synthetic)',
  });
}
