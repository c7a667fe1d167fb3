// The native reader (process_vm_readv, src/proc/vm-reader.ts) against /proc/PID/mem on live targets: setup built
// it, both read the same bytes and the same stacks (also once the second sample prefetches its pages), an
// unmapped range fails the same way, and a target that execs is reported gone, as /proc/PID/mem does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryReadError } from '../../src/errors/index.js';
import { PythonProcess, type ThreadStack } from '../../src/cpython/index.js';
import { ProcMemoryReader, VmReader, loadVmReadBinding, openMemoryReader, readMaps } from '../../src/proc/index.js';
import { listPythons } from '../support/pythons.js';
import { blockedStacks, quietTarget } from '../support/quiet-target.js';
import { spawnTarget } from '../support/spawn-target.js';

const pythons = listPythons();

test('setup built the native reader, and hotpath uses it', (t) => {
  assert.ok(loadVmReadBinding(), 'dist/native/vm-read.node is missing: npm run build compiles it');
  const reader = openMemoryReader(process.pid);
  t.after(() => reader.close());
  assert.ok(reader instanceof VmReader);
});

for (const python of pythons) {
  test(`${python.label}: process_vm_readv and /proc/PID/mem read the same stacks, sample after sample`, async (t) => {
    const target = await spawnTarget(python.executable, [quietTarget], { owner: t });
    const viaProc = PythonProcess.attach(target.pid, { reader: new ProcMemoryReader(target.pid) });
    const native = PythonProcess.attach(target.pid);
    t.after(() => (viaProc.close(), native.close()));
    const describe = (stacks: ThreadStack[]): string[][] =>
      stacks.map((stack) => stack.frames.map((f) => `${f.name} ${f.file}:${f.line}`)).sort();
    // Once every thread blocks for good: the main thread prints READY just before it does.
    const expected = describe(await blockedStacks(viaProc));
    assert.ok(expected.flat().some((frame) => frame.startsWith('wait_on_lock_ß ')));
    for (let sample = 0; sample < 3; sample++) {
      assert.deepEqual(describe(native.readStacks()), expected, `sample ${sample}`);
    }
  });
}

test('scattered reads copy what single reads do; an unmapped range fails as /proc/PID/mem does', async (t) => {
  const python = pythons.at(-1);
  if (!python) return t.skip('no venv');
  const target = await spawnTarget(python.executable, [quietTarget], { owner: t });
  const viaProc = new ProcMemoryReader(target.pid);
  const native = openMemoryReader(target.pid) as VmReader;
  t.after(() => (viaProc.close(), native.close()));
  // The interpreter's read-only mappings do not change while they are read.
  const mappings = readMaps(target.pid).filter((m) => m.perms.startsWith('r') && !m.perms.includes('w') && m.path);
  const spans = mappings.slice(0, 4).map((m, i) => [m.start + 64 * i, 100 + i, 1000 * i] as const);
  const into = Buffer.alloc(4000);
  assert.equal(native.readSpans(new Float64Array(spans.flat()), spans.length, into), spans.length);
  for (const [address, length, offset] of spans) {
    assert.deepEqual(into.subarray(offset, offset + length), viaProc.read(address, length));
  }
  const unmapped = 8;
  const failure = (read: () => unknown): string => {
    try {
      read();
    } catch (err) {
      assert.ok(err instanceof MemoryReadError);
      return err.address === unmapped ? 'failed at the address' : 'failed elsewhere';
    }
    return 'read';
  };
  assert.equal(
    failure(() => native.read(unmapped, 16)),
    failure(() => viaProc.read(unmapped, 16)),
  );
  assert.equal(native.readSpans(new Float64Array([spans[0]![0], 8, 0, unmapped, 8, 8]), 2, into), 1);
});

test('once the target execs another program, reads report its address space gone', async (t) => {
  const python = pythons.at(-1);
  if (!python) return t.skip('no venv');
  const trigger = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-exec-')), 'go');
  t.after(() => fs.rmSync(path.dirname(trigger), { recursive: true, force: true }));
  const script = [
    'import os, sys, time',
    "print('READY', flush=True)",
    'while not os.path.exists(sys.argv[1]): time.sleep(0.005)',
    "os.execv('/bin/sleep', ['sleep', '60'])",
  ].join('\n');
  const target = await spawnTarget(python.executable, ['-c', script, trigger], { owner: t });
  const reader = openMemoryReader(target.pid);
  t.after(() => reader.close());
  const heap = readMaps(target.pid).find((m) => m.path === '[heap]') ?? readMaps(target.pid)[0]!;
  reader.read(heap.start, 8);
  const exe = fs.readlinkSync(`/proc/${target.pid}/exe`);
  fs.writeFileSync(trigger, '');
  const deadline = Date.now() + 10_000;
  while (fs.readlinkSync(`/proc/${target.pid}/exe`) === exe) {
    assert.ok(Date.now() < deadline, 'the target did not exec');
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Asked, the reader knows at once (what a failed sample asks before trying again)...
  assert.throws(
    () => reader.checkAddressSpace!(),
    (err: unknown) => err instanceof MemoryReadError && err.code === 'ESRCH',
  );
  // ...and reads fail by themselves, from the check against /proc/PID/mem that runs at most every 200 ms.
  let gone: unknown;
  while (!gone && Date.now() < deadline) {
    try {
      reader.read(heap.start, 8);
      await new Promise((resolve) => setImmediate(resolve));
    } catch (err) {
      gone = err;
    }
  }
  assert.ok(gone instanceof MemoryReadError && gone.code === 'ESRCH', `not reported gone: ${String(gone)}`);
});
