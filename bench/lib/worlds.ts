// The two places benchmark targets run: a pyenv CPython 3.13 on the host (hotpath, py-spy, austin), and
// CPython 3.15 in the Debian sid root filesystem of scripts/provision-chroots.sh (hotpath, Tachyon).
// Chrooted processes run in a private mount namespace with its own /proc, so that Tachyon, which runs
// inside the chroot, can read /proc/PID/maps; hotpath attaches to them from outside.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, stop, type Started } from './processes.js';

export interface World {
  /** Short label for tables: "3.13" or "3.15". */
  label: string;
  /** Full Python version of the targets, e.g. "3.13.0". */
  pythonVersion: string;
  /** Where the Python comes from, for the table's notes. */
  description: string;
  /** The command that runs one of bench/python/*.py in this world. */
  python(script: string, args?: readonly string[]): string[];
  /** Gunicorn serving bench/python/webapp.py with `workers` sync workers on 127.0.0.1:port. */
  gunicorn(port: number, workers: number): string[];
  /** Runs a command inside the world (the chroot), or as is on the host. */
  wrap(command: readonly string[]): string[];
  /** A fresh path, as seen from inside the world, for an output file. */
  scratchFile(name: string): string;
  /** The host path of a file named by its path inside the world. */
  hostPath(worldPath: string): string;
  close(): Promise<void>;
}

export interface WorldOrReason {
  world?: World;
  /** Why this world is missing: shown in every table row that needed it. */
  reason?: string;
}

export function openPyenvWorld(repo: string, minor = '3.13'): WorldOrReason {
  const venv = path.join(repo, '.cache/venvs', minor);
  const python = path.join(venv, 'bin/python');
  const manifest = path.join(venv, 'hotpath-venv.json');
  if (!fs.existsSync(python) || !fs.existsSync(manifest)) {
    return { reason: `no CPython ${minor} venv at ${venv} (scripts/setup.sh creates it from a pyenv build)` };
  }
  const fullVersion = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { fullVersion: string }).fullVersion;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-bench-'));
  const scripts = path.join(repo, 'bench/python');
  let counter = 0;
  return {
    world: {
      label: minor,
      pythonVersion: fullVersion,
      description: `pyenv CPython ${fullVersion} (venv ${path.relative(repo, venv)})`,
      python: (script, args = []) => [python, path.join(scripts, script), ...args],
      gunicorn: (port, workers) => [
        path.join(venv, 'bin/gunicorn'),
        '--workers',
        String(workers),
        '--bind',
        `127.0.0.1:${port}`,
        '--chdir',
        scripts,
        'webapp:app',
      ],
      wrap: (command) => [...command],
      scratchFile: (name) => path.join(scratch, `${counter++}-${name}`),
      hostPath: (worldPath) => worldPath,
      close: async () => fs.rmSync(scratch, { recursive: true, force: true }),
    },
  };
}

interface RootfsStatus {
  ok: boolean;
  root?: string;
  pythons: string[];
  error?: string;
}

/** CPython 3.15 in the sid root filesystem, or why it is not there. */
export async function openChrootWorld(repo: string, name = 'sid', minor = '3.15'): Promise<WorldOrReason> {
  const statusFile = path.join(repo, '.cache/rootfs/status.json');
  let status: RootfsStatus | undefined;
  try {
    status = (JSON.parse(fs.readFileSync(statusFile, 'utf8')) as Record<string, RootfsStatus>)[name];
  } catch {
    return { reason: `no ${statusFile}: run scripts/provision-chroots.sh --only ${name}` };
  }
  if (!status?.ok || !status.root)
    return { reason: `the ${name} root filesystem failed to provision: ${status?.error ?? 'unknown'}` };
  const fullVersion = status.pythons.find((version) => version.startsWith(`${minor}.`));
  if (!fullVersion)
    return { reason: `the ${name} root filesystem has no python${minor} (it has ${status.pythons.join(', ')})` };
  const root = status.root;
  const inside = '/tmp/hotpath-bench';
  fs.rmSync(path.join(root, inside), { recursive: true, force: true });
  fs.mkdirSync(path.join(root, inside, 'out'), { recursive: true });
  for (const file of fs.readdirSync(path.join(repo, 'bench/python'))) {
    fs.copyFileSync(path.join(repo, 'bench/python', file), path.join(root, inside, file));
  }
  let holder: Started;
  try {
    holder = start([
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t proc proc "$1/proc" && echo READY && exec sleep infinity',
      'sh',
      root,
    ]);
    await holder.waitForLine(/^READY$/, 10_000);
  } catch (err) {
    return { reason: `cannot make a mount namespace with /proc for the chroot: ${(err as Error).message}` };
  }
  const wrap = (command: readonly string[]): string[] => [
    'nsenter',
    '-t',
    String(holder.child.pid),
    '-m',
    'chroot',
    root,
    ...command,
  ];
  const python = `/usr/bin/python${minor}`;
  let counter = 0;
  return {
    world: {
      label: minor,
      pythonVersion: fullVersion,
      description: `Debian ${name} CPython ${fullVersion} in a chroot (${path.relative(repo, root)})`,
      python: (script, args = []) => wrap([python, `${inside}/${script}`, ...args]),
      // Gunicorn ≥ 24 opens a control socket, which fails in a chroot.
      gunicorn: (port, workers) =>
        wrap([
          python,
          '-m',
          'gunicorn',
          '--no-control-socket',
          '--workers',
          String(workers),
          '--bind',
          `127.0.0.1:${port}`,
          '--chdir',
          inside,
          'webapp:app',
        ]),
      wrap,
      scratchFile: (fileName) => `${inside}/out/${counter++}-${fileName}`,
      hostPath: (worldPath) => path.join(root, worldPath),
      close: async () => {
        await stop(holder);
        fs.rmSync(path.join(root, inside), { recursive: true, force: true });
      },
    },
  };
}
