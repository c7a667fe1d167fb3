// Labels a sample with the web request its thread is serving, read out of process from frame locals:
// a WSGI `environ` (Gunicorn, Flask, Django) or an ASGI `scope` (uvicorn, Starlette, FastAPI). Only the
// method, the route or normalised path, and whether the hotpath marker is present are ever kept: no
// header value, cookie, query value or body. Each request's dict is read in full once, then recognised
// by its address and version tag at one small read per sample. A thread pool thread with no request of its own
// (anyio's, under sync FastAPI endpoints) gets the request of the task that awaits its work item.
// Labels are read just after the stack: where the native loop copied the request locals with the stack (see
// watchedSlots), a thread that has moved on to another request by then is not given that request's label.

import {
  dictIdentity,
  objectIdentity,
  readCurrentFrameAddress,
  walkFrames,
  type CodeInfo,
  type LocalsReader,
  type ObjectReader,
  type PyFrame,
  type PythonProcess,
  type ThreadStack,
} from '../cpython/index.js';
import type { RequestLine, SampledSlot, WatchedSlot } from './native-loop.js';
import { ProcessReaders, type ProcessReaderSet } from './process-readers.js';
import { ThreadPoolRequests, WORK_FUNCTION_LOCAL, WORK_ITEM_LOCAL } from './thread-pool-requests.js';

export interface RequestLabel {
  /** "GET /users/{id}" */
  endpoint: string;
  /** Present when the request carries the hotpath marker: one key per request, for its own profile. */
  markedRequest?: string;
  /**
   * Labelled by its path alone, from the native loop's copies: the path's route is not known yet (a read while such a
   * request runs finds it), and endpointAliases() gives it once it is.
   */
  routePending?: boolean;
}

interface RequestInfo {
  method: string;
  /** The normalised path, also what tells two requests on one thread apart. */
  path: string;
  route: string;
  marked: boolean;
  /** False while the framework has not routed the request yet (the route may still appear). */
  routed: boolean;
}

interface ThreadRequest {
  dict: number;
  /** dictIdentity of the dict when it was read. */
  identity: number;
  info: RequestInfo;
  rereads: number;
  requestKey: string;
  /**
   * Made from the native loop's copies (labelFromCopies) of a request no read has seen: its samples do not count
   * towards taking its path to have no route (UNROUTED_READS).
   */
  fromCopies?: true;
}

/**
 * When its labels were read, the thread no longer served the request it served when its stack was taken: that
 * sample gets no label (and the thread's known request stays as it was).
 */
const MOVED_ON = 'moved-on';
type Found = ThreadRequest | typeof MOVED_ON | undefined;

/** What the watched slots of a stack's frames held when it was taken, by frame address. */
type SlotsAtSample = ReadonlyMap<number, readonly SampledSlot[]>;

/** A request-holding local as it was when the stack was taken. */
interface LocalAtSample {
  object: number;
  /**
   * dictIdentity (a dict) or objectIdentity (anything else) of the object then, 0 when unknown (not copied by the
   * native loop, or held through a cell).
   */
  identity: number;
  /** The frame still holds the object: one it no longer holds may have been freed since. */
  heldNow: boolean;
  /**
   * The frame was read in a graph of objects begun from `object` (ProcessReaderSet.beginGraph): what hangs off the
   * object is read through onDemandObjects at the same moment, with no further copy.
   */
  inGraph: boolean;
}

/** Local names that hold a request's dict, and the protocol each implies. */
const REQUEST_LOCALS = [
  ['environ', 'wsgi'],
  ['scope', 'asgi'],
] as const;
type Protocol = (typeof REQUEST_LOCALS)[number][1];
/** Django's ASGIRequest, whose `scope` attribute holds the ASGI scope. */
const REQUEST_OBJECT_LOCAL = 'request';
/** Bits of what a code object's locals can hold: REQUEST_LOCALS by index, then a request object, then a work item. */
const REQUEST_OBJECT_BIT = 1 << REQUEST_LOCALS.length;
/** anyio's worker loop, whose work item a request's task awaits. */
const WORKER_LOOP_BIT = REQUEST_OBJECT_BIT << 1;

/** How many more times an unrouted request's dict is read, in case its route appears later. */
const MAX_ROUTE_REREADS = 5;
const MAX_HEADERS = 256;
const MAX_PATH_CHARS = 200;
const MAX_METHOD_CHARS = 16;
const MAX_TRACKED_THREADS = 10_000;
/** Paths whose route is remembered, at most (forgotten all at once when full). */
const MAX_KNOWN_ROUTES = 10_000;
/**
 * Samples of requests for a method and path read from the target and found unrouted, after which the path is taken
 * to have no route (a plain WSGI app), unless one was found routed: its environ snapshots are labelled by path alone.
 * A framework routes a request at its start, so eight samples in a row before that are most unlikely.
 */
const UNROUTED_READS = 8;
/** The marker users add to a request (query parameter name, or X-Hotpath header) to profile it alone. */
const MARKER = 'hotpath';

export class RequestContextReader {
  private readonly threads = new Map<string, ThreadRequest>();
  /** Dicts (address:identity) read once and found to be no request. */
  private readonly notRequests = new Set<string>();
  /** Which request-holding locals each code object has (bits), looked up once per code object, not per sample. */
  private readonly requestLocals = new WeakMap<CodeInfo, number>();
  /** mayHoldRequest's answer for a stack's code objects (by ThreadStack.codesKey). */
  private readonly holdersByCodes = new WeakMap<readonly PyFrame[], boolean>();
  private readonly threadPool = new ThreadPoolRequests();
  /**
   * Route of each "METHOD /normalised/path" seen routed: a request sampled before its framework routed it (Flask
   * sets url_rule only then) gets the route its path had before, so one view does not show as two endpoints.
   */
  private readonly routesByPath = new Map<string, string>();
  /** How many times requests for each "METHOD /normalised/path" were read in full and found unrouted. */
  private readonly unroutedReads = new Map<string, number>();
  private requestCount = 0;

  constructor(private readonly readers: ProcessReaders = new ProcessReaders()) {}

  /**
   * The request `stack`'s thread is serving, or undefined outside a request. `sampled`: the watched slots the native
   * loop copied with the stack; without them, locals are read as they are now.
   */
  label(python: PythonProcess, stack: ThreadStack, sampled?: readonly SampledSlot[]): RequestLabel | undefined {
    const copied = this.labelFromCopies(python, stack, sampled);
    if (copied === null) return undefined;
    if (copied !== undefined && !copied.routePending) return copied;
    // A read finds what copies cannot (a new path's route); where it finds nothing, the copies still tell the path.
    return this.labelByReading(python, stack, sampled) ?? copied;
  }

  /** label() without trying labelFromCopies first: for a caller that just did. */
  labelByReading(
    python: PythonProcess,
    stack: ThreadStack,
    sampled?: readonly SampledSlot[],
  ): RequestLabel | undefined {
    const readers = this.readers.of(python);
    const copies = bySampledFrame(sampled);
    const threadKey = `${python.pid}:${stack.threadId}`;
    const current = this.findRequest(readers, stack, threadKey, this.threads.get(threadKey), copies);
    if (current === MOVED_ON) return undefined;
    // A stack the native loop walked before it was told which slots to copy (a code object's first samples) was
    // labelled from what its frames hold now: only as good as those frames still running the same code.
    if (current && sampled && !this.copiedEveryHolder(readers, stack, copies) && !stillRuns(readers, stack)) {
      return undefined;
    }
    if (!current) {
      this.forgetThread(threadKey);
      return undefined;
    }
    this.rememberThread(threadKey, current);
    if (!current.info.routed && !current.fromCopies) this.countUnrouted(current.info);
    return this.labelOf(current);
  }

  private labelOf(request: ThreadRequest, routePending?: boolean): RequestLabel {
    const { method, route, marked } = this.withKnownRoute(request.info);
    const markedRequest = marked ? request.requestKey : undefined;
    return { endpoint: `${method} ${route}`, markedRequest, ...(routePending && { routePending }) };
  }

  /**
   * The request `stack` was taken in, from what the native loop copied with it alone (no read of the target, so at
   * any time after): null when no request-holding local was copied set (but environs with no request line), or the
   * first set one is an environ that changed since the walk and was not the thread's last request as walked (label()
   * would find the thread moved on); the request when it is an environ whose request line was copied, by its path
   * alone (routePending) while its route is not known (see infoOfLine). Undefined when only label() can tell.
   */
  labelFromCopies(
    python: PythonProcess,
    stack: ThreadStack,
    sampled: readonly SampledSlot[] | undefined,
  ): RequestLabel | null | undefined {
    const copies = bySampledFrame(sampled);
    if (!copies) return undefined;
    const threadKey = `${python.pid}:${stack.threadId}`;
    const held = this.firstHeldCopy(this.readers.of(python), stack, copies);
    const previous = this.threads.get(threadKey);
    if (held === null) this.forgetThread(threadKey);
    if (held?.environ === 'changed' && isVersionOf(previous, held.value, held.identity)) return this.labelOf(previous);
    if (held === null || held?.environ === 'changed') return null;
    const line = typeof held?.environ === 'object' ? this.infoOfLine(held.environ) : undefined;
    if (!line) return undefined;
    const { value: dict, identity } = held!;
    const { info, routePending } = line;
    const same = isSameRequest(previous, dict, info);
    // A request whose route is pending stays unsettled, so that a read (label()) looks for its route.
    const rereads = routePending ? (same ? previous.rereads : 0) : MAX_ROUTE_REREADS;
    const requestKey = same ? previous.requestKey : this.newRequestKey();
    const request: ThreadRequest = { dict, identity, info, rereads, requestKey };
    // Samples of a request a read has seen count as read (UNROUTED_READS); of one only copies have seen, not.
    if (!same || previous.fromCopies) request.fromCopies = true;
    this.rememberThread(threadKey, request);
    return this.labelOf(request, routePending);
  }

  /**
   * Whether a frame of `stack` may hold a request (a local named like a request's dict or object, or anyio's
   * worker loop): such a stack must be labelled as it is read.
   */
  mayHoldRequest(python: PythonProcess, stack: ThreadStack): boolean {
    const known = this.holdersByCodes.get(stack.codesKey);
    if (known !== undefined) return known;
    const readers = this.readers.of(python);
    const holds = stack.frames.some((frame) => this.requestLocalsOf(readers, frame.code) !== 0);
    // A code object whose names could not be read is asked again next time, and so is its stack.
    if (holds || stack.frames.every(({ code }) => this.requestLocals.has(code)))
      this.holdersByCodes.set(stack.codesKey, holds);
    return holds;
  }

  /**
   * The local slots of `code` that may hold a request (the request's dict, a request object, a work item), for the
   * native loop to copy with each sample of its frames; empty for most code objects.
   */
  watchedSlots(python: PythonProcess, code: CodeInfo): WatchedSlot[] {
    const readers = this.readers.of(python);
    const bits = this.requestLocalsOf(readers, code);
    if (bits === 0) return [];
    const named: [name: string, holds: WatchedSlot['holds']][] = [];
    REQUEST_LOCALS.forEach(([name, protocol], i) =>
      bits & (1 << i) ? named.push([name, protocol === 'wsgi' ? 'environ' : 'dict']) : 0,
    );
    if (bits & REQUEST_OBJECT_BIT) named.push([REQUEST_OBJECT_LOCAL, 'object']);
    if (bits & WORKER_LOOP_BIT) named.push([WORK_ITEM_LOCAL, 'object'], [WORK_FUNCTION_LOCAL, 'object']);
    return named.flatMap(([name, holds]) => readers.locals.slotsOf(code, name).map((slot) => ({ slot, holds })));
  }

  /**
   * Labels of requests sampled only before routing, by the label of the route their path was later seen with:
   * for merging them once a recording ends.
   */
  endpointAliases(): Map<string, string> {
    const aliases = new Map<string, string>();
    for (const [path, route] of this.routesByPath) {
      const method = path.slice(0, path.indexOf(' '));
      if (path !== `${method} ${route}`) aliases.set(path, `${method} ${route}`);
    }
    return aliases;
  }

  /**
   * The first request-holding local of `stack` the native loop copied set, as findRequest meets them (a request's
   * dict in any frame first, then request objects and work items), passing environs copied with no request line;
   * null when there is none, undefined when one was not copied.
   */
  private firstHeldCopy(
    readers: ProcessReaderSet,
    stack: ThreadStack,
    copies: SlotsAtSample,
  ): SampledSlot | null | undefined {
    // Indexed loops: this runs for every stack that may hold a request, and should allocate nothing, whichever tier of
    // V8 runs it.
    const frames = stack.frames;
    for (let pass = 0; pass < LOCALS_IN_SEARCH_ORDER.length; pass++) {
      for (let f = 0; f < frames.length; f++) {
        const names = LOCALS_IN_SEARCH_ORDER[pass]![this.requestLocalsOf(readers, frames[f]!.code)]!;
        for (let n = 0; n < names.length; n++) {
          const copy = this.copyOf(readers, frames[f]!, names[n]!, copies);
          if (copy !== null && copy?.environ !== 'no-request-line') return copy;
        }
      }
    }
    return null;
  }

  /**
   * A request from its environ's snapshot alone. Its route is known when its path was seen routed before, or never in
   * UNROUTED_READS requests read in full; otherwise it is pending (the path stands for it until a read finds it).
   * Undefined for a method too long to be one.
   */
  private infoOfLine(environ: RequestLine): { info: RequestInfo; routePending: boolean } | undefined {
    const { method } = environ;
    if (method.length > MAX_METHOD_CHARS) return undefined;
    const path = normalisePath(environ.path ?? '/');
    const marked = hasMarkerParameter(environ.query ?? '') || environ.markerHeader;
    const key = `${method} ${path}`;
    const route = this.routesByPath.get(key);
    if (route !== undefined) return { info: { method, path, route, marked, routed: true }, routePending: false };
    const routePending = (this.unroutedReads.get(key) ?? 0) < UNROUTED_READS;
    return { info: { method, path, route: path, marked, routed: false }, routePending };
  }

  private rememberThread(threadKey: string, request: ThreadRequest): void {
    if (this.threads.size >= MAX_TRACKED_THREADS) this.threads.clear();
    this.threads.set(threadKey, request);
  }

  private forgetThread(threadKey: string): void {
    this.threads.delete(threadKey);
    this.threadPool.forget(threadKey);
  }

  private countUnrouted(info: RequestInfo): void {
    const key = `${info.method} ${info.path}`;
    if (this.unroutedReads.size >= MAX_KNOWN_ROUTES) this.unroutedReads.clear();
    this.unroutedReads.set(key, (this.unroutedReads.get(key) ?? 0) + 1);
  }

  private withKnownRoute(info: RequestInfo): RequestInfo {
    const path = `${info.method} ${info.path}`;
    if (info.routed) {
      if (this.routesByPath.size >= MAX_KNOWN_ROUTES) this.routesByPath.clear();
      this.routesByPath.set(path, info.route);
      return info;
    }
    const route = this.routesByPath.get(path);
    return route === undefined ? info : { ...info, route };
  }

  private findRequest(
    readers: ProcessReaderSet,
    stack: ThreadStack,
    threadKey: string,
    previous: ThreadRequest | undefined,
    sampled: SlotsAtSample | undefined,
  ): Found {
    let requestObjects = false;
    let workerLoop: PyFrame | undefined;
    for (const frame of stack.frames) {
      const locals = this.requestLocalsOf(readers, frame.code);
      if (locals === 0) continue;
      requestObjects ||= (locals & REQUEST_OBJECT_BIT) !== 0;
      if ((locals & WORKER_LOOP_BIT) !== 0) workerLoop ??= frame;
      for (let i = 0; i < REQUEST_LOCALS.length; i++) {
        if ((locals & (1 << i)) === 0) continue;
        const [name, protocol] = REQUEST_LOCALS[i]!;
        const copy = this.copyOf(readers, frame, name, sampled);
        if (previous && sawSettled(copy, previous)) return previous;
        const local = this.localAtSample(readers, frame, name, copy, true);
        if (local === undefined) continue;
        const found = this.recognise(readers, stack, local.object, protocol, previous, local);
        if (found) return found;
      }
    }
    // The worker loop's frame lasts as long as its thread: it runs the sampled work item only while it holds the
    // same future and function (a work item's future is often at the address of the one before).
    const future = workerLoop && this.sampledLocal(readers, workerLoop, WORK_ITEM_LOCAL, sampled);
    if (workerLoop && future) {
      const func = this.sampledLocal(readers, workerLoop, WORK_FUNCTION_LOCAL, sampled);
      if (!future.heldNow || func?.heldNow === false) return MOVED_ON;
      for (const scope of this.threadPool.findScopes(readers, threadKey, future.object)) {
        const found = this.recognise(readers, stack, scope, 'asgi', previous);
        if (found) return this.ranSampledItem(readers, threadKey, workerLoop, future, func) ? found : MOVED_ON;
      }
    }
    if (!requestObjects) return undefined;
    // Django under ASGI runs views on a worker thread whose stack holds only the request object.
    for (const frame of stack.frames) {
      if ((this.requestLocalsOf(readers, frame.code) & REQUEST_OBJECT_BIT) === 0) continue;
      const request = this.sampledLocal(readers, frame, REQUEST_OBJECT_LOCAL, sampled);
      if (!request?.heldNow) continue;
      const scope = readAsgiRequestScope(readers, request.object);
      const found = scope !== undefined ? this.recognise(readers, stack, scope, 'asgi', previous) : undefined;
      if (found) return isStillHeld(readers, frame, REQUEST_OBJECT_LOCAL, request) ? found : MOVED_ON;
    }
    return undefined;
  }

  /**
   * Checked after a work item's scope was read, past every cache: the worker still holds the sampled future and
   * function, and the task still awaits that future, so the scope read belonged to that task throughout.
   */
  private ranSampledItem(
    readers: ProcessReaderSet,
    threadKey: string,
    workerLoop: PyFrame,
    future: LocalAtSample,
    func: LocalAtSample | undefined,
  ): boolean {
    return (
      isStillHeld(readers, workerLoop, WORK_ITEM_LOCAL, future) &&
      (!func || isStillHeld(readers, workerLoop, WORK_FUNCTION_LOCAL, func)) &&
      this.threadPool.isStillAwaited(readers, threadKey)
    );
  }

  /** Every frame of `stack` whose locals may hold a request had its slots copied with the stack. */
  private copiedEveryHolder(readers: ProcessReaderSet, stack: ThreadStack, copies: SlotsAtSample | undefined): boolean {
    return stack.frames.every(
      (frame) => this.requestLocalsOf(readers, frame.code) === 0 || copies?.has(frame.frameAddress) === true,
    );
  }

  /**
   * The native loop's copy of local `name` of `frame` (its first slot that was set): undefined when it did not copy
   * every slot of that name, null when none was set.
   */
  private copyOf(
    readers: ProcessReaderSet,
    frame: PyFrame,
    name: string,
    sampled: SlotsAtSample | undefined,
  ): SampledSlot | null | undefined {
    const copies = sampled?.get(frame.frameAddress);
    if (!copies) return undefined;
    const slots = readers.locals.slotsOf(frame.code, name);
    if (slots.length === 0) return undefined;
    let set: SampledSlot | null = null;
    for (let i = 0; i < slots.length; i++) {
      const copy = copyOfSlot(copies, slots[i]!);
      if (copy === undefined) return undefined;
      if (set === null && copy.value !== 0) set = copy;
    }
    return set;
  }

  /** localAtSample of the native loop's copy, if it took one. */
  private sampledLocal(
    readers: ProcessReaderSet,
    frame: PyFrame,
    name: string,
    sampled: SlotsAtSample | undefined,
  ): LocalAtSample | undefined {
    return this.localAtSample(readers, frame, name, this.copyOf(readers, frame, name, sampled));
  }

  /**
   * What local `name` of `frame` held when the stack was taken, where the native loop copied it (`copy`, see copyOf);
   * otherwise what it holds now. `asGraph`: read the frame in a graph begun from the copied object (one copy of the
   * target for both, where the object's contents are read next).
   */
  private localAtSample(
    readers: ProcessReaderSet,
    frame: PyFrame,
    name: string,
    copy: SampledSlot | null | undefined,
    asGraph = false,
  ): LocalAtSample | undefined {
    if (copy === null) return undefined;
    const inGraph = asGraph && copy !== undefined;
    const locals = inGraph ? readers.onDemandLocals : readers.locals;
    let now: number | undefined;
    try {
      if (inGraph) readers.beginGraph(copy.value);
      now = locals.findLocal(frame, name);
    } catch {
      // Unreadable now: a copied object cannot be confirmed still held (a failed read must not skip a check).
      return copy ? { object: copy.value, identity: copy.identity, heldNow: false, inGraph: false } : undefined;
    }
    if (!copy) return now === undefined ? undefined : { object: now, identity: 0, heldNow: true, inGraph };
    // Held in the slot itself when it is what the frame holds now: no cell to look into.
    const object = copy.value === now ? now : unboxedOrItself(locals, copy.value);
    // A cell's content may have changed since: only an object held in the slot itself has its identity then.
    const held = object === copy.value;
    return { object, identity: held ? copy.identity : 0, heldNow: object === now, inGraph: inGraph && held };
  }

  private requestLocalsOf(readers: ProcessReaderSet, code: CodeInfo): number {
    let bits = this.requestLocals.get(code);
    if (bits !== undefined) return bits;
    let names: readonly string[];
    try {
      names = readers.locals.localNames(code);
    } catch {
      return 0; // unreadable now (torn): asked again next time
    }
    bits = REQUEST_LOCALS.reduce((found, [name], i) => (names.includes(name) ? found | (1 << i) : found), 0);
    if (names.includes(REQUEST_OBJECT_LOCAL)) bits |= REQUEST_OBJECT_BIT;
    if (this.threadPool.isWorkerLoop(code, names)) bits |= WORKER_LOOP_BIT;
    this.requestLocals.set(code, bits);
    return bits;
  }

  /**
   * The request held in `dict`, reusing what is known when it is the same dict as last time. A dict not known yet
   * is read as a graph rooted at it (PythonProcess.onDemandReader), from its identity on, then its identity is read
   * again fresh. `atSample`: what the frame held when the stack was taken. A dict the frame no longer holds, or that
   * changed since, is the request last labelled if it was that very version; otherwise the thread has moved on, and
   * it is not read (it may have been freed).
   */
  private recognise(
    readers: ProcessReaderSet,
    stack: ThreadStack,
    dict: number,
    protocol: Protocol,
    previous: ThreadRequest | undefined,
    atSample?: LocalAtSample,
  ): Found {
    const wasPrevious = atSample !== undefined && isVersionOf(previous, dict, atSample.identity);
    if (atSample && !atSample.heldNow) return wasPrevious ? previous : MOVED_ON;
    const identityAtSample = atSample?.identity ?? 0;
    let identity: number;
    try {
      // With the version the sample saw (a settled one was taken before reading anything: sawSettled), the dict is
      // read at once; without it, its version now tells whether it is the request known already.
      if (identityAtSample === 0) {
        identity = identityOf(readers.objects, dict);
        if (previous?.dict === dict && previous.identity === identity && isSettled(previous)) return previous;
      }
      if (!atSample?.inGraph) readers.beginGraph(dict);
      identity = identityOf(readers.onDemandObjects, dict);
      if (identityAtSample !== 0 && identity !== identityAtSample) return wasPrevious ? previous : MOVED_ON;
    } catch {
      return undefined;
    }
    const key = `${dict}:${identity}`;
    if (this.notRequests.has(key)) return undefined;
    const info = this.readRequestInfo(readers, stack, dict, protocol);
    if (!isUnchanged(readers, dict, identity)) return undefined;
    if (!info) {
      if (this.notRequests.size >= MAX_TRACKED_THREADS) this.notRequests.clear();
      this.notRequests.add(key);
      return undefined;
    }
    const sameRequest = isSameRequest(previous, dict, info);
    return {
      dict,
      identity,
      // Frameworks drop their request object before the response is sent (Flask clears werkzeug.request):
      // a request keeps the route it was once seen with.
      info: sameRequest && previous.info.routed && !info.routed ? previous.info : info,
      rereads: sameRequest ? previous.rereads + 1 : 0,
      requestKey: sameRequest ? previous.requestKey : this.newRequestKey(),
    };
  }

  private newRequestKey(): string {
    return `request-${++this.requestCount}`;
  }

  private readRequestInfo(
    readers: ProcessReaderSet,
    stack: ThreadStack,
    dict: number,
    protocol: Protocol,
  ): RequestInfo | undefined {
    const objects = readers.onDemandObjects;
    try {
      if (!objects.isDict(dict)) return undefined;
      const items = objects.readStrKeyedDict(dict);
      return protocol === 'wsgi'
        ? readWsgiRequest(objects, readers.locals, stack, items)
        : readAsgiRequest(objects, readers.locals, stack, items);
    } catch {
      return undefined;
    }
  }
}

/** The names of the locals holding a request's dict among a code object's (requestLocalsOf's bits). */
function dictLocals(bits: number): string[] {
  return REQUEST_LOCALS.filter((_, i) => (bits & (1 << i)) !== 0).map(([name]) => name);
}

/** The names of a code object's other request-holding locals: a request object, a worker's work item and function. */
function objectLocals(bits: number): string[] {
  const names: string[] = [];
  if (bits & REQUEST_OBJECT_BIT) names.push(REQUEST_OBJECT_LOCAL);
  if (bits & WORKER_LOOP_BIT) names.push(WORK_ITEM_LOCAL, WORK_FUNCTION_LOCAL);
  return names;
}

/**
 * dictLocals, then objectLocals, by every value of requestLocalsOf's bits: made once, as they are asked for every frame
 * of every stack that may hold a request.
 */
const LOCALS_IN_SEARCH_ORDER = [dictLocals, objectLocals].map((names) =>
  Array.from({ length: WORKER_LOOP_BIT << 1 }, (_, bits): readonly string[] => names(bits)),
);

/** dictIdentity (a dict's version tag, or a hash of its keys and values) through `objects`' reader. */
function identityOf(objects: ObjectReader, dict: number): number {
  return dictIdentity(objects.reader, objects.layout, dict);
}

/** A request whose dict, while its version stays, is not read again: routed, or no longer expected to be. */
function isSettled(request: ThreadRequest): boolean {
  return request.info.routed || request.rereads >= MAX_ROUTE_REREADS;
}

/** `request` was read from `dict` at the version `identity` stands for (0: unknown, so never). */
function isVersionOf(request: ThreadRequest | undefined, dict: number, identity: number): request is ThreadRequest {
  return identity !== 0 && request?.dict === dict && request.identity === identity;
}

/**
 * `info`, found in `dict`, is the request `previous` stands for: the same dict with the same request line, though it
 * may have changed since (the framework adds its routing to it) or be read again for its route.
 */
function isSameRequest(
  previous: ThreadRequest | undefined,
  dict: number,
  info: RequestInfo,
): previous is ThreadRequest {
  return (
    previous?.dict === dict &&
    previous.info.method === info.method &&
    previous.info.path === info.path &&
    previous.info.marked === info.marked
  );
}

/** The sample saw the very dict and version of `previous`, a settled request: it is that request's, nothing to read. */
function sawSettled(copy: SampledSlot | null | undefined, previous: ThreadRequest): boolean {
  return !!copy && isVersionOf(previous, copy.value, copy.identity) && isSettled(previous);
}

/**
 * Local `name` of `frame`, a local that holds no dict, still holds what it held at sample time: the same address, the
 * same first field, read now past every cache. Asked after reading what hangs off it: then what was read, through
 * caches filled at some moment since the sample, belongs to the object sampled.
 */
function isStillHeld(readers: ProcessReaderSet, frame: PyFrame, name: string, local: LocalAtSample): boolean {
  try {
    const fresh = readers.freshObjects;
    return (
      readers.freshLocals.findLocal(frame, name) === local.object &&
      (local.identity === 0 || objectIdentity(fresh.reader, fresh.layout, local.object) === local.identity)
    );
  } catch {
    return false;
  }
}

/** The scope of a Django ASGIRequest, or undefined for any other object. */
function readAsgiRequestScope(readers: ProcessReaderSet, request: number): number | undefined {
  try {
    readers.beginGraph(request);
    const objects = readers.onDemandObjects;
    if (!objects.typeName(request).endsWith('ASGIRequest')) return undefined;
    return objects.findAttribute(request, 'scope');
  } catch {
    return undefined;
  }
}

/** The content of the cell `value` is, or `value` itself when it is no cell (or no longer readable: freed). */
function unboxedOrItself(locals: LocalsReader, value: number): number {
  try {
    return locals.unboxCell(value);
  } catch {
    return value;
  }
}

/**
 * The thread of `stack` runs the same frames, with the same code objects, walked again now past every cache (before
 * 3.11 a returned frame keeps its code, cached for the next call, so each frame is checked where it sits).
 */
function stillRuns(readers: ProcessReaderSet, stack: ThreadStack): boolean {
  const { reader, layout } = readers.freshObjects;
  const then = stack.frames;
  try {
    const innermost = readCurrentFrameAddress(reader, layout, stack.threadStateAddress);
    const now = walkFrames(reader, layout, readers.codes, innermost, then.length + 1).frames;
    return (
      now.length === then.length &&
      now.every(
        (frame, i) => frame.frameAddress === then[i]!.frameAddress && frame.code.address === then[i]!.code.address,
      )
    );
  } catch {
    return false;
  }
}

/** The copy of `slot` among a frame's copies, if the loop took one. */
function copyOfSlot(copies: readonly SampledSlot[], slot: number): SampledSlot | undefined {
  for (let i = 0; i < copies.length; i++) if (copies[i]!.slot === slot) return copies[i];
  return undefined;
}

/** The watched slots copied with a stack, by the frame they were copied from. */
function bySampledFrame(sampled: readonly SampledSlot[] | undefined): SlotsAtSample | undefined {
  if (!sampled?.length) return undefined;
  const byFrame = new Map<number, SampledSlot[]>();
  for (const copy of sampled) {
    const copies = byFrame.get(copy.frameAddress);
    if (copies) copies.push(copy);
    else byFrame.set(copy.frameAddress, [copy]);
  }
  return byFrame;
}

/**
 * A dict being filled while it was read (a server building the environ) can pair keys with the wrong values: its
 * version tag, read afresh afterwards, must still be the one it was recognised by. Versions without a tag (3.14+)
 * have nothing as cheap to compare.
 */
function isUnchanged(readers: ProcessReaderSet, dict: number, identity: number): boolean {
  if (readers.objects.layout.dictObject.maVersionTag === undefined) return true;
  try {
    return identityOf(readers.freshObjects, dict) === identity;
  } catch {
    return false;
  }
}

function readWsgiRequest(
  objects: ObjectReader,
  locals: LocalsReader,
  stack: ThreadStack,
  environ: Map<string, number>,
): RequestInfo | undefined {
  const methodObject = environ.get('REQUEST_METHOD');
  if (methodObject === undefined) return undefined;
  const method = objects.readStr(methodObject, MAX_METHOD_CHARS);
  const path = readOptionalStr(objects, environ.get('PATH_INFO')) ?? '/';
  const query = readOptionalStr(objects, environ.get('QUERY_STRING')) ?? '';
  const route = findFlaskRoute(objects, environ.get('werkzeug.request')) ?? findDjangoRoute(objects, locals, stack);
  return {
    method,
    path: normalisePath(path),
    route: route ?? normalisePath(path),
    marked: hasMarkerParameter(query) || environ.has('HTTP_X_HOTPATH'),
    routed: route !== undefined,
  };
}

function readAsgiRequest(
  objects: ObjectReader,
  locals: LocalsReader,
  stack: ThreadStack,
  scope: Map<string, number>,
): RequestInfo | undefined {
  const typeObject = scope.get('type');
  const type = typeObject !== undefined ? objects.readStr(typeObject, 16) : undefined;
  if (type !== 'http' && type !== 'websocket') return undefined;
  const method = type === 'websocket' ? 'WS' : readOptionalStr(objects, scope.get('method'));
  const path = readOptionalStr(objects, scope.get('path'));
  if (method === undefined || path === undefined) return undefined;
  const route = findStarletteRoute(objects, scope.get('route')) ?? findDjangoRoute(objects, locals, stack);
  const queryObject = scope.get('query_string');
  const query = queryObject !== undefined ? objects.readBytes(queryObject).toString('latin1') : '';
  return {
    method,
    path: normalisePath(path),
    route: route ?? normalisePath(path),
    marked: hasMarkerParameter(query) || hasMarkerHeader(objects, scope.get('headers')),
    routed: route !== undefined,
  };
}

function readOptionalStr(objects: ObjectReader, object: number | undefined): string | undefined {
  if (object === undefined) return undefined;
  try {
    return objects.readStr(object, 2048);
  } catch {
    return undefined;
  }
}

/** Flask: environ['werkzeug.request'].url_rule.rule, set once the request is routed. */
function findFlaskRoute(objects: ObjectReader, request: number | undefined): string | undefined {
  if (request === undefined) return undefined;
  try {
    const rule = objects.findAttribute(request, 'url_rule');
    if (rule === undefined || objects.typeName(rule) === 'NoneType') return undefined;
    return readOptionalStr(objects, objects.findAttribute(rule, 'rule'));
  } catch {
    return undefined;
  }
}

/** Django: a `request` local (WSGIRequest, ASGIRequest) whose resolver_match.route is a path pattern, not a regex. */
function findDjangoRoute(objects: ObjectReader, locals: LocalsReader, stack: ThreadStack): string | undefined {
  for (let i = stack.frames.length - 1; i >= 0; i--) {
    const frame = stack.frames[i]!;
    try {
      if (!locals.hasLocal(frame.code, REQUEST_OBJECT_LOCAL)) continue;
      const request = locals.findLocal(frame, REQUEST_OBJECT_LOCAL);
      if (request === undefined || !objects.typeName(request).endsWith('Request')) continue;
      const match = objects.findAttribute(request, 'resolver_match');
      if (match === undefined || objects.typeName(match) === 'NoneType') return undefined;
      const route = readOptionalStr(objects, objects.findAttribute(match, 'route'));
      if (route === undefined || /[\\^$()[\]*+?|]/.test(route)) return undefined;
      return route.startsWith('/') ? route : `/${route}`;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** FastAPI (and routers that set scope['route']): the route's path pattern, e.g. "/users/{user_id}". */
function findStarletteRoute(objects: ObjectReader, route: number | undefined): string | undefined {
  if (route === undefined) return undefined;
  try {
    const attributes = objects.readAttributes(route);
    return readOptionalStr(objects, attributes.get('path_format') ?? attributes.get('path'));
  } catch {
    return undefined;
  }
}

/** True when a query string has a `hotpath` parameter (`?hotpath`, `?hotpath=1`); values are not looked at. */
export function hasMarkerParameter(query: string): boolean {
  // Most queries are empty or hold no such name: those need no split.
  return query.includes(MARKER) && query.split(/[&;]/).some((part) => part.split('=', 1)[0] === MARKER);
}

function hasMarkerHeader(objects: ObjectReader, headers: number | undefined): boolean {
  if (headers === undefined) return false;
  for (const pair of objects.readSequence(headers, MAX_HEADERS)) {
    try {
      const [name] = objects.readSequence(pair, 2);
      if (name !== undefined && objects.readBytes(name).toString('latin1').toLowerCase() === `x-${MARKER}`) return true;
    } catch {
      continue;
    }
  }
  return false;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONG_HEX = /^(?=.*\d)[0-9a-f]{16,}$/i;
const NUMBER = /^\d+$/;

/** Replaces ids in a path so one endpoint is one label: /users/42 → /users/{id}, UUIDs, long hex hashes. */
export function normalisePath(path: string): string {
  let normalised = normalisedPaths.get(path);
  if (normalised === undefined) {
    if (normalisedPaths.size >= MAX_KNOWN_ROUTES) normalisedPaths.clear();
    normalised = normalise(path);
    normalisedPaths.set(path, normalised);
  }
  return normalised;
}

/** normalisePath's answers by path: a server sees the same few paths at almost every sample. */
const normalisedPaths = new Map<string, string>();

function normalise(path: string): string {
  const segments = path.split('/').map((segment) => {
    if (NUMBER.test(segment)) return '{id}';
    if (UUID.test(segment)) return '{uuid}';
    if (LONG_HEX.test(segment)) return '{hash}';
    return segment;
  });
  const normalised = segments.join('/') || '/';
  return normalised.length > MAX_PATH_CHARS ? `${normalised.slice(0, MAX_PATH_CHARS)}...` : normalised;
}
