// Starts demo/app.py under Gunicorn with demo/gunicorn.conf.py from a setup venv, on a free loopback port,
// and resolves once the master listens and every worker has loaded the app (no polling: readiness lines).
import { join } from 'node:path';
import { repoRoot, type TestPython } from './pythons.js';
import { spawnTarget, type CleanupOwner, type SpawnedTarget } from './spawn-target.js';

/** Worker count set in demo/gunicorn.conf.py. */
export const DEMO_WORKER_COUNT = 2;

export const demoDir = join(repoRoot, 'demo');

export interface DemoServer {
  target: SpawnedTarget;
  /** Gunicorn's master process (the process group leader). */
  masterPid: number;
  workerPids: number[];
  port: number;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
}

export async function startDemoServer(python: TestPython, owner?: CleanupOwner): Promise<DemoServer> {
  const target = await spawnTarget(join(python.binDir, 'gunicorn'), ['-c', 'gunicorn.conf.py', 'app:app'], {
    cwd: demoDir,
    env: { DEMO_PORT: '0' },
    owner,
  });
  const ready = /^READY port=(\d+) pid=(\d+)$/.exec(target.readyLine);
  if (!ready) throw new Error(`unexpected readiness line from gunicorn: ${target.readyLine}`);
  const workerPids: number[] = [];
  while (workerPids.length < DEMO_WORKER_COUNT) {
    const line = await target.waitForLine((text) => text.startsWith('WORKER'));
    const worker = /^WORKER pid=(\d+)$/.exec(line);
    if (!worker) throw new Error(`unexpected worker line from gunicorn: ${line}`);
    workerPids.push(Number(worker[1]));
  }
  const port = Number(ready[1]);
  return { target, masterPid: Number(ready[2]), workerPids, port, baseUrl: `http://127.0.0.1:${port}` };
}
