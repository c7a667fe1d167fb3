/// <reference lib="dom" />
// The report's timeline: one small bar chart per thread of samples per second over the recording, on a
// canvas. Dragging across it selects a time range (in whole buckets), which the report uses as a filter.

import { element, showTooltip, sizeCanvas } from './dom.js';
import { formatCount, formatDuration } from './format.js';
import { niceStep } from './nice-step.js';

export interface TimelineSeries {
  label: string;
  /** Samples per bucket. */
  counts: Float64Array;
  samples: number;
}

export interface TimelineOptions {
  bucketMs: number;
  buckets: number;
  /** A range of buckets (first, last, inclusive) was selected. */
  onSelect: (range: [number, number]) => void;
}

/** Shared with the memory chart, so both time axes line up. */
export const LABEL_WIDTH = 240;
export const RIGHT_PAD = 8;
const ROW_HEIGHT = 24;
/** Room for a row's peak rate ("1,000/s") at the right of its label. */
const PEAK_WIDTH = 60;
const AXIS_HEIGHT = 18;
const FONT = '11px system-ui, "DejaVu Sans", sans-serif';
const BAR_COLOURS = ['#d2461e', '#3c78b4', '#3c9650', '#a0509b', '#c8961e', '#5a5a78'];

export class TimelineView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private rows: TimelineSeries[] = [];
  private range: readonly [number, number] | null = null;
  private dragStart: number | null = null;
  private dragEnd = 0;
  /** Canvas width in CSS pixels at the last draw: reading layout per bar would force a reflow each time. */
  private canvasWidth = LABEL_WIDTH + 200;

  constructor(private readonly options: TimelineOptions) {
    this.canvas = element('canvas', { id: 'timeline-canvas', className: 'timeline-canvas' });
    this.tooltip = element('div', { className: 'tooltip' });
    this.tooltip.hidden = true;
    this.element = element('div', {}, [this.canvas, this.tooltip]);
    this.listen();
  }

  setRows(rows: TimelineSeries[]): void {
    this.rows = rows;
    this.draw();
  }

  setRange(range: readonly [number, number] | null): void {
    this.range = range;
    this.draw();
  }

  /** Horizontal centre of a bucket, in CSS pixels from the canvas's left edge. */
  bucketCentre(bucket: number): number {
    return LABEL_WIDTH + (bucket + 0.5) * this.bucketWidth();
  }

  private bucketWidth(): number {
    return (this.canvasWidth - LABEL_WIDTH - RIGHT_PAD) / this.options.buckets;
  }

  /** The bucket under a canvas x, clamped to the chart. */
  private bucketAt(x: number): number {
    const bucket = Math.floor((x - LABEL_WIDTH) / this.bucketWidth());
    return Math.min(this.options.buckets - 1, Math.max(0, bucket));
  }

  draw(): void {
    this.canvasWidth = Math.max(LABEL_WIDTH + 200, this.canvas.parentElement?.clientWidth ?? 0);
    const width = this.canvasWidth;
    const height = Math.max(1, this.rows.length) * ROW_HEIGHT + AXIS_HEIGHT;
    const context = sizeCanvas(this.canvas, width, height);
    context.font = FONT;
    context.textBaseline = 'middle';
    const bucketWidth = this.bucketWidth();
    const perSecond = 1000 / this.options.bucketMs;
    this.rows.forEach((row, index) => {
      const top = index * ROW_HEIGHT;
      const peak = Math.max(...row.counts, 1);
      context.fillStyle = '#333';
      context.fillText(row.label, 4, top + ROW_HEIGHT / 2, LABEL_WIDTH - PEAK_WIDTH - 12);
      context.fillStyle = '#888';
      context.textAlign = 'right';
      context.fillText(
        `${formatCount(Math.round(peak * perSecond))}/s`,
        LABEL_WIDTH - 8,
        top + ROW_HEIGHT / 2,
        PEAK_WIDTH,
      );
      context.textAlign = 'left';
      context.fillStyle = BAR_COLOURS[index % BAR_COLOURS.length]!;
      row.counts.forEach((count, bucket) => {
        if (count === 0) return;
        const barHeight = Math.max(1, (count / peak) * (ROW_HEIGHT - 6));
        const x = LABEL_WIDTH + bucket * bucketWidth;
        context.fillRect(x, top + ROW_HEIGHT - 3 - barHeight, Math.max(bucketWidth - 0.5, 0.5), barHeight);
      });
    });
    if (this.rows.length === 0) {
      context.fillStyle = '#666';
      context.fillText('No samples', LABEL_WIDTH, ROW_HEIGHT / 2);
    }
    this.drawAxis(context, height - AXIS_HEIGHT);
    const shown = this.dragStart !== null ? ordered(this.dragStart, this.dragEnd) : this.range;
    if (shown) {
      context.fillStyle = 'rgba(60,60,160,0.18)';
      const x = LABEL_WIDTH + shown[0] * bucketWidth;
      context.fillRect(x, 0, (shown[1] - shown[0] + 1) * bucketWidth, height - AXIS_HEIGHT);
    }
  }

  private drawAxis(context: CanvasRenderingContext2D, top: number): void {
    const totalMs = this.options.buckets * this.options.bucketMs;
    const step = niceStep(totalMs / 8);
    context.fillStyle = '#666';
    for (let ms = 0; ms <= totalMs; ms += step) {
      const x = LABEL_WIDTH + (ms / this.options.bucketMs) * this.bucketWidth();
      context.fillRect(x, top, 1, 4);
      const text = formatDuration(ms);
      const fits = x + 2 + context.measureText(text).width <= this.canvasWidth;
      context.textAlign = fits ? 'left' : 'right';
      context.fillText(text, fits ? x + 2 : x - 2, top + 11);
      context.textAlign = 'left';
    }
  }

  private listen(): void {
    this.canvas.addEventListener('mousedown', (event) => {
      if (event.offsetX < LABEL_WIDTH) return;
      this.dragStart = this.bucketAt(event.offsetX);
      this.dragEnd = this.dragStart;
      this.draw();
    });
    window.addEventListener('mousemove', (event) => {
      if (this.dragStart === null) return;
      this.dragEnd = this.bucketAt(event.clientX - this.canvas.getBoundingClientRect().left);
      this.draw();
    });
    window.addEventListener('mouseup', () => {
      if (this.dragStart === null) return;
      const range = ordered(this.dragStart, this.dragEnd);
      this.dragStart = null;
      this.options.onSelect(range);
    });
    this.canvas.addEventListener('mousemove', (event) => {
      if (event.offsetX < LABEL_WIDTH || this.dragStart !== null) {
        this.tooltip.hidden = true;
        return;
      }
      const bucket = this.bucketAt(event.offsetX);
      const row = this.rows[Math.floor(event.offsetY / ROW_HEIGHT)];
      const at = formatDuration(bucket * this.options.bucketMs);
      const text = row ? `${row.label}\n${at}: ${formatCount(row.counts[bucket] ?? 0)} samples` : at;
      showTooltip(this.tooltip, text, event.clientX, event.clientY);
    });
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    window.addEventListener('resize', () => this.draw());
  }
}

function ordered(a: number, b: number): [number, number] {
  return a <= b ? [a, b] : [b, a];
}
