// The output formats `-f/--format` accepts, with their default file extension. Each entry turns a
// Profile into bytes through exactly one exporter or renderer; the CLI never formats anything itself.

import { FORMATS } from '../export/index.js';
import type { CallTreeOptions, Profile, SampleWeight } from '../profile/index.js';
import { renderFlamegraphSvg } from '../render/flamegraph-svg.js';
import { renderHtmlReport } from '../render/html-report.js';
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

/** The renderers (human views) first, then every file format of the export layer. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = [
  {
    name: 'flamegraph',
    extension: 'svg',
    description: 'interactive SVG flame graph (hover, click to zoom, search)',
    write: (profile, options) =>
      renderFlamegraphSvg(profile, { ...options, countName: options.weight === 'memory' ? 'bytes grown' : undefined }),
  },
  {
    name: 'html',
    extension: 'html',
    description: 'self-contained HTML report: flame graph, functions, endpoints, timeline, line heat',
    write: (profile, options) => renderHtmlReport(profile, { title: options.title }),
  },
  ...FORMATS.map((format) => ({ ...format, write: format.export })),
];

export function findOutputFormat(name: string): OutputFormat {
  const format = OUTPUT_FORMATS.find((f) => f.name === name.toLowerCase());
  if (!format) {
    throw new HotpathError(
      'usage',
      `unknown format "${name}"; choose one of: ${OUTPUT_FORMATS.map((f) => f.name).join(', ')}`,
    );
  }
  return format;
}

/** The formats drawn from the call tree, which can weigh samples by the memory growth put on them. */
const WEIGHABLE_FORMATS = ['flamegraph', 'raw'];

/** `--weight samples|memory` for an output format. */
export function parseWeight(value: string | undefined, format: OutputFormat): SampleWeight {
  if (value === undefined || value === 'samples') return 'samples';
  if (value !== 'memory') throw new HotpathError('usage', `unknown --weight "${value}"; choose samples or memory`);
  if (!WEIGHABLE_FORMATS.includes(format.name)) {
    throw new HotpathError(
      'usage',
      `--weight memory works with -f ${WEIGHABLE_FORMATS.join(' and ')}, not ${format.name}`,
      format.name === 'html'
        ? 'the html report shows memory growth on its own: a table and a flame graph option'
        : undefined,
    );
  }
  return 'memory';
}

/** The format implied by an output file's extension, for `-o profile.json` without `-f`. */
export function formatForFile(file: string): OutputFormat | undefined {
  const byLongestExtension = [...OUTPUT_FORMATS].sort((a, b) => b.extension.length - a.extension.length);
  return byLongestExtension.find((f) => file.endsWith(`.${f.extension}`));
}
