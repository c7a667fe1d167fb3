// The generated per-version layout tables (see scripts/gen-layouts.sh), looked up by Python version.
// Used when the target has no _Py_DebugOffsets of its own (before 3.13) or as a reference for it.
import type { PythonLayout } from '../layout.js';
import { layout as v39 } from './v3-9.js';
import { layout as v310 } from './v3-10.js';
import { layout as v311 } from './v3-11.js';
import { layout as v312 } from './v3-12.js';
import { layout as v313 } from './v3-13.js';

/** Every generated table, keyed by "major.minor" (e.g. "3.12"). */
export const tableLayouts: ReadonlyMap<string, PythonLayout> = new Map(
  [v39, v310, v311, v312, v313].map((layout) => [versionKey(layout.version[0], layout.version[1]), layout]),
);

/** The generated table for a Python version, or undefined when hotpath has none for it. */
export function findTableLayout(major: number, minor: number): PythonLayout | undefined {
  return tableLayouts.get(versionKey(major, minor));
}

function versionKey(major: number, minor: number): string {
  return `${major}.${minor}`;
}
