// hotpath's own cost per sample, in process and without waiting between samples: attaches to PID as
// `hotpath record` does (thread names, request labels, a ProfileBuilder) and samples back to back.
// For finding and checking optimisations with `node --cpu-prof`; `npm run bench` measures the real CLI.
//   node dist/bench/sampler-loop.js PID [SAMPLES]

import { ProcessReaders, RequestContextReader, Sampler, type Clock } from '../src/sampler/index.js';
import { ProfileBuilder } from '../src/profile/index.js';

async function main(): Promise<void> {
  const pid = Number(process.argv[2]);
  const samples = Number(process.argv[3] ?? 20_000);
  const builder = new ProfileBuilder();
  const readers = new ProcessReaders();
  const requests = new RequestContextReader(readers);
  // A clock that never waits: the loop runs as fast as sampling allows.
  const clock: Clock = { now: () => performance.now(), wallNow: () => Date.now(), waitUntil: () => Promise.resolve() };
  const abort = new AbortController();
  const sampler = new Sampler([pid], {
    rateHz: 1e9,
    includeIdle: false,
    gilOnly: false,
    subprocesses: false,
    clock,
    readThreadNames: (python) => readers.readThreadNames(python),
    labelRequest: (python, stack) => requests.label(python, stack),
    onSample: (sample) => {
      builder.addSample(sample);
      if (builder.size >= samples) abort.abort();
    },
  });
  sampler.attach();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await sampler.run(abort.signal);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  sampler.close();
  const perSample = (micros: number): string => (micros / builder.size).toFixed(1);
  console.log(
    `${builder.size} samples in ${wallMs.toFixed(0)} ms: ${perSample(cpu.user + cpu.system)} µs CPU/sample ` +
      `(user ${perSample(cpu.user)}, system ${perSample(cpu.system)}), ${perSample(wallMs * 1000)} µs wall/sample`,
  );
}

void main();
