/*
 * spin.c - a short awake wait before a blocking read (spin.h).
 */
#include "spin.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
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

ssize_t cx_read_spin(int fd, void *buf, size_t n)
{
	unsigned spin = cx_spin_us();
	if (spin) {
		uint64_t t0 = cx_now_us();
		do {
			ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
			if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
				       errno != EINTR))
				return r;
			sched_yield();
		} while (cx_now_us() - t0 < spin);
	}
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

bool cx_spin_readable(int fd)
{
	unsigned spin = cx_spin_us();
	if (!spin)
		return false;
	uint64_t t0 = cx_now_us();
	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0)
			return true;
		sched_yield();
	} while (cx_now_us() - t0 < spin);
	return false;
}
