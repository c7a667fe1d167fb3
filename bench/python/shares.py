# Accuracy target: three functions that spin for fixed shares of every cycle's CPU time (10 %, 30 %, 60 %).
# They count the thread's own CPU time, not wall time, so the shares hold on a busy machine where the
# target waits for a CPU now and then. The cycle is not a multiple of 1 ms, so a sampler cannot alias
# with it. Prints `READY <pid>` and runs until killed.
import os
import time

CYCLE_SECONDS = 0.0113
SHARES = {'share_10': 0.10, 'share_30': 0.30, 'share_60': 0.60}


def busy(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def share_10():
    busy(CYCLE_SECONDS * SHARES['share_10'])


def share_30():
    busy(CYCLE_SECONDS * SHARES['share_30'])


def share_60():
    busy(CYCLE_SECONDS * SHARES['share_60'])


print(f'READY {os.getpid()}', flush=True)
while True:
    share_10()
    share_30()
    share_60()
