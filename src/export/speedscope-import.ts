// Reads a speedscope file (ours or another tool's) back into a Profile for `convert`, `diff` and `report`.
// Sampled profiles expand weights into samples; evented profiles are sampled on a fixed grid, as a sampler would.

import { ProfileBuilder, type Profile } from '../profile/index.js';
import { InputChecker } from './input-checks.js';
import { SPEEDSCOPE_SCHEMA, type SpeedscopeHotpathMeta, type SpeedscopeUnit } from './speedscope.js';

export interface ImportSpeedscopeOptions {
  /** Weights become one sample each; past this total the import fails rather than exhaust memory. */
  maxSamples?: number;
}

export const DEFAULT_MAX_SPEEDSCOPE_SAMPLES = 10_000_000;

/** Grid step for evented profiles from other tools, whose events carry no sampling rate. */
const EVENTED_INTERVAL_MS = 1;

const MS_PER_UNIT: Partial<Record<SpeedscopeUnit, number>> = {
  nanoseconds: 1e-6,
  microseconds: 1e-3,
  milliseconds: 1,
  seconds: 1000,
};
const UNITS = new Set<string>(['none', 'nanoseconds', 'microseconds', 'milliseconds', 'seconds', 'bytes']);

/**
 * Profile names that give back pid, tid and thread name: ours and py-spy's ('Process 1 Thread 2 "MainThread"',
 * 'Thread 2 "MainThread"'), and hotpath's older naming ("process 1 thread MainThread (2)").
 */
const THREAD_NAMES = [
  /^(?:Process (?<pid>\d+) )?Thread (?<tid>\d+)(?: "(?<name>.*)")?$/s,
  /^process (?<pid>\d+) thread (?:(?<name>.*) \((?<tid>\d+)\)|(?<unnamedTid>\d+))$/s,
];

interface ImportContext {
  check: InputChecker;
  builder: ProfileBuilder;
  /** Hotpath frame id for each speedscope frame index. */
  frameIds: number[];
  /** Milliseconds per sample; 0 when weights are plain counts. */
  intervalMs: number;
  samplesLeft: number;
}

/** `input` is the file's text or bytes, or its already-parsed JSON. */
export function importSpeedscope(input: string | Buffer | object, options: ImportSpeedscopeOptions = {}): Profile {
  const check = new InputChecker('speedscope');
  const text = typeof input === 'string' ? input : Buffer.isBuffer(input) ? input.toString('utf8') : undefined;
  const file = check.object(text === undefined ? input : check.parseJson(text), 'the file');
  if (file.$schema !== SPEEDSCOPE_SCHEMA) check.fail(`"$schema" is not "${SPEEDSCOPE_SCHEMA}"`);
  const hotpath = readHotpathMeta(check, file.hotpath);
  const profiles = check.array(file.profiles, 'profiles').map((entry, i) => check.object(entry, `profiles[${i}]`));
  const builder = new ProfileBuilder();
  const context: ImportContext = {
    check,
    builder,
    frameIds: internFrames(check, builder, check.object(file.shared, 'shared').frames),
    intervalMs: chooseIntervalMs(check, profiles, hotpath),
    samplesLeft: options.maxSamples ?? DEFAULT_MAX_SPEEDSCOPE_SAMPLES,
  };
  let endMs = 0;
  profiles.forEach((entry, index) => {
    const thread = internThread(builder, check.optionalString(entry.name, `profiles[${index}].name`), index);
    const where = `profiles[${index}]`;
    const end =
      entry.type === 'evented'
        ? importEvented(context, entry, thread, where)
        : importSampled(context, entry, thread, where);
    endMs = Math.max(endMs, end);
  });
  builder.stats.attempted = builder.size;
  builder.stats.taken = builder.size;
  return builder.build({
    startTime: hotpath?.startTime ?? 0,
    durationMs: hotpath?.durationMs ?? endMs,
    rateHz: context.intervalMs > 0 ? 1000 / context.intervalMs : 0,
    pythonVersion: hotpath?.pythonVersion ?? '',
    command: hotpath?.command ?? check.optionalString(file.name, 'name'),
  });
}

function readHotpathMeta(check: InputChecker, value: unknown): SpeedscopeHotpathMeta | undefined {
  if (value === undefined) return undefined;
  const meta = check.object(value, 'hotpath');
  return {
    rateHz: check.number(meta.rateHz, 'hotpath.rateHz'),
    startTime: check.number(meta.startTime, 'hotpath.startTime'),
    durationMs: check.number(meta.durationMs, 'hotpath.durationMs'),
    pythonVersion: check.string(meta.pythonVersion, 'hotpath.pythonVersion'),
    command: check.string(meta.command, 'hotpath.command'),
  };
}

/** speedscope frames carry the executing line but not the function's first line, so functions get firstLine 0. */
function internFrames(check: InputChecker, builder: ProfileBuilder, value: unknown): number[] {
  return check.array(value, 'shared.frames').map((raw, i) => {
    const frame = check.object(raw, `shared.frames[${i}]`);
    const name = check.string(frame.name, `shared.frames[${i}].name`);
    const file = check.optionalString(frame.file, `shared.frames[${i}].file`);
    const line = frame.line == null ? 0 : check.integer(frame.line, `shared.frames[${i}].line`, 0);
    return builder.internFrame(builder.internFunction(name, file), line);
  });
}

function internThread(builder: ProfileBuilder, name: string, index: number): number {
  const found = THREAD_NAMES.map((pattern) => pattern.exec(name)?.groups).find((groups) => groups !== undefined);
  if (!found) return builder.internThread(0, index + 1, name);
  return builder.internThread(Number(found.pid ?? 0), Number(found.tid ?? found.unnamedTid), found.name ?? '');
}

/**
 * Our files say their rate. Otherwise a sampled time-weighted profile is taken to be sampled at its smallest
 * weight (one sample), evented ones at 1 kHz, and count-weighted ones have no rate at all.
 */
function chooseIntervalMs(
  check: InputChecker,
  profiles: Record<string, unknown>[],
  hotpath: SpeedscopeHotpathMeta | undefined,
): number {
  if (hotpath) return hotpath.rateHz > 0 ? 1000 / hotpath.rateHz : 0;
  let smallest = Infinity;
  for (const [index, entry] of profiles.entries()) {
    const msPerUnit = MS_PER_UNIT[readUnit(check, entry, `profiles[${index}]`)];
    if (msPerUnit === undefined) continue;
    if (entry.type === 'evented') smallest = Math.min(smallest, EVENTED_INTERVAL_MS);
    if (entry.type !== 'sampled' || !Array.isArray(entry.weights)) continue;
    for (const weight of entry.weights)
      if (typeof weight === 'number' && weight > 0) smallest = Math.min(smallest, weight * msPerUnit);
  }
  return Number.isFinite(smallest) ? smallest : 0;
}

function readUnit(check: InputChecker, entry: Record<string, unknown>, where: string): SpeedscopeUnit {
  const unit = check.string(entry.unit, `${where}.unit`);
  if (!UNITS.has(unit)) check.fail(`${where}.unit "${unit}" is not a speedscope unit`);
  return unit as SpeedscopeUnit;
}

function takeSamples(context: ImportContext, count: number): void {
  context.samplesLeft -= count;
  if (context.samplesLeft < 0) {
    context.check.fail('it expands to more samples than hotpath loads (weights too large for the sampling interval)');
  }
}

/** Returns the end of the profile in milliseconds. */
function importSampled(context: ImportContext, entry: Record<string, unknown>, thread: number, where: string): number {
  const { check, builder } = context;
  if (entry.type !== 'sampled') {
    check.fail(`${where}.type is ${JSON.stringify(entry.type)}, not "sampled" or "evented"`);
  }
  const msPerUnit = MS_PER_UNIT[readUnit(check, entry, where)];
  const stacks = check.array(entry.samples, `${where}.samples`);
  const weights = check.array(entry.weights, `${where}.weights`);
  if (stacks.length !== weights.length) {
    check.fail(`${where} has ${stacks.length} samples but ${weights.length} weights`);
  }
  const countWeighted = msPerUnit === undefined || context.intervalMs === 0;
  const stepMs = context.intervalMs > 0 ? context.intervalMs : 0;
  let cursorMs = msPerUnit === undefined ? 0 : check.number(entry.startValue, `${where}.startValue`) * msPerUnit;
  stacks.forEach((rawStack, i) => {
    const weight = check.number(weights[i], `${where}.weights[${i}]`);
    if (weight < 0) check.fail(`${where}.weights[${i}] is negative`);
    const count = Math.round(countWeighted ? weight : (weight * msPerUnit) / context.intervalMs);
    takeSamples(context, count);
    const node = internStack(context, rawStack, `${where}.samples[${i}]`);
    for (let k = 0; k < count; k++) builder.addInterned(node, cursorMs + k * stepMs, thread, -1, 0);
    cursorMs += msPerUnit === undefined ? count * stepMs : weight * msPerUnit;
  });
  return cursorMs;
}

function internStack(context: ImportContext, rawStack: unknown, where: string): number {
  let node = -1;
  for (const [depth, index] of context.check.array(rawStack, where).entries()) {
    const frame = context.check.integer(index, `${where}[${depth}]`, 0, context.frameIds.length);
    node = context.builder.internStack(node, context.frameIds[frame]!);
  }
  return node;
}

/** Samples the open-frame stack at the middle of each grid step; returns the end of the profile in milliseconds. */
function importEvented(context: ImportContext, entry: Record<string, unknown>, thread: number, where: string): number {
  const { check, builder } = context;
  const msPerUnit = MS_PER_UNIT[readUnit(check, entry, where)] ?? 1;
  const stepMs = context.intervalMs > 0 ? context.intervalMs : EVENTED_INTERVAL_MS;
  const startMs = check.number(entry.startValue, `${where}.startValue`) * msPerUnit;
  const endMs = check.number(entry.endValue, `${where}.endValue`) * msPerUnit;
  takeSamples(context, Math.max(0, Math.ceil((endMs - startMs) / stepMs)));
  const events = check.array(entry.events, `${where}.events`);
  const open: { frame: number; node: number }[] = [];
  let next = 0;
  for (let t = startMs + stepMs / 2; t < endMs; t += stepMs) {
    for (
      ;
      next < events.length && eventTimeMs(check, events[next], msPerUnit, `${where}.events[${next}]`) <= t;
      next++
    ) {
      applyEvent(context, open, events[next], `${where}.events[${next}]`);
    }
    if (open.length > 0) builder.addInterned(open[open.length - 1]!.node, t, thread, -1, 0);
  }
  // Events after the last grid point add no sample but must still be well-formed.
  for (; next < events.length; next++) applyEvent(context, open, events[next], `${where}.events[${next}]`);
  return endMs;
}

function eventTimeMs(check: InputChecker, raw: unknown, msPerUnit: number, where: string): number {
  return check.number(check.object(raw, where).at, `${where}.at`) * msPerUnit;
}

function applyEvent(
  context: ImportContext,
  open: { frame: number; node: number }[],
  raw: unknown,
  where: string,
): void {
  const { check, builder, frameIds } = context;
  const event = check.object(raw, where);
  const frame = check.integer(event.frame, `${where}.frame`, 0, frameIds.length);
  if (event.type === 'O') {
    const parent = open.length > 0 ? open[open.length - 1]!.node : -1;
    open.push({ frame, node: builder.internStack(parent, frameIds[frame]!) });
  } else if (event.type === 'C') {
    const top = open.pop();
    if (top?.frame !== frame) {
      check.fail(`${where} closes frame ${frame}, but the innermost open frame is ${top?.frame ?? 'none'}`);
    }
  } else {
    check.fail(`${where}.type is ${JSON.stringify(event.type)}, not "O" or "C"`);
  }
}
