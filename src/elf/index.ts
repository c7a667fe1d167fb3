// ELF64 sections, symbols, load bias and build-id.
export * from './elf-file.js';
