"""Target for hotpath's locals, attributes, dict and thread-name readers: a named thread parks in a function
whose locals cover every value kind `dump --locals` shows, a cell variable, an instance with attributes, and
a dict big enough to need 2-byte indices. Prints READY once the thread is parked."""
import threading


class Account:
    def __init__(self):
        self.owner = "ada"
        self.balance = 42


def park(environ, ready, stop):
    text = "x" * 150
    ratio = 3.5
    flag = True
    nothing = None
    account = Account()
    huge = 10**30

    def closure():
        return environ

    ready.set()
    stop.wait()
    return text, ratio, flag, nothing, account, huge, closure


environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/users/42", 7: "seven"}
for i in range(300):
    environ[f"key{i}"] = i
ready, stop = threading.Event(), threading.Event()
threading.Thread(target=park, args=(environ, ready, stop), name="parked-worker", daemon=True).start()
ready.wait()
print("READY", flush=True)
stop.wait()
