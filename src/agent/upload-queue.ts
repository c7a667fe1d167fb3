// Sends uploads one at a time, oldest first, in the background of the sample loop: a bounded queue that drops the
// oldest interval when the server has been away too long, retries with exponential backoff, and logs each kind
// of failure once per outage instead of once per attempt.

import type { IngestOutcome, IngestUpload } from './ingest-request.js';

export interface UploadQueueOptions {
  /** Sends one upload; must not throw. `signal` aborts it when the queue is shut down. */
  send(upload: IngestUpload, signal: AbortSignal): Promise<IngestOutcome>;
  /** Uploads kept waiting at most; one more drops the oldest waiting one. */
  capacity: number;
  /** Wait after the first failure in a row, doubled after each next one up to maxBackoffMs. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  log(message: string): void;
}

export interface UploadCounts {
  sent: number;
  /** Dropped to make room while the server was away. */
  dropped: number;
  /** Refused by the server (4xx): sending them again would not help. */
  rejected: number;
  failedAttempts: number;
}

export class UploadQueue {
  readonly counts: UploadCounts = { sent: 0, dropped: 0, rejected: 0, failedAttempts: 0 };
  private readonly waiting: IngestUpload[] = [];
  private inFlight: IngestUpload | undefined;
  private pumping: Promise<void> | undefined;
  private failuresInARow = 0;
  /** Failure kinds already logged in this outage. */
  private readonly loggedKinds = new Set<string>();
  private readonly shutdown = new AbortController();
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: UploadQueueOptions) {}

  get pending(): number {
    return this.waiting.length;
  }

  push(upload: IngestUpload): void {
    if (this.shutdown.signal.aborted) return;
    this.waiting.push(upload);
    if (this.waiting.length > this.options.capacity) this.dropOldest();
    this.pumping ??= this.pump();
  }

  /**
   * Resolves once every upload is sent (or refused), or at `deadlineMs` (Date.now() time) at the latest: then
   * the one in flight is aborted and the rest given up. Returns how many were not sent.
   */
  async close(deadlineMs: number): Promise<number> {
    this.wakeUp?.(); // one last attempt now rather than after a long backoff
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>(
      (resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()))),
    );
    await Promise.race([this.pumping ?? Promise.resolve(), deadline]);
    clearTimeout(timer);
    const unsent = this.waiting.length;
    this.shutdown.abort();
    this.wakeUp?.();
    await this.pumping;
    return unsent;
  }

  private async pump(): Promise<void> {
    for (let upload = this.waiting[0]; upload && !this.shutdown.signal.aborted; upload = this.waiting[0]) {
      this.inFlight = upload;
      const outcome = await this.options.send(upload, this.shutdown.signal);
      this.inFlight = undefined;
      if (outcome.sent) {
        this.remove(upload);
        this.noteSuccess();
      } else if (!this.shutdown.signal.aborted) {
        this.counts.failedAttempts++;
        this.logOnce(outcome.kind, () =>
          outcome.retry
            ? `upload failed (${outcome.detail}); sampling goes on, retrying with backoff and keeping up to ` +
              `${this.options.capacity} intervals`
            : `the server refused an upload (${outcome.detail}); dropping it`,
        );
        if (outcome.retry) await this.backoff();
        else {
          this.remove(upload);
          this.counts.rejected++;
        }
      }
    }
    this.pumping = undefined;
  }

  private dropOldest(): void {
    // The upload on the wire stays: it may be arriving right now.
    this.waiting.splice(this.waiting[0] === this.inFlight ? 1 : 0, 1);
    const dropped = ++this.counts.dropped;
    if (isPowerOfTen(dropped)) {
      this.options.log(
        `the server has not taken uploads for a while: dropped the oldest interval (${dropped} dropped so far)`,
      );
    }
  }

  private remove(upload: IngestUpload): void {
    const index = this.waiting.indexOf(upload);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  private noteSuccess(): void {
    this.counts.sent++;
    if (this.loggedKinds.size > 0) {
      this.options.log(
        `uploads go through again (after ${this.counts.failedAttempts} failed attempts, ` +
          `${this.counts.dropped} intervals dropped so far)`,
      );
      this.loggedKinds.clear();
    }
    this.failuresInARow = 0;
  }

  private logOnce(kind: string, message: () => string): void {
    if (this.loggedKinds.has(kind)) return;
    this.loggedKinds.add(kind);
    this.options.log(message());
  }

  /** Waits before the next attempt, ±20% so a fleet of agents does not retry in step; shutdown ends it at once. */
  private backoff(): Promise<void> {
    const { firstBackoffMs, maxBackoffMs } = this.options;
    const base = Math.min(maxBackoffMs, firstBackoffMs * 2 ** this.failuresInARow++);
    const delay = base * (0.8 + 0.4 * Math.random());
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => (this.wakeUp = undefined));
  }
}

function isPowerOfTen(n: number): boolean {
  return n >= 1 && 10 ** Math.round(Math.log10(n)) === n;
}
