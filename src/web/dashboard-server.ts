// `hotpath web`'s HTTP server: the dashboard page, its snapshot API and downloads of the profile since the start.
// GET and HEAD only, every answer with a strict Content-Security-Policy, no caching and no referrer; requests pass
// the RequestGuard (Host on loopback, the token when one is in force) before anything with data is built.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { HotpathError } from '../errors/index.js';
import { exportHotpathProfile, exportSpeedscope } from '../export/index.js';
import type { Profile, ProfileMeta } from '../profile/index.js';
import {
  DASHBOARD_STYLE,
  SCRIPT_PATH,
  STYLE_PATH,
  buildDashboardScript,
  renderDashboardHtml,
} from './dashboard-page.js';
import type { LiveProfile, SamplingFacts } from './live-profile.js';
import { RequestGuard, generateToken, isLoopbackAddress, loopbackHosts } from './request-guard.js';

export interface DashboardServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required of every request when given; generated when the server is not on loopback and none is given. */
  token: string | undefined;
  live: LiveProfile;
  /** Sampling facts at the time of a request. */
  sampling(): SamplingFacts;
  /** The meta of a downloaded profile, at the time of the download. */
  profileMeta(): ProfileMeta;
  /** An unexpected failure while answering (the client got a 500). */
  onError(error: Error): void;
}

export interface RunningDashboard {
  /** What to open, with `?token=` when a token is in force. */
  url: string;
  token: string | undefined;
  close(): Promise<void>;
}

/** Self only: the page, its script and its stylesheet come from this server, data only from its API. */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const DOWNLOADS: Record<string, { extension: string; type: string; write(profile: Profile): string | Buffer }> = {
  '/download/profile.hotpath': {
    extension: 'hotpath',
    type: 'application/octet-stream',
    write: (profile) => exportHotpathProfile(profile),
  },
  '/download/profile.speedscope.json': {
    extension: 'speedscope.json',
    type: 'application/json',
    write: (profile) => exportSpeedscope(profile),
  },
};

interface Answer {
  status: number;
  body: string | Buffer;
  type: string;
  headers?: Record<string, string>;
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboard> {
  let handle: (request: IncomingMessage) => Answer = () => text(503, 'starting');
  const server = http.createServer((request, response) => {
    let answer: Answer;
    try {
      answer = handle(request);
    } catch (error) {
      options.onError(error as Error);
      answer = text(500, "internal error: see hotpath's output");
    }
    send(request, response, answer);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await listen(server, options.host, options.port);
  // Once listening, a failure (say, out of file descriptors on accept) is reported; sampling goes on.
  server.on('error', (error) => options.onError(error));
  const { address, port } = server.address() as net.AddressInfo;
  const loopback = isLoopbackAddress(address);
  const token = options.token ?? (loopback ? undefined : generateToken());
  const guard = new RequestGuard({
    token,
    hosts: loopback ? loopbackHosts([options.host, address], port) : undefined,
    cookieName: `hotpath-token-${port}`,
  });
  const files = { html: renderDashboardHtml(options.live.title), script: buildDashboardScript() };
  handle = (request) => route(request, guard, files, options);
  const url = `http://${urlHost(options.host, address)}:${port}/${token ? `?token=${token}` : ''}`;
  return {
    url,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function route(
  request: IncomingMessage,
  guard: RequestGuard,
  files: { html: string; script: string },
  options: DashboardServerOptions,
): Answer {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return { ...text(405, 'only GET and HEAD'), headers: { Allow: 'GET, HEAD' } };
  }
  const url = new URL(request.url ?? '/', 'http://dashboard');
  const verdict = guard.check(request, url);
  if (!verdict.allowed) return text(verdict.status, verdict.reason);
  switch (url.pathname) {
    case '/':
      return {
        status: 200,
        body: files.html,
        type: 'text/html; charset=utf-8',
        headers: verdict.tokenInQuery ? { 'Set-Cookie': guard.cookie() } : {},
      };
    case SCRIPT_PATH:
      return { status: 200, body: files.script, type: 'text/javascript; charset=utf-8' };
    case STYLE_PATH:
      return { status: 200, body: DASHBOARD_STYLE, type: 'text/css; charset=utf-8' };
    case '/api/snapshot':
      return answerSnapshot(url, options);
  }
  const download = DOWNLOADS[url.pathname];
  if (!download) return text(404, 'not found');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    status: 200,
    body: download.write(options.live.buildProfile(options.profileMeta())),
    type: download.type,
    headers: { 'Content-Disposition': `attachment; filename="hotpath-${stamp}.${download.extension}"` },
  };
}

/** `?window=SECONDS` (1 to the window kept, the default) or `?window=all` (since the start). */
function answerSnapshot(url: URL, options: DashboardServerOptions): Answer {
  const { windowSeconds } = options.live;
  const asked = url.searchParams.get('window');
  const seconds = asked === null ? windowSeconds : asked === 'all' ? null : Number(asked);
  if (seconds !== null && !(Number.isInteger(seconds) && seconds >= 1 && seconds <= windowSeconds)) {
    return text(400, `window takes whole seconds from 1 to ${windowSeconds}, or "all"`);
  }
  const snapshot = options.live.snapshot(seconds, options.sampling());
  return { status: 200, body: JSON.stringify(snapshot), type: 'application/json; charset=utf-8' };
}

function text(status: number, message: string): Answer {
  return { status, body: `${message}\n`, type: 'text/plain; charset=utf-8' };
}

function send(request: IncomingMessage, response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, {
    ...SECURITY_HEADERS,
    'Content-Type': answer.type,
    'Content-Length': String(Buffer.byteLength(answer.body)),
    ...answer.headers,
  });
  response.end(request.method === 'HEAD' ? undefined : answer.body);
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void =>
      reject(
        new HotpathError(
          'usage',
          `cannot serve the dashboard on ${host}:${port} (${error.code ?? error.message})`,
          error.code === 'EADDRINUSE' ? 'choose another --port, or --port 0 for any free one' : undefined,
        ),
      );
    server.once('error', fail);
    server.listen({ host, port }, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/** The host to print: the one asked for, or for all interfaces (0.0.0.0, ::) an address others can reach. */
function urlHost(host: string, address: string): string {
  const everywhere = address === '0.0.0.0' || address === '::';
  const name = everywhere ? (externalAddress() ?? '127.0.0.1') : host;
  return net.isIPv6(name) ? `[${name}]` : name;
}

function externalAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
}
