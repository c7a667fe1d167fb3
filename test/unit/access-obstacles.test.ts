// What hotpath says stands in the way of reading a process, for each uid / CAP_SYS_PTRACE / Yama ptrace_scope /
// seccomp combination: facts this machine cannot produce live (it has no Yama), so they are given as data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAP_SYS_PTRACE, findAccessObstacles, hasCapability, type AccessFacts } from '../../src/proc/index.js';

const WITH_PTRACE = 1n << BigInt(CAP_SYS_PTRACE);
/** Docker's default set for root: no CAP_SYS_PTRACE. */
const DOCKER_DEFAULT = 0xa80425fbn;

function obstacles(facts: Partial<AccessFacts>): string[] {
  return findAccessObstacles({ uid: 1000, targetUid: 1000, ...facts }, 42).map(
    (o) => `${o.check}: ${o.detail} => ${o.fix}`,
  );
}

test('CapEff bits are read as capabilities', () => {
  assert.equal(hasCapability(0x1fffeffffffn, CAP_SYS_PTRACE), true);
  assert.equal(hasCapability(DOCKER_DEFAULT, CAP_SYS_PTRACE), false);
  assert.equal(hasCapability(undefined, CAP_SYS_PTRACE), false);
});

test('own process, no Yama or ptrace_scope 0: nothing in the way', () => {
  assert.deepEqual(obstacles({}), []);
  assert.deepEqual(obstacles({ ptraceScope: 0 }), []);
  assert.deepEqual(obstacles({ ptraceScope: 0, seccomp: 2 }), []);
});

test("another user's process: run as root, or as that user", () => {
  const [only, ...rest] = obstacles({ targetUid: 0 });
  assert.deepEqual(rest, []);
  assert.match(only!, /^user: pid 42 runs as uid 0 and hotpath as uid 1000/);
  assert.match(only!, /=> run hotpath as root: sudo hotpath/);
  assert.match(obstacles({ targetUid: 33 })[0]!, /sudo -u '#33' hotpath/);
  assert.deepEqual(obstacles({ targetUid: 33, capabilities: WITH_PTRACE }), []);
});

test('root without CAP_SYS_PTRACE (a container) reading another user: the Docker and Kubernetes fixes', () => {
  const [only] = obstacles({ uid: 0, targetUid: 33, capabilities: DOCKER_DEFAULT });
  assert.match(only!, /^capabilities: /);
  assert.match(only!, /docker run --cap-add SYS_PTRACE/);
  assert.match(only!, /securityContext: capabilities: add: \["SYS_PTRACE"\]/);
});

test('ptrace_scope 1: sudo, launching through hotpath, or the sysctl', () => {
  const [only] = obstacles({ ptraceScope: 1 });
  assert.match(only!, /^ptrace_scope: kernel\.yama\.ptrace_scope is 1/);
  assert.match(only!, /run hotpath with sudo/);
  assert.match(only!, /hotpath record -- python app\.py/);
  assert.match(only!, /sudo sysctl kernel\.yama\.ptrace_scope=0/);
  assert.deepEqual(obstacles({ ptraceScope: 1, capabilities: WITH_PTRACE }), []);
  assert.match(
    obstacles({ uid: 0, targetUid: 0, ptraceScope: 1, capabilities: DOCKER_DEFAULT })[0]!,
    /--cap-add SYS_PTRACE/,
  );
});

test('ptrace_scope 2: only CAP_SYS_PTRACE helps, launching does not', () => {
  const [only] = obstacles({ ptraceScope: 2 });
  assert.match(only!, /ptrace_scope is 2/);
  assert.doesNotMatch(only!, /hotpath record --/);
  assert.match(only!, /sudo/);
  assert.deepEqual(obstacles({ ptraceScope: 2, uid: 0, targetUid: 0, capabilities: WITH_PTRACE }), []);
});

test('ptrace_scope 3: nothing but a reboot helps, even for root', () => {
  const [only] = obstacles({ ptraceScope: 3, uid: 0, targetUid: 0, capabilities: WITH_PTRACE });
  assert.match(only!, /ptrace_scope is 3/);
  assert.match(only!, /reboot/);
});

test('strict seccomp forbids opening /proc/PID/mem; filter mode (Docker default) does not', () => {
  assert.match(obstacles({ seccomp: 1 })[0]!, /^seccomp: /);
  assert.deepEqual(obstacles({ seccomp: 2 }), []);
});
