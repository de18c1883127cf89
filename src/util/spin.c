/*
 * spin.c - a short awake wait before a blocking read (spin.h).
 */
#include "spin.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

unsigned cx_spin_us(void)
{
	static int us = -1;
	if (us < 0) {
		const char *s = getenv("CXLEMU_SPIN_US");
		char *end;
		long v = s && *s ? strtol(s, &end, 10) : -1;
		us = s && *s && !*end && v >= 0 && v <= 100000 ? (int)v
							      : CX_SPIN_US_DEFAULT;
	}
	return (unsigned)us;
}

uint64_t cx_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Waits that found nothing within the window make the next few block
 * at once: when answers are slow (many clients, a busy daemon) spinning
 * only takes CPU from the processes that would answer. */
#define SPIN_SKIP_AFTER_MISS 8
static __thread unsigned skip;

bool cx_spin_readable(int fd)
{
	unsigned spin = cx_spin_us();
	if (!spin)
		return false;
	if (skip) {
		skip--;
		return false;
	}
	uint64_t t0 = cx_now_us();
	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0)
			return true;
		sched_yield();
	} while (cx_now_us() - t0 < spin);
	skip = SPIN_SKIP_AFTER_MISS;
	return false;
}

ssize_t cx_read_spin(int fd, void *buf, size_t n)
{
	cx_spin_readable(fd);
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}
