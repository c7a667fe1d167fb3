// Chooses the structure layout for a target: its own _Py_DebugOffsets where present (3.13+),
// else the generated table for the version read from the binary and, where exported, Py_Version.

import { HotpathError } from '../errors/index.js';
import type { MemoryReader } from '../proc/index.js';
import type { PythonVersion, RuntimeLocation } from './find-runtime.js';
import type { PythonLayout } from './layout.js';
import { findTableLayout, tableLayouts } from './layouts/index.js';

export const SUPPORTED_RANGE = '3.9–3.15';

export function selectLayout(
  reader: MemoryReader,
  location: RuntimeLocation,
  readPyVersion: (reader: MemoryReader, address: number) => PythonVersion | undefined,
): { layout: PythonLayout; version: PythonVersion } {
  const fromMemory = location.pyVersionAddress !== undefined ? readPyVersion(reader, location.pyVersionAddress) : undefined;
  const version = fromMemory ?? location.binaryVersion;
  if (!version) {
    throw new HotpathError('unsupported-version', `cannot tell which Python version ${location.binaryPath} is`);
  }
  const layout = findTableLayout(version.major, version.minor);
  if (!layout) {
    throw new HotpathError(
      'unsupported-version',
      `Python ${version.text} is not supported (hotpath supports ${SUPPORTED_RANGE}; tables for ${[...tableLayouts.keys()].join(', ')})`,
    );
  }
  return { layout, version };
}
