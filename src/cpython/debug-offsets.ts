// Decodes CPython's own description of its structures, the `_Py_DebugOffsets` table that starts `_PyRuntime`
// from 3.13 on, into a PythonLayout. The table's member order changes between minor versions, so each
// version's order is data below, and one function decodes them all.

import { HotpathError, InvalidDataError } from '../errors/index.js';
import { u64, type MemoryReader } from '../proc/index.js';
import type { PythonLayout, ValueStackKind } from './layout.js';
import { findLayoutProblems } from './layout-problems.js';

const COOKIE = 'xdebugpy';
/** Every member after the 8-byte cookie is a uint64_t. */
const MEMBER_BYTES = 8;
/** Where `version` (PY_VERSION_HEX) sits in every version of the struct: right after the cookie. */
const VERSION_OFFSET = COOKIE.length;
/** Members of a sized group that are themselves sizes, not offsets into the group's struct. */
const SIZE_MEMBERS = new Set(['gc.generation_stats_size']);
/** No CPython structure comes near this size; a larger "size" member means the bytes are not what we think. */
const MAX_STRUCT_SIZE = 16 * 1024 * 1024;

/** Members of `_Py_DebugOffsets` in declaration order, by group; `header` holds the ungrouped members. */
type MemberOrder = readonly (readonly [group: string, members: readonly string[]])[];

/** Include/internal/pycore_runtime.h of CPython 3.13 (the same in 3.13.0 and 3.13.5). */
const ORDER_3_13: MemberOrder = [
  ['header', ['version', 'free_threaded']],
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  [
    'interpreter_state',
    [
      'size',
      'id',
      'next',
      'threads_head',
      'gc',
      'imports_modules',
      'sysdict',
      'builtins',
      'ceval_gil',
      'gil_runtime_state',
      'gil_runtime_state_enabled',
      'gil_runtime_state_locked',
      'gil_runtime_state_holder',
    ],
  ],
  [
    'thread_state',
    ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id', 'datastack_chunk', 'status'],
  ],
  ['interpreter_frame', ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner']],
  [
    'code_object',
    [
      'size',
      'filename',
      'name',
      'qualname',
      'linetable',
      'firstlineno',
      'argcount',
      'localsplusnames',
      'localspluskinds',
      'co_code_adaptive',
    ],
  ],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size']],
  ['gc', ['size', 'collecting']],
];

/** Include/internal/pycore_debug_offsets.h of CPython 3.14.10 (Debian's libpython3.14-dev). */
const ORDER_3_14: MemberOrder = [
  ['header', ['version', 'free_threaded']],
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  [
    'interpreter_state',
    [
      'size',
      'id',
      'next',
      'threads_head',
      'threads_main',
      'gc',
      'imports_modules',
      'sysdict',
      'builtins',
      'ceval_gil',
      'gil_runtime_state',
      'gil_runtime_state_enabled',
      'gil_runtime_state_locked',
      'gil_runtime_state_holder',
      'code_object_generation',
      'tlbc_generation',
    ],
  ],
  [
    'thread_state',
    ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id', 'datastack_chunk', 'status'],
  ],
  [
    'interpreter_frame',
    ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner', 'stackpointer', 'tlbc_index'],
  ],
  [
    'code_object',
    [
      'size',
      'filename',
      'name',
      'qualname',
      'linetable',
      'firstlineno',
      'argcount',
      'localsplusnames',
      'localspluskinds',
      'co_code_adaptive',
      'co_tlbc',
    ],
  ],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['set_object', ['size', 'used', 'table', 'mask']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size']],
  ['gc', ['size', 'collecting']],
  ['gen_object', ['size', 'gi_name', 'gi_iframe', 'gi_frame_state']],
  ['llist_node', ['next', 'prev']],
  [
    'debugger_support',
    [
      'eval_breaker',
      'remote_debugger_support',
      'remote_debugging_enabled',
      'debugger_pending_call',
      'debugger_script_path',
      'debugger_script_path_size',
    ],
  ],
];

/** Include/internal/pycore_debug_offsets.h of CPython 3.15.2 (Debian's libpython3.15-dev). */
const ORDER_3_15: MemberOrder = [
  ['header', ['version', 'free_threaded']],
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  [
    'interpreter_state',
    [
      'size',
      'id',
      'next',
      'threads_head',
      'threads_main',
      'gc',
      'imports_modules',
      'sysdict',
      'builtins',
      'ceval_gil',
      'gil_runtime_state',
      'gil_runtime_state_enabled',
      'gil_runtime_state_locked',
      'gil_runtime_state_holder',
      'code_object_generation',
      'tlbc_generation',
    ],
  ],
  [
    'thread_state',
    [
      'size',
      'prev',
      'next',
      'interp',
      'current_frame',
      'base_frame',
      'last_profiled_frame',
      'last_profiled_frame_seq',
      'thread_id',
      'native_thread_id',
      'datastack_chunk',
      'status',
      'holds_gil',
      'gil_requested',
      'current_exception',
      'exc_state',
    ],
  ],
  ['err_stackitem', ['exc_value']],
  [
    'interpreter_frame',
    ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner', 'stackpointer', 'tlbc_index'],
  ],
  [
    'code_object',
    [
      'size',
      'filename',
      'name',
      'qualname',
      'linetable',
      'firstlineno',
      'argcount',
      'localsplusnames',
      'localspluskinds',
      'co_code_adaptive',
      'co_tlbc',
    ],
  ],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags', 'tp_basicsize', 'tp_dictoffset']],
  ['heap_type_object', ['size', 'ht_cached_keys']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['set_object', ['size', 'used', 'table', 'mask']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size', 'compactunicodeobject_size']],
  ['gc', ['size', 'collecting', 'frame', 'generation_stats_size', 'generation_stats']],
  ['gen_object', ['size', 'gi_name', 'gi_iframe', 'gi_frame_state']],
  ['llist_node', ['next', 'prev']],
  [
    'debugger_support',
    [
      'eval_breaker',
      'remote_debugger_support',
      'remote_debugging_enabled',
      'debugger_pending_call',
      'debugger_script_path',
      'debugger_script_path_size',
    ],
  ],
];

/** A value the layout needs that `_Py_DebugOffsets` lacks: a constant, or a decoded member plus a constant. */
type Derived = number | readonly [member: string, add: number];

/** Everything the layout needs beyond `_Py_DebugOffsets`, per version (x86-64 / arm64 builds). */
interface Supplement {
  /** co_flags: the int just before co_argcount (Include/cpython/code.h, _PyCode_DEF). */
  codeFlags: Derived;
  /** co_nlocalsplus: the int just after co_firstlineno (_PyCode_DEF). */
  codeNlocalsplus: Derived;
  /** _co_firsttraceable, counted from co_linetable: the pointers and ints between them in _PyCode_DEF. */
  codeFirstTraceable: Derived;
  /** tp_basicsize: right after tp_name (Include/cpython/object.h, struct _typeobject). */
  tpBasicsize: Derived;
  /** tp_dictoffset: fifteen pointer-sized members after tp_flags (struct _typeobject). */
  tpDictoffset: Derived;
  /** ma_used: two words before ma_keys, with the version / watcher tag between (Include/cpython/dictobject.h). */
  maUsed: Derived;
  /** ma_version_tag, the word before ma_keys; 3.14 made it _ma_watcher_tag, no longer bumped by every change. */
  maVersionTag?: Derived;
  /** ht_cached_keys: after PyTypeObject, the 4+36+3+10+2 slot pointers of as_async … as_buffer, then
   * ht_name, ht_slots, ht_qualname (struct _heaptypeobject in Include/cpython/object.h). */
  htCachedKeys: Derived;
  /** MANAGED_DICT_OFFSET (Include/internal/pycore_object.h): three words before the object, one when free-threaded. */
  managedDictOffset: number;
  /** sizeof(PyCompactUnicodeObject): PyASCIIObject plus utf8_length and utf8 (Include/cpython/unicodeobject.h). */
  compactobjectSize: Derived;
  /** Bit positions of kind, compact and ascii in PyASCIIObject.state (the bit-field order, GCC packing). */
  unicodeState: { kindShift: number; compactBit: number; asciiBit: number };
  /** PYLONG_BITS_IN_DIGIT (Include/pyport.h): 30 wherever a 64-bit integer type exists. */
  digitBits: number;
  /** Lowest enum _frameowner value that is no Python frame (Include/internal/pycore_frame.h / ..._structs.h). */
  ownerCStack: number;
  /** Py_TAG_BITS of _PyStackRef (Include/internal/pycore_stackref.h); absent while f_executable was a plain pointer. */
  executableTagMask?: number;
  /** gi_iframe: in 3.13 after PyObject_HEAD, three pointers, a _PyErr_StackItem (two pointers), a pointer and four
   * chars, rounded up to a pointer (_PyGenObject_HEAD in Include/cpython/genobject.h). */
  genObjectFrame: Derived;
  /** How a suspended frame's value stack ends (Include/internal/pycore_frame.h), and where. */
  valueStackKind: ValueStackKind;
  /** 3.13: stacktop, the int right after instr_ptr. */
  valueStackTop: Derived;
  /** Members that differ in free-threaded (Py_GIL_DISABLED) builds. */
  freeThreaded?: Partial<Omit<Supplement, 'freeThreaded'>>;
}

/** struct _dictkeysobject and struct _dictvalues (Include/internal/pycore_dict.h), unchanged 3.13–3.15:
 * the free-threaded dk_mutex fits in the padding before dk_version. */
const DICT_KEYS: PythonLayout['dictKeys'] = {
  size: 8,
  log2IndexBytes: 9,
  kind: 10,
  nentries: 24,
  indices: 32,
  valuesArray: 8,
  valuesValid: 3,
};

/** Type flags (Include/object.h), the same 3.13–3.15. */
const PY_TPFLAGS_INLINE_VALUES = 1 << 2;
const PY_TPFLAGS_MANAGED_DICT = 1 << 4;

/** interned:2, kind:3, compact:1, ascii:1 from bit 0 of the state word. */
const UNICODE_STATE_BITFIELD = { kindShift: 2, compactBit: 5, asciiBit: 6 };
/** 3.14+ free-threaded: interned became a whole unsigned char, so the bit-fields start at bit 8. */
const UNICODE_STATE_AFTER_INTERNED_BYTE = { kindShift: 8, compactBit: 11, asciiBit: 12 };

const SUPPLEMENT_3_13: Supplement = {
  codeFlags: ['code_object.argcount', -4],
  codeNlocalsplus: ['code_object.firstlineno', 4],
  // co_linetable, co_weakreflist, co_executors, _co_cached, _co_instrumentation_version, _co_monitoring
  codeFirstTraceable: ['code_object.linetable', 48],
  tpBasicsize: ['type_object.tp_name', 8],
  tpDictoffset: ['type_object.tp_flags', 120],
  maUsed: ['dict_object.ma_keys', -16],
  maVersionTag: ['dict_object.ma_keys', -8],
  htCachedKeys: ['type_object.size', 464],
  managedDictOffset: -24,
  compactobjectSize: ['unicode_object.asciiobject_size', 16],
  unicodeState: UNICODE_STATE_BITFIELD,
  digitBits: 30,
  // FRAME_OWNED_BY_CSTACK = 3
  ownerCStack: 3,
  genObjectFrame: ['pyobject.size', 56],
  valueStackKind: 'localsplus-count',
  valueStackTop: ['interpreter_frame.instr_ptr', 8],
  freeThreaded: { managedDictOffset: -8 },
};

const SUPPLEMENT_3_14: Supplement = {
  ...SUPPLEMENT_3_13,
  // 3.14 added _co_unique_id (a Py_ssize_t) before _co_firsttraceable.
  codeFirstTraceable: ['code_object.linetable', 56],
  maVersionTag: undefined,
  // FRAME_OWNED_BY_INTERPRETER = 3, FRAME_OWNED_BY_CSTACK = 4
  ownerCStack: 3,
  executableTagMask: 3,
  // 3.14's own table has the generator frame and the stack pointer (a tagged _PyStackRef pointer past the top).
  genObjectFrame: ['gen_object.gi_iframe', 0],
  valueStackKind: 'stacktop-pointer',
  valueStackTop: ['interpreter_frame.stackpointer', 0],
  freeThreaded: { managedDictOffset: -8, unicodeState: UNICODE_STATE_AFTER_INTERNED_BYTE, executableTagMask: 1 },
};

const SUPPLEMENT_3_15: Supplement = {
  ...SUPPLEMENT_3_14,
  // 3.15's own table has these four.
  tpBasicsize: ['type_object.tp_basicsize', 0],
  tpDictoffset: ['type_object.tp_dictoffset', 0],
  htCachedKeys: ['heap_type_object.ht_cached_keys', 0],
  compactobjectSize: ['unicode_object.compactunicodeobject_size', 0],
  // FRAME_OWNED_BY_INTERPRETER = 3 is the last owner; Py_TAG_BITS is 3 in both builds.
  freeThreaded: { managedDictOffset: -8, unicodeState: UNICODE_STATE_AFTER_INTERNED_BYTE },
};

const VERSIONS: ReadonlyMap<string, { order: MemberOrder; supplement: Supplement }> = new Map([
  ['3.13', { order: ORDER_3_13, supplement: SUPPLEMENT_3_13 }],
  ['3.14', { order: ORDER_3_14, supplement: SUPPLEMENT_3_14 }],
  ['3.15', { order: ORDER_3_15, supplement: SUPPLEMENT_3_15 }],
]);

/** The minor versions whose `_Py_DebugOffsets` hotpath decodes, e.g. ['3.13', '3.14', '3.15']. */
export const DEBUG_OFFSETS_VERSIONS: readonly string[] = [...VERSIONS.keys()];

/** Bytes to read at `_PyRuntime` to cover the largest known `_Py_DebugOffsets`. */
export const DEBUG_OFFSETS_MAX_BYTES = Math.max(...[...VERSIONS.values()].map(({ order }) => orderBytes(order)));

/** `_Py_DebugOffsets` as raw numbers, members named "group.member" as in CPython's header. */
export interface DebugOffsetsTable {
  /** PY_VERSION_HEX of the target. */
  versionHex: number;
  /** e.g. "3.14.10" or "3.15.0a2" */
  versionText: string;
  major: number;
  minor: number;
  freeThreaded: boolean;
  members: Readonly<Record<string, number>>;
}

/** True when the bytes start with the `_Py_DebugOffsets` cookie. */
export function hasDebugOffsetsCookie(buf: Buffer): boolean {
  return buf.length >= COOKIE.length && buf.toString('latin1', 0, COOKIE.length) === COOKIE;
}

/** "3.14.10", "3.15.0a2", "3.13.0rc1" from a PY_VERSION_HEX. */
export function formatVersionHex(hex: number): string {
  const [major, minor, micro] = [(hex >>> 24) & 0xff, (hex >>> 16) & 0xff, (hex >>> 8) & 0xff];
  const level = ({ 0xa: 'a', 0xb: 'b', 0xc: 'rc' } as Record<number, string>)[(hex >>> 4) & 0xf];
  return `${major}.${minor}.${micro}${level ? `${level}${hex & 0xf}` : ''}`;
}

/** Decodes the raw members of `_Py_DebugOffsets` (bytes from the start of `_PyRuntime`). */
export function decodeDebugOffsetsTable(buf: Buffer): DebugOffsetsTable {
  if (!hasDebugOffsetsCookie(buf)) throw new InvalidDataError(`no "${COOKIE}" cookie: not a _Py_DebugOffsets table`);
  if (buf.length < VERSION_OFFSET + MEMBER_BYTES) throw new InvalidDataError('_Py_DebugOffsets cut short');
  const versionHex = u64(buf, VERSION_OFFSET);
  const [major, minor] = [(versionHex >>> 24) & 0xff, (versionHex >>> 16) & 0xff];
  const versionText = formatVersionHex(versionHex);
  const known = VERSIONS.get(`${major}.${minor}`);
  if (!known || versionHex > 0xffff_ffff) {
    throw new HotpathError(
      'unsupported-version',
      `Python ${versionText} (PY_VERSION_HEX 0x${versionHex.toString(16).padStart(8, '0')}) is not supported: hotpath reads the ` +
        `_Py_DebugOffsets of Python ${DEBUG_OFFSETS_VERSIONS[0]}–${DEBUG_OFFSETS_VERSIONS.at(-1)}`,
      'a newer hotpath release may know this version',
    );
  }
  if (buf.length < orderBytes(known.order)) {
    throw new InvalidDataError(`_Py_DebugOffsets of Python ${versionText} needs ${orderBytes(known.order)} bytes`);
  }
  const members = decodeMembers(buf, known.order);
  const table = { versionHex, versionText, major, minor, freeThreaded: members['header.free_threaded'] === 1, members };
  checkPlausible(table);
  return table;
}

/** The layout a 3.13+ target describes in its `_Py_DebugOffsets` (bytes from the start of `_PyRuntime`). */
export function decodeDebugOffsets(buf: Buffer): PythonLayout {
  const table = decodeDebugOffsetsTable(buf);
  const { supplement } = VERSIONS.get(`${table.major}.${table.minor}`)!;
  const layout = buildLayout(table, table.freeThreaded ? { ...supplement, ...supplement.freeThreaded } : supplement);
  const problems = findLayoutProblems(layout);
  if (problems.length > 0) {
    throw new HotpathError(
      'unsupported-version',
      `the _Py_DebugOffsets of Python ${table.versionText} describe structures hotpath cannot read safely ` +
        `(${problems.slice(0, 3).join('; ')})`,
    );
  }
  return layout;
}

/** Reads and decodes `_Py_DebugOffsets` at `_PyRuntime`; undefined when the runtime has none (before 3.13). */
export function readDebugOffsets(reader: MemoryReader, runtimeAddress: number): PythonLayout | undefined {
  const buf = reader.read(runtimeAddress, DEBUG_OFFSETS_MAX_BYTES);
  return hasDebugOffsetsCookie(buf) ? decodeDebugOffsets(buf) : undefined;
}

function orderBytes(order: MemberOrder): number {
  return COOKIE.length + MEMBER_BYTES * order.reduce((count, [, members]) => count + members.length, 0);
}

function decodeMembers(buf: Buffer, order: MemberOrder): Record<string, number> {
  const members: Record<string, number> = {};
  let offset = COOKIE.length;
  for (const [group, names] of order) {
    for (const name of names) {
      members[`${group}.${name}`] = u64(buf, offset);
      offset += MEMBER_BYTES;
    }
  }
  return members;
}

/**
 * Rejects bytes that decode to nonsense, e.g. a pre-release whose member order differs from the release the
 * order above was taken from: in every group that has a size, each member must be an offset inside it.
 */
function checkPlausible(table: DebugOffsetsTable): void {
  const problems: string[] = [];
  const flag = table.members['header.free_threaded']!;
  if (flag > 1) problems.push(`free_threaded is ${flag}`);
  for (const [name, size] of Object.entries(table.members)) {
    if (!name.endsWith('.size')) continue;
    const group = name.slice(0, -'.size'.length);
    if (size === 0 || size > MAX_STRUCT_SIZE) problems.push(`${name} is ${size}`);
    for (const [other, value] of Object.entries(table.members)) {
      const isOffset = other.startsWith(`${group}.`) && other !== name && !SIZE_MEMBERS.has(other);
      if (isOffset && value >= size) problems.push(`${other} is ${value}`);
    }
  }
  if (problems.length > 0) {
    throw new HotpathError(
      'unsupported-version',
      `the _Py_DebugOffsets of Python ${table.versionText} do not have the layout hotpath knows for ` +
        `${table.major}.${table.minor} (${problems.slice(0, 3).join(', ')})`,
      'pre-releases may order this table differently from the release hotpath was built against',
    );
  }
}

function member(table: DebugOffsetsTable, name: string): number {
  const value = table.members[name];
  if (value === undefined) throw new Error(`_Py_DebugOffsets of ${table.major}.${table.minor} has no ${name}`);
  return value;
}

function derive(table: DebugOffsetsTable, value: Derived): number {
  return typeof value === 'number' ? value : member(table, value[0]) + value[1];
}

type Field = readonly [offset: number, width: number];

/** The fields' offsets, plus the bytes one read from offset 0 needs to cover them all (whole words). */
function withCoveringSize<K extends string>(fields: Record<K, Field>): Record<K, number> & { size: number } {
  const entries = Object.entries(fields) as [K, Field][];
  const end = Math.max(...entries.map(([, [offset, width]]) => offset + width));
  const offsets = Object.fromEntries(entries.map(([name, [offset]]) => [name, offset])) as Record<K, number>;
  return { size: Math.ceil(end / 8) * 8, ...offsets };
}

function buildLayout(table: DebugOffsetsTable, supplement: Supplement): PythonLayout {
  const m = (name: string): number => member(table, name);
  const pointer = (name: string): Field => [m(name), 8];
  const int = (value: number): Field => [value, 4];
  const gil = m('interpreter_state.gil_runtime_state');
  return {
    version: [table.major, table.minor],
    source: 'debug-offsets',
    freeThreaded: table.freeThreaded,
    frameModel: 'interpreter-frame',
    currentFrameKind: 'tstate-current-frame',
    lineTableKind: 'location-table',
    instructionKind: 'instruction-pointer',
    gilKind: table.freeThreaded ? 'none' : 'interpreter-gil',
    dictKind: 'dict-311',
    longKind: 'lv-tag',
    instanceDictKind: 'inline-values',
    runtimeState: { interpretersHead: m('runtime_state.interpreters_head') },
    interpreterState: {
      next: m('interpreter_state.next'),
      threadsHead: m('interpreter_state.threads_head'),
      modules: m('interpreter_state.imports_modules'),
      cevalGil: m('interpreter_state.ceval_gil'),
    },
    // The table gives the GIL members as offsets in the interpreter's own _gil; ceval.gil points at such a struct.
    gilRuntimeState: {
      locked: m('interpreter_state.gil_runtime_state_locked') - gil,
      lastHolder: m('interpreter_state.gil_runtime_state_holder') - gil,
    },
    threadState: withCoveringSize({
      prev: pointer('thread_state.prev'),
      next: pointer('thread_state.next'),
      interp: pointer('thread_state.interp'),
      currentFrame: pointer('thread_state.current_frame'),
      threadId: pointer('thread_state.thread_id'),
      nativeThreadId: pointer('thread_state.native_thread_id'),
    }),
    interpreterFrame: {
      ...withCoveringSize({
        previous: pointer('interpreter_frame.previous'),
        executable: pointer('interpreter_frame.executable'),
        instrPtr: pointer('interpreter_frame.instr_ptr'),
        owner: [m('interpreter_frame.owner'), 1],
      }),
      localsplus: m('interpreter_frame.localsplus'),
      ownerCStack: supplement.ownerCStack,
      ...(supplement.executableTagMask !== undefined && { executableTagMask: supplement.executableTagMask }),
    },
    codeObject: {
      ...withCoveringSize({
        filename: pointer('code_object.filename'),
        name: pointer('code_object.name'),
        qualname: pointer('code_object.qualname'),
        firstlineno: int(m('code_object.firstlineno')),
        linetable: pointer('code_object.linetable'),
        firstTraceable: int(derive(table, supplement.codeFirstTraceable)),
        localsplusnames: pointer('code_object.localsplusnames'),
        nlocalsplus: int(derive(table, supplement.codeNlocalsplus)),
        argcount: int(m('code_object.argcount')),
        flags: int(derive(table, supplement.codeFlags)),
      }),
      coCodeAdaptive: m('code_object.co_code_adaptive'),
    },
    pyObject: { obType: m('pyobject.ob_type') },
    typeObject: {
      tpName: m('type_object.tp_name'),
      tpBasicsize: derive(table, supplement.tpBasicsize),
      tpDictoffset: derive(table, supplement.tpDictoffset),
      tpFlags: m('type_object.tp_flags'),
    },
    tupleObject: { obSize: m('tuple_object.ob_size'), obItem: m('tuple_object.ob_item') },
    listObject: { obSize: m('list_object.ob_size'), obItem: m('list_object.ob_item') },
    unicodeObject: {
      length: m('unicode_object.length'),
      state: m('unicode_object.state'),
      asciiobjectSize: m('unicode_object.asciiobject_size'),
      compactobjectSize: derive(table, supplement.compactobjectSize),
      ...supplement.unicodeState,
    },
    bytesObject: { obSize: m('bytes_object.ob_size'), obSval: m('bytes_object.ob_sval') },
    longObject: { size: m('long_object.lv_tag'), digits: m('long_object.ob_digit'), digitBits: supplement.digitBits },
    dictObject: {
      maUsed: derive(table, supplement.maUsed),
      maKeys: m('dict_object.ma_keys'),
      maValues: m('dict_object.ma_values'),
      ...(supplement.maVersionTag !== undefined && { maVersionTag: derive(table, supplement.maVersionTag) }),
    },
    dictKeys: DICT_KEYS,
    heapTypeObject: { htCachedKeys: derive(table, supplement.htCachedKeys) },
    managedDict: {
      flag: PY_TPFLAGS_MANAGED_DICT,
      dictOffset: supplement.managedDictOffset,
      inlineValuesFlag: PY_TPFLAGS_INLINE_VALUES,
    },
    // PyCellObject and PyModuleObject: PyObject_HEAD, then ob_ref / md_dict.
    cellObject: { obRef: m('pyobject.size') },
    moduleObject: { mdDict: m('pyobject.size') },
    floatObject: { obFval: m('float_object.ob_fval') },
    genObject: { frame: derive(table, supplement.genObjectFrame) },
    valueStackKind: supplement.valueStackKind,
    valueStack: { top: derive(table, supplement.valueStackTop) },
  };
}
