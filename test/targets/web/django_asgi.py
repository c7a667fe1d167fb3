"""The Django test app as an ASGI application, for uvicorn with several workers (which binds the port
before starting them). Django runs its sync views on a worker thread, away from the event loop's scope.
Prints WORKER pid=<pid> once the worker has loaded the app."""
import os

from django.core.asgi import get_asgi_application

import django_app  # noqa: F401  (configures settings and the URLs)

application = get_asgi_application()
os.write(1, f"WORKER pid={os.getpid()}\n".encode())  # one write: lines from two workers never interleave
