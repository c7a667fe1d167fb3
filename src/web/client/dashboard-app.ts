/// <reference lib="dom" />
// The live dashboard page: polls /api/snapshot about every second and redraws the flame graph (the HTML report's
// canvas view: zoom, search), the function, endpoint and process tables and the sampling facts. A zoom and a search
// outlive refreshes; "Pause" freezes the page to read it. When hotpath stops, the last data stays on screen.

import { functionColour, SYNTHETIC_COLOUR } from '../../render/html-client/colours.js';
import { element } from '../../render/html-client/dom.js';
import { FlameView } from '../../render/html-client/flame-view.js';
import { formatCount, formatDuration, formatPercent } from '../../render/html-client/format.js';
import { SortableTable } from '../../render/html-client/sortable-table.js';
import type { Snapshot, SnapshotEndpoint, SnapshotEvent, SnapshotFunction, SnapshotProcess } from '../snapshot.js';
import { decodeFlame, findLabelPath, labelPath, type FlameData } from './dashboard-model.js';

/** Time between the end of one refresh and the next request. */
const REFRESH_MS = 1000;
const FUNCTION_ROWS = 300;
const EVENT_VERBS: Record<SnapshotEvent['kind'], string> = { attach: 'attached', detach: 'left', skip: 'skipped' };

export function startDashboard(): DashboardApp {
  // The page's response set a cookie with the token: take it out of the address bar (and of screenshots).
  if (new URLSearchParams(window.location.search).has('token')) {
    window.history.replaceState(null, '', window.location.pathname);
  }
  const app = new DashboardApp();
  document.body.append(app.element);
  // For people poking at the page in devtools, and the browser tests.
  (window as unknown as { hotpath: DashboardApp }).hotpath = app;
  void app.refresh();
  return app;
}

export class DashboardApp {
  readonly element: HTMLElement;
  readonly flame = new FlameView({ idPrefix: 'flame' });
  readonly functions: SortableTable<SnapshotFunction>;
  readonly endpoints: SortableTable<SnapshotEndpoint>;
  readonly processes: SortableTable<SnapshotProcess>;
  snapshot: Snapshot | null = null;
  /** Snapshots drawn so far. */
  refreshes = 0;
  private flameData: FlameData | null = null;
  /** The zoomed frame's labels from the root, kept across refreshes; empty when not zoomed. */
  private zoomPath: string[] = [];
  private readonly heading = element('h1', { text: 'hotpath web' });
  private readonly status = element('span', { id: 'status', className: 'status' });
  private readonly facts = element('dl', { id: 'meta', className: 'meta' });
  private readonly events = element('ol', { id: 'events', className: 'events' });
  private readonly viewSelect = element('select', { id: 'view' });
  private readonly pauseBox = element('input', { id: 'pause' });
  private timer: number | undefined;
  /** Numbers the refreshes, so only the latest one draws and schedules the next. */
  private request = 0;

  constructor() {
    this.viewSelect.append(option('window', 'Rolling window'), option('all', 'Since start'));
    this.viewSelect.addEventListener('change', () => void this.refresh());
    this.pauseBox.type = 'checkbox';
    this.pauseBox.addEventListener('change', () => (this.pauseBox.checked ? this.pause() : void this.refresh()));
    this.functions = new SortableTable<SnapshotFunction>(
      [
        { title: 'Function', value: (row) => row.name },
        {
          title: 'File',
          value: (row) => row.file,
          text: (row) => (row.line > 0 ? `${row.file}:${row.line}` : row.file),
        },
        { title: 'Own', value: (row) => row.own, text: (row) => formatCount(row.own), numeric: true },
        { title: 'Own %', value: (row) => row.own, text: (row) => this.shareOfView(row.own), numeric: true },
        { title: 'Total', value: (row) => row.total, text: (row) => formatCount(row.total), numeric: true },
        { title: 'Total %', value: (row) => row.total, text: (row) => this.shareOfView(row.total), numeric: true },
      ],
      { id: 'functions', sortColumn: 2, descending: true, limit: FUNCTION_ROWS, emptyText: 'No samples yet.' },
    );
    this.endpoints = new SortableTable<SnapshotEndpoint>(
      [
        { title: 'Endpoint', value: (row) => row.label },
        { title: 'Samples', value: (row) => row.samples, text: (row) => formatCount(row.samples), numeric: true },
        { title: '%', value: (row) => row.samples, text: (row) => this.shareOfView(row.samples), numeric: true },
      ],
      { id: 'endpoints', sortColumn: 1, descending: true, limit: 200, emptyText: 'No samples yet.' },
    );
    this.processes = new SortableTable<SnapshotProcess>(
      [
        { title: 'PID', value: (row) => row.pid, numeric: true },
        { title: 'Python', value: (row) => row.pythonVersion },
        { title: 'Command', value: (row) => row.command },
        { title: 'Attached', value: (row) => row.attachedAt, text: (row) => clockTime(row.attachedAt) },
        {
          title: 'Left',
          value: (row) => row.leftAt ?? Infinity,
          text: (row) => (row.leftAt === null ? 'followed' : `${clockTime(row.leftAt)} (${row.leftReason})`),
        },
      ],
      { id: 'processes', sortColumn: null, descending: false, limit: 500, emptyText: 'No process attached yet.' },
    );
    this.element = element('main', {}, [
      element('header', {}, [this.heading, this.renderControls(), this.facts]),
      section('Flame graph', 'hover for details, click to zoom; the zoom and the search stay as it refreshes', [
        this.flame.element,
      ]),
      section('Functions', 'own: innermost frame; total: anywhere on the stack, once per sample', [
        this.functions.element,
      ]),
      section('Endpoints', 'share of the samples per request route ("(no request)": outside any request)', [
        this.endpoints.element,
      ]),
      section('Processes', 'every process followed, with Gunicorn/uvicorn workers as they come and go', [
        this.processes.element,
        element('h3', { text: 'Latest events' }),
        this.events,
      ]),
    ]);
    this.trackZoom();
  }

  /** Fetches and draws a snapshot now, then keeps doing so until paused or hotpath stops. */
  async refresh(): Promise<void> {
    const request = this.startRequest();
    if (this.pauseBox.checked) return;
    const query = this.viewSelect.value === 'all' ? '?window=all' : '';
    let response: Response;
    let snapshot: Snapshot | undefined;
    try {
      response = await fetch(`/api/snapshot${query}`, { cache: 'no-store', credentials: 'same-origin' });
      if (response.ok) snapshot = (await response.json()) as Snapshot;
    } catch {
      if (request === this.request) this.showStatus('hotpath has stopped: showing the last data it sent', 'stopped');
      return;
    }
    // A change of view or a pause while this request was out started another, or none: this answer is stale.
    if (request !== this.request) return;
    if (response.status === 401) {
      this.showStatus('Not authorised: open the URL hotpath printed, with its token', 'stopped');
      return;
    }
    if (snapshot) this.draw(snapshot);
    else this.showStatus(`The server answered ${response.status}; retrying`, 'error');
    this.timer = window.setTimeout(() => void this.refresh(), REFRESH_MS);
  }

  pause(): void {
    this.startRequest();
    this.showStatus('Paused: untick to resume', 'paused');
  }

  /** Cancels the next scheduled refresh and makes answers to requests already out stale. */
  private startRequest(): number {
    window.clearTimeout(this.timer);
    return ++this.request;
  }

  draw(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.refreshes++;
    document.title = snapshot.title;
    this.heading.textContent = snapshot.title;
    this.viewSelect.options[0]!.text = `Last ${snapshot.view.maxWindow} s`;
    this.drawFlame(snapshot);
    this.functions.setRows(snapshot.functions);
    this.endpoints.setRows(snapshot.endpoints);
    this.processes.setRows(snapshot.processes);
    this.drawFacts(snapshot);
    this.events.replaceChildren(
      ...[...snapshot.events].reverse().map((event) =>
        element('li', {
          text: `${clockTime(event.time)} ${EVENT_VERBS[event.kind]} ${event.pid}: ${event.detail}`,
        }),
      ),
    );
    this.showStatus(`Live, updated ${clockTime(snapshot.now)}`, 'live');
  }

  private drawFlame(snapshot: Snapshot): void {
    const data = decodeFlame(snapshot);
    this.flameData = data;
    const samples = snapshot.view.samples;
    this.flame.setSource({
      tree: data.tree,
      total: data.total,
      label: (node) => data.labels[node]!,
      colour: (node) => (node === 0 ? SYNTHETIC_COLOUR : functionColour(data.names[node]!)),
      tooltip: (node) =>
        `${data.labels[node]}\n${formatCount(data.total[node]!)} samples, ${formatPercent(data.total[node]! / Math.max(samples, 1))}`,
    });
    const focus = findLabelPath(data, this.zoomPath);
    if (focus !== 0) this.flame.zoom(focus);
  }

  /**
   * The flame view zooms on a click and resets on its button; a capturing listener on its element sees the click
   * first, while the frame under the pointer is still the one drawn, and remembers it by its labels.
   */
  private trackZoom(): void {
    this.flame.element.addEventListener(
      'click',
      (event) => {
        const target = event.target as HTMLElement;
        if (target.id === 'flame-reset') this.zoomPath = [];
        if (target.id !== 'flame-canvas' || !this.flameData) return;
        const frame = this.flame.frameAt(event.offsetX, event.offsetY);
        if (frame) this.zoomPath = labelPath(this.flameData, frame.node);
      },
      true,
    );
  }

  private drawFacts(snapshot: Snapshot): void {
    const { sampling, view } = snapshot;
    const dropped = Object.entries(sampling.dropped).filter(([, count]) => count > 0);
    const droppedTotal = dropped.reduce((sum, [, count]) => sum + count, 0);
    const followed = snapshot.processes.filter((process) => process.leftAt === null);
    const facts: Array<[string, string, string]> = [
      ['Running', formatDuration(sampling.elapsedMs), 'running'],
      ['Rate', `${sampling.achievedHz.toFixed(1)} Hz achieved of ${formatCount(sampling.rateHz)} Hz asked`, 'rate'],
      [
        'Samples',
        `${formatCount(view.samples)} in this view, ${formatCount(sampling.samples)} since the start`,
        'samples',
      ],
      [
        'Reads',
        `${formatCount(sampling.taken)} of ${formatCount(sampling.attempted)} ok, ${formatCount(droppedTotal)} dropped` +
          (dropped.length ? ` (${dropped.map(([why, count]) => `${why}: ${formatCount(count)}`).join(', ')})` : ''),
        'dropped',
      ],
      [
        'Processes',
        `${followed.length} followed (${followed.map((process) => process.pid).join(', ') || 'none'}), ` +
          `${snapshot.processes.length - followed.length} left`,
        'followed',
      ],
    ];
    this.facts.replaceChildren(
      ...facts.flatMap(([term, value, id]) => [element('dt', { text: term }), element('dd', { text: value, id })]),
    );
  }

  private renderControls(): HTMLElement {
    const download = (href: string, text: string) => {
      const link = element('a', { text, title: 'The whole profile since the start' });
      link.href = href;
      link.download = '';
      return link;
    };
    return element('div', { className: 'toolbar controls' }, [
      element('label', {}, ['View ', this.viewSelect]),
      element('label', {}, [this.pauseBox, ' Pause']),
      this.status,
      element('span', { className: 'downloads' }, [
        'Download since start: ',
        download('/download/profile.hotpath', '.hotpath'),
        ' · ',
        download('/download/profile.speedscope.json', 'speedscope'),
      ]),
    ]);
  }

  private shareOfView(count: number): string {
    const samples = this.snapshot?.view.samples ?? 0;
    return formatPercent(samples > 0 ? count / samples : 0);
  }

  private showStatus(text: string, state: 'live' | 'paused' | 'stopped' | 'error'): void {
    this.status.textContent = text;
    this.status.dataset['state'] = state;
  }
}

function option(value: string, text: string): HTMLOptionElement {
  const item = element('option', { text });
  item.value = value;
  return item;
}

function section(title: string, hint: string, children: HTMLElement[]): HTMLElement {
  return element('section', {}, [
    element('h2', {}, [title, element('span', { className: 'hint', text: hint })]),
    ...children,
  ]);
}

function clockTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString();
}
