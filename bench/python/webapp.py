# The web benchmark's WSGI app (Gunicorn, sync workers): every request does a fixed amount of CPU work
# under a 20-frame-deep stack, like a view calling through a few layers of a framework.
DEPTH = 20


def render(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def layer(level):
    if level > 1:
        return layer(level - 1)
    return render(20_000)


def app(environ, start_response):
    body = f'{layer(DEPTH)}\n'.encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
