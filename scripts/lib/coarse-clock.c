/*
 * An LD_PRELOAD library for scripts/assess-conditions.sh: it makes
 * CLOCK_MONOTONIC_RAW read as a counter of KQSEED_TICK_NS-nanosecond ticks,
 * returned as if each tick were one nanosecond, the way a 24 MHz counter
 * (Apple Silicon's mach_absolute_time, 41.667 ns) or a 19.2 MHz one (many
 * ARM boards, 52.083 ns) looks to code that reads raw ticks. Every other
 * clock is left alone, so timerfd timers and the caller's own timing still
 * run in real nanoseconds.
 *
 * Built by the script with the system C compiler; nothing of it is linked
 * into the crate.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn next_clock_gettime;
static double tick_ns;

static void init(void) {
    const char *tick = getenv("KQSEED_TICK_NS");
    next_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    tick_ns = tick ? strtod(tick, NULL) : 0.0;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!next_clock_gettime)
        init();
    int ret = next_clock_gettime(id, ts);
    if (ret == 0 && id == CLOCK_MONOTONIC_RAW && tick_ns > 0.0) {
        uint64_t ns = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
        uint64_t ticks = (uint64_t)((double)ns / tick_ns);
        ts->tv_sec = (time_t)(ticks / 1000000000u);
        ts->tv_nsec = (long)(ticks % 1000000000u);
    }
    return ret;
}
