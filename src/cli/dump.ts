// `hotpath dump`: prints every thread's current Python stack once, innermost frame first,
// as text (py-spy's layout) or JSON (py-spy's field names), without pausing the target.

import type { PythonProcess, ThreadStack } from '../cpython/index.js';
import { HotpathError } from '../errors/index.js';
import { readCmdline, readThreadState } from '../proc/index.js';
import { TargetSet } from '../sampler/index.js';
import { collectPids, parseCommandLine } from './arguments.js';
import type { Command } from './command.js';

interface DumpValues {
  pid?: string;
  json?: boolean;
  subprocesses?: boolean;
  native?: boolean;
  help?: boolean;
}

export interface DumpedFrame {
  name: string;
  filename: string;
  short_filename: string;
  line: number;
}

export interface DumpedThread {
  pid: number;
  thread_id: number;
  os_thread_id: number | null;
  thread_name: string | null;
  active: boolean;
  owns_gil: boolean;
  frames: DumpedFrame[];
}

export const dumpCommand: Command = {
  name: 'dump',
  summary: "Print the current stack of every thread",
  usage: `hotpath dump [options] --pid PID [PID...]

Options:
  -p, --pid PID         process to inspect
  -j, --json            print JSON (py-spy's field names) instead of text
  -s, --subprocesses    also dump child processes
  -n, --native          native (C) frames: not supported yet`,
  run: runDump,
};

async function runDump(argv: readonly string[]): Promise<number> {
  const { values, extraPids } = parseCommandLine<DumpValues>(argv, {
    pid: { type: 'string', short: 'p' },
    json: { type: 'boolean', short: 'j' },
    subprocesses: { type: 'boolean', short: 's' },
    native: { type: 'boolean', short: 'n' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(dumpCommand.usage);
    return 0;
  }
  if (values.native) throw new HotpathError('not-supported', '--native (C frames) is not supported yet');
  const pids = collectPids(values.pid, extraPids);
  if (pids.length === 0) throw new HotpathError('usage', 'dump needs --pid PID');
  const targets = new TargetSet(pids, { subprocesses: values.subprocesses ?? false });
  try {
    targets.attachRoots();
    const dumps = [...targets.processes.values()].map((python) => ({ python, threads: dumpProcess(python) }));
    if (values.json) console.log(JSON.stringify(dumps.flatMap((d) => d.threads), null, 2));
    else console.log(dumps.map(({ python, threads }) => formatProcessDump(python, threads)).join('\n\n'));
  } finally {
    targets.close();
  }
  return 0;
}

export function dumpProcess(python: PythonProcess): DumpedThread[] {
  const stacks = python.readStacks();
  const gilHolders = new Set(stacks.map((s) => python.readGilHolder(s.interp)));
  return stacks.map((stack) => dumpThread(python, stack, gilHolders.has(stack.threadStateAddress)));
}

function dumpThread(python: PythonProcess, stack: ThreadStack, ownsGil: boolean): DumpedThread {
  const state = stack.nativeThreadId !== undefined ? readThreadState(python.pid, stack.nativeThreadId) : undefined;
  return {
    pid: python.pid,
    thread_id: stack.threadId,
    os_thread_id: stack.nativeThreadId ?? null,
    thread_name: null,
    active: state === undefined || state === 'R',
    owns_gil: ownsGil,
    frames: stack.frames.map((frame) => ({
      name: frame.name,
      filename: frame.file,
      short_filename: frame.file.split('/').pop() ?? frame.file,
      line: frame.line,
    })),
  };
}

function formatProcessDump(python: PythonProcess, threads: DumpedThread[]): string {
  const lines = [
    `Process ${python.pid}: ${readCmdline(python.pid).join(' ')}`,
    `Python v${python.version.text} (${python.location.binaryPath})`,
  ];
  for (const thread of threads) {
    const status = (thread.active ? 'active' : 'idle') + (thread.owns_gil ? '+gil' : '');
    const name = thread.thread_name ? `: "${thread.thread_name}"` : '';
    lines.push('', `Thread ${thread.os_thread_id ?? `0x${thread.thread_id.toString(16)}`} (${status})${name}`);
    for (const frame of thread.frames) lines.push(`    ${frame.name} (${frame.filename}:${frame.line})`);
  }
  return lines.join('\n');
}
