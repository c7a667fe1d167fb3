# The same small program before and after a change, for the diff test (argv[1] is "before" or "after").
# before: parse does most of the work, render little, audit the rest.
# after:  parse made cheaper, render made heavier, audit removed.
import sys


def parse(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def render(n):
    total = 0
    for i in range(n):
        total += i * 3
    return total


def audit(n):
    total = 0
    for i in range(n):
        total ^= i
    return total


def handle(version):
    if version == "before":
        parse(60000)
        render(10000)
        audit(30000)
    else:
        parse(20000)
        render(60000)


def main():
    version = sys.argv[1]
    print("READY", version, flush=True)
    while True:
        handle(version)


main()
