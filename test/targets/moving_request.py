"""Target for the label of a sample whose thread moves on to its next request before the sample is labelled:
handle() serves one request after another, each in a new environ (which, like handle's frame, usually takes the
address of the one before), and parks in each until sent SIGUSR1. Prints SERVING <path> once it holds each one."""
import signal

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


def handle(environ):
    print(f"SERVING {environ['PATH_INFO']}", flush=True)
    signal.sigwait({signal.SIGUSR1})


for path in ("/first", "/second", "/third"):
    handle({"REQUEST_METHOD": "GET", "PATH_INFO": path})
