// Walks one thread's Python frames, innermost first: PyFrameObject chains (3.9–3.10) and
// _PyInterpreterFrame chains (3.11+), skipping C-stack shims and not-yet-started frames.
// Chains are bounded and cycle-checked, so torn memory cannot loop forever. Frames are decoded in place
// from one view per page, so a walk allocates no buffer per frame.

import { InvalidDataError, MemoryReadError } from '../errors/index.js';
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
  // Brent's cycle check: a chain that comes back to the frame saved at the last power-of-two step loops.
  let saved = 0;
  let stepsSinceSaved = 0;
  let nextSave = 1;
  const window = new FrameWindow(reader, f.size);
  let address = innermost;
  while (address !== 0) {
    if (frames.length >= maxDepth) return { frames, truncated: true };
    if (!isPlausiblePointer(address) || address === saved) throw new InvalidDataError('bad frame chain');
    if (++stepsSinceSaved === nextSave) {
      saved = address;
      stepsSinceSaved = 0;
      nextSave *= 2;
    }
    const at = window.offsetOf(address);
    const previous = u64(window.bytes, at + f.previous);
    const decoded = decodeFrame(layout, codes, address, window.bytes, at);
    if (decoded) frames.push(decoded);
    address = previous;
  }
  return { frames, truncated: false };
}

const PAGE = 4096;

/**
 * One view of target memory that serves several frames: read from the start of a frame's page when the frame
 * fits in it, so that it also holds the callers just below (3.11+ pushes frames upwards on a chunk). That page
 * is read in any case; a frame that crosses a page boundary, or a reader that cannot serve the larger range,
 * gets a view of the frame alone.
 */
class FrameWindow {
  bytes: Buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly reader: MemoryReader,
    private readonly frameSize: number,
  ) {}

  /** Offset of the frame at `address` in `bytes`, reading it first if the current view does not hold it. */
  offsetOf(address: number): number {
    if (address < this.start || address + this.frameSize > this.start + this.bytes.length) this.load(address);
    return address - this.start;
  }

  private load(address: number): void {
    const pageStart = address - (address % PAGE);
    if (address + this.frameSize <= pageStart + PAGE && pageStart !== address) {
      try {
        this.bytes = this.reader.read(pageStart, address + this.frameSize - pageStart);
        this.start = pageStart;
        return;
      } catch (err) {
        if (!(err instanceof MemoryReadError)) throw err;
      }
    }
    this.bytes = this.reader.read(address, this.frameSize);
    this.start = address;
  }
}

/**
 * One frame decoded on its own, e.g. a suspended coroutine's, which is on no thread's chain (undefined for a shim or a
 * frame not started). Its code object is checked against the target once per sample, so a reused address is re-read.
 */
export function readFrame(
  reader: MemoryReader,
  layout: PythonLayout,
  codes: CodeReader,
  address: number,
): PyFrame | undefined {
  if (!isPlausiblePointer(address)) throw new InvalidDataError('bad frame pointer');
  const bytes = reader.read(address, layout.interpreterFrame.size);
  const frame = decodeFrame(layout, codes, address, bytes, 0);
  return frame && !codes.check(frame.code) ? decodeFrame(layout, codes, address, bytes, 0) : frame;
}

/** The code object a frame runs, read on its own: to tell whether a frame was reused while a stack was read. */
export function readFrameCodeAddress(reader: MemoryReader, layout: PythonLayout, frame: number): number {
  return decodeCodeAddress(layout, u64(reader.read(frame + layout.interpreterFrame.executable, 8), 0));
}

/** A frame's f_code / f_executable pointer without the tag bits it carries from 3.14. */
export function decodeCodeAddress(layout: PythonLayout, pointer: number): number {
  const mask = layout.interpreterFrame.executableTagMask;
  return mask ? pointer - (pointer % (mask + 1)) : pointer;
}

/** The frame at `address`, whose bytes start at `at` in `bytes`. */
function decodeFrame(
  layout: PythonLayout,
  codes: CodeReader,
  address: number,
  bytes: Buffer,
  at: number,
): PyFrame | undefined {
  const f = layout.interpreterFrame;
  const owner = f.owner !== undefined ? u8(bytes, at + f.owner) : FRAME_OWNED_BY_THREAD;
  if (f.ownerCStack !== undefined && owner >= f.ownerCStack) return undefined;
  const instruction =
    layout.instructionKind === 'instruction-pointer' ? u64(bytes, at + f.instrPtr) : i32(bytes, at + f.instrPtr);
  return decodeWalkedFrame(layout, codes, {
    frameAddress: address,
    codeAddress: decodeCodeAddress(layout, u64(bytes, at + f.executable)),
    instruction,
    owner,
  });
}

/** What a walk keeps of a frame: where it is, the code object it runs, where in it, and who owns the frame. */
export interface WalkedFrame {
  frameAddress: number;
  /** Without tag bits. */
  codeAddress: number;
  /** An instruction pointer (3.11+) or f_lasti, as the layout's instructionKind says. */
  instruction: number;
  /** _PyInterpreterFrame.owner (3.11+), FRAME_OWNED_BY_THREAD before. */
  owner: number;
}

/**
 * A frame from the fields a walk kept (here, or hotpath's native sampling loop): undefined for a frame with no code
 * object or one not started yet. Throws InvalidDataError when the instruction lies outside its code object even
 * after re-reading it.
 */
export function decodeWalkedFrame(layout: PythonLayout, codes: CodeReader, walked: WalkedFrame): PyFrame | undefined {
  const { codeAddress, instruction, owner } = walked;
  if (codeAddress === 0) return undefined;
  let code = codes.read(codeAddress);
  if (layout.instructionKind === 'instruction-pointer') {
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
  }
  return {
    name: code.qualname,
    file: code.filename,
    line: codes.lineFor(code, instruction),
    firstLine: code.firstLine,
    frameAddress: walked.frameAddress,
    code,
  };
}
