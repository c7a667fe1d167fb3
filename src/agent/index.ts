// Continuous profiling: samples cut into intervals and pushed to Grafana Pyroscope's ingest API in the background.
export * from './ingest-name.js';
export * from './ingest-request.js';
export * from './upload-intervals.js';
export * from './upload-queue.js';
export * from './pyroscope-agent.js';
