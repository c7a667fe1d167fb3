// A stand-in for Grafana Pyroscope's HTTP ingest endpoint, in the test process: POST /ingest with the query
// parameters its documentation lists (name "app{k=v,...}", from, until, format, sampleRate, spyName, units,
// aggregationType) and a pprof body, parsed and decoded as the server would. Tests choose each answer's status.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePprof, type DecodedPprof } from './pprof-decoder.js';
import type { CleanupOwner } from './spawn-target.js';

export interface ReceivedUpload {
  /** The name parameter as sent, and its parts as Pyroscope's parser splits them. */
  name: string;
  app: string;
  tags: Record<string, string>;
  /** Unix seconds. */
  from: number;
  until: number;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  profile: DecodedPprof;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  /** What the receiver answered. */
  status: number;
}

export interface PyroscopeReceiver {
  readonly url: string;
  readonly port: number;
  /** Every well-formed upload, refused ones included, in arrival order. */
  readonly uploads: ReceivedUpload[];
  /** Requests that were not a well-formed ingest call, with why. */
  readonly malformed: string[];
  /** Answers with 200 unless set otherwise; `index` counts the uploads received so far (from 0). */
  answer: (index: number) => number;
  accepted(): ReceivedUpload[];
  /** Resolves once `predicate` holds for the uploads; rejects with `what` after timeoutMs. */
  waitFor(what: string, predicate: (uploads: ReceivedUpload[]) => boolean, timeoutMs?: number): Promise<void>;
}

const DEFAULT_WAIT_MS = 60_000;

/** Listens on 127.0.0.1 (`port`, or any free one) until `owner` ends. */
export async function startPyroscopeReceiver(owner: CleanupOwner, port = 0): Promise<PyroscopeReceiver> {
  const uploads: ReceivedUpload[] = [];
  const malformed: string[] = [];
  const waiters = new Set<() => void>();
  const receiver = {
    answer: (_index: number) => 200,
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let upload: ReceivedUpload;
      try {
        upload = parseIngest(request, Buffer.concat(chunks));
      } catch (err) {
        malformed.push((err as Error).message);
        response.writeHead(400).end((err as Error).message);
        return;
      }
      upload.status = receiver.answer(uploads.length);
      uploads.push(upload);
      response.writeHead(upload.status).end(upload.status === 200 ? '' : 'the test server says no\n');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  owner.after(() => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()));
  const actualPort = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    uploads,
    malformed,
    accepted: () => uploads.filter((upload) => upload.status === 200),
    waitFor(what: string, predicate: (uploads: ReceivedUpload[]) => boolean, timeoutMs = DEFAULT_WAIT_MS) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within ${timeoutMs} ms; ${uploads.length} uploads so far`));
        }, timeoutMs);
        function check(): void {
          if (!predicate(uploads)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
        waiters.add(check);
        check();
      });
    },
  });
}

function parseIngest(request: http.IncomingMessage, body: Buffer): ReceivedUpload {
  const url = new URL(request.url ?? '/', 'http://receiver');
  if (request.method !== 'POST' || url.pathname !== '/ingest') throw new Error(`${request.method} ${url.pathname}`);
  const query = Object.fromEntries(url.searchParams);
  for (const required of ['name', 'from', 'until'])
    if (!query[required]) throw new Error(`no ${required} parameter in ${url.search}`);
  if (query.format !== 'pprof') throw new Error(`format ${query.format}, not pprof`);
  const [from, until] = [Number(query.from), Number(query.until)];
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(until)) throw new Error(`from/until ${url.search}`);
  return {
    name: query.name!,
    ...parseName(query.name!),
    from,
    until,
    query,
    headers: request.headers,
    profile: decodePprof(body),
    receivedAt: Date.now(),
    status: 0,
  };
}

/** "app{k=v,k2=v2}" as Pyroscope's labelset parser reads it: a value ends at "," or "}", names and values trimmed. */
function parseName(name: string): { app: string; tags: Record<string, string> } {
  const open = name.indexOf('{');
  if (open < 0) return { app: name.trim(), tags: {} };
  if (!name.endsWith('}')) throw new Error(`name ${name} does not end its tags with }`);
  const tags: Record<string, string> = {};
  for (const pair of name
    .slice(open + 1, -1)
    .split(',')
    .filter(Boolean)) {
    const split = pair.indexOf('=');
    if (split <= 0) throw new Error(`tag "${pair}" in ${name}`);
    tags[pair.slice(0, split).trim()] = pair.slice(split + 1).trim();
  }
  return { app: name.slice(0, open).trim(), tags };
}
