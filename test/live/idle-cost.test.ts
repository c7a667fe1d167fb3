// What sampling costs a process whose threads all sleep: after one sample has read its thread list, later ticks
// read none of its memory (only each thread's schedstat) until the list is due to be walked again; with --idle,
// every tick reads it. The same from the native loop and from JavaScript (HOTPATH_NATIVE=0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler } from '../../src/sampler/index.js';
import { listPythons } from '../support/pythons.js';
import { quietTarget, waitUntilBlocked } from '../support/quiet-target.js';
import { spawnTarget } from '../support/spawn-target.js';

async function sampleQuietTarget(
  includeIdle: boolean,
  native: boolean,
): Promise<{ ticks: number; samples: number; reads: number }> {
  const python = listPythons().at(-1)!;
  const target = await spawnTarget(python.executable, [quietTarget]);
  try {
    await waitUntilBlocked(target.pid);
    let samples = 0;
    // 150 ms: within one thread-list walk period (200 ms) after the first tick.
    const sampler = new Sampler([target.pid], {
      rateHz: 500,
      includeIdle,
      gilOnly: false,
      subprocesses: false,
      durationMs: 150,
      onSample: () => samples++,
    });
    const [attached] = sampler.attach();
    const readsAtAttach = attached!.reader.targetReads;
    if (!native) process.env.HOTPATH_NATIVE = '0';
    try {
      await sampler.run(new AbortController().signal);
    } finally {
      delete process.env.HOTPATH_NATIVE;
    }
    sampler.close();
    assert.equal(sampler.usedNativeLoop, native);
    const reads = native ? sampler.nativeMemoryReads : attached!.reader.targetReads - readsAtAttach;
    return { ticks: sampler.progress().ticks, samples, reads };
  } finally {
    await target.stop();
  }
}

for (const native of [true, false]) {
  test(`a process whose threads all sleep is not read between thread-list walks (${native ? 'native loop' : 'JavaScript'})`, async () => {
    const quiet = await sampleQuietTarget(false, native);
    assert.ok(quiet.ticks >= 20, `only ${quiet.ticks} ticks`);
    assert.equal(quiet.samples, 0, 'every thread sleeps');
    assert.ok(quiet.reads <= 10, `${quiet.reads} reads of target memory in ${quiet.ticks} ticks`);
    const kept = await sampleQuietTarget(true, native);
    assert.ok(kept.samples > 0 && kept.reads >= kept.ticks, `with --idle: ${kept.reads} reads in ${kept.ticks} ticks`);
  });
}
