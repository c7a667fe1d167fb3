// One upload to Pyroscope's HTTP ingest API: POST <server>/ingest?name=…&from=…&until=…&format=pprof with a gzipped
// pprof body, authenticated as Pyroscope's own agents do; the answer (or the failure) sorted into "sent",
// "try again later" and "the server will never take it".

import { HotpathError } from '../errors/index.js';

export interface PyroscopeServer {
  /** The server's /ingest endpoint (a path prefix such as /pyroscope is kept). */
  ingestUrl: URL;
  /** The whole Authorization header value, if any. */
  authorization?: string;
  /** Sent as X-Scope-OrgID, for multi-tenant servers. */
  tenantId?: string;
}

export type PyroscopeAuth = { token: string } | { user: string; password: string };

export interface IngestUpload {
  /** `app{k=v}`, see buildIngestName. */
  name: string;
  /** Unix seconds: the interval [from, until). */
  from: number;
  until: number;
  sampleRateHz: number;
  /** Gzipped pprof. */
  body: Buffer;
}

export type IngestOutcome =
  | { sent: true }
  | {
      sent: false;
      /** Worth sending again later (server down, overloaded, timed out) rather than dropping. */
      retry: boolean;
      /** What went wrong, the same text for the same failure: messages are logged once per kind. */
      kind: string;
      detail: string;
    };

export function describePyroscopeServer(server: string, auth?: PyroscopeAuth, tenantId?: string): PyroscopeServer {
  return {
    ingestUrl: buildIngestUrl(server),
    authorization: auth && buildAuthorization(auth),
    tenantId: tenantId || undefined,
  };
}

export function buildIngestUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new HotpathError('usage', `--server takes a URL such as http://pyroscope:4040, not "${server}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new HotpathError('usage', `--server must be an http:// or https:// URL, not "${server}"`);
  if (url.username || url.password) {
    throw new HotpathError(
      'usage',
      'the --server URL carries credentials',
      'give them with --basic-auth USER:PASSWORD or PYROSCOPE_BASIC_AUTH_USER/PASSWORD instead',
    );
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ingest`;
  url.search = '';
  url.hash = '';
  return url;
}

function buildAuthorization(auth: PyroscopeAuth): string {
  if ('token' in auth) return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
}

/** The URL of one upload: the query parameters /ingest documents. */
export function buildIngestQuery(server: PyroscopeServer, upload: IngestUpload): URL {
  const url = new URL(server.ingestUrl);
  const query = url.searchParams;
  query.set('name', upload.name);
  query.set('from', String(upload.from));
  query.set('until', String(upload.until));
  query.set('format', 'pprof');
  // Pyroscope reads a whole number; the pprof body carries the exact period anyway.
  query.set('sampleRate', String(Math.max(1, Math.round(upload.sampleRateHz))));
  // py-spy's name: Pyroscope files the profiles as Python's and shows relative file names beside functions.
  query.set('spyName', 'pyspy');
  query.set('units', 'samples');
  query.set('aggregationType', 'sum');
  return url;
}

/** Sends one upload; never throws. `signal` aborts it (timeout, exit). */
export async function sendIngest(
  server: PyroscopeServer,
  upload: IngestUpload,
  signal: AbortSignal,
): Promise<IngestOutcome> {
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'User-Agent': 'hotpath' };
  if (server.authorization) headers.Authorization = server.authorization;
  if (server.tenantId) headers['X-Scope-OrgID'] = server.tenantId;
  try {
    const response = await fetch(buildIngestQuery(server, upload), {
      method: 'POST',
      headers,
      // A copy: fetch's types want a view of a plain ArrayBuffer, which a Buffer's type does not promise.
      body: new Uint8Array(upload.body),
      signal,
    });
    const text = await response.text();
    if (response.ok) return { sent: true };
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    const said = text.trim().split('\n')[0]!.slice(0, 200);
    return {
      sent: false,
      retry: isTransient(response.status),
      kind: status,
      detail: said ? `${status}: ${said}` : status,
    };
  } catch (err) {
    return describeFailure(err, signal);
  }
}

/** Overloaded, timed out or failing servers may take the same upload later; other 4xx answers never will. */
function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function describeFailure(err: unknown, signal: AbortSignal): IngestOutcome {
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    const timedOut = reason?.name === 'TimeoutError';
    const kind = timedOut ? 'timeout' : 'aborted';
    return { sent: false, retry: true, kind, detail: timedOut ? 'no answer in time' : 'stopped' };
  }
  // fetch's TypeError("fetch failed") has the socket's error as its cause: ECONNREFUSED, ENOTFOUND, ...
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  const code = cause?.code ?? (err as Error).name;
  return {
    sent: false,
    retry: true,
    kind: `unreachable ${code}`,
    detail: `cannot reach the server (${cause?.message ?? (err as Error).message})`,
  };
}
