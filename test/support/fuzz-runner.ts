// Runs a fuzz target's cases in a worker thread under a watchdog: a case that does not finish in time (an endless
// loop in a decoder) ends the worker and is reported with the case index that reproduces it.
import { Worker } from 'node:worker_threads';

export interface FuzzJob {
  target: string;
  first: number;
  count: number;
  /** One Int32: the index of the case running now. */
  progress: SharedArrayBuffer;
}

export type FuzzMessage =
  | { kind: 'failure'; index: number; error: string }
  | { kind: 'done'; decoded: number; rejected: number; slowestCaseMs: number };

export interface FuzzResult {
  /** Cases whose decoder returned a value. */
  decoded: number;
  /** Cases whose decoder threw an expected error (InvalidDataError, MemoryReadError, HotpathError). */
  rejected: number;
  failures: Array<{ index: number; error: string }>;
  /** The case that was still running when the watchdog ended the worker. */
  hung?: number;
  slowestCaseMs: number;
}

/** Same seed for the same target and case index on every run and machine. */
export function caseSeed(target: string, index: number): number {
  let hash = 2166136261;
  for (const char of target) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return (hash ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

/** Cases per target: a quick sweep by default, a long one with HOTPATH_FULL=1; HOTPATH_FUZZ_CASES overrides. */
export function fuzzCaseCount(quick: number, full: number): number {
  const override = Number(process.env.HOTPATH_FUZZ_CASES);
  if (override > 0) return override;
  return process.env.HOTPATH_FULL === '1' ? full : quick;
}

export function runFuzzTarget(
  target: string,
  first: number,
  count: number,
  caseTimeoutMs: number,
): Promise<FuzzResult> {
  const progress = new SharedArrayBuffer(4);
  const job: FuzzJob = { target, first, count, progress };
  const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: job });
  const running = new Int32Array(progress);
  const failures: FuzzResult['failures'] = [];
  return new Promise((resolve, reject) => {
    let lastIndex = -1;
    let lastChange = Date.now();
    const watchdog = setInterval(
      () => {
        const index = Atomics.load(running, 0);
        if (index !== lastIndex) {
          lastIndex = index;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > caseTimeoutMs) {
          clearInterval(watchdog);
          void worker
            .terminate()
            .then(() => resolve({ decoded: 0, rejected: 0, failures, hung: index, slowestCaseMs: Infinity }));
        }
      },
      Math.min(250, caseTimeoutMs / 4),
    );
    worker.on('message', (message: FuzzMessage) => {
      if (message.kind === 'failure') failures.push({ index: message.index, error: message.error });
      else {
        clearInterval(watchdog);
        resolve({ ...message, failures });
      }
    });
    worker.on('error', (err) => {
      clearInterval(watchdog);
      reject(err);
    });
  });
}
