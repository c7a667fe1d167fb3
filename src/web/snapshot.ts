// What `GET /api/snapshot` returns and the dashboard page draws: one view (the last N seconds, or since the start)
// of the flame graph, functions and endpoints, plus the processes followed and how sampling is going.
// Types only, shared by the server and the page's client code; docs/dashboard.md documents every field.

export const SNAPSHOT_SCHEMA = 1;

export interface Snapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  title: string;
  /** Unix epoch milliseconds when the snapshot was taken. */
  now: number;
  view: SnapshotView;
  sampling: SnapshotSampling;
  /** Every process followed so far, in the order they were attached. */
  processes: SnapshotProcess[];
  /** The latest attach/detach events, oldest first. */
  events: SnapshotEvent[];
  /** Samples of the view per endpoint ("METHOD /route", or "(no request)"), most first. */
  endpoints: SnapshotEndpoint[];
  /** Every function with samples in the view, most own samples first; the flame graph's `func` indexes this. */
  functions: SnapshotFunction[];
  flame: SnapshotFlame;
}

export interface SnapshotView {
  /** Seconds of the rolling window shown, or null for everything since the start. */
  window: number | null;
  /** The longest window the server keeps (`--window`), the page's default view. */
  maxWindow: number;
  /** Stack samples in the view (one per thread per tick): the 100% of every share. */
  samples: number;
}

export interface SnapshotSampling {
  /** Unix epoch milliseconds when sampling started; 0 before it has. */
  startTime: number;
  elapsedMs: number;
  /** Ticks per second asked for (`--rate`) and achieved so far. */
  rateHz: number;
  achievedHz: number;
  ticks: number;
  /** Per process per tick: reads tried and succeeded, and failures by reason. */
  attempted: number;
  taken: number;
  dropped: Record<string, number>;
  /** Stack samples since the start. */
  samples: number;
}

export interface SnapshotProcess {
  pid: number;
  pythonVersion: string;
  command: string;
  /** Unix epoch milliseconds. */
  attachedAt: number;
  /** When and why the process was left (it exited, or was no longer a child); null while followed. */
  leftAt: number | null;
  leftReason: string | null;
}

export interface SnapshotEvent {
  /** Unix epoch milliseconds. */
  time: number;
  kind: 'attach' | 'detach' | 'skip';
  pid: number;
  /** The command line (attach), why it was left (detach) or why it was not profiled (skip). */
  detail: string;
}

export interface SnapshotEndpoint {
  label: string;
  samples: number;
}

export interface SnapshotFunction {
  name: string;
  file: string;
  /** The function's first line; 0 when unknown. */
  line: number;
  /** Samples whose innermost frame is in the function. */
  own: number;
  /** Samples with the function anywhere on the stack, counted once per sample even when it recurses. */
  total: number;
}

/**
 * The line-level call tree of the view, depth first with children in label order (a parent before its children,
 * siblings left to right), as parallel arrays. Node 0 is the root ("all", func -1, parent -1).
 */
export interface SnapshotFlame {
  parent: number[];
  /** Index into `functions`. */
  func: number[];
  /** The line executing in that frame; 0 when unknown. */
  line: number[];
  /** Samples in the node and below. */
  total: number[];
  /** Nodes left out because the tree had more than the server sends (the narrowest ones); 0 normally. */
  omitted: number;
}
