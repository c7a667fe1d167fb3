// Hand-made profiles for the call-tree, collapsed-stack and flame graph tests: a small web app with a
// main thread in one process and a worker thread in another, so every grouping has something to show.

import { ProfileBuilder, type Profile, type RawFrame } from '../../src/profile/index.js';

export interface HandSample {
  frames: readonly RawFrame[];
  pid?: number;
  tid?: number;
  threadName?: string;
  endpoint?: string;
  /** How many identical samples to add. */
  times?: number;
}

export function frame(name: string, file: string, line: number, firstLine?: number): RawFrame {
  return firstLine === undefined ? { name, file, line } : { name, file, line, firstLine };
}

export function buildHandProfile(samples: readonly HandSample[], processes: Record<number, string> = {}): Profile {
  const builder = new ProfileBuilder();
  for (const [pid, command] of Object.entries(processes)) builder.addProcess(Number(pid), command);
  let time = 0;
  for (const sample of samples) {
    for (let i = 0; i < (sample.times ?? 1); i++) {
      builder.addSample({
        frames: sample.frames,
        time: (time += 10),
        pid: sample.pid ?? 10,
        tid: sample.tid ?? 100,
        threadName: sample.threadName ?? 'MainThread',
        endpoint: sample.endpoint,
      });
    }
  }
  return builder.build({ startTime: 0, durationMs: time, rateHz: 100, pythonVersion: '3.12.1', command: 'app.py' });
}

const main = frame('main', 'app.py', 10, 8);
const handleQuery = frame('handle', 'views.py', 20, 18);
const handleRender = frame('handle', 'views.py', 21, 18);
const query = frame('query', 'db.py', 5, 3);
const render = frame('render', 'tpl.py', 7, 6);
const run = frame('run', 'worker.py', 3, 1);

/**
 * MainThread (pid 10, tid 100): main→handle:20→query ×3, main→handle:21→render ×2, main→handle:20 ×1.
 * worker (pid 11, tid 101): run→query:5 ×4, run→query:6 ×1. 11 samples.
 */
export function buildWebAppProfile(): Profile {
  return buildHandProfile(
    [
      { frames: [main, handleQuery, query], times: 3, endpoint: 'GET /users' },
      { frames: [main, handleRender, render], times: 2, endpoint: 'GET /page' },
      { frames: [main, handleQuery], endpoint: 'GET /users' },
      { frames: [run, query], pid: 11, tid: 101, threadName: 'worker', times: 4 },
      { frames: [run, frame('query', 'db.py', 6, 3)], pid: 11, tid: 101, threadName: 'worker' },
    ],
    { 10: 'python app.py', 11: 'python worker.py' },
  );
}
