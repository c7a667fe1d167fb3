// Chooses the structure layout for a target: its own _Py_DebugOffsets where present (3.13+), so a new
// patch release needs no new table, else the generated table for the version read from the binary
// and, where exported, Py_Version.

import { HotpathError, MemoryReadError } from '../errors/index.js';
import type { MemoryReader } from '../proc/index.js';
import { readDebugOffsets } from './debug-offsets.js';
import type { PythonVersion, RuntimeLocation } from './find-runtime.js';
import type { PythonLayout } from './layout.js';
import { findTableLayout, tableLayouts } from './layouts/index.js';

export const SUPPORTED_RANGE = '3.9–3.15';

export function selectLayout(
  reader: MemoryReader,
  location: RuntimeLocation,
  readPyVersion: (reader: MemoryReader, address: number) => PythonVersion | undefined,
): { layout: PythonLayout; version: PythonVersion } {
  const fromMemory =
    location.pyVersionAddress !== undefined ? readPyVersion(reader, location.pyVersionAddress) : undefined;
  const debugLayout = readTargetDebugOffsets(reader, location.runtimeAddress);
  const version = fromMemory ?? location.binaryVersion ?? versionOfLayout(debugLayout);
  if (!version) {
    throw new HotpathError('unsupported-version', `cannot tell which Python version ${location.binaryPath} is`);
  }
  const layout = debugLayout ?? findTableLayout(version.major, version.minor);
  if (!layout) {
    throw new HotpathError(
      'unsupported-version',
      `Python ${version.text} is not supported (hotpath supports ${SUPPORTED_RANGE}; ` +
        `tables for ${[...tableLayouts.keys()].join(', ')}, and _Py_DebugOffsets from 3.13 on)`,
    );
  }
  if (layout.freeThreaded) {
    throw new HotpathError(
      'unsupported-version',
      `Python ${version.text} is a free-threaded build (no GIL), which hotpath does not profile yet`,
      'profile a regular (GIL) build of the same Python, e.g. python3.X instead of python3.Xt',
    );
  }
  return { layout, version };
}

/**
 * The target's own _Py_DebugOffsets, or undefined before 3.13 (no cookie) or when unreadable. A version they
 * name but hotpath does not know (3.16) is refused with the whole supported range, not only the cookie's.
 */
function readTargetDebugOffsets(reader: MemoryReader, runtimeAddress: number): PythonLayout | undefined {
  try {
    return readDebugOffsets(reader, runtimeAddress);
  } catch (err) {
    if (err instanceof MemoryReadError) return undefined;
    if (err instanceof HotpathError && err.kind === 'unsupported-version' && !err.message.includes(SUPPORTED_RANGE)) {
      throw new HotpathError(err.kind, `${err.message} (hotpath supports ${SUPPORTED_RANGE})`, err.hint);
    }
    throw err;
  }
}

function versionOfLayout(layout: PythonLayout | undefined): PythonVersion | undefined {
  if (!layout) return undefined;
  const [major, minor] = layout.version;
  return { major, minor, patch: 0, text: `${major}.${minor}` };
}
