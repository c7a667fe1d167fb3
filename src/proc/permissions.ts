// Explains why reading another process's memory would be refused, and what exactly to do about it.
// Permission problems are the most common failure of out-of-process profilers, so the facts (uid,
// capabilities, Yama ptrace_scope, seccomp) are read once and turned into specific fixes by pure functions
// that `hotpath doctor` and every "permission denied" error share.

import fs from 'node:fs';

/** Bit of CAP_SYS_PTRACE in the capability sets of /proc/PID/status. */
export const CAP_SYS_PTRACE = 19;

export const DOCKER_PTRACE_FIX = 'docker run --cap-add SYS_PTRACE ...';
export const KUBERNETES_PTRACE_FIX = 'Kubernetes: securityContext: capabilities: add: ["SYS_PTRACE"]';

/** What decides whether this process may read pid's memory. */
export interface AccessFacts {
  uid: number;
  /** Owner of the target; undefined without a target or when it is gone. */
  targetUid?: number;
  /** Effective capability set of hotpath itself; undefined when unreadable. */
  capabilities?: bigint;
  /** kernel.yama.ptrace_scope; undefined when Yama is not enabled. */
  ptraceScope?: number;
  /** Seccomp mode of hotpath itself: 0 none, 1 strict, 2 filter. */
  seccomp?: number;
}

/** One reason access would be refused: what stands in the way and the exact way around it. */
export interface AccessObstacle {
  check: 'user' | 'capabilities' | 'ptrace_scope' | 'seccomp';
  detail: string;
  fix: string;
}

export function readPtraceScope(): number | undefined {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** A "Name:\tvalue" line of /proc/PID/status (or /proc/self/status). */
export function readStatusField(pid: number | 'self', name: string): string | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

export function readProcessUid(pid: number): number | undefined {
  const real = readStatusField(pid, 'Uid')?.split(/\s+/)[0];
  return real !== undefined ? Number(real) : undefined;
}

/** The effective capability set (CapEff) as a bit mask. */
export function readEffectiveCapabilities(pid: number | 'self' = 'self'): bigint | undefined {
  const hex = readStatusField(pid, 'CapEff');
  return hex !== undefined && /^[0-9a-f]+$/i.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

export function hasCapability(capabilities: bigint | undefined, bit: number): boolean {
  return capabilities !== undefined && ((capabilities >> BigInt(bit)) & 1n) === 1n;
}

/** Seccomp mode: 0 none, 1 strict, 2 filter (Docker's and Kubernetes' default profiles). */
export function readSeccompMode(pid: number | 'self' = 'self'): number | undefined {
  const mode = readStatusField(pid, 'Seccomp');
  return mode !== undefined ? Number(mode) : undefined;
}

export function readAccessFacts(pid?: number): AccessFacts {
  return {
    uid: process.getuid?.() ?? -1,
    targetUid: pid !== undefined ? readProcessUid(pid) : undefined,
    capabilities: readEffectiveCapabilities(),
    ptraceScope: readPtraceScope(),
    seccomp: readSeccompMode(),
  };
}

/**
 * Everything in `facts` that stops reading the target's memory, in the order to fix them. The kernel
 * allows /proc/PID/mem to a process of the same user (or with CAP_SYS_PTRACE), and Yama may restrict it further.
 */
export function findAccessObstacles(facts: AccessFacts, pid?: number): AccessObstacle[] {
  const obstacles: AccessObstacle[] = [];
  const canPtrace = hasCapability(facts.capabilities, CAP_SYS_PTRACE);
  const target = pid !== undefined ? `pid ${pid}` : 'the target';
  if (facts.targetUid !== undefined && facts.targetUid !== facts.uid && !canPtrace) {
    obstacles.push({
      check: facts.uid === 0 ? 'capabilities' : 'user',
      detail: `${target} runs as uid ${facts.targetUid} and hotpath as uid ${facts.uid}: reading another user's process needs CAP_SYS_PTRACE`,
      fix: facts.uid === 0 ? containerFix() : runAsFix(facts.targetUid),
    });
  }
  const scope = facts.ptraceScope;
  if (scope === 3) {
    obstacles.push({
      check: 'ptrace_scope',
      detail: 'kernel.yama.ptrace_scope is 3: no process may read another one, not even as root, until the next reboot',
      fix: 'set kernel.yama.ptrace_scope = 0 in /etc/sysctl.d/10-ptrace.conf and reboot',
    });
  } else if (scope !== undefined && scope >= 1 && !canPtrace) {
    obstacles.push({
      check: 'ptrace_scope',
      detail:
        scope === 1
          ? 'kernel.yama.ptrace_scope is 1: without CAP_SYS_PTRACE only a parent may read its child'
          : 'kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may read another one',
      fix:
        (facts.uid === 0 ? containerFix() : 'run hotpath with sudo') +
        (scope === 1 ? ', or launch the program through hotpath (hotpath record -- python app.py)' : '') +
        ', or allow it: sudo sysctl kernel.yama.ptrace_scope=0',
    });
  }
  if (facts.seccomp === 1) {
    obstacles.push({
      check: 'seccomp',
      detail: 'hotpath runs under strict seccomp, which allows no file to be opened',
      fix: 'run hotpath outside the strict seccomp sandbox',
    });
  }
  return obstacles;
}

function runAsFix(targetUid: number): string {
  return targetUid === 0
    ? 'run hotpath as root: sudo hotpath ...'
    : `run hotpath as root (sudo hotpath ...) or as the process's own user (sudo -u '#${targetUid}' hotpath ...)`;
}

/** Root without CAP_SYS_PTRACE is what a container gives by default. */
function containerFix(): string {
  return `give hotpath CAP_SYS_PTRACE: ${DOCKER_PTRACE_FIX}; ${KUBERNETES_PTRACE_FIX}`;
}

/** One paragraph saying exactly what is needed to read pid's memory from here, and where to learn more. */
export function permissionHint(pid: number): string {
  return `${explainRefusal(pid)} (hotpath doctor --pid ${pid} checks everything)`;
}

function explainRefusal(pid: number): string {
  const facts = readAccessFacts(pid);
  const obstacles = findAccessObstacles(facts, pid);
  if (obstacles.length > 0) return obstacles.map((o) => `${o.detail}; ${o.fix}`).join('. ');
  if (facts.uid === 0 && !hasCapability(facts.capabilities, CAP_SYS_PTRACE)) {
    return `even root was refused: hotpath lacks CAP_SYS_PTRACE; ${containerFix()}`;
  }
  if (facts.uid === 0) {
    return (
      'even root with CAP_SYS_PTRACE was refused: a security module (AppArmor, SELinux) or seccomp profile may ' +
      'forbid it; in Docker try --security-opt seccomp=unconfined --security-opt apparmor=unconfined'
    );
  }
  return 'run hotpath as root (sudo), or launch the program through hotpath (hotpath record -- python app.py)';
}
