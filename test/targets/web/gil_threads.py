"""Two threads burning CPU in pure Python under one GIL, for hotpath's --gil test: at any moment only one
of them (the GIL holder) runs; the other waits for the GIL. Prints READY once both have started."""
import os
import threading


def spin(started):
    started.release()
    total = 0
    while True:
        for i in range(10_000):
            total += i


started = threading.Semaphore(0)
for name in ("spinner-a", "spinner-b"):
    threading.Thread(target=spin, args=(started,), name=name, daemon=True).start()
started.acquire()
started.acquire()
os.write(1, b"READY\n")  # one write: never split from its newline
threading.Event().wait()
