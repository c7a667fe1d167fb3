# Target for test/live/debug-offsets-live.test.ts: prints its version and thread ids as one JSON line, then
# waits inside wait_for_stdin() until stdin closes, so the test reads a runtime that stands still.
import json
import os
import platform
import sys
import threading


def wait_for_stdin():
    ready = {
        'version': platform.python_version(),
        'thread_id': threading.get_ident(),
        'native_thread_id': threading.get_native_id(),
        'has_proc': os.path.isdir('/proc/self'),
    }
    print(json.dumps(ready), flush=True)
    sys.stdin.read()


wait_for_stdin()
