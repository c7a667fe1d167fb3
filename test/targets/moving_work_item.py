"""Target for the label of a sample whose anyio worker thread moves on to its next work item before the sample is
labelled, as under sync FastAPI endpoints: endpoint(scope, handler) awaits handler on an anyio worker thread, once
for /first and once for /second (the same thread, the second work item's future usually at the first's address).
Each handler parks until sent SIGUSR1. Prints SERVING <path> once its handler runs."""
import asyncio
import functools
import signal

import anyio.to_thread

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # before any thread: sigwait takes it in the worker


def first():
    print("SERVING /first", flush=True)
    signal.sigwait({signal.SIGUSR1})


def second():
    print("SERVING /second", flush=True)
    signal.sigwait({signal.SIGUSR1})


async def endpoint(scope, handler):
    return await anyio.to_thread.run_sync(functools.partial(handler))


async def main():
    await endpoint({"type": "http", "method": "GET", "path": "/first"}, first)
    await endpoint({"type": "http", "method": "GET", "path": "/second"}, second)


asyncio.run(main())
