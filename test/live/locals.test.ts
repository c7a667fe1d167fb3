// The object readers of src/cpython against every installed CPython: frame locals by name (cell variables
// included), repr-like values, str-keyed dicts of every size class, instance attributes (tp_dictoffset,
// managed dicts, inline values) and threading names, in test/targets/locals_target.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LocalsReader, ObjectReader, PythonProcess, ThreadNameReader, describeValue } from '../../src/cpython/index.js';
import { writeFileSync } from 'node:fs';
import { HotpathError } from '../../src/errors/index.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { scriptOnEveryPython } from '../support/rootfs.js';
import { spawnTarget } from '../support/spawn-target.js';
import { tempDir } from '../support/temp-dir.js';

const target = join(repoRoot, 'test', 'targets', 'locals_target.py');

for (const { name, command, skip } of scriptOnEveryPython(target)) {
  test(`locals, attributes, dicts and thread names on ${name}`, { skip }, async (t) => {
    const spawned = await spawnTarget(command[0]!, command.slice(1), { owner: t });
    let process: PythonProcess;
    try {
      process = PythonProcess.attach(spawned.pid);
    } catch (error) {
      // 3.14+ are read through _Py_DebugOffsets once select-layout uses them; until then they are skipped.
      if (error instanceof HotpathError && error.kind === 'unsupported-version') return t.skip(error.message);
      throw error;
    }
    t.after(() => process.close());
    const objects = new ObjectReader(process.reader, process.layout);
    const locals = new LocalsReader(objects);

    const names = new ThreadNameReader(objects, process.location.runtimeAddress).read();
    assert.deepEqual([...names.values()].sort(), ['MainThread', 'parked-worker']);

    const stacks = process.readStacks();
    const parked = stacks.find((stack) => names.get(stack.threadId) === 'parked-worker');
    assert.ok(parked, 'the parked thread has a stack');
    const frame = parked.frames.find((f) => f.name === 'park');
    assert.ok(frame, `park() is on the stack: ${parked.frames.map((f) => f.name).join(' < ')}`);

    const values = new Map(
      [...locals.readLocals(frame)].map(([name, address]) => [name, describeValue(objects, address)]),
    );
    assert.equal(values.get('text'), `"${'x'.repeat(123)}..."`);
    assert.equal(values.get('ratio'), '3.5');
    assert.equal(values.get('flag'), 'True');
    assert.equal(values.get('nothing'), 'None');
    assert.match(values.get('account') ?? '', /^<Account at 0x[0-9a-f]+>$/);
    assert.equal(values.get('huge'), '1000000000000000000000000000000');
    assert.match(values.get('ready') ?? '', /^<Event at 0x/);

    const environ = locals.findLocal(frame, 'environ');
    assert.ok(environ !== undefined, 'the cell variable environ is read through its cell');
    const items = objects.readStrKeyedDict(environ);
    assert.equal(items.size, 302, 'every str key; the int key is skipped');
    assert.equal(objects.readStr(items.get('PATH_INFO')!), '/users/42');
    assert.equal(objects.readInt(items.get('key299')!), 299);
    assert.equal(objects.findDictValue(environ, 'REQUEST_METHOD') !== undefined, true);
    assert.equal(objects.findDictValue(environ, 'HTTP_COOKIE'), undefined);

    const account = locals.findLocal(frame, 'account')!;
    const attributes = objects.readAttributes(account);
    assert.deepEqual([...attributes.keys()].sort(), ['balance', 'owner']);
    assert.equal(objects.readStr(attributes.get('owner')!), 'ada');
    assert.equal(objects.readInt(objects.findAttribute(account, 'balance')!), 42);
  });
}

/** Imports threading only once `go` exists, then starts a named thread. */
const LATE_THREADING = `
import os, sys, time
print("READY", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
import threading
done = threading.Event()
threading.Thread(target=done.wait, name="late-worker", daemon=True).start()
print("STARTED", flush=True)
done.wait()
`;

for (const python of listPythons()) {
  test(`${python.label}: thread names appear once a script imports threading late`, async (t) => {
    const go = join(tempDir(t), 'go');
    const spawned = await spawnTarget(python.executable, ['-c', LATE_THREADING, go], { owner: t });
    const process = PythonProcess.attach(spawned.pid);
    t.after(() => process.close());
    const names = new ThreadNameReader(
      new ObjectReader(process.reader, process.layout),
      process.location.runtimeAddress,
    );
    assert.ok(![...names.read().values()].includes('late-worker'), 'no such thread yet');
    writeFileSync(go, '');
    await spawned.waitForLine((line) => line === 'STARTED');
    process.reader.clear();
    assert.ok([...names.read().values()].includes('late-worker'), 'the thread started after the import is named');
  });
}
