// File formats written (export*) and read back (import*), one file per format, each over the profile model.
export * from './collapsed.js';
export * from './collapsed-import.js';
