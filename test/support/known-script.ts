// What test/targets/known.py looks like to a profiler, and the checks every live suite makes of it: exact function
// names, files and line numbers, the 50-deep recursion, non-ASCII names, named threads with their OS ids. The script
// may run under another path (inside a chroot it sees its own root), so every check takes the file it expects.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './pythons.js';

export const knownPy = path.join(repoRoot, 'test/targets/known.py');

/** Line numbers of the `# LINE:<name>` markers in known.py. */
function readMarkers(): Record<string, number> {
  const markers: Record<string, number> = {};
  fs.readFileSync(knownPy, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const match = /# LINE:(\w+)\s*$/.exec(text);
      if (match) markers[match[1]!] = index + 1;
    });
  return markers;
}

export const LINE = readMarkers();
export const UNICODE_NAME = 'ünïcode_函数';
export const ALPHA_NAME = 'alpha_loop_ß';
export const BETA_NAME = 'beta_loop_𠀀';
export const RECURSION_DEPTH = 50;

/** The JSON after known.py's READY. */
export interface ReadyInfo {
  pid: number;
  version: string;
  threads: Record<string, { ident: number; native_id: number }>;
}

export interface Frame {
  name: string;
  file: string;
  line: number;
}

/** Checks one main-thread stack, outermost frame first; returns its leaf work function, if any. */
export function checkMainStack(
  frames: readonly Frame[],
  where: string,
  file = knownPy,
): 'work_a' | 'work_b' | undefined {
  const describe = (): string => `${where}: ${frames.map((f) => `${f.name}:${f.line}`).join(' > ')}`;
  for (const frame of frames) assert.equal(frame.file, file, describe());
  const expected: Array<[string, number[]]> = [
    ['<module>', [LINE.module_call!]],
    ['main', [LINE.main_call!]],
    ...Array.from({ length: RECURSION_DEPTH - 1 }, (): [string, number[]] => ['recurse', [LINE.recurse_call!]]),
    ['recurse', [LINE.recurse_bottom!]],
  ];
  const leaf = frames.length === expected.length + 2 ? frames.at(-1)!.name : undefined;
  const unicodeLines =
    leaf === 'work_a'
      ? [LINE.unicode_call_a!]
      : leaf === 'work_b'
        ? [LINE.unicode_call_b!]
        : [LINE.unicode_loop!, LINE.unicode_call_a!, LINE.unicode_call_b!];
  expected.push([UNICODE_NAME, unicodeLines]);
  // A work function's frame sits on its loop line; on entry (before its first line runs) on its `def` line.
  if (leaf === 'work_a') expected.push(['work_a', [LINE.work_a!, LINE.work_a! - 1]]);
  if (leaf === 'work_b') expected.push(['work_b', [LINE.work_b!, LINE.work_b! - 1]]);
  assert.equal(frames.length, expected.length, describe());
  expected.forEach(([name, lines], i) => {
    assert.equal(frames[i]!.name, name, describe());
    assert.ok(lines.includes(frames[i]!.line), `frame ${i} line ${frames[i]!.line} not in ${lines}: ${describe()}`);
  });
  assert.equal(frames.filter((f) => f.name === 'recurse').length, RECURSION_DEPTH);
  return leaf === 'work_a' || leaf === 'work_b' ? leaf : undefined;
}

/**
 * A non-blocking sampler reads a running thread's frames one after another, so now and then a caller's line comes
 * from a moment before its callee started: ünïcode_函数 still on its loop or work_a line while the leaf is already
 * work_b. The engine re-reads the innermost frame to catch most of these; the rest must stay rare, and every
 * name, file and other line in them is still checked.
 */
export const MAX_MOVED_ON_SHARE = 0.01;

export function isMovedOnStack(frames: readonly Frame[], file = knownPy): boolean {
  const leaf = frames.at(-1);
  const caller = frames.at(-2);
  if (caller?.name !== UNICODE_NAME || (leaf?.name !== 'work_a' && leaf?.name !== 'work_b')) return false;
  const ownCall = leaf.name === 'work_a' ? LINE.unicode_call_a : LINE.unicode_call_b;
  const loopLines = [LINE.unicode_loop, LINE.unicode_call_a, LINE.unicode_call_b];
  if (caller.line === ownCall || !loopLines.includes(caller.line)) return false;
  checkMainStack([...frames.slice(0, -2), { ...caller, line: ownCall! }, leaf], 'moved-on stack', file);
  return true;
}

function assertMovedOnRare(movedOn: number, total: number, where: string): void {
  assert.ok(
    movedOn <= Math.max(1, MAX_MOVED_ON_SHARE * total),
    `${where}: ${movedOn} of ${total} main-thread samples had a caller line from before its callee`,
  );
}

/** Checks an extra thread's stack, outermost first: threading's bootstrap frames, then its own loop. */
export function checkThreadStack(
  frames: readonly Frame[],
  loopName: string,
  loopLine: number,
  version: string,
  file = knownPy,
): void {
  const qualified = Number(version.split('.')[1]) >= 11 ? 'Thread.' : '';
  const names = frames.map((f) => f.name);
  assert.deepEqual(names, [`${qualified}_bootstrap`, `${qualified}_bootstrap_inner`, `${qualified}run`, loopName]);
  for (const frame of frames.slice(0, 3)) {
    assert.ok(frame.file.endsWith('/threading.py') && frame.line > 0, `${frame.name} ${frame.file}:${frame.line}`);
  }
  assert.deepEqual(frames[3], { name: loopName, file, line: loopLine });
}

export const THREAD_LOOPS: Record<string, [string, number]> = {
  'alpha-thread': [ALPHA_NAME, LINE.alpha_spin!],
  'beta-thread': [BETA_NAME, LINE.beta_spin!],
};

export function taskIds(pid: number): Set<number> {
  return new Set(fs.readdirSync(`/proc/${pid}/task`).map(Number));
}

/** Parses py-spy raw / collapsed output: "label;label;… count" lines, labels "name (file:line)". */
export function parseCollapsed(text: string): Array<{ labels: string[]; count: number }> {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const space = line.lastIndexOf(' ');
      return { labels: line.slice(0, space).split(';'), count: Number(line.slice(space + 1)) };
    });
}

export function parseFrameLabel(label: string): Frame {
  const match = /^(.*) \((.*):(\d+)\)$/.exec(label);
  assert.ok(match, `not a frame label: ${label}`);
  return { name: match[1]!, file: match[2]!, line: Number(match[3]) };
}

/** One thread of `hotpath dump --json`. */
export interface DumpedThread {
  pid: number;
  thread_id: number;
  os_thread_id: number | null;
  thread_name: string | null;
  frames: Array<{ name: string; filename: string; line: number }>;
}

/** Checks `hotpath dump --json` of a running known.py: its three threads, their ids, names and exact stacks. */
export function checkDumpedThreads(
  threads: readonly DumpedThread[],
  target: { pid: number; ready: ReadyInfo },
  where: string,
  file = knownPy,
): void {
  assert.equal(threads.length, 3, `threads: ${JSON.stringify(threads.map((th) => th.os_thread_id))}`);
  const tasks = taskIds(target.pid);
  for (const [name, ids] of Object.entries(target.ready.threads)) {
    const thread = threads.find((th) => th.thread_id === ids.ident);
    assert.ok(thread, `no thread with ident ${ids.ident} (${name})`);
    assert.equal(thread.pid, target.pid);
    assert.equal(thread.os_thread_id, ids.native_id, name);
    assert.ok(tasks.has(thread.os_thread_id), `${thread.os_thread_id} not in /proc/${target.pid}/task`);
    if (thread.thread_name !== null) assert.equal(thread.thread_name, name);
    const frames = thread.frames.map((f) => ({ name: f.name, file: f.filename, line: f.line })).reverse();
    if (name === 'MainThread') {
      assert.equal(thread.os_thread_id, target.pid);
      // One snapshot: a moved-on caller line (see isMovedOnStack) is its whole 1% allowance.
      if (!isMovedOnStack(frames, file)) checkMainStack(frames, where, file);
    } else {
      const [loopName, loopLine] = THREAD_LOOPS[name]!;
      checkThreadStack(frames, loopName, loopLine, target.ready.version, file);
    }
  }
}

/**
 * Checks `hotpath record -f raw -i -t` of a running known.py: every sample's thread is one of its threads, every
 * stack exact, every thread seen. Returns how many main-thread samples ended in work_a and in work_b.
 */
export function checkThreadedRawProfile(
  text: string,
  target: { pid: number; ready: ReadyInfo },
  where: string,
  file = knownPy,
): { work_a: number; work_b: number } {
  const tasks = taskIds(target.pid);
  const nameByTid = new Map(Object.entries(target.ready.threads).map(([name, ids]) => [ids.native_id, name]));
  const seenTids = new Set<number>();
  const leaves = { work_a: 0, work_b: 0 };
  let mainSamples = 0;
  let movedOn = 0;
  for (const { labels, count } of parseCollapsed(text)) {
    const thread = /^thread \((\d+)\)(?:: (.*))?$/.exec(labels[0]!);
    assert.ok(thread, `first label is not a thread: ${labels[0]}`);
    const tid = Number(thread[1]);
    const name = nameByTid.get(tid);
    assert.ok(name && tasks.has(tid), `thread ${tid} is not one of ${[...nameByTid.keys()]} in /proc/PID/task`);
    if (thread[2] !== undefined) assert.equal(thread[2], name);
    seenTids.add(tid);
    const frames = labels.slice(1).map(parseFrameLabel);
    if (name === 'MainThread') {
      assert.equal(tid, target.pid);
      mainSamples += count;
      if (isMovedOnStack(frames, file)) {
        movedOn += count;
        continue;
      }
      const leaf = checkMainStack(frames, where, file);
      if (leaf) leaves[leaf] += count;
    } else {
      const [loopName, loopLine] = THREAD_LOOPS[name]!;
      checkThreadStack(frames, loopName, loopLine, target.ready.version, file);
    }
  }
  assert.deepEqual([...seenTids].sort(), [...nameByTid.keys()].sort());
  assertMovedOnRare(movedOn, mainSamples, where);
  return leaves;
}

/**
 * Checks `hotpath record -f raw` of a launched known.py (no thread grouping): the main-thread stacks of the steady
 * state, after start-up (imports, thread starts), are exact. Returns how many there were.
 */
export function checkLaunchedRawProfile(text: string, where: string, file = knownPy): number {
  // Only the main thread's steady stacks are checked exactly. One taken as the program starts may show <module> at its
  // RESUME, which the code object places on line 0 (a frame written without a line).
  const stacks = parseCollapsed(text);
  const steady = stacks
    .filter(({ labels }) => labels.some((label) => label.startsWith('recurse (')))
    .map(({ labels, count }) => ({ frames: labels.map(parseFrameLabel), count }));
  assert.ok(steady.length > 0, `no main-thread stacks in:\n${stacks.map((s) => s.labels.at(-1)).join('\n')}`);
  let movedOn = 0;
  for (const { frames, count } of steady) {
    if (isMovedOnStack(frames, file)) movedOn += count;
    else checkMainStack(frames, where, file);
  }
  assertMovedOnRare(
    movedOn,
    steady.reduce((sum, { count }) => sum + count, 0),
    where,
  );
  return steady.length;
}
