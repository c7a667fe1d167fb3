/// <reference lib="dom" />
// The diff page: the differential flame graph (widths from AFTER, red grew, blue shrank) and the table of
// functions by change of share, removed ones included.

import { diffColour, SYNTHETIC_COLOUR } from './colours.js';
import { decodeColumn } from './columns.js';
import { element } from './dom.js';
import { buildFlameTree } from './flame-model.js';
import { FlameView } from './flame-view.js';
import { formatChange, formatCount, formatDiffSummary, formatFrameLabel, formatPercent } from './format.js';
import type { DiffData } from './page-data.js';
import { SortableTable } from './sortable-table.js';

export interface DiffRow {
  name: string;
  file: string;
  status: 'grew' | 'shrank' | 'unchanged' | 'removed' | 'added';
  beforeSelf: number;
  beforeTotal: number;
  afterSelf: number;
  afterTotal: number;
  /** Change of share (after − before), fractions. */
  selfChange: number;
  totalChange: number;
}

export function startPage(data: DiffData): DiffApp {
  const app = new DiffApp(data);
  document.body.append(app.element);
  app.draw();
  (window as unknown as { hotpath: DiffApp }).hotpath = app;
  return app;
}

export class DiffApp {
  readonly element: HTMLElement;
  readonly flame = new FlameView({ idPrefix: 'flame' });
  readonly table: SortableTable<DiffRow>;

  constructor(private readonly data: DiffData) {
    this.table = new SortableTable<DiffRow>(
      [
        { title: 'Function', value: (row) => row.name },
        { title: 'File', value: (row) => row.file },
        { title: 'Status', value: (row) => row.status, cellClass: signClass },
        percentColumn('Before total', (row) => row.beforeTotal),
        percentColumn('After total', (row) => row.afterTotal),
        changeColumn('Change total', (row) => row.totalChange),
        percentColumn('Before self', (row) => row.beforeSelf),
        percentColumn('After self', (row) => row.afterSelf),
        changeColumn('Change self', (row) => row.selfChange),
      ],
      {
        id: 'diff-functions',
        sortColumn: null,
        descending: true,
        limit: 500,
        emptyText: 'No samples in either profile.',
      },
    );
    const legend =
      `Width: ${data.afterName} (${formatCount(data.afterSamples)} samples). Colour: change of share against ` +
      `${data.beforeName} (${formatCount(data.beforeSamples)} samples); red grew, blue shrank. ` +
      'Shares are of each profile’s own samples.';
    this.element = element('main', {}, [
      element('header', {}, [element('h1', { text: data.title }), element('p', { className: 'legend', text: legend })]),
      element('section', {}, [element('h2', { text: 'Differential flame graph' }), this.flame.element]),
      element('section', {}, [
        element('h2', {}, [
          'Functions by change',
          element('span', { className: 'hint', text: 'of total share, largest first' }),
        ]),
        this.table.element,
      ]),
    ]);
  }

  draw(): void {
    const { data } = this;
    const names = new Map(data.names.map(([id, name, file]) => [id, { name, file }]));
    const parent = decodeColumn(data.nodes.parent).map((value) => value - 1);
    const func = decodeColumn(data.nodes.func).map((value) => value - 1);
    const tree = buildFlameTree(parent);
    const afterTotal = Float64Array.from(decodeColumn(data.nodes.afterTotal));
    const beforeTotal = decodeColumn(data.nodes.beforeTotal);
    const afterShare = (node: number) => afterTotal[node]! / Math.max(data.afterSamples, 1);
    const beforeShare = (node: number) => beforeTotal[node]! / Math.max(data.beforeSamples, 1);
    let maxChange = 0;
    for (let node = 1; node < tree.size; node++)
      maxChange = Math.max(maxChange, Math.abs(afterShare(node) - beforeShare(node)));
    const label = (node: number) => {
      const entry = names.get(func[node]!);
      return entry ? formatFrameLabel(entry.name, entry.file, 0) : 'all';
    };
    this.flame.setSource({
      tree,
      total: afterTotal,
      label,
      colour: (node) => (node === 0 ? SYNTHETIC_COLOUR : diffColour(afterShare(node) - beforeShare(node), maxChange)),
      tooltip: (node) => `${label(node)}\n${formatDiffSummary(afterTotal[node]!, afterShare(node), beforeShare(node))}`,
    });
    this.table.setRows(diffRows(data, names));
  }
}

export function diffRows(data: DiffData, names: Map<number, { name: string; file: string }>): DiffRow[] {
  const before = Math.max(data.beforeSamples, 1);
  const after = Math.max(data.afterSamples, 1);
  return data.functions.map(([id, beforeSelf, beforeTotal, afterSelf, afterTotal]) => {
    const totalChange = afterTotal / after - beforeTotal / before;
    return {
      name: names.get(id)?.name ?? '?',
      file: names.get(id)?.file ?? '?',
      status: statusOf(beforeTotal, afterTotal, totalChange),
      beforeSelf: beforeSelf / before,
      beforeTotal: beforeTotal / before,
      afterSelf: afterSelf / after,
      afterTotal: afterTotal / after,
      selfChange: afterSelf / after - beforeSelf / before,
      totalChange,
    };
  });
}

function statusOf(beforeTotal: number, afterTotal: number, change: number): DiffRow['status'] {
  if (afterTotal === 0) return 'removed';
  if (beforeTotal === 0) return 'added';
  return formatChange(change) === formatChange(0) ? 'unchanged' : change > 0 ? 'grew' : 'shrank';
}

function signClass(row: DiffRow): string {
  return row.totalChange > 0 && row.status !== 'unchanged'
    ? 'grew'
    : row.totalChange < 0 && row.status !== 'unchanged'
      ? 'shrank'
      : '';
}

function percentColumn(title: string, share: (row: DiffRow) => number) {
  return { title, value: share, text: (row: DiffRow) => formatPercent(share(row)), numeric: true };
}

function changeColumn(title: string, change: (row: DiffRow) => number) {
  return {
    title,
    value: change,
    text: (row: DiffRow) => formatChange(change(row)),
    numeric: true,
    cellClass: (row: DiffRow) => (change(row) > 0 ? 'grew' : change(row) < 0 ? 'shrank' : ''),
  };
}
