// `hotpath convert IN -f FORMAT -o OUT`: turns a saved profile (hotpath, speedscope or collapsed
// stacks) into any output format, without the target. `--endpoint` limits it to matching requests; `--weight
// memory` weighs flame graphs and collapsed stacks by the memory growth of a profile recorded with --memory.

import { loadProfile } from '../export/index.js';
import { HotpathError } from '../errors/index.js';
import { filterByEndpoint } from '../profile/index.js';
import { writeFileAtomic, checkWritable } from './atomic-write.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { parseFileArguments } from './file-arguments.js';
import { parseEndpointPattern } from './arguments.js';
import { OUTPUT_FORMATS, findOutputFormat, formatForFile, parseWeight } from './formats.js';

interface ConvertValues {
  format?: string;
  output?: string;
  endpoint?: string;
  threads?: boolean;
  function?: boolean;
  title?: string;
  weight?: string;
  help?: boolean;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'Convert a saved profile to another format',
  usage: `hotpath convert IN [-f FORMAT] -o OUT

IN is a hotpath saved profile (.hotpath), a speedscope JSON file or collapsed stacks; - reads it from stdin.
Options:
  -f, --format FORMAT   ${OUTPUT_FORMATS.map((f) => f.name).join(', ')}
                        (default: implied by the -o extension)
  -o, --output FILE     where to write
      --endpoint REGEX  keep only samples of requests whose endpoint matches
  -t, --threads         split by thread (flamegraph, raw)
  -F, --function        one frame per function instead of per line (flamegraph, raw)
      --title TEXT      title of the flame graph or report
      --weight WEIGHT   samples (default), or memory: bytes of RSS growth (flamegraph, raw; the
                        profile must be a .hotpath recorded with --memory)`,
  formats: OUTPUT_FORMATS.map((format) => format.name),
  run: runConvert,
};

async function runConvert(argv: readonly string[]): Promise<number> {
  const { values, files } = parseFileArguments<ConvertValues>(argv, {
    format: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    endpoint: { type: 'string' },
    threads: { type: 'boolean', short: 't' },
    function: { type: 'boolean', short: 'F' },
    title: { type: 'string' },
    weight: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(convertCommand.usage);
    return EXIT_OK;
  }
  if (files.length !== 1 || !values.output) throw new HotpathError('usage', 'convert needs one input file and -o OUT');
  const format = values.format ? findOutputFormat(values.format) : formatForFile(values.output);
  if (!format) throw new HotpathError('usage', `cannot tell the format from ${values.output}: give -f FORMAT`);
  const weight = parseWeight(values.weight, format);
  checkWritable(values.output);
  let profile = loadProfile(files[0]!);
  if (weight === 'memory' && !profile.samples.memoryGrowthBytes) {
    throw new HotpathError(
      'usage',
      `${files[0]} has no memory growth to weigh by`,
      'record with hotpath record --memory -f hotpath, then convert that file',
    );
  }
  if (values.endpoint) profile = filterByEndpoint(profile, parseEndpointPattern(values.endpoint)!);
  const data = format.write(profile, {
    title: values.title ?? `hotpath: ${profile.meta.command || files[0]}`,
    groupBy: values.threads ? 'thread' : 'none',
    frameKey: values.function ? 'function' : 'line',
    weight,
  });
  writeFileAtomic(values.output, data);
  console.error(`hotpath: wrote ${format.name} to ${values.output} (${profile.samples.count} samples)`);
  return EXIT_OK;
}
