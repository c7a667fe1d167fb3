/// <reference lib="dom" />
// The report's line view: for the hottest functions, their source lines with the samples on each line and
// each line's share of the function's samples; line numbers and counts only where no source was captured.

import { element } from './dom.js';
import { formatCount, formatPercent } from './format.js';
import { displayedLines, lineRows, type FunctionRow, type LineRow, type ReportModel } from './report-model.js';

export function renderLineHeat(
  model: ReportModel,
  hottest: readonly FunctionRow[],
  frameCounts: { self: Float64Array; total: Float64Array },
  samples: number,
): HTMLElement[] {
  if (hottest.length === 0) return [element('p', { className: 'no-source', text: 'No samples to show.' })];
  return hottest.map((row) => renderFunctionLines(model, row, lineRows(model, row.func, frameCounts), samples));
}

function renderFunctionLines(model: ReportModel, row: FunctionRow, lines: LineRow[], samples: number): HTMLElement {
  const source = Object.hasOwn(model.data.sources, row.file) ? model.data.sources[row.file] : undefined;
  const byLine = new Map(lines.map((line) => [line.line, line]));
  const shown = displayedLines(
    lines.map((line) => line.line),
    row.firstLine,
    source?.length,
  );
  const heading = element('h3', {}, [
    `${row.name} `,
    element('span', { className: 'file', text: row.file }),
    element('span', {
      className: 'hint',
      text: `self ${formatPercent(row.self / samples)} · total ${formatPercent(row.total / samples)}`,
    }),
  ]);
  const rows = shown.map((line) => (line === null ? gapRow() : lineRow(line, byLine.get(line), row.total, source)));
  const table = element('table', { className: 'lines' }, [
    element('thead', {}, [
      element('tr', {}, [
        element('th', { className: 'num', text: 'Line' }),
        element('th', { className: 'num', text: 'Self' }),
        element('th', { className: 'num', text: 'Total' }),
        element('th', { className: 'num', text: 'Share' }),
        element('th', { text: source ? 'Source' : '' }),
      ]),
    ]),
    element('tbody', {}, rows),
  ]);
  const block = element('div', { className: 'hot-function' }, [heading, table]);
  block.dataset.function = row.name;
  if (!source)
    block.append(element('p', { className: 'no-source', text: 'Source not captured: line numbers and counts only.' }));
  return block;
}

function lineRow(
  line: number,
  counts: LineRow | undefined,
  functionTotal: number,
  source: string[] | undefined,
): HTMLElement {
  const share = counts && functionTotal > 0 ? counts.total / functionTotal : 0;
  const tr = element('tr', { className: counts ? 'sampled' : '' }, [
    element('td', { className: 'num', text: String(line) }),
    element('td', { className: 'num', text: counts ? formatCount(counts.self) : '' }),
    element('td', { className: 'num', text: counts ? formatCount(counts.total) : '' }),
    element('td', { className: 'num', text: counts ? formatPercent(share, 1) : '' }),
    element('td', { className: 'src', text: source?.[line - 1] ?? '' }),
  ]);
  tr.dataset.line = String(line);
  tr.style.setProperty('--heat', (0.1 + 0.6 * share).toFixed(3));
  return tr;
}

function gapRow(): HTMLElement {
  return element('tr', { className: 'gap' }, [element('td', { className: 'num', text: '…' })]);
}
