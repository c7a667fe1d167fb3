// Reads collapsed stacks (py-spy raw, flamegraph.pl input, ours) back into a Profile so `convert` and `diff`
// take them. "function (file:line)" labels become real frames; py-spy's thread/process frames become threads.

import { HotpathError } from '../errors/index.js';
import { ProfileBuilder, type Profile, type RawFrame } from '../profile/index.js';
import { unescapeCollapsedFrame } from './collapsed.js';

export interface ImportCollapsedOptions {
  /**
   * Counts become one sample each (the model has no weight column), ~21 bytes apiece: past this total the
   * import fails rather than exhaust memory (e.g. on perf files whose "counts" are nanoseconds).
   */
  maxSamples?: number;
}

export const DEFAULT_MAX_COLLAPSED_SAMPLES = 10_000_000;

interface CollapsedLine {
  labels: string[];
  count: number;
}

interface StackOwner {
  /** Outermost (parent) first; the sample belongs to the last. */
  processes: Array<{ pid: number; command: string }>;
  pid: number;
  tid: number;
  threadName?: string;
}

const LINE = /^(.*\S)\s+(\d+)$/;
const PROCESS_FRAME = /^process (\d+):"(.*)"$/s;
const THREAD_FRAME = /^thread \((\d+|0x[0-9a-f]+)\)(?:: (.*))?$/is;
const FRAME_WITH_LINE = /^(.*?) \((.*):(\d+)\)$/s;
const FRAME_WITH_FILE = /^(.*?) \((.*)\)$/s;

export function importCollapsed(text: string, options: ImportCollapsedOptions = {}): Profile {
  const lines = parseCollapsedLines(text);
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_COLLAPSED_SAMPLES;
  const total = lines.reduce((sum, line) => sum + line.count, 0);
  if (total > maxSamples) {
    throw new HotpathError(
      'bad-input-file',
      `collapsed stacks add up to ${total} samples, more than the ${maxSamples} hotpath loads`,
      'each count becomes one sample; scale the counts down (e.g. divide them) or split the file',
    );
  }
  const builder = new ProfileBuilder();
  for (const { labels, count } of lines) addStack(builder, labels, count);
  builder.stats.attempted = total;
  builder.stats.taken = total;
  return builder.build({ startTime: 0, durationMs: 0, rateHz: 0, pythonVersion: '', command: '' });
}

function parseCollapsedLines(text: string): CollapsedLine[] {
  const parsed: CollapsedLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const match = LINE.exec(line);
    if (!match) {
      throw new HotpathError(
        'bad-input-file',
        `line ${index + 1} is not "frame;frame;… count": ${JSON.stringify(line.slice(0, 80))}`,
        'collapsed stacks end each line with a space and a whole sample count',
      );
    }
    parsed.push({ labels: match[1]!.split(';').map(unescapeCollapsedFrame), count: Number(match[2]) });
  });
  if (parsed.length === 0) throw new HotpathError('bad-input-file', 'no stacks found in the collapsed-stacks text');
  return parsed;
}

function addStack(builder: ProfileBuilder, labels: readonly string[], count: number): void {
  const { owner, frameLabels } = splitOwner(labels);
  for (const { pid, command } of owner.processes) builder.addProcess(pid, command);
  const stack = builder.internFrames(frameLabels.map(decodeFrameLabel));
  const thread = builder.internThread(owner.pid, owner.tid, owner.threadName);
  for (let i = 0; i < count; i++) builder.addInterned(stack, 0, thread, -1, 0);
}

/** Leading `process pid:"command"` frames (outermost parent first) and a `thread (tid): name` frame, as py-spy's --subprocesses/--threads write them. */
function splitOwner(labels: readonly string[]): { owner: StackOwner; frameLabels: readonly string[] } {
  const owner: StackOwner = { processes: [], pid: 0, tid: 0 };
  let first = 0;
  for (let match = PROCESS_FRAME.exec(labels[first] ?? ''); match; match = PROCESS_FRAME.exec(labels[++first] ?? '')) {
    owner.pid = Number(match[1]);
    owner.processes.push({ pid: owner.pid, command: match[2]! });
  }
  const thread = THREAD_FRAME.exec(labels[first] ?? '');
  if (thread) {
    owner.tid = Number(thread[1]);
    if (thread[2]) owner.threadName = thread[2];
    first++;
  }
  return { owner, frameLabels: labels.slice(first) };
}

/** "function (file:line)", "function (file)" or any other text as a bare function name. */
function decodeFrameLabel(label: string): RawFrame {
  const withLine = FRAME_WITH_LINE.exec(label);
  if (withLine) return { name: withLine[1]!, file: withLine[2]!, line: Number(withLine[3]) };
  const withFile = FRAME_WITH_FILE.exec(label);
  if (withFile) return { name: withFile[1]!, file: withFile[2]!, line: 0 };
  return { name: label, file: '', line: 0 };
}
