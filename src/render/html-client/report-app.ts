/// <reference lib="dom" />
// The HTML report page: header with the profile's meta and trust line, timeline, flame graph, endpoints,
// functions and hot lines; for profiles recorded with --memory also the RSS chart above the timeline, a memory
// growth table and a flame graph weighted by growth. A filter (one endpoint, a time range) applies to everything
// below the timeline; every number comes from report-model.ts, this file only wires views to it.

import { functionColour, SYNTHETIC_COLOUR } from './colours.js';
import { element } from './dom.js';
import { FlameView } from './flame-view.js';
import { formatBytes, formatCount, formatDuration, formatPercent } from './format.js';
import { renderLineHeat } from './line-heat-view.js';
import { MemoryView } from './memory-view.js';
import type { ReportData } from './page-data.js';
import {
  countNodes,
  decodeReport,
  endpointRows,
  frameCounts,
  functionName,
  functionRows,
  growthRows,
  nodeLabel,
  NO_FILTER,
  NO_REQUEST_LABEL,
  timelineRows,
  type EndpointRow,
  type FunctionRow,
  type GrowthRow,
  type NodeWeight,
  type ReportModel,
  type SampleFilter,
} from './report-model.js';
import { SortableTable } from './sortable-table.js';
import { TimelineView } from './timeline-view.js';

/** How many of the hottest functions (by self samples) get a line view. */
const HOT_FUNCTIONS = 10;
const FUNCTION_ROWS = 500;
const GROWTH_ROWS = 200;

export function startPage(data: ReportData): ReportApp {
  const app = new ReportApp(decodeReport(data));
  document.body.append(app.element);
  app.refresh();
  // For people poking at the page in devtools, and the browser tests.
  (window as unknown as { hotpath: ReportApp }).hotpath = app;
  return app;
}

export class ReportApp {
  readonly element: HTMLElement;
  readonly flame = new FlameView({ idPrefix: 'flame' });
  readonly timeline: TimelineView;
  readonly endpoints: SortableTable<EndpointRow>;
  readonly functions: SortableTable<FunctionRow>;
  /** Only for profiles recorded with --memory. */
  readonly memory: MemoryView | null = null;
  readonly growth: SortableTable<GrowthRow> | null = null;
  private readonly weightSelect = element('select', { id: 'flame-weight' });
  private weight: NodeWeight = 'samples';
  /** Bytes grown under the filter, the growth table's whole. */
  private growthTotal = 0;
  private readonly filterBar = element('div', { id: 'filters', className: 'filters' });
  private readonly lines = element('div', { id: 'lines' });
  private filter: SampleFilter = NO_FILTER;
  /** Samples shown (after the filter), and in the time range whatever the endpoint (the endpoint table's whole). */
  private total = 0;
  private rangeTotal = 0;

  constructor(readonly model: ReportModel) {
    const { timeline } = model.data;
    this.timeline = new TimelineView({
      bucketMs: timeline.bucketMs,
      buckets: timeline.buckets,
      onSelect: (range) => this.setFilter({ ...this.filter, range }),
    });
    this.endpoints = new SortableTable<EndpointRow>(
      [
        { title: 'Endpoint', value: (row) => row.label },
        { title: 'Samples', value: (row) => row.samples, text: (row) => formatCount(row.samples), numeric: true },
        {
          title: '%',
          value: (row) => row.samples,
          text: (row) => formatPercent(row.samples / Math.max(this.rangeTotal, 1)),
          numeric: true,
        },
        {
          title: 'Top functions (self)',
          value: (row) => row.top[0]?.name ?? '',
          text: (row) => row.top.map((top) => `${top.name} ${formatPercent(top.self / row.samples, 1)}`).join(', '),
        },
      ],
      {
        id: 'endpoints',
        sortColumn: 1,
        descending: true,
        limit: 200,
        emptyText: 'No samples.',
        onRowClick: (row) =>
          this.setFilter({ ...this.filter, endpoint: this.filter.endpoint === row.endpoint ? null : row.endpoint }),
        isSelected: (row) => row.endpoint === this.filter.endpoint,
      },
    );
    this.functions = new SortableTable<FunctionRow>(
      [
        { title: 'Function', value: (row) => row.name },
        {
          title: 'File',
          value: (row) => row.file,
          text: (row) => (row.firstLine > 0 ? `${row.file}:${row.firstLine}` : row.file),
        },
        { title: 'Self', value: (row) => row.self, text: (row) => formatCount(row.self), numeric: true },
        { title: 'Self %', value: (row) => row.self, text: (row) => this.percentOfShown(row.self), numeric: true },
        { title: 'Total', value: (row) => row.total, text: (row) => formatCount(row.total), numeric: true },
        { title: 'Total %', value: (row) => row.total, text: (row) => this.percentOfShown(row.total), numeric: true },
      ],
      { id: 'functions', sortColumn: 2, descending: true, limit: FUNCTION_ROWS, emptyText: 'No samples.' },
    );
    const { memory } = model.data;
    if (memory) {
      this.memory = new MemoryView(memory.processes, {
        spanMs: timeline.buckets * timeline.bucketMs,
        bucketMs: timeline.bucketMs,
      });
      this.growth = this.createGrowthTable();
    }
    this.element = element('main', {}, [
      renderHeader(model.data),
      ...(this.memory
        ? [
            section('Resident memory', 'RSS per process; each point the highest reading of its interval', [
              this.memory.element,
            ]),
          ]
        : []),
      section('Timeline', 'samples per second per thread; drag to select a time range', [this.timeline.element]),
      section('Flame graph', 'hover for details, click to zoom', [
        ...(this.memory ? [this.createWeightChoice()] : []),
        this.filterBar,
        this.flame.element,
      ]),
      ...(this.growth
        ? [
            section(
              'Memory growth',
              'RSS growth put on the line running when it was seen (self) or on its stack (total): an estimate',
              [this.growth.element],
            ),
          ]
        : []),
      section('Endpoints', 'click one to show only its samples', [this.endpointsNote(), this.endpoints.element]),
      section('Functions', 'total counts a function once per sample, even when it recurses', [this.functions.element]),
      section('Hot lines', `the ${HOT_FUNCTIONS} functions with the most self samples, line by line`, [this.lines]),
    ]);
  }

  /** What the flame graph's widths count (memory: bytes of growth; only with memory data). */
  setWeight(weight: NodeWeight): void {
    this.weight = this.memory ? weight : 'samples';
    this.weightSelect.value = this.weight;
    this.refresh();
  }

  setFilter(filter: SampleFilter): void {
    this.filter = filter;
    this.refresh();
  }

  currentFilter(): SampleFilter {
    return this.filter;
  }

  /** Recomputes every view below the timeline for the current filter. */
  refresh(): void {
    const { model } = this;
    const counts = countNodes(model, this.filter);
    this.total = counts.total[0] ?? 0;
    const growth = this.memory ? countNodes(model, this.filter, 'memory') : null;
    this.growthTotal = growth?.total[0] ?? 0;
    if (this.weight === 'memory' && growth) {
      this.showFlame(
        growth.total,
        (bytes) => `${formatBytes(bytes)} grown, ${this.shareOfGrowth(bytes)}`,
        (bytes) => `${formatBytes(bytes)} grown`,
      );
    } else {
      this.showFlame(counts.total, (count) => `${formatCount(count)} samples, ${this.percentOfShown(count)}`);
    }
    if (growth) this.growth!.setRows(growthRows(model, growth.self, growth.total));
    const functions = functionRows(model, counts.self, counts.total);
    this.functions.setRows(functions);
    const endpoints = endpointRows(model, this.filter.range);
    this.rangeTotal = endpoints.reduce((sum, row) => sum + row.samples, 0);
    this.endpoints.setRows(endpoints);
    const hottest = [...functions]
      .filter((row) => row.self > 0)
      .sort((a, b) => b.self - a.self || a.func - b.func)
      .slice(0, HOT_FUNCTIONS);
    this.lines.replaceChildren(
      ...renderLineHeat(model, hottest, frameCounts(model, counts.self, counts.total), this.total),
    );
    this.timeline.setRows(timelineRows(model, this.filter.endpoint));
    this.timeline.setRange(this.filter.range);
    this.memory?.setRange(this.filter.range);
    this.renderFilterBar();
  }

  /** The flame graph over `total` (samples or bytes grown per node), each node's amount told by `describe`. */
  private showFlame(
    total: Float64Array,
    describe: (amount: number) => string,
    formatAmount?: (amount: number) => string,
  ): void {
    const { model } = this;
    this.flame.setSource({
      tree: model.tree,
      total,
      label: (node) => nodeLabel(model, node),
      colour: (node) => this.nodeColour(node),
      tooltip: (node) => `${nodeLabel(model, node)}\n${describe(total[node]!)}`,
      formatAmount,
    });
  }

  private nodeColour(node: number): string {
    return node === 0 ? SYNTHETIC_COLOUR : functionColour(functionName(this.model, this.model.nodeFunc[node]!));
  }

  private shareOfGrowth(bytes: number): string {
    return formatPercent(this.growthTotal > 0 ? bytes / this.growthTotal : 0);
  }

  private createWeightChoice(): HTMLElement {
    for (const [value, text] of [
      ['samples', 'CPU samples'],
      ['memory', 'Memory growth (bytes)'],
    ] as const) {
      const option = element('option', { text });
      option.value = value;
      this.weightSelect.append(option);
    }
    this.weightSelect.addEventListener('change', () => this.setWeight(this.weightSelect.value as NodeWeight));
    return element('div', { className: 'toolbar' }, [element('label', {}, ['Width: ', this.weightSelect])]);
  }

  private createGrowthTable(): SortableTable<GrowthRow> {
    return new SortableTable<GrowthRow>(
      [
        { title: 'Function', value: (row) => row.name },
        {
          title: 'Line',
          value: (row) => `${row.file}:${String(row.line).padStart(8, '0')}`,
          text: (row) => (row.line > 0 ? `${row.file}:${row.line}` : row.file),
        },
        { title: 'Grown (self)', value: (row) => row.self, text: (row) => formatBytes(row.self), numeric: true },
        { title: 'Self %', value: (row) => row.self, text: (row) => this.shareOfGrowth(row.self), numeric: true },
        { title: 'Grown (total)', value: (row) => row.total, text: (row) => formatBytes(row.total), numeric: true },
        { title: 'Total %', value: (row) => row.total, text: (row) => this.shareOfGrowth(row.total), numeric: true },
      ],
      {
        id: 'memory-growth',
        sortColumn: 2,
        descending: true,
        limit: GROWTH_ROWS,
        emptyText: 'No growth was seen while this code was running.',
      },
    );
  }

  private percentOfShown(count: number): string {
    return formatPercent(this.total > 0 ? count / this.total : 0);
  }

  private endpointsNote(): HTMLElement {
    const note = this.model.data.endpoints.length
      ? ''
      : 'No request labels were recorded; all samples are listed as "(no request)".';
    return element('p', { className: 'table-note', text: note });
  }

  private renderFilterBar(): void {
    const chips: HTMLElement[] = [];
    const { endpoint, range } = this.filter;
    if (endpoint !== null) {
      const label = endpoint === 0 ? NO_REQUEST_LABEL : this.model.data.endpoints[endpoint - 1]!;
      chips.push(chip(`Endpoint: ${label}`, () => this.setFilter({ ...this.filter, endpoint: null })));
    }
    if (range) {
      const { bucketMs } = this.model.data.timeline;
      const text = `Time: ${formatDuration(range[0] * bucketMs)} – ${formatDuration((range[1] + 1) * bucketMs)}`;
      chips.push(chip(text, () => this.setFilter({ ...this.filter, range: null })));
    }
    const shown = `${formatCount(this.total)} of ${formatCount(this.model.data.meta.samples)} samples`;
    this.filterBar.replaceChildren(element('span', { id: 'shown-samples', text: shown }), ...chips);
  }
}

function section(title: string, hint: string, children: HTMLElement[]): HTMLElement {
  return element('section', {}, [
    element('h2', {}, [title, element('span', { className: 'hint', text: hint })]),
    ...children,
  ]);
}

function chip(text: string, onClear: () => void): HTMLElement {
  const clear = element('button', { text: '×', title: 'Remove this filter' });
  clear.addEventListener('click', onClear);
  return element('span', { className: 'chip' }, [text, clear]);
}

function renderHeader(data: ReportData): HTMLElement {
  const { meta } = data;
  const dropped = Object.entries(meta.dropped).filter(([, count]) => count > 0);
  const droppedTotal = dropped.reduce((sum, [, count]) => sum + count, 0);
  const trust =
    `${formatCount(meta.attempted)} attempted, ${formatCount(meta.taken)} taken, ${formatCount(droppedTotal)} dropped` +
    (dropped.length ? ` (${dropped.map(([reason, count]) => `${reason}: ${formatCount(count)}`).join(', ')})` : '');
  const facts: Array<[string, string, string?]> = [
    ['Command', meta.command || '(unknown)'],
    ['Python', meta.pythonVersion || '(unknown)'],
    ['Started', meta.startTime > 0 ? new Date(meta.startTime).toISOString() : '(unknown)'],
    ['Duration', formatDuration(meta.durationMs)],
    ['Rate', `${formatCount(meta.rateHz)} Hz`],
    [
      'Samples',
      `${formatCount(meta.samples)} stacks from ${data.processes.length} process(es), ${data.threads.length} thread(s)`,
    ],
    ['Sampling', trust, 'trust'],
  ];
  const list = element('dl', { className: 'meta', id: 'meta' });
  for (const [term, value, id] of facts) list.append(element('dt', { text: term }), element('dd', { text: value, id }));
  return element('header', {}, [element('h1', { text: data.title }), list]);
}
