// Differential flame graphs of a before/after diff, like flamegraph.pl's difffolded view: widths are AFTER's
// samples, red frames grew and blue ones shrank (share of each profile's own samples), deeper for larger
// changes. As SVG (functions that vanished listed below the graph) and as a self-contained HTML page.

import { callTreeNodeLabel, sortedChildren, type DiffTreeNode, type ProfileDiff } from '../profile/index.js';
import { buildFlameLayout, type FlameRect } from './flame-layout.js';
import { escapeXml } from './flamegraph-svg.js';
import { diffColour, SYNTHETIC_COLOUR } from './html-client/colours.js';
import { formatChange, formatCount, formatPercent, truncateLabel } from './html-client/format.js';
import type { DiffData } from './html-client/page-data.js';
import { encodeColumn } from './page-columns.js';
import { renderHtmlPage } from './html-page.js';

export interface DiffRenderOptions {
  title?: string;
  /** Names shown for the two inputs, e.g. their file names. */
  beforeName?: string;
  afterName?: string;
}

export interface DiffFlamegraphSvgOptions extends DiffRenderOptions {
  /** Total image width in px. */
  width?: number;
  /** Frames narrower than this many px are left out, with their callees. */
  minWidth?: number;
  icicle?: boolean;
}

const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
/** Average glyph width at FONT_SIZE, to cut labels without measuring text. */
const CHAR_WIDTH = 0.59 * FONT_SIZE;
const PAD = 10;
const FRAMES_TOP = 56;
const LINE_HEIGHT = 16;
/** Removed functions listed under the SVG graph; the HTML table lists them all. */
const MAX_REMOVED_LISTED = 20;

export function renderDiffFlamegraphSvg(diff: ProfileDiff, options: DiffFlamegraphSvgOptions = {}): string {
  const width = options.width ?? 1200;
  const chartWidth = width - 2 * PAD;
  const layout = buildFlameLayout(diff.root, {
    minWidth: (options.minWidth ?? 0.1) / chartWidth,
    icicle: options.icicle,
  });
  const maxChange = largestChange(layout.rects.map((rect) => rect.node as DiffTreeNode));
  const removed = diff.functions.filter((f) => f.status === 'removed');
  const listed = removed.slice(0, MAX_REMOVED_LISTED);
  const footerTop = FRAMES_TOP + layout.rows * FRAME_HEIGHT + 24;
  const height = footerTop + (removed.length > 0 ? (listed.length + 2) * LINE_HEIGHT : 0) + PAD;
  const title = options.title ?? 'Differential flame graph';
  const removedLines = removed.length
    ? [
        `<text class="removed" x="${PAD}" y="${footerTop}">Only in BEFORE (removed), ${removed.length}:</text>`,
        ...listed.map(
          (f, i) =>
            `<text class="removed" x="${PAD + 12}" y="${footerTop + (i + 1) * LINE_HEIGHT}" data-name="${escapeXml(f.name)}" ` +
            `data-change="${f.change.total}">${escapeXml(`${f.name} (${f.file}): was ${formatPercent(f.beforeShare.total)}, ${formatChange(f.change.total)}`)}</text>`,
        ),
        ...(removed.length > listed.length
          ? [
              `<text class="removed" x="${PAD + 12}" y="${footerTop + (listed.length + 1) * LINE_HEIGHT}">and ${removed.length - listed.length} more</text>`,
            ]
          : []),
      ]
    : [];
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    `<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `data-before-samples="${diff.beforeSamples}" data-after-samples="${diff.afterSamples}">`,
    `<style>${SVG_STYLE}</style>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="rgb(248,248,248)"/>`,
    `<text id="title" x="${width / 2}" y="22" text-anchor="middle">${escapeXml(title)}</text>`,
    `<text id="legend" x="${width / 2}" y="42" text-anchor="middle">${escapeXml(legendText(diff, options))}</text>`,
    ...(diff.root.total === 0
      ? [`<text x="${width / 2}" y="${FRAMES_TOP + 12}" text-anchor="middle">No samples in AFTER</text>`]
      : []),
    '<g id="frames">',
    ...layout.rects.map((rect) => renderDiffFrame(rect, diff, chartWidth, maxChange)),
    '</g>',
    ...removedLines,
    '</svg>',
    '',
  ].join('\n');
}

/** The largest |change of total share| among frames (the root's is 0 by definition), the colour scale's end. */
export function largestChange(nodes: Iterable<DiffTreeNode>): number {
  let largest = 0;
  for (const node of nodes) if (node.kind === 'frame') largest = Math.max(largest, Math.abs(node.change.total));
  return largest;
}

function legendText(diff: ProfileDiff, options: DiffRenderOptions): string {
  const before = options.beforeName ? `BEFORE ${options.beforeName}` : 'BEFORE';
  const after = options.afterName ? `AFTER ${options.afterName}` : 'AFTER';
  return (
    `width: ${after} (${formatCount(diff.afterSamples)} samples); colour: change of share against ` +
    `${before} (${formatCount(diff.beforeSamples)} samples), red grew, blue shrank`
  );
}

/** "f (file): 120 samples, 12.00% (was 8.00%, +4.00 pts)". */
export function diffTooltip(node: DiffTreeNode, diff: ProfileDiff): string {
  const now = node.total / Math.max(diff.afterSamples, 1);
  const was = node.before.total / Math.max(diff.beforeSamples, 1);
  return (
    `${callTreeNodeLabel(node)}: ${formatCount(node.total)} samples, ${formatPercent(now)} ` +
    `(was ${formatPercent(was)}, ${formatChange(node.change.total)})`
  );
}

function renderDiffFrame(rect: FlameRect, diff: ProfileDiff, chartWidth: number, maxChange: number): string {
  const node = rect.node as DiffTreeNode;
  const label = callTreeNodeLabel(node);
  const x = PAD + rect.x * chartWidth;
  const y = FRAMES_TOP + rect.row * FRAME_HEIGHT;
  const widthPx = rect.width * chartWidth;
  const fill = node.kind === 'frame' ? diffColour(node.change.total, maxChange) : SYNTHETIC_COLOUR;
  return (
    `<g class="f" data-label="${escapeXml(label)}" data-samples="${node.total}" data-change="${node.change.total}">` +
    `<title>${escapeXml(diffTooltip(node, diff))}</title>` +
    `<rect x="${round(x)}" y="${y}" width="${round(widthPx)}" height="${FRAME_HEIGHT - 1}" fill="${fill}" rx="2" ry="2"/>` +
    `<text x="${round(x + 3)}" y="${y + FONT_SIZE - 0.5}">${escapeXml(truncateLabel(label, Math.floor((widthPx - 6) / CHAR_WIDTH)))}</text>` +
    '</g>'
  );
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

const SVG_STYLE = [
  'text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: rgb(0,0,0); }',
  '#title { font-size: 17px; }',
  '#legend { fill: rgb(80,80,80); }',
  '.removed { fill: rgb(30,30,200); }',
  '.f text { pointer-events: none; }',
  '.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }',
].join('\n');

/** The diff as a self-contained HTML page: the differential flame graph and the table of changed functions. */
export function renderDiffHtml(diff: ProfileDiff, options: DiffRenderOptions = {}): string {
  const title = options.title ?? 'hotpath diff';
  return renderHtmlPage({ title, entry: 'diff-app', data: buildDiffData(diff, { ...options, title }) });
}

/** What the diff page embeds: the merged tree in depth-first label order, and every function's counts. */
export function buildDiffData(diff: ProfileDiff, options: DiffRenderOptions & { title: string }): DiffData {
  const nodes = preorder(diff.root);
  const indexOf = new Map(nodes.map((node, index) => [node, index]));
  return {
    kind: 'diff',
    title: options.title,
    beforeName: options.beforeName ?? 'BEFORE',
    afterName: options.afterName ?? 'AFTER',
    beforeSamples: diff.beforeSamples,
    afterSamples: diff.afterSamples,
    names: diff.functions.map((f) => [f.id, f.name, f.file]),
    nodes: {
      parent: encodeColumn(nodes.map((node) => (node.parent ? indexOf.get(node.parent)! + 1 : 0))),
      func: encodeColumn(nodes.map((node) => node.func + 1)),
      afterTotal: encodeColumn(nodes.map((node) => node.total)),
      afterSelf: encodeColumn(nodes.map((node) => node.self)),
      beforeTotal: encodeColumn(nodes.map((node) => node.before.total)),
      beforeSelf: encodeColumn(nodes.map((node) => node.before.self)),
    },
    functions: diff.functions.map((f) => [f.id, f.before.self, f.before.total, f.after.self, f.after.total]),
  };
}

/**
 * Depth-first, children in label order, so the client lays the tree out in one pass; paths only BEFORE has
 * (width 0) are left out, their functions are in the table.
 */
function preorder(root: DiffTreeNode): DiffTreeNode[] {
  const ordered: DiffTreeNode[] = [];
  const pending = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    ordered.push(node);
    const children = sortedChildren(node).filter((child) => child.total > 0) as DiffTreeNode[];
    pending.push(...children.reverse());
  }
  return ordered;
}
