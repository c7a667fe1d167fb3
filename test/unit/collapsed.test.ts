// Collapsed stacks: the export against a readable golden file, py-spy's thread/process frames, escaping,
// and import → export round trips with equal counts per stack.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HotpathError } from '../../src/errors/index.js';
import { exportCollapsed, escapeCollapsedFrame, unescapeCollapsedFrame } from '../../src/export/collapsed.js';
import { importCollapsed } from '../../src/export/collapsed-import.js';
import { stackFrames, functionName, functionFile, type Profile } from '../../src/profile/index.js';
import { buildHandProfile, buildWebAppProfile, frame } from '../support/flame-profiles.js';

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)), 'utf8');
}

/** "stack → count" as a map, so comparisons ignore line order and merge duplicate lines. */
function countsPerStack(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n').filter(Boolean)) {
    const cut = line.lastIndexOf(' ');
    counts.set(line.slice(0, cut), (counts.get(line.slice(0, cut)) ?? 0) + Number(line.slice(cut + 1)));
  }
  return counts;
}

/** Each sample's frames as {name, file, line}, outermost first. */
function sampleFrames(profile: Profile, sample: number): Array<[string, string, number]> {
  return stackFrames(profile, profile.samples.stack[sample]!).map((id) => {
    const { func, line } = profile.frames[id]!;
    return [functionName(profile, func), functionFile(profile, func), line];
  });
}

test('export matches the golden file, one line per distinct stack with py-spy thread frames', () => {
  assert.equal(exportCollapsed(buildWebAppProfile(), { groupBy: 'thread' }), fixture('collapsed-web-app-threads.txt'));
});

test('export without groups, by function, and by process', () => {
  const profile = buildWebAppProfile();
  assert.deepEqual(
    countsPerStack(exportCollapsed(profile)),
    new Map([
      ['main (app.py:10);handle (views.py:20)', 1],
      ['main (app.py:10);handle (views.py:20);query (db.py:5)', 3],
      ['main (app.py:10);handle (views.py:21);render (tpl.py:7)', 2],
      ['run (worker.py:3);query (db.py:5)', 4],
      ['run (worker.py:3);query (db.py:6)', 1],
    ]),
  );
  assert.equal(
    exportCollapsed(profile, { frameKey: 'function' }).split('\n')[3],
    'run (worker.py:1);query (db.py:3) 5',
  );
  assert.equal(
    exportCollapsed(profile, { groupBy: 'process' }).split('\n')[3],
    'process 11:"python worker.py";run (worker.py:3);query (db.py:5) 4',
  );
  const users = profile.endpoints.indexOf('GET /users');
  assert.equal(
    exportCollapsed(profile, { filter: (i) => profile.samples.endpoint[i] === users }),
    'main (app.py:10);handle (views.py:20) 1\nmain (app.py:10);handle (views.py:20);query (db.py:5) 3\n',
  );
});

test('frames with an unknown line or no file are labelled as py-spy does', () => {
  const profile = buildHandProfile([{ frames: [frame('<module>', 'main.py', 0), frame('native', '', 0)], times: 2 }]);
  assert.equal(exportCollapsed(profile), '<module> (main.py);native 2\n');
  assert.equal(exportCollapsed(buildHandProfile([])), '');
});

test('round trip export → import → export keeps every stack and count', () => {
  for (const groupBy of ['none', 'thread', 'process'] as const) {
    const text = exportCollapsed(buildWebAppProfile(), { groupBy });
    const imported = importCollapsed(text);
    assert.equal(imported.samples.count, 11);
    assert.equal(exportCollapsed(imported, { groupBy }), text, groupBy);
  }
});

test('import restores names, files, lines, threads and processes', () => {
  const imported = importCollapsed(fixture('collapsed-web-app-threads.txt'));
  assert.deepEqual(
    imported.threads.map((thread) => [thread.tid, thread.name]),
    [
      [100, 'MainThread'],
      [101, 'worker'],
    ],
  );
  const last = imported.samples.count - 1;
  assert.deepEqual(sampleFrames(imported, last), [
    ['run', 'worker.py', 3],
    ['query', 'db.py', 6],
  ]);
  assert.equal(imported.threads[imported.samples.thread[last]!]!.tid, 101);
  assert.equal(imported.meta.stats.taken, 11);
});

test("import reads py-spy's --subprocesses/--threads frames and plain labels from other tools", () => {
  const imported = importCollapsed(fixture('collapsed-pyspy-subprocesses.txt'));
  assert.equal(imported.samples.count, 18);
  assert.deepEqual(
    imported.threads.map((thread) => [thread.pid, thread.tid, thread.name]),
    [
      [4107, 4107, 'MainThread'],
      [4107, 4111, ''],
      [4100, 4100, 'MainThread'],
      [0, 0, ''],
    ],
  );
  assert.deepEqual(
    imported.processes.map((process) => [process.pid, process.command]),
    [
      [4100, 'gunicorn: master [app:app]'],
      [4107, 'gunicorn: worker [app:app]'],
    ],
  );
  assert.deepEqual(sampleFrames(imported, 0), [
    ['run', 'gunicorn/arbiter.py', 209],
    ['handle_request', 'app/views.py', 42],
  ]);
  assert.deepEqual(sampleFrames(imported, 14), [['<module>', 'app/main.py', 0]]);
  assert.deepEqual(sampleFrames(imported, 15), [
    ['[unknown]', '', 0],
    ['PyEval_EvalFrameDefault', '', 0],
  ]);
});

test('separators, newlines and percent signs in names survive export and import', () => {
  const odd = frame('weird;name\nwith %3B', 'dir;x/f%.py', 4);
  const profile = buildHandProfile([{ frames: [frame('ok', 'a.py', 1), odd], times: 3 }]);
  const text = exportCollapsed(profile);
  assert.equal(text, 'ok (a.py:1);weird%3Bname%0Awith %253B (dir%3Bx/f%25.py:4) 3\n');
  assert.deepEqual(sampleFrames(importCollapsed(text), 2), [
    ['ok', 'a.py', 1],
    ['weird;name\nwith %3B', 'dir;x/f%.py', 4],
  ]);
  assert.equal(unescapeCollapsedFrame(escapeCollapsedFrame('a%;\r\nb')), 'a%;\r\nb');
  assert.equal(unescapeCollapsedFrame('100%'), '100%');
});

test('non-ASCII names and CRLF line ends are read as written', () => {
  const imported = importCollapsed('größe (straße.py:3);日本 (ü.py:9) 2\r\n\r\n');
  assert.deepEqual(sampleFrames(imported, 1), [
    ['größe', 'straße.py', 3],
    ['日本', 'ü.py', 9],
  ]);
});

test('bad input fails with a bad-input-file error naming the line', () => {
  const kindOf = (text: string, max?: number) => {
    try {
      importCollapsed(text, { maxSamples: max });
      return 'no error';
    } catch (error) {
      assert.ok(error instanceof HotpathError);
      return `${error.kind}: ${error.message}`;
    }
  };
  assert.match(kindOf('a;b 1\nno count here\n'), /^bad-input-file: line 2 /);
  assert.match(kindOf('a;b 1.5\n'), /^bad-input-file: line 1 /);
  assert.match(kindOf('\n\n'), /^bad-input-file: no stacks/);
  assert.match(kindOf('a 6\nb 5\n', 10), /^bad-input-file: .*11 samples, more than the 10/);
  assert.equal(kindOf('a 6\nb 4\n', 10), 'no error');
});
