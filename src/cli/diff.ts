// `hotpath diff BEFORE AFTER`: compares two saved profiles of one program and writes a differential flame
// graph (widths from AFTER, red grew, blue shrank) as SVG, or as HTML with the table of changed functions.

import path from 'node:path';
import { HotpathError } from '../errors/index.js';
import { loadProfile } from '../export/index.js';
import { buildProfileDiff, type ProfileDiff } from '../profile/index.js';
import { formatChange, renderDiffFlamegraphSvg, renderDiffHtml } from '../render/index.js';
import { checkWritable, writeFileAtomic } from './atomic-write.js';
import type { Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';
import { parseFileArguments } from './file-arguments.js';

interface DiffValues {
  output?: string;
  format?: string;
  title?: string;
  help?: boolean;
}

const DIFF_FORMATS = ['html', 'svg'] as const;
type DiffFormat = (typeof DIFF_FORMATS)[number];
const SUMMARY_FUNCTIONS = 5;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Compare two saved profiles: a differential flame graph and the functions that changed most',
  usage: `hotpath diff [options] BEFORE AFTER

BEFORE and AFTER are saved profiles of the same program (.hotpath, speedscope JSON or collapsed stacks).
Frame widths are AFTER's samples; colour is the change of each function's share of its profile's samples:
red grew, blue shrank. Functions match by name and file, so edits that move lines do not matter.

Options:
  -o, --output FILE     where to write: .html (graph and table) or .svg (default: hotpath-diff.html)
  -f, --format FORMAT   html or svg (default: from the output's extension)
      --title TEXT      title of the graph`,
  formats: DIFF_FORMATS,
  run: runDiff,
};

async function runDiff(argv: readonly string[]): Promise<number> {
  const { values, files } = parseFileArguments<DiffValues>(argv, {
    output: { type: 'string', short: 'o' },
    format: { type: 'string', short: 'f' },
    title: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(diffCommand.usage);
    return EXIT_OK;
  }
  if (files.length !== 2)
    throw new HotpathError('usage', 'diff takes two profile files: hotpath diff BEFORE AFTER -o diff.html');
  const [beforeFile, afterFile] = files as [string, string];
  const format = pickFormat(values);
  const output = values.output ?? `hotpath-diff.${format}`;
  checkWritable(output);
  const diff = buildProfileDiff(loadProfile(beforeFile), loadProfile(afterFile));
  const options = {
    title: values.title ?? `hotpath diff: ${path.basename(beforeFile)} → ${path.basename(afterFile)}`,
    beforeName: path.basename(beforeFile),
    afterName: path.basename(afterFile),
  };
  writeFileAtomic(output, format === 'svg' ? renderDiffFlamegraphSvg(diff, options) : renderDiffHtml(diff, options));
  console.error(`hotpath: wrote the ${format} diff to ${path.resolve(output)}\n${summarizeDiff(diff)}`);
  return EXIT_OK;
}

function pickFormat(values: DiffValues): DiffFormat {
  const name = values.format ?? (values.output?.toLowerCase().endsWith('.svg') ? 'svg' : 'html');
  if (!(DIFF_FORMATS as readonly string[]).includes(name)) {
    throw new HotpathError('usage', `unknown diff format "${name}"; choose html or svg`);
  }
  return name as DiffFormat;
}

/** The few functions whose share changed most, one line each, for the terminal. */
export function summarizeDiff(diff: ProfileDiff): string {
  const lines = diff.functions
    .filter((f) => formatChange(f.change.total) !== formatChange(0))
    .slice(0, SUMMARY_FUNCTIONS)
    .map(
      (f) =>
        `  ${formatChange(f.change.total).padStart(12)}  ${f.name} (${f.file})${f.status === 'both' ? '' : `, ${f.status}`}`,
    );
  const header = `${diff.beforeSamples} samples before, ${diff.afterSamples} after; largest changes of total share:`;
  return lines.length ? [header, ...lines].join('\n') : `${header} none`;
}
