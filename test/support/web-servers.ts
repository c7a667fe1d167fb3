// Starts the test web apps of test/targets/web (Flask and Django on Gunicorn, FastAPI on uvicorn) from a setup
// venv on loopback, drives them with a bounded number of real HTTP requests, and runs `hotpath record`
// against them as a child process that stops on SIGINT, so tests need neither sleeps nor fixed durations.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listPythons, repoRoot, type TestPython } from './pythons.js';
import { chrootCommand, findRootfsPython } from './rootfs.js';
import { spawnTarget, type CleanupOwner, type SpawnedTarget } from './spawn-target.js';

export const webTargetsDir = join(repoRoot, 'test', 'targets', 'web');

/** A first start compiles every framework module to bytecode, slow on a busy 2-core machine. Not a sleep. */
const STARTUP_TIMEOUT_MS = 90_000;

export interface WebServer {
  target: SpawnedTarget;
  /** The process to attach to with --subprocesses (Gunicorn's master, uvicorn's supervisor). */
  rootPid: number;
  workerPids: number[];
  baseUrl: string;
}

/** How to run `python -m MODULE ARGS` from the test apps' folder with one interpreter. */
export interface PythonRunner {
  name: string;
  command(module: string, args: readonly string[]): { command: string; args: string[]; cwd?: string };
  /** Gunicorn 26 (Debian sid) wants --no-control-socket where it cannot create its socket. */
  gunicornArgs: string[];
}

/** A setup venv: its python, in test/targets/web. */
export function venvRunner(python: TestPython): PythonRunner {
  return {
    name: `Python ${python.fullVersion}`,
    command: (module, args) => ({ command: python.executable, args: ['-m', module, ...args], cwd: webTargetsDir }),
    gunicornArgs: [],
  };
}

/**
 * python<minor> of a Debian rootfs (its own Flask, Gunicorn, uvicorn...), run in a chroot on a copy of the
 * test apps placed inside the rootfs, removed when `owner` ends.
 */
export function rootfsRunner(root: string, minor: string, fullVersion: string, owner: CleanupOwner): PythonRunner {
  const copy = mkdtempSync(join(root, 'tmp', 'hotpath-web-'));
  cpSync(webTargetsDir, copy, { recursive: true });
  owner.after(() => rmSync(copy, { recursive: true, force: true }));
  const inside = copy.slice(root.length);
  const [chroot, ...chrootArgs] = chrootCommand(root, minor).slice(0, 2);
  return {
    name: `Debian's Python ${fullVersion}`,
    command: (module, args) => ({
      command: chroot!,
      args: [...chrootArgs, 'sh', '-c', `cd "$0" && exec python${minor} -m "$@"`, inside, module, ...args],
    }),
    gunicornArgs: ['--no-control-socket'],
  };
}

export interface GunicornOptions {
  app: string;
  workerClass?: 'sync' | 'gthread';
  workers?: number;
  threads?: number;
  maxRequests?: number;
}

export async function startGunicorn(
  runner: PythonRunner,
  options: GunicornOptions,
  owner: CleanupOwner,
): Promise<WebServer> {
  const workers = options.workers ?? 2;
  const args = ['-c', 'gunicorn_conf.py', '-w', String(workers), '-k', options.workerClass ?? 'sync'];
  if (options.threads) args.push('--threads', String(options.threads));
  if (options.maxRequests) args.push('--max-requests', String(options.maxRequests));
  const {
    command,
    args: commandArgs,
    cwd,
  } = runner.command('gunicorn', [...runner.gunicornArgs, ...args, options.app]);
  const target = await spawnTarget(command, commandArgs, { cwd, owner, timeoutMs: STARTUP_TIMEOUT_MS });
  const ready = /^READY port=(\d+) pid=(\d+)$/.exec(target.readyLine);
  if (!ready) throw new Error(`unexpected readiness line from gunicorn: ${target.readyLine}`);
  const workerPids = await waitForWorkers(target, workers);
  return { target, rootPid: Number(ready[2]), workerPids, baseUrl: `http://127.0.0.1:${ready[1]}` };
}

export async function startUvicorn(
  runner: PythonRunner,
  app: string,
  workers: number,
  owner: CleanupOwner,
): Promise<WebServer> {
  const port = await findFreePort();
  const uvicornArgs = [app, '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers)];
  const { command, args, cwd } = runner.command('uvicorn', [...uvicornArgs, '--no-access-log']);
  const target = await spawnTarget(command, args, {
    cwd,
    owner,
    readyPrefix: 'WORKER pid=',
    timeoutMs: STARTUP_TIMEOUT_MS,
  });
  const workerPids = [Number(target.readyLine.slice('WORKER pid='.length))];
  workerPids.push(...(await waitForWorkers(target, workers - 1)));
  return { target, rootPid: target.pid, workerPids, baseUrl: `http://127.0.0.1:${port}` };
}

async function waitForWorkers(target: SpawnedTarget, count: number): Promise<number[]> {
  const pids: number[] = [];
  while (pids.length < count) {
    const line = await target.waitForLine((text) => text.startsWith('WORKER pid='));
    pids.push(Number(line.slice('WORKER pid='.length)));
  }
  return pids;
}

/** A port that was free a moment ago (uvicorn with several workers cannot report the one it bound). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpResult {
  status: number;
  body: string;
}

export function httpGet(url: string, headers: Record<string, string> = {}, agent?: http.Agent): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent, timeout: 30_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/**
 * Requests every path of `paths` `rounds` times, in order, from `concurrency` clients at once: a bounded
 * load in which each endpoint is requested equally often. Throws on a non-200 answer.
 */
export async function driveLoad(
  baseUrl: string,
  paths: readonly string[],
  rounds: number,
  concurrency = 2,
): Promise<void> {
  const queue = Array.from({ length: rounds }, () => paths).flat();
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
          const { status, body } = await httpGet(baseUrl + path, {}, agent);
          if (status !== 200) throw new Error(`GET ${path}: ${status} ${body.slice(0, 200)}`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
}

export interface Recording {
  /** The saved profile (hotpath format) the recording wrote. */
  output: string;
  /** Everything hotpath wrote to stderr: progress lines, the summary and the endpoint table. */
  stderr: string;
  exitCode: number | null;
}

export interface RunningRecording {
  /** Ends the recording as Ctrl-C does and waits for its outputs. */
  stop(): Promise<Recording>;
}

/** Starts `hotpath record -f hotpath -o <tmp>/profile.hotpath ARGS` and resolves once it samples. */
export async function startRecording(args: readonly string[], owner: CleanupOwner): Promise<RunningRecording> {
  const { child, output } = spawnRecord(args, owner);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr += `${line}\n`;
      if (line.startsWith('hotpath: sampling ')) resolve();
    });
    void exited.then((code) => reject(new Error(`hotpath record exited (${code}) before sampling:\n${stderr}`)));
  });
  return {
    async stop() {
      child.kill('SIGINT');
      const exitCode = await exited;
      return { output, stderr, exitCode };
    },
  };
}

/** Runs `hotpath record -f hotpath -o <tmp>/profile.hotpath ARGS` to its end (give it -d SECONDS). */
export async function runRecording(args: readonly string[], owner: CleanupOwner): Promise<Recording> {
  const { child, output } = spawnRecord(args, owner);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { output, stderr, exitCode };
}

function spawnRecord(args: readonly string[], owner: CleanupOwner): { child: ChildProcess; output: string } {
  const output = join(mkdtempSync(join(tmpdir(), 'hotpath-web-')), 'profile.hotpath');
  const hotpath = join(repoRoot, 'bin', 'hotpath.js');
  const child = spawn(process.execPath, [hotpath, 'record', '-f', 'hotpath', '-o', output, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  owner.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output };
}

/** A Python the web tests run servers on: a setup venv or a Debian rootfs python. */
export interface WebInterpreter {
  /** '3.9' for a setup venv, 'sid-3.14' for a Debian rootfs python. */
  key: string;
  name: string;
  runner(owner: CleanupOwner): PythonRunner;
  skip?: string;
}

/**
 * By default one venv CPython ≤3.10, one ≥3.12, and Debian sid's `sidMinors` (their own Flask, Gunicorn, uvicorn,
 * FastAPI, read through _Py_DebugOffsets); HOTPATH_WEB_PYTHONS=3.9,3.13,sid-3.15 picks others.
 */
export function webInterpretersUnderTest(sidMinors: readonly string[] = ['3.14']): WebInterpreter[] {
  const venvs: WebInterpreter[] = listPythons()
    .filter((python) => python.kind === 'pyenv')
    .map((python) => ({ key: python.version, name: `Python ${python.fullVersion}`, runner: () => venvRunner(python) }));
  const rootfs: WebInterpreter[] = ['3.14', '3.15'].map((minor) => {
    const found = findRootfsPython('sid', minor);
    const key = `sid-${minor}`;
    if (found.skip !== undefined)
      return {
        key,
        name: `Debian sid's Python ${minor}`,
        runner: () => {
          throw new Error(found.skip);
        },
        skip: found.skip,
      };
    return {
      key,
      name: `Debian sid's Python ${found.fullVersion}`,
      runner: (owner) => rootfsRunner(found.root, minor, found.fullVersion, owner),
    };
  });
  const wanted = process.env.HOTPATH_WEB_PYTHONS?.split(',');
  if (wanted) return [...venvs, ...rootfs].filter((interpreter) => wanted.includes(interpreter.key));
  const minor = (interpreter: WebInterpreter): number => Number(interpreter.key.split('.')[1]);
  const old = venvs.find((venv) => minor(venv) <= 10);
  const recent = venvs.find((venv) => minor(venv) === 12) ?? venvs.find((venv) => minor(venv) >= 12);
  const sid = rootfs.filter((interpreter) => sidMinors.some((wantedMinor) => interpreter.key === `sid-${wantedMinor}`));
  return [old, recent, ...sid].filter((interpreter): interpreter is WebInterpreter => interpreter !== undefined);
}
