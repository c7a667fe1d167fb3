// Linux process access, with no CPython knowledge.
export * from './bytes.js';
export * from './memory-reader.js';
export * from './page-cache-reader.js';
export * from './captured-memory.js';
export * from './vm-reader.js';
export * from './maps.js';
export * from './process.js';
export * from './thread-stat-reader.js';
export * from './memory-usage-reader.js';
export * from './permissions.js';
export * from './namespaces.js';
