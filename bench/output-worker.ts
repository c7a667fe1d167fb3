// One output measurement in a process of its own, so that its peak RSS is its own:
//   node dist/bench/output-worker.js build SAMPLES FILE   builds the synthetic profile and saves it (hotpath format)
//   node dist/bench/output-worker.js export FILE FORMAT OUT   loads FILE, writes FORMAT to OUT ('-' = load only)
// Prints one JSON line with times in ms, the output's size in bytes and the peak RSS in KiB.

import fs from 'node:fs';
import { OUTPUT_FORMATS } from '../src/cli/formats.js';
import { exportHotpathProfile, loadProfile } from '../src/export/index.js';
import { buildSyntheticProfile } from './lib/synthetic-profile.js';

function main(): void {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'build') {
    const [samples, file] = args;
    const started = performance.now();
    const profile = buildSyntheticProfile({ samples: Number(samples) });
    const buildMs = performance.now() - started;
    fs.writeFileSync(file!, exportHotpathProfile(profile));
    report({
      buildMs,
      stacks: profile.stackParent.length,
      functions: profile.functions.length,
      bytes: fs.statSync(file!).size,
    });
    return;
  }
  const [file, formatName, out] = args;
  const loadStarted = performance.now();
  const profile = loadProfile(file!);
  const loadMs = performance.now() - loadStarted;
  const rssAfterLoadKiB = process.resourceUsage().maxRSS;
  if (formatName === '-') {
    report({ loadMs, rssAfterLoadKiB, maxRssKiB: rssAfterLoadKiB });
    return;
  }
  const format = OUTPUT_FORMATS.find((f) => f.name === formatName);
  if (!format) throw new Error(`no output format ${formatName}`);
  const started = performance.now();
  const data = format.write(profile, { title: 'hotpath bench: 1,000,000 samples' });
  const exportMs = performance.now() - started;
  fs.writeFileSync(out!, data);
  report({
    loadMs,
    exportMs,
    bytes: fs.statSync(out!).size,
    rssAfterLoadKiB,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
}

function report(values: Record<string, number>): void {
  console.log(JSON.stringify(values));
}

main();
