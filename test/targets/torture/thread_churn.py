# Torture target (d): starts and ends threads at a high rate (each runs Python for under a millisecond), so the
# thread-state list changes under every read. Prints READY once churning; runs until killed.
import threading


def churn_thread_work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def churn_forever():
    while True:
        threads = [threading.Thread(target=churn_thread_work, args=(2000,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def main():
    threading.Thread(target=churn_forever, daemon=True).start()
    print('READY', flush=True)
    churn_forever()


main()
