// Privacy defaults: recording a web app under requests that carry secrets in the query string, a cookie and an
// Authorization header stores none of them, in the saved profile or any output, nor does `dump` print them;
// the endpoint label keeps only method and route. (`dump --locals` shows values only when asked: locals.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { loadProfile } from '../../src/export/index.js';
import { startDemoServer } from '../support/demo-server.js';
import type { LoadJob, LoadReport } from '../support/http-load-worker.js';
import { listPythons, repoRoot } from '../support/pythons.js';
import { tempDir } from '../support/temp-dir.js';

const hotpathBin = path.join(repoRoot, 'bin/hotpath.js');
const python =
  listPythons().find((p) => p.label === '3.12') ??
  listPythons()
    .filter((p) => p.kind === 'pyenv')
    .at(-1);
const SECRETS = ['querysecret4711', 'cookiesecret4712', 'tokensecret4713'];

function startLoad(job: LoadJob): () => Promise<LoadReport> {
  const worker = new Worker(new URL('../support/http-load-worker.js', import.meta.url), { workerData: job });
  const report = new Promise<LoadReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return async () => {
    worker.postMessage('stop');
    const result = await report;
    await worker.terminate();
    return result;
  };
}

function assertNoSecret(what: string, text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${what} contains ${secret}`);
}

test(
  'no query value, cookie or header of a request is recorded or printed',
  { skip: !python && 'no venvs' },
  async (t) => {
    const server = await startDemoServer(python!, t);
    const stopLoad = startLoad({
      url: `${server.baseUrl}/search?q=${SECRETS[0]}+lamp`,
      concurrency: 2,
      headers: { Cookie: `session=${SECRETS[1]}`, Authorization: `Bearer ${SECRETS[2]}` },
    });
    const dir = tempDir(t);
    const saved = path.join(dir, 'profile.hotpath');
    const raw = path.join(dir, 'profile.txt');
    try {
      for (const [format, output] of [
        ['hotpath', saved],
        ['raw', raw],
      ]) {
        const run = spawnSync(
          process.execPath,
          [
            hotpathBin,
            'record',
            '-s',
            '--idle',
            '-d',
            '2',
            '-f',
            format!,
            '-o',
            output!,
            '--pid',
            String(server.masterPid),
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        assert.equal(run.status, 0, run.stderr);
        assertNoSecret(`record's messages (${format})`, run.stderr);
      }
      const dump = spawnSync(process.execPath, [hotpathBin, 'dump', '--json', '--pid', String(server.workerPids[0])], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(dump.status, 0, dump.stderr);
      assertNoSecret('dump --json', dump.stdout);
    } finally {
      const report = await stopLoad();
      assert.ok(report.answered > 0, 'no request was answered');
    }
    assertNoSecret('the saved profile', gunzipSync(fs.readFileSync(saved)).toString('latin1'));
    assertNoSecret('the collapsed stacks', fs.readFileSync(raw, 'utf8'));
    const profile = loadProfile(saved);
    assert.ok(profile.endpoints.includes('GET /search'), `endpoints: ${profile.endpoints.join(', ')}`);
  },
);
