// Explains why reading another process's memory was refused, and what to do about it.
// Permission problems are the most common failure of out-of-process profilers, so the hint is specific.

import fs from 'node:fs';

export function readPtraceScope(): number | undefined {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    return undefined;
  }
}

export function readProcessUid(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^Uid:\s+(\d+)/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** One paragraph saying exactly what is needed to read pid's memory from this user. */
export function permissionHint(pid: number): string {
  const myUid = process.getuid?.() ?? -1;
  const targetUid = readProcessUid(pid);
  const scope = readPtraceScope();
  const parts: string[] = [];
  if (targetUid !== undefined && targetUid !== myUid && myUid !== 0) {
    parts.push(`pid ${pid} belongs to uid ${targetUid}, you are uid ${myUid}: run hotpath as root (sudo)`);
  } else if (scope !== undefined && scope >= 1 && myUid !== 0) {
    parts.push(
      `kernel.yama.ptrace_scope is ${scope}, which only lets a parent read its child: run hotpath with sudo, ` +
        `or launch the program through hotpath (hotpath record -- python app.py)` +
        (scope < 3 ? ', or set `sysctl kernel.yama.ptrace_scope=0`' : ''),
    );
  } else if (myUid === 0) {
    parts.push(
      'even root was refused: in a container add the SYS_PTRACE capability ' +
        '(docker run --cap-add SYS_PTRACE; Kubernetes: securityContext.capabilities.add: ["SYS_PTRACE"]) ' +
        'and check that seccomp allows process_vm_readv/ptrace',
    );
  } else {
    parts.push('run hotpath as root or with CAP_SYS_PTRACE, or launch the program through hotpath');
  }
  return parts.join('; ');
}
