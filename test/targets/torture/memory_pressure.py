# Torture target (g): allocates and frees large blocks (8-64 MiB) and many small objects while running Python
# code, so the heap grows, shrinks and is remapped under a profiler's reads. Prints READY; runs until killed.
import random


def pressure_allocate_large():
    block = bytearray(random.randrange(8, 64) * 1024 * 1024)
    block[::4096] = b'x' * len(block[::4096])
    return len(block)


def pressure_allocate_small():
    return len([{'key': str(i), 'value': [i] * 4} for i in range(20000)])


def pressure_loop():
    while True:
        pressure_allocate_large()
        pressure_allocate_small()


print('READY', flush=True)
pressure_loop()
