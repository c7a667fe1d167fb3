// Runs cases of one fuzz target in a worker thread, so the test can stop a case that never ends. Publishes the
// index of the running case in shared memory (the watchdog reads it) and posts each failure, then a summary.
import { parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import { Rng, isExpectedDecodeError } from './fuzz.js';
import { FUZZ_TARGETS, buildFuzzContext } from './fuzz-targets.js';
import { caseSeed, type FuzzJob, type FuzzMessage } from './fuzz-runner.js';

const MAX_REPORTED_FAILURES = 5;

function run(job: FuzzJob): void {
  const progress = new Int32Array(job.progress);
  const target = FUZZ_TARGETS[job.target];
  if (!target) throw new Error(`no fuzz target ${job.target}`);
  const context = buildFuzzContext();
  const post = (message: FuzzMessage): void => parentPort!.postMessage(message);
  let decoded = 0;
  let rejected = 0;
  let failures = 0;
  let slowestCaseMs = 0;
  try {
    for (let index = job.first; index < job.first + job.count && failures < MAX_REPORTED_FAILURES; index++) {
      Atomics.store(progress, 0, index);
      const started = performance.now();
      try {
        target(new Rng(caseSeed(job.target, index)), context);
        decoded++;
      } catch (err) {
        if (isExpectedDecodeError(err)) rejected++;
        else {
          failures++;
          post({ kind: 'failure', index, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        }
      }
      slowestCaseMs = Math.max(slowestCaseMs, performance.now() - started);
    }
  } finally {
    fs.rmSync(context.elfPath, { force: true });
  }
  post({ kind: 'done', decoded, rejected, slowestCaseMs });
}

run(workerData as FuzzJob);
