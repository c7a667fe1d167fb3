// ForkedThreadIds: thread states a C fork (uWSGI's workers) left with the parent's thread ids are mapped to the
// child's main thread, or recognised as threads the child does not have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForkedThreadIds, procThreadFacts, type ThreadFacts } from '../../src/sampler/index.js';

/** A uWSGI master 100 (threads 100, 101) that forked worker 200 (thread 200 only) from its main thread. */
function uwsgiFacts(sharesPidNamespace = true): ThreadFacts & { asked: number } {
  const threads = new Map([
    [100, [100, 101]],
    [200, [200]],
  ]);
  const facts = {
    asked: 0,
    hasThread(pid: number, tid: number) {
      facts.asked++;
      return threads.get(pid)?.includes(tid) ?? false;
    },
    parentPid: (pid: number) => (pid === 200 ? 100 : 1),
    sharesPidNamespace: () => sharesPidNamespace,
  };
  return facts;
}

test("a worker's copy of the forking thread's state is its main thread; other copies are no thread", () => {
  const ids = new ForkedThreadIds(uwsgiFacts());
  assert.equal(ids.resolve(200, 100), 200, "the master's main thread id is the worker's main thread");
  assert.equal(ids.resolve(200, 101), null, 'a master thread copied by the fork has no thread in the worker');
  assert.equal(ids.resolve(200, 200), 200);
  assert.equal(ids.resolve(100, 100), 100, 'the master keeps its own ids');
  assert.equal(ids.resolve(100, 101), 101);
});

test('answers are cached until sweep', () => {
  const facts = uwsgiFacts();
  const ids = new ForkedThreadIds(facts);
  ids.resolve(200, 101);
  ids.resolve(200, 101);
  assert.equal(facts.asked, 1);
  ids.sweep();
  ids.resolve(200, 101);
  assert.equal(facts.asked, 2);
});

test('ids of a process in another PID namespace are left as they are', () => {
  const ids = new ForkedThreadIds(uwsgiFacts(false));
  assert.equal(ids.resolve(200, 101), 101);
  assert.equal(ids.resolve(200, 100), 100);
});

test('/proc facts: this process has its main thread, shares our PID namespace, has a parent', () => {
  assert.equal(procThreadFacts.hasThread(process.pid, process.pid), true);
  assert.equal(procThreadFacts.hasThread(process.pid, process.ppid === process.pid ? 1 : process.ppid), false);
  assert.equal(procThreadFacts.sharesPidNamespace(process.pid), true);
  assert.equal(procThreadFacts.parentPid(process.pid), process.ppid);
});
