// Renders docs/support.md from the outcomes of the last live coverage run (.cache/coverage-results.json, written by
// test/live/coverage.test.ts), and keeps those outcomes beside it as docs/support.json so the doc can be re-checked.
import fs from 'node:fs';
import path from 'node:path';
import { parseCoverageResults, renderSupportTable } from '../test/support/coverage-results.js';
import { repoRoot } from '../test/support/pythons.js';

const resultsPath = path.join(repoRoot, '.cache/coverage-results.json');
const docsDir = path.join(repoRoot, 'docs');

if (!fs.existsSync(resultsPath)) {
  console.error(`support-table: ${resultsPath} is missing: run the live coverage test first (npm test)`);
  process.exit(1);
}
const results = parseCoverageResults(fs.readFileSync(resultsPath, 'utf8'));
fs.writeFileSync(path.join(docsDir, 'support.json'), `${JSON.stringify(results, null, 2)}\n`);
fs.writeFileSync(path.join(docsDir, 'support.md'), renderSupportTable(results));
console.log(
  `support-table: docs/support.md from ${results.cases.length} cases of the run finished ${results.finished}`,
);
