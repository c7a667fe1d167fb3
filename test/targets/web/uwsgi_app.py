"""The Flask test app (flask_app.py) as uWSGI loads it, with readiness lines on stdout.

Loaded once in the master (no --lazy-apps): READY port=<port> pid=<master> once the master listens (uWSGI binds
its sockets before it loads apps); WORKER pid=<pid> from each worker uWSGI forks, respawned ones too.
"""
import os
import socket

import uwsgi
from flask_app import app  # noqa: F401  (uWSGI's --module finds `application`, or `app` with --callable)

application = app


def _listening_port():
    listener = socket.socket(fileno=os.dup(uwsgi.sockets[0]))
    try:
        return listener.getsockname()[1]
    finally:
        listener.close()


def _announce_worker():
    os.write(1, f"WORKER pid={os.getpid()}\n".encode())  # one write: lines from two workers never interleave


uwsgi.post_fork_hook = _announce_worker
os.write(1, f"READY port={_listening_port()} pid={os.getpid()}\n".encode())
