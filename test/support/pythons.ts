// The Python venvs that scripts/setup.sh provides, for tests (and the demo) to run targets in: .cache/venvs/<label>
// links to a venv in the machine-wide store; each finished one holds a hotpath-venv.json manifest.
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
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
  /** The venv's python, link resolved to the store (a symlink to basePython: /proc/<pid>/exe is the base). */
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
    .map((label) => readVenv(label))
    .filter((python): python is TestPython => python !== undefined);
  return pythons.sort(comparePythons);
}

/** The venv the demo runs in (setup picks the newest pyenv CPython from 3.11 on, even with --quick). */
export function findDemoPython(): TestPython {
  const labelFile = join(venvsRoot, 'demo-label');
  const label = existsSync(labelFile) ? readFileSync(labelFile, 'utf8').trim() : '';
  const python = label ? readVenv(label) : undefined;
  if (!python) throw new Error(`no demo venv under ${venvsRoot}: run \`bash scripts/setup.sh --quick\` first`);
  return python;
}

/** The venv .cache/venvs/<label> links to, if it is finished and really is that label's (not the tools venv). */
function readVenv(label: string): TestPython | undefined {
  const link = join(venvsRoot, label);
  if (!existsSync(join(link, 'hotpath-venv.json')) || !existsSync(join(link, 'bin', 'python'))) return undefined;
  const dir = realpathSync(link);
  const manifest = JSON.parse(readFileSync(join(dir, 'hotpath-venv.json'), 'utf8')) as VenvManifest;
  if (manifest.label !== label) return undefined;
  const binDir = join(dir, 'bin');
  return { ...manifest, executable: join(binDir, 'python'), binDir };
}

function comparePythons(a: TestPython, b: TestPython): number {
  if (a.kind !== b.kind) return a.kind === 'pyenv' ? -1 : 1;
  return a.fullVersion.localeCompare(b.fullVersion, 'en', { numeric: true });
}
