// The demo's traffic: a few concurrent keep-alive clients walking a fixed rotation of requests against the
// demo app on 127.0.0.1, bounded in time and in count, counting responses per route.
import http from 'node:http';

export interface LoadRequest {
  /** Route as reported in the summary, e.g. '/users/<id>'. */
  route: string;
  /** What is actually requested, e.g. '/users/42'. */
  path: string;
}

export interface LoadOptions {
  port: number;
  /** Requests are sent in this order, round and round, whichever client is free takes the next one. */
  mix: readonly LoadRequest[];
  durationMs: number;
  maxRequests: number;
  concurrency: number;
  signal: AbortSignal;
}

export interface RouteStats {
  route: string;
  ok: number;
  failed: number;
  totalMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** Sends requests until durationMs has passed, maxRequests were sent, or signal aborts; never rejects. */
export async function driveLoad(options: LoadOptions): Promise<RouteStats[]> {
  const stats = new Map(options.mix.map(({ route }) => [route, { route, ok: 0, failed: 0, totalMs: 0 }]));
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const deadline = Date.now() + options.durationMs;
  let sent = 0;
  const nextRequest = (): LoadRequest | undefined => {
    if (options.signal.aborted || Date.now() >= deadline || sent >= options.maxRequests) return undefined;
    return options.mix[sent++ % options.mix.length];
  };
  const client = async () => {
    for (let request = nextRequest(); request; request = nextRequest()) {
      const started = performance.now();
      const ok = await get(options.port, request.path, agent, options.signal);
      const routeStats = stats.get(request.route)!;
      routeStats.totalMs += performance.now() - started;
      if (ok) routeStats.ok++;
      else routeStats.failed++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  agent.destroy();
  return [...stats.values()];
}

/** One GET to 127.0.0.1; true for a 2xx response read to its end. */
function get(port: number, path: string, agent: http.Agent, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path, agent, signal, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        response.on('end', () => resolve((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300));
        response.on('error', () => resolve(false));
        response.resume();
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${path} took over ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', () => resolve(false));
  });
}
