// What hotpath can do to a target, checked in its source: it opens files under /proc only for reading, signals
// no process but the one it launched itself, starts no helper that could (no ptrace; its native code copies from
// the target with process_vm_readv and reads /proc files), and writes files only through the atomic writer. The
// live proof is test/live/attach-cycles.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../../../src/', import.meta.url));

function sources(dir = srcDir): Array<{ file: string; text: string }> {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    if (!entry.name.endsWith('.ts')) return [];
    return [{ file: path.relative(srcDir, full), text: fs.readFileSync(full, 'utf8') }];
  });
}

/** Calls of `name(` with their argument text, up to the matching parenthesis. */
function calls(text: string, name: RegExp): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(new RegExp(`${name.source}\\(`, 'g'))) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (depth > 0 && end < text.length) depth += text[end] === '(' ? 1 : text[end++] === ')' ? -1 : 0;
    found.push(text.slice(match.index, end));
  }
  return found;
}

test('every file under /proc is opened read-only', () => {
  const procOpens = sources().flatMap(({ file, text }) =>
    calls(text, /\bopenSync/)
      .filter((call) => call.includes('/proc/'))
      .map((call) => ({ file, call })),
  );
  assert.ok(
    procOpens.some(({ call }) => call.includes('/mem')),
    'the /proc/PID/mem open was not found',
  );
  for (const { file, call } of procOpens) assert.match(call, /,\s*'r'\s*\)$/, `${file}: ${call}`);
});

test('no process is signalled but the program hotpath launched (record -- python app.py)', () => {
  const kills = sources().flatMap(({ file, text }) => calls(text, /[\w.]*\.kill/).map((call) => `${file}: ${call}`));
  assert.ok(kills.length > 0);
  for (const kill of kills) assert.match(kill, /^cli\/session\.ts: launched\.child\.kill\(/);
});

test('no native code but the read-only reader, no ptrace, no helper process that could touch the target', () => {
  for (const { file, text } of sources()) {
    const danger = /process_vm_writev|\bPTRACE_(ATTACH|SEIZE|INTERRUPT|POKE\w*)|from 'ffi/.exec(text);
    assert.equal(danger, null, `${file}: ${danger?.[0]}`);
    if (/\.node['"]/.test(text)) assert.ok(NATIVE_LOADERS.includes(file), `${file} loads native code`);
    if (/node:child_process/.test(text)) assert.equal(file, 'cli/launch.ts', `${file} starts processes`);
  }
});

/** The native addons, each with the functions it may call besides Node-API's and its own. */
const NATIVE_SOURCES: Record<string, readonly string[]> = {
  'proc/native/vm-read.c': ['process_vm_readv'],
  // The sampling loop: copies target memory, reads /proc files (read-only), and runs, sleeps and locks its thread.
  // Its one raw system call is the futex it sleeps on, checked below.
  'sampler/native/stack-sampler.c': [
    ...['process_vm_readv', 'open', 'pread', 'close', 'access', 'clock_gettime', 'syscall'],
    ...['pthread_create', 'pthread_join', 'pthread_mutex_init', 'pthread_mutex_lock', 'pthread_mutex_unlock'],
    ...['pthread_mutex_destroy', 'atomic_load', 'atomic_exchange', 'atomic_store'],
    ...['malloc', 'calloc', 'realloc', 'free', 'memcpy', 'memset', 'memrchr', 'memcmp', 'snprintf', 'strtoll'],
  ],
};
const NATIVE_LOADERS = ['proc/vm-reader.ts', 'sampler/native-loop.ts'];

test('the native addons only copy from the target and read /proc: no other system call', () => {
  const found = sources()
    .map(({ file }) => file)
    .concat(
      ['proc/native', 'sampler/native'].flatMap((dir) =>
        fs.readdirSync(path.join(srcDir, dir)).map((name) => `${dir}/${name}`),
      ),
    )
    .filter((file) => file.endsWith('.c'));
  assert.deepEqual(found.sort(), Object.keys(NATIVE_SOURCES).sort(), 'the C sources');
  for (const [file, allowedCalls] of Object.entries(NATIVE_SOURCES)) {
    const code = fs.readFileSync(path.join(srcDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const defined = new Set([...code.matchAll(/^static [^(=]*?\b([a-z_][a-z0-9_]*)\s*\(/gm)].map((m) => m[1]));
    const called = new Set([...code.matchAll(/\b([a-z_][a-z0-9_]*)\s*\(/g)].map((m) => m[1]!));
    const keywords = ['if', 'for', 'while', 'switch', 'sizeof', 'return', 'NAPI_MODULE'];
    const unexpected = [...called].filter(
      (name) =>
        !allowedCalls.includes(name) && !defined.has(name) && !keywords.includes(name) && !name.startsWith('napi_'),
    );
    assert.deepEqual(unexpected, [], `${file} calls beyond its allowance`);
    assert.match(code, /process_vm_readv\([^)]*, 0\)/, `${file}: reads (flags 0)`);
    for (const open of calls(code, /\bopen/))
      assert.match(open, /^open\(path, O_RDONLY \| O_CLOEXEC\)$/, `${file}: ${open}`);
    for (const raw of calls(code, /\bsyscall/))
      assert.match(raw, /^syscall\(SYS_futex, &s->stopping, FUTEX_(WAIT_BITSET|WAKE)_PRIVATE,/, `${file}: ${raw}`);
  }
});

test('files are written only by the atomic writer', () => {
  for (const { file, text } of sources()) {
    if (file === 'cli/atomic-write.ts') continue;
    assert.doesNotMatch(text, /\b(writeFileSync|writeSync|appendFileSync|createWriteStream)\(/, file);
    for (const call of calls(text, /\bopenSync/)) assert.doesNotMatch(call, /'[wa]\+?'\s*[,)]/, `${file}: ${call}`);
  }
});
