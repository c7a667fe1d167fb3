"""CPU work of a known cost for the web test apps: /heavy does HEAVY_UNITS times the work of /light."""

LIGHT_UNITS = 1
HEAVY_UNITS = 3
# Large enough that even /light gets dozens of samples per test at 100 Hz, so shares are measured, not guessed,
# and the framework's own per-request work (partly outside any request label) stays small beside it.
UNIT_ITERATIONS = 240_000
MARKED_ITERATIONS = 1_500_000


def crunch_light():
    return _spin(LIGHT_UNITS * UNIT_ITERATIONS)


def crunch_heavy():
    return _spin(HEAVY_UNITS * UNIT_ITERATIONS)


def crunch_marked():
    return _spin(MARKED_ITERATIONS)


def _spin(iterations):
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total
