# Runs a command as a child and writes its resource usage (CPU of the child and every descendant it
# waited for, peak RSS, wall time) as JSON to the file named first: wait4() gives microsecond CPU
# times, where /proc/PID/stat counts in 10 ms ticks. SIGINT/SIGTERM are passed on to the child.
import json
import os
import signal
import sys
import time

out_path, command = sys.argv[1], sys.argv[2:]
started = time.monotonic()
child = os.fork()
if child == 0:
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
for signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(signum, lambda s, _frame: os.kill(child, s))
while True:
    try:
        _, status, usage = os.wait4(child, 0)
        break
    except InterruptedError:
        continue
wall = time.monotonic() - started
with open(out_path, 'w') as out:
    json.dump(
        {
            'userSeconds': usage.ru_utime,
            'systemSeconds': usage.ru_stime,
            'maxRssKiB': usage.ru_maxrss,
            'wallSeconds': wall,
            'exitCode': os.waitstatus_to_exitcode(status),
        },
        out,
    )
sys.exit(max(0, os.waitstatus_to_exitcode(status)))
