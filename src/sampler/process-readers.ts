// Per-process object, locals and thread-name readers, created on first use and dropped with the
// process (a WeakMap, so a detached process takes its caches with it).

import { LocalsReader, ObjectReader, ThreadNameReader, type CodeReader, type PythonProcess } from '../cpython/index.js';

export interface ProcessReaderSet {
  objects: ObjectReader;
  /** Objects read through PythonProcess.onDemandReader: for a request's dict and what hangs off it. */
  onDemandObjects: ObjectReader;
  /** Starts reading a graph of objects from `root` through onDemandObjects (PageCacheReader.beginFrom). */
  beginGraph(root: number): void;
  locals: LocalsReader;
  /** The process's code objects (PythonProcess.codes), for frames that are on no thread's stack. */
  codes: CodeReader;
  threadNames: ThreadNameReader;
  /**
   * Objects and locals read past every page cache (PythonProcess.readFresh): what the target holds now, to confirm
   * after the fact that what was read through the caches still holds.
   */
  freshObjects: ObjectReader;
  freshLocals: LocalsReader;
}

export class ProcessReaders {
  private readonly sets = new WeakMap<PythonProcess, ProcessReaderSet>();

  of(python: PythonProcess): ProcessReaderSet {
    let set = this.sets.get(python);
    if (!set) {
      const objects = new ObjectReader(python.reader, python.layout);
      const fresh = { read: (address: number, length: number) => python.readFresh(address, length), close: () => {} };
      const freshObjects = new ObjectReader(fresh, python.layout);
      set = {
        objects,
        onDemandObjects: new ObjectReader(python.onDemandReader, python.layout),
        beginGraph: (root) => python.onDemandReader.beginFrom(root),
        locals: new LocalsReader(objects),
        codes: python.codes,
        threadNames: new ThreadNameReader(objects, python.location.runtimeAddress),
        freshObjects,
        freshLocals: new LocalsReader(freshObjects),
      };
      this.sets.set(python, set);
    }
    return set;
  }

  /** Python thread names by threading ident (the sampler's readThreadNames). */
  readThreadNames(python: PythonProcess): Map<number, string> {
    return this.of(python).threadNames.read();
  }
}
