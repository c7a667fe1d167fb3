"""FastAPI test app with sync (`def`) endpoints, run under uvicorn: Starlette runs each on an anyio worker thread,
whose stack holds no ASGI scope (the request's task awaits the work item on the event loop's thread).

`app` has no middleware; `app_with_middleware` adds an HTTP middleware (Starlette's BaseHTTPMiddleware), which runs
the endpoint in a child task of an anyio task group. Each worker prints WORKER pid=<pid> when its lifespan starts.
"""
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from workload import crunch_heavy, crunch_light


@asynccontextmanager
async def lifespan(app):
    os.write(1, f"WORKER pid={os.getpid()}\n".encode())  # one write: lines from two workers never interleave
    yield


def build_app():
    app = FastAPI(lifespan=lifespan)

    @app.get("/light")
    def light():
        return crunch_light()

    @app.get("/heavy")
    def heavy():
        return crunch_heavy()

    @app.get("/items/{item_id}")
    def item(item_id: int):
        return crunch_light() + item_id

    return app


app = build_app()
app_with_middleware = build_app()


@app_with_middleware.middleware("http")
async def pass_through(request, call_next):
    return await call_next(request)
