"""CPU work of a known cost for the web test apps: /heavy does HEAVY_UNITS times the work of /light."""

LIGHT_UNITS = 1
HEAVY_UNITS = 3
UNIT_ITERATIONS = 60_000


def crunch_light():
    return _spin(LIGHT_UNITS * UNIT_ITERATIONS)


def crunch_heavy():
    return _spin(HEAVY_UNITS * UNIT_ITERATIONS)


def crunch_marked():
    return _spin(25 * UNIT_ITERATIONS)


def _spin(iterations):
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total
