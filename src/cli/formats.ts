// The output formats `-f/--format` accepts, with their default file extension. Each entry turns a
// Profile into bytes through exactly one exporter or renderer; the CLI never formats anything itself.

import { exportChromeTrace } from '../export/chrome-trace.js';
import { exportCollapsed } from '../export/collapsed.js';
import { exportHotpathProfile } from '../export/hotpath-profile.js';
import { exportPprof } from '../export/pprof.js';
import { exportPstats } from '../export/pstats.js';
import { exportSpeedscope } from '../export/speedscope.js';
import type { CallTreeOptions, Profile } from '../profile/index.js';
import { renderFlamegraphSvg } from '../render/flamegraph-svg.js';
import { HotpathError } from '../errors/index.js';

export interface OutputOptions extends CallTreeOptions {
  title?: string;
}

export interface OutputFormat {
  name: string;
  extension: string;
  description: string;
  write(profile: Profile, options: OutputOptions): string | Buffer;
}

export const OUTPUT_FORMATS: readonly OutputFormat[] = [
  {
    name: 'flamegraph',
    extension: 'svg',
    description: 'interactive SVG flame graph (hover, click to zoom, search)',
    write: (profile, options) => renderFlamegraphSvg(profile, options),
  },
  {
    name: 'raw',
    extension: 'txt',
    description: 'collapsed stacks, one "frame;frame;frame count" line per stack (flamegraph.pl input)',
    write: (profile, options) => exportCollapsed(profile, options),
  },
  {
    name: 'speedscope',
    extension: 'speedscope.json',
    description: 'speedscope JSON (https://www.speedscope.app), one profile per thread',
    write: (profile) => exportSpeedscope(profile),
  },
  {
    name: 'pprof',
    extension: 'pb.gz',
    description: 'gzipped pprof protobuf for `go tool pprof`, with thread, pid and endpoint labels',
    write: (profile) => exportPprof(profile),
  },
  {
    name: 'pstats',
    extension: 'prof',
    description: "Python's pstats/cProfile marshal format, for `python -m pstats` and SnakeViz",
    write: (profile) => exportPstats(profile),
  },
  {
    name: 'chrometrace',
    extension: 'trace.json',
    description: 'Chrome Trace Event JSON with a timeline per thread (chrome://tracing, Perfetto)',
    write: (profile) => exportChromeTrace(profile),
  },
  {
    name: 'hotpath',
    extension: 'hotpath',
    description: "hotpath's own compact saved profile: convert it to any format later",
    write: (profile) => exportHotpathProfile(profile),
  },
];

export function findOutputFormat(name: string): OutputFormat {
  const format = OUTPUT_FORMATS.find((f) => f.name === name);
  if (!format) {
    throw new HotpathError(
      'usage',
      `unknown format "${name}"; choose one of: ${OUTPUT_FORMATS.map((f) => f.name).join(', ')}`,
    );
  }
  return format;
}

/** The format implied by an output file's extension, for `-o profile.json` without `-f`. */
export function formatForFile(file: string): OutputFormat | undefined {
  const byLongestExtension = [...OUTPUT_FORMATS].sort((a, b) => b.extension.length - a.extension.length);
  return byLongestExtension.find((f) => file.endsWith(`.${f.extension}`));
}
