// CPython decoding: finding the runtime, per-version layouts, and reading threads and frames.
export * from './layout.js';
export * from './debug-offsets.js';
export * from './find-runtime.js';
export * from './runtime-cache.js';
export * from './code-objects.js';
export * from './frames.js';
export * from './await-chain.js';
export * from './threads.js';
export * from './python-process.js';
export { SUPPORTED_RANGE, selectLayout } from './select-layout.js';
export * from './dicts.js';
export { objectIdentity } from './objects.js';
export * from './object-reader.js';
export * from './locals-reader.js';
export * from './describe-value.js';
export * from './thread-names.js';
