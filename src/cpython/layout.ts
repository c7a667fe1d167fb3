// The shape of every CPython structure hotpath reads, as byte offsets. Groups and field names follow
// CPython's `_Py_DebugOffsets` (camelCased) so that a search lands in CPython's source. Per-version
// behaviour differences are named kinds here, so the decoder switches on a kind, never on a version.

/** How a thread's frames are chained. */
export type FrameModel =
  /** 3.9–3.10: tstate->frame is a PyFrameObject; chain by f_back. */
  | 'frame-object'
  /** 3.11+: _PyInterpreterFrame chain by `previous`, reached from tstate (via cframe in 3.11/3.12). */
  | 'interpreter-frame';

/** Where a thread state keeps its innermost frame. */
export type CurrentFrameKind =
  /** 3.9–3.10: tstate->frame */
  | 'tstate-frame'
  /** 3.11–3.12: tstate->cframe->current_frame */
  | 'cframe'
  /** 3.13+: tstate->current_frame */
  | 'tstate-current-frame';

/** Encoding of the code object's instruction → line table. */
export type LineTableKind =
  /** 3.9: co_lnotab, (bytecode delta, line delta) byte pairs; address is f_lasti in bytes. */
  | 'lnotab'
  /** 3.10: co_linetable, (bytecode delta, signed line delta) pairs, -128 = no line; address f_lasti*2. */
  | 'linetable-310'
  /** 3.11+: PEP 657 location table of varint-coded entries in code units. */
  | 'location-table';

/** How the decoder learns the current instruction of a frame. */
export type InstructionKind =
  /** 3.9: PyFrameObject.f_lasti is a byte offset. */
  | 'lasti-bytes'
  /** 3.10: PyFrameObject.f_lasti counts 2-byte code units. */
  | 'lasti-units'
  /** 3.11+: a pointer into co_code_adaptive (prev_instr, then instr_ptr). */
  | 'instruction-pointer';

/** How the thread holding the GIL is found. */
export type GilKind =
  /** 3.9–3.11: _PyRuntime.gilstate.tstate_current points at the holder. */
  | 'runtime-tstate-current'
  /** 3.12+: interp->ceval.gil points at a _gil_runtime_state with last_holder and locked. */
  | 'interpreter-gil'
  /** Free-threaded builds: there is no GIL. */
  | 'none';

/** How PyDictKeysObject is laid out. */
export type DictKind =
  /** 3.9–3.10: dk_size, dk_lookup, dk_usable, dk_nentries, then dk_indices sized by dk_size. */
  | 'dict-39'
  /** 3.11+: dk_log2_size, dk_log2_index_bytes, dk_kind; unicode-keyed entries have no hash. */
  | 'dict-311';

/** Where an object's instance attributes (its __dict__) live. */
export type InstanceDictKind =
  /** 3.9–3.10: a dict pointer at tp_dictoffset bytes into the object. */
  | 'dict-offset'
  /** 3.11: before the object, a values pointer (keys in the type's ht_cached_keys) and a dict pointer. */
  | 'managed-values'
  /** 3.12: before the object, one pointer: a dict, or (low bit set) values keyed by the type's cached keys. */
  | 'dict-or-values'
  /** 3.13+: before the object a dict pointer; without a dict, values inline after the object. */
  | 'inline-values';

/** How PyLongObject stores its sign and digit count. */
export type LongKind =
  /** ≤3.11: ob_size is the signed digit count. */
  | 'ob-size'
  /** 3.12+: lv_tag = ndigits << 3 | sign bits. */
  | 'lv-tag';

/** Where a suspended frame's value stack ends: its top item is what a suspended coroutine awaits (_PyGen_yf). */
export type ValueStackKind =
  /** 3.9: PyFrameObject.f_stacktop points just past the top; 3.14+: _PyInterpreterFrame.stackpointer does. */
  | 'stacktop-pointer'
  /** 3.10: PyFrameObject.f_valuestack points at the stack's base, f_stackdepth counts its items. */
  | 'valuestack-depth'
  /** 3.11–3.13: _PyInterpreterFrame.stacktop counts the slots from localsplus up to the top. */
  | 'localsplus-count';

export interface PythonLayout {
  /** [major, minor] this layout describes. */
  version: readonly [number, number];
  /** Where the offsets came from: a generated table, or the target's own _Py_DebugOffsets. */
  source: 'table' | 'debug-offsets';
  freeThreaded: boolean;
  frameModel: FrameModel;
  currentFrameKind: CurrentFrameKind;
  lineTableKind: LineTableKind;
  instructionKind: InstructionKind;
  gilKind: GilKind;
  dictKind: DictKind;
  longKind: LongKind;
  /** Undefined when the layout source does not say (attributes are then not read). */
  instanceDictKind?: InstanceDictKind;

  runtimeState: {
    /** _PyRuntime.interpreters.head */
    interpretersHead: number;
    /** ≤3.11: _PyRuntime.gilstate.tstate_current */
    gilstateTstateCurrent?: number;
  };
  interpreterState: {
    next: number;
    /** tstate_head (≤3.10) or threads.head (3.11+) */
    threadsHead: number;
    /** sys.modules dict: modules (≤3.11) or imports.modules (3.12+) */
    modules: number;
    /** 3.12+: ceval.gil, a pointer to _gil_runtime_state */
    cevalGil?: number;
  };
  gilRuntimeState?: {
    /** _gil_runtime_state.locked (an int) */
    locked: number;
    /** _gil_runtime_state.last_holder (a PyThreadState*) */
    lastHolder: number;
  };
  threadState: {
    /** Bytes to read to cover every field below in one read. */
    size: number;
    prev: number;
    next: number;
    interp: number;
    /** frame (3.9–3.10), cframe (3.11–3.12) or current_frame (3.13+) */
    currentFrame: number;
    /** 3.11–3.12: offset of current_frame inside _PyCFrame */
    cframeCurrentFrame?: number;
    /** pthread_t of the thread (threading.get_ident()) */
    threadId: number;
    /** 3.11+: the OS thread id */
    nativeThreadId?: number;
  };
  interpreterFrame: {
    /** Bytes to read to cover every field below (localsplus excluded) in one read. */
    size: number;
    /** f_back (3.9–3.10) or previous (3.11+) */
    previous: number;
    /** f_code (≤3.12) or f_executable (3.13+) */
    executable: number;
    /** f_lasti (3.9–3.10), prev_instr (3.11–3.12) or instr_ptr (3.13+) */
    instrPtr: number;
    /** f_localsplus (3.9–3.10) or localsplus (3.11+) */
    localsplus: number;
    /** 3.11+: owner byte; undefined for frame objects. */
    owner?: number;
    /** 3.12+: owner values from this one up are not Python frames (C-stack shims, entry frames): skipped. */
    ownerCStack?: number;
    /** 3.14+: f_executable is a tagged _PyStackRef; these low bits are the tag. */
    executableTagMask?: number;
  };
  codeObject: {
    /** Bytes to read to cover every field below in one read (the bytecode at coCodeAdaptive excluded). */
    size: number;
    filename: number;
    name: number;
    /** 3.11+ */
    qualname?: number;
    firstlineno: number;
    /** co_lnotab (3.9) or co_linetable (3.10+) */
    linetable: number;
    /** 3.11+: start of the inline bytecode */
    coCodeAdaptive?: number;
    /** 3.11+: first instruction that counts for tracing; frames before it are incomplete */
    firstTraceable?: number;
    /** co_varnames (≤3.10) or co_localsplusnames (3.11+) */
    localsplusnames: number;
    /** co_nlocals (≤3.10, an int) or co_nlocalsplus (3.11+, an int) */
    nlocalsplus: number;
    argcount: number;
    flags: number;
    /** ≤3.10: co_cellvars and co_freevars, names of the slots after co_nlocals (3.11+ names them all). */
    cellvars?: number;
    freevars?: number;
  };
  pyObject: { obType: number };
  typeObject: { tpName: number; tpBasicsize: number; tpDictoffset: number; tpFlags: number };
  tupleObject: { obSize: number; obItem: number };
  listObject: { obSize: number; obItem: number };
  unicodeObject: {
    length: number;
    state: number;
    /** sizeof(PyASCIIObject): where compact ASCII data starts */
    asciiobjectSize: number;
    /** sizeof(PyCompactUnicodeObject): where compact non-ASCII data starts */
    compactobjectSize: number;
    /** Bit positions inside the state word. */
    kindShift: number;
    compactBit: number;
    asciiBit: number;
  };
  bytesObject: { obSize: number; obSval: number };
  longObject: { size: number; digits: number; digitBits: number };
  dictObject: {
    maUsed: number;
    maKeys: number;
    maValues: number;
    /** Changes on every mutation of the dict: tells a reused address from the same dict (≤3.13). */
    maVersionTag?: number;
  };
  dictKeys: {
    /** dk_size (dict-39) or dk_log2_size (dict-311) */
    size: number;
    /** dict-311 only: dk_log2_index_bytes */
    log2IndexBytes?: number;
    /** dict-311 only: dk_kind (0 = general, entries carry a hash) */
    kind?: number;
    nentries: number;
    indices: number;
    /** Offset of values[] from ma_values: 0 before 3.13, 8 from 3.13 (a capacity/size/embedded/valid header). */
    valuesArray: number;
    /** 3.13+: PyDictValues.valid, a byte that is 0 once the values moved into a real dict. */
    valuesValid?: number;
  };
  /** PyHeapTypeObject.ht_cached_keys: the shared keys of instances' split dicts and inline values. */
  heapTypeObject?: { htCachedKeys: number };
  /** 3.11+: instance dicts the interpreter manages before (and from 3.13 after) the object. */
  managedDict?: {
    /** Py_TPFLAGS_MANAGED_DICT */
    flag: number;
    /** Where the dict (3.12: dict-or-values) pointer sits, relative to the object: negative. */
    dictOffset: number;
    /** 3.11: where the values pointer sits, relative to the object: negative. */
    valuesOffset?: number;
    /** 3.13+: Py_TPFLAGS_INLINE_VALUES */
    inlineValuesFlag?: number;
  };
  cellObject?: { obRef: number };
  /** Generator and coroutine objects (a coroutine's frame, for the coroutines a suspended task awaits). */
  genObject?: {
    /** ≤3.10: gi_frame, a PyFrameObject pointer; 3.11+: gi_iframe, the frame embedded in the object. */
    frame: number;
  };
  /** How a suspended frame's value stack is found (with valueStack). */
  valueStackKind?: ValueStackKind;
  /** The value stack of a suspended frame, relative to the frame. */
  valueStack?: {
    /** f_stacktop (3.9, a pointer), f_stackdepth (3.10, an int), stacktop (3.11–3.13, an int), stackpointer (3.14+) */
    top: number;
    /** 3.10: f_valuestack */
    base?: number;
  };
  moduleObject?: { mdDict: number };
  floatObject?: { obFval: number };
}
