# Torture target (b): forks a child every few milliseconds; each child runs Python for 20-300 ms and leaves with
# os._exit, so followed children are copies of the parent's memory that vanish mid-sample.
# Prints READY once the first child is forked; runs until killed.
import os
import random
import time


def forked_child_work(until):
    while time.perf_counter() < until:
        pass


def fork_one():
    pid = os.fork()
    if pid == 0:
        forked_child_work(time.perf_counter() + random.uniform(0.02, 0.3))
        os._exit(0)
    return pid


def reap(children):
    for pid in list(children):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            children.discard(pid)


def parent_loop():
    children = {fork_one()}
    print('READY', flush=True)
    while True:
        reap(children)
        if len(children) < 4:
            children.add(fork_one())
        time.sleep(0.005)


parent_loop()
