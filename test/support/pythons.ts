// The Python venvs that scripts/setup.sh built under .cache/venvs, for tests (and the demo) to run targets in.
// Reads the hotpath-venv.json manifest setup writes last into each finished venv; unfinished ones are skipped.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PythonKind = 'pyenv' | 'debian';

export interface TestPython {
  /** Venv folder name: '3.9' … '3.13', or 'system-3.11' for Debian's /usr/bin/python3. */
  label: string;
  /** Major.minor, e.g. '3.12'. */
  version: string;
  /** Full version, e.g. '3.12.1'. */
  fullVersion: string;
  /** The venv's python (a symlink to basePython, so /proc/<pid>/exe is the base interpreter). */
  executable: string;
  /** The interpreter the venv was made from. */
  basePython: string;
  kind: PythonKind;
  /** The venv's bin folder, for console scripts such as gunicorn. */
  binDir: string;
}

/** Repository root, found from this module's compiled place, dist/test/support/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export const venvsRoot = join(repoRoot, '.cache', 'venvs');

interface VenvManifest {
  label: string;
  version: string;
  fullVersion: string;
  kind: PythonKind;
  basePython: string;
}

/** Every venv setup finished, pyenv ones oldest first, then Debian's. */
export function listPythons(): TestPython[] {
  if (!existsSync(venvsRoot)) return [];
  const pythons = readdirSync(venvsRoot)
    .map((label) => readVenv(join(venvsRoot, label)))
    .filter((python): python is TestPython => python !== undefined);
  return pythons.sort(comparePythons);
}

/** The venv the demo runs in (setup picks the newest pyenv CPython from 3.11 on, even with --quick). */
export function findDemoPython(): TestPython {
  const labelFile = join(venvsRoot, 'demo-label');
  const label = existsSync(labelFile) ? readFileSync(labelFile, 'utf8').trim() : '';
  const python = label ? readVenv(join(venvsRoot, label)) : undefined;
  if (!python) throw new Error(`no demo venv under ${venvsRoot}: run \`bash scripts/setup.sh --quick\` first`);
  return python;
}

function readVenv(dir: string): TestPython | undefined {
  const manifestPath = join(dir, 'hotpath-venv.json');
  const binDir = join(dir, 'bin');
  const executable = join(binDir, 'python');
  if (!existsSync(manifestPath) || !existsSync(executable)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as VenvManifest;
  return { ...manifest, executable, binDir };
}

function comparePythons(a: TestPython, b: TestPython): number {
  if (a.kind !== b.kind) return a.kind === 'pyenv' ? -1 : 1;
  return a.fullVersion.localeCompare(b.fullVersion, 'en', { numeric: true });
}
