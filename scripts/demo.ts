// `npm run demo`: serves demo/app.py with Gunicorn (2 workers), drives a fixed mix of requests at it over
// loopback, and meanwhile records the whole Gunicorn tree with `hotpath record --subprocesses`, like the py-spy
// walkthrough it mirrors; then stops Gunicorn and says what was served and where the profiles are.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { DEMO_WORKER_COUNT, startDemoServer, type DemoServer } from '../test/support/demo-server.js';
import { findDemoPython, repoRoot } from '../test/support/pythons.js';
import { driveLoad, type LoadRequest, type RouteStats } from './demo-load.js';

interface ProfileOutput {
  what: string;
  file: string;
}

/** The one recording: hotpath's saved profile, from which every other output is converted. */
const RECORDING: ProfileOutput = {
  what: "hotpath's saved profile (convert it to any format)",
  file: 'profile.hotpath',
};

/** What the demo converts the recording into; the -o extension picks each format. */
const CONVERTED_OUTPUTS: readonly ProfileOutput[] = [
  { what: 'flame graph (SVG, open in a browser)', file: 'profile.svg' },
  { what: 'report: flame graph, endpoints, timeline, hot lines (HTML)', file: 'profile.html' },
  { what: 'speedscope profile (load at speedscope.app)', file: 'profile.speedscope.json' },
];

const PROFILE_OUTPUTS = [RECORDING, ...CONVERTED_OUTPUTS];

/** HOTPATH_DEMO_SECONDS shortens the recording (the end-to-end test uses it); the load outlasts it by 5 s. */
const RECORD_SECONDS = Number(process.env.HOTPATH_DEMO_SECONDS ?? 20);
const RECORD_RATE_HZ = 100;
/** How long a recording may overrun its duration (attaching, writing) before the demo gives up on it. */
const RECORD_GRACE_MS = 60_000;

/** The load outlasts the recording so that every sampled second sees traffic. */
const LOAD = { durationMs: (RECORD_SECONDS + 5) * 1000, maxRequests: 20_000, concurrency: 3 };
/** cpu_hog is two requests in ten but, being a 2.5-million-step Python loop, most of the CPU time. */
const LOAD_MIX: readonly LoadRequest[] = [
  { route: '/', path: '/' },
  { route: '/users/<id>', path: '/users/42' },
  { route: '/search?q=', path: '/search?q=oak+chair' },
  { route: '/cpu_hog', path: '/cpu_hog' },
  { route: '/users/<id>', path: '/users/7' },
  { route: '/search?q=', path: '/search?q=walnut' },
  { route: '/', path: '/' },
  { route: '/cpu_hog_reformed', path: '/cpu_hog_reformed' },
  { route: '/users/<id>', path: '/users/99' },
  { route: '/cpu_hog', path: '/cpu_hog' },
];

/** HOTPATH_DEMO_OUTPUT writes elsewhere than demo-output/ (the end-to-end test uses a temporary folder). */
const outputDir = process.env.HOTPATH_DEMO_OUTPUT ?? join(repoRoot, 'demo-output');
const hotpathBin = join(repoRoot, 'bin', 'hotpath.js');
const hotpathMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const gunicornLog = join(outputDir, 'gunicorn.log');

async function runDemo(signal: AbortSignal): Promise<void> {
  checkHotpathBuilt();
  const python = findDemoPython();
  mkdirSync(outputDir, { recursive: true });
  for (const { file } of PROFILE_OUTPUTS) rmSync(join(outputDir, file), { force: true });
  console.log(`hotpath demo: Flask app under Gunicorn (${DEMO_WORKER_COUNT} workers), Python ${python.fullVersion}`);
  const server = await startDemoServer(python);
  let failures: string[];
  try {
    await checkAnswers(server);
    console.log(`  Gunicorn master ${server.masterPid}, workers ${server.workerPids.join(' ')}, ${server.baseUrl}`);
    console.log(
      `  recording ${RECORD_SECONDS} s at ${RECORD_RATE_HZ} Hz while ${LOAD.concurrency} clients send requests ` +
        `for ${LOAD.durationMs / 1000} s`,
    );
    const recording = recordProfile(server.masterPid, signal);
    const stats = await driveLoad({ ...LOAD, port: server.port, mix: LOAD_MIX, signal });
    failures = [await recording].filter((failure) => failure !== undefined);
    printRequestStats(stats);
  } finally {
    await server.target.stop({ signal: 'SIGTERM' });
    writeFileSync(gunicornLog, server.target.stderrText());
  }
  if (failures.length === 0) failures = await convertRecording();
  printOutputs();
  if (signal.aborted) throw new Error('interrupted: the profiles written cover the time until then');
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

function checkHotpathBuilt(): void {
  if (!existsSync(hotpathBin) || !existsSync(hotpathMain)) {
    throw new Error(
      `the hotpath CLI is not available: ${relative(repoRoot, hotpathMain)} is missing ` +
        '(src/cli not written or not built yet); run `npm run build` and try again',
    );
  }
}

async function checkAnswers(server: DemoServer): Promise<void> {
  const response = await fetch(`${server.baseUrl}/`);
  if (!response.ok) throw new Error(`the demo app answered GET / with HTTP ${response.status}`);
  await response.text();
}

/** Records the whole Gunicorn tree once; resolves to an error or undefined. */
function recordProfile(masterPid: number, signal: AbortSignal): Promise<string | undefined> {
  return runHotpath(
    [
      ...['record', '--pid', String(masterPid), '--subprocesses'],
      ...['--duration', String(RECORD_SECONDS), '--rate', String(RECORD_RATE_HZ)],
      ...['-o', relative(repoRoot, join(outputDir, RECORDING.file))],
    ],
    RECORD_SECONDS * 1000 + RECORD_GRACE_MS,
    signal,
  );
}

/** Converts the recording into every other output, one `hotpath convert` each; returns the errors. */
async function convertRecording(): Promise<string[]> {
  const failures: string[] = [];
  for (const output of CONVERTED_OUTPUTS) {
    const args = ['convert', relative(repoRoot, join(outputDir, RECORDING.file))];
    const failure = await runHotpath(
      [...args, '-o', relative(repoRoot, join(outputDir, output.file))],
      RECORD_GRACE_MS,
    );
    if (failure) failures.push(failure);
  }
  return failures;
}

/** Runs the hotpath CLI with its output lines indented; resolves to an error or undefined. */
function runHotpath(args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  console.log(`  $ node bin/hotpath.js ${args.join(' ')}`);
  // Its own process group, so a terminal's Ctrl-C reaches it once, forwarded here: hotpath takes a second
  // signal as "exit at once, write nothing".
  const child = spawn(process.execPath, [hotpathBin, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    signal,
    killSignal: 'SIGINT',
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`    ${line}`));
  }
  const overrun = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      if (error.name !== 'AbortError') resolve(`hotpath ${args[0]} failed to start: ${error.message}`);
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(overrun);
      if (code === 0) resolve(undefined);
      else resolve(`hotpath ${args[0]} failed (${killedBy ?? `exit code ${code}`}); see its output above`);
    });
  });
}

function printRequestStats(stats: RouteStats[]): void {
  console.log('\nRequests served (2xx), per route:');
  console.log(`  ${'route'.padEnd(20)} ${'ok'.padStart(6)} ${'failed'.padStart(7)} ${'mean ms'.padStart(8)}`);
  for (const { route, ok, failed, totalMs } of stats) {
    const mean = ok + failed > 0 ? (totalMs / (ok + failed)).toFixed(1) : '-';
    console.log(`  ${route.padEnd(20)} ${String(ok).padStart(6)} ${String(failed).padStart(7)} ${mean.padStart(8)}`);
  }
}

function printOutputs(): void {
  console.log('\nOutputs:');
  const listed = [
    ...PROFILE_OUTPUTS.map(({ file, what }) => ({ path: join(outputDir, file), what })),
    { path: gunicornLog, what: "Gunicorn's log" },
  ];
  for (const { path, what } of listed) {
    const size = existsSync(path) ? `${Math.ceil(statSync(path).size / 1024)} KiB` : 'not written';
    console.log(`  ${relative(repoRoot, path).padEnd(36)} ${size.padStart(11)}  ${what}`);
  }
  console.log(
    '\nIn the flame graph, the widest tower is cpu_hog (demo/app.py), the Python loop; cpu_hog_reformed computes ' +
      'the same sum with sum(range()) in a fraction of its width.',
  );
}

async function main(): Promise<void> {
  const interrupt = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(name, () => interrupt.abort());
  try {
    await runDemo(interrupt.signal);
  } catch (error) {
    console.error(`\ndemo: ${(error as Error).message}`);
    process.exitCode = interrupt.signal.aborted ? 130 : 1;
  }
}

await main();
