// Who may read the dashboard. With a token in force every request must carry it (the page's `?token=`, then the
// cookie set with the page, or an `Authorization: Bearer` header), compared in constant time. On loopback the Host
// header must name the loopback address the server is on, so a web page whose DNS name is rebound to 127.0.0.1
// cannot read it from the victim's browser.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

/** 192 bits, base64url: 32 characters that go into a URL or a cookie unescaped. */
const GENERATED_TOKEN_BYTES = 24;
export const MIN_TOKEN_LENGTH = 16;
const TOKEN_SHAPE = /^[A-Za-z0-9._~-]+$/;

export function generateToken(): string {
  return randomBytes(GENERATED_TOKEN_BYTES).toString('base64url');
}

/** Why a `--token` value cannot be used, or undefined when it can. */
export function findTokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `--token needs at least ${MIN_TOKEN_LENGTH} characters`;
  if (!TOKEN_SHAPE.test(token)) return '--token may contain only letters, digits and . _ ~ -';
  return undefined;
}

/** 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 form. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return address === '::1';
}

/**
 * The Host header values a browser sends for a loopback server: `localhost`, `127.0.0.1`, `[::1]` and the names it
 * was given (`--host`, the address bound), with the port (alone only for port 80).
 */
export function loopbackHosts(names: readonly string[], port: number): Set<string> {
  const hosts = new Set<string>();
  for (const name of ['localhost', '127.0.0.1', '::1', ...names]) {
    const host = net.isIPv6(name) ? `[${name}]` : name.toLowerCase();
    hosts.add(`${host}:${port}`);
    if (port === 80) hosts.add(host);
  }
  return hosts;
}

export interface GuardOptions {
  /** The token every request must carry; undefined when none is in force. */
  token: string | undefined;
  /** Host header values accepted (lowercase); undefined accepts any (a non-loopback server, where the token rules). */
  hosts: ReadonlySet<string> | undefined;
  /** Per port: two dashboards on one host (cookies ignore ports) keep their own token. */
  cookieName: string;
}

export type Verdict =
  | { allowed: true; /** The token came in the query: the page answers with the cookie. */ tokenInQuery: boolean }
  | { allowed: false; status: 401 | 403; reason: string };

export class RequestGuard {
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly options: GuardOptions) {
    this.tokenDigest = options.token === undefined ? undefined : digest(options.token);
  }

  check(request: IncomingMessage, url: URL): Verdict {
    const host = request.headers.host?.toLowerCase();
    if (this.options.hosts && (host === undefined || !this.options.hosts.has(host))) {
      return { allowed: false, status: 403, reason: 'this server answers only to its loopback address' };
    }
    if (!this.tokenDigest) return { allowed: true, tokenInQuery: false };
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null && this.matches(fromQuery)) return { allowed: true, tokenInQuery: true };
    const fromHeader = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (fromHeader !== undefined && this.matches(fromHeader)) return { allowed: true, tokenInQuery: false };
    const fromCookie = readCookie(request.headers.cookie, this.options.cookieName);
    if (fromCookie !== undefined && this.matches(fromCookie)) return { allowed: true, tokenInQuery: false };
    return { allowed: false, status: 401, reason: 'a valid token is needed: open the URL hotpath printed' };
  }

  /** The cookie that carries the token from the page to its script and API calls. */
  cookie(): string {
    return `${this.options.cookieName}=${this.options.token}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** Digests have one length whatever was sent, so the comparison's time says nothing about the token. */
  private matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.tokenDigest!);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}
