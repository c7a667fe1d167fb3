"""Target for the request line the native loop copies out of a WSGI environ with each stack: handle() serves one
request after another, each in a new environ, and parks in each until sent SIGUSR1. Prints SERVING <n> once it
holds the n-th one (from 1)."""
import signal

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})

REQUESTS = [
    {"REQUEST_METHOD": "GET", "PATH_INFO": "/items/1", "QUERY_STRING": "page=2"},
    {"REQUEST_METHOD": "GET", "PATH_INFO": "/items/2", "HTTP_X_HOTPATH": "1"},
    {"REQUEST_METHOD": "GET", "PATH_INFO": "/items/3"},
    {"REQUEST_METHOD": "POST", "PATH_INFO": "/caf\u00e9", "HTTP_ACCEPT": "*/*"},
    # One character past Latin-1: the loop copies no such path, JavaScript reads it.
    {"REQUEST_METHOD": "GET", "PATH_INFO": "/\u20ac"},
    # No method: no request (yet), as an environ being filled in.
    {"PATH_INFO": "/no-method"},
]


def handle(environ, number):
    print(f"SERVING {number}", flush=True)
    signal.sigwait({signal.SIGUSR1})


for number, request in enumerate(REQUESTS, 1):
    handle(dict(request), number)
