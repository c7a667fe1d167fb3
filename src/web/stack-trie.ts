// The dashboard's line-level call tree of every stack seen since the start: one node per (caller, function, line),
// added when a stack first appears, children kept in label order so the live flame graph keeps its layout from
// one refresh to the next. Node ids grow from the root, so a parent's id is always below its children's.

import type { RawFrame } from '../sampler/index.js';
import { formatFrameLabel } from '../render/html-client/format.js';

export interface TrieFunction {
  name: string;
  file: string;
  firstLine: number;
}

export const ROOT_NODE = 0;

export class StackTrie {
  /** Per node; the root (node 0) has parent -1 and function -1. */
  readonly parent: number[] = [-1];
  readonly func: number[] = [-1];
  readonly line: number[] = [0];
  readonly label: string[] = ['all'];
  /** 1 when no ancestor is in the same function: summing these nodes' totals counts recursion once. */
  readonly outermost: number[] = [0];
  /** Child nodes in label order. */
  readonly children: number[][] = [[]];
  readonly functions: TrieFunction[] = [];
  private readonly functionIds = new Map<string, number>();
  private readonly childIds = new Map<string, number>();

  get size(): number {
    return this.parent.length;
  }

  /** The node of a whole stack (outermost frame first), adding what is missing. */
  nodeOf(frames: readonly RawFrame[]): number {
    let node = ROOT_NODE;
    for (const frame of frames) node = this.childOf(node, frame);
    return node;
  }

  private childOf(parent: number, frame: RawFrame): number {
    const func = this.functionOf(frame);
    const key = `${parent}:${func}:${frame.line}`;
    const known = this.childIds.get(key);
    if (known !== undefined) return known;
    const node = this.parent.length;
    this.parent.push(parent);
    this.func.push(func);
    this.line.push(frame.line);
    this.label.push(formatFrameLabel(frame.name, frame.file, frame.line));
    this.outermost.push(this.hasAncestorIn(parent, func) ? 0 : 1);
    this.children.push([]);
    this.insertChild(parent, node);
    this.childIds.set(key, node);
    return node;
  }

  private functionOf(frame: RawFrame): number {
    const firstLine = frame.firstLine ?? 0;
    const key = `${frame.name}\0${frame.file}\0${firstLine}`;
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length;
      this.functions.push({ name: frame.name, file: frame.file, firstLine });
      this.functionIds.set(key, id);
    }
    return id;
  }

  private hasAncestorIn(node: number, func: number): boolean {
    for (let n = node; n > ROOT_NODE; n = this.parent[n]!) if (this.func[n] === func) return true;
    return false;
  }

  /** Label order in code units, then node id: the order the HTML report and flame graph SVG use. */
  private insertChild(parent: number, node: number): void {
    const siblings = this.children[parent]!;
    const label = this.label[node]!;
    let low = 0;
    let high = siblings.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.label[siblings[middle]!]! <= label) low = middle + 1;
      else high = middle;
    }
    siblings.splice(low, 0, node);
  }
}
