// Walks one thread's Python frames, innermost first: PyFrameObject chains (3.9–3.10) and
// _PyInterpreterFrame chains (3.11+), skipping C-stack shims and not-yet-started frames.
// Chains are bounded and cycle-checked, so torn memory cannot loop forever.

import { InvalidDataError } from '../errors/index.js';
import { i32, isPlausiblePointer, u64, u8, type MemoryReader } from '../proc/index.js';
import type { CodeInfo, CodeReader } from './code-objects.js';
import type { PythonLayout } from './layout.js';

export const MAX_STACK_DEPTH = 4096;

/** _PyInterpreterFrame owner values, the same from 3.11 on. */
const FRAME_OWNED_BY_THREAD = 0;
const FRAME_OWNED_BY_GENERATOR = 1;

export interface PyFrame {
  /** Qualified name where the version has one (3.11+), else the plain function name. */
  name: string;
  file: string;
  line: number;
  firstLine: number;
  /** Address of the frame, for reading its locals. */
  frameAddress: number;
  code: CodeInfo;
}

export interface FrameWalk {
  frames: PyFrame[];
  /** The chain was longer than MAX_STACK_DEPTH; the outermost frames are missing. */
  truncated: boolean;
}

export function walkFrames(
  reader: MemoryReader,
  layout: PythonLayout,
  codes: CodeReader,
  innermost: number,
  maxDepth = MAX_STACK_DEPTH,
): FrameWalk {
  const f = layout.interpreterFrame;
  const frames: PyFrame[] = [];
  const visited = new Set<number>();
  let address = innermost;
  while (address !== 0) {
    if (frames.length >= maxDepth) return { frames, truncated: true };
    if (!isPlausiblePointer(address) || visited.has(address)) throw new InvalidDataError('bad frame chain');
    visited.add(address);
    const frame = reader.read(address, f.size);
    const previous = u64(frame, f.previous);
    const decoded = decodeFrame(layout, codes, address, frame);
    if (decoded) frames.push(decoded);
    address = previous;
  }
  return { frames, truncated: false };
}

/** The code object a frame runs, read on its own: to tell whether a frame was reused while a stack was read. */
export function readFrameCodeAddress(reader: MemoryReader, layout: PythonLayout, frame: number): number {
  return decodeCodeAddress(layout, reader.read(frame + layout.interpreterFrame.executable, 8), 0);
}

/** f_code / f_executable, without the tag bits it carries from 3.14. */
function decodeCodeAddress(layout: PythonLayout, bytes: Buffer, offset: number): number {
  const mask = layout.interpreterFrame.executableTagMask;
  const pointer = u64(bytes, offset);
  return mask ? pointer - (pointer % (mask + 1)) : pointer;
}

function decodeFrame(layout: PythonLayout, codes: CodeReader, address: number, frame: Buffer): PyFrame | undefined {
  const f = layout.interpreterFrame;
  const owner = f.owner !== undefined ? u8(frame, f.owner) : FRAME_OWNED_BY_THREAD;
  if (f.ownerCStack !== undefined && owner >= f.ownerCStack) return undefined;
  const codeAddress = decodeCodeAddress(layout, frame, f.executable);
  if (codeAddress === 0) return undefined;
  let code = codes.read(codeAddress);
  let instruction: number;
  if (layout.instructionKind === 'instruction-pointer') {
    instruction = u64(frame, f.instrPtr);
    if (instruction < code.codeStart || instruction >= code.codeEnd) {
      // A cached code object that disagrees with the frame may be a reused address: re-read it once.
      codes.invalidate(codeAddress);
      code = codes.read(codeAddress);
      if (instruction < code.codeStart - 2 || instruction >= code.codeEnd) {
        throw new InvalidDataError('instruction pointer outside its code object');
      }
    }
    // A frame whose first traceable instruction has not run yet is still being set up (_PyFrame_IsIncomplete).
    if (owner !== FRAME_OWNED_BY_GENERATOR && instruction < code.codeStart + code.firstTraceable * 2) return undefined;
  } else {
    instruction = i32(frame, f.instrPtr);
  }
  return {
    name: code.qualname,
    file: code.filename,
    line: codes.lineFor(code, instruction),
    firstLine: code.firstLine,
    frameAddress: address,
    code,
  };
}
