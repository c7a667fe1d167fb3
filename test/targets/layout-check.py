# Checks a hotpath layout table (JSON on stdin) against the interpreter running this script, reading its own
# memory with ctypes only. Prints {"python": ..., "checks": [[name, actual, expected], ...]} as JSON.
import ctypes
import dis
import json
import sys
import threading

layout = json.load(sys.stdin)
checks = []


def check(name, actual, expected):
    checks.append([name, actual, expected])


def ptr(address):
    return ctypes.c_void_p.from_address(address).value or 0


def i64(address):
    return ctypes.c_int64.from_address(address).value


def u64(address):
    return ctypes.c_uint64.from_address(address).value


def i32(address):
    return ctypes.c_int32.from_address(address).value


def u32(address):
    return ctypes.c_uint32.from_address(address).value


def u8(address):
    return ctypes.c_uint8.from_address(address).value


def runtime_address():
    return ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, '_PyRuntime'))


def thread_states(interp):
    states = []
    tstate = ptr(interp + layout['interpreterState']['threadsHead'])
    while tstate:
        states.append(tstate)
        tstate = ptr(tstate + layout['threadState']['next'])
    return states


def check_threads():
    ts = layout['threadState']
    runtime = runtime_address()
    interp = ptr(runtime + layout['runtimeState']['interpretersHead'])
    check('interp.next', ptr(interp + layout['interpreterState']['next']), 0)
    check('interp.modules', ptr(interp + layout['interpreterState']['modules']), id(sys.modules))
    states = thread_states(interp)
    check('tstate.interp', [ptr(t + ts['interp']) for t in states], [interp] * len(states))
    check('tstate.prev', [ptr(t + ts['prev']) for t in states], [0] + states[:-1])
    running = threading.enumerate()
    check('tstate.thread_id', sorted(u64(t + ts['threadId']) for t in states), sorted(t.ident for t in running))
    if 'nativeThreadId' in ts:
        check(
            'tstate.native_thread_id',
            sorted(u64(t + ts['nativeThreadId']) for t in states),
            sorted(t.native_id for t in running),
        )
    own = [t for t in states if u64(t + ts['threadId']) == threading.get_ident()]
    check('own tstate found', len(own), 1)
    if own:
        check_gil_holder(runtime, interp, own[0])
        check_frames(own[0])


def check_gil_holder(runtime, interp, own):
    if layout['gilKind'] == 'runtime-tstate-current':
        check('gil holder', ptr(runtime + layout['runtimeState']['gilstateTstateCurrent']), own)
    elif layout['gilKind'] == 'interpreter-gil':
        gil = ptr(interp + layout['interpreterState']['cevalGil'])
        check('gil holder', ptr(gil + layout['gilRuntimeState']['lastHolder']), own)
        check('gil locked', i32(gil + layout['gilRuntimeState']['locked']), 1)


def is_shim(frame):
    fr = layout['interpreterFrame']
    return 'ownerCStack' in fr and u8(frame + fr['owner']) == fr['ownerCStack']


def frame_chain(frame):
    frames = []
    while frame:
        if not is_shim(frame):
            frames.append(frame)
        frame = ptr(frame + layout['interpreterFrame']['previous'])
    return frames


def python_frames():
    frames = []
    frame = sys._getframe(1)
    while frame:
        frames.append(frame)
        frame = frame.f_back
    return frames


def check_frames(tstate):
    ts, fr = layout['threadState'], layout['interpreterFrame']
    # Read inline, not through ptr(): calling a helper would make the helper's frame the innermost one.
    innermost = ctypes.c_void_p.from_address(tstate + ts['currentFrame']).value
    if layout['currentFrameKind'] == 'cframe':
        innermost = ctypes.c_void_p.from_address(innermost + ts['cframeCurrentFrame']).value
    expected = python_frames()
    chain = frame_chain(innermost)
    check('frame chain code', [ptr(f + fr['executable']) for f in chain], [id(f.f_code) for f in expected])
    if chain:
        name = ptr(ptr(chain[0] + fr['executable']) + layout['codeObject']['name'])
        check('innermost co_name', decode_str(name), sys._getframe().f_code.co_name)
    if len(chain) > 1:
        check('caller f_lasti', decode_lasti(chain[1]), expected[1].f_lasti)


def decode_lasti(frame):
    """The caller's instruction, in bytes like frame.f_lasti; stable while it waits for this call."""
    fr = layout['interpreterFrame']
    kind = layout['instructionKind']
    if kind == 'lasti-bytes':
        return i32(frame + fr['instrPtr'])
    if kind == 'lasti-units':
        return i32(frame + fr['instrPtr']) * 2
    code = ptr(frame + fr['executable'])
    return ptr(frame + fr['instrPtr']) - (code + layout['codeObject']['coCodeAdaptive'])


def decode_str(address):
    uo = layout['unicodeObject']
    length = i64(address + uo['length'])
    state = u32(address + uo['state'])
    kind = (state >> uo['kindShift']) & 7
    ascii = (state >> uo['asciiBit']) & 1
    data = address + (uo['asciiobjectSize'] if ascii else uo['compactobjectSize'])
    encoding = {1: 'latin-1', 2: 'utf-16-le', 4: 'utf-32-le'}.get(kind)
    if encoding is None or not 0 <= length < 1 << 20:
        return '<kind %d, length %d>' % (kind, length)
    return ctypes.string_at(data, length * kind).decode(encoding, 'replace')


def sample(a, b, *args, **kwargs):
    captured = a + b

    def inner():
        return captured

    return inner


def check_code():
    co = layout['codeObject']
    code = sample.__code__
    address = id(code)
    check('co_filename', ptr(address + co['filename']), id(code.co_filename))
    check('co_name', ptr(address + co['name']), id(code.co_name))
    check('co_firstlineno', i32(address + co['firstlineno']), code.co_firstlineno)
    check('co_argcount', i32(address + co['argcount']), code.co_argcount)
    check('co_flags', i32(address + co['flags']), code.co_flags)
    linetable = code.co_lnotab if layout['lineTableKind'] == 'lnotab' else code.co_linetable
    check('line table', ptr(address + co['linetable']), id(linetable))
    names = ptr(address + co['localsplusnames'])
    if 'qualname' not in co:
        check('co_varnames', names, id(code.co_varnames))
        check('co_nlocals', i32(address + co['nlocalsplus']), code.co_nlocals)
        return
    check('co_qualname', ptr(address + co['qualname']), id(code.co_qualname))
    localsplus = code.co_varnames + code.co_cellvars + code.co_freevars
    check('co_nlocalsplus', i32(address + co['nlocalsplus']), len(localsplus))
    check('co_localsplusnames', tuple_item_addresses(names), [id(name) for name in localsplus])
    first = i32(address + co['firstTraceable'])
    check('first traceable is RESUME', code.co_code[first * 2], dis.opmap['RESUME'])


def tuple_item_addresses(address):
    to = layout['tupleObject']
    return [ptr(address + to['obItem'] + 8 * i) for i in range(i64(address + to['obSize']))]


def check_objects():
    check('ob_type', ptr(id(1.5) + layout['pyObject']['obType']), id(float))
    check_type()
    items = ('x', 2, None)
    check('tuple items', tuple_item_addresses(id(items)), [id(x) for x in items])
    values = [object(), 'y']
    lo = layout['listObject']
    check('list ob_size', i64(id(values) + lo['obSize']), 2)
    check('list items', [ptr(ptr(id(values) + lo['obItem']) + 8 * i) for i in range(2)], [id(x) for x in values])
    for text in ['hello', 'h\xe9llo', 'h\u20acllo', 'h\U0001f600llo']:
        check('str ' + ascii(text), decode_str(id(text)), text)
    data = b'bytes\x00here'
    bo = layout['bytesObject']
    check('bytes ob_size', i64(id(data) + bo['obSize']), len(data))
    check('bytes ob_sval', ctypes.string_at(id(data) + bo['obSval'], len(data)).hex(), data.hex())
    for number in [0, 5, -7, 2**30 + 3, -(2**65) - 11]:
        check('int ' + str(number), decode_int(id(number)), number)


def check_type():
    class Sample:
        pass

    to = layout['typeObject']
    address = id(Sample)
    check('tp_name', ctypes.string_at(ptr(id(int) + to['tpName'])).decode(), 'int')
    check('tp_basicsize', i64(address + to['tpBasicsize']), Sample.__basicsize__)
    check('tp_dictoffset', i64(address + to['tpDictoffset']), Sample.__dictoffset__)
    check('tp_flags', u64(address + to['tpFlags']), Sample.__flags__)


def decode_int(address):
    lo = layout['longObject']
    if layout['longKind'] == 'ob-size':
        size = i64(address + lo['size'])
        ndigits, sign = abs(size), (size > 0) - (size < 0)
    else:
        tag = u64(address + lo['size'])
        ndigits, sign = tag >> 3, 1 - (tag & 3)
    magnitude = sum(u32(address + lo['digits'] + 4 * i) << (lo['digitBits'] * i) for i in range(ndigits))
    return sign * magnitude


def dict_entries(address):
    """(key id, value id) of every entry of a combined dict with fewer than 128 slots (1-byte indices)."""
    do, dk = layout['dictObject'], layout['dictKeys']
    keys = ptr(address + do['maKeys'])
    if layout['dictKind'] == 'dict-39':
        entries = keys + dk['indices'] + i64(keys + dk['size'])
        general = True
    else:
        entries = keys + dk['indices'] + (1 << u8(keys + dk['log2IndexBytes']))
        general = u8(keys + dk['kind']) == 0
    width = 24 if general else 16
    first = entries + (8 if general else 0)
    count = i64(keys + dk['nentries'])
    return [[ptr(first + width * i), ptr(first + width * i + 8)] for i in range(count)]


def check_dicts():
    do = layout['dictObject']
    for sample_dict in [{'alpha': 1, 'beta': 2, 'gamma': 3}, {10: 'ten', 20: 'twenty'}]:
        name = 'dict ' + type(next(iter(sample_dict))).__name__
        check(name + ' ma_used', i64(id(sample_dict) + do['maUsed']), len(sample_dict))
        check(name + ' ma_values', ptr(id(sample_dict) + do['maValues']), 0)
        check(name + ' entries', dict_entries(id(sample_dict)), [[id(k), id(v)] for k, v in sample_dict.items()])
    check_split_dict()


def check_split_dict():
    class Instance:
        pass

    instance = Instance()
    instance.first = object()
    values = ptr(id(instance.__dict__) + layout['dictObject']['maValues'])
    check('split dict has values', values != 0, True)
    if values:
        check('split dict values[0]', ptr(values + layout['dictKeys']['valuesArray']), id(instance.first))


def main():
    started, finish = threading.Event(), threading.Event()

    def worker():
        started.set()
        finish.wait()

    thread = threading.Thread(target=worker, name='layout-check-worker')
    thread.start()
    started.wait()
    try:
        check_threads()
        check_code()
        check_objects()
        check_dicts()
    finally:
        finish.set()
        thread.join()
    print(json.dumps({'python': sys.version.split()[0], 'checks': checks}))


main()
