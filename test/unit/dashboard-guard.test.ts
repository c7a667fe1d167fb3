// The dashboard's access rules without a server: the token from query, header or cookie (and nothing else), the Host
// check on loopback, generated and given tokens, loopback addresses; and the page files it serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import {
  RequestGuard,
  findTokenProblem,
  generateToken,
  isLoopbackAddress,
  loopbackHosts,
} from '../../src/web/request-guard.js';
import { buildDashboardScript, renderDashboardHtml } from '../../src/web/dashboard-page.js';

const TOKEN = 'abcdefghijklmnop-0123';
const PORT = 8123;

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as IncomingMessage;
}

function check(guard: RequestGuard, path: string, headers: Record<string, string> = {}) {
  return guard.check(request({ host: `127.0.0.1:${PORT}`, ...headers }), new URL(path, 'http://x'));
}

test('with a token, each request needs it in the query, an Authorization header or the cookie', () => {
  const guard = new RequestGuard({ token: TOKEN, hosts: undefined, cookieName: `hotpath-token-${PORT}` });
  assert.deepEqual(check(guard, `/?token=${TOKEN}`), { allowed: true, tokenInQuery: true });
  assert.deepEqual(check(guard, '/api/snapshot', { authorization: `Bearer ${TOKEN}` }), {
    allowed: true,
    tokenInQuery: false,
  });
  assert.deepEqual(check(guard, '/api/snapshot', { cookie: `other=1; hotpath-token-${PORT}=${TOKEN}` }), {
    allowed: true,
    tokenInQuery: false,
  });
  for (const [path, headers] of [
    ['/api/snapshot', {}],
    [`/api/snapshot?token=${TOKEN}x`, {}],
    ['/api/snapshot?token=', {}],
    ['/api/snapshot', { authorization: `Basic ${TOKEN}` }],
    ['/api/snapshot', { cookie: `hotpath-token-${PORT + 1}=${TOKEN}` }],
    ['/api/snapshot', { cookie: `hotpath-token-${PORT}=${TOKEN.slice(1)}` }],
  ] as const) {
    const verdict = check(guard, path, headers);
    assert.equal(verdict.allowed, false, `${path} ${JSON.stringify(headers)}`);
    assert.equal(!verdict.allowed && verdict.status, 401);
  }
  assert.equal(guard.cookie(), `hotpath-token-${PORT}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
});

test('on loopback the Host header must name a loopback address with the port', () => {
  const guard = new RequestGuard({ token: undefined, hosts: loopbackHosts(['127.0.0.1'], PORT), cookieName: 'c' });
  for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `LOCALHOST:${PORT}`, `[::1]:${PORT}`]) {
    assert.deepEqual(check(guard, '/', { host }), { allowed: true, tokenInQuery: false }, host);
  }
  for (const host of [`evil.example:${PORT}`, `127.0.0.1:${PORT + 1}`, '127.0.0.1', `localhost.evil.example:${PORT}`]) {
    const verdict = check(guard, '/', { host });
    assert.equal(!verdict.allowed && verdict.status, 403, host);
  }
  assert.equal(guard.check(request({}), new URL('http://x/')).allowed, false, 'no Host header at all');
  assert.ok(loopbackHosts(['::1'], 80).has('[::1]'), 'port 80 is left out by browsers');
  assert.ok(loopbackHosts(['ip6-localhost'], PORT).has(`ip6-localhost:${PORT}`), 'the --host name given');
});

test('generated tokens are 192 random bits; given ones must be long and URL-safe', () => {
  const tokens = new Set(Array.from({ length: 50 }, generateToken));
  assert.equal(tokens.size, 50);
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(findTokenProblem(token), undefined);
  }
  assert.match(findTokenProblem('short')!, /at least 16/);
  assert.match(findTokenProblem('a'.repeat(16) + ' ;')!, /only letters/);
});

test('loopback addresses: 127.0.0.0/8 and ::1, IPv4-mapped too; not the wildcards', () => {
  for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(address));
  for (const address of ['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1']) {
    assert.equal(isLoopbackAddress(address), false, address);
  }
});

test('the page is a shell that loads its own script and stylesheet; the script links the report client', () => {
  const html = renderDashboardHtml('hotpath web: <script>alert(1)</script>');
  assert.ok(!html.includes('<script>alert'), 'the title is escaped');
  assert.match(html, /<script src="\/dashboard.js" defer><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="\/dashboard.css">/);
  assert.doesNotMatch(html, /https?:\/\//, 'no remote asset');
  const script = buildDashboardScript();
  assert.match(script, /const module_flame_view = /);
  assert.match(script, /const module_dashboard_app = /);
  assert.match(script, /hotpathClient\.startDashboard\(\);\n$/);
  assert.doesNotMatch(script, /from '/, 'every import is linked');
  new Function(script); // parses
});
