/*
 * hotpath's native sampling loop: a thread of its own that wakes at each sample time, walks every target
 * thread's Python frames with process_vm_readv and appends compact records to a buffer that JavaScript drains a
 * few times a second (or, through tickNow, one tick at a time on JavaScript's clock). A wake-up of this thread
 * costs a fraction of an event-loop turn, and a steady stack costs one system call for memory plus one for the
 * scheduler state of each thread (two for a running thread that does not hold the GIL).
 *
 * It knows no CPython struct: every offset comes from JavaScript (src/sampler/native-loop.ts builds them from
 * the layout of each process), and it records addresses only (frame, code object, instruction) plus the header
 * bytes of code objects that are new on a stack, which JavaScript checks against its cache, and copies of the
 * names and line table of a code object it sends for the first time, which JavaScript decodes it from, and the
 * content of the local slots JavaScript asked it to watch (where a request is held), with an identity of what they
 * hold, so that a sample is labelled with the request it was taken in, and the request line of a WSGI environ they
 * hold, so that most such samples are labelled without reading the target again.
 * Built by scripts/build-native.mjs into dist/native/stack-sampler.node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <node_api.h>

/* Process configuration, by index in the Float64Array JavaScript passes (NATIVE_CONFIG in native-sampler.ts). */
enum {
  CFG_PID, CFG_RUNTIME, CFG_INTERPRETERS_HEAD, CFG_INTERP_NEXT, CFG_INTERP_THREADS_HEAD,
  CFG_TSTATE_SIZE, CFG_TSTATE_NEXT, CFG_TSTATE_CURRENT_FRAME, CFG_CFRAME_CURRENT_FRAME, CFG_TSTATE_THREAD_ID,
  CFG_TSTATE_NATIVE_THREAD_ID, CFG_PTHREAD_TID_OFFSET, CFG_FRAME_SIZE, CFG_FRAME_PREVIOUS, CFG_FRAME_EXECUTABLE,
  CFG_FRAME_INSTR, CFG_FRAME_OWNER, CFG_FRAME_OWNER_C_STACK, CFG_EXECUTABLE_TAG_MASK, CFG_INSTR_IS_POINTER,
  CFG_GIL_KIND, CFG_GILSTATE_TSTATE_CURRENT, CFG_INTERP_CEVAL_GIL, CFG_GIL_LOCKED, CFG_GIL_LAST_HOLDER,
  CFG_CODE_HEADER_SIZE, CFG_PARENT_PID, CFG_SHARES_PID_NAMESPACE, CFG_CODE_FILENAME, CFG_CODE_NAME,
  CFG_CODE_QUALNAME, CFG_CODE_LINETABLE, CFG_STR_LENGTH, CFG_STR_STATE, CFG_STR_ASCII_SIZE, CFG_STR_COMPACT_SIZE,
  CFG_STR_KIND_SHIFT, CFG_STR_COMPACT_BIT, CFG_STR_ASCII_BIT, CFG_BYTES_SIZE, CFG_BYTES_DATA, CFG_FRAME_LOCALSPLUS,
  CFG_DICT_VERSION_TAG, CFG_DICT_KEYS, CFG_DICT_VALUES, CFG_KEYS_LOG2_SIZE, CFG_KEYS_LOG2_INDEX_BYTES, CFG_KEYS_KIND,
  CFG_KEYS_NENTRIES, CFG_KEYS_INDICES, CFG_KEYS_SIZE_39, CFG_OBJECT_TYPE, CFG_OBJECT_FIRST_FIELD, CFG_COUNT
};
enum { GIL_NONE, GIL_RUNTIME_TSTATE_CURRENT, GIL_INTERPRETER };

/* Record kinds and fields, mirrored in native-sampler.ts. Every field is a double (addresses fit in 53 bits). */
enum { RECORD_SAMPLE = 1, RECORD_DROP = 2 };
enum { FLAG_IDLE = 1, FLAG_GIL = 2, FLAG_TRUNCATED = 4, FLAG_MOVED = 8 };
enum { DROP_TORN = 1, DROP_READ_ERROR = 2, DROP_EXITED = 3, DROP_BUFFER_FULL = 4 };
/* A frame's owner field carries this bit when the frame's code object header follows it in the record. */
#define OWNER_HEADER_FOLLOWS 0x100

#define PAGE 4096
#define MAX_PAGES 256
#define MAX_THREADS 1024
#define MAX_INTERPRETERS 256
#define MAX_DEPTH 4096
#define MAX_CODE_HEADER 512
/* The largest name or line table copied along with a code object seen for the first time. */
#define MAX_CAPTURED_OBJECT 65536
#define WALK_RETRIES 2
#define SLOW_WALK_NS 2000000L
#define STARVED_AFTER_NS 25000000L
/* A thread seen gaining CPU time this recently ran lately whatever schedstat says now: its file is not read. */
#define RAN_RECHECK_NS (STARVED_AFTER_NS / 2)
#define REWALK_THREADS_NS 200000000L
#define FORGET_THREADS_NS 500000000L
#define CATCH_UP_NS 20000000L
#define MAX_BUFFER (64u << 20)
#define MAX_USER_ADDRESS 0x800000000000ULL
/* Code objects remembered per process as already sent; the set is emptied when it is this full. */
#define SEEN_CODES 8192
/*
 * Code objects whose frames have local slots copied with each sample (request locals: every Django view has a
 * `request`), and slots per code.
 */
#define WATCHED_CODES 4096
#define SLOTS_PER_CODE 4
/* Slots copied per sample, at most, and entries of a dict hashed for its identity (3.14+), at most. */
#define MAX_SAMPLED_SLOTS 64
#define MAX_HASHED_ENTRIES 256
/* What a watched slot holds, as JavaScript names it (WatchedSlot.holds in native-loop.ts). */
enum { HOLDS_OBJECT, HOLDS_DICT, HOLDS_ENVIRON };
/*
 * Environs snapshot per sample, their entries read at most, and the longest value copied (request-context.ts reads
 * paths up to as long); a longer one leaves the environ to JavaScript.
 */
#define MAX_SNAPSHOTS 4
#define RECENT_SNAPSHOTS 4
#define MAX_ENVIRON_ENTRIES 256
#define MAX_SNAPSHOT_VALUE 2048
/* The longest key name compared: "REQUEST_METHOD" and the others are shorter. */
#define MAX_KEY_NAME 16
/*
 * Bytes copied of each key of an environ (a str's header and the start of its text: enough to tell a wanted
 * name), of a value at first (its header, and the text of most methods, paths and query strings: a longer one is
 * copied on in another call), and at most of a value. A copy may run past a short str's end, within its memory pool.
 */
#define KEY_COPY 64
#define VALUE_PEEK 64
#define MAX_STR_HEADER 192
#define VALUE_COPY (MAX_STR_HEADER + MAX_SNAPSHOT_VALUE)
#define MAX_DICT_HEADER 64
/* How often, at most, /proc/PID/mem confirms that the pid still runs the program attached to. */
#define EXEC_CHECK_NS 200000000L

/* A page of the target, of which bytes [lo, hi) were copied. */
typedef struct {
  uint64_t page;
  uint16_t lo, hi;
  uint8_t bytes[PAGE];
} page_t;
/*
 * Pages used within the last KEEP_FETCHES fetches are copied again by the next: a thread that moves between a few
 * stacks (a web worker: waiting for a request, then serving it, each request in a new environ) finds their pages
 * there, instead of copying each page it misses in a call of its own.
 */
#define KEEP_FETCHES 8
/*
 * Pages (or their parts) copied from the target, and which parts of pages the reads of the last fetches used (with
 * the fetch that last used each): what the next fetch copies again, in one call. Only the parts: a steady stack uses
 * a few hundred bytes of most of its pages, and the kernel's copy of whole ones cost a third of a tick.
 */
typedef struct {
  page_t *pages;
  int page_count, capacity;
  uint64_t used[MAX_PAGES];
  uint16_t used_lo[MAX_PAGES], used_hi[MAX_PAGES];
  uint32_t used_at[MAX_PAGES];
  int used_count;
  uint32_t fetches;
  /* Every page read since the last fetch came from that fetch. */
  int all_from_fetch;
} page_cache_t;

/* A thread's /proc files, kept open: opening them every sample cost more than the rest of a sample. */
typedef struct {
  int tid;
  int stat_fd, sched_fd;
  /* The thread state's id names no thread of this process (a state a C-level fork left behind). */
  int phantom;
  int64_t last_run_ns;
  int64_t last_ran_at;
  int64_t seen_at;
  /* The answers of ran_lately and is_active at the tick of ran_at and active_at: the kernel is asked once a tick. */
  int ran, active;
  int64_t ran_at, active_at;
} thread_files_t;

typedef struct {
  uint64_t frame, code;
} frame_id_t;

/* A thread's last stack, outermost first, to tell which frames are new (their code objects are sent). */
typedef struct {
  uint64_t tstate;
  int depth, capacity;
  frame_id_t *frames;
  int64_t seen_at;
  /* The header of the innermost frame's code object as last sent (its reference count aside, it never changes). */
  uint8_t innermost_header[MAX_CODE_HEADER];
} last_stack_t;

typedef struct {
  uint64_t address, interp, ident, frame, frame_pointer_at;
  int tid;
} thread_t;
/* The environ keys whose values a snapshot copies, in the order of its record. */
enum { KEY_METHOD, KEY_PATH, KEY_QUERY, KEY_MARKER, WANTED_KEYS };
/* Copied values: the method, the path and the query string (the marker header's presence only). */
#define COPIED_VALUES 3
#define SNAPSHOT_CHANGED -2
/*
 * What a WSGI environ held when a stack was walked: each wanted key's value (its length, -1 when absent; the method's
 * SNAPSHOT_CHANGED when the dict changed since the walk).
 */
typedef struct {
  uint64_t dict;
  int length[WANTED_KEYS];
  uint8_t text[COPIED_VALUES][MAX_SNAPSHOT_VALUE];
} snapshot_t;

typedef struct target {
  struct target *next;
  double cfg[CFG_COUNT];
  int pid;
  /* /proc/PID/mem, opened at attach: it stays bound to that address space, so it tells when the pid exec'd. */
  int mem_fd;
  int use_vm;
  int dead;
  int64_t exec_checked_at;
  double memory_reads;
  /* Reads of a thread's stat, the dearest file, and of its schedstat: for tests. */
  double state_reads, run_time_reads;
  /* The pages the tick's reads go through (and the environs' dicts and keys tables). */
  page_cache_t stack_pages;
  /* Frame pointers copied once more after the prefetch's pages: unchanged means the pages show one moment. */
  uint64_t closing_at[MAX_THREADS];
  uint64_t closing_value[MAX_THREADS];
  int closing_count;
  /* The frame pointers of the threads sampled this tick: the next prefetch's closing copies. */
  uint64_t planned_at[MAX_THREADS];
  int planned_count;
  thread_t threads[MAX_THREADS];
  int thread_count;
  int64_t threads_walked_at;
  thread_files_t *files;
  int file_count, file_capacity;
  last_stack_t *stacks;
  int stack_count, stack_capacity;
  /*
   * Code objects this process's samples have carried, by address (open addressing, 0 = empty) with a hash of their
   * header: a code object freed and replaced by another at the same address is seen for the first time again.
   */
  uint64_t seen_codes[SEEN_CODES];
  uint64_t seen_headers[SEEN_CODES];
  int seen_count;
  /*
   * Code objects whose frames hold a request (open addressing, 0 = empty), and per code the local slots to copy with
   * each sample: (slot index << 2 | what it holds, HOLDS_*) + 1, 0 = none. The labels are read after the tick, when the thread
   * may serve another request; these copies say which request the sample's frames held.
   */
  uint64_t watched_codes[WATCHED_CODES];
  uint16_t watched_slots[WATCHED_CODES][SLOTS_PER_CODE];
  int watched_count;
  /*
   * The last environ snapshots read, with the identity of their dict: up to 3.13 a version tag, which names one
   * version of one dict for good, so a slot holding that dict in that version has that snapshot (a request that
   * runs for many samples is read once).
   */
  snapshot_t recent[RECENT_SNAPSHOTS];
  uint32_t recent_identity[RECENT_SNAPSHOTS];
  int recent_next;
  /* Which entry of the last environ copied held each wanted key with a value: most likely the same in the next. */
  int wanted_entry[COPIED_VALUES];
} target_t;

typedef struct {
  pthread_t thread;
  pthread_mutex_t lock;
  int running;
  /* Set to stop the loop's thread, which sleeps on it as a futex (sleep_until). */
  atomic_int stopping;
  double rate_hz;
  /* The loop ends by itself once this long has passed since start; 0 = until stopped. */
  int64_t duration_ns;
  int include_idle, gil_mode; /* gil_mode: 0 ignore, 1 flag holders, 2 only holders */
  int64_t start_ns, swept_at;
  target_t *targets;
  uint8_t *out;
  size_t out_length, out_capacity;
  double ticks, attempted, taken;
  /* System calls that read target memory, and reads of a thread's stat and schedstat, for tests and the benchmark. */
  double memory_reads, state_reads, run_time_reads;
  uint64_t random;
  frame_id_t walk[MAX_DEPTH];
  double walk_records[MAX_DEPTH * 4];
  struct iovec local[MAX_PAGES + MAX_THREADS], remote[MAX_PAGES + MAX_THREADS];
  /*
   * Called (on the JavaScript thread) when a sample carries a code object not seen before: decoded at once, while
   * it surely exists (code compiled and freed in a loop, a child process about to exit). One call until drained.
   */
  napi_threadsafe_function on_new_code;
  atomic_int new_code_signalled;
  int new_code_this_tick;
  /* Which frames of the walk run a code object the process's samples never carried: its names are copied too. */
  uint8_t first_sight[MAX_DEPTH];
  /* The watched slots of the walk: (frame, slot index, value, identity of the object it holds or 0) each. */
  double slot_records[MAX_SAMPLED_SLOTS * 4];
  uint8_t slot_kind[MAX_SAMPLED_SLOTS];
  int slot_count;
  /* The request lines of the WSGI environs those slots held (snapshot_environ). */
  snapshot_t snapshots[MAX_SNAPSHOTS];
  int snapshot_count;
  /* An environ's entries as copied, and read afresh to compare; the heads of its keys, the wanted values. */
  uint8_t entries[MAX_ENVIRON_ENTRIES * 24], fresh_entries[MAX_ENVIRON_ENTRIES * 24];
  uint8_t key_copies[MAX_ENVIRON_ENTRIES][KEY_COPY];
  uint8_t value_copies[COPIED_VALUES][VALUE_COPY];
} sampler_t;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000L + t.tv_nsec;
}

static int plausible(uint64_t address) { return address >= 0x1000 && address < MAX_USER_ADDRESS && address % 8 == 0; }

static int cfg_int(const target_t *t, int field) { return (int)t->cfg[field]; }

/* ---- reading target memory ---- */

static ssize_t read_remote(target_t *t, struct iovec *local, struct iovec *remote, int count) {
  t->memory_reads++;
  if (t->use_vm) {
    ssize_t copied = process_vm_readv(t->pid, local, count, remote, count, 0);
    if (copied >= 0 || (errno != EPERM && errno != ENOSYS)) return copied;
    t->use_vm = 0; /* forbidden here (seccomp, old kernel): /proc/PID/mem from now on */
  }
  ssize_t total = 0;
  for (int i = 0; i < count; i++) {
    ssize_t got = pread(t->mem_fd, local[i].iov_base, local[i].iov_len, (off_t)(uintptr_t)remote[i].iov_base);
    if (got != (ssize_t)local[i].iov_len) return total > 0 ? total : (got < 0 ? -1 : total);
    total += got;
  }
  return total;
}

/* Plans the copy of `length` bytes at `address` into `into` as range `n` of the next read of several ranges; n + 1. */
static int plan_range(sampler_t *s, int n, uint64_t address, void *into, size_t length) {
  s->local[n] = (struct iovec){into, length};
  s->remote[n] = (struct iovec){(void *)(uintptr_t)address, length};
  return n + 1;
}

static page_t *find_page(page_cache_t *c, uint64_t page) {
  for (int i = 0; i < c->page_count; i++)
    if (c->pages[i].page == page) return &c->pages[i];
  return NULL;
}

/* Notes that bytes [lo, hi) of `page` were read: the used part of a page only grows while the page stays used. */
static void note_used(page_cache_t *c, uint64_t page, size_t lo, size_t hi) {
  int i = 0;
  while (i < c->used_count && c->used[i] != page) i++;
  if (i == MAX_PAGES) return;
  if (i == c->used_count) {
    c->used[c->used_count++] = page;
    c->used_lo[i] = (uint16_t)lo;
    c->used_hi[i] = (uint16_t)hi;
  }
  if (lo < c->used_lo[i]) c->used_lo[i] = (uint16_t)lo;
  if (hi > c->used_hi[i]) c->used_hi[i] = (uint16_t)hi;
  c->used_at[i] = c->fetches;
}

static int holds_part(const page_t *p, size_t lo, size_t hi) { return p->lo <= lo && hi <= p->hi; }

/* The tick's copy of bytes [lo, hi) of `page`: copied now, the whole page, when the tick has not got them. */
static page_t *load_page(target_t *t, uint64_t page, size_t lo, size_t hi) {
  page_cache_t *c = &t->stack_pages;
  page_t *slot = find_page(c, page);
  if (!slot || !holds_part(slot, lo, hi)) {
    int added = slot == NULL;
    if (added && c->page_count >= c->capacity) return NULL;
    if (added) slot = &c->pages[c->page_count];
    struct iovec local = {slot->bytes, PAGE}, remote = {(void *)(uintptr_t)page, PAGE};
    if (read_remote(t, &local, &remote, 1) != PAGE) return NULL;
    slot->page = page;
    slot->lo = 0;
    slot->hi = PAGE;
    c->page_count += added;
    c->all_from_fetch = 0;
  }
  note_used(c, page, lo, hi);
  return slot;
}

/*
 * Brings into the tick's pages, in one call, those holding the first `length` bytes of the code object of each of
 * `frames` that are not there yet (a walk's new frames, whose code objects lie on pages the last ticks may not have
 * used). Pages after an unreadable one are left to read_mem, one call each.
 */
static void load_pages(sampler_t *s, target_t *t, const frame_id_t *frames, int count, size_t length) {
  page_cache_t *c = &t->stack_pages;
  page_t *planned[MAX_PAGES];
  int n = 0, added = 0;
  for (int i = 0; i < count; i++) {
    uint64_t address = frames[i].code;
    if (!plausible(address)) continue;
    for (uint64_t page = address & ~(uint64_t)(PAGE - 1); page < address + length; page += PAGE) {
      size_t lo = page < address ? address - page : 0, hi = address + length - page < PAGE ? address + length - page : PAGE;
      page_t *slot = find_page(c, page);
      if (slot && holds_part(slot, lo, hi)) continue;
      int again = 0;
      for (int j = 0; j < n && !again; j++) again = planned[j]->page == page;
      if (again) continue;
      if (!slot && c->page_count + added >= c->capacity) break;
      if (!slot) (slot = &c->pages[c->page_count + added++])->page = page;
      planned[n] = slot;
      n = plan_range(s, n, page, slot->bytes, PAGE);
    }
  }
  if (n == 0) return;
  ssize_t copied = read_remote(t, s->local, s->remote, n);
  int whole = copied <= 0 ? 0 : (int)(copied / PAGE < n ? copied / PAGE : n);
  /* The new slots were planned in order, so those copied are the first ones. */
  const page_t *first_new = c->pages + c->page_count;
  for (int i = 0; i < whole; i++) {
    planned[i]->lo = 0;
    planned[i]->hi = PAGE;
    if (planned[i] >= first_new) c->page_count++;
  }
  c->all_from_fetch = 0;
}

/* Forgets every page of `c`, so that what is read next is read now. */
static void forget_pages(page_cache_t *c) {
  c->page_count = 0;
  c->all_from_fetch = 0;
}

/* Copies `length` bytes at `address` through the tick's page cache; 0 on success, -1 when unreadable. */
static int read_mem(target_t *t, uint64_t address, void *into, size_t length) {
  if (!plausible(address & ~7ULL) || length == 0) return -1;
  uint8_t *out = into;
  while (length > 0) {
    uint64_t page = address & ~(uint64_t)(PAGE - 1);
    size_t at = address - page, chunk = PAGE - at < length ? PAGE - at : length;
    page_t *p = load_page(t, page, at, at + chunk);
    if (!p) return -1;
    memcpy(out, p->bytes + at, chunk);
    out += chunk;
    address += chunk;
    length -= chunk;
  }
  return 0;
}

static int read_u64(target_t *t, uint64_t address, uint64_t *value) { return read_mem(t, address, value, 8); }

/* A read past the page cache: what is in the target now. */
static int read_fresh(target_t *t, uint64_t address, void *into, size_t length) {
  struct iovec local = {into, length}, remote = {(void *)(uintptr_t)address, length};
  return plausible(address & ~7ULL) && read_remote(t, &local, &remote, 1) == (ssize_t)length ? 0 : -1;
}

/*
 * Keeps the pages used within the last KEEP_FETCHES fetches, those used since the last one first: a page unmapped
 * since ends a copy, and those after it are not copied.
 */
static void keep_recent_pages(page_cache_t *c) {
  uint64_t pages[MAX_PAGES];
  uint16_t lo[MAX_PAGES], hi[MAX_PAGES];
  uint32_t used_at[MAX_PAGES];
  int kept = 0;
  for (int lately = 1; lately >= 0; lately--)
    for (int i = 0; i < c->used_count; i++) {
      uint32_t age = c->fetches - c->used_at[i];
      if ((age == 0) != lately || age >= KEEP_FETCHES) continue;
      pages[kept] = c->used[i];
      lo[kept] = c->used_lo[i];
      hi[kept] = c->used_hi[i];
      used_at[kept++] = c->used_at[i];
    }
  memcpy(c->used, pages, sizeof(uint64_t) * (size_t)kept);
  memcpy(c->used_lo, lo, sizeof(uint16_t) * (size_t)kept);
  memcpy(c->used_hi, hi, sizeof(uint16_t) * (size_t)kept);
  memcpy(c->used_at, used_at, sizeof(uint32_t) * (size_t)kept);
  c->used_count = kept;
}

/*
 * Starts a tick: forgets every page, then copies in one call the parts of pages the last ticks used
 * (keep_recent_pages) and after them the frame pointer of each thread the last tick sampled (the closing copies,
 * taken after every page).
 */
static void prefetch(sampler_t *s, target_t *t) {
  page_cache_t *c = &t->stack_pages;
  keep_recent_pages(c);
  c->fetches++;
  int count = c->used_count, closing = t->planned_count;
  memcpy(t->closing_at, t->planned_at, sizeof(uint64_t) * closing);
  t->planned_count = 0;
  t->closing_count = 0;
  c->page_count = 0;
  c->all_from_fetch = count > 0;
  if (count == 0) return;
  int n = 0;
  ssize_t planned = 0;
  for (int i = 0; i < count; i++) {
    page_t *p = &c->pages[i];
    p->page = c->used[i];
    p->lo = c->used_lo[i];
    p->hi = c->used_hi[i];
    n = plan_range(s, n, p->page + p->lo, p->bytes + p->lo, p->hi - p->lo);
    planned += p->hi - p->lo;
  }
  for (int i = 0; i < closing; i++) n = plan_range(s, n, t->closing_at[i], &t->closing_value[i], 8);
  ssize_t copied = read_remote(t, s->local, s->remote, n);
  /* A part that could not be copied ends the copy: the parts before it are whole. */
  int whole = 0;
  for (ssize_t sum = 0; whole < count && copied > 0 && sum + (c->pages[whole].hi - c->pages[whole].lo) <= copied; whole++)
    sum += c->pages[whole].hi - c->pages[whole].lo;
  c->page_count = whole;
  if (whole < count) c->all_from_fetch = 0;
  if (copied == planned + (ssize_t)closing * 8) t->closing_count = closing;
}

/* The closing copy of the word at `address`, if this tick's prefetch took one. */
static int closing_copy(const target_t *t, uint64_t address, uint64_t *value) {
  for (int i = 0; i < t->closing_count; i++)
    if (t->closing_at[i] == address) {
      *value = t->closing_value[i];
      return 1;
    }
  return 0;
}

/* ---- output buffer ---- */

static int reserve(sampler_t *s, size_t bytes) {
  if (s->out_length + bytes <= s->out_capacity) return 1;
  size_t capacity = s->out_capacity ? s->out_capacity : 1 << 16;
  while (capacity < s->out_length + bytes) capacity *= 2;
  if (capacity > MAX_BUFFER) return 0;
  uint8_t *grown = realloc(s->out, capacity);
  if (!grown) return 0;
  s->out = grown;
  s->out_capacity = capacity;
  return 1;
}

static void put(sampler_t *s, double value) {
  memcpy(s->out + s->out_length, &value, 8);
  s->out_length += 8;
}

static void emit_drop(sampler_t *s, double time_ms, int pid, int reason) {
  if (!reserve(s, 32)) return;
  put(s, RECORD_DROP);
  put(s, time_ms);
  put(s, pid);
  put(s, reason);
}

/* ---- threads and their activity ---- */

/* Makes room for one more item in a growable array of `count` items; 0 when out of memory. */
static int make_room(void **items, int count, int *capacity, size_t item_size) {
  if (count < *capacity) return 1;
  int larger = *capacity ? *capacity * 2 : 8;
  void *grown = realloc(*items, item_size * (size_t)larger);
  if (!grown) return 0;
  *items = grown;
  *capacity = larger;
  return 1;
}

static thread_files_t *files_of(target_t *t, int tid, int64_t now) {
  for (int i = 0; i < t->file_count; i++)
    if (t->files[i].tid == tid) {
      t->files[i].seen_at = now;
      return &t->files[i];
    }
  if (!make_room((void **)&t->files, t->file_count, &t->file_capacity, sizeof(thread_files_t))) return NULL;
  char path[64];
  thread_files_t *f = &t->files[t->file_count];
  memset(f, 0, sizeof *f);
  f->tid = tid;
  f->seen_at = now;
  f->last_run_ns = -1;
  f->last_ran_at = INT64_MIN / 2;
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", t->pid, tid);
  f->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", t->pid, tid);
  f->sched_fd = f->stat_fd < 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
  f->phantom = f->stat_fd < 0 && errno == ENOENT;
  t->file_count++;
  return f;
}

static void close_files(thread_files_t *f) {
  if (f->stat_fd >= 0) close(f->stat_fd);
  if (f->sched_fd >= 0) close(f->sched_fd);
}

/* Closes the files of threads not asked about lately, and forgets ids found to name no thread. */
static void sweep_files(target_t *t, int64_t now) {
  int kept = 0;
  for (int i = 0; i < t->file_count; i++) {
    thread_files_t *f = &t->files[i];
    if (now - f->seen_at > FORGET_THREADS_NS || f->phantom) close_files(f);
    else t->files[kept++] = *f;
  }
  t->file_count = kept;
  kept = 0;
  for (int i = 0; i < t->stack_count; i++) {
    if (now - t->stacks[i].seen_at > FORGET_THREADS_NS) free(t->stacks[i].frames);
    else t->stacks[kept++] = t->stacks[i];
  }
  t->stack_count = kept;
}

/*
 * The thread running a thread state whose id is `tid`, as src/sampler/forked-thread-ids.ts explains: a worker
 * forked from C keeps its parent's states; the one of the thread that forked runs the worker's main thread.
 * 0 when no thread of this process runs it.
 */
static int resolve_tid(target_t *t, int tid, int64_t now) {
  thread_files_t *f = files_of(t, tid, now);
  if (!f || !f->phantom || !cfg_int(t, CFG_SHARES_PID_NAMESPACE)) return tid;
  return tid == cfg_int(t, CFG_PARENT_PID) ? t->pid : 0;
}

/* Whether stat says runnable: 1 yes, 0 waiting, -1 unreadable. The dearer file, so asked after ran_lately. */
static int is_runnable(target_t *t, thread_files_t *f) {
  char head[128];
  t->state_reads++;
  ssize_t n = pread(f->stat_fd, head, sizeof head, 0);
  char *paren = n > 0 ? memrchr(head, ')', n) : NULL;
  if (!paren || paren + 2 >= head + n) return -1;
  return paren[2] == 'R';
}

/*
 * Whether the thread had CPU time within STARVED_AFTER_NS, from schedstat (the kernel adds a running thread's time
 * at its scheduler ticks); at first sight, whether it runs now. 1 when the kernel keeps no such count. A busy
 * thread's schedstat is read every RAN_RECHECK_NS, not every tick; one that stops is found starved that much later.
 */
static int ran_lately(target_t *t, thread_files_t *f, int64_t now) {
  if (f->ran_at == now) return f->ran;
  f->ran_at = now;
  if (f->last_run_ns >= 0 && now - f->last_ran_at <= RAN_RECHECK_NS) {
    f->ran = 1;
    return 1;
  }
  char head[128];
  t->run_time_reads++;
  int64_t run_ns = -1;
  ssize_t n = f->sched_fd >= 0 ? pread(f->sched_fd, head, sizeof head - 1, 0) : -1;
  if (n > 0) {
    head[n] = 0;
    run_ns = strtoll(head, NULL, 10);
  }
  int first_sight = f->last_run_ns < 0 && run_ns >= 0;
  if (first_sight ? is_runnable(t, f) != 0 : run_ns != f->last_run_ns) f->last_ran_at = now;
  f->last_run_ns = run_ns;
  f->ran = run_ns < 0 || now - f->last_ran_at <= STARVED_AFTER_NS;
  return f->ran;
}

/*
 * 1 running, 0 waiting, -1 unknown; as ThreadStatReader.isActive (src/proc/thread-stat-reader.ts) decides. The
 * GIL's holder runs Python unless starved, so stat, the dearest read of a steady tick, is not asked about it.
 */
static int is_active(target_t *t, int tid, int holds_gil, int64_t now) {
  thread_files_t *f = files_of(t, tid, now);
  if (!f || f->stat_fd < 0) return -1;
  if (f->active_at != now) {
    f->active = !ran_lately(t, f, now) ? 0 : holds_gil ? 1 : is_runnable(t, f);
    f->active_at = now;
  }
  return f->active;
}

/* The OS thread id behind a pthread_t (before 3.11), at the libc offset JavaScript found; 0 when unknown. */
static int tid_of_pthread(target_t *t, uint64_t ident) {
  int32_t tid = 0;
  int offset = cfg_int(t, CFG_PTHREAD_TID_OFFSET);
  return offset >= 0 && read_mem(t, ident + offset, &tid, 4) == 0 ? tid : 0;
}

/* Where a thread's innermost frame pointer is: in its state, or (3.11-3.12) in the _PyCFrame it points to. */
static int read_frame_pointer(target_t *t, uint64_t tstate, const uint8_t *state, thread_t *thread) {
  uint64_t pointer;
  memcpy(&pointer, state + cfg_int(t, CFG_TSTATE_CURRENT_FRAME), 8);
  thread->frame_pointer_at = tstate + cfg_int(t, CFG_TSTATE_CURRENT_FRAME);
  thread->frame = pointer;
  if (cfg_int(t, CFG_CFRAME_CURRENT_FRAME) < 0 || pointer == 0) return 0;
  thread->frame_pointer_at = pointer + cfg_int(t, CFG_CFRAME_CURRENT_FRAME);
  return read_u64(t, thread->frame_pointer_at, &thread->frame);
}

/* Walks interpreters and their thread lists (bounded, cycle-checked through the bounds); -1 on a torn read. */
static int read_threads(target_t *t) {
  uint64_t interp;
  uint8_t state[2048];
  size_t state_size = (size_t)t->cfg[CFG_TSTATE_SIZE];
  if (state_size > sizeof state) return -1;
  t->thread_count = 0;
  if (read_u64(t, (uint64_t)t->cfg[CFG_RUNTIME] + cfg_int(t, CFG_INTERPRETERS_HEAD), &interp)) return -1;
  for (int interps = 0; interp != 0; interps++) {
    if (interps >= MAX_INTERPRETERS || !plausible(interp)) return -1;
    uint64_t tstate;
    if (read_u64(t, interp + cfg_int(t, CFG_INTERP_THREADS_HEAD), &tstate)) return -1;
    while (tstate != 0) {
      if (t->thread_count >= MAX_THREADS || !plausible(tstate) || read_mem(t, tstate, state, state_size)) return -1;
      thread_t *thread = &t->threads[t->thread_count++];
      thread->address = tstate;
      thread->interp = interp;
      memcpy(&thread->ident, state + cfg_int(t, CFG_TSTATE_THREAD_ID), 8);
      uint64_t native = 0;
      if (cfg_int(t, CFG_TSTATE_NATIVE_THREAD_ID) >= 0) memcpy(&native, state + cfg_int(t, CFG_TSTATE_NATIVE_THREAD_ID), 8);
      thread->tid = cfg_int(t, CFG_TSTATE_NATIVE_THREAD_ID) >= 0 ? (int)native : tid_of_pthread(t, thread->ident);
      if (read_frame_pointer(t, tstate, state, thread)) return -1;
      memcpy(&tstate, state + cfg_int(t, CFG_TSTATE_NEXT), 8);
    }
    if (read_u64(t, interp + cfg_int(t, CFG_INTERP_NEXT), &interp)) return -1;
  }
  return 0;
}

/* The thread state holding `interp`'s GIL, 0 when none or unknown. */
static uint64_t gil_holder(target_t *t, uint64_t interp) {
  uint64_t holder = 0, gil;
  switch (cfg_int(t, CFG_GIL_KIND)) {
  case GIL_RUNTIME_TSTATE_CURRENT:
    if (read_u64(t, (uint64_t)t->cfg[CFG_RUNTIME] + cfg_int(t, CFG_GILSTATE_TSTATE_CURRENT), &holder)) return 0;
    return holder;
  case GIL_INTERPRETER: {
    int32_t locked = 0;
    if (read_u64(t, interp + cfg_int(t, CFG_INTERP_CEVAL_GIL), &gil) || gil == 0) return 0;
    if (read_mem(t, gil + cfg_int(t, CFG_GIL_LOCKED), &locked, 4) || !locked) return 0;
    if (read_u64(t, gil + cfg_int(t, CFG_GIL_LAST_HOLDER), &holder)) return 0;
    return holder;
  }
  default:
    return 0;
  }
}

/* ---- request locals ---- */

static uint64_t watched_index(uint64_t code) { return (code >> 4) * 0x9E3779B97F4A7C15ULL >> 52; /* 12 bits */ }

/* The slots watched in frames of `code`, or NULL. */
static const uint16_t *watched_slots_of(const target_t *t, uint64_t code) {
  if (t->watched_count == 0) return NULL;
  for (uint64_t i = watched_index(code);; i = (i + 1) % WATCHED_CODES) {
    if (t->watched_codes[i] == code) return t->watched_slots[i];
    if (t->watched_codes[i] == 0) return NULL;
  }
}

/*
 * JavaScript names each code object once: when the table fills up it is emptied, and frames of the codes it held
 * are then labelled from what they hold when JavaScript reads them, checked against the stack (as a code object's
 * first samples are, before it was named).
 */
static void watch_code(target_t *t, uint64_t code, const double *slots, int count) {
  if (t->watched_count >= WATCHED_CODES * 3 / 4) {
    memset(t->watched_codes, 0, sizeof t->watched_codes);
    t->watched_count = 0;
  }
  uint64_t i = watched_index(code);
  while (t->watched_codes[i] != 0 && t->watched_codes[i] != code) i = (i + 1) % WATCHED_CODES;
  if (t->watched_codes[i] == 0) t->watched_count++;
  t->watched_codes[i] = code;
  for (int j = 0; j < SLOTS_PER_CODE; j++)
    t->watched_slots[i][j] = j < count ? (uint16_t)(((int)slots[2 * j] << 2 | (int)slots[2 * j + 1]) + 1) : 0;
}

/* FNV-1a, 32 bits, over `length` bytes, continuing from `hash`. */
static uint32_t fnv1a(uint32_t hash, const uint8_t *bytes, size_t length) {
  for (size_t i = 0; i < length; i++) hash = (hash ^ bytes[i]) * 16777619u;
  return hash;
}

/* Where a combined dict's entries are and how they are laid out. */
typedef struct {
  uint64_t entries;
  size_t entry_size, key_at;
  int64_t count;
} keys_table_t;

/* An environ as its snapshot copies it: header and keys table as the walk saw them, where its wanted values are. */
typedef struct {
  uint64_t dict;
  uint8_t header[MAX_DICT_HEADER];
  size_t header_size;
  keys_table_t table;
  uint64_t str_type;
  /* The entry of each key copied. */
  int key_entry[MAX_ENVIRON_ENTRIES];
  /* Each wanted value's str (0 when none can be) and how many of its bytes are in s->value_copies. */
  uint64_t value_at[COPIED_VALUES];
  size_t value_copied[COPIED_VALUES];
} environ_copy_t;

/* Bytes per slot of a 3.9–3.10 keys table's indices, chosen by its size. */
static uint64_t index_width(int64_t size) { return size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffLL ? 4 : 8; }

/*
 * The entries of the dict at `dict`, as decodeKeysTable in src/cpython/dicts.ts reads them, for both keys layouts;
 * -1 when its sizes contradict each other (a torn read) or its values live apart (a split table).
 */
static int read_keys_table(target_t *t, uint64_t dict, keys_table_t *table) {
  uint64_t keys, values, index_bytes, capacity;
  int general = 1;
  if (read_u64(t, dict + cfg_int(t, CFG_DICT_KEYS), &keys) || read_u64(t, dict + cfg_int(t, CFG_DICT_VALUES), &values) ||
      values != 0 || !plausible(keys) || read_mem(t, keys + cfg_int(t, CFG_KEYS_NENTRIES), &table->count, 8))
    return -1;
  if (cfg_int(t, CFG_KEYS_SIZE_39) >= 0) {
    int64_t size;
    if (read_mem(t, keys + cfg_int(t, CFG_KEYS_SIZE_39), &size, 8) || size < 8 || size > (1LL << 30) || (size & (size - 1)))
      return -1;
    capacity = (uint64_t)size;
    index_bytes = capacity * index_width(size);
  } else {
    uint8_t log2_size, log2_index_bytes, kind;
    if (cfg_int(t, CFG_KEYS_KIND) < 0 || read_mem(t, keys + cfg_int(t, CFG_KEYS_LOG2_SIZE), &log2_size, 1) ||
        read_mem(t, keys + cfg_int(t, CFG_KEYS_LOG2_INDEX_BYTES), &log2_index_bytes, 1) ||
        read_mem(t, keys + cfg_int(t, CFG_KEYS_KIND), &kind, 1) || log2_size > 30 || log2_index_bytes < log2_size ||
        log2_index_bytes > log2_size + 3)
      return -1;
    capacity = 1ULL << log2_size;
    index_bytes = 1ULL << log2_index_bytes;
    general = kind == 0;
  }
  /* A table never holds more entries than two thirds of its size. */
  if (table->count < 0 || (uint64_t)table->count > (capacity * 2 + 2) / 3) return -1;
  table->entries = keys + (uint64_t)cfg_int(t, CFG_KEYS_INDICES) + index_bytes;
  /* General entries carry a hash before key and value; unicode-keyed ones are key and value only. */
  table->entry_size = general ? 24 : 16;
  table->key_at = general ? 8 : 0;
  return 0;
}

/* The key and value of entry `i` of entries copied from `table` (0 for a deleted one). */
static void entry_at(const keys_table_t *table, const uint8_t *entries, int64_t i, uint64_t *key, uint64_t *value) {
  memcpy(key, entries + i * table->entry_size + table->key_at, 8);
  memcpy(value, entries + i * table->entry_size + table->key_at + 8, 8);
}

/*
 * What tells this dict from another at the same address, as request-context.ts computes it too (dictIdentity in
 * src/cpython/dicts.ts): its version tag folded to 32 bits (≤3.13, new at every mutation), or a hash of the
 * addresses of its live keys and values (3.14+); 0 when unknown.
 */
static uint32_t dict_identity(target_t *t, uint64_t dict) {
  int tag_at = cfg_int(t, CFG_DICT_VERSION_TAG);
  if (tag_at >= 0) {
    uint64_t tag;
    return read_u64(t, dict + tag_at, &tag) ? 0 : (uint32_t)tag ^ (uint32_t)(tag >> 32);
  }
  keys_table_t table;
  uint8_t entries[MAX_HASHED_ENTRIES * 24];
  if (read_keys_table(t, dict, &table) || table.count > MAX_HASHED_ENTRIES ||
      (table.count > 0 && read_mem(t, table.entries, entries, (size_t)table.count * table.entry_size)))
    return 0;
  uint32_t hash = 2166136261u;
  for (int64_t i = 0; i < table.count; i++) {
    uint64_t pair[2];
    entry_at(&table, entries, i, &pair[0], &pair[1]);
    if (pair[0] != 0 && pair[1] != 0) hash = fnv1a(hash, (const uint8_t *)pair, 16);
  }
  return hash;
}

/*
 * What tells another object at the same address from this one, where it is no dict: its first field past the
 * object header, folded (for anyio's work item function, a functools.partial: the function it calls), as
 * objectIdentity in src/cpython/objects.ts computes it.
 */
static uint32_t object_identity(target_t *t, uint64_t object) {
  uint64_t field;
  return read_u64(t, object + cfg_int(t, CFG_OBJECT_FIRST_FIELD), &field) ? 0 : (uint32_t)field ^ (uint32_t)(field >> 32);
}

/*
 * The identity of the object each slot of the walk holds (0 when unknown), read once the walk is known to be one
 * moment: the stack's pages alone tell that. A WSGI environ is a local of several frames, and hashing a dict, from
 * 3.14, reads all its entries: a value held by an earlier slot too has its identity.
 */
static void identify_slot_values(sampler_t *s, target_t *t) {
  for (int i = 0; i < s->slot_count; i++) {
    double *r = &s->slot_records[i * 4];
    uint64_t value = (uint64_t)r[2];
    int is_dict = s->slot_kind[i] != HOLDS_OBJECT, earlier = 0;
    while (earlier < i && !(s->slot_records[earlier * 4 + 2] == r[2] && (s->slot_kind[earlier] != HOLDS_OBJECT) == is_dict))
      earlier++;
    if (earlier < i) r[3] = s->slot_records[earlier * 4 + 3];
    else r[3] = !plausible(value) ? 0 : is_dict ? dict_identity(t, value) : object_identity(t, value);
  }
}

/* Copies the watched slots of the frame at `frame`, running `code`, into the walk's slot records. */
static void copy_watched_slots(sampler_t *s, target_t *t, uint64_t frame, uint64_t code) {
  const uint16_t *slots = watched_slots_of(t, code);
  if (!slots) return;
  uint64_t mask = (uint64_t)t->cfg[CFG_EXECUTABLE_TAG_MASK];
  for (int j = 0; j < SLOTS_PER_CODE && slots[j] && s->slot_count < MAX_SAMPLED_SLOTS; j++) {
    int slot = (slots[j] - 1) >> 2, kind = (slots[j] - 1) & 3;
    uint64_t value;
    if (read_u64(t, frame + cfg_int(t, CFG_FRAME_LOCALSPLUS) + 8 * (uint64_t)slot, &value)) continue;
    value &= ~mask; /* 3.14+ slots are tagged references */
    double *r = &s->slot_records[s->slot_count * 4];
    r[0] = (double)frame;
    r[1] = slot;
    r[2] = (double)value;
    r[3] = 0;
    s->slot_kind[s->slot_count++] = (uint8_t)kind;
  }
}

/* ---- request snapshots ---- */

static const char *const wanted_keys[WANTED_KEYS] = {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "HTTP_X_HOTPATH"};

/* The bytes of a dict's header compared to tell it unchanged: through its keys and values pointers and version tag. */
static size_t dict_header_size(const target_t *t) {
  int version_at = cfg_int(t, CFG_DICT_VERSION_TAG), values_at = cfg_int(t, CFG_DICT_VALUES);
  return (size_t)(version_at > values_at ? version_at : values_at) + 8;
}

/*
 * Copies the `count` ranges planned and, after them in the same call, the environ's header and entries afresh:
 * 1 when all arrived and the dict is as the walk saw it (`walked`, its reference count aside): then nothing was
 * added to it, removed or replaced since, and every string it held was alive while copied. 0 when it changed; -1
 * when a range could not be read (a text read past its str's end into an unmapped page).
 */
static int read_ranges(sampler_t *s, target_t *t, int count, const environ_copy_t *walked) {
  size_t entries_size = (size_t)walked->table.count * walked->table.entry_size;
  uint8_t header[MAX_DICT_HEADER];
  size_t total = walked->header_size + entries_size;
  for (int i = 0; i < count; i++) total += s->local[i].iov_len;
  count = plan_range(s, count, walked->dict, header, walked->header_size);
  if (entries_size) count = plan_range(s, count, walked->table.entries, s->fresh_entries, entries_size);
  if (read_remote(t, s->local, s->remote, count) != (ssize_t)total) return -1;
  return memcmp(walked->header + 8, header + 8, walked->header_size - 8) == 0 &&
         memcmp(s->entries, s->fresh_entries, entries_size) == 0;
}

/*
 * The text of a str copied from its header on (`copy`, `copied` bytes of it) when it is compact with one byte per
 * character (ASCII or Latin-1, as WSGI strings are) and at most `max` long: its length, with where its text starts
 * in `*at` and its type in `*type`; -1 otherwise. Its text is in the copy when `*at` + length <= `copied`.
 */
static int latin1_text(const target_t *t, const uint8_t *copy, size_t copied, int max, size_t *at, uint64_t *type) {
  int64_t length;
  uint32_t state;
  if (copied < (size_t)cfg_int(t, CFG_STR_ASCII_SIZE)) return -1;
  memcpy(type, copy + cfg_int(t, CFG_OBJECT_TYPE), 8);
  memcpy(&length, copy + cfg_int(t, CFG_STR_LENGTH), 8);
  memcpy(&state, copy + cfg_int(t, CFG_STR_STATE), 4);
  int compact = (state >> cfg_int(t, CFG_STR_COMPACT_BIT)) & 1, ascii = (state >> cfg_int(t, CFG_STR_ASCII_BIT)) & 1;
  if (!compact || ((state >> cfg_int(t, CFG_STR_KIND_SHIFT)) & 7) != 1 || length < 0 || length > max) return -1;
  *at = (size_t)cfg_int(t, ascii ? CFG_STR_ASCII_SIZE : CFG_STR_COMPACT_SIZE);
  return (int)length;
}

/* Whether the `length` bytes at `name` spell `wanted`, read no further than its end. */
static int is_named(const char *name, int length, const char *wanted) {
  for (int i = 0; i < length; i++)
    if (wanted[i] == '\0' || wanted[i] != name[i]) return 0;
  return wanted[length] == '\0';
}

/* Which wanted key the str copied into `copy` is, or -1; its type in `type`. */
static int wanted_key(const target_t *t, const uint8_t *copy, uint64_t *type) {
  size_t at;
  int length = latin1_text(t, copy, KEY_COPY, MAX_KEY_NAME, &at, type);
  if (length <= 0 || at + (size_t)length > KEY_COPY) return -1;
  for (int k = 0; k < WANTED_KEYS; k++)
    if (is_named((const char *)copy + at, length, wanted_keys[k])) return k;
  return -1;
}

/*
 * Copies the head of every key of the environ and, in the same call, the values of the entries the wanted keys
 * held in the last environ copied (a server builds every environ alike); then tells which entry holds which wanted
 * key (`found`). 1, 0 or -1 as read_ranges; -2 when a wanted key is no str or of another type than the others.
 */
static int find_wanted_keys(sampler_t *s, target_t *t, environ_copy_t *copy, int *found) {
  int n = 0;
  for (int64_t i = 0; i < copy->table.count; i++) {
    uint64_t key, value;
    entry_at(&copy->table, s->entries, i, &key, &value);
    copy->key_entry[n] = (int)i;
    if (key != 0 && value != 0 && plausible(key)) n = plan_range(s, n, key, s->key_copies[n], KEY_COPY);
  }
  int keys = n;
  for (int k = 0; k < COPIED_VALUES; k++) {
    int entry = t->wanted_entry[k];
    uint64_t key, value = 0;
    if (entry >= 0 && entry < copy->table.count) entry_at(&copy->table, s->entries, entry, &key, &value);
    copy->value_at[k] = plausible(value) ? value : 0;
    copy->value_copied[k] = copy->value_at[k] ? (size_t)cfg_int(t, CFG_STR_COMPACT_SIZE) + VALUE_PEEK : 0;
    if (copy->value_at[k]) n = plan_range(s, n, value, s->value_copies[k], copy->value_copied[k]);
  }
  int read = read_ranges(s, t, n, copy);
  if (read != 1) return read;
  for (int k = 0; k < WANTED_KEYS; k++) found[k] = -1;
  for (int i = 0; i < keys; i++) {
    uint64_t type;
    int k = wanted_key(t, s->key_copies[i], &type);
    if (k < 0) continue;
    /* Every wanted key is a str: the type of the first one found is str's, which every value must have. */
    if (!copy->str_type) copy->str_type = type;
    if (type != copy->str_type) return -2;
    found[k] = copy->key_entry[i];
  }
  return 1;
}

/*
 * The bytes of the value of wanted key `k` still to copy (from value_copied on), 0 when all are in; -1 when it is
 * no str the snapshot copies.
 */
static int64_t value_bytes_missing(const target_t *t, const environ_copy_t *copy, const sampler_t *s, int k) {
  if (copy->value_at[k] == 0) return -1;
  if (copy->value_copied[k] == 0) return (int64_t)cfg_int(t, CFG_STR_COMPACT_SIZE) + VALUE_PEEK;
  size_t at;
  uint64_t type;
  int length = latin1_text(t, s->value_copies[k], copy->value_copied[k], MAX_SNAPSHOT_VALUE, &at, &type);
  if (length < 0 || type != copy->str_type) return -1;
  int64_t missing = (int64_t)(at + (size_t)length) - (int64_t)copy->value_copied[k];
  return missing > 0 ? missing : 0;
}

/*
 * Copies the values of the wanted keys found, those the first call did not guess, then the rest of any text longer
 * than it copied, and puts them into `into`. 1, 0 or -1 as read_ranges; -2 when a value is no str it copies.
 */
static int copy_wanted_values(sampler_t *s, target_t *t, environ_copy_t *copy, const int *found, snapshot_t *into) {
  for (int k = 0; k < COPIED_VALUES; k++) {
    if (found[k] < 0 || found[k] == t->wanted_entry[k]) continue;
    uint64_t key, value;
    entry_at(&copy->table, s->entries, found[k], &key, &value);
    copy->value_at[k] = plausible(value) ? value : 0;
    copy->value_copied[k] = 0;
    t->wanted_entry[k] = found[k];
  }
  /* At most two more calls: a value's head, then the rest of its text. */
  for (int round = 0; round < 2; round++) {
    int n = 0;
    for (int k = 0; k < COPIED_VALUES; k++) {
      if (found[k] < 0) continue;
      int64_t missing = value_bytes_missing(t, copy, s, k);
      if (missing < 0) return -2;
      if (missing == 0) continue;
      size_t copied = copy->value_copied[k];
      n = plan_range(s, n, copy->value_at[k] + copied, s->value_copies[k] + copied, (size_t)missing);
      copy->value_copied[k] += (size_t)missing;
    }
    if (n == 0) break;
    int read = read_ranges(s, t, n, copy);
    if (read != 1) return read;
  }
  for (int k = 0; k < WANTED_KEYS; k++) {
    if (found[k] < 0) continue;
    if (k == KEY_MARKER) {
      into->length[k] = 0; /* its presence is all that counts */
      continue;
    }
    size_t at;
    uint64_t type;
    int length = latin1_text(t, s->value_copies[k], copy->value_copied[k], MAX_SNAPSHOT_VALUE, &at, &type);
    if (length < 0 || type != copy->str_type || at + (size_t)length > copy->value_copied[k]) return -2;
    memcpy(into->text[k], s->value_copies[k] + at, (size_t)length);
    into->length[k] = length;
  }
  return 1;
}

/*
 * Whether the object at `object` was freed since the walk: a live object's reference count is never 0. Until 3.13 a
 * freed dict keeps its version tag and so its identity, but its keys table may be freed and reused.
 */
static int was_freed(target_t *t, uint64_t object) {
  uint64_t count;
  return read_u64(t, object, &count) == 0 && count == 0;
}

/* Copies the environ's header, keys table and entries through the tick's pages; -1 when they contradict each other. */
static int read_environ_dict(sampler_t *s, target_t *t, environ_copy_t *copy) {
  return read_mem(t, copy->dict, copy->header, copy->header_size) || read_keys_table(t, copy->dict, &copy->table) ||
                 copy->table.count > MAX_ENVIRON_ENTRIES ||
                 (copy->table.count > 0 &&
                  read_mem(t, copy->table.entries, s->entries, (size_t)copy->table.count * copy->table.entry_size))
             ? -1
             : 0;
}

/*
 * Copies what JavaScript labels a sample with out of the WSGI environ `dict` its stack held (method, path, query
 * string, and whether it carries the X-Hotpath header), so that no read of the target waits for JavaScript. The
 * dict and its entries are read as the walk saw them, through the tick's pages (and so prefetched with them from
 * the next tick on); its keys and values are copied in one call, which ends by reading the dict afresh: the copy is
 * kept only when the dict is unchanged, one dict throughout whose strings were all alive (a version tag is never
 * reused; from 3.14, entries that point at the same strings). A dict found changed since the walk is marked so
 * (SNAPSHOT_CHANGED): the thread had moved on. 0 when not copied.
 */
static int snapshot_environ(sampler_t *s, target_t *t, uint64_t dict, uint32_t identity, snapshot_t *into) {
  environ_copy_t copy = {.dict = dict, .header_size = dict_header_size(t)};
  int found[WANTED_KEYS], read = 1;
  for (int k = 0; k < WANTED_KEYS; k++) into->length[k] = -1;
  into->dict = dict;
  if (copy.header_size > MAX_DICT_HEADER || cfg_int(t, CFG_STR_COMPACT_SIZE) + VALUE_PEEK > MAX_STR_HEADER) return 0;
  if (read_environ_dict(s, t, &copy)) {
    /* Its page and its keys table's copied on either side of a change (a new environ made, or resized): again. */
    forget_pages(&t->stack_pages);
    if (dict_identity(t, dict) != identity || was_freed(t, dict)) read = 0;
    else if (read_environ_dict(s, t, &copy)) return 0;
  }
  if (read == 1) read = find_wanted_keys(s, t, &copy, found);
  if (read == 1) read = copy_wanted_values(s, t, &copy, found, into);
  if (read == 0) into->length[KEY_METHOD] = SNAPSHOT_CHANGED;
  /* Without an identity (a dict never changed since it was made: 3.13's `environ = {}`) only an empty one tells. */
  if (identity == 0 && into->length[KEY_METHOD] >= 0) return 0;
  return read >= 0;
}

/* A snapshot of `dict` at `identity` read before, when a version tag makes it one version for good (see recent). */
static const snapshot_t *recent_snapshot(const target_t *t, uint64_t dict, uint32_t identity) {
  if (cfg_int(t, CFG_DICT_VERSION_TAG) < 0 || identity == 0) return NULL;
  for (int i = 0; i < RECENT_SNAPSHOTS; i++)
    if (t->recent[i].dict == dict && t->recent_identity[i] == identity) return &t->recent[i];
  return NULL;
}

static void remember_snapshot(target_t *t, const snapshot_t *snapshot, uint32_t identity) {
  if (snapshot->length[KEY_METHOD] == SNAPSHOT_CHANGED || identity == 0) return;
  t->recent[t->recent_next] = *snapshot;
  t->recent_identity[t->recent_next] = identity;
  t->recent_next = (t->recent_next + 1) % RECENT_SNAPSHOTS;
}

/* Snapshots each distinct environ the walk's watched slots held. */
static void snapshot_environs(sampler_t *s, target_t *t) {
  s->snapshot_count = 0;
  for (int i = 0; i < s->slot_count && s->snapshot_count < MAX_SNAPSHOTS; i++) {
    uint64_t dict = (uint64_t)s->slot_records[i * 4 + 2];
    uint32_t identity = (uint32_t)s->slot_records[i * 4 + 3];
    if (s->slot_kind[i] != HOLDS_ENVIRON || !plausible(dict)) continue;
    int seen = 0;
    for (int j = 0; j < s->snapshot_count; j++) seen |= s->snapshots[j].dict == dict;
    if (seen) continue;
    snapshot_t *into = &s->snapshots[s->snapshot_count];
    const snapshot_t *recent = recent_snapshot(t, dict, identity);
    if (recent) {
      *into = *recent;
      s->snapshot_count++;
    } else if (snapshot_environ(s, t, dict, identity, into)) {
      remember_snapshot(t, into, identity);
      s->snapshot_count++;
    }
  }
}

/* ---- stacks ---- */

/*
 * Walks a thread's frames innermost first into s->walk; the depth, or -1 on a torn read (a bad pointer, a loop
 * found by Brent's check, an unreadable frame).
 */
static int walk_frames(sampler_t *s, target_t *t, uint64_t innermost, int *truncated) {
  uint8_t frame[1024];
  size_t size = (size_t)t->cfg[CFG_FRAME_SIZE];
  if (size > sizeof frame) return -1;
  uint64_t mask = (uint64_t)t->cfg[CFG_EXECUTABLE_TAG_MASK];
  int owner_at = cfg_int(t, CFG_FRAME_OWNER), c_stack = cfg_int(t, CFG_FRAME_OWNER_C_STACK);
  uint64_t saved = 0;
  int since_saved = 0, next_save = 1, depth = 0;
  *truncated = 0;
  s->slot_count = 0;
  for (uint64_t address = innermost; address != 0;) {
    if (depth >= MAX_DEPTH) {
      *truncated = 1;
      break;
    }
    if (!plausible(address) || address == saved || read_mem(t, address, frame, size)) return -1;
    if (++since_saved == next_save) {
      saved = address;
      since_saved = 0;
      next_save *= 2;
    }
    uint64_t code, instr = 0, previous;
    memcpy(&previous, frame + cfg_int(t, CFG_FRAME_PREVIOUS), 8);
    memcpy(&code, frame + cfg_int(t, CFG_FRAME_EXECUTABLE), 8);
    code &= ~mask;
    int owner = owner_at >= 0 ? frame[owner_at] : 0;
    if (t->cfg[CFG_INSTR_IS_POINTER]) memcpy(&instr, frame + cfg_int(t, CFG_FRAME_INSTR), 8);
    else {
      int32_t lasti;
      memcpy(&lasti, frame + cfg_int(t, CFG_FRAME_INSTR), 4);
      instr = (uint64_t)(int64_t)lasti;
    }
    int shim = c_stack >= 0 && owner >= c_stack;
    if (!shim && code != 0) {
      double *r = &s->walk_records[depth * 4];
      r[0] = (double)address;
      r[1] = (double)code;
      r[2] = t->cfg[CFG_INSTR_IS_POINTER] ? (double)instr : (double)(int64_t)instr;
      r[3] = owner;
      s->walk[depth] = (frame_id_t){address, code};
      depth++;
      copy_watched_slots(s, t, address, code);
    }
    address = previous;
  }
  return depth;
}

static last_stack_t *last_stack_of(target_t *t, uint64_t tstate, int64_t now) {
  for (int i = 0; i < t->stack_count; i++)
    if (t->stacks[i].tstate == tstate) {
      t->stacks[i].seen_at = now;
      return &t->stacks[i];
    }
  if (!make_room((void **)&t->stacks, t->stack_count, &t->stack_capacity, sizeof(last_stack_t))) return NULL;
  last_stack_t *stack = &t->stacks[t->stack_count++];
  memset(stack, 0, sizeof *stack);
  stack->tstate = tstate;
  stack->seen_at = now;
  return stack;
}

/*
 * How many frames, counted from the innermost, are new since the thread's last stack: from the outermost in, a
 * frame at the same address running the same code went on running and kept its code object alive. The
 * innermost frame counts as new unless its code object's header is byte for byte the one last sent: a function
 * compiled, run and freed in a loop may come back at the same address, but not with the same names and table.
 */
static int new_frames(sampler_t *s, target_t *t, last_stack_t *last, int depth) {
  int same = 0;
  while (last && same < depth - 1 && same < last->depth &&
         last->frames[last->depth - 1 - same].frame == s->walk[depth - 1 - same].frame &&
         last->frames[last->depth - 1 - same].code == s->walk[depth - 1 - same].code)
    same++;
  if (same < depth - 1 || !last || last->depth != depth || last->frames[0].frame != s->walk[0].frame ||
      last->frames[0].code != s->walk[0].code)
    return depth - same;
  size_t header = (size_t)t->cfg[CFG_CODE_HEADER_SIZE];
  uint8_t now[MAX_CODE_HEADER];
  if (read_mem(t, s->walk[0].code, now, header)) return 1;
  return memcmp(now + 8, last->innermost_header + 8, header - 8) == 0 ? 0 : 1;
}

/* FNV-1a of a code object's header past its reference count (which changes with every call). */
static uint64_t header_hash(target_t *t, uint64_t code) {
  uint8_t header[MAX_CODE_HEADER];
  size_t size = (size_t)t->cfg[CFG_CODE_HEADER_SIZE];
  if (read_mem(t, code, header, size)) return 0;
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 8; i < size; i++) hash = (hash ^ header[i]) * 0x100000001b3ULL;
  return hash;
}

/* Adds `code` (as its header is now) to the process's seen set; 1 when it was not in it. */
static int first_sight(target_t *t, uint64_t code) {
  if (t->seen_count >= SEEN_CODES * 3 / 4) {
    memset(t->seen_codes, 0, sizeof t->seen_codes);
    t->seen_count = 0;
  }
  uint64_t hash = header_hash(t, code);
  /* Fibonacci hashing to 13 bits: SEEN_CODES slots. */
  for (uint64_t i = (code >> 4) * 0x9E3779B97F4A7C15ULL >> 51;; i = (i + 1) % SEEN_CODES) {
    if (t->seen_codes[i] == code) {
      if (t->seen_headers[i] == hash) return 0;
      t->seen_headers[i] = hash;
      return 1;
    }
    if (t->seen_codes[i] == 0) {
      t->seen_codes[i] = code;
      t->seen_headers[i] = hash;
      t->seen_count++;
      return 1;
    }
  }
}

static void remember_stack(sampler_t *s, target_t *t, last_stack_t *last, int depth) {
  if (!last) return;
  if (depth > last->capacity) {
    frame_id_t *frames = realloc(last->frames, sizeof(frame_id_t) * depth);
    if (!frames) {
      last->depth = 0;
      return;
    }
    last->frames = frames;
    last->capacity = depth;
  }
  memcpy(last->frames, s->walk, sizeof(frame_id_t) * depth);
  last->depth = depth;
  if (read_mem(t, s->walk[0].code, last->innermost_header, (size_t)t->cfg[CFG_CODE_HEADER_SIZE])) last->depth = 0;
}

/*
 * Whether the stack walked belongs to one moment: read wholly from the prefetch whose closing copy of the frame
 * pointer still shows the frame walked from, or, read in part afterwards, walked without a long interruption
 * and with the same innermost frame and code object in place now.
 */
static int is_one_moment(target_t *t, const thread_t *thread, int depth, sampler_t *s, int64_t started) {
  uint64_t closing;
  if (t->stack_pages.all_from_fetch && closing_copy(t, thread->frame_pointer_at, &closing)) return closing == thread->frame;
  if (now_ns() - started > SLOW_WALK_NS) return 0;
  uint64_t pointer, code;
  if (read_fresh(t, thread->frame_pointer_at, &pointer, 8) || pointer != thread->frame) return 0;
  if (depth == 0) return 1;
  if (read_fresh(t, (uint64_t)s->walk_records[0] + cfg_int(t, CFG_FRAME_EXECUTABLE), &code, 8)) return 0;
  return (code & ~(uint64_t)t->cfg[CFG_EXECUTABLE_TAG_MASK]) == s->walk[0].code;
}

static void plan_closing(target_t *t, uint64_t address) {
  if (t->planned_count < MAX_THREADS) t->planned_at[t->planned_count++] = address;
}

/* Bytes of the str (or bytes object) at `address` up to its last data byte; 0 when it does not look like one. */
static size_t object_size(target_t *t, uint64_t address, int is_bytes) {
  int64_t size;
  if (is_bytes) {
    if (read_mem(t, address + cfg_int(t, CFG_BYTES_SIZE), &size, 8) || size < 0 || size > MAX_CAPTURED_OBJECT) return 0;
    return (size_t)cfg_int(t, CFG_BYTES_DATA) + (size_t)size + 1;
  }
  uint32_t state;
  if (read_mem(t, address + cfg_int(t, CFG_STR_LENGTH), &size, 8) ||
      read_mem(t, address + cfg_int(t, CFG_STR_STATE), &state, 4) || size < 0 || size > MAX_CAPTURED_OBJECT)
    return 0;
  unsigned kind = (state >> cfg_int(t, CFG_STR_KIND_SHIFT)) & 7;
  int ascii = (state >> cfg_int(t, CFG_STR_ASCII_BIT)) & 1;
  if (!((state >> cfg_int(t, CFG_STR_COMPACT_BIT)) & 1) || (kind != 1 && kind != 2 && kind != 4)) return 0;
  size_t data = (size_t)cfg_int(t, ascii ? CFG_STR_ASCII_SIZE : CFG_STR_COMPACT_SIZE);
  size_t end = data + ((size_t)size + 1) * kind;
  /* Whatever reads it reads a compact header's worth first. */
  size_t least = (size_t)cfg_int(t, CFG_STR_COMPACT_SIZE);
  return end > least ? end : least;
}

/* Appends a copy of `length` bytes at `address` as (address, length, bytes padded to 8); 0 when out of room. */
static int emit_capture(sampler_t *s, target_t *t, uint64_t address, size_t length) {
  size_t padded = (length + 7) & ~(size_t)7;
  if (!reserve(s, 16 + padded)) return 0;
  uint8_t *at = s->out + s->out_length + 16;
  memset(at, 0, padded);
  if (read_mem(t, address, at, length)) return 1;
  put(s, (double)address);
  put(s, (double)length);
  s->out_length += padded;
  return 1;
}

/*
 * After the headers: for each code object seen for the first time, its file name, names and line table, so that
 * JavaScript decodes it as it was even if it is freed before the record is drained (count, then the copies).
 */
static int emit_captures(sampler_t *s, target_t *t, int fresh) {
  static const int fields[] = {CFG_CODE_FILENAME, CFG_CODE_NAME, CFG_CODE_QUALNAME, CFG_CODE_LINETABLE};
  if (!reserve(s, 8)) return 0;
  size_t count_at = s->out_length;
  put(s, 0);
  double count = 0;
  for (int i = 0; i < fresh; i++) {
    if (!s->first_sight[i]) continue;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
      int offset = cfg_int(t, fields[f]);
      uint64_t object;
      if (offset < 0 || read_u64(t, s->walk[i].code + offset, &object) || !plausible(object)) continue;
      size_t size = object_size(t, object, fields[f] == CFG_CODE_LINETABLE);
      size_t before = s->out_length;
      if (size && !emit_capture(s, t, object, size)) return 0;
      if (s->out_length != before) count++;
    }
  }
  memcpy(s->out + count_at, &count, 8);
  return 1;
}

/* After the captures: the watched slots of the walk (count, then frame, slot, value and identity each). */
static int emit_slots(sampler_t *s) {
  if (!reserve(s, 8 + (size_t)s->slot_count * 32)) return 0;
  put(s, s->slot_count);
  for (int i = 0; i < s->slot_count * 4; i++) put(s, s->slot_records[i]);
  return 1;
}

/*
 * After the slots: the environ snapshots (count, then for each the dict, the lengths of its method, path and query
 * string (-1 when absent, the method's SNAPSHOT_CHANGED), whether it has the marker header, then the three texts back
 * to back, padded to 8).
 */
static int emit_snapshots(sampler_t *s) {
  if (!reserve(s, 8)) return 0;
  put(s, s->snapshot_count);
  for (int i = 0; i < s->snapshot_count; i++) {
    const snapshot_t *snapshot = &s->snapshots[i];
    size_t text = 0;
    for (int k = 0; k < COPIED_VALUES; k++) text += snapshot->length[k] > 0 ? (size_t)snapshot->length[k] : 0;
    size_t padded = (text + 7) & ~(size_t)7;
    if (!reserve(s, 40 + padded)) return 0;
    put(s, (double)snapshot->dict);
    for (int k = 0; k < COPIED_VALUES; k++) put(s, snapshot->length[k]);
    put(s, snapshot->length[KEY_MARKER] >= 0);
    uint8_t *at = s->out + s->out_length;
    memset(at, 0, padded);
    for (int k = 0; k < COPIED_VALUES; k++)
      if (snapshot->length[k] > 0) {
        memcpy(at, snapshot->text[k], (size_t)snapshot->length[k]);
        at += snapshot->length[k];
      }
    s->out_length += padded;
  }
  return 1;
}

/* Appends a sample: its thread, its frames, then the headers of the code objects of the frames new on the stack. */
static int emit_sample(sampler_t *s, target_t *t, const thread_t *thread, int tid, double time_ms, int flags,
                       int depth, int fresh) {
  size_t header = (size_t)t->cfg[CFG_CODE_HEADER_SIZE];
  size_t bytes = 8 * 10 + (size_t)depth * 32 + (size_t)fresh * header;
  size_t start = s->out_length;
  if (!reserve(s, bytes)) return 0;
  put(s, RECORD_SAMPLE);
  put(s, time_ms);
  put(s, t->pid);
  put(s, tid);
  put(s, (double)thread->ident);
  put(s, (double)thread->address);
  put(s, (double)thread->interp);
  put(s, flags);
  put(s, depth);
  put(s, (double)(fresh * header));
  for (int i = 0; i < depth; i++) {
    double *r = &s->walk_records[i * 4];
    put(s, r[0]);
    put(s, r[1]);
    put(s, r[2]);
    put(s, r[3] + (i < fresh ? OWNER_HEADER_FOLLOWS : 0));
  }
  for (int i = 0; i < fresh; i++) {
    uint8_t *at = s->out + s->out_length;
    if (read_mem(t, s->walk[i].code, at, header)) memset(at, 0, header);
    s->out_length += header;
  }
  if (emit_captures(s, t, fresh) && emit_slots(s) && emit_snapshots(s)) return 1;
  s->out_length = start; /* no half record */
  return 0;
}

/* Reads one thread's stack (retrying a torn one) and appends it; -1 when the process cannot be read. */
static int sample_thread(sampler_t *s, target_t *t, thread_t *thread, int tid, double time_ms, int flags,
                         int64_t now) {
  int truncated = 0, depth = -1;
  for (int attempt = 0; attempt <= WALK_RETRIES; attempt++) {
    int64_t started = now_ns();
    depth = walk_frames(s, t, thread->frame, &truncated);
    if (depth >= 0 && is_one_moment(t, thread, depth, s, started)) break;
    if (attempt == WALK_RETRIES) {
      if (depth < 0) return 0;
      flags |= FLAG_MOVED;
      break;
    }
    /* Trust nothing from the torn attempt: forget every page and read the frame pointer again. */
    forget_pages(&t->stack_pages);
    if (read_u64(t, thread->frame_pointer_at, &thread->frame)) return 0;
  }
  if (truncated) flags |= FLAG_TRUNCATED;
  plan_closing(t, thread->frame_pointer_at);
  identify_slot_values(s, t);
  snapshot_environs(s, t);
  if (depth == 0) return 1;
  last_stack_t *last = last_stack_of(t, thread->address, now);
  int fresh = new_frames(s, t, last, depth);
  load_pages(s, t, s->walk, fresh, (size_t)t->cfg[CFG_CODE_HEADER_SIZE]);
  for (int i = 0; i < fresh; i++) {
    s->first_sight[i] = (uint8_t)first_sight(t, s->walk[i].code);
    s->new_code_this_tick |= s->first_sight[i];
  }
  if (!emit_sample(s, t, thread, tid, time_ms, flags, depth, fresh)) {
    emit_drop(s, time_ms, t->pid, DROP_BUFFER_FULL);
    return 1;
  }
  remember_stack(s, t, last, depth);
  return 1;
}

/*
 * Whether no thread known from a recent walk has had CPU time lately: then no memory is read at all. From schedstat
 * alone: whether the GIL's holder is active needs no more (is_active), and the walk finds who holds it.
 */
static int is_quiet(target_t *t, int64_t now) {
  if (t->thread_count == 0 || now - t->threads_walked_at >= REWALK_THREADS_NS) return 0;
  for (int i = 0; i < t->thread_count; i++) {
    int tid = t->threads[i].tid ? resolve_tid(t, t->threads[i].tid, now) : -1;
    if (tid == 0) continue;
    thread_files_t *f = tid > 0 ? files_of(t, tid, now) : NULL;
    if (!f || f->stat_fd < 0 || ran_lately(t, f, now)) return 0;
  }
  return 1;
}

/*
 * Whether the process is gone or runs another program now: process_vm_readv reads whatever the pid runs, while
 * /proc/PID/mem, opened on the program attached to, reads nothing once it exec'd.
 */
static int process_gone(target_t *t, int64_t now) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", t->pid);
  if (access(path, F_OK) != 0) return 1;
  t->exec_checked_at = now;
  uint8_t probe;
  return t->mem_fd >= 0 && pread(t->mem_fd, &probe, 1, (off_t)(uint64_t)t->cfg[CFG_RUNTIME]) != 1;
}

/* The GIL holder of each interpreter of a tick, read once. */
typedef struct {
  uint64_t interp[MAX_INTERPRETERS], holder[MAX_INTERPRETERS];
  int count;
} gil_holders_t;

static int holds_gil_now(target_t *t, gil_holders_t *h, const thread_t *thread) {
  for (int i = 0; i < h->count; i++)
    if (h->interp[i] == thread->interp) return h->holder[i] == thread->address;
  uint64_t holder = gil_holder(t, thread->interp);
  if (h->count < MAX_INTERPRETERS) {
    h->interp[h->count] = thread->interp;
    h->holder[h->count++] = holder;
  }
  return holder == thread->address;
}

static void sample_target(sampler_t *s, target_t *t, double time_ms, int64_t now) {
  s->attempted++;
  if (now - t->exec_checked_at >= EXEC_CHECK_NS && process_gone(t, now)) {
    t->dead = 1;
    emit_drop(s, time_ms, t->pid, DROP_EXITED);
    return;
  }
  if (!s->include_idle && is_quiet(t, now)) {
    s->taken++;
    return;
  }
  prefetch(s, t);
  int ok = -1;
  for (int attempt = 0; attempt <= WALK_RETRIES && ok < 0; attempt++) {
    ok = read_threads(t);
    if (ok < 0) forget_pages(&t->stack_pages);
  }
  if (ok < 0) {
    int gone = process_gone(t, now);
    t->dead = gone;
    t->stack_pages.used_count = 0;
    t->thread_count = 0;
    emit_drop(s, time_ms, t->pid, gone ? DROP_EXITED : DROP_READ_ERROR);
    return;
  }
  t->threads_walked_at = now;
  s->taken++;
  gil_holders_t holders = {.count = 0};
  for (int i = 0; i < t->thread_count; i++) {
    thread_t *thread = &t->threads[i];
    if (thread->frame == 0) continue;
    int holds_gil = holds_gil_now(t, &holders, thread);
    if (s->gil_mode == 2 && !holds_gil) continue;
    int flags = s->gil_mode && holds_gil ? FLAG_GIL : 0;
    int tid = thread->tid ? resolve_tid(t, thread->tid, now) : -1;
    if (tid == 0) continue;
    int active = tid > 0 ? is_active(t, tid, holds_gil, now) : -1;
    if (active == 0) flags |= FLAG_IDLE;
    if ((flags & FLAG_IDLE) && !s->include_idle) continue;
    if (!sample_thread(s, t, thread, tid > 0 ? tid : 0, time_ms, flags, now)) {
      if (process_gone(t, now)) {
        t->dead = 1;
        emit_drop(s, time_ms, t->pid, DROP_EXITED);
        return;
      }
      emit_drop(s, time_ms, t->pid, DROP_TORN);
    }
  }
}

/* Samples every target once, now; the tick's time in ms since start. Forgets ended threads now and then. */
static double tick(sampler_t *s) {
  int64_t now = now_ns();
  double time_ms = (double)(now - s->start_ns) / 1e6;
  s->ticks++;
  s->new_code_this_tick = 0;
  for (target_t *t = s->targets; t; t = t->next)
    if (!t->dead) sample_target(s, t, time_ms, now);
  if (s->new_code_this_tick && s->on_new_code && !atomic_exchange(&s->new_code_signalled, 1))
    napi_call_threadsafe_function(s->on_new_code, NULL, napi_tsfn_nonblocking);
  if (now - s->swept_at >= FORGET_THREADS_NS) {
    for (target_t *t = s->targets; t; t = t->next) sweep_files(t, now);
    s->swept_at = now;
  }
  return time_ms;
}

/* ---- the loop ---- */

static double next_random(sampler_t *s) {
  s->random ^= s->random << 13;
  s->random ^= s->random >> 7;
  s->random ^= s->random << 17;
  return (double)(s->random >> 11) / 9007199254740992.0;
}

/*
 * Sleeps until `deadline` (ns, CLOCK_MONOTONIC) or until stop_thread wakes it. A futex rather than a condition
 * variable: glibc takes the mutex back after a timed-out wait as contended, so every tick's unlock cost a system
 * call to wake nobody.
 */
static void sleep_until(sampler_t *s, int64_t deadline) {
  struct timespec until = {(time_t)(deadline / 1000000000L), (long)(deadline % 1000000000L)};
  while (!atomic_load(&s->stopping) && now_ns() < deadline)
    if (syscall(SYS_futex, &s->stopping, FUTEX_WAIT_BITSET_PRIVATE, 0, &until, NULL, FUTEX_BITSET_MATCH_ANY) != 0 &&
        errno == ETIMEDOUT)
      break;
}

/* The loop's thread: the first tick was taken by start(); each next one at its deadline. */
static void *run(void *arg) {
  sampler_t *s = arg;
  double interval_ns = 1e9 / s->rate_hz;
  int64_t max_backlog = (int64_t)(CATCH_UP_NS / interval_ns) > 1 ? (int64_t)(CATCH_UP_NS / interval_ns) : 1;
  int64_t index = 0;
  for (;;) {
    /* Absolute deadlines, each anywhere in its interval (see SampleSchedule); short stalls caught up, long skipped. */
    index++;
    int64_t due = (int64_t)((now_ns() - s->start_ns) / interval_ns);
    if (due - index > max_backlog) index = due + 1;
    sleep_until(s, (int64_t)(s->start_ns + index * interval_ns + (next_random(s) - 0.5) * interval_ns));
    if (atomic_load(&s->stopping) || (s->duration_ns && now_ns() - s->start_ns >= s->duration_ns)) break;
    pthread_mutex_lock(&s->lock);
    tick(s);
    pthread_mutex_unlock(&s->lock);
  }
  return NULL;
}

/* ---- Node-API ---- */

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static void free_target(target_t *t) {
  for (int i = 0; i < t->file_count; i++) close_files(&t->files[i]);
  for (int i = 0; i < t->stack_count; i++) free(t->stacks[i].frames);
  if (t->mem_fd >= 0) close(t->mem_fd);
  free(t->files);
  free(t->stacks);
  free(t->stack_pages.pages);
  free(t);
}

static void stop_thread(sampler_t *s) {
  if (!s->running) return;
  atomic_store(&s->stopping, 1);
  syscall(SYS_futex, &s->stopping, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  pthread_join(s->thread, NULL);
  s->running = 0;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sampler_t *s = data;
  stop_thread(s);
  while (s->targets) {
    target_t *next = s->targets->next;
    free_target(s->targets);
    s->targets = next;
  }
  /* An on_new_code still held here is Node's to clean up (at exit it may be gone already). */
  pthread_mutex_destroy(&s->lock);
  free(s->out);
  free(s);
}

static sampler_t *unwrap(napi_env env, napi_value value) {
  void *data = NULL;
  napi_get_value_external(env, value, &data);
  return data;
}

/*
 * create(rateHz, includeIdle, gilMode, durationMs, onNewCode?) -> handle; durationMs 0 samples until stopped;
 * onNewCode() is called when samples carry a code object not seen before (until the next drain).
 */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  double rate, duration;
  int32_t idle, gil;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_double(env, argv[0], &rate) != napi_ok || !(rate > 0 && rate <= 1e6) ||
      napi_get_value_int32(env, argv[1], &idle) != napi_ok || napi_get_value_int32(env, argv[2], &gil) != napi_ok ||
      napi_get_value_double(env, argv[3], &duration) != napi_ok || !(duration >= 0))
    return fail(env, "create(rateHz, includeIdle, gilMode, durationMs)");
  sampler_t *s = calloc(1, sizeof *s);
  if (!s) return fail(env, "out of memory");
  s->rate_hz = rate;
  s->duration_ns = (int64_t)(duration * 1e6);
  napi_valuetype callback_type = napi_undefined;
  if (argc == 5) napi_typeof(env, argv[4], &callback_type);
  if (callback_type == napi_function) {
    napi_value name;
    napi_create_string_utf8(env, "hotpath new code", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[4], NULL, name, 0, 1, NULL, NULL, NULL, NULL, &s->on_new_code) ==
        napi_ok)
      napi_unref_threadsafe_function(env, s->on_new_code); /* it must not keep Node running */
    else
      s->on_new_code = NULL;
  }
  s->include_idle = idle;
  s->gil_mode = gil;
  s->random = (uint64_t)now_ns() | 1;
  pthread_mutex_init(&s->lock, NULL);
  napi_value handle;
  napi_create_external(env, s, finalize, NULL, &handle);
  return handle;
}

/* The (handle, Float64Array of at least `least` numbers) arguments of a call; NULL, having thrown, when not. */
static sampler_t *handle_and_numbers(napi_env env, napi_callback_info info, size_t least, double **numbers,
                                     size_t *length, const char *usage) {
  size_t argc = 2;
  napi_value argv[2];
  napi_typedarray_type type;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_typedarray_info(env, argv[1], &type, length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || *length < least) {
    fail(env, usage);
    return NULL;
  }
  *numbers = data;
  return unwrap(env, argv[0]);
}

/* addProcess(handle, config: Float64Array) */
static napi_value add_process(napi_env env, napi_callback_info info) {
  double *cfg;
  size_t length;
  sampler_t *s = handle_and_numbers(env, info, CFG_COUNT, &cfg, &length, "addProcess(handle, config)");
  if (!s) return NULL;
  if (length != CFG_COUNT) return fail(env, "addProcess: a configuration of another version of hotpath");
  if (cfg[CFG_TSTATE_SIZE] > 2048 || cfg[CFG_FRAME_SIZE] > 1024 || cfg[CFG_CODE_HEADER_SIZE] > MAX_CODE_HEADER ||
      (int64_t)cfg[CFG_CODE_HEADER_SIZE] % 8 != 0 || !(cfg[CFG_PID] > 0))
    return fail(env, "addProcess: a layout this sampler cannot hold");
  target_t *t = calloc(1, sizeof *t);
  if (!t || !(t->stack_pages.pages = malloc(sizeof(page_t) * MAX_PAGES))) {
    free(t);
    return fail(env, "out of memory");
  }
  t->stack_pages.capacity = MAX_PAGES;
  memcpy(t->cfg, cfg, sizeof t->cfg);
  t->pid = (int)cfg[CFG_PID];
  t->use_vm = 1;
  char path[32];
  snprintf(path, sizeof path, "/proc/%d/mem", t->pid);
  t->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
  pthread_mutex_lock(&s->lock);
  t->next = s->targets;
  s->targets = t;
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* removeProcess(handle, pid) */
static napi_value remove_process(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t pid;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[1], &pid) != napi_ok)
    return fail(env, "removeProcess(handle, pid)");
  sampler_t *s = unwrap(env, argv[0]);
  pthread_mutex_lock(&s->lock);
  for (target_t **at = &s->targets; *at; at = &(*at)->next)
    if ((*at)->pid == pid) {
      target_t *gone = *at;
      *at = gone->next;
      s->memory_reads += gone->memory_reads;
      s->state_reads += gone->state_reads;
      s->run_time_reads += gone->run_time_reads;
      free_target(gone);
      break;
    }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/*
 * watchCode(handle, [pid, code, slot, holds, ...]): frames running `code` have those local slots copied with each
 * sample (at most SLOTS_PER_CODE), with the identity of what each holds (HOLDS_*) and an environ's request line.
 */
static napi_value watch_code_call(napi_env env, napi_callback_info info) {
  double *numbers;
  size_t length;
  sampler_t *s = handle_and_numbers(env, info, 2, &numbers, &length, "watchCode(handle, [pid, code, slot, holds...])");
  if (!s) return NULL;
  int count = (int)(length - 2) / 2;
  if (length % 2 != 0 || count > SLOTS_PER_CODE || !plausible((uint64_t)numbers[1]))
    return fail(env, "watchCode: pid, a code object's address, then up to 4 (slot, holds) pairs");
  for (int j = 0; j < count; j++)
    if (!(numbers[2 + 2 * j] >= 0 && numbers[2 + 2 * j] < 8192) ||
        !(numbers[3 + 2 * j] == HOLDS_OBJECT || numbers[3 + 2 * j] == HOLDS_DICT || numbers[3 + 2 * j] == HOLDS_ENVIRON))
      return fail(env, "watchCode: a slot out of range, or what it holds unknown");
  pthread_mutex_lock(&s->lock);
  for (target_t *t = s->targets; t; t = t->next)
    if (t->pid == (int)numbers[0]) watch_code(t, (uint64_t)numbers[1], numbers + 2, count);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* The handle of a call that takes nothing else; NULL, having thrown, when it was not given one. */
static sampler_t *only_handle(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    fail(env, usage);
    return NULL;
  }
  return unwrap(env, argv[0]);
}

/* start(handle): takes the first tick now, then samples on a thread of its own until stop() or the duration. */
static napi_value start(napi_env env, napi_callback_info info) {
  sampler_t *s = only_handle(env, info, "start(handle)");
  if (!s) return NULL;
  if (s->running) return fail(env, "start: already running");
  /* Started again (after ticks on JavaScript's clock), times go on from the first start. */
  if (!s->start_ns) s->start_ns = s->swept_at = now_ns();
  atomic_store(&s->stopping, 0);
  /* The first tick now, as JavaScript's loop takes it: a recording stopped at once still has its first samples. */
  tick(s);
  if (pthread_create(&s->thread, NULL, run, s) != 0) return fail(env, "start: cannot create a thread");
  s->running = 1;
  return NULL;
}

/*
 * tickNow(handle) -> the tick's time: samples every target once, now, on the calling thread, for a caller that
 * keeps the time itself (the loop's thread must not run). Times count from start, or from the first tickNow.
 */
static napi_value tick_now(napi_env env, napi_callback_info info) {
  napi_value result;
  sampler_t *s = only_handle(env, info, "tickNow(handle)");
  if (!s) return NULL;
  if (s->running) return fail(env, "tickNow: the loop's thread is running");
  pthread_mutex_lock(&s->lock);
  if (!s->start_ns) s->start_ns = s->swept_at = now_ns();
  double time_ms = tick(s);
  pthread_mutex_unlock(&s->lock);
  napi_create_double(env, time_ms, &result);
  return result;
}

/*
 * stop(handle): waits for the loop's thread to end; what it sampled stays to be drained, and ticks on the calling
 * thread may follow, or a new start().
 */
static napi_value stop(napi_env env, napi_callback_info info) {
  sampler_t *s = only_handle(env, info, "stop(handle)");
  if (!s) return NULL;
  stop_thread(s);
  return NULL;
}

/* drain(handle, counters: Float64Array(6)) -> Buffer of the records since the last drain; counters get
 * [ticks, attempted, taken, memory reads, stat reads, schedstat reads] so far. */
static napi_value drain(napi_env env, napi_callback_info info) {
  double *counters;
  size_t length;
  sampler_t *s = handle_and_numbers(env, info, 6, &counters, &length, "drain(handle, counters)");
  if (!s) return NULL;
  napi_value buffer;
  void *copy;
  pthread_mutex_lock(&s->lock);
  napi_status status = napi_create_buffer_copy(env, s->out_length, s->out_length ? (const void *)s->out : (const void *)"", &copy, &buffer);
  s->out_length = 0;
  atomic_store(&s->new_code_signalled, 0);
  counters[0] = s->ticks;
  counters[1] = s->attempted;
  counters[2] = s->taken;
  counters[3] = s->memory_reads;
  counters[4] = s->state_reads;
  counters[5] = s->run_time_reads;
  for (target_t *t = s->targets; t; t = t->next) {
    counters[3] += t->memory_reads;
    counters[4] += t->state_reads;
    counters[5] += t->run_time_reads;
  }
  pthread_mutex_unlock(&s->lock);
  return status == napi_ok ? buffer : fail(env, "drain: out of memory");
}

static napi_value init(napi_env env, napi_value exports) {
  const struct { const char *name; napi_callback fn; } methods[] = {
    {"create", create}, {"addProcess", add_process}, {"removeProcess", remove_process}, {"start", start},
    {"stop", stop}, {"tickNow", tick_now}, {"drain", drain}, {"watchCode", watch_code_call},
  };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    napi_value fn;
    napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, methods[i].name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
