// The Debian root filesystems that scripts/provision-chroots.sh (run by scripts/setup.sh) unpacked into this clone's
// .cache/rootfs, for tests that run CPythons the host lacks: `chroot ROOT python3.X`, or a reason to skip when a rootfs
// is absent (its provisioning error, recorded in .cache/rootfs/status.json).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listPythons } from './pythons.js';

const statusPath = join(fileURLToPath(new URL('../../../', import.meta.url)), '.cache/rootfs/status.json');

interface RootfsStatus {
  ok: boolean;
  root?: string;
  pythons: string[];
  error?: string;
}

export type RootfsPython =
  | { rootfs: string; minor: string; fullVersion: string; root: string; skip?: undefined }
  | { rootfs: string; minor: string; skip: string };

/** python3.<minor> of a provisioned rootfs, or why a test cannot use it here. */
export function findRootfsPython(rootfs: string, minor: string): RootfsPython {
  const status = existsSync(statusPath)
    ? (JSON.parse(readFileSync(statusPath, 'utf8')) as Record<string, RootfsStatus>)[rootfs]
    : undefined;
  const base = { rootfs, minor };
  if (!status) return { ...base, skip: `rootfs ${rootfs} not provisioned: run scripts/setup.sh` };
  if (!status.ok || !status.root) return { ...base, skip: `rootfs ${rootfs} failed: ${status.error ?? 'unknown'}` };
  if (!existsSync(status.root)) return { ...base, skip: `${status.root} is gone: run scripts/setup.sh` };
  const fullVersion = status.pythons.find((version) => version.startsWith(`${minor}.`));
  if (!fullVersion) return { ...base, skip: `rootfs ${rootfs} has no python${minor} (it has ${status.pythons})` };
  return { ...base, fullVersion, root: status.root };
}

/**
 * The command that runs `python<minor> ARGS...` inside the rootfs, keeping the pid of the process spawned.
 * CPython, Flask, Gunicorn and uvicorn run without /proc in the chroot; `withMounts` is for code that needs
 * it (ps, /dev/fd, psutil) or a tmpfs /dev/shm (multiprocessing locks on bullseye's glibc 2.31). The mounts
 * live in a private mount namespace, so they vanish with the process and never need unmounting.
 */
export function chrootCommand(root: string, minor: string, options: { withMounts?: boolean } = {}): string[] {
  const python = `python${minor}`;
  if (!options.withMounts) return ['chroot', root, python];
  const script = 'mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs "$0/dev/shm" && exec chroot "$0" "$@"';
  return ['unshare', '--mount', 'sh', '-c', script, root, python];
}

/** A command that runs a test script on one interpreter, or why that interpreter is skipped here. */
export interface ScriptCommand {
  name: string;
  command: string[];
  skip?: string;
}

/**
 * `script` on the setup venvs and on the CPythons of the Debian root filesystems (3.14 and 3.15 are read through
 * _Py_DebugOffsets), where it runs from its text (`-c`): the chroot does not see this clone.
 */
export function scriptOnEveryPython(script: string): ScriptCommand[] {
  const venvs = listPythons().map((python) => ({
    name: `${python.label} (${python.fullVersion})`,
    command: [python.executable, script],
  }));
  const chroots = [
    ['trixie', '3.13'],
    ['sid', '3.14'],
    ['sid', '3.15'],
  ].map(([rootfs, minor]) => {
    const found = findRootfsPython(rootfs!, minor!);
    if (found.skip !== undefined) return { name: `${rootfs} ${minor}`, command: [], skip: found.skip };
    const text = readFileSync(script, 'utf8');
    return { name: `${rootfs} ${found.fullVersion}`, command: [...chrootCommand(found.root, minor!), '-c', text] };
  });
  return [...venvs, ...chroots];
}
