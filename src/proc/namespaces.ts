// Which PID and mount namespaces a process lives in (containers): a target in another mount namespace has its
// files under /proc/PID/root, and one in a nested PID namespace has a different pid inside it.
import fs from 'node:fs';
import { readStatusField } from './permissions.js';

export type NamespaceKind = 'pid' | 'mnt';

/** The inode of the initial (host) PID namespace, fixed by the kernel (PROC_PID_INIT_INO). */
const INITIAL_PID_NAMESPACE = `pid:[${0xeffffffc}]`;

/** e.g. "pid:[4026531836]"; undefined when the process is gone or its namespaces may not be inspected. */
export function readNamespaceId(pid: number | 'self', kind: NamespaceKind): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** The process's pid in each PID namespace it belongs to, outermost (as seen from here) first. */
export function readNamespacePids(pid: number | 'self'): number[] {
  return (readStatusField(pid, 'NSpid') ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** True when the process runs in a PID namespace other than the host's: in a container, seeing only its processes. */
export function isInNestedPidNamespace(pid: number | 'self'): boolean {
  const id = readNamespaceId(pid, 'pid');
  return id !== undefined && id !== INITIAL_PID_NAMESPACE;
}
