// Checks that a layout is safe to decode with: every field lies inside the bytes the decoders read for its
// struct. Generated tables pass by construction; a layout built from a target's own _Py_DebugOffsets is data
// from the target, and one that fails here would make decoders read outside their buffers.
import type { PythonLayout } from './layout.js';

/** Thread states, frames and code objects are read whole on every sample: real ones are a few hundred bytes. */
const MAX_STRUCT_READ = 64 * 1024;

/** A field of `width` bytes at `offset` must fit in the `readBytes` the decoder reads for its struct. */
type FieldCheck = [name: string, offset: number | undefined, width: number, readBytes: number];

/** Every field-in-struct constraint the decoders rely on, as [field, offset, width, bytes read]. */
function fieldChecks(l: PythonLayout): FieldCheck[] {
  const t = l.threadState;
  const f = l.interpreterFrame;
  const c = l.codeObject;
  const codeRead = c.size + 8;
  const u = l.unicodeObject;
  const k = l.dictKeys;
  return [
    ...(['prev', 'next', 'interp', 'currentFrame', 'threadId', 'nativeThreadId'] as const).map((name): FieldCheck => [
      `threadState.${name}`,
      t[name],
      8,
      t.size,
    ]),
    ['interpreterFrame.previous', f.previous, 8, f.size],
    ['interpreterFrame.executable', f.executable, 8, f.size],
    ['interpreterFrame.instrPtr', f.instrPtr, l.instructionKind === 'instruction-pointer' ? 8 : 4, f.size],
    ['interpreterFrame.owner', f.owner, 1, f.size],
    ['pyObject.obType (in a code object)', l.pyObject.obType, 8, codeRead],
    ['codeObject.ob_size', 16, 8, codeRead],
    ...(['filename', 'name', 'qualname', 'linetable', 'localsplusnames'] as const).map((name): FieldCheck => [
      `codeObject.${name}`,
      c[name],
      8,
      codeRead,
    ]),
    ...(['firstlineno', 'firstTraceable', 'nlocalsplus', 'argcount', 'flags'] as const).map((name): FieldCheck => [
      `codeObject.${name}`,
      c[name],
      4,
      codeRead,
    ]),
    ['unicodeObject.length', u.length, 8, u.compactobjectSize],
    ['unicodeObject.state', u.state, 4, u.compactobjectSize],
    ['unicodeObject.asciiobjectSize', u.asciiobjectSize, 0, u.compactobjectSize],
    ['bytesObject.obSize', l.bytesObject.obSize, 8, l.bytesObject.obSval],
    ['tupleObject.obSize', l.tupleObject.obSize, 8, l.tupleObject.obItem + 8],
    ['listObject.obSize', l.listObject.obSize, 8, l.listObject.obItem + 8],
    ['longObject.size', l.longObject.size, 8, l.longObject.digits + 12],
    ['dictKeys.size', k.size, l.dictKind === 'dict-39' ? 8 : 1, k.indices],
    ['dictKeys.log2IndexBytes', k.log2IndexBytes, 1, k.indices],
    ['dictKeys.kind', k.kind, 1, k.indices],
    ['dictKeys.nentries', k.nentries, 8, k.indices],
    ['dictKeys.valuesValid', k.valuesValid, 1, k.valuesArray],
  ];
}

/** Why the layout is unsafe, one line per problem; empty when every field fits. */
export function findLayoutProblems(layout: PythonLayout): string[] {
  const problems: string[] = [];
  for (const [name, offset, width, readBytes] of fieldChecks(layout)) {
    if (offset === undefined) continue;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(readBytes) || offset < 0 || offset + width > readBytes) {
      problems.push(`${name} at ${offset} (+${width}) is outside the ${readBytes} bytes read`);
    }
  }
  const wholeReads: Array<[string, number]> = [
    ['threadState.size', layout.threadState.size],
    ['interpreterFrame.size', layout.interpreterFrame.size],
    ['codeObject.size', layout.codeObject.size],
  ];
  for (const [name, size] of wholeReads) {
    if (size > MAX_STRUCT_READ) problems.push(`${name} is ${size}, more than the ${MAX_STRUCT_READ} bytes allowed`);
  }
  if (
    layout.unicodeObject.kindShift > 29 ||
    layout.unicodeObject.compactBit > 31 ||
    layout.unicodeObject.asciiBit > 31
  ) {
    problems.push('unicodeObject state bits are outside its 32-bit state word');
  }
  return problems;
}
