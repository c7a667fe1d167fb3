// exportGecko: the Firefox Profiler processed format checked structurally (every table column as long as the
// table, every index in range, prefixes before their stacks) and against the fixture's facts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportGecko, GECKO_PROCESSED_VERSION, type GeckoProfile, type GeckoThread } from '../../src/export/gecko.js';
import { buildExportProfile, EXPECTED, START_TIME } from '../fixtures/export-profile.js';
import {
  buildInterleavedProfile,
  INTERLEAVED_INTERVAL_MS,
  stackNames as profileStackNames,
} from '../fixtures/interleaved-profile.js';

const exported = () => JSON.parse(exportGecko(buildExportProfile()).toString()) as GeckoProfile;

/** Keys of the samples table that describe its columns rather than being one. */
const NOT_COLUMNS = new Set(['length', 'weight', 'weightType']);

function assertColumns(table: Record<string, unknown>, what: string): void {
  const length = table.length as number;
  assert.ok(Number.isInteger(length), `${what}.length`);
  for (const [name, column] of Object.entries(table)) {
    if (NOT_COLUMNS.has(name)) continue;
    assert.ok(Array.isArray(column), `${what}.${name} is an array`);
    assert.equal(column.length, length, `${what}.${name} has ${length} entries`);
  }
}

function assertIndices(values: readonly (number | null)[], limit: number, what: string, nullable = false): void {
  values.forEach((value, i) => {
    if (value === null && nullable) return;
    assert.ok(
      Number.isInteger(value) && value! >= 0 && value! < limit,
      `${what}[${i}] = ${value} within [0, ${limit})`,
    );
  });
}

/** Function names of a sample's stack, outermost first. */
function stackNames(profile: GeckoProfile, thread: GeckoThread, stack: number | null): string[] {
  const names: string[] = [];
  for (let s = stack; s !== null; s = thread.stackTable.prefix[s]!) {
    const func = thread.frameTable.func[thread.stackTable.frame[s]!]!;
    names.push(profile.shared.stringArray[thread.funcTable.name[func]!]!);
  }
  return names.reverse();
}

test('meta declares processed version 57, the interval, start time, a grey default category and markers', () => {
  const { meta } = exported();
  assert.equal(meta.preprocessedProfileVersion, GECKO_PROCESSED_VERSION);
  assert.equal(meta.interval, 10);
  assert.equal(meta.startTime, START_TIME);
  const categories = meta.categories as { name: string; color: string; subcategories: string[] }[];
  assert.equal(categories.find((c) => c.color === 'grey')?.name, 'Other');
  assert.ok(categories.every((c) => c.subcategories[0] === 'Other'));
  const schema = meta.markerSchema as { name: string; fields: { key: string; format: string }[] }[];
  assert.deepEqual(
    schema.map((s) => [s.name, s.fields.map((f) => f.key)]),
    [['Request', ['endpoint', 'samples']]],
  );
});

test('every thread table is well formed and every index points inside its table', () => {
  const profile = exported();
  const strings = profile.shared.stringArray.length;
  for (const thread of profile.threads) {
    const where = `thread ${thread.tid}`;
    for (const key of [
      'samples',
      'markers',
      'stackTable',
      'frameTable',
      'funcTable',
      'resourceTable',
      'nativeSymbols',
    ] as const) {
      assertColumns(thread[key] as unknown as Record<string, unknown>, `${where} ${key}`);
    }
    const { stackTable, frameTable, funcTable, resourceTable, samples, markers } = thread;
    assertIndices(stackTable.frame, frameTable.length, `${where} stackTable.frame`);
    stackTable.prefix.forEach((prefix, i) => assert.ok(prefix === null || (prefix >= 0 && prefix < i), `prefix ${i}`));
    assertIndices(frameTable.func, funcTable.length, `${where} frameTable.func`);
    assertIndices(funcTable.name, strings, `${where} funcTable.name`);
    assertIndices(funcTable.fileName, strings, `${where} funcTable.fileName`);
    assertIndices(funcTable.resource, resourceTable.length, `${where} funcTable.resource`);
    assertIndices(resourceTable.name, strings, `${where} resourceTable.name`);
    assertIndices(samples.stack, stackTable.length, `${where} samples.stack`, true);
    assertIndices(markers.name, strings, `${where} markers.name`);
    assert.ok(
      samples.time.every((t, i) => i === 0 || t >= samples.time[i - 1]!),
      'sample times never go back',
    );
    assert.equal(typeof thread.pid, 'string');
  }
});

test('threads carry names, pids and the samples of the profile', () => {
  const profile = exported();
  assert.deepEqual(
    profile.threads.map((t) => [t.name, t.pid, t.tid, t.isMainThread, t.processName, t.samples.length]),
    [
      ['MainThread', '100', 100, true, 'gunicorn app:app (100)', EXPECTED.threads[100]],
      ['worker-1', '100', 101, false, 'gunicorn app:app (100)', EXPECTED.threads[101]],
      ['thread 201', '200', 201, false, 'python3 worker.py (200)', EXPECTED.threads[201]],
    ],
  );
});

test('self and total samples per function equal the profile; functions keep file and first line', () => {
  const profile = exported();
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const thread of profile.threads) {
    for (const stack of thread.samples.stack) {
      const names = stackNames(profile, thread, stack);
      self.set(names.at(-1)!, (self.get(names.at(-1)!) ?? 0) + 1);
      for (const name of new Set(names)) total.set(name, (total.get(name) ?? 0) + 1);
    }
    thread.funcTable.name.forEach((nameIndex, func) => {
      const facts = EXPECTED.functions[profile.shared.stringArray[nameIndex]!]!;
      assert.equal(profile.shared.stringArray[thread.funcTable.fileName[func]!], facts.file);
      assert.equal(thread.funcTable.lineNumber[func], facts.firstLine);
    });
  }
  for (const [name, facts] of Object.entries(EXPECTED.functions)) {
    assert.equal(self.get(name) ?? 0, facts.self, `self ${name}`);
    assert.equal(total.get(name), facts.total, `total ${name}`);
  }
});

test('frames carry the executing line and recursion keeps one frame per level', () => {
  const profile = exported();
  const worker = profile.threads[1]!;
  const fibStack = worker.samples.stack[2]!;
  assert.deepEqual(stackNames(profile, worker, fibStack), ['main', 'handle_request', 'fib', 'fib', 'fib']);
  assert.equal(worker.frameTable.line[worker.stackTable.frame[fibStack]!], 3);
});

test('consecutive samples of one endpoint in a thread make one Request interval marker', () => {
  const profile = exported();
  const markers = profile.threads.flatMap((thread) =>
    thread.markers.data.map((data, i) => {
      assert.equal(profile.shared.stringArray[thread.markers.name[i]!], data.endpoint);
      assert.equal(thread.markers.phase[i], 1);
      assert.equal(thread.markers.endTime[i]! - thread.markers.startTime[i]!, data.samples * 10);
      return [thread.tid, data.endpoint, data.samples, thread.markers.startTime[i]];
    }),
  );
  assert.deepEqual(markers, EXPECTED.requests);
});

test('thousands of interleaved samples: each thread keeps every sample in order with its stack, lines and time', () => {
  const profile = buildInterleavedProfile();
  const gecko = JSON.parse(exportGecko(profile).toString()) as GeckoProfile;
  const { samples } = profile;
  assert.equal(gecko.threads.length, profile.threads.length);
  gecko.threads.forEach((thread, t) => {
    for (const key of ['samples', 'markers', 'stackTable', 'frameTable', 'funcTable', 'resourceTable'] as const) {
      assertColumns(thread[key] as unknown as Record<string, unknown>, `thread ${thread.tid} ${key}`);
    }
    const indices = [...Array(samples.count).keys()].filter((i) => samples.thread[i] === t);
    assert.equal(thread.tid, profile.threads[t]!.tid);
    assert.equal(thread.samples.length, indices.length);
    indices.forEach((i, k) => {
      const stack = thread.samples.stack[k]!;
      assert.equal(thread.samples.time[k], samples.time[i]);
      assert.deepEqual(stackNames(gecko, thread, stack), profileStackNames(profile, samples.stack[i]!), `sample ${i}`);
      if (samples.stack[i]! < 0) assert.equal(stack, null, 'an empty stack is null');
      else {
        const line = profile.frames[profile.stackFrame[samples.stack[i]!]!]!.line;
        assert.equal(thread.frameTable.line[thread.stackTable.frame[stack]!], line);
      }
    });
  });
  assert.ok(
    [...Array(samples.count).keys()].some((i) => samples.stack[i]! < 0),
    'the fixture has empty stacks',
  );
});

test('thousands of interleaved samples: Request markers tile each run of one endpoint and add up to its samples', () => {
  const profile = buildInterleavedProfile();
  const gecko = JSON.parse(exportGecko(profile).toString()) as GeckoProfile;
  const { samples } = profile;
  gecko.threads.forEach((thread, t) => {
    const indices = [...Array(samples.count).keys()].filter((i) => samples.thread[i] === t);
    const expected: [string, number, number, number][] = [];
    for (let k = 0; k < indices.length; k++) {
      const endpoint = samples.endpoint[indices[k]!]!;
      if (endpoint < 0) continue;
      const last = expected.at(-1);
      const previous = k > 0 ? samples.endpoint[indices[k - 1]!] : undefined;
      const time = samples.time[indices[k]!]!;
      if (last && previous === endpoint) {
        last[1]++;
        last[3] = time + INTERLEAVED_INTERVAL_MS;
      } else expected.push([profile.endpoints[endpoint]!, 1, time, time + INTERLEAVED_INTERVAL_MS]);
    }
    const markers = thread.markers.data.map((data, i): [string, number, number, number] => {
      assert.equal(gecko.shared.stringArray[thread.markers.name[i]!], data.endpoint);
      return [data.endpoint, data.samples, thread.markers.startTime[i]!, thread.markers.endTime[i]!];
    });
    assert.deepEqual(markers, expected, `thread ${thread.tid}`);
    assert.ok(markers.some((m) => m[1] > 1) && markers.some((m) => m[1] === 1), 'long and one-sample runs');
  });
});
