"""Flask test app for hotpath's web tests: endpoints of known CPU cost, run under Gunicorn."""
import threading

from flask import Flask

from workload import crunch_heavy, crunch_light, crunch_marked

app = Flask(__name__)


@app.route("/light")
def light():
    return str(crunch_light())


@app.route("/heavy")
def heavy():
    return str(crunch_heavy())


@app.route("/users/<int:user_id>")
def user(user_id):
    return str(crunch_light() + user_id)


@app.route("/marked")
def marked():
    return str(crunch_marked())


# A named thread that never runs: it must appear in profiles only with --idle.
threading.Thread(target=threading.Event().wait, name="cache-refresher", daemon=True).start()
