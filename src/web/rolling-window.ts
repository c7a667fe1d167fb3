// Sample counts for the dashboard's views: per call-tree node and per endpoint, since the start and per second of
// sampling time in a ring of the last N seconds. Adding a sample is a few map updates; a second that leaves the
// ring is overwritten when its slot comes round again, so nothing is ever swept.

export interface ViewCounts {
  samples: number;
  /** Samples whose innermost frame is each call-tree node. */
  nodes: Map<number, number>;
  /** Samples per endpoint label. */
  endpoints: Map<string, number>;
}

export function emptyCounts(): ViewCounts {
  return { samples: 0, nodes: new Map(), endpoints: new Map() };
}

export function addCount(counts: ViewCounts, node: number, endpoint: string): void {
  counts.samples++;
  counts.nodes.set(node, (counts.nodes.get(node) ?? 0) + 1);
  counts.endpoints.set(endpoint, (counts.endpoints.get(endpoint) ?? 0) + 1);
}

interface SecondCounts extends ViewCounts {
  second: number;
}

export class RollingWindow {
  private readonly ring: Array<SecondCounts | undefined>;

  constructor(readonly seconds: number) {
    this.ring = new Array<SecondCounts | undefined>(seconds).fill(undefined);
  }

  /** `timeMs` is the sample's time since sampling started; samples come in time order. */
  add(timeMs: number, node: number, endpoint: string): void {
    const second = Math.floor(timeMs / 1000);
    const slot = second % this.seconds;
    let bucket = this.ring[slot];
    if (bucket?.second !== second) {
      bucket = { second, ...emptyCounts() };
      this.ring[slot] = bucket;
    }
    addCount(bucket, node, endpoint);
  }

  /** Counts of the last `seconds` (at most the ring's) up to `nowMs`, the current second included. */
  sum(seconds: number, nowMs: number): ViewCounts {
    const now = Math.floor(nowMs / 1000);
    const oldest = now - Math.min(seconds, this.seconds) + 1;
    const total = emptyCounts();
    for (const bucket of this.ring) {
      if (!bucket || bucket.second < oldest || bucket.second > now) continue;
      total.samples += bucket.samples;
      for (const [node, count] of bucket.nodes) total.nodes.set(node, (total.nodes.get(node) ?? 0) + count);
      for (const [label, count] of bucket.endpoints) {
        total.endpoints.set(label, (total.endpoints.get(label) ?? 0) + count);
      }
    }
    return total;
  }
}
