// Writes output files atomically: a temporary file beside the target, written in full, fsynced, then renamed
// over it, so an interrupted or failed write never leaves a partial file under the final name. checkWritable
// catches what can be known before a recording starts: a missing or read-only folder, a full disk, an output
// that is a device, pipe or folder (renaming over /dev/stdout would replace it, not write to it).

import fs from 'node:fs';
import path from 'node:path';
import { HotpathError } from '../errors/index.js';

export function writeFileAtomic(file: string, data: string | Buffer): void {
  const target = followSymlink(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    writeWhole(temporary, typeof data === 'string' ? Buffer.from(data) : data);
    fs.renameSync(temporary, target);
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    throw new HotpathError('io', `cannot write ${file} (${describeError(err)}); nothing was written under that name`);
  }
  syncFolder(path.dirname(target));
}

/** Fails before recording starts when the output cannot be written (missing folder, read-only, full, a device). */
export function checkWritable(file: string): void {
  if (file === '-') {
    throw new HotpathError('usage', 'hotpath writes its output to a file, not to stdout', 'give a file name with -o');
  }
  const kind = fileKind(file);
  if (kind === 'directory') throw new HotpathError('io', `${file} is a directory`);
  if (kind !== undefined && kind !== 'file') {
    throw new HotpathError(
      'io',
      `${file} is a ${kind}, not a file: hotpath writes its output to a temporary file and renames it into place`,
      'give a file name with -o',
    );
  }
  const dir = path.dirname(path.resolve(followSymlink(file)));
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new HotpathError('io', `cannot write to ${dir} (${describeError(err)})`);
  }
  if (isFull(dir)) {
    throw new HotpathError('io', `cannot write to ${dir}: no space left on its file system`, 'free some space first');
  }
}

/** Writes all of `data`: one writeSync may write less than asked. */
function writeWhole(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    for (let written = 0; written < data.length;) written += fs.writeSync(fd, data, written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** An output that is a symlink keeps the link: its target is replaced. */
function followSymlink(file: string): string {
  try {
    return fs.lstatSync(file).isSymbolicLink() ? fs.realpathSync(file) : file;
  } catch {
    return file;
  }
}

/** What the output is now, following symlinks as the kernel does (/dev/stdout may be a pipe). */
function fileKind(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isFIFO()) return 'pipe';
  if (stat.isSocket()) return 'socket';
  return 'device';
}

/** A file system with blocks and none of them free (procfs and the like have no blocks at all). */
function isFull(dir: string): boolean {
  try {
    const stats = fs.statfsSync(dir);
    return stats.blocks > 0 && stats.bavail === 0;
  } catch {
    return false;
  }
}

/** The rename is durable once the folder's entry is on disk too; a folder that cannot be synced is no error. */
function syncFolder(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some file systems refuse fsync on a folder; the file itself was synced
  }
}

const WRITE_HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'no permission to write there',
  EPERM: 'no permission to write there',
  ENOENT: 'the folder does not exist',
};

function describeError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (!code) return String(err);
  return WRITE_HINTS[code] ? `${code}: ${WRITE_HINTS[code]}` : code;
}
