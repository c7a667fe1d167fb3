// `hotpath doctor [--pid PID]`: checks everything that can stop hotpath from profiling here (privileges,
// capabilities, Yama, seccomp, namespaces, the target's Python runtime and version) and prints each finding with
// the exact fix. It only reads /proc and the target's memory, like record: nothing it does can stop the target.

import {
  PythonProcess,
  SUPPORTED_RANGE,
  findRuntime,
  readPyVersion,
  selectLayout,
  type RuntimeLocation,
} from '../cpython/index.js';
import { HotpathError, type ErrorKind } from '../errors/index.js';
import {
  CAP_SYS_PTRACE,
  DOCKER_PTRACE_FIX,
  KUBERNETES_PTRACE_FIX,
  ProcMemoryReader,
  loadVmReadBinding,
  openMemoryReader,
  findAccessObstacles,
  hasCapability,
  isInNestedPidNamespace,
  processExists,
  readAccessFacts,
  readCmdline,
  readMaps,
  readNamespaceId,
  readNamespacePids,
  type AccessFacts,
  type AccessObstacle,
  type MapEntry,
  type NamespaceKind,
} from '../proc/index.js';
import { NativeLoop } from '../sampler/index.js';
import { collectPids, parseCommandLine } from './arguments.js';
import type { Command } from './command.js';
import { EXIT_OK, exitCodeFor } from './exit-codes.js';

export type FindingStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  check: string;
  status: FindingStatus;
  detail: string;
  /** What to do, for warn and fail. */
  fix?: string;
  /** For fail: the error kind, whose exit code doctor returns when this is the first failure. */
  kind?: ErrorKind;
}

interface DoctorValues {
  pid?: string;
  json?: boolean;
  help?: boolean;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check whether hotpath can profile here (and a given pid), and say how to fix what stops it',
  usage: `hotpath doctor [--pid PID] [--json]

Checks the user, CAP_SYS_PTRACE, kernel.yama.ptrace_scope and seccomp; with --pid also whether the process
exists, its memory can be read, its PID and mount namespaces, where its Python runtime is, its version and a
test read of its threads. Each finding is ok, warn or FAIL with the exact fix. Exits 0 when nothing fails,
else with the exit code of the first failure (see docs/exit-codes.md).

Options:
  -p, --pid PID   the process to check
  -j, --json      print the findings as JSON`,
  run: runDoctor,
};

async function runDoctor(argv: readonly string[]): Promise<number> {
  const { values, extraPids } = parseCommandLine<DoctorValues>(argv, {
    pid: { type: 'string', short: 'p' },
    json: { type: 'boolean', short: 'j' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(doctorCommand.usage);
    return EXIT_OK;
  }
  const pids = collectPids(values.pid, extraPids);
  if (pids.length > 1) throw new HotpathError('usage', 'doctor checks one process at a time: give one --pid');
  const pid = pids[0];
  const findings = diagnose(pid);
  console.log(values.json ? JSON.stringify(findings, null, 2) : renderFindings(findings, pid));
  const firstFailure = findings.find((f) => f.status === 'fail');
  return firstFailure ? exitCodeFor(firstFailure.kind ?? 'permission-denied') : EXIT_OK;
}

/** Every check, in the order a user would fix them. */
export function diagnose(pid?: number): Finding[] {
  const facts = readAccessFacts(pid);
  const obstacles = findAccessObstacles(facts, pid);
  const findings = [
    checkUser(facts, obstacles, pid),
    checkCapabilities(facts, obstacles),
    checkPtraceScope(facts, obstacles),
  ];
  if (pid === undefined) {
    return [
      ...findings,
      checkSeccomp(facts, obstacles),
      checkOwnPidNamespace(),
      checkFastReader(),
      checkSamplingLoop(),
    ];
  }
  if (!processExists(pid)) return [...findings, checkSeccomp(facts, obstacles), noSuchProcess(pid)];
  const memory = checkMemoryAccess(pid);
  findings.push(
    checkSeccomp(facts, obstacles, memory.finding),
    memory.finding,
    checkPidNamespace(pid),
    checkNamespace(pid, 'mnt'),
  );
  if (memory.maps && memory.finding.status === 'ok') findings.push(checkFastReader(pid, memory.maps));
  findings.push(checkSamplingLoop());
  if (!memory.maps || memory.finding.status === 'fail') {
    const skipped = 'needs read access to the process first';
    return [
      ...findings,
      ...['python runtime', 'version', 'threads'].map((check): Finding => ({ check, status: 'skip', detail: skipped })),
    ];
  }
  const runtime = checkRuntime(pid, memory.maps);
  findings.push(runtime.finding);
  if (!runtime.location) return findings;
  const version = checkVersion(pid, runtime.location);
  findings.push(version);
  if (version.status !== 'fail') findings.push(checkThreads(pid));
  return findings;
}

function fromObstacle(check: string, obstacle: AccessObstacle): Finding {
  return { check, status: 'fail', detail: obstacle.detail, fix: obstacle.fix, kind: 'permission-denied' };
}

function checkUser(facts: AccessFacts, obstacles: AccessObstacle[], pid?: number): Finding {
  const obstacle = obstacles.find((o) => o.check === 'user');
  if (obstacle) return fromObstacle('user', obstacle);
  const me = facts.uid === 0 ? 'root (uid 0)' : `uid ${facts.uid}`;
  const target =
    pid !== undefined && facts.targetUid !== undefined ? `; pid ${pid} runs as uid ${facts.targetUid}` : '';
  return { check: 'user', status: 'ok', detail: `hotpath runs as ${me}${target}` };
}

function checkCapabilities(facts: AccessFacts, obstacles: AccessObstacle[]): Finding {
  const obstacle = obstacles.find((o) => o.check === 'capabilities');
  if (obstacle) return fromObstacle('capabilities', obstacle);
  if (hasCapability(facts.capabilities, CAP_SYS_PTRACE)) {
    return { check: 'capabilities', status: 'ok', detail: 'CAP_SYS_PTRACE is effective: any process may be read' };
  }
  if (facts.uid === 0) {
    return {
      check: 'capabilities',
      status: 'warn',
      detail:
        'root without CAP_SYS_PTRACE (as in a container): only processes of the same user with no more ' +
        'capabilities than hotpath can be read',
      fix: `if reading fails, ${DOCKER_PTRACE_FIX}; ${KUBERNETES_PTRACE_FIX}`,
    };
  }
  return {
    check: 'capabilities',
    status: 'ok',
    detail: `no CAP_SYS_PTRACE: processes of uid ${facts.uid} can be read (unless ptrace_scope forbids it)`,
  };
}

function checkPtraceScope(facts: AccessFacts, obstacles: AccessObstacle[]): Finding {
  const obstacle = obstacles.find((o) => o.check === 'ptrace_scope');
  if (obstacle) return fromObstacle('ptrace_scope', obstacle);
  const scope = facts.ptraceScope;
  const detail =
    scope === undefined
      ? 'Yama is not enabled (no /proc/sys/kernel/yama/ptrace_scope): no extra restriction'
      : `kernel.yama.ptrace_scope is ${scope}` +
        (scope === 0 ? ': no extra restriction' : ', and hotpath has CAP_SYS_PTRACE, which it allows');
  return { check: 'ptrace_scope', status: 'ok', detail };
}

function checkSeccomp(facts: AccessFacts, obstacles: AccessObstacle[], memory?: Finding): Finding {
  const obstacle = obstacles.find((o) => o.check === 'seccomp');
  if (obstacle) return fromObstacle('seccomp', obstacle);
  if (facts.seccomp === undefined || facts.seccomp === 0) {
    return { check: 'seccomp', status: 'ok', detail: 'hotpath runs without a seccomp filter' };
  }
  const why =
    'a seccomp filter is active (as under Docker or Kubernetes); hotpath only opens and reads /proc/PID/mem, ' +
    'which the default profiles allow';
  if (memory?.status !== 'fail' || obstacles.length > 0) return { check: 'seccomp', status: 'ok', detail: why };
  return {
    check: 'seccomp',
    status: 'warn',
    detail: `${why}, but reading was refused and nothing else explains it`,
    fix: 'run the container with --security-opt seccomp=unconfined (Kubernetes: securityContext: seccompProfile: type: Unconfined)',
  };
}

const SHARE_PID_NAMESPACE_FIX =
  'run hotpath in the same container as the app, or share its PID namespace ' +
  '(docker run --pid=container:NAME ...; Kubernetes: shareProcessNamespace: true)';

function checkOwnPidNamespace(): Finding {
  const nested = isInNestedPidNamespace('self');
  return nested
    ? {
        check: 'pid namespace',
        status: 'ok',
        detail:
          'hotpath runs in a container (its own PID namespace) and sees only its processes: to profile an app in ' +
          `another container, ${SHARE_PID_NAMESPACE_FIX}`,
      }
    : { check: 'pid namespace', status: 'ok', detail: "hotpath runs in the host's PID namespace" };
}

function noSuchProcess(pid: number): Finding {
  const inContainer = isInNestedPidNamespace('self');
  return {
    check: 'process',
    status: 'fail',
    kind: 'no-such-process',
    detail: `no process with pid ${pid}` + (inContainer ? ' in the PID namespace hotpath runs in (a container)' : ''),
    fix: inContainer
      ? `check the pid as seen from here (pgrep -f gunicorn); ${SHARE_PID_NAMESPACE_FIX}`
      : 'check the pid, e.g. pgrep -f gunicorn (a process in a container has another pid inside it)',
  };
}

/** Opens /proc/PID/mem and reads a few bytes of a mapped file: exactly what sampling does. */
function checkMemoryAccess(pid: number): { finding: Finding; maps?: MapEntry[] } {
  const check = 'memory access';
  let maps: MapEntry[];
  let reader: ProcMemoryReader;
  try {
    maps = readMaps(pid);
    reader = new ProcMemoryReader(pid);
  } catch (err) {
    if (!(err instanceof HotpathError)) throw err;
    return { finding: { check, status: 'fail', kind: err.kind, detail: err.message, fix: err.hint } };
  }
  try {
    const mapping = maps.find((m) => m.perms.startsWith('r') && m.path.startsWith('/'));
    if (mapping) reader.read(mapping.start, 8);
    return { finding: { check, status: 'ok', detail: `/proc/${pid}/mem opened and read` }, maps };
  } catch (err) {
    return {
      finding: {
        check,
        status: 'warn',
        detail: `/proc/${pid}/mem opened, but a test read failed (${(err as Error).message})`,
        fix: 'the process may be exiting; run doctor again',
      },
      maps,
    };
  } finally {
    reader.close();
  }
}

/**
 * Whether memory is copied with process_vm_readv (the native addon: many ranges per system call) or read through
 * /proc/PID/mem (the same results at about twice the cost per sample).
 */
function checkFastReader(pid?: number, maps?: MapEntry[]): Finding {
  const check = 'fast reader';
  if (!loadVmReadBinding()) {
    return {
      check,
      status: 'warn',
      detail:
        'the native reader is not built (or HOTPATH_NATIVE=0): hotpath reads /proc/PID/mem, at a higher cost per sample',
      fix: 'install a C compiler (e.g. apt install gcc) and run `npm run build`',
    };
  }
  const mapping = maps?.find((m) => m.perms.startsWith('r') && m.path.startsWith('/'));
  if (pid === undefined || !mapping)
    return { check, status: 'ok', detail: 'process_vm_readv through the native reader' };
  const reader = openMemoryReader(pid);
  try {
    const copied = reader.readSpans?.(new Float64Array([mapping.start, 8, 0]), 1, Buffer.alloc(8)) ?? 0;
    if (copied === 1) return { check, status: 'ok', detail: `process_vm_readv reads pid ${pid}` };
    return {
      check,
      status: 'warn',
      detail: `process_vm_readv cannot read pid ${pid} (a seccomp filter may forbid it): hotpath falls back to /proc/PID/mem`,
      fix: 'nothing needed; in Docker, --cap-add SYS_PTRACE also allows process_vm_readv',
    };
  } finally {
    reader.close();
  }
}

/** Whether stacks are walked by the native loop or by JavaScript (the same samples, at a higher cost). */
function checkSamplingLoop(): Finding {
  const check = 'sampling loop';
  if (NativeLoop.create({ rateHz: 1, includeIdle: false, gil: 'ignore' })) {
    return { check, status: 'ok', detail: 'native: stacks are walked in C and decoded by JavaScript' };
  }
  return {
    check,
    status: 'warn',
    detail: 'the native loop is not built (or HOTPATH_NATIVE=0): JavaScript walks stacks, at a higher cost per sample',
    fix: 'install a C compiler (e.g. apt install gcc) and run `npm run build`',
  };
}

function checkPidNamespace(pid: number): Finding {
  const check = 'pid namespace';
  const theirs = readNamespacePids(pid);
  const ours = readNamespacePids('self');
  const same = readNamespaceId(pid, 'pid') === readNamespaceId('self', 'pid');
  if (same || theirs.length <= ours.length) return { check, status: 'ok', detail: "the same as hotpath's" };
  return {
    check,
    status: 'ok',
    detail: `pid ${pid} is pid ${theirs.at(-1)} inside its own PID namespace (a container); hotpath uses ${pid}, its pid as seen from here`,
  };
}

function checkNamespace(pid: number, kind: NamespaceKind): Finding {
  const check = 'mount namespace';
  const theirs = readNamespaceId(pid, kind);
  if (theirs === undefined) return { check, status: 'skip', detail: 'cannot be inspected from here' };
  if (theirs === readNamespaceId('self', kind)) return { check, status: 'ok', detail: "the same as hotpath's" };
  return {
    check,
    status: 'ok',
    detail: `pid ${pid} sees its own filesystem (a container or chroot): hotpath opens its files through /proc/${pid}/root`,
  };
}

function checkRuntime(pid: number, maps: MapEntry[]): { finding: Finding; location?: RuntimeLocation } {
  const check = 'python runtime';
  try {
    const location = findRuntime(pid, maps);
    const how = {
      symbol: 'by its _PyRuntime symbol',
      section: 'by its .PyRuntime section',
      scan: 'by a validated scan of its writable data (no _PyRuntime symbol or .PyRuntime section)',
    }[location.strategy];
    const opened = location.openedPath !== location.binaryPath ? ` (opened as ${location.openedPath})` : '';
    const skipped = location.notes.length > 0 ? `; passed over: ${location.notes.join('; ')}` : '';
    return {
      finding: { check, status: 'ok', detail: `found ${how} in ${location.binaryPath}${opened}${skipped}` },
      location,
    };
  } catch (err) {
    if (!(err instanceof HotpathError)) throw err;
    const fix =
      err.kind === 'not-python'
        ? 'give the pid of a Python process (pgrep -f gunicorn), or record with --subprocesses if this one launches Python'
        : 'hotpath looks for the _PyRuntime symbol, then a .PyRuntime section, in python and libpython: ' +
          'please report this build (the output of python -VV and this message)';
    return { finding: { check, status: 'fail', kind: err.kind, detail: err.message, fix } };
  }
}

function checkVersion(pid: number, location: RuntimeLocation): Finding {
  const check = 'version';
  const reader = new ProcMemoryReader(pid);
  try {
    const { layout, version } = selectLayout(reader, location, readPyVersion);
    const source =
      layout.source === 'debug-offsets'
        ? 'its own _Py_DebugOffsets'
        : `hotpath's table for ${layout.version.join('.')}`;
    return { check, status: 'ok', detail: `Python ${version.text}: supported (structure offsets from ${source})` };
  } catch (err) {
    if (!(err instanceof HotpathError)) throw err;
    const fix = err.hint ?? `hotpath profiles CPython ${SUPPORTED_RANGE} (builds with a GIL)`;
    return { check, status: 'fail', kind: err.kind, detail: err.message, fix };
  } finally {
    reader.close();
  }
}

function checkThreads(pid: number): Finding {
  const check = 'threads';
  let python: PythonProcess | undefined;
  try {
    python = PythonProcess.attach(pid);
    const stacks = python.readStacks();
    const frames = stacks.reduce((sum, s) => sum + s.frames.length, 0);
    const sample = stacks.find((s) => s.frames.length > 0)?.frames[0];
    const example = sample ? `, e.g. ${sample.name} (${sample.file}:${sample.line})` : '';
    return { check, status: 'ok', detail: `read ${stacks.length} thread(s) with ${frames} Python frame(s)${example}` };
  } catch (err) {
    if (err instanceof HotpathError)
      return { check, status: 'fail', kind: err.kind, detail: err.message, fix: err.hint };
    return {
      check,
      status: 'warn',
      detail: `a test read failed: ${(err as Error).message} (the process changed while it was read)`,
      fix: 'run doctor again; if this repeats, please report it',
    };
  } finally {
    python?.close();
  }
}

const STATUS_LABELS: Record<FindingStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export function renderFindings(findings: readonly Finding[], pid?: number): string {
  const width = Math.max(...findings.map((f) => f.check.length));
  const target =
    pid !== undefined ? `pid ${pid}${describeCommand(pid)}` : 'this machine (give --pid PID to check a process)';
  const lines = [`hotpath doctor: ${target}`];
  for (const finding of findings) {
    lines.push(`  ${STATUS_LABELS[finding.status].padEnd(4)}  ${finding.check.padEnd(width)}  ${finding.detail}`);
    if (finding.fix && finding.status !== 'ok' && finding.status !== 'skip') {
      lines.push(`        ${' '.repeat(width)}  fix: ${finding.fix}`);
    }
  }
  const failure = findings.find((f) => f.status === 'fail');
  lines.push(
    failure
      ? `hotpath cannot profile ${pid !== undefined ? `pid ${pid}` : 'here'} until the first FAIL above is fixed.`
      : `Nothing stops hotpath${pid !== undefined ? ` from profiling pid ${pid}` : ' here'}.`,
  );
  return lines.join('\n');
}

function describeCommand(pid: number): string {
  const command = readCmdline(pid).join(' ');
  return command ? ` (${command.length > 80 ? `${command.slice(0, 77)}...` : command})` : '';
}
