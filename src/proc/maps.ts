// /proc/PID/maps: which files are mapped where, and how to open a mapped file from outside the
// target's mount namespace (containers, chroots) by checking the inode the kernel reports.

import fs from 'node:fs';
import { HotpathError } from '../errors/index.js';
import { permissionHint } from './permissions.js';

export interface MapEntry {
  start: number;
  end: number;
  perms: string;
  /** File offset of the mapping's first byte. */
  offset: number;
  inode: number;
  path: string;
}

export function parseMaps(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+(\d+)\s*(.*)$/.exec(line);
    if (!match) continue;
    entries.push({
      start: parseInt(match[1]!, 16),
      end: parseInt(match[2]!, 16),
      perms: match[3]!,
      offset: parseInt(match[4]!, 16),
      inode: Number(match[5]),
      path: match[6]!.trim(),
    });
  }
  return entries;
}

export function readMaps(pid: number): MapEntry[] {
  try {
    return parseMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new HotpathError('no-such-process', `no process with pid ${pid}`);
    // The first file read from another user's process, so it must say what would be allowed.
    throw new HotpathError(
      'permission-denied',
      `cannot read /proc/${pid}/maps: ${code ?? String(err)}`,
      permissionHint(pid),
    );
  }
}

/** The lowest mapped address of a file: the base its ELF virtual addresses are relative to. */
export function mappingBase(maps: readonly MapEntry[], path: string): number | undefined {
  let base: number | undefined;
  for (const entry of maps) {
    if (entry.path === path && (base === undefined || entry.start - entry.offset < base)) {
      base = entry.start - entry.offset;
    }
  }
  return base;
}

/**
 * A path on which this process can open the file the target has mapped. The kernel prints map paths
 * relative to the reader's root where it can (a plain chroot shows host paths, which open as they are);
 * for a mount the reader cannot reach, relative to the root of the target's namespace: after pivot_root
 * that opens under /proc/PID/root, but for a chroot inside a private mount namespace only map_files
 * reaches the file. Each candidate is accepted only if its inode is the one the kernel reported (the
 * host may have a different file at the same path, e.g. /usr/bin/python3.11).
 */
export function openableMappedPath(pid: number, entry: MapEntry): string | undefined {
  const candidates = [
    entry.path,
    `/proc/${pid}/root${entry.path}`,
    `/proc/${pid}/map_files/${entry.start.toString(16)}-${entry.end.toString(16)}`,
  ];
  for (const candidate of candidates) {
    try {
      if (fs.statSync(candidate).ino === entry.inode) return candidate;
    } catch {
      // try the next way in
    }
  }
  return undefined;
}
