# Torture target (c): replaces its program with /bin/sleep (os.execv) 0.3 s after SIGUSR1, so the pid lives on but is no
# longer Python. With `children`, it instead keeps forking children that run Python briefly, then exec sleep.
# Prints READY once it runs its loop.
import os
import signal
import sys
import time

asked = []


def exec_into_sleep():
    os.execv('/bin/sleep', ['sleep', '30'])


def spin_until_asked():
    while not asked:
        pass
    # Some more samples of Python after the signal, then exec mid-recording.
    until = time.perf_counter() + 0.3
    while time.perf_counter() < until:
        pass
    exec_into_sleep()


def child_then_exec(until):
    while time.perf_counter() < until:
        pass
    exec_into_sleep()


def fork_children():
    children = set()
    while True:
        for pid in list(children):
            if os.waitpid(pid, os.WNOHANG)[0]:
                children.discard(pid)
        if len(children) < 3:
            pid = os.fork()
            if pid == 0:
                child_then_exec(time.perf_counter() + 0.15)
            children.add(pid)
        time.sleep(0.01)


signal.signal(signal.SIGUSR1, lambda *_: asked.append(True))
print('READY', flush=True)
if sys.argv[1:] == ['children']:
    fork_children()
else:
    spin_until_asked()
