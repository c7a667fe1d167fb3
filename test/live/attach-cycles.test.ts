// Attach, sample and detach, over and over, against a running Gunicorn app (demo/app.py, a master and two sync
// workers) while a client keeps requests in flight: the app never crashes, no process is ever seen stopped,
// no worker is replaced, and every request is answered. 200 cycles by default, 10,000 with HOTPATH_FULL=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { PythonProcess, RuntimeLocationCache } from '../../src/cpython/index.js';
import { processIsGone, readDescendants, readThreadIds, readThreadState } from '../../src/proc/index.js';
import { startDemoServer } from '../support/demo-server.js';
import type { LoadJob, LoadReport } from '../support/http-load-worker.js';
import { listPythons } from '../support/pythons.js';

const CYCLES = Number(process.env.HOTPATH_ATTACH_CYCLES ?? (process.env.HOTPATH_FULL === '1' ? 10_000 : 200));
const python =
  listPythons().find((p) => p.label === '3.12') ??
  listPythons()
    .filter((p) => p.kind === 'pyenv')
    .at(-1);

/** Scheduler states of every thread of pid that mean "stopped" (by a signal or a tracer). */
function stoppedThreads(pid: number): string[] {
  return readThreadIds(pid)
    .map((tid) => ({ tid, state: readThreadState(pid, tid) }))
    .filter(({ state }) => state === 'T' || state === 't')
    .map(({ tid, state }) => `${pid}/${tid}: ${state}`);
}

function startLoad(job: LoadJob): { stop: () => Promise<LoadReport> } {
  const worker = new Worker(new URL('../support/http-load-worker.js', import.meta.url), { workerData: job });
  const report = new Promise<LoadReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const result = await report;
      await worker.terminate();
      return result;
    },
  };
}

test(
  `${CYCLES} attach-sample-detach cycles against Gunicorn under load`,
  { skip: !python && 'no venvs' },
  async (t) => {
    const server = await startDemoServer(python!, t);
    const pids = [server.masterPid, ...server.workerPids];
    const load = startLoad({ url: `${server.baseUrl}/`, concurrency: 4 });
    // As a recording does: one cache for the attaches, so each cycle costs reads of the target, not ELF parsing.
    const runtimeCache = new RuntimeLocationCache();
    const stopped: string[] = [];
    let attaches = 0;
    let stacksRead = 0;
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        for (const pid of pids) {
          const attached = PythonProcess.attach(pid, { runtimeCache });
          try {
            stacksRead += attached.readStacks().length;
          } finally {
            attached.close();
          }
          attaches++;
          stopped.push(...stoppedThreads(pid));
        }
      }
    } finally {
      const report = await load.stop();
      t.diagnostic(
        `${attaches} attaches, ${stacksRead} thread stacks read, ${report.answered}/${report.sent} requests answered`,
      );
      assert.deepEqual(stopped, [], 'a thread of the app was seen stopped');
      assert.deepEqual(report.failures, [], 'requests failed');
      assert.equal(report.answered, report.sent, 'every request was answered');
      assert.ok(report.answered > 0, 'the client got no answer at all');
    }
    assert.equal(attaches, CYCLES * pids.length);
    for (const pid of pids) assert.ok(!processIsGone(pid), `process ${pid} is gone`);
    // Gunicorn replaces a worker that crashed or missed its heartbeat: the same workers mean none was.
    assert.deepEqual(readDescendants(server.masterPid).sort(), [...server.workerPids].sort());
    assert.equal((await fetch(`${server.baseUrl}/`)).status, 200);
  },
);
