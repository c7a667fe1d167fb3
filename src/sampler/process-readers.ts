// Per-process object, locals and thread-name readers, created on first use and dropped with the
// process (a WeakMap, so a detached process takes its caches with it).

import { LocalsReader, ObjectReader, ThreadNameReader, type CodeReader, type PythonProcess } from '../cpython/index.js';

export interface ProcessReaderSet {
  objects: ObjectReader;
  locals: LocalsReader;
  /**
   * Objects and locals read through PythonProcess.onDemandReader: a request's dict and what hangs off it, or a
   * worker thread's work item and the task that awaits it.
   */
  onDemandObjects: ObjectReader;
  onDemandLocals: LocalsReader;
  /**
   * Starts reading a graph of objects from `root` through onDemandObjects (PageCacheReader.beginFrom): its pages are
   * copied at one moment, not across a whole drain.
   */
  beginGraph(root: number): void;
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
      const onDemandObjects = new ObjectReader(python.onDemandReader, python.layout);
      set = {
        objects,
        locals: new LocalsReader(objects),
        onDemandObjects,
        onDemandLocals: new LocalsReader(onDemandObjects),
        beginGraph: (root) => python.onDemandReader.beginFrom(root),
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
