// Invariants of the generated CPython layout tables, and the 3.13 table against the _Py_DebugOffsets that a
// live CPython 3.13.0 carried (snapshot written by scripts/gen-layouts.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PythonLayout } from '../../src/cpython/layout.js';
import { findTableLayout, tableLayouts } from '../../src/cpython/layouts/index.js';

type Group = Record<string, number | undefined>;

/** Members that are pointers or Py_ssize_t: 8 bytes wide, so 8-aligned. */
const pointerFields: Record<string, readonly string[]> = {
  runtimeState: ['interpretersHead', 'gilstateTstateCurrent'],
  interpreterState: ['next', 'threadsHead', 'modules', 'cevalGil'],
  gilRuntimeState: ['lastHolder'],
  threadState: ['prev', 'next', 'interp', 'currentFrame', 'threadId', 'nativeThreadId'],
  interpreterFrame: ['previous', 'executable', 'localsplus'],
  codeObject: ['filename', 'name', 'qualname', 'linetable', 'localsplusnames'],
  pyObject: ['obType'],
  typeObject: ['tpName', 'tpBasicsize', 'tpDictoffset', 'tpFlags'],
  tupleObject: ['obSize', 'obItem'],
  listObject: ['obSize', 'obItem'],
  unicodeObject: ['length'],
  bytesObject: ['obSize'],
  longObject: ['size'],
  dictObject: ['maUsed', 'maKeys', 'maValues'],
  dictKeys: ['nentries', 'indices'],
};

/** Members that are C ints: 4-aligned. */
const intFields: Record<string, readonly string[]> = {
  gilRuntimeState: ['locked'],
  codeObject: ['firstlineno', 'nlocalsplus', 'argcount', 'flags', 'firstTraceable'],
  unicodeObject: ['state'],
};

const expectedKinds = {
  '3.9': ['frame-object', 'tstate-frame', 'lnotab', 'lasti-bytes', 'runtime-tstate-current', 'dict-39', 'ob-size'],
  '3.10': [
    'frame-object',
    'tstate-frame',
    'linetable-310',
    'lasti-units',
    'runtime-tstate-current',
    'dict-39',
    'ob-size',
  ],
  '3.11': [
    'interpreter-frame',
    'cframe',
    'location-table',
    'instruction-pointer',
    'runtime-tstate-current',
    'dict-311',
    'ob-size',
  ],
  '3.12': [
    'interpreter-frame',
    'cframe',
    'location-table',
    'instruction-pointer',
    'interpreter-gil',
    'dict-311',
    'lv-tag',
  ],
  '3.13': [
    'interpreter-frame',
    'tstate-current-frame',
    'location-table',
    'instruction-pointer',
    'interpreter-gil',
    'dict-311',
    'lv-tag',
  ],
};

function group(layout: PythonLayout, name: string): Group {
  return ((layout as unknown as Record<string, Group | undefined>)[name] ?? {}) as Group;
}

function definedOffsets(layout: PythonLayout, fields: Record<string, readonly string[]>): [string, number][] {
  return Object.entries(fields).flatMap(([groupName, names]) =>
    names.flatMap((name) => {
      const offset = group(layout, groupName)[name];
      return offset === undefined ? [] : [[`${groupName}.${name}`, offset] as [string, number]];
    }),
  );
}

test('tables exist for 3.9 to 3.13 and are found by version', () => {
  assert.deepEqual([...tableLayouts.keys()], ['3.9', '3.10', '3.11', '3.12', '3.13']);
  for (const [key, layout] of tableLayouts) {
    assert.equal(layout.version.join('.'), key);
    assert.equal(findTableLayout(layout.version[0], layout.version[1]), layout);
    assert.equal(layout.source, 'table');
    assert.equal(layout.freeThreaded, false);
  }
  assert.equal(findTableLayout(3, 8), undefined);
  assert.equal(findTableLayout(3, 14), undefined);
  assert.equal(findTableLayout(2, 7), undefined);
});

for (const [key, layout] of tableLayouts) {
  test(`${key}: behaviour kinds match the CPython version`, () => {
    const kinds = [
      layout.frameModel,
      layout.currentFrameKind,
      layout.lineTableKind,
      layout.instructionKind,
      layout.gilKind,
      layout.dictKind,
      layout.longKind,
    ];
    assert.deepEqual(kinds, expectedKinds[key as keyof typeof expectedKinds]);
  });

  test(`${key}: every offset is a small integer (negative only before the object), pointers 8-aligned and ints 4-aligned`, () => {
    for (const [name, value] of Object.entries(layout)) {
      if (typeof value !== 'object' || Array.isArray(value)) continue;
      // Managed dict and values pointers sit in the pre-header, just before the object.
      const lowest = name === 'managedDict' ? -64 : 0;
      for (const [field, offset] of Object.entries(value as Group)) {
        assert.ok(
          offset !== undefined && Number.isInteger(offset) && offset >= lowest && offset < 8192,
          `${name}.${field}`,
        );
      }
    }
    for (const [name, offset] of definedOffsets(layout, pointerFields)) assert.equal(offset % 8, 0, name);
    for (const [name, offset] of definedOffsets(layout, intFields)) assert.equal(offset % 4, 0, name);
  });

  test(`${key}: pointer members of one struct never share an offset`, () => {
    for (const [groupName, names] of Object.entries(pointerFields)) {
      const offsets = names.map((name) => group(layout, groupName)[name]).filter((offset) => offset !== undefined);
      assert.equal(new Set(offsets).size, offsets.length, `${groupName}: ${offsets.join(', ')}`);
    }
  });

  test(`${key}: read sizes cover the fields they are meant to cover`, () => {
    const thread = layout.threadState;
    const threadEnd = Math.max(thread.prev, thread.next, thread.interp, thread.currentFrame, thread.threadId) + 8;
    assert.ok(thread.size >= Math.max(threadEnd, (thread.nativeThreadId ?? 0) + 8));
    assert.ok(thread.size <= 512, `threadState.size ${thread.size}`);
    const frame = layout.interpreterFrame;
    assert.equal(frame.size, frame.localsplus);
    assert.ok(frame.size > Math.max(frame.previous, frame.executable, frame.instrPtr, frame.owner ?? 0));
    const code = layout.codeObject;
    const codePointers = [code.filename, code.name, code.qualname ?? 0, code.linetable, code.localsplusnames];
    assert.ok(code.size >= Math.max(...codePointers) + 8);
    assert.ok(code.size >= Math.max(code.firstlineno, code.argcount, code.flags, code.nlocalsplus) + 4);
    assert.ok(code.coCodeAdaptive === undefined || code.coCodeAdaptive >= code.size - 8);
  });

  test(`${key}: optional groups are present exactly for the kinds that read them`, () => {
    const gilFromRuntime = layout.gilKind === 'runtime-tstate-current';
    assert.equal(layout.runtimeState.gilstateTstateCurrent !== undefined, gilFromRuntime);
    const gilFromInterpreter = layout.gilKind === 'interpreter-gil';
    assert.equal(layout.interpreterState.cevalGil !== undefined, gilFromInterpreter);
    assert.equal(layout.gilRuntimeState !== undefined, gilFromInterpreter);
    assert.equal(layout.threadState.cframeCurrentFrame !== undefined, layout.currentFrameKind === 'cframe');
    const frameObjects = layout.frameModel === 'frame-object';
    assert.equal(layout.interpreterFrame.owner === undefined, frameObjects);
    assert.equal(layout.threadState.nativeThreadId === undefined, frameObjects);
    assert.equal(layout.codeObject.qualname === undefined, frameObjects);
    assert.equal(layout.codeObject.coCodeAdaptive === undefined, frameObjects);
    assert.equal(layout.codeObject.firstTraceable === undefined, frameObjects);
    assert.equal(layout.dictKeys.log2IndexBytes !== undefined, layout.dictKind === 'dict-311');
    assert.equal(layout.dictKeys.kind !== undefined, layout.dictKind === 'dict-311');
    assert.equal(layout.interpreterFrame.executableTagMask, undefined);
  });

  test(`${key}: object layouts`, () => {
    assert.equal(layout.pyObject.obType, 8);
    assert.equal(layout.longObject.digitBits, 30);
    assert.equal(layout.longObject.digits, layout.longObject.size + 8);
    const unicode = layout.unicodeObject;
    assert.deepEqual([unicode.kindShift, unicode.compactBit, unicode.asciiBit], [2, 5, 6]);
    assert.ok(unicode.compactobjectSize > unicode.asciiobjectSize);
    assert.ok(unicode.asciiobjectSize > unicode.state);
    assert.ok(layout.bytesObject.obSval > layout.bytesObject.obSize);
    const valuesArray = layout.version[1] >= 13 ? 8 : 0;
    assert.equal(layout.dictKeys.valuesArray, valuesArray);
  });
}

test('3.11 has no C-stack owner; 3.12 and 3.13 mark shim frames with owner 3', () => {
  assert.equal(findTableLayout(3, 11)?.interpreterFrame.ownerCStack, undefined);
  assert.equal(findTableLayout(3, 12)?.interpreterFrame.ownerCStack, 3);
  assert.equal(findTableLayout(3, 13)?.interpreterFrame.ownerCStack, 3);
});

interface DebugSnapshot {
  python: string;
  cookie: string;
  version: number;
  free_threaded: number;
}

/** The snapshot's header, and its groups (runtime_state, thread_state, …) of member offsets. */
function readDebugOffsets(): [DebugSnapshot, Record<string, Record<string, number>>] {
  const path = new URL('../../../test/fixtures/debug-offsets-3.13.json', import.meta.url);
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  return [parsed as DebugSnapshot, parsed as Record<string, Record<string, number>>];
}

test('3.13 table equals the _Py_DebugOffsets of a live CPython 3.13.0 where they overlap', () => {
  const [snapshot, debug] = readDebugOffsets();
  const layout = findTableLayout(3, 13)!;
  assert.equal(snapshot.cookie, 'xdebugpy');
  assert.equal(snapshot.python, '3.13.0');
  assert.equal(snapshot.version >>> 16, 0x030d);
  const is = debug.interpreter_state;
  const ts = debug.thread_state;
  const frame = debug.interpreter_frame;
  const code = debug.code_object;
  const ours = {
    interpretersHead: layout.runtimeState.interpretersHead,
    interpNext: layout.interpreterState.next,
    threadsHead: layout.interpreterState.threadsHead,
    modules: layout.interpreterState.modules,
    cevalGil: layout.interpreterState.cevalGil,
    gilLocked: layout.gilRuntimeState?.locked,
    gilHolder: layout.gilRuntimeState?.lastHolder,
    tstate: [layout.threadState.prev, layout.threadState.next, layout.threadState.interp],
    currentFrame: layout.threadState.currentFrame,
    threadIds: [layout.threadState.threadId, layout.threadState.nativeThreadId],
    frame: [layout.interpreterFrame.previous, layout.interpreterFrame.executable, layout.interpreterFrame.instrPtr],
    frameTail: [layout.interpreterFrame.localsplus, layout.interpreterFrame.owner],
    codeNames: [layout.codeObject.filename, layout.codeObject.name, layout.codeObject.qualname],
    codeRest: [
      layout.codeObject.linetable,
      layout.codeObject.firstlineno,
      layout.codeObject.argcount,
      layout.codeObject.localsplusnames,
      layout.codeObject.coCodeAdaptive,
    ],
    obType: layout.pyObject.obType,
    type: [layout.typeObject.tpName, layout.typeObject.tpFlags],
    tuple: [layout.tupleObject.obItem, layout.tupleObject.obSize],
    list: [layout.listObject.obItem, layout.listObject.obSize],
    dict: [layout.dictObject.maKeys, layout.dictObject.maValues],
    long: [layout.longObject.size, layout.longObject.digits],
    bytes: [layout.bytesObject.obSize, layout.bytesObject.obSval],
    unicode: [layout.unicodeObject.state, layout.unicodeObject.length, layout.unicodeObject.asciiobjectSize],
    freeThreaded: layout.freeThreaded,
  };
  const theirs = {
    interpretersHead: debug.runtime_state.interpreters_head,
    interpNext: is.next,
    threadsHead: is.threads_head,
    modules: is.imports_modules,
    cevalGil: is.ceval_gil,
    gilLocked: is.gil_runtime_state_locked - is.gil_runtime_state,
    gilHolder: is.gil_runtime_state_holder - is.gil_runtime_state,
    tstate: [ts.prev, ts.next, ts.interp],
    currentFrame: ts.current_frame,
    threadIds: [ts.thread_id, ts.native_thread_id],
    frame: [frame.previous, frame.executable, frame.instr_ptr],
    frameTail: [frame.localsplus, frame.owner],
    codeNames: [code.filename, code.name, code.qualname],
    codeRest: [code.linetable, code.firstlineno, code.argcount, code.localsplusnames, code.co_code_adaptive],
    obType: debug.pyobject.ob_type,
    type: [debug.type_object.tp_name, debug.type_object.tp_flags],
    tuple: [debug.tuple_object.ob_item, debug.tuple_object.ob_size],
    list: [debug.list_object.ob_item, debug.list_object.ob_size],
    dict: [debug.dict_object.ma_keys, debug.dict_object.ma_values],
    long: [debug.long_object.lv_tag, debug.long_object.ob_digit],
    bytes: [debug.bytes_object.ob_size, debug.bytes_object.ob_sval],
    unicode: [debug.unicode_object.state, debug.unicode_object.length, debug.unicode_object.asciiobject_size],
    freeThreaded: snapshot.free_threaded !== 0,
  };
  assert.deepEqual(ours, theirs);
  // CPython's sizes are whole structs; ours stop after the last field hotpath reads.
  assert.ok(layout.threadState.size <= ts.size);
  assert.ok(layout.interpreterFrame.size <= frame.size);
  assert.ok(layout.codeObject.size <= code.size);
});
