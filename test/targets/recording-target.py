# A quiet target for recording memory fixtures: every thread blocks for good in a known place (a lock, a sleep
# inside a generator, a 40-deep recursion), so its memory does not change while it is read and the recorded
# stacks are the same every time. Non-ASCII names give str objects of every kind (Latin-1, UCS-2, UCS-4);
# main() holds dicts and an instance for the dict decoders.
# Prints `READY {json}` once every thread has started; the recorder waits until two readings agree.
import json
import os
import sys
import threading
import time

DEPTH = 40
held = threading.Lock()
held.acquire()


def wait_on_lock_ß():
    held.acquire()


def sleeping_generator_函数():
    time.sleep(3600)
    yield


def drive_generator_𠀀(started):
    started.set()
    next(sleeping_generator_函数())


def recurse(depth, started):
    if depth > 1:
        return recurse(depth - 1, started)
    started.set()
    return wait_on_lock_ß()


def start(name, target, *args):
    started = threading.Event()
    threading.Thread(name=name, target=target, args=(*args, started), daemon=True).start()
    started.wait()


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def main():
    # Locals the recorder decodes: a dict with str and int keys, a str-keyed one, an instance's attributes.
    mixed = {'alpha': 1, 'beta_ß': 2, 'gamma_函数': 3, 7: 'seven', 'delta_𠀀': 4}
    plain = {'x': 1, 'y': 2}
    point = Point(3, 4)
    start('deep-ß', recurse, DEPTH)
    start('gen-𠀀', drive_generator_𠀀)
    print('READY ' + json.dumps({'pid': os.getpid(), 'version': sys.version.split()[0]}), flush=True)
    wait_on_lock_ß()


main()
