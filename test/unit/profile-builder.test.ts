// ProfileBuilder's interning: stacks given as reused frame objects and lists (as the sampler passes them)
// intern exactly as fresh copies of them do, whatever the order and sharing of callers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileBuilder, type Profile, type RawFrame } from '../../src/profile/index.js';

const f = (name: string, line: number): RawFrame => ({ name, file: `/srv/${name}.py`, line, firstLine: 1 });

const MAIN = f('main', 3);
const HANDLE_12 = f('handle', 12);
const HANDLE_13 = f('handle', 13);
const QUERY = f('query', 40);
const RENDER = f('render', 7);

/** Stacks as a sampler gives them: one list reused while unchanged, shared frame objects. */
const STACK_A = [MAIN, HANDLE_12, QUERY];
const STACK_B = [MAIN, HANDLE_13, RENDER];
const STACK_C = [MAIN, HANDLE_12];
const SEQUENCE: readonly (readonly RawFrame[])[] = [
  STACK_A,
  STACK_A,
  STACK_B,
  STACK_C,
  STACK_A,
  [],
  STACK_B,
  [RENDER, MAIN],
];

function build(stacks: readonly (readonly RawFrame[])[]): Profile {
  const builder = new ProfileBuilder();
  stacks.forEach((frames, i) => builder.addSample({ frames, time: i, pid: 1, tid: 1 }));
  return builder.build({
    startTime: 0,
    durationMs: stacks.length,
    rateHz: 1000,
    pythonVersion: '3.13.0',
    command: 'test',
  });
}

const copy = (stacks: readonly (readonly RawFrame[])[]) =>
  stacks.map((frames) => frames.map((frame) => ({ ...frame })));

test('reused frame objects and lists intern exactly as fresh copies', () => {
  const reused = build(SEQUENCE);
  const fresh = build(copy(SEQUENCE));
  assert.deepEqual(reused.samples.stack, fresh.samples.stack);
  assert.deepEqual(reused.stackParent, fresh.stackParent);
  assert.deepEqual(reused.stackFrame, fresh.stackFrame);
  assert.deepEqual(reused.frames, fresh.frames);
  assert.deepEqual(reused.functions, fresh.functions);
  assert.deepEqual(reused.strings, fresh.strings);
});

test('stacks decode back to their frames, sharing caller nodes', () => {
  const profile = build(SEQUENCE);
  const decode = (stack: number): string[] => {
    const names: string[] = [];
    for (let node = stack; node >= 0; node = profile.stackParent[node]!) {
      const frame = profile.frames[profile.stackFrame[node]!]!;
      names.unshift(`${profile.strings[profile.functions[frame.func]!.name]}:${frame.line}`);
    }
    return names;
  };
  assert.deepEqual([...profile.samples.stack].map(decode), [
    ['main:3', 'handle:12', 'query:40'],
    ['main:3', 'handle:12', 'query:40'],
    ['main:3', 'handle:13', 'render:7'],
    ['main:3', 'handle:12'],
    ['main:3', 'handle:12', 'query:40'],
    [],
    ['main:3', 'handle:13', 'render:7'],
    ['render:7', 'main:3'],
  ]);
  assert.equal(profile.samples.stack[0], profile.samples.stack[4]);
  assert.equal(profile.samples.stack[3], profile.stackParent[profile.samples.stack[0]!]);
  assert.equal(
    profile.stackParent.length,
    7,
    'nodes: main, handle:12, query, handle:13, render, render (root), main under it',
  );
});

test('mergeEndpoints relabels samples and leaves no empty endpoint', () => {
  const builder = new ProfileBuilder();
  const labels = ['GET /users/{id}', 'GET /users/<int:user_id>', undefined, 'GET /heavy', 'GET /users/{id}'];
  labels.forEach((endpoint, i) => builder.addSample({ frames: STACK_A, time: i, pid: 1, tid: 1, endpoint }));
  builder.mergeEndpoints(new Map([['GET /users/{id}', 'GET /users/<int:user_id>']]));
  const profile = builder.build({ startTime: 0, durationMs: 5, rateHz: 1000, pythonVersion: '3.13.0', command: 't' });
  assert.deepEqual(profile.endpoints, ['GET /users/<int:user_id>', 'GET /heavy']);
  const labelOf = (i: number) => profile.endpoints[profile.samples.endpoint[i]!];
  assert.deepEqual(
    labels.map((_, i) => labelOf(i)),
    ['GET /users/<int:user_id>', 'GET /users/<int:user_id>', undefined, 'GET /heavy', 'GET /users/<int:user_id>'],
  );
});
