# py-spy's thread-name scenario: threads named after they start (Thread.name set later), all waiting for good.
# Prints READY once every thread runs under its final name.
import threading

never = threading.Event()
threads = [threading.Thread(target=never.wait, daemon=True) for _ in range(3)]
for number, thread in enumerate(threads):
    thread.start()
    thread.name = f"Renamed-{number}"
print("READY", flush=True)
never.wait()
