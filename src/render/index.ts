// Human views of a profile: pure layout geometry and the renderers that draw it.
export * from './flame-layout.js';
export * from './flamegraph-svg.js';
export * from './endpoint-table.js';
export * from './html-report.js';
export * from './diff-flamegraph.js';
export { formatBytes, formatChange, formatCount, formatPercent } from './html-client/format.js';
