// Builds hotpath's optional native reader (src/proc/native/vm-read.c) into dist/native/vm-read.node with the
// system C compiler and the Node-API headers that come with Node. Without a compiler or headers it says so in
// one line and exits 0: hotpath then reads memory through /proc/PID/mem, slower but the same.
//   node scripts/build-native.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src/proc/native/vm-read.c');
const output = path.join(root, 'dist/native/vm-read.node');

function findHeaders() {
  const prefix = path.dirname(path.dirname(process.execPath));
  const candidates = [path.join(prefix, 'include/node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

function upToDate() {
  try {
    return fs.statSync(output).mtimeMs >= fs.statSync(source).mtimeMs;
  } catch {
    return false;
  }
}

function build() {
  if (upToDate()) return;
  const headers = findHeaders();
  if (!headers) {
    console.warn('hotpath: native reader not built (no Node-API headers found); using /proc/PID/mem');
    return;
  }
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const partial = `${output}.${process.pid}.tmp`;
  const compiler = process.env.CC || 'cc';
  try {
    execFileSync(
      compiler,
      [
        '-O2',
        '-shared',
        '-fPIC',
        '-Wall',
        '-Wextra',
        '-Werror',
        `-I${headers}`,
        '-DNODE_GYP_MODULE_NAME=vm_read',
        source,
        '-o',
        partial,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    fs.renameSync(partial, output);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    const why = err.code === 'ENOENT' ? `no C compiler (${compiler})` : String(err.stderr || err.message).trim();
    console.warn(`hotpath: native reader not built (${why.split('\n')[0]}); using /proc/PID/mem`);
  }
}

build();
