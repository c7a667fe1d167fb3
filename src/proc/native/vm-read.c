/*
 * hotpath's optional native reader: process_vm_readv(2) for Node, so that one system call copies many
 * scattered ranges of a target's memory (a sample's thread state, frames and code objects) where
 * /proc/PID/mem needs one pread per range. Built by scripts/build-native.mjs; src/proc/vm-reader.ts loads
 * it and falls back to /proc/PID/mem when it is missing.
 *
 * readSpans(pid, into, spans, count) -> bytes copied, or -errno
 *   spans: Float64Array of (remote address, length, offset in `into`) triples. The kernel stops at the
 *   first range it cannot read, so the byte count tells how many leading ranges arrived whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <node_api.h>

#define MAX_SPANS 512 /* well under IOV_MAX (1024) */

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value read_spans(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4)
    return throw_type_error(env, "readSpans(pid, into, spans, count)");

  int32_t pid;
  uint32_t count;
  void *into;
  size_t into_length;
  napi_typedarray_type type;
  size_t spans_length;
  void *spans_data;
  if (napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0 ||
      napi_get_buffer_info(env, argv[1], &into, &into_length) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &spans_length, &spans_data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || napi_get_value_uint32(env, argv[3], &count) != napi_ok ||
      count > MAX_SPANS || (size_t)count * 3 > spans_length)
    return throw_type_error(env, "readSpans: bad arguments");

  const double *spans = spans_data;
  struct iovec local[MAX_SPANS];
  struct iovec remote[MAX_SPANS];
  for (uint32_t i = 0; i < count; i++) {
    double address = spans[3 * i], length = spans[3 * i + 1], offset = spans[3 * i + 2];
    /* Whole, non-negative numbers only, and every range inside `into`: nothing past the buffer is written. */
    if (!(address > 0 && address < 9007199254740992.0 && length >= 0 && offset >= 0 &&
          (uint64_t)address == address && (uint64_t)length == length && (uint64_t)offset == offset &&
          (uint64_t)offset + (uint64_t)length <= into_length))
      return throw_type_error(env, "readSpans: a span is outside the buffer or not a whole number");
    local[i].iov_base = (char *)into + (size_t)offset;
    local[i].iov_len = (size_t)length;
    remote[i].iov_base = (void *)(uintptr_t)address;
    remote[i].iov_len = (size_t)length;
  }

  ssize_t copied = count == 0 ? 0 : process_vm_readv(pid, local, count, remote, count, 0);
  napi_value result;
  napi_create_int64(env, copied < 0 ? -(int64_t)errno : (int64_t)copied, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "readSpans", NAPI_AUTO_LENGTH, read_spans, NULL, &fn);
  napi_set_named_property(env, exports, "readSpans", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
