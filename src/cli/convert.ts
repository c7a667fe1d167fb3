// `hotpath convert IN -f FORMAT -o OUT`: turns a saved profile (hotpath, speedscope or collapsed
// stacks) into any output format, without the target. `--endpoint` limits it to matching requests.

import { loadProfile } from '../export/index.js';
import { HotpathError } from '../errors/index.js';
import { filterByEndpoint } from '../profile/index.js';
import { writeFileAtomic, checkWritable } from './atomic-write.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { parseFileArguments } from './file-arguments.js';
import { parseEndpointPattern } from './arguments.js';
import { OUTPUT_FORMATS, findOutputFormat, formatForFile } from './formats.js';

interface ConvertValues {
  format?: string;
  output?: string;
  endpoint?: string;
  threads?: boolean;
  function?: boolean;
  title?: string;
  help?: boolean;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'Convert a saved profile to another format',
  usage: `hotpath convert IN [-f FORMAT] -o OUT

IN is a hotpath saved profile (.hotpath), a speedscope JSON file or collapsed stacks.
Options:
  -f, --format FORMAT   ${OUTPUT_FORMATS.map((f) => f.name).join(', ')}
                        (default: implied by the -o extension)
  -o, --output FILE     where to write
      --endpoint REGEX  keep only samples of requests whose endpoint matches
  -t, --threads         split by thread (flamegraph, raw)
  -F, --function        one frame per function instead of per line (flamegraph, raw)
      --title TEXT      title of the flame graph or report`,
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
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(convertCommand.usage);
    return EXIT_OK;
  }
  if (files.length !== 1 || !values.output) throw new HotpathError('usage', 'convert needs one input file and -o OUT');
  const format = values.format ? findOutputFormat(values.format) : formatForFile(values.output);
  if (!format) throw new HotpathError('usage', `cannot tell the format from ${values.output}: give -f FORMAT`);
  checkWritable(values.output);
  let profile = loadProfile(files[0]!);
  if (values.endpoint) profile = filterByEndpoint(profile, parseEndpointPattern(values.endpoint)!);
  const data = format.write(profile, {
    title: values.title ?? `hotpath: ${profile.meta.command || files[0]}`,
    groupBy: values.threads ? 'thread' : 'none',
    frameKey: values.function ? 'function' : 'line',
  });
  writeFileAtomic(values.output, data);
  console.error(`hotpath: wrote ${format.name} to ${values.output} (${profile.samples.count} samples)`);
  return EXIT_OK;
}
