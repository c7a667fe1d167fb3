// `hotpath report`: renders the self-contained HTML report from a saved profile (hotpath, speedscope or
// collapsed stacks), so a recording can be looked at again without the target.

import path from 'node:path';
import { HotpathError } from '../errors/index.js';
import { loadProfile } from '../export/index.js';
import { renderHtmlReport } from '../render/index.js';
import { checkWritable, writeFileAtomic } from './atomic-write.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { parseFileArguments } from './file-arguments.js';

interface ReportValues {
  output?: string;
  title?: string;
  help?: boolean;
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'Write the HTML report (flame graph, tables, timeline, hot lines) of a saved profile',
  usage: `hotpath report [options] PROFILE

PROFILE is a saved hotpath profile (.hotpath), speedscope JSON or collapsed stacks.

Options:
  -o, --output FILE   where to write (default: PROFILE with .html instead of its extension)
      --title TEXT    title of the report`,
  run: runReport,
};

async function runReport(argv: readonly string[]): Promise<number> {
  const { values, files } = parseFileArguments<ReportValues>(argv, {
    output: { type: 'string', short: 'o' },
    title: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(reportCommand.usage);
    return EXIT_OK;
  }
  if (files.length !== 1)
    throw new HotpathError('usage', 'report takes one profile file, e.g. hotpath report run.hotpath -o run.html');
  const input = files[0]!;
  const output = values.output ?? replaceExtension(input, '.html');
  checkWritable(output);
  const profile = loadProfile(input);
  writeFileAtomic(output, renderHtmlReport(profile, { title: values.title }));
  console.error(`hotpath: wrote the report of ${profile.samples.count} samples to ${path.resolve(output)}`);
  return EXIT_OK;
}

/** "run.hotpath" → "run.html"; "run.speedscope.json" → "run.speedscope.html". */
export function replaceExtension(file: string, extension: string): string {
  const { dir, name } = path.parse(file);
  return path.join(dir, `${name}${extension}`);
}
