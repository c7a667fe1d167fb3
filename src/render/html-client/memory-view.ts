/// <reference lib="dom" />
// The report's RSS chart: one small line chart per process of its resident memory over the recording, on the
// timeline's time axis (same left margin, same span), so a rise lines up with the samples drawn below it.

import { element, showTooltip, sizeCanvas } from './dom.js';
import { formatBytes, formatDuration } from './format.js';
import type { ProcessMemoryData } from './page-data.js';
import { LABEL_WIDTH, RIGHT_PAD } from './timeline-view.js';

export interface MemoryViewOptions {
  /** The timeline's span: its buckets times its bucket length. */
  spanMs: number;
  bucketMs: number;
}

/** Processes drawn at most, those that grew most first. */
export const MAX_MEMORY_ROWS = 8;
const ROW_HEIGHT = 44;
const FONT = '11px system-ui, "DejaVu Sans", sans-serif';
const LINE_COLOUR = '#3c78b4';
const FILL_COLOUR = 'rgba(60,120,180,0.15)';

export class MemoryView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  /** The processes drawn, in row order. */
  readonly rows: readonly ProcessMemoryData[];
  private range: readonly [number, number] | null = null;
  private canvasWidth = LABEL_WIDTH + 200;

  constructor(
    processes: readonly ProcessMemoryData[],
    private readonly options: MemoryViewOptions,
  ) {
    this.rows = [...processes].sort((a, b) => b.grownBytes - a.grownBytes || a.pid - b.pid).slice(0, MAX_MEMORY_ROWS);
    this.canvas = element('canvas', { id: 'memory-canvas', className: 'memory-canvas' });
    this.tooltip = element('div', { className: 'tooltip' });
    this.tooltip.hidden = true;
    const notes = this.rows.map((row) => element('li', { text: describeProcess(row) }));
    if (processes.length > this.rows.length) {
      notes.push(element('li', { text: `${processes.length - this.rows.length} more process(es) not drawn` }));
    }
    this.element = element('div', {}, [
      this.canvas,
      element('ul', { id: 'memory-totals', className: 'memory-totals' }, notes),
      this.tooltip,
    ]);
    this.listen();
  }

  /** Shades the timeline's selected buckets (first, last, inclusive), or nothing. */
  setRange(range: readonly [number, number] | null): void {
    this.range = range;
    this.draw();
  }

  /** Horizontal position of a time (ms since the start), in CSS pixels from the canvas's left edge. */
  xOf(ms: number): number {
    return LABEL_WIDTH + (ms / this.options.spanMs) * (this.canvasWidth - LABEL_WIDTH - RIGHT_PAD);
  }

  draw(): void {
    this.canvasWidth = Math.max(LABEL_WIDTH + 200, this.canvas.parentElement?.clientWidth ?? 0);
    const height = Math.max(1, this.rows.length) * ROW_HEIGHT;
    const context = sizeCanvas(this.canvas, this.canvasWidth, height);
    context.font = FONT;
    context.textBaseline = 'middle';
    this.rows.forEach((row, index) => this.drawRow(context, row, index * ROW_HEIGHT));
    if (this.range) {
      const { bucketMs } = this.options;
      const left = this.xOf(this.range[0] * bucketMs);
      context.fillStyle = 'rgba(60,60,160,0.18)';
      context.fillRect(left, 0, this.xOf((this.range[1] + 1) * bucketMs) - left, height);
    }
  }

  private drawRow(context: CanvasRenderingContext2D, row: ProcessMemoryData, top: number): void {
    context.fillStyle = '#333';
    context.fillText(`pid ${row.pid}`, 4, top + 12, LABEL_WIDTH - 12);
    context.fillStyle = '#888';
    context.fillText(`${formatBytes(row.firstBytes)} → ${formatBytes(row.lastBytes)}`, 4, top + 28, LABEL_WIDTH - 12);
    if (row.time.length === 0) return;
    const low = Math.min(...row.residentBytes);
    const high = Math.max(...row.residentBytes);
    const yOf = (bytes: number) =>
      high === low ? top + ROW_HEIGHT / 2 : top + ROW_HEIGHT - 4 - ((bytes - low) / (high - low)) * (ROW_HEIGHT - 8);
    context.beginPath();
    row.time.forEach((ms, i) => context.lineTo(this.xOf(ms), yOf(row.residentBytes[i]!)));
    context.strokeStyle = LINE_COLOUR;
    context.lineWidth = 1.5;
    context.stroke();
    context.lineTo(this.xOf(row.time.at(-1)!), top + ROW_HEIGHT - 2);
    context.lineTo(this.xOf(row.time[0]!), top + ROW_HEIGHT - 2);
    context.closePath();
    context.fillStyle = FILL_COLOUR;
    context.fill();
    context.fillStyle = '#ccc';
    context.fillRect(LABEL_WIDTH, top + ROW_HEIGHT - 1, this.canvasWidth - LABEL_WIDTH - RIGHT_PAD, 1);
  }

  private listen(): void {
    this.canvas.addEventListener('mousemove', (event) => {
      const row = this.rows[Math.floor(event.offsetY / ROW_HEIGHT)];
      if (!row || row.time.length === 0 || event.offsetX < LABEL_WIDTH) {
        this.tooltip.hidden = true;
        return;
      }
      const chartWidth = this.canvasWidth - LABEL_WIDTH - RIGHT_PAD;
      const i = nearestIndex(row.time, ((event.offsetX - LABEL_WIDTH) / chartWidth) * this.options.spanMs);
      const text = `pid ${row.pid} · ${formatDuration(row.time[i]!)}: ${formatBytes(row.residentBytes[i]!)}`;
      showTooltip(this.tooltip, text, event.clientX, event.clientY);
    });
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    window.addEventListener('resize', () => this.draw());
  }
}

/** "pid 42: 21.5 MiB at the start, 45.6 MiB at the end, peak 45.6 MiB; grew 24.1 MiB, freed 0 B". */
export function describeProcess(row: ProcessMemoryData): string {
  const unattributed =
    row.unattributedBytes > 0 ? ` (${formatBytes(row.unattributedBytes)} of it while no thread was running)` : '';
  return (
    `pid ${row.pid}: ${formatBytes(row.firstBytes)} at the start, ${formatBytes(row.lastBytes)} at the end, ` +
    `peak ${formatBytes(row.peakBytes)}; grew ${formatBytes(row.grownBytes)}${unattributed}, ` +
    `freed ${formatBytes(row.freedBytes)}`
  );
}

/** Index of the time closest to `ms` in an ascending list that is not empty. */
function nearestIndex(times: readonly number[], ms: number): number {
  let low = 0;
  let high = times.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (times[middle]! < ms) low = middle + 1;
    else high = middle;
  }
  return low > 0 && ms - times[low - 1]! < times[low]! - ms ? low - 1 : low;
}
