// Checks that docs/exit-codes.md lists exactly the exit codes of src/cli/exit-codes.ts, each with its kind,
// so the page users read cannot drift from the table the CLI uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES, EXIT_INTERNAL, EXIT_OK } from '../../src/cli/exit-codes.js';

const docFile = fileURLToPath(new URL('../../../docs/exit-codes.md', import.meta.url));

/** The doc's table rows as "code kind" strings: `| 3 | \`no-such-process\` | meaning |`. */
function documentedCodes(markdown: string): string[] {
  const rows = markdown.split('\n').filter((line) => /^\|\s*\d+\s*\|/.test(line));
  return rows.map((row) => {
    const [code, kind, meaning] = row
      .split('|')
      .slice(1)
      .map((cell) => cell.trim());
    assert.match(kind!, /^`[a-z-]+`$/, `kind of code ${code} is not a \`kind\`: ${row}`);
    assert.ok(meaning, `code ${code} has no meaning: ${row}`);
    return `${code} ${kind!.slice(1, -1)}`;
  });
}

test('docs/exit-codes.md lists exactly the codes of src/cli/exit-codes.ts', () => {
  const expected = [
    `${EXIT_OK} ok`,
    `${EXIT_INTERNAL} internal`,
    ...Object.entries(EXIT_CODES).map(([kind, { code }]) => `${code} ${kind}`),
  ];
  const documented = documentedCodes(fs.readFileSync(docFile, 'utf8'));
  assert.deepEqual([...documented].sort(), [...expected].sort());
  assert.equal(new Set(documented).size, documented.length, 'a code is listed twice');
});

test('every exit code is distinct', () => {
  const codes = [EXIT_OK, EXIT_INTERNAL, ...Object.values(EXIT_CODES).map(({ code }) => code)];
  assert.equal(new Set(codes).size, codes.length);
});
