// The data an HTML page embeds as JSON, shared by the renderer that writes it and the client that reads it:
// the interned model, with its long numeric columns as base64 little-endian bytes (compact, fast to decode).

/** Non-negative integers, each in `width` little-endian bytes, base64-encoded. */
export interface EncodedColumn {
  width: 1 | 2 | 4;
  length: number;
  base64: string;
}

export interface ReportMeta {
  command: string;
  pythonVersion: string;
  /** Unix epoch milliseconds of the first sample. */
  startTime: number;
  durationMs: number;
  rateHz: number;
  /** Stack samples in the profile (one per thread per tick). */
  samples: number;
  /** Sampling ticks per process: tried, succeeded, and failures by reason. */
  attempted: number;
  taken: number;
  dropped: Record<string, number>;
}

export interface ReportData {
  kind: 'report';
  title: string;
  meta: ReportMeta;
  strings: string[];
  /** Per function id: string ids of its name and file, and its first line. */
  functions: { name: EncodedColumn; file: EncodedColumn; firstLine: EncodedColumn };
  /** Per frame id: its function and executing line. */
  frames: { func: EncodedColumn; line: EncodedColumn };
  /**
   * The line-level call tree, depth first with children in label order (so a parent precedes its children
   * and siblings run left to right). Node 0 is the root, "all"; its entries in both columns are 0.
   */
  nodes: { parent: EncodedColumn; frame: EncodedColumn };
  /** [pid, tid, Python thread name or ''] per thread id. */
  threads: Array<[number, number, string]>;
  /** [pid, command line]. */
  processes: Array<[number, string]>;
  endpoints: string[];
  /** Sample times are kept as buckets of `bucketMs`, the timeline's resolution. */
  timeline: { bucketMs: number; buckets: number };
  /**
   * Samples aggregated by (time bucket, thread, endpoint, node): `endpoint` is the endpoint id + 1 (0 for no
   * request) and `node` the call-tree node of the sample's innermost frame (0 for an empty stack).
   */
  records: {
    bucket: EncodedColumn;
    thread: EncodedColumn;
    endpoint: EncodedColumn;
    node: EncodedColumn;
    count: EncodedColumn;
  };
  /** Source lines of the profile's files that were captured, by file name. */
  sources: Record<string, string[]>;
  /** RSS series and growth, for profiles recorded with --memory. */
  memory?: ReportMemory;
}

export interface ProcessMemoryData {
  pid: number;
  /** Readings (thinned: each the highest of its interval), ms since the start and bytes. */
  time: number[];
  residentBytes: number[];
  firstBytes: number;
  lastBytes: number;
  peakBytes: number;
  grownBytes: number;
  freedBytes: number;
  /** Growth seen while no thread of the process was running: in no record. */
  unattributedBytes: number;
}

export interface ReportMemory {
  processes: ProcessMemoryData[];
  /** Bytes of RSS growth of the records that have some: their indices, ascending, and their bytes. */
  growth: { record: EncodedColumn; bytes: number[] };
}

export interface DiffData {
  kind: 'diff';
  title: string;
  beforeName: string;
  afterName: string;
  beforeSamples: number;
  afterSamples: number;
  /** [function id, name, file]. */
  names: Array<[number, string, string]>;
  /**
   * The merged call tree, depth first in label order, only paths AFTER has. Node 0 is the root; `parent` and
   * `func` are stored + 1 (0 for none), counts are samples in each profile.
   */
  nodes: {
    parent: EncodedColumn;
    func: EncodedColumn;
    afterTotal: EncodedColumn;
    afterSelf: EncodedColumn;
    beforeTotal: EncodedColumn;
    beforeSelf: EncodedColumn;
  };
  /** [function id, before self, before total, after self, after total], largest change first. */
  functions: Array<[number, number, number, number, number]>;
}
