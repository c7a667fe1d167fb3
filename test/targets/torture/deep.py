# Torture target (e): the main thread recurses exactly 1,000 levels deep in `recurse` and spins in `bottom`, so a
# complete stack has 1,000 `recurse` frames. Prints READY at the bottom; runs until killed.
import sys

DEPTH = 1000
sys.setrecursionlimit(DEPTH + 100)


def bottom():
    print('READY', flush=True)
    while True:
        pass


def recurse(depth):
    if depth > 1:
        return recurse(depth - 1)
    return bottom()


recurse(DEPTH)
