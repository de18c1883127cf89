/*
 * bench_serve.h - what the benchmarks share: a fabric served from a forked
 * child on a private socket, which they attach to as programs do, and a
 * clock.
 */
#ifndef CXLEMU_BENCH_SERVE_H
#define CXLEMU_BENCH_SERVE_H

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "server/server.h"

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Serve `topo` on `sock` from a child, keeping its state in `state` as
 * `cxlemu start` does (NULL: none); its pid.  The child exits when a
 * client asks it to stop. */
static pid_t bench_serve(const char *who, const char *topo, const char *sock,
			 const char *state)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct cx_fabric *f;
		struct cx_server *s;
		cx_err e;
		if (cx_config_load_text("bench-topology", topo, &f, &e) ||
		    cx_fabric_start(f, &e) || cx_server_open(f, sock, &s, &e) ||
		    (state && cx_server_set_state(s, state, &e))) {
			fprintf(stderr, "%s: server: %s\n", who, e.msg);
			_exit(1);
		}
		cx_server_run(s, NULL, &e);
		cx_server_close(s);
		_exit(0);
	}
	return pid;
}

#endif
