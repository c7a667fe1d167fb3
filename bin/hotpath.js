#!/usr/bin/env node
// Entry point of the `hotpath` command; the CLI lives in dist/src/cli (built by `npm run build`).
import v8 from 'node:v8';

// V8's memory reducer collects the whole heap a few times once a process allocates little, as hotpath does while it
// samples: a seventh of its CPU at 100 Hz, for a heap of a few MB. Set before the CLI loads (loading grows the heap,
// which arms the reducer); it still runs once the heap is large.
v8.setFlagsFromString('--no-memory-reducer-for-small-heaps');

import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('hotpath: not built yet; run `npm run build` first');
    process.exit(1);
  }
  throw err;
});
