// The agent's parts without a server or a target: Pyroscope names and their refusals, the ingest URL and query,
// intervals that tile whole seconds, and the upload queue's retries, drops, once-per-kind logging and exit deadline.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  UploadIntervals,
  UploadQueue,
  buildIngestName,
  buildIngestQuery,
  describePyroscopeServer,
  parseTag,
  parseTagList,
  sendIngest,
  type IngestOutcome,
  type IngestUpload,
} from '../../src/agent/index.js';
import { HotpathError } from '../../src/errors/index.js';
import type { RawSample } from '../../src/sampler/index.js';

const isUsageError = (err: unknown): boolean => err instanceof HotpathError && err.kind === 'usage';

test('ingest name: app{k=v,...} in the order given; characters Pyroscope would misread are refused', () => {
  assert.equal(buildIngestName('shop.web', new Map()), 'shop.web{}');
  const tags = new Map([parseTag('env=prod'), parseTag(' region = eu-west/1 '), ...parseTagList('k8s.pod=web-7f,x=1')]);
  assert.equal(buildIngestName('shop/web-1_a', tags), 'shop/web-1_a{env=prod,region=eu-west/1,k8s.pod=web-7f,x=1}');
  for (const bad of ['shop web', 'shop{x}', 'café', ''])
    assert.throws(() => buildIngestName(bad, new Map()), isUsageError);
  for (const bad of [
    'env',
    '=prod',
    'env=',
    'env=a,b',
    'env=a}',
    'env={a',
    'env=a=b',
    'env=a b',
    '__name__=x',
    'a-b=1',
  ])
    assert.throws(() => parseTag(bad), isUsageError, bad);
});

test('ingest URL keeps a path prefix; the query has every parameter /ingest documents, escaped', () => {
  const server = describePyroscopeServer(
    'https://profiles.example:8443/pyroscope/',
    { user: 'u', password: 'p:w' },
    't1',
  );
  assert.equal(server.ingestUrl.href, 'https://profiles.example:8443/pyroscope/ingest');
  assert.equal(server.authorization, `Basic ${Buffer.from('u:p:w').toString('base64')}`);
  assert.equal(server.tenantId, 't1');
  assert.equal(describePyroscopeServer('http://h:4040', { token: 'tok' }).authorization, 'Bearer tok');
  const upload: IngestUpload = { name: 'app{env=a}', from: 100, until: 110, sampleRateHz: 99.6, body: Buffer.alloc(0) };
  const url = buildIngestQuery(server, upload);
  assert.match(url.search, /name=app%7Benv%3Da%7D&/);
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    name: 'app{env=a}',
    from: '100',
    until: '110',
    format: 'pprof',
    sampleRate: '100',
    spyName: 'pyspy',
    units: 'samples',
    aggregationType: 'sum',
  });
  for (const bad of ['pyroscope:4040', 'ftp://h/', 'http://user:pw@h:4040', 'not a url'])
    assert.throws(() => describePyroscopeServer(bad), isUsageError, bad);
});

function sample(time: number, frame: string, endpoint?: string): RawSample {
  return { frames: [{ name: frame, file: '/app.py', line: 1 }], time, pid: 7, tid: 7, endpoint };
}

test('intervals: aligned whole seconds that tile; empty ones are skipped; the rest is ended at the next second', () => {
  const meta = { rateHz: 100, command: 'app' };
  const t0 = 1_000_003_400; // 3.4 s into an aligned 10 s interval (epoch ms)
  const intervals = new UploadIntervals(10, t0, meta);
  assert.equal(intervals.endMs, 1_000_010_000);
  assert.equal(intervals.add(sample(0, 'a'), t0 + 100), undefined);
  assert.equal(intervals.sealDue(1_000_009_999), undefined);
  const first = intervals.add(sample(7000, 'b', 'GET /'), 1_000_010_000);
  assert.deepEqual([first?.from, first?.until, first?.profile.samples.count], [1_000_003, 1_000_010, 1]);
  assert.equal(first!.profile.meta.startTime, 1_000_003_000);
  assert.equal(first!.profile.meta.durationMs, 7000);
  const second = intervals.sealDue(1_000_020_005)!;
  assert.deepEqual([second.from, second.until, second.profile.endpoints], [1_000_010, 1_000_020, ['GET /']]);
  // 35 s without a sample: nothing to send, and the next interval is the one the clock is in.
  assert.equal(intervals.sealDue(1_000_055_000), undefined);
  intervals.add(sample(60_000, 'c'), 1_000_056_000);
  assert.equal(intervals.endMs, 1_000_060_000);
  const rest = intervals.sealRest(1_000_057_200)!;
  assert.deepEqual([rest.from, rest.until, rest.profile.samples.count], [1_000_050, 1_000_058, 1]);
  assert.equal(intervals.sealRest(1_000_057_300), undefined, 'nothing left');
});

test('intervals: a path labelled before its route was known is sent under the route known when the interval closes', () => {
  const aliases = new Map<string, string>();
  const meta = { rateHz: 100, command: 'app', endpointAliases: () => aliases };
  const t0 = 1_000_000_000;
  const intervals = new UploadIntervals(10, t0, meta);
  intervals.add(sample(0, 'a', 'GET /users/{id}'), t0);
  intervals.add(sample(10, 'a', 'GET /users/<int:user_id>'), t0 + 10);
  aliases.set('GET /users/{id}', 'GET /users/<int:user_id>');
  const sealed = intervals.sealDue(t0 + 10_000)!;
  assert.deepEqual(sealed.profile.endpoints, ['GET /users/<int:user_id>']);
  assert.deepEqual([...sealed.profile.samples.endpoint], [0, 0]);
});

/** A send() whose answers the test scripts, one per attempt, recording what was tried. */
function scriptedServer(answers: IngestOutcome[]) {
  const attempts: number[] = [];
  let notify: (() => void) | undefined;
  return {
    attempts,
    send: async (upload: IngestUpload): Promise<IngestOutcome> => {
      attempts.push(upload.from);
      notify?.();
      return answers.shift() ?? { sent: true };
    },
    /** Resolves once `count` attempts have been made. */
    attemptsReach(count: number): Promise<void> {
      return new Promise((resolve) => {
        notify = () => attempts.length >= count && resolve();
        notify();
      });
    },
  };
}

const upload = (from: number): IngestUpload => ({
  name: 'a{}',
  from,
  until: from + 1,
  sampleRateHz: 100,
  body: Buffer.alloc(1),
});
const down: IngestOutcome = { sent: false, retry: true, kind: 'HTTP 500', detail: 'HTTP 500: boom' };

test('queue: retries with backoff in order, logs a failure kind once per outage, says when uploads resume', async () => {
  const server = scriptedServer([down, down, down, { sent: false, retry: true, kind: 'timeout', detail: 'slow' }]);
  const log: string[] = [];
  const queue = new UploadQueue({
    ...server,
    capacity: 10,
    firstBackoffMs: 1,
    maxBackoffMs: 4,
    log: (m) => log.push(m),
  });
  queue.push(upload(1));
  queue.push(upload(2));
  await server.attemptsReach(6);
  assert.equal(await queue.close(Date.now() + 5000), 0);
  assert.deepEqual(server.attempts, [1, 1, 1, 1, 1, 2]);
  assert.deepEqual(queue.counts, { sent: 2, dropped: 0, rejected: 0, failedAttempts: 4 });
  assert.equal(log.length, 3, log.join('\n'));
  assert.match(log[0]!, /upload failed \(HTTP 500: boom\); sampling goes on, retrying/);
  assert.match(log[1]!, /upload failed \(slow\)/);
  assert.match(log[2]!, /uploads go through again \(after 4 failed attempts/);
});

test('queue: a full queue drops the oldest waiting upload, never the one on the wire, and counts it', async () => {
  let release: (() => void) | undefined;
  const sent: number[] = [];
  const log: string[] = [];
  const queue = new UploadQueue({
    capacity: 3,
    firstBackoffMs: 1,
    maxBackoffMs: 1,
    log: (m) => log.push(m),
    send: (u) => {
      sent.push(u.from);
      return u.from === 1
        ? new Promise((resolve) => (release = () => resolve({ sent: true })))
        : Promise.resolve({ sent: true });
    },
  });
  for (let from = 1; from <= 6; from++) queue.push(upload(from));
  assert.equal(queue.counts.dropped, 3);
  assert.equal(queue.pending, 3);
  release!();
  assert.equal(await queue.close(Date.now() + 5000), 0);
  assert.deepEqual(sent, [1, 5, 6], 'the upload in flight went through; 2, 3 and 4 were dropped');
  assert.equal(log.filter((m) => /dropped the oldest interval \(1 dropped so far\)/.test(m)).length, 1);
  assert.equal(log.length, 1, 'counted, not logged per drop');
});

test('queue: a refused upload is dropped at once; close() gives up at its deadline and aborts the request', async () => {
  const server = scriptedServer([{ sent: false, retry: false, kind: 'HTTP 400', detail: 'HTTP 400: bad name' }]);
  const log: string[] = [];
  const refusing = new UploadQueue({
    ...server,
    capacity: 5,
    firstBackoffMs: 1,
    maxBackoffMs: 1,
    log: (m) => log.push(m),
  });
  refusing.push(upload(1));
  refusing.push(upload(2));
  assert.equal(await refusing.close(Date.now() + 5000), 0);
  assert.deepEqual(refusing.counts, { sent: 1, dropped: 0, rejected: 1, failedAttempts: 1 });
  assert.match(log[0]!, /the server refused an upload \(HTTP 400: bad name\); dropping it/);

  let aborted = false;
  const hanging = new UploadQueue({
    capacity: 5,
    firstBackoffMs: 1,
    maxBackoffMs: 1,
    log: () => {},
    send: (_u, signal) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ sent: false, retry: true, kind: 'aborted', detail: 'stopped' });
        }),
      ),
  });
  hanging.push(upload(1));
  hanging.push(upload(2));
  assert.equal(await hanging.close(Date.now() + 50), 2);
  assert.ok(aborted, 'the request in flight was aborted');
  hanging.push(upload(3));
  assert.equal(hanging.pending, 2, 'nothing is queued after close');
});

/** An HTTP server on 127.0.0.1 that answers each request as `answer` says (or never, for null); closed after `t`. */
async function serve(
  t: TestContext,
  answer: (request: http.IncomingMessage) => [number, string] | null,
): Promise<string> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const reply = answer(request);
      if (reply) response.writeHead(reply[0]).end(reply[1]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('sendIngest sorts answers and failures into sent, retry later and never', async (t) => {
  const body = upload(1);
  const send = (url: string, timeoutMs = 5000) =>
    sendIngest(describePyroscopeServer(url, { token: 't' }, 'org'), body, AbortSignal.timeout(timeoutMs));
  const seen: http.IncomingHttpHeaders[] = [];
  const ok = await serve(t, (request) => (seen.push(request.headers), [200, '']));
  assert.deepEqual(await send(ok), { sent: true });
  assert.equal(seen[0]!.authorization, 'Bearer t');
  assert.equal(seen[0]!['x-scope-orgid'], 'org');
  assert.equal(seen[0]!['content-type'], 'application/octet-stream');

  const failing = await serve(t, () => [503, 'ingester unavailable\nmore']);
  assert.deepEqual(await send(failing), {
    sent: false,
    retry: true,
    kind: 'HTTP 503 Service Unavailable',
    detail: 'HTTP 503 Service Unavailable: ingester unavailable',
  });
  const refusing = await serve(t, () => [400, 'name: invalid service name']);
  assert.deepEqual(await send(refusing), {
    sent: false,
    retry: false,
    kind: 'HTTP 400 Bad Request',
    detail: 'HTTP 400 Bad Request: name: invalid service name',
  });
  const silent = await serve(t, () => null);
  assert.deepEqual(await send(silent, 100), { sent: false, retry: true, kind: 'timeout', detail: 'no answer in time' });

  const unused = http.createServer();
  await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
  const freePort = (unused.address() as AddressInfo).port;
  await new Promise<void>((resolve) => unused.close(() => resolve()));
  const outcome = await send(`http://127.0.0.1:${freePort}`);
  assert.ok(!outcome.sent && outcome.retry, JSON.stringify(outcome));
  assert.equal(outcome.kind, 'unreachable ECONNREFUSED');
  assert.match(outcome.detail, /^cannot reach the server \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
});
