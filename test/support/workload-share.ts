// The check the web tests share: test/targets/web/workload.py makes /heavy cost three times /light, so /heavy's
// share of the two endpoints' samples should be near 75 %.
import assert from 'node:assert/strict';

const EXPECTED_HEAVY_SHARE = 3 / 4;
export const SHARE_TOLERANCE = 0.1;

/** `heavy` and `light` are the two endpoints' sample counts; `summary` says what was counted, for the message. */
export function assertHeavyShareOf(
  heavy: number,
  light: number,
  summary: string,
  heavyLabel = 'GET /heavy',
  tolerance = SHARE_TOLERANCE,
): void {
  const share = heavy / (heavy + light);
  assert.ok(
    Math.abs(share - EXPECTED_HEAVY_SHARE) <= tolerance,
    `${heavyLabel} has ${(100 * share).toFixed(1)}% of heavy+light samples, expected 75% ± ${100 * tolerance}: ${summary}`,
  );
}
