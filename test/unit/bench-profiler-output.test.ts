// Reading the reference profilers' outputs: py-spy and hotpath collapsed stacks, Tachyon's collapsed stacks
// and austin's one-line-per-sample text, down to function names, counts, depth and shares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFrameName,
  functionShares,
  meanDepth,
  parseAustin,
  parseCollapsed,
} from '../../bench/lib/profiler-output.js';

// As py-spy 0.4 `record -f raw` writes them (hotpath's raw format is the same).
const PY_SPY = [
  '<module> (deep.py:25);descend (deep.py:19);spin (deep.py:13) 7',
  '<module> (deep.py:25);descend (deep.py:21);spin (deep.py:12) 3',
  '',
].join('\n');

// As `python3.15 -m profiling.sampling attach --collapsed` writes them: a tid root, then file:function:line.
const TACHYON = [
  'tid:22791;deep.py:<module>:25;deep.py:descend:19;deep.py:spin:13 1999',
  'tid:22791;/srv/a:b.py:<module>:1;/srv/a:b.py:share_10:7 1',
].join('\n');

// As austin 3.7 writes them: metadata comments, then P<pid>;T<iid>:<tid>;frames… <µs> per sample.
const AUSTIN = [
  '# austin: 3.7.0',
  '# interval: 1000',
  '# mode: wall',
  '',
  'P22162;T0:22162;/work/deep.py:<module>:25;/work/deep.py:descend:19;/work/deep.py:spin:13 6906',
  'P22162;T0:22162;/work/deep.py:<module>:25;/work/deep.py:descend:19;/work/deep.py:spin:12 1093',
  'P22162;T0:22162;/work/deep.py:<module>:25;/work/deep.py:share_30:3 1001',
  '',
  '# duration: 2001269',
].join('\n');

test('frame names in both styles, including paths and names with colons or parentheses', () => {
  assert.equal(decodeFrameName('descend (deep.py:19)', 'name-file-line'), 'descend');
  assert.equal(decodeFrameName('Handler.get (views (old).py:3)', 'name-file-line'), 'Handler.get');
  assert.equal(decodeFrameName('<module> (/srv/app.py:1)', 'name-file-line'), '<module>');
  assert.equal(decodeFrameName('/srv/a:b.py:share_10:7', 'file-name-line'), 'share_10');
  assert.equal(decodeFrameName('deep.py:<module>:25', 'file-name-line'), '<module>');
});

test('py-spy collapsed stacks: counts add up, frames outermost first', () => {
  const parsed = parseCollapsed(PY_SPY, 'name-file-line');
  assert.equal(parsed.samples, 10);
  assert.deepEqual(parsed.stacks[0], { functions: ['<module>', 'descend', 'spin'], count: 7 });
  assert.equal(meanDepth(parsed), 3);
});

test('Tachyon collapsed stacks: the tid root is not a frame', () => {
  const parsed = parseCollapsed(TACHYON, 'file-name-line');
  assert.equal(parsed.samples, 2000);
  assert.deepEqual(parsed.stacks[0]!.functions, ['<module>', 'descend', 'spin']);
  assert.deepEqual(parsed.stacks[1]!.functions, ['<module>', 'share_10']);
});

test('austin text: one sample per P line, metadata kept, pid and thread columns dropped', () => {
  const parsed = parseAustin(AUSTIN);
  assert.equal(parsed.samples, 3);
  assert.equal(parsed.meta.austin, '3.7.0');
  assert.equal(parsed.meta.duration, '2001269');
  assert.deepEqual(parsed.stacks[2]!.functions, ['<module>', 'share_30']);
});

test('shares count samples containing a function among those containing any of them', () => {
  const parsed = parseCollapsed(
    ['main;share_10;busy 10', 'main;share_30;busy 30', 'main;share_60;busy 60', 'main;startup 900'].join('\n'),
    'name-file-line',
  );
  assert.deepEqual(Object.fromEntries(functionShares(parsed, ['share_10', 'share_30', 'share_60'])), {
    share_10: 0.1,
    share_30: 0.3,
    share_60: 0.6,
  });
});
