// Writes output files atomically: a temporary file beside the target, fsync, then rename, so an
// interrupted or failed write never leaves a partial file under the final name.

import fs from 'node:fs';
import path from 'node:path';
import { HotpathError } from '../errors/index.js';

export function writeFileAtomic(file: string, data: string | Buffer): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(temporary, 'w', 0o644);
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    throw new HotpathError('io', `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Fails before recording starts when the output cannot be written (missing folder, read-only, /dev/full). */
export function checkWritable(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new HotpathError('io', `cannot write to ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new HotpathError('io', `${file} is a directory`);
  }
  if (isCharacterDevice(file)) {
    throw new HotpathError('io', `${file} is a device, not a file: give a file name with -o`);
  }
}

function isCharacterDevice(file: string): boolean {
  try {
    return fs.statSync(file).isCharacterDevice();
  } catch {
    return false;
  }
}
