# A target whose memory grows in one known place, for the live tests of `record --memory`: the main thread
# alternates leak_here(), which keeps a new 1 MiB bytearray on each pass, and burn_cpu(), which only computes.
# After each allocation the thread stays on the same line (a sum in C: no Python frame) for several sampling
# intervals, because hotpath puts a rise in RSS on what is running at the tick that sees it (docs/memory.md).
# Lines marked `# LINE:<name>` are where the frames sit. Prints READY once calibrated; the list stops growing
# at MAX_KEPT_MIB so a forgotten target cannot eat the machine.
import time

MIB = 1 << 20
MAX_KEPT_MIB = 512
# How long each pass stays on the allocating line, and each burn_cpu call lasts: well over a 100 Hz tick.
PASS_SECONDS = 0.05
PASSES = 3
kept = []


def sum_count(seconds):
    """How many integers sum(range(n)) adds in about `seconds` on this machine."""
    n = 200_000
    start = time.perf_counter()
    sum(range(n))
    elapsed = max(time.perf_counter() - start, 1e-6)
    return max(1_000, int(n * seconds / elapsed))


def leak_here(spin):
    for _ in range(PASSES):
        kept.append(bytearray(MIB if len(kept) < MAX_KEPT_MIB else 0)); sum(range(spin))  # LINE:leak


def burn_cpu(seconds):
    deadline = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < deadline:  # LINE:burn
        x = (x * 31 + 7) % 1_000_003
    return x


def main():
    spin = sum_count(PASS_SECONDS)
    print('READY', flush=True)
    while True:
        leak_here(spin)
        burn_cpu(PASS_SECONDS * PASSES)


main()
