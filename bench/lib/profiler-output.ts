// Reads what each profiler writes into one shape: stacks of function names with sample counts.
// hotpath and py-spy write collapsed stacks of `name (file:line)` frames; Tachyon writes collapsed
// stacks of `file:name:line` frames after a `tid:N` root; austin writes one line per sample,
// `P<pid>;T<iid>:<tid>;file:name:line;… <metric>`, after `# key: value` metadata lines.

export interface SampledStack {
  /** Function names, outermost first. */
  functions: string[];
  count: number;
}

export interface ParsedSamples {
  samples: number;
  stacks: SampledStack[];
}

export type FrameStyle = 'name-file-line' | 'file-name-line';

/** The function name in one frame of a collapsed stack. */
export function decodeFrameName(frame: string, style: FrameStyle): string {
  if (style === 'name-file-line') {
    // Python names hold no " (", file paths may.
    const open = frame.indexOf(' (');
    return open > 0 && frame.endsWith(')') ? frame.slice(0, open) : frame;
  }
  // file:name:line; file names may hold colons, function names do not.
  const parts = frame.split(':');
  return parts.length >= 3 ? parts[parts.length - 2]! : frame;
}

/** Collapsed stacks: `frame;frame;… count` per line; blank and malformed lines are skipped. */
export function parseCollapsed(text: string, style: FrameStyle): ParsedSamples {
  const stacks: SampledStack[] = [];
  let samples = 0;
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const count = Number(line.slice(space + 1));
    if (!Number.isInteger(count) || count <= 0) continue;
    const frames = line
      .slice(0, space)
      .split(';')
      .filter((frame) => !/^(tid|process|thread):/i.test(frame));
    stacks.push({ functions: frames.map((frame) => decodeFrameName(frame, style)), count });
    samples += count;
  }
  return { samples, stacks };
}

export interface AustinOutput extends ParsedSamples {
  /** `# key: value` lines (austin, interval, mode, duration, …). */
  meta: Record<string, string>;
}

/** austin's text output: every `P…` line is one sample of one thread. */
export function parseAustin(text: string): AustinOutput {
  const meta: Record<string, string> = {};
  const stacks: SampledStack[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) {
      const colon = line.indexOf(':');
      if (colon > 2) meta[line.slice(2, colon).trim()] = line.slice(colon + 1).trim();
      continue;
    }
    if (!line.startsWith('P')) continue;
    const space = line.lastIndexOf(' ');
    const frames = (space > 0 ? line.slice(0, space) : line).split(';').slice(2);
    stacks.push({ functions: frames.map((frame) => decodeFrameName(frame, 'file-name-line')), count: 1 });
  }
  return { samples: stacks.length, stacks, meta };
}

/** Mean number of frames per sample: shows whether a profiler saw the whole stack. */
export function meanDepth(parsed: ParsedSamples): number {
  let frames = 0;
  for (const stack of parsed.stacks) frames += stack.functions.length * stack.count;
  return parsed.samples > 0 ? frames / parsed.samples : NaN;
}

/**
 * For each function, the share of samples whose stack contains it, among samples that contain any
 * of them (so start-up and idle samples do not dilute the shares).
 */
export function functionShares(parsed: ParsedSamples, functions: readonly string[]): Map<string, number> {
  const counts = new Map(functions.map((name) => [name, 0]));
  let total = 0;
  for (const stack of parsed.stacks) {
    const present = functions.filter((name) => stack.functions.includes(name));
    if (present.length === 0) continue;
    total += stack.count;
    for (const name of present) counts.set(name, counts.get(name)! + stack.count);
  }
  return new Map(functions.map((name) => [name, total > 0 ? counts.get(name)! / total : NaN]));
}
