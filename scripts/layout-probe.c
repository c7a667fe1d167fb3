/* Prints the PythonLayout of the CPython whose headers it is compiled against (see gen-layouts.sh).
 * With the argument "debug-offsets" (3.13+) it instead prints, as JSON, where each _Py_DebugOffsets member
 * sits inside _PyRuntime, so that a running interpreter can be asked for the values it carries. */
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#if PY_MINOR_VERSION >= 10
#include "internal/pycore_moduleobject.h"
#endif
#if PY_MINOR_VERSION >= 11
#include "internal/pycore_frame.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_object.h"
#endif

#if PY_MAJOR_VERSION != 3 || PY_MINOR_VERSION < 9 || PY_MINOR_VERSION > 13
#error "layout-probe.c knows CPython 3.9 to 3.13"
#endif

#if PY_MINOR_VERSION <= 10
/* Objects/dict-common.h is not installed before 3.11, so its keys header is restated here:
 * dk_refcnt, dk_size, dk_lookup (a function pointer), dk_usable, dk_nentries, then dk_indices. */
struct keys_39 {
  Py_ssize_t dk_refcnt;
  Py_ssize_t dk_size;
  void *dk_lookup;
  Py_ssize_t dk_usable;
  Py_ssize_t dk_nentries;
  char dk_indices[];
};
#define DICT_KEYS struct keys_39
#else
#define DICT_KEYS struct _dictkeysobject
#endif

#if PY_MINOR_VERSION == 9
/* PyModuleObject is private to Objects/moduleobject.c in 3.9; its head is restated here. */
typedef struct {
  PyObject_HEAD
  PyObject *md_dict;
} PyModuleObject;
#endif

#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)
#define MEMBER_END(type, member) (offsetof(type, member) + MEMBER_SIZE(type, member))
#define ROUND_UP_8(n) (((n) + 7) & ~(size_t)7)
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static void print_string(const char *name, const char *value) { printf("  %s: '%s',\n", name, value); }
static void group_begin(const char *name) { printf("  %s: {\n", name); }
static void group_end(void) { printf("  },\n"); }
static void field(const char *name, size_t value) { printf("    %s: %zu,\n", name, value); }
__attribute__((unused)) static void signed_field(const char *name, Py_ssize_t value) { printf("    %s: %zd,\n", name, value); }

/* Index of the lowest bit set in the unicode state word, found by setting a bitfield member on a zeroed
 * object: the compiler, not a guess, decides where each bitfield lands. */
static unsigned lowest_state_bit(const PyASCIIObject *object) {
  uint32_t word;
  memcpy(&word, (const char *)object + offsetof(PyASCIIObject, state), sizeof word);
  for (unsigned bit = 0; bit < 32; bit++) {
    if (word & (1u << bit)) return bit;
  }
  fprintf(stderr, "layout-probe: state member set no bit\n");
  return 32;
}

static void print_kinds(void) {
#ifdef Py_GIL_DISABLED
  printf("  freeThreaded: true,\n");
#else
  printf("  freeThreaded: false,\n");
#endif
#if PY_MINOR_VERSION <= 10
  print_string("frameModel", "frame-object");
  print_string("currentFrameKind", "tstate-frame");
  print_string("lineTableKind", PY_MINOR_VERSION == 9 ? "lnotab" : "linetable-310");
  print_string("instructionKind", PY_MINOR_VERSION == 9 ? "lasti-bytes" : "lasti-units");
#else
  print_string("frameModel", "interpreter-frame");
  print_string("currentFrameKind", PY_MINOR_VERSION <= 12 ? "cframe" : "tstate-current-frame");
  print_string("lineTableKind", "location-table");
  print_string("instructionKind", "instruction-pointer");
#endif
#ifdef Py_GIL_DISABLED
  print_string("gilKind", "none");
#elif PY_MINOR_VERSION <= 11
  print_string("gilKind", "runtime-tstate-current");
#else
  print_string("gilKind", "interpreter-gil");
#endif
  print_string("dictKind", PY_MINOR_VERSION <= 10 ? "dict-39" : "dict-311");
  print_string("longKind", PY_MINOR_VERSION <= 11 ? "ob-size" : "lv-tag");
#if PY_MINOR_VERSION <= 10
  print_string("instanceDictKind", "dict-offset");
#elif PY_MINOR_VERSION == 11
  print_string("instanceDictKind", "managed-values");
#elif PY_MINOR_VERSION == 12
  print_string("instanceDictKind", "dict-or-values");
#else
  print_string("instanceDictKind", "inline-values");
#endif
}

static void print_runtime_and_interpreter(void) {
  group_begin("runtimeState");
  field("interpretersHead", offsetof(_PyRuntimeState, interpreters.head));
#if PY_MINOR_VERSION <= 11
  field("gilstateTstateCurrent", offsetof(_PyRuntimeState, gilstate.tstate_current));
#endif
  group_end();

  group_begin("interpreterState");
  field("next", offsetof(PyInterpreterState, next));
#if PY_MINOR_VERSION <= 10
  field("threadsHead", offsetof(PyInterpreterState, tstate_head));
#else
  field("threadsHead", offsetof(PyInterpreterState, threads.head));
#endif
#if PY_MINOR_VERSION <= 11
  field("modules", offsetof(PyInterpreterState, modules));
#else
  field("modules", offsetof(PyInterpreterState, imports.modules));
  field("cevalGil", offsetof(PyInterpreterState, ceval.gil));
#endif
  group_end();

#if PY_MINOR_VERSION >= 12
  group_begin("gilRuntimeState");
  field("locked", offsetof(struct _gil_runtime_state, locked));
  field("lastHolder", offsetof(struct _gil_runtime_state, last_holder));
  group_end();
#endif
}

static void print_thread_state(void) {
#if PY_MINOR_VERSION <= 10
#define TSTATE_CURRENT_FRAME frame
#elif PY_MINOR_VERSION <= 12
#define TSTATE_CURRENT_FRAME cframe
#else
#define TSTATE_CURRENT_FRAME current_frame
#endif
  size_t end = MAX(MEMBER_END(PyThreadState, TSTATE_CURRENT_FRAME), MEMBER_END(PyThreadState, thread_id));
#if PY_MINOR_VERSION >= 11
  end = MAX(end, MEMBER_END(PyThreadState, native_thread_id));
#endif
  group_begin("threadState");
  field("size", ROUND_UP_8(end));
  field("prev", offsetof(PyThreadState, prev));
  field("next", offsetof(PyThreadState, next));
  field("interp", offsetof(PyThreadState, interp));
  field("currentFrame", offsetof(PyThreadState, TSTATE_CURRENT_FRAME));
#if PY_MINOR_VERSION == 11 || PY_MINOR_VERSION == 12
  field("cframeCurrentFrame", offsetof(_PyCFrame, current_frame));
#endif
  field("threadId", offsetof(PyThreadState, thread_id));
#if PY_MINOR_VERSION >= 11
  field("nativeThreadId", offsetof(PyThreadState, native_thread_id));
#endif
  group_end();
}

static void print_frame(void) {
  group_begin("interpreterFrame");
#if PY_MINOR_VERSION <= 10
  field("size", offsetof(PyFrameObject, f_localsplus));
  field("previous", offsetof(PyFrameObject, f_back));
  field("executable", offsetof(PyFrameObject, f_code));
  field("instrPtr", offsetof(PyFrameObject, f_lasti));
  field("localsplus", offsetof(PyFrameObject, f_localsplus));
#else
  field("size", offsetof(_PyInterpreterFrame, localsplus));
  field("previous", offsetof(_PyInterpreterFrame, previous));
#if PY_MINOR_VERSION <= 12
  field("executable", offsetof(_PyInterpreterFrame, f_code));
  field("instrPtr", offsetof(_PyInterpreterFrame, prev_instr));
#else
  field("executable", offsetof(_PyInterpreterFrame, f_executable));
  field("instrPtr", offsetof(_PyInterpreterFrame, instr_ptr));
#endif
  field("localsplus", offsetof(_PyInterpreterFrame, localsplus));
  field("owner", offsetof(_PyInterpreterFrame, owner));
#if PY_MINOR_VERSION >= 12
  field("ownerCStack", FRAME_OWNED_BY_CSTACK);
#endif
#endif
  group_end();
}

static void print_code(void) {
#if PY_MINOR_VERSION == 9
#define CODE_LINETABLE co_lnotab
#else
#define CODE_LINETABLE co_linetable
#endif
#if PY_MINOR_VERSION <= 10
#define CODE_LOCALSPLUSNAMES co_varnames
#define CODE_NLOCALSPLUS co_nlocals
#else
#define CODE_LOCALSPLUSNAMES co_localsplusnames
#define CODE_NLOCALSPLUS co_nlocalsplus
#endif
  /* co_code_adaptive is where the variable-length bytecode starts, so it is not part of the fixed read. */
  size_t end = MAX(MEMBER_END(PyCodeObject, co_filename), MEMBER_END(PyCodeObject, co_name));
  end = MAX(end, MEMBER_END(PyCodeObject, co_firstlineno));
  end = MAX(end, MEMBER_END(PyCodeObject, CODE_LINETABLE));
  end = MAX(end, MEMBER_END(PyCodeObject, CODE_LOCALSPLUSNAMES));
  end = MAX(end, MEMBER_END(PyCodeObject, CODE_NLOCALSPLUS));
  end = MAX(end, MEMBER_END(PyCodeObject, co_argcount));
  end = MAX(end, MEMBER_END(PyCodeObject, co_flags));
#if PY_MINOR_VERSION >= 11
  end = MAX(end, MEMBER_END(PyCodeObject, co_qualname));
  end = MAX(end, MEMBER_END(PyCodeObject, _co_firsttraceable));
#endif
  group_begin("codeObject");
  field("size", ROUND_UP_8(end));
  field("filename", offsetof(PyCodeObject, co_filename));
  field("name", offsetof(PyCodeObject, co_name));
#if PY_MINOR_VERSION >= 11
  field("qualname", offsetof(PyCodeObject, co_qualname));
#endif
  field("firstlineno", offsetof(PyCodeObject, co_firstlineno));
  field("linetable", offsetof(PyCodeObject, CODE_LINETABLE));
#if PY_MINOR_VERSION >= 11
  field("coCodeAdaptive", offsetof(PyCodeObject, co_code_adaptive));
  field("firstTraceable", offsetof(PyCodeObject, _co_firsttraceable));
#endif
  field("localsplusnames", offsetof(PyCodeObject, CODE_LOCALSPLUSNAMES));
  field("nlocalsplus", offsetof(PyCodeObject, CODE_NLOCALSPLUS));
  field("argcount", offsetof(PyCodeObject, co_argcount));
  field("flags", offsetof(PyCodeObject, co_flags));
#if PY_MINOR_VERSION <= 10
  /* Names of the cell and free slots that follow co_nlocals in f_localsplus. */
  field("cellvars", offsetof(PyCodeObject, co_cellvars));
  field("freevars", offsetof(PyCodeObject, co_freevars));
#endif
  group_end();
}

static void print_unicode(void) {
  PyASCIIObject kind, compact, ascii;
  memset(&kind, 0, sizeof kind);
  memset(&compact, 0, sizeof compact);
  memset(&ascii, 0, sizeof ascii);
  kind.state.kind = 1;
  compact.state.compact = 1;
  ascii.state.ascii = 1;
  group_begin("unicodeObject");
  field("length", offsetof(PyASCIIObject, length));
  field("state", offsetof(PyASCIIObject, state));
  field("asciiobjectSize", sizeof(PyASCIIObject));
  field("compactobjectSize", sizeof(PyCompactUnicodeObject));
  field("kindShift", lowest_state_bit(&kind));
  field("compactBit", lowest_state_bit(&compact));
  field("asciiBit", lowest_state_bit(&ascii));
  group_end();
}

static void print_objects(void) {
  group_begin("pyObject");
  field("obType", offsetof(PyObject, ob_type));
  group_end();

  group_begin("typeObject");
  field("tpName", offsetof(PyTypeObject, tp_name));
  field("tpBasicsize", offsetof(PyTypeObject, tp_basicsize));
  field("tpDictoffset", offsetof(PyTypeObject, tp_dictoffset));
  field("tpFlags", offsetof(PyTypeObject, tp_flags));
  group_end();

  group_begin("tupleObject");
  field("obSize", offsetof(PyTupleObject, ob_base.ob_size));
  field("obItem", offsetof(PyTupleObject, ob_item));
  group_end();

  group_begin("listObject");
  field("obSize", offsetof(PyListObject, ob_base.ob_size));
  field("obItem", offsetof(PyListObject, ob_item));
  group_end();

  print_unicode();

  group_begin("bytesObject");
  field("obSize", offsetof(PyBytesObject, ob_base.ob_size));
  field("obSval", offsetof(PyBytesObject, ob_sval));
  group_end();

  group_begin("longObject");
#if PY_MINOR_VERSION <= 11
  field("size", offsetof(PyLongObject, ob_base.ob_size));
  field("digits", offsetof(PyLongObject, ob_digit));
#else
  field("size", offsetof(PyLongObject, long_value.lv_tag));
  field("digits", offsetof(PyLongObject, long_value.ob_digit));
#endif
  field("digitBits", PyLong_SHIFT);
  group_end();
}

static void print_dict(void) {
  group_begin("dictObject");
  field("maUsed", offsetof(PyDictObject, ma_used));
  field("maKeys", offsetof(PyDictObject, ma_keys));
  field("maValues", offsetof(PyDictObject, ma_values));
  /* Deprecated from 3.12 but still maintained on every mutation. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  field("maVersionTag", offsetof(PyDictObject, ma_version_tag));
#pragma GCC diagnostic pop
  group_end();

  group_begin("dictKeys");
#if PY_MINOR_VERSION <= 10
  field("size", offsetof(DICT_KEYS, dk_size));
#else
  field("size", offsetof(DICT_KEYS, dk_log2_size));
  field("log2IndexBytes", offsetof(DICT_KEYS, dk_log2_index_bytes));
  field("kind", offsetof(DICT_KEYS, dk_kind));
#endif
  field("nentries", offsetof(DICT_KEYS, dk_nentries));
  field("indices", offsetof(DICT_KEYS, dk_indices));
#if PY_MINOR_VERSION <= 10
  /* ma_values is a plain PyObject** array. */
  field("valuesArray", 0);
#else
  field("valuesArray", offsetof(PyDictValues, values));
#endif
#if PY_MINOR_VERSION >= 13
  field("valuesValid", offsetof(PyDictValues, valid));
#endif
  group_end();
}

/* Where instance attributes live: the heap type's shared keys and, from 3.11, the managed dict slots. The
 * negative offsets restate _PyObject_ValuesPointer (3.11) and _PyObject_DictOrValuesPointer (3.12), which
 * are inline functions, not macros. */
static void print_instance_dicts(void) {
  group_begin("heapTypeObject");
  field("htCachedKeys", offsetof(PyHeapTypeObject, ht_cached_keys));
  group_end();
#if PY_MINOR_VERSION >= 11
  group_begin("managedDict");
  field("flag", Py_TPFLAGS_MANAGED_DICT);
#if PY_MINOR_VERSION == 11
  signed_field("dictOffset", MANAGED_DICT_OFFSET);
  signed_field("valuesOffset", -4 * (Py_ssize_t)sizeof(PyObject *));
#elif PY_MINOR_VERSION == 12
  signed_field("dictOffset", -3 * (Py_ssize_t)sizeof(PyObject *));
#else
  signed_field("dictOffset", MANAGED_DICT_OFFSET);
  field("inlineValuesFlag", Py_TPFLAGS_INLINE_VALUES);
#endif
  group_end();
#endif
  group_begin("cellObject");
  field("obRef", offsetof(PyCellObject, ob_ref));
  group_end();
  group_begin("moduleObject");
  field("mdDict", offsetof(PyModuleObject, md_dict));
  group_end();
  group_begin("floatObject");
  field("obFval", offsetof(PyFloatObject, ob_fval));
  group_end();
}

/* Coroutines: where a coroutine's frame is, and where a suspended frame's value stack ends, whose top is what
 * the coroutine awaits (what _PyGen_yf peeks at). */
static void print_generators(void) {
  group_begin("genObject");
#if PY_MINOR_VERSION <= 10
  field("frame", offsetof(PyGenObject, gi_frame));
#else
  field("frame", offsetof(PyGenObject, gi_iframe));
#endif
  group_end();
#if PY_MINOR_VERSION == 9
  print_string("valueStackKind", "stacktop-pointer");
  group_begin("valueStack");
  field("top", offsetof(PyFrameObject, f_stacktop));
#elif PY_MINOR_VERSION == 10
  print_string("valueStackKind", "valuestack-depth");
  group_begin("valueStack");
  field("top", offsetof(PyFrameObject, f_stackdepth));
  field("base", offsetof(PyFrameObject, f_valuestack));
#else
  print_string("valueStackKind", "localsplus-count");
  group_begin("valueStack");
  field("top", offsetof(_PyInterpreterFrame, stacktop));
#endif
  group_end();
}

static void print_layout(void) {
  printf("{\n");
  printf("  version: [%d, %d],\n", PY_MAJOR_VERSION, PY_MINOR_VERSION);
  print_string("source", "table");
  print_kinds();
  print_runtime_and_interpreter();
  print_thread_state();
  print_frame();
  print_code();
  print_objects();
  print_dict();
  print_instance_dicts();
  print_generators();
  printf("}");
}

#if PY_MINOR_VERSION >= 13
#define DEBUG_OFFSET(group, member)                                                                            \
  printf(",\n  \"%s.%s\": %zu", #group, #member,                                                               \
         offsetof(_PyRuntimeState, debug_offsets) + offsetof(_Py_DebugOffsets, group.member))

/* Every member of _Py_DebugOffsets after the cookie, each a uint64_t, as "group.member": offset in _PyRuntime. */
static void print_debug_offset_positions(void) {
  printf("{\n  \"version\": %zu", offsetof(_PyRuntimeState, debug_offsets) + offsetof(_Py_DebugOffsets, version));
  printf(",\n  \"free_threaded\": %zu",
         offsetof(_PyRuntimeState, debug_offsets) + offsetof(_Py_DebugOffsets, free_threaded));
  DEBUG_OFFSET(runtime_state, size);
  DEBUG_OFFSET(runtime_state, finalizing);
  DEBUG_OFFSET(runtime_state, interpreters_head);
  DEBUG_OFFSET(interpreter_state, size);
  DEBUG_OFFSET(interpreter_state, id);
  DEBUG_OFFSET(interpreter_state, next);
  DEBUG_OFFSET(interpreter_state, threads_head);
  DEBUG_OFFSET(interpreter_state, gc);
  DEBUG_OFFSET(interpreter_state, imports_modules);
  DEBUG_OFFSET(interpreter_state, sysdict);
  DEBUG_OFFSET(interpreter_state, builtins);
  DEBUG_OFFSET(interpreter_state, ceval_gil);
  DEBUG_OFFSET(interpreter_state, gil_runtime_state);
  DEBUG_OFFSET(interpreter_state, gil_runtime_state_enabled);
  DEBUG_OFFSET(interpreter_state, gil_runtime_state_locked);
  DEBUG_OFFSET(interpreter_state, gil_runtime_state_holder);
  DEBUG_OFFSET(thread_state, size);
  DEBUG_OFFSET(thread_state, prev);
  DEBUG_OFFSET(thread_state, next);
  DEBUG_OFFSET(thread_state, interp);
  DEBUG_OFFSET(thread_state, current_frame);
  DEBUG_OFFSET(thread_state, thread_id);
  DEBUG_OFFSET(thread_state, native_thread_id);
  DEBUG_OFFSET(thread_state, datastack_chunk);
  DEBUG_OFFSET(thread_state, status);
  DEBUG_OFFSET(interpreter_frame, size);
  DEBUG_OFFSET(interpreter_frame, previous);
  DEBUG_OFFSET(interpreter_frame, executable);
  DEBUG_OFFSET(interpreter_frame, instr_ptr);
  DEBUG_OFFSET(interpreter_frame, localsplus);
  DEBUG_OFFSET(interpreter_frame, owner);
  DEBUG_OFFSET(code_object, size);
  DEBUG_OFFSET(code_object, filename);
  DEBUG_OFFSET(code_object, name);
  DEBUG_OFFSET(code_object, qualname);
  DEBUG_OFFSET(code_object, linetable);
  DEBUG_OFFSET(code_object, firstlineno);
  DEBUG_OFFSET(code_object, argcount);
  DEBUG_OFFSET(code_object, localsplusnames);
  DEBUG_OFFSET(code_object, localspluskinds);
  DEBUG_OFFSET(code_object, co_code_adaptive);
  DEBUG_OFFSET(pyobject, size);
  DEBUG_OFFSET(pyobject, ob_type);
  DEBUG_OFFSET(type_object, size);
  DEBUG_OFFSET(type_object, tp_name);
  DEBUG_OFFSET(type_object, tp_repr);
  DEBUG_OFFSET(type_object, tp_flags);
  DEBUG_OFFSET(tuple_object, size);
  DEBUG_OFFSET(tuple_object, ob_item);
  DEBUG_OFFSET(tuple_object, ob_size);
  DEBUG_OFFSET(list_object, size);
  DEBUG_OFFSET(list_object, ob_item);
  DEBUG_OFFSET(list_object, ob_size);
  DEBUG_OFFSET(dict_object, size);
  DEBUG_OFFSET(dict_object, ma_keys);
  DEBUG_OFFSET(dict_object, ma_values);
  DEBUG_OFFSET(float_object, size);
  DEBUG_OFFSET(float_object, ob_fval);
  DEBUG_OFFSET(long_object, size);
  DEBUG_OFFSET(long_object, lv_tag);
  DEBUG_OFFSET(long_object, ob_digit);
  DEBUG_OFFSET(bytes_object, size);
  DEBUG_OFFSET(bytes_object, ob_size);
  DEBUG_OFFSET(bytes_object, ob_sval);
  DEBUG_OFFSET(unicode_object, size);
  DEBUG_OFFSET(unicode_object, state);
  DEBUG_OFFSET(unicode_object, length);
  DEBUG_OFFSET(unicode_object, asciiobject_size);
  DEBUG_OFFSET(gc, size);
  DEBUG_OFFSET(gc, collecting);
  printf("\n}\n");
}
#endif

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "debug-offsets") == 0) {
#if PY_MINOR_VERSION >= 13
    print_debug_offset_positions();
    return 0;
#else
    fprintf(stderr, "layout-probe: _Py_DebugOffsets exists from CPython 3.13\n");
    return 2;
#endif
  }
  print_layout();
  return 0;
}
