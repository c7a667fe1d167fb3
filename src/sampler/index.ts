// Sampling: the clock, the followed set of target processes, and the sample loop.
export * from './sample.js';
export * from './clock.js';
export * from './targets.js';
export * from './sampler.js';
export {
  NativeLoop,
  type EnvironSnapshot,
  type GilMode,
  type NativeLoopOptions,
  type SampledSlot,
  type WatchedSlot,
} from './native-loop.js';
export * from './source-capture.js';
export * from './process-readers.js';
export * from './request-context.js';
export * from './forked-thread-ids.js';
