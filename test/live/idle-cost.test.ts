// What sampling costs a process whose threads all sleep: after one sample has read its thread list, later ticks
// read none of its memory (only each thread's schedstat) until the list is due to be walked again; with --idle,
// every tick reads it. And a busy thread that holds the GIL: its stat, the dearer file, is read only at first
// sight, and its schedstat only every ~12 ms, not every tick. The same from the native loop and from JavaScript
// (HOTPATH_NATIVE=0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler } from '../../src/sampler/index.js';
import { listPythons } from '../support/pythons.js';
import { quietTarget, waitUntilBlocked } from '../support/quiet-target.js';
import { spawnTarget } from '../support/spawn-target.js';

const BUSY_SCRIPT = "print('READY', flush=True)\nwhile True:\n    pass\n";

interface Sampled {
  ticks: number;
  samples: number;
  reads: number;
  stateReads: number;
  runTimeReads: number;
}

async function sampleTarget(args: string[], includeIdle: boolean, native: boolean): Promise<Sampled> {
  const python = listPythons().at(-1)!;
  const target = await spawnTarget(python.executable, args);
  try {
    if (args[0] === quietTarget) await waitUntilBlocked(target.pid);
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
    const { stateReads, runTimeReads } = sampler;
    return { ticks: sampler.progress().ticks, samples, reads, stateReads, runTimeReads };
  } finally {
    await target.stop();
  }
}

for (const native of [true, false]) {
  test(`a process whose threads all sleep is not read between thread-list walks (${native ? 'native loop' : 'JavaScript'})`, async () => {
    const quiet = await sampleTarget([quietTarget], false, native);
    assert.ok(quiet.ticks >= 20, `only ${quiet.ticks} ticks`);
    assert.equal(quiet.samples, 0, 'every thread sleeps');
    assert.ok(quiet.reads <= 10, `${quiet.reads} reads of target memory in ${quiet.ticks} ticks`);
    const kept = await sampleTarget([quietTarget], true, native);
    assert.ok(kept.samples > 0 && kept.reads >= kept.ticks, `with --idle: ${kept.reads} reads in ${kept.ticks} ticks`);
  });
}

for (const native of [true, false]) {
  test(`a busy thread holding the GIL is sampled without reading its scheduler state every tick (${native ? 'native loop' : 'JavaScript'})`, async () => {
    const busy = await sampleTarget(['-c', BUSY_SCRIPT], false, native);
    assert.ok(busy.ticks >= 20, `only ${busy.ticks} ticks`);
    // Kept off a CPU for 25 ms, the thread would not be sampled (starved); half the ticks leave room for a busy machine.
    assert.ok(busy.samples >= busy.ticks / 2, `${busy.samples} samples in ${busy.ticks} ticks`);
    assert.ok(busy.stateReads <= 2, `${busy.stateReads} reads of its stat in ${busy.ticks} ticks`);
    // Every 2 ms, seen running: its CPU time is asked again after 12.5 ms (more often while it waits for a CPU).
    assert.ok(
      busy.runTimeReads <= busy.ticks / 2,
      `${busy.runTimeReads} reads of its schedstat in ${busy.ticks} ticks`,
    );
  });
}
