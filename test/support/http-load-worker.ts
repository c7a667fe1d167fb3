// A worker thread that keeps `concurrency` GET requests to `url` in flight until told to stop, then reports how
// many it sent, how many were answered with 200 and every failure. Runs beside a test's synchronous work, so
// the target is under load while the test's own thread is busy.
import { parentPort, workerData } from 'node:worker_threads';
import http from 'node:http';

export interface LoadJob {
  url: string;
  concurrency: number;
  /** Sent with every request (e.g. a cookie, to check it is never recorded). */
  headers?: Record<string, string>;
}

export interface LoadReport {
  sent: number;
  answered: number;
  failures: string[];
}

const MAX_REPORTED_FAILURES = 10;

async function run({ url, concurrency, headers = {} }: LoadJob): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const report: LoadReport = { sent: 0, answered: 0, failures: [] };
  let stopping = false;
  parentPort!.once('message', () => (stopping = true));
  const fail = (why: string): void => {
    if (report.failures.length < MAX_REPORTED_FAILURES) report.failures.push(why);
  };
  const client = async (): Promise<void> => {
    while (!stopping) {
      report.sent++;
      try {
        const status = await get(url, agent, headers);
        if (status === 200) report.answered++;
        else fail(`HTTP ${status}`);
      } catch (err) {
        fail((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  agent.destroy();
  parentPort!.postMessage(report);
}

function get(url: string, agent: http.Agent, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers, timeout: 30_000 }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error('no answer within 30 s')));
    request.once('error', reject);
  });
}

void run(workerData as LoadJob);
