// `hotpath completions`: the bash script completes commands, options and format names in a real bash; zsh and
// fish scripts name every command; options are read from the usage texts; an unknown shell is a usage error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseOptions } from '../../src/cli/completions.js';
import { repoRoot } from '../support/pythons.js';

const hotpath = join(repoRoot, 'bin', 'hotpath.js');

function completionScript(shell: string): string {
  return execFileSync(process.execPath, [hotpath, 'completions', shell], { encoding: 'utf8' });
}

/** What bash offers for the last of `words` once the script is sourced. */
function bashCompletes(script: string, words: readonly string[]): string[] {
  const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hotpath; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

test('options are read from usage lines, with short names and argument placeholders', () => {
  const options = parseOptions(
    [
      'Options:',
      '  -p, --pid PID          process to profile',
      '      --no-locals        read no frame locals: no request labels',
      '      --basic-auth USER:PASSWORD HTTP basic auth',
    ].join('\n'),
  );
  assert.deepEqual(
    options.map((o) => [o.short, o.long, o.argument]),
    [
      ['p', 'pid', 'PID'],
      [undefined, 'no-locals', undefined],
      [undefined, 'basic-auth', 'USER:PASSWORD'],
      ['h', 'help', undefined],
    ],
  );
});

test('the bash script completes commands, their options and format names in bash', () => {
  const script = completionScript('bash');
  assert.deepEqual(bashCompletes(script, ['hotpath', 'rec']), ['record']);
  assert.deepEqual(bashCompletes(script, ['hotpath', 'record', '--subp']), ['--subprocesses']);
  assert.deepEqual(bashCompletes(script, ['hotpath', 'record', '--format', 'spe']), ['speedscope']);
  assert.deepEqual(bashCompletes(script, ['hotpath', 'convert', '-f', 'ch']), ['chrometrace']);
  assert.deepEqual(bashCompletes(script, ['hotpath', 'diff', '-f', '']), ['html', 'svg'], "diff's own formats");
  assert.deepEqual(bashCompletes(script, ['hotpath', 'dump', '--lo']), ['--locals']);
  assert.ok(bashCompletes(script, ['hotpath', '']).includes('completions'));
});

test('the zsh and fish scripts name every command and its options', () => {
  const zsh = completionScript('zsh');
  assert.match(zsh, /^#compdef hotpath\n/);
  assert.match(zsh, /complete -o filenames -F _hotpath hotpath/);
  const fish = completionScript('fish');
  for (const command of ['record', 'top', 'dump', 'web', 'agent', 'report', 'diff', 'convert', 'doctor']) {
    assert.match(fish, new RegExp(`-n __fish_use_subcommand -f -a ${command} -d `));
  }
  assert.match(fish, /-n '__fish_seen_subcommand_from record' -s p -l pid -r -f -a "\(pgrep -f /);
  assert.match(fish, /-n '__fish_seen_subcommand_from record' -s s -l subprocesses -d 'also profile child processes/);
});

test('an unknown shell is a usage error: one line, exit 2', () => {
  const result = spawnSync(process.execPath, [hotpath, 'completions', 'tcsh'], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.match(result.stderr, /completions needs one shell: bash, zsh, fish/);
});
