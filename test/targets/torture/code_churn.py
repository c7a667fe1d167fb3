# Torture target (f): compiles, runs and frees functions in a loop, so code objects are freed and their memory
# reused by others. Function `churn_<n>` (file "<churn>") has `def` on line n + 1 and runs on lines n + 2 to
# n + 5, and its first two locals are n // 100 and n % 100 (small ints, which are never freed): a frame reported
# as churn_<n> whose line or locals say otherwise was named from a stale code object. Prints READY once
# churning; runs until killed.
import gc
import random
import time


def compile_churn(n):
    body = (
        f'    hundreds = {n // 100}\n'
        f'    units = {n % 100}\n'
        '    until = time.perf_counter() + 0.0005\n'
        '    while time.perf_counter() < until: pass\n'
    )
    source = '\n' * n + f'def churn_{n}():\n' + body
    namespace = {'time': time}
    exec(compile(source, '<churn>', 'exec'), namespace)
    return namespace[f'churn_{n}']


def churn_forever():
    while True:
        function = compile_churn(random.randrange(1, 3000))
        function()
        del function
        gc.collect(0)


print('READY', flush=True)
churn_forever()
