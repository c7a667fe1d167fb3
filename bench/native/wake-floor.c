/*
 * The machine's cost of one timed wake-up: a thread that does nothing but sleep to absolute deadlines on a futex,
 * as hotpath's sampling loop does between ticks. Every sampling profiler pays at least this per sample at a rate
 * it does not saturate, so the benchmark reports it beside their CPU per sample.
 *   wake-floor HZ SECONDS   prints `WAKES <count> CPU_US <microseconds of CPU per wake>`
 */
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ns(clockid_t clock) {
  struct timespec now;
  clock_gettime(clock, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[2]) <= 0) {
    fprintf(stderr, "usage: wake-floor HZ SECONDS\n");
    return 2;
  }
  int64_t period = 1000000000 / atoi(argv[1]);
  int64_t deadline = clock_ns(CLOCK_MONOTONIC);
  int64_t end = deadline + (int64_t)atoi(argv[2]) * 1000000000;
  int64_t cpu_before = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  int never_set = 0;
  long wakes = 0;
  for (; deadline < end; wakes++) {
    deadline += period;
    struct timespec until = {deadline / 1000000000, deadline % 1000000000};
    syscall(SYS_futex, &never_set, FUTEX_WAIT_BITSET_PRIVATE, 0, &until, NULL, FUTEX_BITSET_MATCH_ANY);
  }
  double cpu_us = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_before) / 1e3;
  printf("WAKES %ld CPU_US %.2f\n", wakes, cpu_us / (double)wakes);
  return 0;
}
