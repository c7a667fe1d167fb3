"""Gunicorn settings for the web tests: any free loopback port; readiness lines on stdout.

READY port=<port> pid=<master> once the master listens; WORKER pid=<pid> once a worker (also a respawned
one) has loaded the app. Worker class, workers, threads and max-requests come from the command line.
"""
import os

bind = "127.0.0.1:0"
graceful_timeout = 2


def when_ready(server):
    port = server.LISTENERS[0].sock.getsockname()[1]
    os.write(1, f"READY port={port} pid={os.getpid()}\n".encode())  # one write: never split from its newline


def post_worker_init(worker):
    os.write(1, f"WORKER pid={os.getpid()}\n".encode())  # one write: lines from two workers never interleave
