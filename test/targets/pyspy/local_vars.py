# py-spy's local-variables scenario for `dump --locals`: one function whose arguments and locals are the kinds
# of values py-spy's test checks (without numpy), then the ones where hotpath decides for itself: ints past
# 64 bits, long containers, escapes, types shown by name. Prints READY from inside it, then waits for good.
import threading


def inspect_me(arg1="foo", arg2=None, arg3=True):
    local1 = [-1234, 5678]
    local2 = ("a", "b", "c")
    local3 = 123456789123456789
    local4 = 3.1415
    local5 = {"a": False, "b": (1, 2, 3)}
    long_tuple = ("-" * 115, {"key": {"key": {"key": "value"}}})
    unicode_text = "测试1" * 500
    empty = ""
    big = 1 << 70
    negative_big = -(10**30)
    huge = 10**200
    many = list(range(100_000))
    wide = {number: str(number) for number in range(10_000)}
    whole_float = 3.0
    tiny_float = 1.5e-7
    single = (7,)
    quoted = 'it\'s "quoted"\n'
    numbers = {1, 2}
    raw = b"bytes"
    nested = [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]
    print("READY", flush=True)
    threading.Event().wait()


inspect_me()
