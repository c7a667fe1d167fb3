// Finds a target's CPython runtime: which mapped file holds it (python executable or libpython),
// where `_PyRuntime` lives (symbol, then `.PyRuntime` section, then a validated scan of the binary's
// writable data), and which version it is. Each strategy that fails says why, so errors can explain.

import fs from 'node:fs';
import path from 'node:path';
import { ElfFile } from '../elf/index.js';
import { HotpathError, InvalidDataError } from '../errors/index.js';
import {
  ProcMemoryReader,
  mappingBase,
  openableMappedPath,
  readMaps,
  readThreadIds,
  type MapEntry,
  type MemoryReader,
} from '../proc/index.js';
import type { PythonLayout } from './layout.js';
import { findTableLayout, tableLayouts } from './layouts/index.js';
import { findWritableRanges, rangeBytes, scanForRuntime } from './scan-runtime.js';
import { SUPPORTED_RANGE } from './select-layout.js';

export interface PythonVersion {
  major: number;
  minor: number;
  patch: number;
  /** e.g. "3.12.1" or "3.15.0a2" */
  text: string;
}

export interface RuntimeLocation {
  /** The mapped file holding the interpreter, as the target sees it. */
  binaryPath: string;
  /** Where we opened it from (may be under /proc/PID/root or map_files). */
  openedPath: string;
  runtimeAddress: number;
  /** How _PyRuntime was found: its symbol, its section, or a validated scan of the binary's writable data. */
  strategy: 'symbol' | 'section' | 'scan';
  /** Address of the `Py_Version` constant (3.11+), when exported. */
  pyVersionAddress?: number;
  /** Version as read from the binary (file name, then its read-only data). */
  binaryVersion?: PythonVersion;
  /** Absolute address of a few symbols others need (e.g. PyCode_Type), when exported. */
  symbols: Map<string, number>;
  /** Why other candidate files or strategies were rejected. */
  notes: string[];
}

const WANTED_SYMBOLS = ['PyCode_Type', 'Py_Version', '_PyRuntime'];

/** Mapped files that may contain the interpreter: libpython (shared builds), then the executable. */
export function findInterpreterCandidates(maps: readonly MapEntry[], executable?: string): MapEntry[] {
  const seen = new Set<string>();
  const files = maps.filter((entry) => {
    if (!entry.path.startsWith('/') || seen.has(entry.path)) return false;
    seen.add(entry.path);
    return true;
  });
  const isLibpython = (entry: MapEntry): boolean => /^libpython3\.\d+t?d?\.so/.test(path.basename(entry.path));
  const isExecutable = (entry: MapEntry): boolean =>
    entry.path === executable || /^python[\d.]*[td]*$/.test(path.basename(entry.path));
  return [...files.filter(isLibpython), ...files.filter(isExecutable)];
}

function readExecutablePath(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

export function parseVersion(text: string): PythonVersion | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?((?:a|b|rc)\d+)?/.exec(text);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0), text: match[0] };
}

function versionFromFileName(file: string): PythonVersion | undefined {
  const match = /(?:libpython|python)(\d+\.\d+)/.exec(path.basename(file));
  return match ? parseVersion(match[1]!) : undefined;
}

/**
 * Finds the PY_VERSION literal ("3.12.1") in read-only data. The linker may merge it into the tail of a
 * longer string (e.g. a build path ending in "Python-3.9.18"), so only its end is anchored.
 */
function versionFromRodata(elf: ElfFile, hint: PythonVersion | undefined): PythonVersion | undefined {
  const rodata = elf.section('.rodata');
  if (!rodata || rodata.size > 64 * 1024 * 1024) return undefined;
  const text = elf.readAt(rodata.offset, rodata.size).toString('latin1');
  const prefix = hint ? `${hint.major}\\.${hint.minor}` : '3\\.\\d{1,2}';
  const match = new RegExp(`(?<![\\d.])(${prefix}\\.\\d{1,2}(?:(?:a|b|rc)\\d{1,2})?)\\+?\\0`).exec(text);
  return match ? parseVersion(match[1]!) : hint;
}

export function findRuntime(pid: number, maps = readMaps(pid)): RuntimeLocation {
  const notes: string[] = [];
  for (const entry of findInterpreterCandidates(maps, readExecutablePath(pid))) {
    const openedPath = openableMappedPath(pid, entry);
    if (!openedPath) {
      notes.push(`${entry.path}: cannot open it from here (not at that path, nor via /proc/${pid}/root or map_files)`);
      continue;
    }
    let elf: ElfFile;
    try {
      elf = ElfFile.open(openedPath);
    } catch (err) {
      notes.push(`${entry.path}: ${(err as Error).message}`);
      continue;
    }
    try {
      const location =
        locateInElf(elf, entry.path, openedPath, maps, notes) ?? scanElf(pid, elf, entry.path, openedPath, maps, notes);
      if (location) return location;
    } catch (err) {
      // A damaged or unreadable candidate is noted and skipped: another one may hold the runtime.
      if (!(err instanceof InvalidDataError || err instanceof HotpathError)) throw err;
      notes.push(`${entry.path}: ${err.message}`);
    } finally {
      elf.close();
    }
  }
  const older = findOlderPython(maps);
  if (older) {
    throw new HotpathError(
      'unsupported-version',
      `Python ${older.version} is not supported (pid ${pid} runs ${older.path}; hotpath supports ${SUPPORTED_RANGE})`,
    );
  }
  const pythonish = maps.some((entry) => /python/i.test(path.basename(entry.path)));
  throw new HotpathError(
    pythonish ? 'runtime-not-found' : 'not-python',
    pythonish
      ? `pid ${pid} looks like Python but its runtime (_PyRuntime) was not found: ${notes.join('; ')}`
      : `pid ${pid} is not a Python process (no python executable or libpython is mapped)`,
  );
}

/**
 * A mapped python or libpython older than every layout table (2.7, 3.6, …), named by its file. Their runtime is
 * often not found at all (no _PyRuntime before 3.7), which must not read as "a Python we failed to understand".
 */
function findOlderPython(maps: readonly MapEntry[]): { version: string; path: string } | undefined {
  const oldest = Math.min(...[...tableLayouts.values()].map(({ version: [major, minor] }) => major * 100 + minor));
  for (const entry of maps) {
    const match = /^(?:libpython|python)(\d+)\.(\d+)/.exec(path.basename(entry.path));
    if (match && Number(match[1]) * 100 + Number(match[2]) < oldest) {
      return { version: `${match[1]}.${match[2]}`, path: entry.path };
    }
  }
  return undefined;
}

function locateInElf(
  elf: ElfFile,
  binaryPath: string,
  openedPath: string,
  maps: readonly MapEntry[],
  notes: string[],
): RuntimeLocation | undefined {
  const base = mappingBase(maps, binaryPath);
  if (base === undefined) return undefined;
  const bias = base - elf.imageBaseVaddr();
  const symbols = findWantedSymbols(elf, bias);
  const section = elf.section('.PyRuntime');
  const symbolAddress = symbols.get('_PyRuntime');
  if (symbolAddress === undefined && !section) return undefined;
  return {
    binaryPath,
    openedPath,
    runtimeAddress: symbolAddress ?? section!.address + bias,
    strategy: symbolAddress !== undefined ? 'symbol' : 'section',
    pyVersionAddress: symbols.get('Py_Version'),
    binaryVersion: versionFromRodata(elf, versionFromFileName(binaryPath)),
    symbols,
    notes,
  };
}

/** Absolute addresses of the WANTED_SYMBOLS the binary exports. */
function findWantedSymbols(elf: ElfFile, bias: number): Map<string, number> {
  const symbols = new Map<string, number>();
  for (const name of WANTED_SYMBOLS) {
    const symbol = elf.findSymbol(name);
    if (symbol) symbols.set(name, symbol.value + bias);
  }
  return symbols;
}

/**
 * The last resort for a python binary without `_PyRuntime` symbol or `.PyRuntime` section: a scan of its
 * writable data in the target's memory (see scan-runtime.ts). Notes why when nothing validates.
 */
function scanElf(
  pid: number,
  elf: ElfFile,
  binaryPath: string,
  openedPath: string,
  maps: readonly MapEntry[],
  notes: string[],
): RuntimeLocation | undefined {
  const base = mappingBase(maps, binaryPath);
  if (base === undefined || !/python/i.test(path.basename(binaryPath))) return undefined;
  const symbols = findWantedSymbols(elf, base - elf.imageBaseVaddr());
  const ranges = findWritableRanges(maps, binaryPath);
  const reader = new ProcMemoryReader(pid);
  try {
    const pyVersionAddress = symbols.get('Py_Version');
    const version =
      (pyVersionAddress !== undefined ? readPyVersion(reader, pyVersionAddress) : undefined) ??
      versionFromRodata(elf, versionFromFileName(binaryPath));
    const tables = scanTablesFor(version);
    const found = scanForRuntime(reader, ranges, tables, new Set(readThreadIds(pid)));
    if (!found) {
      const tried = tables.map(({ version: [major, minor] }) => `${major}.${minor}`).join(', ');
      notes.push(
        `${binaryPath}: no _PyRuntime symbol and no .PyRuntime section, and nothing in its ` +
          `${Math.round(rangeBytes(ranges) / 1024)} KiB of writable data validates as the runtime ` +
          `(searched for the 3.13+ _Py_DebugOffsets cookie${tried ? ` and for the interpreter lists of ${tried}` : ''}` +
          `${version ? `; the binary says it is Python ${version.text}` : ''})`,
      );
      return undefined;
    }
    const [major, minor] = found.layout.version;
    return {
      binaryPath,
      openedPath,
      runtimeAddress: found.address,
      strategy: 'scan',
      pyVersionAddress,
      binaryVersion: version ?? { major, minor, patch: 0, text: `${major}.${minor}` },
      symbols,
      notes: [...notes, `${binaryPath}: _PyRuntime found by scanning its writable data (${found.how})`],
    };
  } finally {
    reader.close();
  }
}

/** The tables a scan tries: the binary's own version's when it is known, else every one (each is validated). */
function scanTablesFor(version: PythonVersion | undefined): PythonLayout[] {
  if (!version) return [...tableLayouts.values()];
  const table = findTableLayout(version.major, version.minor);
  return table ? [table] : [];
}

/** Reads PY_VERSION_HEX from the `Py_Version` constant (3.11+) and decodes it. */
export function readPyVersion(reader: MemoryReader, address: number): PythonVersion | undefined {
  try {
    return decodeVersionHex(reader.read(address, 4).readUInt32LE(0));
  } catch {
    return undefined;
  }
}

export function decodeVersionHex(hex: number): PythonVersion | undefined {
  const major = (hex >>> 24) & 0xff;
  const minor = (hex >>> 16) & 0xff;
  const patch = (hex >>> 8) & 0xff;
  const level = (hex >>> 4) & 0xf;
  const serial = hex & 0xf;
  if (major !== 3 || minor > 40) return undefined;
  const suffix = level === 0xa ? `a${serial}` : level === 0xb ? `b${serial}` : level === 0xc ? `rc${serial}` : '';
  return { major, minor, patch, text: `${major}.${minor}.${patch}${suffix}` };
}
