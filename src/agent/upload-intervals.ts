// Cuts the stream of samples into upload intervals of whole seconds, [from, until), each following the last with
// no gap or overlap; boundaries fall on multiples of the interval (as Pyroscope's own agents align them).

import { ProfileBuilder, type Profile } from '../profile/index.js';
import type { RawSample } from '../sampler/index.js';

export interface SealedInterval {
  /** Unix seconds, inclusive. */
  from: number;
  /** Unix seconds, exclusive. */
  until: number;
  profile: Profile;
}

export interface IntervalMeta {
  rateHz: number;
  /** What was profiled, for the profile's comments. */
  command: string;
  /** Endpoint labels to merge into others when an interval is closed (ProfileBuilder.mergeEndpoints). */
  endpointAliases?: () => ReadonlyMap<string, string>;
}

export class UploadIntervals {
  private builder = new ProfileBuilder();
  private from: number;
  private until: number;

  /** The first interval starts at `startMs`'s second and ends at the next boundary. */
  constructor(
    private readonly intervalSec: number,
    startMs: number,
    private readonly meta: IntervalMeta,
  ) {
    this.from = Math.floor(startMs / 1000);
    this.until = this.boundaryAfter(this.from);
  }

  /** Adds a sample taken at wall-clock `wallMs`; returns the interval it closed, if it is the first after one. */
  add(sample: RawSample, wallMs: number): SealedInterval | undefined {
    const sealed = this.sealDue(wallMs);
    this.builder.addSample({ ...sample, time: Math.max(0, wallMs - this.from * 1000) });
    return sealed;
  }

  /** Closes the current interval if `nowMs` is past its end; an interval without samples is skipped, not returned. */
  sealDue(nowMs: number): SealedInterval | undefined {
    if (nowMs < this.until * 1000) return undefined;
    const sealed = this.take(this.until);
    // Usually the next interval; after a stretch without samples or ticks, the one `nowMs` falls in.
    this.from = Math.max(this.until, this.alignedStart(Math.floor(nowMs / 1000)));
    this.until = this.boundaryAfter(this.from);
    return sealed;
  }

  /** Closes the interval in progress at `nowMs` (on exit), ending it at the next whole second. */
  sealRest(nowMs: number): SealedInterval | undefined {
    return this.sealDue(nowMs) ?? this.take(Math.max(this.from + 1, Math.ceil(nowMs / 1000)));
  }

  /** When the current interval ends, in wall-clock milliseconds. */
  get endMs(): number {
    return this.until * 1000;
  }

  private take(until: number): SealedInterval | undefined {
    const builder = this.builder;
    this.builder = new ProfileBuilder();
    if (builder.size === 0) return undefined;
    if (this.meta.endpointAliases) builder.mergeEndpoints(this.meta.endpointAliases());
    const profile = builder.build({
      startTime: this.from * 1000,
      durationMs: (until - this.from) * 1000,
      rateHz: this.meta.rateHz,
      pythonVersion: '',
      command: this.meta.command,
    });
    return { from: this.from, until, profile };
  }

  /** The start of the aligned interval that holds `second`. */
  private alignedStart(second: number): number {
    return Math.floor(second / this.intervalSec) * this.intervalSec;
  }

  private boundaryAfter(second: number): number {
    return this.alignedStart(second) + this.intervalSec;
  }
}
