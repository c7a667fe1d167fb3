// File formats written (export*) and read back (import*), one file per format, each over the profile model.
// FORMATS lists the file formats this layer writes, with the name `-f` knows them by and their extension.
import type { CallTreeOptions, Profile } from '../profile/index.js';
import { exportChromeTrace } from './chrome-trace.js';
import { exportCollapsed } from './collapsed.js';
import { exportGecko } from './gecko.js';
import { exportHotpathProfile } from './hotpath-profile.js';
import { exportPprof } from './pprof.js';
import { exportPstats } from './pstats.js';
import { exportSpeedscope } from './speedscope.js';

export * from './collapsed.js';
export * from './collapsed-import.js';
export * from './speedscope.js';
export * from './speedscope-import.js';
export * from './pprof.js';
export * from './pstats.js';
export * from './chrome-trace.js';
export * from './gecko.js';
export * from './hotpath-profile.js';
export * from './load-profile.js';

export interface ExportFormat {
  name: string;
  /** Default file extension, without the leading dot. */
  extension: string;
  description: string;
  /** Only 'raw' reads the call-tree options (filter, grouping, line or function frames). */
  export(profile: Profile, options?: CallTreeOptions): string | Buffer;
}

export const FORMATS: readonly ExportFormat[] = [
  {
    name: 'raw',
    extension: 'txt',
    description: 'collapsed stacks, one "frame;frame;frame count" line per stack (flamegraph.pl input)',
    export: (profile, options) => exportCollapsed(profile, options),
  },
  {
    name: 'speedscope',
    extension: 'speedscope.json',
    description: 'speedscope JSON (https://www.speedscope.app), one profile per thread',
    export: (profile) => exportSpeedscope(profile),
  },
  {
    name: 'pprof',
    extension: 'pb.gz',
    description: 'gzipped pprof protobuf for `go tool pprof`, with thread, pid and endpoint labels',
    export: (profile) => exportPprof(profile),
  },
  {
    name: 'pstats',
    extension: 'prof',
    description: "Python's pstats/cProfile marshal format, for `python -m pstats` and SnakeViz",
    export: (profile) => exportPstats(profile),
  },
  {
    name: 'chrometrace',
    extension: 'trace.json',
    description: 'Chrome Trace Event JSON with a timeline per thread and request (chrome://tracing, Perfetto)',
    export: (profile) => exportChromeTrace(profile),
  },
  {
    name: 'gecko',
    extension: 'gecko.json',
    description: 'Firefox Profiler JSON (https://profiler.firefox.com), with a marker per request',
    export: (profile) => exportGecko(profile),
  },
  {
    name: 'hotpath',
    extension: 'hotpath',
    description: "hotpath's own compact saved profile: convert it to any format later",
    export: (profile) => exportHotpathProfile(profile),
  },
];
