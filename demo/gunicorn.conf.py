"""Gunicorn settings for hotpath's demo app: two sync workers on loopback, readiness announced on stdout.

DEMO_PORT picks the port (0: any free one). The demo script and the live tests wait for the READY and
WORKER lines below instead of polling the port.
"""

import os

bind = f"127.0.0.1:{os.environ.get('DEMO_PORT', '8000')}"
workers = 2
worker_class = "sync"
# The demo stops Gunicorn once its load has ended, so there is nothing worth waiting long for.
graceful_timeout = 5


def announce(line):
    """Write one whole line to stdout in a single write: workers share the pipe and start at the same time, and
    print() would write the text and its newline separately, letting two workers' lines interleave."""
    os.write(1, f"{line}\n".encode())


def when_ready(server):
    """Announce the port actually bound, once the master listens (workers are forked right after)."""
    port = server.LISTENERS[0].sock.getsockname()[1]
    announce(f"READY port={port} pid={os.getpid()}")


def post_worker_init(worker):
    """Announce each worker's pid once it has loaded the app and is about to accept requests."""
    announce(f"WORKER pid={os.getpid()}")
