// `hotpath dump`: prints every thread's current Python stack once, innermost frame first,
// as text (py-spy's layout) or JSON (py-spy's field names), without pausing the target. With
// --locals, each frame's local variables as short repr-like values; the request a thread serves is shown.

import { describeValue, type PyFrame, type PythonProcess, type ThreadStack } from '../cpython/index.js';
import { HotpathError } from '../errors/index.js';
import { readCmdline, readThreadState } from '../proc/index.js';
import { ForkedThreadIds, ProcessReaders, RequestContextReader, TargetSet } from '../sampler/index.js';
import { collectPids, parseCommandLine } from './arguments.js';
import type { Command } from './command.js';

interface DumpValues {
  pid?: string;
  json?: boolean;
  subprocesses?: boolean;
  native?: boolean;
  locals?: boolean;
  'no-locals'?: boolean;
  'full-filenames'?: boolean;
  nonblocking?: boolean;
  core?: string;
  help?: boolean;
}

export interface DumpedLocal {
  name: string;
  /** Address of the object in the target. */
  addr: number;
  /** True for the function's arguments. */
  arg: boolean;
  repr: string;
}

export interface DumpedFrame {
  name: string;
  filename: string;
  short_filename: string;
  line: number;
  /** With --locals; null otherwise, as in py-spy's JSON. */
  locals: DumpedLocal[] | null;
}

export interface DumpedThread {
  pid: number;
  thread_id: number;
  os_thread_id: number | null;
  thread_name: string | null;
  active: boolean;
  owns_gil: boolean;
  /** The web request the thread is serving ("GET /users/{id}"), when one is found. */
  request: string | null;
  frames: DumpedFrame[];
}

export interface DumpOptions {
  /** Show each frame's locals. */
  locals: boolean;
  /** Read no locals at all (no request either). */
  noLocals: boolean;
}

export const dumpCommand: Command = {
  name: 'dump',
  summary: 'Print the current stack of every thread',
  usage: `hotpath dump [options] --pid PID [PID...]

Options:
  -p, --pid PID         process to inspect
  -j, --json            print JSON (py-spy's field names) instead of text
  -s, --subprocesses    also dump child processes
  -l, --locals          show each frame's local variables (short repr-like values)
      --no-locals       read no locals at all: no request per thread either
      --full-filenames  accepted for py-spy compatibility: file names are always whole paths
      --nonblocking     accepted for py-spy compatibility: hotpath never pauses the target
  -n, --native          native (C) frames: not supported yet
  -c, --core FILE       a core dump instead of a process: not supported`,
  run: runDump,
};

async function runDump(argv: readonly string[]): Promise<number> {
  const { values, extraPids } = parseCommandLine<DumpValues>(argv, {
    pid: { type: 'string', short: 'p' },
    json: { type: 'boolean', short: 'j' },
    subprocesses: { type: 'boolean', short: 's' },
    native: { type: 'boolean', short: 'n' },
    locals: { type: 'boolean', short: 'l' },
    'no-locals': { type: 'boolean' },
    'full-filenames': { type: 'boolean' },
    nonblocking: { type: 'boolean' },
    core: { type: 'string', short: 'c' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(dumpCommand.usage);
    return 0;
  }
  if (values.native) throw new HotpathError('not-supported', '--native (C frames) is not supported yet');
  if (values.core !== undefined) {
    throw new HotpathError(
      'not-supported',
      'dump --core (a core dump) is not supported',
      'dump the running process with --pid',
    );
  }
  if (values.locals && values['no-locals']) throw new HotpathError('usage', 'give --locals or --no-locals, not both');
  const options: DumpOptions = { locals: values.locals ?? false, noLocals: values['no-locals'] ?? false };
  const pids = collectPids(values.pid, extraPids);
  if (pids.length === 0) throw new HotpathError('usage', 'dump needs --pid PID');
  const targets = new TargetSet(pids, { subprocesses: values.subprocesses ?? false });
  try {
    targets.attachRoots();
    const dumps = [...targets.processes.values()].map((python) => ({ python, threads: dumpProcess(python, options) }));
    if (values.json)
      console.log(
        JSON.stringify(
          dumps.flatMap((d) => d.threads),
          null,
          2,
        ),
      );
    else console.log(dumps.map(({ python, threads }) => formatProcessDump(python, threads)).join('\n\n'));
  } finally {
    targets.close();
  }
  return 0;
}

export function dumpProcess(
  python: PythonProcess,
  options: DumpOptions = { locals: false, noLocals: false },
): DumpedThread[] {
  const stacks = python.readStacks();
  const gilHolders = new Set(stacks.map((s) => python.readGilHolder(s.interp)));
  const readers = new ProcessReaders();
  const requests = options.noLocals ? undefined : new RequestContextReader(readers);
  let names = new Map<number, string>();
  try {
    names = readers.readThreadNames(python);
  } catch {
    // a process that has not imported threading (or is tearing it down) has no names to show
  }
  const forkedThreadIds = new ForkedThreadIds();
  const osThreadIdOf = (stack: ThreadStack): number | undefined | null =>
    stack.nativeThreadId === undefined ? undefined : forkedThreadIds.resolve(python.pid, stack.nativeThreadId);
  // A thread state that a fork from C left with no thread (uWSGI's workers) is no thread of this process.
  const threads = stacks.filter((stack) => osThreadIdOf(stack) !== null);
  return threads.map((stack) => ({
    pid: python.pid,
    thread_id: stack.threadId,
    os_thread_id: osThreadIdOf(stack) ?? null,
    thread_name: names.get(stack.threadId) ?? null,
    active: isActive(python, osThreadIdOf(stack) ?? undefined),
    owns_gil: gilHolders.has(stack.threadStateAddress),
    request: requests?.label(python, stack)?.endpoint ?? null,
    frames: stack.frames.map((frame) => ({
      name: frame.name,
      filename: frame.file,
      short_filename: frame.file.split('/').pop() ?? frame.file,
      line: frame.line,
      locals: options.locals ? dumpLocals(readers, python, frame) : null,
    })),
  }));
}

function isActive(python: PythonProcess, osThreadId: number | undefined): boolean {
  const state = osThreadId !== undefined ? readThreadState(python.pid, osThreadId) : undefined;
  return state === undefined || state === 'R';
}

function dumpLocals(readers: ProcessReaders, python: PythonProcess, frame: PyFrame): DumpedLocal[] {
  const { objects, locals } = readers.of(python);
  try {
    const argumentNames = new Set(locals.localNames(frame.code).slice(0, frame.code.argcount));
    return [...locals.readLocals(frame)].map(([name, addr]) => ({
      name,
      addr,
      arg: argumentNames.has(name),
      repr: describeValue(objects, addr),
    }));
  } catch {
    return [];
  }
}

function formatProcessDump(python: PythonProcess, threads: DumpedThread[]): string {
  const lines = [
    `Process ${python.pid}: ${readCmdline(python.pid).join(' ')}`,
    `Python v${python.version.text} (${python.location.binaryPath})`,
  ];
  // The runtime lists threads newest first; like py-spy's text, show them oldest (the main thread) first.
  for (const thread of [...threads].reverse()) {
    const status = (thread.active ? 'active' : 'idle') + (thread.owns_gil ? '+gil' : '');
    const name = thread.thread_name ? `: "${thread.thread_name}"` : '';
    lines.push('', `Thread ${thread.os_thread_id ?? `0x${thread.thread_id.toString(16)}`} (${status})${name}`);
    if (thread.request) lines.push(`    request: ${thread.request}`);
    for (const frame of thread.frames) {
      lines.push(`    ${frame.name} (${frame.filename}:${frame.line})`);
      if (frame.locals) lines.push(...formatLocals(frame.locals));
    }
  }
  return lines.join('\n');
}

/** py-spy's layout: arguments first, then the other locals, indented under their frame. */
function formatLocals(locals: DumpedLocal[]): string[] {
  const section = (title: string, entries: DumpedLocal[]): string[] =>
    entries.length > 0 ? [`        ${title}:`, ...entries.map((l) => `            ${l.name}: ${l.repr}`)] : [];
  return [
    ...section(
      'Arguments',
      locals.filter((l) => l.arg),
    ),
    ...section(
      'Locals',
      locals.filter((l) => !l.arg),
    ),
  ];
}
