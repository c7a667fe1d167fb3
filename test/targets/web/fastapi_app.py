"""FastAPI test app for hotpath's web tests, run under uvicorn with several workers.

The handlers are `async def`, so they run on the event loop's thread, where the ASGI scope is on the stack.
Each worker prints WORKER pid=<pid> when its lifespan starts.
"""
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from workload import crunch_heavy, crunch_light


@asynccontextmanager
async def lifespan(app):
    os.write(1, f"WORKER pid={os.getpid()}\n".encode())  # one write: lines from two workers never interleave
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/light")
async def light():
    return crunch_light()


@app.get("/heavy")
async def heavy():
    return crunch_heavy()


@app.get("/users/{user_id}")
async def user(user_id: int):
    return crunch_light() + user_id
