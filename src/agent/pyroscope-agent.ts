// The continuous profiling agent: cuts the samples into upload intervals, turns each closed one into a gzipped
// pprof with Pyroscope's labels (endpoint, pid, thread name) and queues it for upload. The sample loop never
// waits on the network: intervals are exported and sent in the event loop's turns between samples.

import { exportPprof } from '../export/index.js';
import type { RawSample } from '../sampler/index.js';
import { sendIngest, type IngestUpload, type PyroscopeServer } from './ingest-request.js';
import { UploadIntervals, type SealedInterval } from './upload-intervals.js';
import { UploadQueue, type UploadCounts } from './upload-queue.js';

export interface PyroscopeAgentOptions {
  server: PyroscopeServer;
  /** The ingest name, `app{k=v,...}` (buildIngestName). */
  name: string;
  rateHz: number;
  /** Whole seconds. */
  uploadIntervalSec: number;
  /** What is profiled, written into each profile's comments. */
  command: string;
  /** Endpoint labels to merge into others in each interval's profile (RequestContextReader.endpointAliases). */
  endpointAliases?: () => ReadonlyMap<string, string>;
  log(message: string): void;
  /** Intervals kept while the server is away (default 60: ten minutes at the default interval). */
  queueCapacity?: number;
  /** Each request's limit (default 10 s). */
  requestTimeoutMs?: number;
  firstBackoffMs?: number;
  maxBackoffMs?: number;
  /** Wall clock, epoch milliseconds. */
  now?: () => number;
}

export interface AgentSummary extends UploadCounts {
  /** Intervals still waiting when the exit deadline came. */
  unsent: number;
}

/** Samples reach the agent at most this long after they were taken (the native loop hands them over in batches). */
const LATE_SAMPLES_MS = 1000;

const DEFAULTS = {
  queueCapacity: 60,
  requestTimeoutMs: 10_000,
  firstBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  endpointAliases: (): ReadonlyMap<string, string> => new Map(),
};

export class PyroscopeAgent {
  private readonly options: Required<PyroscopeAgentOptions>;
  private readonly intervals: UploadIntervals;
  private readonly queue: UploadQueue;
  private readonly sealed: SealedInterval[] = [];
  private exportScheduled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: PyroscopeAgentOptions) {
    this.options = { ...DEFAULTS, now: Date.now, ...options };
    const { rateHz, command, endpointAliases } = this.options;
    const meta = { rateHz, command, endpointAliases };
    this.intervals = new UploadIntervals(options.uploadIntervalSec, this.options.now(), meta);
    this.queue = new UploadQueue({
      capacity: this.options.queueCapacity,
      firstBackoffMs: this.options.firstBackoffMs,
      maxBackoffMs: this.options.maxBackoffMs,
      log: options.log,
      send: (upload, shutdown) =>
        sendIngest(
          options.server,
          upload,
          AbortSignal.any([shutdown, AbortSignal.timeout(this.options.requestTimeoutMs)]),
        ),
    });
  }

  /** Starts closing intervals on time, also while no sample comes (idle targets). */
  start(): void {
    this.armTimer();
  }

  /**
   * Adds a sample taken at wall-clock `wallMs` (epoch ms). Samples may arrive a little after they were taken (the
   * native loop's are taken in every 100-500 ms): they go to the interval of their own time while it is open.
   */
  addSample(sample: RawSample, wallMs: number): void {
    this.keep(this.intervals.add(sample, wallMs));
  }

  /** Closes the interval in progress, sends what is queued until `deadlineMs` (epoch ms) at the latest. */
  async stop(deadlineMs: number): Promise<AgentSummary> {
    clearTimeout(this.timer);
    this.keep(this.intervals.sealRest(this.options.now()));
    this.exportSealed();
    const unsent = await this.queue.close(deadlineMs);
    return { ...this.queue.counts, unsent };
  }

  /**
   * The timer closes an interval that no sample closed (an idle target) only once samples of its last moments had
   * time to arrive: a sample after its end closes it as soon as it comes.
   */
  private armTimer(): void {
    const delay = Math.max(0, this.intervals.endMs + LATE_SAMPLES_MS - this.options.now());
    this.timer = setTimeout(() => {
      this.keep(this.intervals.sealDue(this.options.now() - LATE_SAMPLES_MS));
      this.armTimer();
    }, delay);
    this.timer.unref();
  }

  /** Exports in the next event-loop turn: a sample that closes an interval arrives inside the sample loop. */
  private keep(interval: SealedInterval | undefined): void {
    if (!interval) return;
    this.sealed.push(interval);
    if (this.exportScheduled) return;
    this.exportScheduled = true;
    setImmediate(() => this.exportSealed());
  }

  private exportSealed(): void {
    this.exportScheduled = false;
    for (const interval of this.sealed.splice(0)) this.queue.push(this.buildUpload(interval));
  }

  private buildUpload({ from, until, profile }: SealedInterval): IngestUpload {
    return {
      name: this.options.name,
      from,
      until,
      sampleRateHz: this.options.rateHz,
      body: exportPprof(profile, { labels: 'pyroscope' }),
    };
  }
}
