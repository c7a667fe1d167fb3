// The central profile model, its builder, and pure derivations (call tree, endpoints, diff).
export * from './model.js';
export * from './builder.js';
export * from './call-tree.js';
export * from './function-totals.js';
export * from './diff.js';
export * from './filter.js';
export * from './live-counts.js';
export * from './endpoints.js';
export * from './memory-series.js';
export * from './memory-tracker.js';
export * from './memory-growth.js';
