// A saved .hotpath file taken apart and put back together, so that tests can forge inconsistent files.
import { gunzipSync, gzipSync } from 'node:zlib';
import { HOTPATH_PROFILE_MAGIC } from '../../src/export/hotpath-profile.js';

/** The file's inner payload split into header JSON and column bytes. */
export function unpack(file: Buffer): { header: Record<string, unknown>; body: Buffer } {
  const bytes = gunzipSync(file);
  const start = HOTPATH_PROFILE_MAGIC.length + 4;
  const length = bytes.readUInt32LE(HOTPATH_PROFILE_MAGIC.length);
  return { header: JSON.parse(bytes.toString('utf8', start, start + length)), body: bytes.subarray(start + length) };
}

export function repack(header: Record<string, unknown>, body: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return gzipSync(Buffer.concat([HOTPATH_PROFILE_MAGIC, length, json, body]));
}
