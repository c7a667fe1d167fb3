# CPU-bound benchmark target whose stack is exactly DEPTH Python frames deep (the module counts as one).
#   deep.py DEPTH            prints `READY <pid>` once the stack is complete, then spins forever.
#   deep.py DEPTH ROUNDS     prints `READY <pid>`, waits for a line on stdin, runs ROUNDS fixed rounds of
#                            work in the innermost frame, prints `DONE <seconds>` (its own wall time) and exits.
import os
import sys
import time

DEPTH = int(sys.argv[1])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else None


def work_round(total):
    for i in range(10_000):
        total += i * i
    return total & 0xFFFF


def spin():
    total = 0
    if ROUNDS is None:
        print(f'READY {os.getpid()}', flush=True)
        while True:
            total = work_round(total)
    print(f'READY {os.getpid()}', flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        total = work_round(total)
    print(f'DONE {time.perf_counter() - started:.6f}', flush=True)


def descend(level):
    if level > 1:
        return descend(level - 1)
    return spin()


# <module> + descend × (DEPTH - 3) + spin + work_round = DEPTH frames while working.
descend(DEPTH - 3)
