// Builds hotpath's optional native addons with the system C compiler and the Node-API headers that come with
// Node: the reader (src/proc/native/vm-read.c) and the sampling loop (src/sampler/native/stack-sampler.c), into
// dist/native/. Without a compiler or headers it says so in one line and exits 0: hotpath then samples from
// JavaScript and reads memory through /proc/PID/mem, slower but the same.
//   node scripts/build-native.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADDONS = [
  { name: 'vm_read', source: 'src/proc/native/vm-read.c', output: 'dist/native/vm-read.node', libraries: [] },
  {
    name: 'stack_sampler',
    source: 'src/sampler/native/stack-sampler.c',
    output: 'dist/native/stack-sampler.node',
    libraries: ['-lpthread'],
  },
];

function findHeaders() {
  const prefix = path.dirname(path.dirname(process.execPath));
  const candidates = [path.join(prefix, 'include/node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

function upToDate(source, output) {
  try {
    return fs.statSync(output).mtimeMs >= fs.statSync(source).mtimeMs;
  } catch {
    return false;
  }
}

function build(addon, headers) {
  const source = path.join(root, addon.source);
  const output = path.join(root, addon.output);
  if (upToDate(source, output)) return;
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
        `-DNODE_GYP_MODULE_NAME=${addon.name}`,
        source,
        '-o',
        partial,
        ...addon.libraries,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    fs.renameSync(partial, output);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    const why = err.code === 'ENOENT' ? `no C compiler (${compiler})` : String(err.stderr || err.message).trim();
    console.warn(`hotpath: ${addon.source} not built (${why.split('\n')[0]}); hotpath works without it, slower`);
  }
}

const headers = findHeaders();
if (headers) for (const addon of ADDONS) build(addon, headers);
else console.warn('hotpath: native addons not built (no Node-API headers found); hotpath works without them, slower');
