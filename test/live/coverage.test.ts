// Live coverage of every CPython build this machine can run: pyenv 3.9–3.13 (PIE, shared libpython), their venvs,
// Debian's /usr/bin/python3.11 and the Debian 3.9–3.15 of the provisioned root filesystems (chroot, own mount
// namespace, paths reachable only through map_files), and copies whose `_PyRuntime` symbol and section are renamed.
// Each runs test/targets/known.py; dump, an attached record and a launched record must report it exactly. Outcomes
// go to .cache/coverage-results.json, from which `npm run support-table` renders docs/support.md.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { PythonProcess, SUPPORTED_RANGE, type RuntimeLocation } from '../../src/cpython/index.js';
import { ElfFile, ET_EXEC } from '../../src/elf/index.js';
import {
  COVERAGE_FORMAT,
  type BuildFacts,
  type ColumnId,
  type CoverageCase,
  type Outcome,
  type RuntimeFacts,
} from '../support/coverage-results.js';
import {
  checkDumpedThreads,
  checkLaunchedRawProfile,
  checkThreadedRawProfile,
  knownPy,
  type DumpedThread,
  type ReadyInfo,
} from '../support/known-script.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { findRootfsPython } from '../support/rootfs.js';
import { spawnTarget } from '../support/spawn-target.js';
import { tempDir } from '../support/temp-dir.js';

const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const resultsPath = path.join(repoRoot, '.cache/coverage-results.json');
const pyenvVersions = path.join(process.env.PYENV_ROOT ?? '/root/.pyenv', 'versions');
/** Cases run at once: each keeps two busy interpreters (attached and launched) on a 2-core machine. */
const CONCURRENCY = 3;

/** How to run the interpreter of a case, with known.py where that interpreter sees it. */
interface Launch {
  /** The command up to (not including) the script. */
  python: string[];
  /** known.py's path as the target sees it. */
  script: string;
  env?: Record<string, string>;
  /** What finding and opening its runtime must look like. */
  expect: { strategy: RuntimeFacts['strategy']; openedVia: RuntimeFacts['openedVia'] };
}

interface CaseSpec {
  id: string;
  column: ColumnId;
  minor: string;
  label: string;
  /** Sets the case up (copies files, owned by t) or says why it cannot run here. */
  prepare(t: TestContext): Launch | { skip: string };
}

// ---- the cases ------------------------------------------------------------------------------------------------

/** The newest pyenv CPython of each minor version 3.9–3.13 that is installed. */
function findPyenvBuilds(): Array<{ minor: string; home: string }> {
  const installed = fs.existsSync(pyenvVersions) ? fs.readdirSync(pyenvVersions) : [];
  return ['3.9', '3.10', '3.11', '3.12', '3.13'].map((minor) => {
    const newest = installed
      .filter((v) => v.startsWith(`${minor}.`) && /^\d+\.\d+\.\d+$/.test(v))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .at(-1);
    return { minor, home: newest ? path.join(pyenvVersions, newest) : '' };
  });
}

const ROOTFS_PYTHONS = [
  ['bullseye', '3.9'],
  ['bookworm', '3.11'],
  ['trixie', '3.13'],
  ['sid', '3.14'],
  ['sid', '3.15'],
] as const;

/** Renames `_PyRuntime` (keeping its GNU hash, so the dynamic linker still binds it) and the `.PyRuntime` section. */
function copyWithoutRuntimeNames(source: string, destination: string): void {
  const renamed = (from: string, to: string, bytes: Buffer): Buffer => {
    const [a, b] = [Buffer.from(`\0${from}\0`, 'latin1'), Buffer.from(`\0${to}\0`, 'latin1')];
    const parts: Buffer[] = [];
    let start = 0;
    for (let at = bytes.indexOf(a); at !== -1; at = bytes.indexOf(a, at + a.length)) {
      parts.push(bytes.subarray(start, at), b);
      start = at + a.length;
    }
    return Buffer.concat([...parts, bytes.subarray(start)]);
  };
  // 'm','e' → 'n','D': +1·33 − 33 leaves the djb2 (GNU) hash unchanged.
  const bytes = renamed('.PyRuntime', '.PyRuntinD', renamed('_PyRuntime', '_PyRuntinD', fs.readFileSync(source)));
  fs.writeFileSync(destination, bytes, { mode: 0o755 });
}

/** known.py copied into the rootfs (under its /tmp); returns the copy's directory as the host and the target see it. */
function placeInRootfs(t: TestContext, root: string): { hostDir: string; targetDir: string } {
  const hostDir = tempDir(t, path.join(root, 'tmp'));
  fs.copyFileSync(knownPy, path.join(hostDir, 'known.py'));
  return { hostDir, targetDir: `/${path.relative(root, hostDir)}` };
}

const PIVOT_ROOT_SCRIPT =
  // /proc is mounted first so that the old root can be unmounted (umount reads mountinfo) after pivot_root.
  'mount --bind "$0" "$0" && mount -t proc proc "$0/proc" && cd "$0" && pivot_root . mnt && ' +
  // The host's umount runs with the host's own loader and libraries: the new root's may be older (bullseye).
  '/mnt/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path /mnt/usr/lib/x86_64-linux-gnu /mnt/usr/bin/umount -l /mnt && ' +
  'exec "$@"';
const PRIVATE_PATH_SCRIPT =
  // A tmpfs hides the host's /mnt in the new namespace only: /mnt/root exists nowhere the host can see.
  'mount -t tmpfs tmpfs /mnt && mkdir /mnt/root && mount --bind "$0" /mnt/root && exec chroot /mnt/root "$@"';

function rootfsCase(
  column: ColumnId,
  rootfs: string,
  minor: string,
  launch: (root: string, targetDir: string, t: TestContext, hostDir: string) => Omit<Launch, 'script'>,
): CaseSpec {
  return {
    id: `${column}-${rootfs}-${minor}`,
    column,
    minor,
    label: `${rootfs} python${minor} (${COLUMN_NOTES[column]})`,
    prepare(t) {
      const found = findRootfsPython(rootfs, minor);
      if (found.skip !== undefined) return { skip: found.skip };
      const { hostDir, targetDir } = placeInRootfs(t, found.root);
      return { ...launch(found.root, targetDir, t, hostDir), script: `${targetDir}/known.py` };
    },
  };
}

const COLUMN_NOTES: Record<ColumnId, string> = {
  pyenv: 'pyenv',
  venv: 'venv',
  'debian-host': 'host',
  chroot: 'chroot',
  'pivot-root': 'pivot_root in its own mount namespace',
  'map-files': 'chroot at a path private to its mount namespace',
  scan: '_PyRuntime symbol and section renamed',
};

const unshare = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c'];

function buildCases(): CaseSpec[] {
  const pyenv = findPyenvBuilds();
  const missingPyenv = (home: string, minor: string) =>
    home ? '' : `no pyenv CPython ${minor} under ${pyenvVersions}`;
  const venvs = listPythons();
  return [
    ...pyenv.map(({ minor, home }): CaseSpec => ({
      id: `pyenv-${minor}`,
      column: 'pyenv',
      minor,
      label: `pyenv ${path.basename(home) || minor}`,
      prepare: () =>
        home
          ? {
              python: [path.join(home, 'bin/python3')],
              script: knownPy,
              expect: { strategy: 'symbol', openedVia: 'path' },
            }
          : { skip: missingPyenv(home, minor) },
    })),
    ...[...pyenv.map(({ minor }) => minor), '3.11'].map((minor, index): CaseSpec => {
      const kind = index === pyenv.length ? 'debian' : 'pyenv';
      const venv = venvs.find((v) => v.version === minor && v.kind === kind);
      return {
        id: `venv-${kind}-${minor}`,
        column: 'venv',
        minor,
        label: `venv of ${kind} ${venv?.fullVersion ?? minor}`,
        prepare() {
          if (!venv) return { skip: `no ${kind} ${minor} venv under .cache/venvs: run scripts/setup.sh` };
          // What makes a venv different for hotpath: its python is a link, /proc/PID/exe the base interpreter.
          assert.ok(fs.lstatSync(venv.executable).isSymbolicLink(), `${venv.executable} is not a symlink`);
          return { python: [venv.executable], script: knownPy, expect: { strategy: 'symbol', openedVia: 'path' } };
        },
      };
    }),
    {
      id: 'debian-host-3.11',
      column: 'debian-host',
      minor: '3.11',
      label: 'Debian /usr/bin/python3.11 (host)',
      prepare: () =>
        fs.existsSync('/usr/bin/python3.11')
          ? { python: ['/usr/bin/python3.11'], script: knownPy, expect: { strategy: 'symbol', openedVia: 'path' } }
          : { skip: '/usr/bin/python3.11 is not installed' },
    },
    ...ROOTFS_PYTHONS.map(([rootfs, minor]) =>
      rootfsCase('chroot', rootfs, minor, (root) => ({
        python: ['chroot', root, `python${minor}`],
        expect: { strategy: 'symbol', openedVia: 'path' },
      })),
    ),
    ...ROOTFS_PYTHONS.map(([rootfs, minor]) =>
      rootfsCase('pivot-root', rootfs, minor, (root) => ({
        python: [...unshare, PIVOT_ROOT_SCRIPT, root, `/usr/bin/python${minor}`],
        expect: { strategy: 'symbol', openedVia: '/proc/PID/root' },
      })),
    ),
    ...ROOTFS_PYTHONS.map(([rootfs, minor]) =>
      rootfsCase('map-files', rootfs, minor, (root) => ({
        python: [...unshare, PRIVATE_PATH_SCRIPT, root, `python${minor}`],
        expect: { strategy: 'symbol', openedVia: 'map_files' },
      })),
    ),
    ...pyenv.map(({ minor, home }): CaseSpec => ({
      id: `scan-pyenv-${minor}`,
      column: 'scan',
      minor,
      label: `pyenv ${path.basename(home) || minor}, libpython copy with _PyRuntime renamed`,
      prepare(t) {
        if (!home) return { skip: missingPyenv(home, minor) };
        const dir = tempDir(t);
        const library = `libpython${minor}.so.1.0`;
        copyWithoutRuntimeNames(path.join(home, 'lib', library), path.join(dir, library));
        // The pyenv executable's RUNPATH yields to LD_LIBRARY_PATH: it loads the renamed copy.
        return {
          python: [path.join(home, 'bin/python3')],
          script: knownPy,
          env: { LD_LIBRARY_PATH: dir },
          expect: { strategy: 'scan', openedVia: 'path' },
        };
      },
    })),
    {
      id: 'scan-debian-host-3.11',
      column: 'scan',
      minor: '3.11',
      label: 'Debian /usr/bin/python3.11 copy with _PyRuntime and .PyRuntime renamed',
      prepare(t) {
        if (!fs.existsSync('/usr/bin/python3.11')) return { skip: '/usr/bin/python3.11 is not installed' };
        const copy = path.join(tempDir(t), 'python3.11');
        copyWithoutRuntimeNames('/usr/bin/python3.11', copy);
        return { python: [copy], script: knownPy, expect: { strategy: 'scan', openedVia: 'path' } };
      },
    },
    ...ROOTFS_PYTHONS.map(([rootfs, minor]) =>
      rootfsCase('scan', rootfs, minor, (root, targetDir, _t, hostDir) => {
        copyWithoutRuntimeNames(path.join(root, `usr/bin/python${minor}`), path.join(hostDir, `python${minor}`));
        return {
          python: ['chroot', root, `${targetDir}/python${minor}`],
          expect: { strategy: 'scan', openedVia: 'path' },
        };
      }),
    ),
  ];
}

// ---- running hotpath and reading facts ------------------------------------------------------------------------

interface HotpathResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runHotpath(args: readonly string[], env: Record<string, string> = {}): Promise<HotpathResult> {
  const child = spawn(process.execPath, [hotpathBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function readBuildFacts(pid: number, location: RuntimeLocation): BuildFacts {
  const facts = (file: string, read: (elf: ElfFile) => boolean): boolean => {
    const elf = ElfFile.open(file);
    try {
      return read(elf);
    } finally {
      elf.close();
    }
  };
  return {
    executable: facts(`/proc/${pid}/exe`, (elf) => elf.type === ET_EXEC) ? 'non-PIE' : 'PIE',
    libpython: path.basename(location.binaryPath).startsWith('libpython') ? 'shared' : 'static',
    stripped: facts(location.openedPath, (elf) => !elf.section('.symtab')),
  };
}

function classifyOpenedPath(pid: number, location: RuntimeLocation): RuntimeFacts['openedVia'] {
  if (location.openedPath.startsWith(`/proc/${pid}/root/`)) return '/proc/PID/root';
  if (location.openedPath.startsWith(`/proc/${pid}/map_files/`)) return 'map_files';
  return 'path';
}

/** Runs one check, recording its outcome before passing a failure on. */
async function check(outcomes: Record<string, Outcome>, name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
    outcomes[name] = 'pass';
  } catch (error) {
    outcomes[name] = 'fail';
    throw error;
  }
}

async function runCase(spec: CaseSpec, launch: Launch, t: TestContext, result: CoverageCase): Promise<void> {
  const target = await spawnTarget(launch.python[0]!, [...launch.python.slice(1), launch.script], {
    env: launch.env,
    owner: t,
  });
  const ready = JSON.parse(target.readyLine.slice('READY'.length)) as ReadyInfo;
  const known = { pid: target.pid, ready };
  assert.equal(ready.pid, target.pid, 'the interpreter runs in the pid that was started (exec, no fork)');
  result.version = ready.version;

  const python = PythonProcess.attach(target.pid);
  try {
    result.build = readBuildFacts(target.pid, python.location);
    result.runtime = {
      strategy: python.location.strategy,
      openedVia: classifyOpenedPath(target.pid, python.location),
      layout: python.layout.source,
    };
    assert.equal(python.version.text, ready.version, 'hotpath reads the version the interpreter reports');
    assert.deepEqual(
      { strategy: result.runtime.strategy, openedVia: result.runtime.openedVia },
      launch.expect,
      python.location.notes.join('; '),
    );
    assert.equal(result.runtime.layout, Number(spec.minor.split('.')[1]) >= 13 ? 'debug-offsets' : 'table');
  } finally {
    python.close();
  }

  const outcomes: Record<string, Outcome> = { dump: 'skip', attached: 'skip', launched: 'skip' };
  result.checks = outcomes as CoverageCase['checks'];
  const dir = tempDir(t);
  const attachedOutput = path.join(dir, 'attached.txt');
  const launchedOutput = path.join(dir, 'launched.txt');
  const attachedArgs = ['record', '-f', 'raw', '-d', '1', '-r', '100', '-i', '-t', '-o', attachedOutput];
  const launchedArgs = ['record', '-f', 'raw', '-d', '3', '-o', launchedOutput, '--', ...launch.python, launch.script];
  // The three run at once: they read the same (or, launched, a second) process independently.
  const checks = await Promise.allSettled([
    check(outcomes, 'dump', async () => {
      const dumped = await runHotpath(['dump', '--json', '--pid', String(target.pid)]);
      assert.equal(dumped.code, 0, dumped.stderr);
      checkDumpedThreads(JSON.parse(dumped.stdout) as DumpedThread[], known, `${spec.label} dump`, launch.script);
    }),
    check(outcomes, 'attached', async () => {
      const recorded = await runHotpath([...attachedArgs, '--pid', String(target.pid)]);
      assert.equal(recorded.code, 0, recorded.stderr);
      const text = fs.readFileSync(attachedOutput, 'utf8');
      const leaves = checkThreadedRawProfile(text, known, `${spec.label} record`, launch.script);
      assert.ok(leaves.work_a + leaves.work_b > 0, `no samples in work_a or work_b:\n${text}`);
    }),
    check(outcomes, 'launched', async () => {
      const launched = await runHotpath(launchedArgs, launch.env);
      assert.equal(launched.code, 0, launched.stderr);
      assert.match(launched.stdout, /^READY /m);
      checkLaunchedRawProfile(fs.readFileSync(launchedOutput, 'utf8'), `${spec.label} launched`, launch.script);
    }),
  ]);
  const failure = checks.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failure) throw failure.reason;
}

// ---- the suite ------------------------------------------------------------------------------------------------

const results: CoverageCase[] = [];

after(() => {
  const platform = spawnSync('uname', ['-srm'], { encoding: 'utf8' }).stdout.trim();
  const finished = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  results.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  fs.mkdirSync(path.dirname(resultsPath), { recursive: true });
  fs.writeFileSync(
    resultsPath,
    `${JSON.stringify({ format: COVERAGE_FORMAT, finished, platform, cases: results }, null, 2)}\n`,
  );
});

test(
  'every available CPython build: dump, attached and launched record report known.py exactly',
  { concurrency: CONCURRENCY },
  async (t) => {
    const queue = buildCases();
    const worker = async (): Promise<void> => {
      for (let spec = queue.shift(); spec; spec = queue.shift()) {
        const current = spec;
        const result: CoverageCase = {
          id: current.id,
          column: current.column,
          minor: current.minor,
          label: current.label,
          outcome: 'skip',
        };
        results.push(result);
        await t.test(current.label, async (st) => {
          const launch = current.prepare(st);
          if ('skip' in launch) {
            result.reason = launch.skip;
            return st.skip(launch.skip);
          }
          try {
            await runCase(current, launch, st, result);
            result.outcome = 'pass';
          } catch (error) {
            result.outcome = 'fail';
            result.reason = (error as Error).message.split('\n')[0];
            throw error;
          }
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  },
);

test('versions older than 3.9 are refused, naming the version and the supported range', async (t) => {
  const block = 'import sys, time; sys.stdout.write("READY\\n"); sys.stdout.flush(); time.sleep(600)';
  for (const version of ['3.8.18', '3.7.16']) {
    const minor = version.split('.').slice(0, 2).join('.');
    const python = path.join(pyenvVersions, version, 'bin/python3');
    const result: CoverageCase = {
      id: `refused-${minor}`,
      column: 'refused',
      minor,
      label: `pyenv ${version}`,
      outcome: 'skip',
    };
    results.push(result);
    await t.test(result.label, async (st) => {
      if (!fs.existsSync(python)) {
        result.reason = `${python} is not installed`;
        return st.skip(result.reason);
      }
      const target = await spawnTarget(python, ['-c', block], { owner: st });
      const dumped = await runHotpath(['dump', '--pid', String(target.pid)]);
      assert.equal(dumped.code, EXIT_CODES['unsupported-version'].code, dumped.stderr);
      assert.match(dumped.stderr, new RegExp(`Python ${minor.replace('.', '\\.')}(\\.\\d+)? is not supported`));
      assert.ok(dumped.stderr.includes(SUPPORTED_RANGE), dumped.stderr);
      result.outcome = 'refused';
      result.reason = dumped.stderr.trim().replace(/^hotpath: error: /, '');
    });
  }
});

test('free-threaded builds', (t) => {
  // Debian (bookworm to sid, and experimental) packages no free-threaded CPython and pyenv cannot build one offline:
  // the refusal is unit-tested on decoded _Py_DebugOffsets instead (test/unit/select-layout.test.ts).
  const reason =
    'no free-threaded CPython on this machine (Debian packages none; pyenv cannot build offline); ' +
    'the refusal is unit-tested in test/unit/select-layout.test.ts';
  results.push({
    id: 'free-threaded',
    column: 'free-threaded',
    minor: '3.14t',
    label: 'free-threaded 3.13t/3.14t',
    outcome: 'skip',
    reason,
  });
  t.skip(reason);
});
