// The followed set of processes with --subprocesses: a descendant running Python that hotpath cannot attach to is
// tried a few times, then left out with its reason said once (a user must know a worker is missing from the profile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryReadError } from '../../src/errors/index.js';
import { TargetSet } from '../../src/sampler/index.js';
import { listPythons } from '../support/pythons.js';
import { spawnTarget } from '../support/spawn-target.js';

test('a Python child that cannot be read is left out after a few attempts, and said so once', async (t) => {
  const python = listPythons()[0];
  if (!python) return t.skip('no setup venvs: run bash scripts/setup.sh');
  // `; true` keeps the shell as the Python process's parent, as a launcher script does.
  const script = `import time; print('READY', flush=True); time.sleep(60)`;
  const shell = await spawnTarget('sh', ['-c', `${python.executable} -c "${script}"; true`], { owner: t });
  // Every read of the child's memory fails, as it would for a process hotpath may not read.
  const unreadable = {
    read(address: number, length: number): Buffer {
      throw new MemoryReadError(address, length, 'EIO');
    },
    close(): void {},
  };
  const skipped: [number, string][] = [];
  const targets = new TargetSet([shell.pid], {
    subprocesses: true,
    waitForLaunchers: true,
    attach: { reader: unreadable },
    onSkip: (pid, reason) => skipped.push([pid, reason]),
  });
  t.after(() => targets.close());
  targets.attachRoots();
  for (let refresh = 0; refresh < 8; refresh++) targets.refresh();
  assert.equal(targets.processes.size, 0);
  const [launcher, child, ...more] = skipped;
  assert.equal(launcher?.[0], shell.pid, 'the shell, a launcher waited for');
  assert.ok(child && child[0] !== shell.pid, `the Python child: ${JSON.stringify(skipped)}`);
  assert.match(child[1], /^could not attach in 5 attempts: /);
  assert.deepEqual(more, [], 'said once');
});
