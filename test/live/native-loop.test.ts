// The native sampling loop (src/sampler/native/stack-sampler.c) on every interpreter the suite has: setup built it,
// the sampler uses it when nothing needs JavaScript at sample time, and its stacks are those JavaScript reads
// (names, files, lines, thread ids, idle flags), decoded from the addresses it walked. Stacks holding a request are
// labelled tick by tick, still walked by the loop, and by what their frames held when walked.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PythonProcess, type ThreadStack } from '../../src/cpython/index.js';
import {
  NativeLoop,
  RequestContextReader,
  Sampler,
  SAMPLE_IDLE,
  type RawSample,
  type EnvironSnapshot,
  type SampledSlot,
  type SamplerOptions,
} from '../../src/sampler/index.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { blockedStacks, quietTarget } from '../support/quiet-target.js';
import { scriptOnEveryPython } from '../support/rootfs.js';
import { spawnTarget, type SpawnedTarget } from '../support/spawn-target.js';

test('setup built the native sampling loop', () => {
  assert.ok(NativeLoop.create({ rateHz: 100, includeIdle: false, gil: 'ignore' }), 'dist/native/stack-sampler.node');
});

/** Samples `pid` at 200 Hz for `durationMs`, idle threads included; the sampler (for its counts) and the samples. */
async function sampleAll(
  pid: number,
  durationMs: number,
  options: Partial<SamplerOptions> = {},
): Promise<{ sampler: Sampler; samples: RawSample[] }> {
  const samples: RawSample[] = [];
  const sampler = new Sampler([pid], {
    rateHz: 200,
    durationMs,
    includeIdle: true,
    gilOnly: false,
    subprocesses: false,
    onSample: (sample) => samples.push(sample),
    ...options,
  });
  sampler.attach();
  await sampler.run(new AbortController().signal);
  sampler.close();
  return { sampler, samples };
}

function describeFrames(frames: readonly { name: string; file: string; line: number }[]): string {
  return frames.map((f) => `${f.name} ${path.basename(f.file)}:${f.line}`).join(' < ');
}

for (const python of listPythons()) {
  test(`${python.label}: the native loop's stacks are those read from JavaScript, thread by thread`, async (t) => {
    const target = await spawnTarget(python.executable, [quietTarget], { owner: t });
    const direct = PythonProcess.attach(target.pid);
    t.after(() => direct.close());
    // Every thread of the quiet target blocks for good: then its stacks do not change.
    const expected = new Map((await blockedStacks(direct)).map((s) => [s.nativeThreadId ?? s.threadId, s]));
    const { sampler, samples } = await sampleAll(target.pid, 300);
    assert.ok(sampler.usedNativeLoop, 'the native loop sampled');
    assert.ok(samples.length >= 20 * expected.size, `${samples.length} samples of ${expected.size} threads`);
    for (const sample of samples) {
      const stack = expected.get(sample.tid);
      assert.ok(stack, `a sample of thread ${sample.tid}, which JavaScript did not list`);
      const innermostFirst = [...sample.frames].reverse();
      assert.equal(describeFrames(innermostFirst), describeFrames(stack.frames));
      assert.equal(sample.flags! & SAMPLE_IDLE, SAMPLE_IDLE, 'every thread of the target waits');
    }
    assert.deepEqual(new Set(samples.map((s) => s.tid)), new Set(expected.keys()));
    assert.ok(
      samples.some((s) => s.frames.some((f) => f.name === 'wait_on_lock_ß')),
      'the lock waiter, by its non-ASCII name',
    );
  });
}

for (const python of listPythons()) {
  test(`${python.label}: the native loop walks stacks that hold a request, and each is labelled as it is taken`, async (t) => {
    // A thread parks in park(environ, ...), whose environ says GET /users/42; the main thread holds no request.
    const target = await spawnTarget(python.executable, [path.join(repoRoot, 'test/targets/locals_target.py')], {
      owner: t,
    });
    const requests = new RequestContextReader();
    const { sampler, samples } = await sampleAll(target.pid, 1000, {
      labelRequest: (process, stack) => requests.label(process, stack),
      mayHoldRequest: (process, stack) => requests.mayHoldRequest(process, stack),
    });
    const { ticks } = sampler.progress();
    assert.ok(sampler.nativeMemoryReads >= ticks, `the loop read memory at every one of ${ticks} ticks`);
    const parked = samples.filter((s) => s.frames.some((f) => f.name === 'park'));
    const others = samples.filter((s) => !s.frames.some((f) => f.name === 'park'));
    assert.ok(parked.length >= 50 && others.length >= 50, `${parked.length} and ${others.length} samples`);
    // Those the loop took before it was known that a stack holds a request are dropped, never left unlabelled.
    assert.deepEqual(new Set(parked.map((s) => s.endpoint)), new Set(['GET /users/{id}']));
    assert.deepEqual(new Set(others.map((s) => s.endpoint)), new Set([undefined]));
  });

  test(`${python.label}: once the loop's copies suffice to label requests, it samples on its own thread again`, async (t) => {
    // Parked in its first request, GET /items/1, until sent SIGUSR1.
    const target = await spawnTarget(python.executable, [path.join(repoRoot, 'test/targets/request_line.py')], {
      owner: t,
      readyPrefix: 'SERVING 1',
    });
    const requests = new RequestContextReader();
    const { sampler, samples } = await sampleAll(target.pid, 3000, {
      labelRequest: (process, stack, sampled) => requests.label(process, stack, sampled),
      labelFromCopies: (process, stack, sampled) => requests.labelFromCopies(process, stack, sampled),
      mayHoldRequest: (process, stack) => requests.mayHoldRequest(process, stack),
      watchedSlots: (process, code) => requests.watchedSlots(process, code),
    });
    // The parked request's path shows no route in a few reads; from then on its environ's copies label it.
    assert.ok(sampler.labelledOnLoopThread >= 50, `${sampler.labelledOnLoopThread} labelled on the loop's thread`);
    const serving = samples.filter((s) => s.frames.some((f) => f.name === 'handle'));
    assert.ok(serving.length >= 300, `${serving.length} samples in handle()`);
    assert.deepEqual(new Set(serving.map((s) => s.endpoint)), new Set(['GET /items/{id}']));
  });

  test(`${python.label}: stacks of a path whose route is not known yet are labelled by the path on the loop's thread`, async (t) => {
    // Parked in its first request, GET /items/1: a path never seen, so its route is not known.
    const target = await spawnTarget(python.executable, [path.join(repoRoot, 'test/targets/request_line.py')], {
      owner: t,
      readyPrefix: 'SERVING 1',
    });
    const requests = new RequestContextReader();
    const { sampler, samples } = await sampleAll(target.pid, 1500, {
      rateHz: 100,
      labelRequest: (process, stack, sampled) => requests.labelByReading(process, stack, sampled),
      labelFromCopies: (process, stack, sampled) => requests.labelFromCopies(process, stack, sampled),
      mayHoldRequest: (process, stack) => requests.mayHoldRequest(process, stack),
      watchedSlots: (process, code) => requests.watchedSlots(process, code),
    });
    const serving = samples.filter((s) => s.frames.some((f) => f.name === 'handle'));
    assert.ok(serving.length >= 100, `${serving.length} samples in handle()`);
    assert.deepEqual(new Set(serving.map((s) => s.endpoint)), new Set(['GET /items/{id}']));
    // Only the stacks walked before the loop was told which slots to copy (it asks for a drain at its first new code
    // object) go without a label. The loop's thread drains every 50 stacks here: dropping those whose route was not
    // known would lose that many.
    const dropped = sampler.stats.dropped['before-request-labels'] ?? 0;
    assert.ok(dropped < 25, `${dropped} stacks dropped for want of a label`);
  });

  test(`${python.label}: a rare stack the loop's copies cannot label is dropped on its thread; a second soon after moves it to ticks`, async (t) => {
    const target = await spawnTarget(python.executable, [path.join(repoRoot, 'test/targets/request_line.py')], {
      owner: t,
      readyPrefix: 'SERVING 1',
    });
    const requests = new RequestContextReader();
    // The copies are made to fall short after this many labels from them in a row (past the hand-back to the loop's
    // thread and 1,000 more), and again after more than a drain's worth of stacks.
    const firstMiss = 1300;
    const secondMiss = 300;
    let inARow = 0;
    let labelsAfterSecond = 0;
    /** The loop thread's count of labels when each miss was made. */
    const onThreadAtMiss: number[] = [];
    const sampler: Sampler = new Sampler([target.pid], {
      rateHz: 1000,
      durationMs: 5000,
      includeIdle: true,
      gilOnly: false,
      subprocesses: false,
      onSample: () => {},
      labelRequest: (process, stack, sampled) => requests.label(process, stack, sampled),
      labelFromCopies: (process, stack, sampled) => {
        if (inARow >= [firstMiss, secondMiss][onThreadAtMiss.length]!) {
          onThreadAtMiss.push(sampler.labelledOnLoopThread);
          inARow = 0;
          return undefined;
        }
        const label = requests.labelFromCopies(process, stack, sampled);
        inARow = label === undefined ? 0 : inARow + 1;
        if (label !== undefined && onThreadAtMiss.length === 2) labelsAfterSecond++;
        return label;
      },
      mayHoldRequest: (process, stack) => requests.mayHoldRequest(process, stack),
      watchedSlots: (process, code) => requests.watchedSlots(process, code),
    });
    sampler.attach();
    await sampler.run(new AbortController().signal);
    sampler.close();
    assert.equal(onThreadAtMiss.length, 2, 'the copies fell short twice');
    // Dropped, the first left the loop on its thread: every later label up to the second was its thread's.
    assert.equal(onThreadAtMiss[1]! - onThreadAtMiss[0]!, secondMiss, "labels on the loop's thread between the misses");
    assert.ok(sampler.stats.dropped['before-request-labels']! >= 2, 'both stacks that missed were dropped');
    // The second moved sampling to ticks until 400 stacks in a row were labelled from copies, then back.
    const onThreadAfterSecond = sampler.labelledOnLoopThread - onThreadAtMiss[1]!;
    assert.ok(labelsAfterSecond >= 600, `${labelsAfterSecond} labels after the second miss`);
    assert.ok(onThreadAfterSecond <= labelsAfterSecond - 300, `${onThreadAfterSecond} of them on the loop's thread`);
    assert.ok(onThreadAfterSecond > 0, "the loop's thread took sampling back");
  });
}

/** One tick of `loop`: the stack (and the slots copied with it) of the thread of `python` that `pick` chooses. */
function tickOnce(
  loop: NativeLoop,
  python: PythonProcess,
  pick: (stack: ThreadStack) => boolean,
): { stack: ThreadStack; slots: SampledSlot[] } {
  loop.tickNow();
  python.beginWalkedStacks();
  for (const record of loop.drain().stacks) {
    const stack = python.stackFromWalk(record.walk);
    if (stack && pick(stack)) return { stack, slots: record.slots };
  }
  assert.fail('no stack of the thread looked for, or a torn one');
}

const runs = (name: string) => (stack: ThreadStack) => stack.frames.some((frame) => frame.code.name === name);

/**
 * Targets whose thread serves /first, parked until SIGUSR1, then /second, each from the same frame (and usually
 * objects at the same addresses): `holder` is the function whose frame holds the request (or work item) the native
 * loop copies, `movedOnLabel` what a sample taken in /first gets once the thread serves /second.
 */
const movingTargets = [
  { script: 'moving_request.py', what: 'request its frame held', holder: 'handle', movedOnLabel: 'GET /first' },
  // A work item has no version to tell it from the next: such a sample gets no label.
  { script: 'moving_work_item.py', what: 'work item its anyio thread ran', holder: 'run', movedOnLabel: undefined },
];

/**
 * Returns once the moving target's serving thread is parked: it prints SERVING just before it calls signal.sigwait
 * (a Python function), and a stack labelled without copies must still be running when read.
 */
async function parked(python: PythonProcess): Promise<void> {
  while (!python.readStacks().some((stack) => stack.frames[0]?.name === 'sigwait')) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Starts a moving target, parked in its first request, and a native loop on it (idle threads included) with a labeller. */
async function startMoving(t: TestContext, command: string[], readyPrefix = 'SERVING /first') {
  const target = await spawnTarget(command[0]!, command.slice(1), { owner: t, readyPrefix });
  const attached = PythonProcess.attach(target.pid);
  t.after(() => attached.close());
  await parked(attached);
  const loop = NativeLoop.create({ rateHz: 100, includeIdle: true, gil: 'ignore' })!;
  loop.add(attached);
  return { target, attached, loop, requests: new RequestContextReader() };
}

/** Tells the loop the request-holding slots of `stack`'s code objects, as the sampler does. */
function watchSlotsOf(loop: NativeLoop, requests: RequestContextReader, python: PythonProcess, stack: ThreadStack) {
  for (const { code } of stack.frames) {
    const slots = requests.watchedSlots(python, code);
    if (slots.length > 0) loop.watch(python.pid, code.address, slots);
  }
}

for (const { script, what, holder, movedOnLabel } of movingTargets) {
  for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets', script))) {
    // Primed: the stack is labelled once before the thread moves on, as an earlier sample of the same drain would,
    // so the page caches hold the target as it was then while what was not read yet is read as it is now.
    for (const primed of [false, true]) {
      const title = primed ? ', also with page caches filled before it moved on' : '';
      test(
        `${name}: a sample is labelled with the ${what} when walked, not the one after${title}`,
        { skip },
        async (t) => {
          const { target, attached, loop, requests } = await startMoving(t, command);
          const first = tickOnce(loop, attached, runs(holder));
          const serving = (stack: ThreadStack) => stack.threadId === first.stack.threadId;
          assert.equal(requests.label(attached, first.stack, first.slots)?.endpoint, 'GET /first');
          watchSlotsOf(loop, requests, attached, first.stack);
          const walked = tickOnce(loop, attached, serving);
          // With an identity: a dict's version tag (or from 3.14 a hash JavaScript must compute alike), or a field.
          const holderFrame = walked.stack.frames.find((frame) => frame.code.name === holder)!;
          assert.ok(
            walked.slots.some((slot) => slot.frameAddress === holderFrame.frameAddress && slot.identity !== 0),
            `the loop copied the slots of ${holder}: ${JSON.stringify(walked.slots)}`,
          );
          if (primed) assert.equal(requests.label(attached, walked.stack, walked.slots)?.endpoint, 'GET /first');
          process.kill(target.pid, 'SIGUSR1');
          await target.waitForLine((line) => line.startsWith('SERVING /second'));
          assert.equal(requests.label(attached, walked.stack, walked.slots)?.endpoint, movedOnLabel);
          attached.beginWalkedStacks();
          const readNow = new RequestContextReader().label(attached, walked.stack)?.endpoint;
          assert.equal(readNow, 'GET /second', 'read now, the frames of that stack hold the next request');
          const next = tickOnce(loop, attached, serving);
          assert.equal(requests.label(attached, next.stack, next.slots)?.endpoint, 'GET /second');
        },
      );
    }
  }
}

for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets/moving_request.py'))) {
  test(
    `${name}: labelling a sample whose thread moved on does not count its path as read and found unrouted`,
    { skip },
    async (t) => {
      const { target, attached, loop, requests } = await startMoving(t, command);
      const first = tickOnce(loop, attached, runs('handle'));
      watchSlotsOf(loop, requests, attached, first.stack);
      const walked = tickOnce(loop, attached, (stack) => stack.threadId === first.stack.threadId);
      process.kill(target.pid, 'SIGUSR1');
      await target.waitForLine((line) => line.startsWith('SERVING /second'));
      // No read reaches /first any more: each label comes from the sample's copies.
      for (let i = 0; i < 10; i++) {
        assert.equal(requests.label(attached, walked.stack, walked.slots)?.endpoint, 'GET /first');
      }
      // A path is taken to have no route after 8 samples of it read and found unrouted, and none was read.
      assert.equal(requests.labelFromCopies(attached, walked.stack, walked.slots)?.routePending, true);
    },
  );
}

for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets/moving_work_item.py'))) {
  test(
    `${name}: a stack walked before its slots were watched is labelled only while its frames still run`,
    { skip },
    async (t) => {
      const { target, attached, loop, requests } = await startMoving(t, command);
      // The loop was told no slots to copy: its first stack is labelled from what the frames hold when read.
      const walked = tickOnce(loop, attached, runs('first'));
      assert.deepEqual(walked.slots, []);
      process.kill(target.pid, 'SIGUSR1');
      await target.waitForLine((line) => line.startsWith('SERVING /second'));
      await parked(attached);
      // The work item's frame now runs second(), not first(): its label is the next request's, so none is given.
      assert.equal(requests.label(attached, walked.stack, walked.slots), undefined);
      const next = tickOnce(loop, attached, runs('second'));
      assert.equal(requests.label(attached, next.stack, next.slots)?.endpoint, 'GET /second');
    },
  );
}

for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets/moving_work_item.py'))) {
  test(`${name}: a stack walked again unchanged is decoded once, its frames the same list`, { skip }, async (t) => {
    const { target, attached, loop } = await startMoving(t, command);
    const parkedInFirst = tickOnce(loop, attached, runs('first')).stack;
    const again = tickOnce(loop, attached, runs('first')).stack;
    assert.equal(again.frames, parkedInFirst.frames);
    assert.equal(again.threadId, parkedInFirst.threadId);
    process.kill(target.pid, 'SIGUSR1');
    await target.waitForLine((line) => line.startsWith('SERVING /second'));
    await parked(attached);
    const moved = tickOnce(loop, attached, (stack) => stack.threadId === parkedInFirst.threadId).stack;
    assert.notEqual(moved.frames, parkedInFirst.frames);
    assert.ok(
      moved.frames.some((frame) => frame.name === 'second'),
      'the moved stack is decoded afresh',
    );
    assert.ok(!moved.frames.some((frame) => frame.name === 'first'));
  });
}

for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets/known.py'))) {
  test(
    `${name}: a busy thread keeps its codes key while its code objects stay, and gets a new one when they change`,
    { skip },
    async (t) => {
      const target = await spawnTarget(command[0]!, command.slice(1), { owner: t });
      const attached = PythonProcess.attach(target.pid);
      t.after(() => attached.close());
      const loop = NativeLoop.create({ rateHz: 100, includeIdle: false, gil: 'ignore' })!;
      loop.add(attached);
      let previous: ThreadStack | undefined;
      let moved = 0;
      let switched = 0;
      // work_a and work_b take turns every few ms; ticks a few hundred µs apart see each run many times.
      for (let tick = 0; tick < 20_000 && (moved < 5 || switched < 2); tick++) {
        loop.tickNow();
        attached.beginWalkedStacks();
        for (const record of loop.drain().stacks) {
          const stack = attached.stackFromWalk(record.walk);
          if (!stack || !['work_a', 'work_b'].includes(stack.frames[0]?.name ?? '')) continue;
          if (previous && stack.frames !== previous.frames) {
            const before = previous.frames;
            const sameCodes =
              stack.frames.length === before.length && stack.frames.every((f, i) => f.code === before[i]!.code);
            if (sameCodes) {
              assert.equal(stack.codesKey, previous.codesKey, 'the same code objects: the same key');
              moved++;
            } else {
              assert.notEqual(
                stack.codesKey,
                previous.codesKey,
                `${previous.frames[0]!.name} to ${stack.frames[0]!.name}`,
              );
              switched++;
            }
          }
          previous = stack;
        }
      }
      assert.ok(moved >= 5 && switched >= 2, `${moved} stacks moved within a function, ${switched} between them`);
    },
  );
}

for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets/moving_request.py'))) {
  test(
    `${name}: a settled request whose dict the sample saw unchanged is labelled without a read`,
    { skip },
    async (t) => {
      const { target, attached, loop, requests } = await startMoving(t, command);
      const serving = runs('handle');
      watchSlotsOf(loop, requests, attached, tickOnce(loop, attached, serving).stack);
      // A request with no route is read again a few times (a framework may route it later), then settled.
      for (let i = 0; i < 8; i++) {
        const { stack, slots } = tickOnce(loop, attached, serving);
        assert.equal(requests.label(attached, stack, slots)?.endpoint, 'GET /first');
      }
      const last = tickOnce(loop, attached, serving);
      await target.stop();
      assert.equal(requests.label(attached, last.stack, last.slots)?.endpoint, 'GET /first', 'with the target gone');
    },
  );
}

/** The environs request_line.py serves, in turn, as the loop copies them (undefined: past Latin-1, left to JavaScript). */
const requestLines: (EnvironSnapshot | undefined)[] = [
  { method: 'GET', path: '/items/1', query: 'page=2', markerHeader: false },
  { method: 'GET', path: '/items/2', query: undefined, markerHeader: true },
  { method: 'GET', path: '/items/3', query: undefined, markerHeader: false },
  { method: 'POST', path: '/caf\u00e9', query: undefined, markerHeader: false },
  undefined,
  'no-request-line',
];

/** Sends request_line.py on to its request number `number` (from 1) and waits until it is parked in it. */
async function serveNext(target: SpawnedTarget, attached: PythonProcess, number: number): Promise<void> {
  process.kill(target.pid, 'SIGUSR1');
  await target.waitForLine((line) => line === `SERVING ${number}`);
  await parked(attached);
}

for (const { name, command, skip } of scriptOnEveryPython(path.join(repoRoot, 'test/targets/request_line.py'))) {
  test(`${name}: the loop copies the request line of a WSGI environ with the stack`, { skip }, async (t) => {
    const { target, attached, loop, requests } = await startMoving(t, command, 'SERVING 1');
    watchSlotsOf(loop, requests, attached, tickOnce(loop, attached, runs('handle')).stack);
    for (const [i, expected] of requestLines.entries()) {
      if (i > 0) await serveNext(target, attached, i + 1);
      const { slots } = tickOnce(loop, attached, runs('handle'));
      assert.deepEqual(
        slots.map((slot) => slot.environ),
        [expected],
        `request ${i + 1}`,
      );
    }
  });

  test(`${name}: a request's environ is read once per version of it, not at every tick`, { skip }, async (t) => {
    const { attached, loop, requests } = await startMoving(t, command, 'SERVING 1');
    watchSlotsOf(loop, requests, attached, tickOnce(loop, attached, runs('handle')).stack);
    const readsOf = (ticks: number): number => {
      const before = loop.drain().memoryReads;
      for (let i = 0; i < ticks; i++) loop.tickNow();
      return loop.drain().memoryReads - before;
    };
    readsOf(3); // the pages the stack and the environ use are known from here on
    // One read per tick for the parked stack (the environ's dict and keys table among its pages); the environ's copy,
    // when it is read, costs one more: its keys and values, then the check that it did not change, in one call. Up to
    // 3.13 a version tag tells it is the environ already copied.
    const perTick = attached.layout.dictObject.maVersionTag !== undefined ? 1 : 2;
    assert.equal(readsOf(5), 5 * perTick);
  });

  test(
    `${name}: a request whose path has shown no route is labelled from the loop's copy alone`,
    { skip },
    async (t) => {
      const { target, attached, loop, requests } = await startMoving(t, command, 'SERVING 1');
      watchSlotsOf(loop, requests, attached, tickOnce(loop, attached, runs('handle')).stack);
      // Read from the target each time, GET /items/{id} shows no route (a plain WSGI app, no framework to route it).
      const first = tickOnce(loop, attached, runs('handle'));
      for (let i = 0; i < 8; i++) {
        assert.equal(requests.label(attached, first.stack, first.slots)?.endpoint, 'GET /items/{id}');
      }
      // A marked request is still read: it is profiled on its own.
      await serveNext(target, attached, 2);
      const marked = tickOnce(loop, attached, runs('handle'));
      const markedLabel = requests.label(attached, marked.stack, marked.slots);
      assert.equal(markedLabel?.endpoint, 'GET /items/{id}');
      assert.ok(markedLabel?.markedRequest, 'the X-Hotpath header marks the request');
      await serveNext(target, attached, 3);
      const walked = tickOnce(loop, attached, runs('handle'));
      await target.stop();
      // Nothing can be read any more: the label comes from what the loop copied.
      assert.equal(requests.label(attached, walked.stack, walked.slots)?.endpoint, 'GET /items/{id}');
    },
  );
}
