// Fuzzes every decoder of bytes hotpath does not control (target memory, ELF files, /proc maps, line tables,
// _Py_DebugOffsets) with seeded mutations of real inputs: nothing but the expected error classes may escape, no
// case may hang, no read may exceed MAX_READ_BYTES. Cases are deterministic: a failure names the case index,
// and HOTPATH_FUZZ_FIRST=<index> HOTPATH_FUZZ_CASES=1 runs just that one. HOTPATH_FULL=1 runs 80 times more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGETS } from '../support/fuzz-targets.js';
import { fuzzCaseCount, runFuzzTarget } from '../support/fuzz-runner.js';

const CASES = fuzzCaseCount(250, 20_000);
const FIRST = Number(process.env.HOTPATH_FUZZ_FIRST ?? 0);
/** A case takes milliseconds; this only catches one that never ends, on a loaded machine too. */
const CASE_TIMEOUT_MS = 10_000;

for (const target of Object.keys(FUZZ_TARGETS)) {
  test(`fuzz ${target}: ${CASES} mutated inputs decode or fail cleanly`, async (t) => {
    const result = await runFuzzTarget(target, FIRST, CASES, CASE_TIMEOUT_MS);
    t.diagnostic(
      `${result.decoded} decoded, ${result.rejected} rejected, slowest case ${result.slowestCaseMs.toFixed(1)} ms`,
    );
    assert.equal(result.hung, undefined, `case ${result.hung} did not finish within ${CASE_TIMEOUT_MS} ms`);
    assert.deepEqual(
      result.failures.map((f) => `case ${f.index}: ${f.error}`),
      [],
      'unexpected errors escaped a decoder',
    );
    assert.ok(result.decoded > 0, 'no case decoded at all: the mutations are too destructive to test anything');
  });
}
