/// <reference lib="dom" />
// A flame graph on a canvas, so 100k-node trees stay smooth: only frames at least a fraction of a pixel wide
// are visited (a too-narrow frame skips its whole subtree). Hover tooltip, click to zoom (ancestors stay,
// dimmed, full width), reset, icicle toggle, regex search that highlights matches and shows their share.

import { MATCH_COLOUR } from './colours.js';
import { element, showTooltip, sizeCanvas } from './dom.js';
import { findMatches, layoutOffsets, type FlameTree } from './flame-model.js';
import { formatCount, formatPercent, truncateLabel } from './format.js';

export interface FlameSource {
  tree: FlameTree;
  /** Width of each node, in samples. */
  total: Float64Array;
  label(node: number): string;
  colour(node: number): string;
  tooltip(node: number): string;
  /** How an amount of `total` reads, e.g. "1,234 samples" (the default) or "12.0 MiB". */
  formatAmount?(amount: number): string;
}

export interface DrawnFrame {
  node: number;
  label: string;
  /** CSS pixels from the canvas's top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
  fill: string;
  matched: boolean;
  /** An ancestor of the zoomed frame, drawn full width and faded. */
  dimmed: boolean;
}

export interface FlameViewOptions {
  /** Prefix of the ids of the view's elements: PREFIX-canvas, -search, -matched, -reset, -icicle, -tooltip. */
  idPrefix: string;
  icicle?: boolean;
}

const ROW_HEIGHT = 17;
const FONT = '12px system-ui, "DejaVu Sans", sans-serif';
/** Frames narrower than this many CSS pixels, and so their subtrees, are not drawn. */
const MIN_FRAME_PX = 0.4;
const MIN_WIDTH = 200;

export class FlameView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly searchInput: HTMLInputElement;
  private readonly matchedText: HTMLElement;
  private readonly resetButton: HTMLButtonElement;
  private readonly icicleBox: HTMLInputElement;
  private readonly tooltip: HTMLElement;
  private source: FlameSource | null = null;
  private offsets: Float64Array = new Float64Array(0);
  private focus = 0;
  private matched: Uint8Array | null = null;
  private drawn: DrawnFrame[] = [];

  constructor(options: FlameViewOptions) {
    const id = (name: string) => `${options.idPrefix}-${name}`;
    this.searchInput = element('input', { id: id('search') });
    this.searchInput.type = 'search';
    this.searchInput.placeholder = 'Search functions (regular expression)';
    this.matchedText = element('span', { id: id('matched'), className: 'matched' });
    this.resetButton = element('button', { id: id('reset'), text: 'Reset zoom' });
    this.icicleBox = element('input', { id: id('icicle') });
    this.icicleBox.type = 'checkbox';
    this.icicleBox.checked = options.icicle ?? false;
    this.canvas = element('canvas', { id: id('canvas'), className: 'flame-canvas' });
    this.tooltip = element('div', { id: id('tooltip'), className: 'tooltip' });
    this.tooltip.hidden = true;
    const icicleLabel = element('label', {}, [this.icicleBox, ' Icicle (root on top)']);
    this.element = element('div', { className: 'flame' }, [
      element('div', { className: 'toolbar' }, [this.searchInput, this.matchedText, this.resetButton, icicleLabel]),
      element('div', { className: 'flame-wrap' }, [this.canvas]),
      this.tooltip,
    ]);
    this.listen();
  }

  /** Shows new counts (another filter): the zoom resets, the search stays. */
  setSource(source: FlameSource): void {
    this.source = source;
    this.offsets = layoutOffsets(source.tree, source.total);
    this.focus = 0;
    this.applySearch();
    this.draw();
  }

  search(text: string): void {
    this.searchInput.value = text;
    this.applySearch();
    this.draw();
  }

  zoom(node: number): void {
    this.focus = node;
    this.draw();
  }

  resetZoom(): void {
    this.zoom(0);
  }

  drawnFrames(): DrawnFrame[] {
    return this.drawn.map((frame) => ({ ...frame }));
  }

  /** The drawn frame under a point in CSS pixels from the canvas's corner. */
  frameAt(x: number, y: number): DrawnFrame | undefined {
    return this.drawn.find((f) => x >= f.x && x < f.x + Math.max(f.width, 1) && y >= f.y && y < f.y + f.height);
  }

  draw(): void {
    if (!this.source) return;
    const width = Math.max(MIN_WIDTH, this.canvas.parentElement?.clientWidth ?? MIN_WIDTH);
    this.drawn = this.placeFrames(this.source, width);
    const rows = this.drawn.reduce((deepest, frame) => Math.max(deepest, frame.y / ROW_HEIGHT + 1), 1);
    const context = sizeCanvas(this.canvas, width, rows * ROW_HEIGHT);
    context.font = FONT;
    context.textBaseline = 'middle';
    const charWidth = context.measureText('abcdefghijklmnopqrstuvwxyz').width / 26;
    if (this.source.total[0] === 0) {
      context.fillStyle = '#666';
      context.fillText('No samples', 8, ROW_HEIGHT / 2);
    }
    for (const frame of this.drawn) paintFrame(context, frame, charWidth);
    this.resetButton.disabled = this.focus === 0;
  }

  private placeFrames(source: FlameSource, width: number): DrawnFrame[] {
    const { tree, total } = source;
    const focus = this.focus;
    if (total[focus] === 0) return [];
    const scale = width / total[focus]!;
    const placed: Array<Omit<DrawnFrame, 'y'> & { depth: number }> = [];
    const ancestors: number[] = [];
    for (let node = tree.parent[focus]!; node >= 0; node = tree.parent[node]!) ancestors.unshift(node);
    for (const node of ancestors) placed.push(this.frame(source, node, 0, width, true));
    for (let node = focus; node < tree.end[focus]!;) {
      const frameWidth = total[node]! * scale;
      if (frameWidth < MIN_FRAME_PX) {
        node = tree.end[node]!;
        continue;
      }
      placed.push(this.frame(source, node, (this.offsets[node]! - this.offsets[focus]!) * scale, frameWidth, false));
      node++;
    }
    const rows = placed.reduce((deepest, frame) => Math.max(deepest, frame.depth + 1), 0);
    const icicle = this.icicleBox.checked;
    return placed.map(({ depth, ...frame }) => ({
      ...frame,
      y: (icicle ? depth : rows - 1 - depth) * ROW_HEIGHT,
    }));
  }

  private frame(
    source: FlameSource,
    node: number,
    x: number,
    width: number,
    dimmed: boolean,
  ): Omit<DrawnFrame, 'y'> & { depth: number } {
    const matched = this.matched?.[node] === 1;
    return {
      node,
      label: source.label(node),
      x,
      width,
      height: ROW_HEIGHT - 1,
      fill: matched ? MATCH_COLOUR : source.colour(node),
      matched,
      dimmed,
      depth: source.tree.depth[node]!,
    };
  }

  private applySearch(): void {
    const text = this.searchInput.value;
    this.matched = null;
    this.matchedText.classList.remove('error');
    this.matchedText.textContent = '';
    if (!text || !this.source) return;
    let pattern: RegExp;
    try {
      pattern = new RegExp(text);
    } catch {
      this.matchedText.classList.add('error');
      this.matchedText.textContent = 'Invalid regular expression';
      return;
    }
    const { tree, total } = this.source;
    const result = findMatches(tree, total, pattern, (node) => this.source!.label(node));
    this.matched = result.matched;
    const share = total[0]! > 0 ? result.samples / total[0]! : 0;
    const amount = this.source.formatAmount?.(result.samples) ?? `${formatCount(result.samples)} samples`;
    this.matchedText.textContent = `Matched: ${formatPercent(share)} (${amount})`;
  }

  private listen(): void {
    this.searchInput.addEventListener('input', () => {
      this.applySearch();
      this.draw();
    });
    this.resetButton.addEventListener('click', () => this.resetZoom());
    this.icicleBox.addEventListener('change', () => this.draw());
    this.canvas.addEventListener('mousemove', (event) => {
      const frame = this.frameAt(event.offsetX, event.offsetY);
      if (frame && this.source)
        showTooltip(this.tooltip, this.source.tooltip(frame.node), event.clientX, event.clientY);
      else this.tooltip.hidden = true;
    });
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    this.canvas.addEventListener('click', (event) => {
      const frame = this.frameAt(event.offsetX, event.offsetY);
      if (frame) this.zoom(frame.node);
    });
    window.addEventListener('resize', () => this.draw());
  }
}

function paintFrame(context: CanvasRenderingContext2D, frame: DrawnFrame, charWidth: number): void {
  context.globalAlpha = frame.dimmed ? 0.5 : 1;
  context.fillStyle = frame.fill;
  context.fillRect(frame.x, frame.y, Math.max(frame.width - 0.5, 0.5), frame.height);
  const text = truncateLabel(frame.label, Math.floor((frame.width - 6) / charWidth));
  if (text) {
    context.fillStyle = '#000';
    // maxWidth squeezes a label the average glyph width underestimated, instead of spilling over.
    context.fillText(text, frame.x + 3, frame.y + frame.height / 2 + 0.5, frame.width - 6);
  }
  context.globalAlpha = 1;
}
