// Everything the dashboard knows, fed one raw sample at a time: the whole profile since the start (for downloads and
// -o), a call tree of every stack seen, counts since the start and per second of the rolling window, and the
// processes followed. A sample costs an interned-stack lookup and a few map updates; views are built on request.

import { ProfileBuilder, mergeEndpointCounts, type Profile, type ProfileMeta } from '../profile/index.js';
import { NO_REQUEST_LABEL } from '../render/html-client/report-model.js';
import type { ProcessEvent, RawSample } from '../sampler/index.js';
import { buildView } from './build-view.js';
import { RollingWindow, addCount, emptyCounts } from './rolling-window.js';
import type { Snapshot, SnapshotEvent, SnapshotProcess, SnapshotSampling } from './snapshot.js';
import { SNAPSHOT_SCHEMA } from './snapshot.js';
import { StackTrie } from './stack-trie.js';

/** Attach/detach events kept for the page: enough to see workers respawn, bounded however long it runs. */
export const MAX_EVENTS = 200;

/** The sampling facts a snapshot carries besides the samples; the command supplies them from its sampler. */
export type SamplingFacts = Omit<SnapshotSampling, 'samples'>;

export class LiveProfile {
  private readonly builder = new ProfileBuilder();
  private readonly trie = new StackTrie();
  /** Builder stack id → call-tree node: a stack seen before costs one lookup. */
  private readonly nodeOfStack = new Map<number, number>();
  private readonly window: RollingWindow;
  private readonly sinceStart = emptyCounts();
  private readonly processes = new Map<number, SnapshotProcess>();
  private readonly events: SnapshotEvent[] = [];

  /** `endpointAliases`: labels to merge into others (RequestContextReader.endpointAliases), asked at each view. */
  constructor(
    readonly title: string,
    readonly windowSeconds: number,
    private readonly endpointAliases: () => ReadonlyMap<string, string> = () => new Map(),
  ) {
    this.window = new RollingWindow(windowSeconds);
  }

  /** Stack samples since the start. */
  get samples(): number {
    return this.sinceStart.samples;
  }

  add(sample: RawSample): void {
    this.builder.addSample(sample);
    const stack = this.builder.internFrames(sample.frames);
    let node = this.nodeOfStack.get(stack);
    if (node === undefined) {
      node = this.trie.nodeOf(sample.frames);
      this.nodeOfStack.set(stack, node);
    }
    const endpoint = sample.endpoint ?? NO_REQUEST_LABEL;
    this.window.add(sample.time, node, endpoint);
    addCount(this.sinceStart, node, endpoint);
  }

  addSource(file: string, lines: readonly string[]): void {
    this.builder.addSource(file, lines);
  }

  noteProcessEvent(event: ProcessEvent, time = Date.now()): void {
    this.events.push({ time, kind: event.kind, pid: event.pid, detail: event.detail });
    if (this.events.length > MAX_EVENTS) this.events.shift();
    if (event.kind === 'attach') {
      this.builder.addProcess(event.pid, event.detail);
      this.processes.set(event.pid, {
        pid: event.pid,
        pythonVersion: event.pythonVersion ?? '',
        command: event.detail,
        attachedAt: time,
        leftAt: null,
        leftReason: null,
      });
    } else if (event.kind === 'detach') {
      const followed = this.processes.get(event.pid);
      if (followed) Object.assign(followed, { leftAt: time, leftReason: event.detail });
    }
  }

  /** The last `windowSeconds` (at most the window kept) of sampling, or everything when null. */
  snapshot(windowSeconds: number | null, sampling: SamplingFacts, now = Date.now()): Snapshot {
    const counts =
      windowSeconds === null
        ? this.sinceStart
        : this.window.sum(Math.min(windowSeconds, this.windowSeconds), sampling.elapsedMs);
    return {
      schema: SNAPSHOT_SCHEMA,
      title: this.title,
      now,
      view: { window: windowSeconds, maxWindow: this.windowSeconds, samples: counts.samples },
      sampling: { ...sampling, dropped: { ...sampling.dropped }, samples: this.sinceStart.samples },
      processes: [...this.processes.values()].map((process) => ({ ...process })),
      events: this.events.map((event) => ({ ...event })),
      ...buildView(this.trie, { ...counts, endpoints: mergeEndpointCounts(counts.endpoints, this.endpointAliases()) }),
    };
  }

  /** The whole profile since the start, as `record` would have written it. */
  buildProfile(meta: ProfileMeta): Profile {
    this.builder.mergeEndpoints(this.endpointAliases());
    return this.builder.build(meta);
  }
}
