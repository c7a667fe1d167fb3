// The output formats `-f/--format` accepts, with their default file extension. Each entry turns a
// Profile into bytes through exactly one exporter or renderer; the CLI never formats anything itself.

import { exportCollapsed } from '../export/index.js';
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
  return OUTPUT_FORMATS.find((f) => file.endsWith(`.${f.extension}`));
}
