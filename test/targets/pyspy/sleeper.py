# A target that sleeps for good in one known place (nap_forever, line 8), like py-spy's long-sleep scenario.
# Prints READY once it is about to sleep.
import time


def nap_forever():
    print("READY", flush=True)
    time.sleep(3600)


nap_forever()
