// filterProfile keeps exactly the chosen samples and leaves the interned tables shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileBuilder, filterByEndpoint, filterProfile } from '../../src/profile/index.js';

function sampleProfile() {
  const builder = new ProfileBuilder();
  const frames = (name: string) => [
    { name: 'main', file: 'app.py', line: 1 },
    { name, file: 'app.py', line: 9 },
  ];
  builder.addSample({ frames: frames('users'), time: 0, pid: 1, tid: 1, endpoint: 'GET /users/{id}' });
  builder.addSample({ frames: frames('search'), time: 10, pid: 1, tid: 2, endpoint: 'GET /search' });
  builder.addSample({ frames: frames('users'), time: 20, pid: 1, tid: 1, endpoint: 'GET /users/{id}' });
  builder.addSample({ frames: frames('idle'), time: 30, pid: 1, tid: 1 });
  return builder.build({ startTime: 0, durationMs: 40, rateHz: 100, pythonVersion: '3.12.1', command: 'x' });
}

test('filterProfile keeps the chosen samples in order, with every column', () => {
  const profile = sampleProfile();
  const odd = filterProfile(profile, (i) => i % 2 === 1);
  assert.equal(odd.samples.count, 2);
  assert.deepEqual([...odd.samples.time], [10, 30]);
  assert.deepEqual([...odd.samples.thread], [profile.samples.thread[1], profile.samples.thread[3]]);
  assert.equal(odd.strings, profile.strings);
});

test('filterByEndpoint matches labels by regular expression and drops unlabelled samples', () => {
  const users = filterByEndpoint(sampleProfile(), /users/);
  assert.equal(users.samples.count, 2);
  assert.deepEqual([...users.samples.time], [0, 20]);
  assert.equal(filterByEndpoint(sampleProfile(), /./).samples.count, 3);
});
