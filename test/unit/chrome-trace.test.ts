// exportChromeTrace: the file validates against a JSON Schema of the Trace Event Format subset it writes
// (test/fixtures/trace-event.schema.json, checked with ajv), events nest per thread, metadata names, and time
// per function = its samples × interval.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { exportChromeTrace, type ChromeTrace, type TraceEvent } from '../../src/export/chrome-trace.js';
import { HotpathError } from '../../src/errors/index.js';
import { ProfileBuilder, type Profile } from '../../src/profile/index.js';
import { buildExportProfile, EXPECTED } from '../fixtures/export-profile.js';
import {
  buildInterleavedProfile,
  countSamples,
  INTERLEAVED_INTERVAL_MS,
  stackNames,
} from '../fixtures/interleaved-profile.js';

const INTERVAL_US = 10_000;
const EPSILON = 1e-6;
const SCHEMA_PATH = new URL('../../../test/fixtures/trace-event.schema.json', import.meta.url);

/** The schema compiled once per test file; `validate.errors` says what failed. */
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);

function schemaErrors(trace: unknown): string {
  return validate(trace) ? '' : JSON.stringify(validate.errors, null, 2);
}

interface Nested {
  event: TraceEvent;
  parent: Nested | null;
  childTime: number;
}

/** Checks every X event on a thread nests inside the one before it or starts after it ends; returns the tree. */
function nestPerThread(events: TraceEvent[]): Nested[] {
  const byThread = new Map<string, TraceEvent[]>();
  for (const event of events.filter((e) => e.ph === 'X')) {
    const key = `${event.pid}:${event.tid}`;
    byThread.set(key, [...(byThread.get(key) ?? []), event]);
  }
  const nested: Nested[] = [];
  for (const [thread, threadEvents] of byThread) {
    const sorted = [...threadEvents].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const stack: Nested[] = [];
    for (const event of sorted) {
      const end = (e: TraceEvent) => e.ts + e.dur!;
      while (stack.length && end(stack[stack.length - 1]!.event) <= event.ts + EPSILON) stack.pop();
      const parent = stack[stack.length - 1] ?? null;
      if (parent) {
        assert.ok(end(event) <= end(parent.event) + EPSILON, `${thread}: ${event.name} overlaps ${parent.event.name}`);
        parent.childTime += event.dur!;
      }
      const node = { event, parent, childTime: 0 };
      nested.push(node);
      stack.push(node);
    }
  }
  return nested;
}

const exported = (profile = buildExportProfile()) => JSON.parse(exportChromeTrace(profile).toString()) as ChromeTrace;

test('the file validates against the Trace Event JSON Schema, and X events nest per thread', () => {
  const trace = exported();
  assert.equal(schemaErrors(trace), '');
  assert.ok(trace.traceEvents.some((event) => event.ph === 'X') && trace.traceEvents.some((event) => event.ph === 'M'));
  nestPerThread(trace.traceEvents);
});

test('the schema refuses what trace viewers would misread', () => {
  const trace = exported();
  const complete = trace.traceEvents.find((event) => event.ph === 'X')!;
  const threadName = trace.traceEvents.find((event) => event.name === 'thread_name')!;
  const withEvent = (event: object) => ({ ...trace, traceEvents: [...trace.traceEvents, event] });
  const cases: [string, unknown][] = [
    ['X without dur', withEvent({ ...complete, dur: undefined })],
    ['negative dur', withEvent({ ...complete, dur: -1 })],
    ['ts in a string', withEvent({ ...complete, ts: '0' })],
    ['pid not an integer', withEvent({ ...complete, pid: 1.5 })],
    ['unknown phase', withEvent({ ...complete, ph: 'Q' })],
    ['misspelt field', withEvent({ ...complete, duration: 10 })],
    ['thread_name without args.name', withEvent({ ...threadName, args: {} })],
    ['unknown metadata', withEvent({ ...threadName, name: 'thread_title' })],
    ['no traceEvents', { displayTimeUnit: 'ms' }],
  ];
  for (const [what, input] of cases) {
    assert.notEqual(schemaErrors(JSON.parse(JSON.stringify(input))), '', what);
  }
});

test('metadata names each process by command and each thread by its Python name', () => {
  const metadata = exported().traceEvents.filter((e) => e.ph === 'M');
  assert.deepEqual(
    metadata.map((e) => [e.name, e.pid, e.tid, e.args!.name]),
    [
      ['process_name', 100, 0, 'gunicorn app:app (100)'],
      ['process_name', 200, 0, 'python3 worker.py (200)'],
      ['thread_name', 100, 100, 'MainThread (100)'],
      ['thread_name', 100, 101, 'worker-1 (101)'],
      ['thread_name', 200, 201, 'thread 201'],
    ],
  );
});

test('self and total time per function equal its sample counts × interval', () => {
  const nested = nestPerThread(exported().traceEvents).filter((n) => n.event.cat === 'python');
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const node of nested) {
    const name = node.event.name;
    self.set(name, (self.get(name) ?? 0) + node.event.dur! - node.childTime);
    let outermost = true;
    for (let p = node.parent; p; p = p.parent) if (p.event.name === name) outermost = false;
    if (outermost) total.set(name, (total.get(name) ?? 0) + node.event.dur!);
  }
  for (const [name, facts] of Object.entries(EXPECTED.functions)) {
    assert.equal(self.get(name) ?? 0, facts.self * INTERVAL_US, `self ${name}`);
    assert.equal(total.get(name), facts.total * INTERVAL_US, `total ${name}`);
  }
});

test('consecutive samples sharing a prefix merge into one event; recursion nests', () => {
  const events = exported().traceEvents.filter((e) => e.ph === 'X' && e.tid === 101 && e.cat === 'python');
  assert.deepEqual(
    events.map((e) => [e.name, e.ts, e.dur]),
    [
      ['main', 0, 20_000],
      ['handle_request', 0, 20_000],
      ['ユーザー一覧', 0, 20_000],
      ['main', 20_000, 20_000],
      ['handle_request', 20_000, 20_000],
      ['fib', 20_000, 20_000],
      ['fib', 20_000, 20_000],
      ['fib', 20_000, 20_000],
    ],
  );
});

test('each run of samples of one endpoint is a request event around its stacks', () => {
  const requests = exported().traceEvents.filter((e) => e.cat === 'request');
  assert.deepEqual(
    requests.map((e) => [e.tid, e.name, e.dur! / INTERVAL_US, e.ts / 1000]),
    EXPECTED.requests,
  );
});

test('a gap in sampling starts a new run at the later sample time; late samples never overlap', () => {
  const builder = new ProfileBuilder();
  const frames = [{ name: 'work', file: 'w.py', line: 1 }];
  for (const time of [0, 10, 20, 100, 109, 118, 127]) builder.addSample({ frames, time, pid: 1, tid: 1 });
  const profile = builder.build({ startTime: 0, durationMs: 140, rateHz: 100, pythonVersion: '', command: '' });
  const events = exported(profile).traceEvents.filter((e) => e.ph === 'X');
  assert.deepEqual(
    events.map((e) => [e.ts, e.dur]),
    [
      [0, 30_000],
      [100_000, 40_000],
    ],
  );
});

test('a profile making more events than viewers load fails early with not-supported', () => {
  assert.throws(
    () => exportChromeTrace(buildExportProfile(), { maxEvents: 10 }),
    (error: unknown) =>
      error instanceof HotpathError &&
      error.kind === 'not-supported' &&
      /more than 10 trace events/.test(error.message),
  );
});

/**
 * Per thread row (pid:tid): each python function's self and total time, and each request's time, from the nested
 * events, in samples (µs / interval).
 */
function timesPerRow(trace: ChromeTrace): Map<string, number> {
  const times = new Map<string, number>();
  const add = (key: string, us: number) =>
    times.set(key, (times.get(key) ?? 0) + us / (INTERLEAVED_INTERVAL_MS * 1000));
  for (const node of nestPerThread(trace.traceEvents)) {
    const { event } = node;
    const row = `${event.pid}:${event.tid}`;
    if (event.cat === 'request') {
      add(`${row} request ${event.name}`, event.dur!);
      continue;
    }
    add(`${row} self ${event.name}`, event.dur! - node.childTime);
    let outermost = true;
    for (let p = node.parent; p; p = p.parent) if (p.event.name === event.name) outermost = false;
    if (outermost) add(`${row} total ${event.name}`, event.dur!);
  }
  // Rounded to µs noise; a function that is never innermost has no self time, as the profile has no count for it.
  for (const [key, value] of times) {
    if (Math.round(value * 1e6) === 0) times.delete(key);
    else times.set(key, Math.round(value * 1e6) / 1e6);
  }
  return times;
}

/** The same times counted from the profile's samples; `requestRow` names the row a thread's requests are on. */
function expectedTimes(profile: Profile, requestRow: (thread: number) => string): Map<string, number> {
  const { samples } = profile;
  const row = (i: number) => `${profile.threads[samples.thread[i]!]!.pid}:${profile.threads[samples.thread[i]!]!.tid}`;
  const times = new Map<string, number>();
  const add = (counts: Map<string, number>) => counts.forEach((n, key) => key && times.set(key, n));
  add(
    countSamples(profile, (i) =>
      samples.stack[i]! >= 0 ? `${row(i)} self ${stackNames(profile, samples.stack[i]!).at(-1)}` : '',
    ),
  );
  for (let i = 0; i < samples.count; i++) {
    for (const name of new Set(stackNames(profile, samples.stack[i]!))) {
      const key = `${row(i)} total ${name}`;
      times.set(key, (times.get(key) ?? 0) + 1);
    }
  }
  add(
    countSamples(profile, (i) =>
      samples.endpoint[i]! >= 0
        ? `${requestRow(samples.thread[i]!)} request ${profile.endpoints[samples.endpoint[i]!]}`
        : '',
    ),
  );
  return times;
}

const sorted = (times: Map<string, number>) => [...times].sort(([a], [b]) => a.localeCompare(b));

test("thousands of interleaved samples, sample by sample: slices add up to each thread's samples", () => {
  const profile = buildInterleavedProfile();
  const trace = exported(profile);
  assert.equal(schemaErrors(trace), '');
  assert.equal(trace.otherData.timelineWindowMs, undefined, 'no windows: every sample in its place');
  const rowOf = (thread: number) => `${profile.threads[thread]!.pid}:${profile.threads[thread]!.tid}`;
  assert.deepEqual(sorted(timesPerRow(trace)), sorted(expectedTimes(profile, rowOf)));
});

test('past maxEvents, samples are grouped in the shortest window that fits; every time stays exact', () => {
  const profile = buildInterleavedProfile();
  const full = exported(profile).traceEvents.length;
  const windows: number[] = [];
  for (const maxEvents of [Math.floor(full / 2), Math.floor(full / 8), 2000]) {
    const trace = JSON.parse(exportChromeTrace(profile, { maxEvents }).toString()) as ChromeTrace;
    assert.equal(schemaErrors(trace), '', `${maxEvents}`);
    assert.ok(trace.traceEvents.length <= maxEvents, `${trace.traceEvents.length} events within ${maxEvents}`);
    const windowMs = trace.otherData.timelineWindowMs as number;
    assert.ok(
      Number.isInteger(Math.log2(windowMs / INTERLEAVED_INTERVAL_MS)) && windowMs >= 2 * INTERLEAVED_INTERVAL_MS,
    );
    windows.push(windowMs);
    // Requests move to a row of their own per thread, named after it, with a tid no thread has.
    const names = new Map(
      trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args!.name]),
    );
    const requestRows = new Map<number, string>();
    profile.threads.forEach((thread, i) => {
      const row = [...names].find(
        ([, name]) => name === `requests of ${thread.name ? `${thread.name} (${thread.tid})` : `thread ${thread.tid}`}`,
      );
      if (row) requestRows.set(i, row[0]);
    });
    assert.equal(requestRows.size, 3, 'each thread serves requests');
    const tids = new Set(profile.threads.map((thread) => thread.tid));
    for (const row of requestRows.values()) assert.ok(!tids.has(Number(row.split(':')[1])), row);
    assert.deepEqual(sorted(timesPerRow(trace)), sorted(expectedTimes(profile, (thread) => requestRows.get(thread)!)));
  }
  assert.ok(windows[0]! <= windows[1]! && windows[1]! <= windows[2]!, `fewer events, longer windows: ${windows}`);
  assert.ok(windows[0]! < windows[2]!);
});

test('a profile over maxEvents even as one flame graph per thread fails with a one-line reason', () => {
  assert.throws(
    () => exportChromeTrace(buildInterleavedProfile(), { maxEvents: 40 }),
    (error: unknown) =>
      error instanceof HotpathError &&
      error.kind === 'not-supported' &&
      /^this profile makes more than 40 trace events even as one flame graph per thread, more than trace viewers load$/.test(
        error.message,
      ),
  );
});
