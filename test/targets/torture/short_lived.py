# Torture target (a): keeps starting short-lived Python children (40-400 ms each, two or three alive at a time),
# so a profiler following subprocesses keeps attaching to processes that exit in the middle of a sample.
# Prints READY once the first child runs; runs until killed.
import random
import subprocess
import sys
import time

CHILD = '''
import time
def short_lived_child_work(until):
    while time.perf_counter() < until:
        pass
short_lived_child_work(time.perf_counter() + %f)
'''


def spawn_child():
    return subprocess.Popen([sys.executable, '-c', CHILD % random.uniform(0.04, 0.4)])


def parent_loop():
    children = [spawn_child()]
    print('READY', flush=True)
    while True:
        children = [child for child in children if child.poll() is None]
        while len(children) < 3:
            children.append(spawn_child())
        time.sleep(0.01)


parent_loop()
