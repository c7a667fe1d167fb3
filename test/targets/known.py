# A target whose stacks are known in advance, for the live engine tests: lines marked `# LINE:<name>` are where
# its frames sit, a 50-deep recursion ends in a non-ASCII function that alternates work_a(n) and work_b(3n), and
# two named threads loop in their own (non-ASCII: Latin-1 and astral) functions, sleeping so they take no GIL turns
# from the main thread (whose CPU time is what work_a and work_b share 1:3).
# Prints `READY {json}` once every thread runs. With `--exit-on-eof` it returns from the recursion and exits when its
# stdin is closed, so a test can end it at a moment of its choosing.
import json
import os
import sys
import threading
import time

DEPTH = 50
WORK_UNIT = 50_000
# Set by the stdin watcher; a plain list so the busy loop tests it without a call (which would add a frame).
stopping = []


def work_a(n):
    for _ in range(n): pass  # LINE:work_a


def work_b(n):
    for _ in range(n): pass  # LINE:work_b


def ünïcode_函数():
    while not stopping:  # LINE:unicode_loop
        work_a(WORK_UNIT)  # LINE:unicode_call_a
        work_b(3 * WORK_UNIT)  # LINE:unicode_call_b


def recurse(depth):
    if depth > 1:
        return recurse(depth - 1)  # LINE:recurse_call
    return ünïcode_函数()  # LINE:recurse_bottom


def alpha_loop_ß(started):
    started.set()
    while True: time.sleep(60)  # LINE:alpha_spin


def beta_loop_𠀀(started):
    started.set()
    while True: time.sleep(60)  # LINE:beta_spin


def start_threads():
    threads = {}
    for name, target in (('alpha-thread', alpha_loop_ß), ('beta-thread', beta_loop_𠀀)):
        started = threading.Event()
        thread = threading.Thread(name=name, target=target, args=(started,), daemon=True)
        thread.start()
        started.wait()
        threads[name] = {'ident': thread.ident, 'native_id': thread.native_id}
    return threads


def watch_stdin():
    sys.stdin.read()
    stopping.append(True)


def main():
    if '--exit-on-eof' in sys.argv:
        threading.Thread(name='stdin-watcher', target=watch_stdin, daemon=True).start()
    threads = start_threads()
    threads['MainThread'] = {'ident': threading.get_ident(), 'native_id': threading.get_native_id()}
    print('READY ' + json.dumps({'pid': os.getpid(), 'version': sys.version.split()[0], 'threads': threads}))
    sys.stdout.flush()
    recurse(DEPTH)  # LINE:main_call


main()  # LINE:module_call
