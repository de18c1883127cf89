/*
 * bench_fabric.h - what the device-DAX benchmarks share: a fabric served
 * from a forked child on a private socket (this process then attaches as
 * a host through the client library, exactly as a program would), a
 * devdax region opened as a device, a clock, dying with a reason, and
 * one pass of memcpy/memset bandwidth.
 */
#ifndef CXLEMU_BENCH_FABRIC_H
#define CXLEMU_BENCH_FABRIC_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "cxlemu/dax.h"
#include "server/server.h"
#include "results.h"

static inline double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench: %s: %s\n", what, msg);
	exit(1);
}

/* A row of figures: GB/s (best so far) and ns per dependent load; and
 * every pass's GB/s, to compare pass by pass with the baseline row. */
struct row {
	const char *name;
	double cpy_in, cpy_out, set, lat;
	struct series in_s, out_s, set_s;
};

static inline void row_sample(struct row *r, double in, double out, double set)
{
	if (in > r->cpy_in)
		r->cpy_in = in;
	if (out > r->cpy_out)
		r->cpy_out = out;
	if (set > r->set)
		r->set = set;
	series_add(&r->in_s, in);
	series_add(&r->out_s, out);
	series_add(&r->set_s, set);
}

/* Per pass, the time `base` took for its memcpy in and out over the time
 * `r` took for the same bytes: how close to ordinary memory `r` is. */
static inline struct series row_memcpy_ratio(const struct row *r,
					     const struct row *base)
{
	struct series s = { .n = 0 };
	for (int p = 0; p < r->in_s.n && p < base->in_s.n; p++)
		series_add(&s, (1 / base->in_s.v[p] + 1 / base->out_s.v[p]) /
			       (1 / r->in_s.v[p] + 1 / r->out_s.v[p]));
	return s;
}

/* One pass of memcpy into / out of `mem` (from and to `anon`) and memset
 * on it, `len` bytes each. */
static inline void bench_pass(struct row *r, char *mem, char *anon, uint64_t len,
		       int p)
{
	double t0 = now();
	memcpy(mem, anon, len);
	double t1 = now();
	memcpy(anon, mem, len);
	double t2 = now();
	/* never 0: zero-fill is a separate, faster path on this kind of
	 * machine (about twice the speed), and one zero pass per row made the
	 * "best" memset a single noisy sample */
	memset(mem, 0x5a ^ p, len);
	double t3 = now();
	row_sample(r, len / (t1 - t0) / 1e9, len / (t2 - t1) / 1e9,
		   len / (t3 - t2) / 1e9);
}

struct bench_fabric {
	char dir[32];
	char sock[128];
	char state[160];
	pid_t pid;
	bool keep_state;        /* set before start: the daemon keeps its
				   state file, as `cxlemu start` runs it */
};

/* Serve topology `topo` and connect to it as its first host. */
static inline struct cxlemu *bench_fabric_start(struct bench_fabric *b,
					 const char *topo)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	snprintf(b->dir, sizeof(b->dir), "/tmp/cxlemu-bench-XXXXXX");
	if (!mkdtemp(b->dir))
		die("mkdtemp", strerror(errno));
	snprintf(b->sock, sizeof(b->sock), "%s/sock", b->dir);
	snprintf(b->state, sizeof(b->state), "%s/state", b->dir);
	fflush(NULL);
	b->pid = fork();
	if (b->pid == 0) {
		struct cx_fabric *f;
		struct cx_server *s;
		cx_err e;
		if (cx_config_load_text("bench-topology", topo, &f, &e) ||
		    cx_fabric_start(f, &e) ||
		    cx_server_open(f, b->sock, &s, &e) ||
		    (b->keep_state && cx_server_set_state(s, b->state, &e))) {
			fprintf(stderr, "bench: server: %s\n", e.msg);
			_exit(1);
		}
		cx_server_run(s, NULL, &e);
		cx_server_close(s);
		_exit(0);
	}
	for (int i = 0; i < 200 && cxlemu_connect(b->sock, NULL, &c, &err); i++)
		usleep(20000);
	if (!c)
		die("connect", err.msg);
	return c;
}

static inline void bench_fabric_stop(struct bench_fabric *b, struct cxlemu *c)
{
	struct cxlemu_err err;
	cxlemu_stop(c, &err);
	cxlemu_close(c);
	waitpid(b->pid, NULL, 0);
	unlink(b->state);
	rmdir(b->dir);
}

/* A ram region of `size` bytes over memdevs `mds` (position order) below
 * root decoder `root`, switched to devdax and opened. */
static inline struct cxlemu_dax *bench_region(struct cxlemu *c, const char *root,
				       const char *const *mds, int n,
				       uint64_t size)
{
	struct cxlemu_region_req rq = { .root = root, .type = "ram",
					.memdevs = mds, .nmemdevs = n,
					.size = size };
	struct json_object *j;
	struct cxlemu_err err;
	struct cxlemu_reply rep;
	if (cxlemu_create_region(c, &rq, &j, &err))
		die("create-region", err.msg);
	const char *reg = json_object_get_string(
		json_object_object_get(j, "region"));
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%s.0", reg + 6);
	json_object_put(j);
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "device", json_object_new_string(dev));
	json_object_object_add(a, "mode", json_object_new_string("devdax"));
	if (cxlemu_call(c, "dax-reconfigure", a, NULL, 0, &rep, &err))
		die("reconfigure-device", err.msg);
	cxlemu_reply_release(&rep);
	struct cxlemu_dax *d;
	if (cxlemu_dax_open(c, dev, &d, &err))
		die("dax open", err.msg);
	return d;
}

#endif
