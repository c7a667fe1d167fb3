// A fresh directory for one test, removed when the test ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export function tempDir(t: TestContext, parent = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(parent, 'hotpath-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
