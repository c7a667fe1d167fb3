// Captures the source text of the files the hottest samples ran in, for line-level views. Files are read as
// the target sees them (through /proc/PID/root or /proc/PID/cwd, so container and relative paths resolve),
// bounded in size, once per file, at the end of a recording.

import fs from 'node:fs';
import path from 'node:path';

/** Larger files are cut at the last whole line before this many bytes. */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/** How many of the hottest files get their source stored. */
export const SOURCE_FILES_TO_CAPTURE = 20;

/** The lines of `file` as process `pid` sees it, or undefined when it is unreadable or not text. */
export function readSourceFile(pid: number, file: string, maxBytes = MAX_SOURCE_BYTES): string[] | undefined {
  for (const candidate of sourceCandidates(pid, file)) {
    const text = readBoundedText(candidate, maxBytes);
    if (text !== undefined) return splitSourceLines(text);
  }
  return undefined;
}

/** The target's view of the file first; our own view of the same path as the fallback (target gone, no access). */
function sourceCandidates(pid: number, file: string): string[] {
  if (file === '' || file.startsWith('<')) return [];
  const own = path.isAbsolute(file) ? `/proc/${pid}/root${file}` : `/proc/${pid}/cwd/${file}`;
  return [own, file];
}

function readBoundedText(file: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes));
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const bytes = buffer.subarray(0, length);
    if (bytes.includes(0)) return undefined;
    const whole = length < stat.size ? bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1) : bytes;
    return whole.toString('utf8');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function splitSourceLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Counts samples per innermost file, so the capture at the end picks the files where time was spent. */
export class SourceFileTally {
  private readonly files = new Map<string, { pid: number; samples: number }>();

  note(pid: number, file: string): void {
    const entry = this.files.get(file);
    if (entry) entry.samples++;
    else this.files.set(file, { pid, samples: 1 });
  }

  /** The lines of the `limit` hottest files, leaving out those that cannot be read. */
  capture(limit = SOURCE_FILES_TO_CAPTURE): Map<string, string[]> {
    const hottest = [...this.files].sort((a, b) => b[1].samples - a[1].samples).slice(0, limit);
    const sources = new Map<string, string[]>();
    for (const [file, { pid }] of hottest) {
      const lines = readSourceFile(pid, file);
      if (lines) sources.set(file, lines);
    }
    return sources;
  }
}
