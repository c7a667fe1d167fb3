// Remembers where the runtime is for processes that map the same interpreter files at the same addresses: forked
// Gunicorn/uvicorn workers and multiprocessing children share their parent's address space layout, so attaching
// to each new one need not parse libpython's symbol tables and read-only data again.
import fs from 'node:fs';
import { openableMappedPath, type MapEntry } from '../proc/index.js';
import { findInterpreterCandidates, findRuntime, type RuntimeLocation } from './find-runtime.js';

/** Distinct interpreter layouts remembered; a long recording of a busy host sees a handful. */
const MAX_LAYOUTS = 64;

export class RuntimeLocationCache {
  private readonly locations = new Map<string, RuntimeLocation>();

  /** findRuntime, answered from memory when pid maps the very same files (same inode, size, mtime) at the same place. */
  find(pid: number, maps: readonly MapEntry[]): RuntimeLocation {
    const key = mappingKey(pid, maps);
    const known = key !== undefined ? this.locations.get(key) : undefined;
    if (known) return { ...known, notes: [...known.notes] };
    const location = findRuntime(pid, [...maps]);
    if (key !== undefined) {
      if (this.locations.size >= MAX_LAYOUTS) this.locations.clear();
      this.locations.set(key, location);
    }
    return location;
  }
}

/** Identity and place of every interpreter file mapped; undefined when one cannot be looked at from here. */
function mappingKey(pid: number, maps: readonly MapEntry[]): string | undefined {
  const parts: string[] = [];
  for (const candidate of findInterpreterCandidates(maps)) {
    const opened = openableMappedPath(pid, candidate);
    if (!opened) return undefined;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(opened);
    } catch {
      return undefined;
    }
    const places = maps.filter((m) => m.path === candidate.path).map((m) => `${m.start}-${m.offset}`);
    parts.push(`${candidate.path}|${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}|${places.join(',')}`);
  }
  return parts.length > 0 ? parts.join('\n') : undefined;
}
