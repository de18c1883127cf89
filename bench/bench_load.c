/*
 * bench_load.c - the daemon under load from many hosts, in one run.
 *
 * A fabric of 64 hosts (one 256 MiB volatile device and region each) is
 * served from a forked child, with its state file as `cxlemu start` keeps
 * it; threads of this process attach as hosts, each on its own
 * connection, through the client library.
 *
 * Fairness: 16 hosts send small requests in a loop (list, translate, a
 * 64 B read, mailbox Identify), first alone (the baseline), then while
 * another host streams 256 MiB writes into its region; the table gives
 * p50, p99 and the worst latency of the small requests in both phases,
 * and the bulk host's MB/s.
 *
 * Load: 64 hosts, each 10^4 mixed control requests (the four above and
 * hello) back to back; the total requests per second and their p99.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/mbox_client.h"
#include "cxlemu/cxlemu.h"
#include "spec/mbox.h"
#include "bench_serve.h"

#define HOSTS 64
#define SMALL 16                 /* hosts sending small requests */
#define BULK (256ULL << 20)      /* one streamed write */
#define BULK_ROUNDS 4
#define BASE_SECONDS 2.0
#define LOAD_OPS 10000           /* per host */

static char sock[128];

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_load: %s: %s\n", what, why);
	exit(1);
}

static char *topology(void)
{
	size_t cap = 1 << 20, n = 0;
	char *t = malloc(cap);
	for (int i = 0; i < HOSTS; i++)
		n += (size_t)snprintf(t + n, cap - n,
			"[host h%d]\n"
			"-machine q35,cxl=on -m 1G\n"
			"-object memory-backend-ram,id=m,size=256M\n"
			"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
			"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
			"-device cxl-type3,bus=rp0,volatile-memdev=m,id=d\n"
			"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n", i);
	return t;
}

static struct cxlemu *attach(int host)
{
	char name[16];
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	snprintf(name, sizeof(name), "h%d", host);
	if (cxlemu_connect(sock, name, &c, &err))
		die("connect", err.msg);
	return c;
}

/* ---- one small request ---- */

static void small_op(struct cxlemu *c, int k)
{
	struct cxlemu_err err;
	struct json_object *o = NULL;
	struct cxlemu_reply rep;
	uint8_t buf[64];
	uint16_t rc16;
	int rc = 0;

	switch (k % 5) {
	case 0:
		o = json_object_new_object();
		json_object_object_add(o, "memdevs", json_object_new_boolean(1));
		rc = cxlemu_list(c, o, &o, &err);
		json_object_put(o);
		break;
	case 1:
		rc = cxlemu_translate(c, "region0", (uint64_t)k * 4096 % (128 << 20),
				      false, &o, &err);
		json_object_put(o);
		break;
	case 2:
		rc = cxlemu_read(c, "region0", (uint64_t)k * 64 % (128 << 20), buf,
				 64, &err);
		break;
	case 3:
		rc = cx_mbox_ccall(c, "mem0", CX_OP_IDENTIFY_MEMDEV, NULL, 0, buf,
				   NULL, &rc16, &err);
		break;
	default:
		rc = cxlemu_call(c, "hello", NULL, NULL, 0, &rep, &err);
		if (!rc)
			cxlemu_reply_release(&rep);
		break;
	}
	if (rc)
		die("small request", err.msg);
}

/* ---- latencies ---- */

struct lat {
	double *v;
	size_t n, cap;
};

static void lat_add(struct lat *l, double s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(struct lat *l, double p)
{
	if (!l->n)
		return 0;
	size_t i = (size_t)(p * (double)(l->n - 1));
	return l->v[i] * 1e3;
}

static void merge(struct lat *into, struct lat *from)
{
	for (size_t i = 0; i < from->n; i++)
		lat_add(into, from->v[i]);
	free(from->v);
	memset(from, 0, sizeof(*from));
}

/* ---- fairness ---- */

static volatile int phase;          /* 0 warm, 1 baseline, 2 bulk, 3 end */

struct small {
	pthread_t t;
	int host;
	struct lat base, bulk;
};

static void *small_main(void *arg)
{
	struct small *s = arg;
	struct cxlemu *c = attach(s->host);
	for (int k = s->host; phase < 3; k++) {
		int p = phase;
		double t0 = bench_now();
		small_op(c, k % 4);      /* hello is for the load test */
		double dt = bench_now() - t0;
		if (p == 1 && phase == 1)
			lat_add(&s->base, dt);
		else if (p == 2 && phase == 2)
			lat_add(&s->bulk, dt);
	}
	cxlemu_close(c);
	return NULL;
}

static void fairness(void)
{
	struct small sm[SMALL];
	struct lat base = { 0 }, bulk = { 0 };
	struct cxlemu_err err;

	phase = 0;
	for (int i = 0; i < SMALL; i++) {
		memset(&sm[i], 0, sizeof(sm[i]));
		sm[i].host = 1 + i;
		pthread_create(&sm[i].t, NULL, small_main, &sm[i]);
	}
	usleep(300000);
	phase = 1;
	usleep((useconds_t)(BASE_SECONDS * 1e6));
	struct cxlemu *c = attach(0);
	uint8_t *buf = malloc(BULK);
	for (uint64_t i = 0; i < BULK; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 12));
	phase = 2;
	double t0 = bench_now();
	for (int r = 0; r < BULK_ROUNDS; r++)
		if (cxlemu_write(c, "region0", 0, buf, BULK, &err))
			die("bulk write", err.msg);
	double bulk_s = bench_now() - t0;
	phase = 3;
	for (int i = 0; i < SMALL; i++) {
		pthread_join(sm[i].t, NULL);
		merge(&base, &sm[i].base);
		merge(&bulk, &sm[i].bulk);
	}
	cxlemu_close(c);
	free(buf);
	qsort(base.v, base.n, sizeof(double), cmp);
	qsort(bulk.v, bulk.n, sizeof(double), cmp);
	printf("small requests from %d hosts (list, translate, 64 B read, "
	       "mailbox Identify), ms:\n", SMALL);
	printf("%-36s %8s %8s %8s %8s %8s\n", "", "count", "p50", "p99",
	       "p99.9", "max");
	printf("%-36s %8zu %8.3f %8.3f %8.3f %8.3f\n", "alone (baseline)",
	       base.n, pct(&base, 0.5), pct(&base, 0.99), pct(&base, 0.999),
	       pct(&base, 1));
	printf("%-36s %8zu %8.3f %8.3f %8.3f %8.3f\n",
	       "while one host writes 256 MiB x 4", bulk.n, pct(&bulk, 0.5),
	       pct(&bulk, 0.99), pct(&bulk, 0.999), pct(&bulk, 1));
	printf("p99 with the bulk writer / alone: %.2f; p99 under 10 ms: %s\n",
	       pct(&bulk, 0.99) / pct(&base, 0.99),
	       pct(&bulk, 0.99) < 10 ? "yes" : "NO");
	printf("bulk host: %.0f MB/s (%d x 256 MiB in %.2f s)\n\n",
	       (double)BULK * BULK_ROUNDS / bulk_s / 1e6, BULK_ROUNDS, bulk_s);
	free(base.v);
	free(bulk.v);
}

/* ---- load ---- */

struct loader {
	pthread_t t;
	int host;
	struct lat lat;
};

static pthread_barrier_t go;

static void *load_main(void *arg)
{
	struct loader *l = arg;
	struct cxlemu *c = attach(l->host);
	pthread_barrier_wait(&go);
	for (int k = 0; k < LOAD_OPS; k++) {
		double t0 = bench_now();
		small_op(c, k + l->host);
		lat_add(&l->lat, bench_now() - t0);
	}
	cxlemu_close(c);
	return NULL;
}

static void load(void)
{
	static struct loader ld[HOSTS];
	struct lat all = { 0 };

	pthread_barrier_init(&go, NULL, HOSTS + 1);
	for (int i = 0; i < HOSTS; i++) {
		memset(&ld[i], 0, sizeof(ld[i]));
		ld[i].host = i;
		pthread_create(&ld[i].t, NULL, load_main, &ld[i]);
	}
	pthread_barrier_wait(&go);
	double t0 = bench_now();
	for (int i = 0; i < HOSTS; i++)
		pthread_join(ld[i].t, NULL);
	double s = bench_now() - t0;
	for (int i = 0; i < HOSTS; i++)
		merge(&all, &ld[i].lat);
	qsort(all.v, all.n, sizeof(double), cmp);
	printf("%d hosts x %d mixed control requests (hello, list, "
	       "translate, 64 B read, Identify): %.2f s, %.0f ops/s, "
	       "p50 %.3f ms, p99 %.3f ms\n", HOSTS, LOAD_OPS, s,
	       (double)all.n / s, pct(&all, 0.5), pct(&all, 0.99));
	free(all.v);
	pthread_barrier_destroy(&go);
}

int main(void)
{
	char dir[] = "/tmp/cxlemu-bench-XXXXXX", state[160];
	struct cxlemu_err err;

	if (!mkdtemp(dir))
		die("mkdtemp", strerror(errno));
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	char *topo = topology();
	/* as cxlemu start serves it: with its state file */
	pid_t pid = bench_serve("bench_load", topo, sock, state);
	free(topo);
	struct cxlemu *c = NULL;
	for (int i = 0; i < 200 && cxlemu_connect(sock, NULL, &c, &err); i++)
		usleep(20000);
	if (!c)
		die("connect", err.msg);
	for (int i = 0; i < HOSTS; i++) {
		struct cxlemu *h = attach(i);
		const char *m[] = { "mem0" };
		struct cxlemu_region_req rq = { .root = "decoder0.0",
						.type = "ram", .memdevs = m,
						.nmemdevs = 1 };
		struct json_object *r;
		if (cxlemu_create_region(h, &rq, &r, &err))
			die("create-region", err.msg);
		json_object_put(r);
		cxlemu_close(h);
	}
	fairness();
	load();
	cxlemu_stop(c, &err);
	cxlemu_close(c);
	waitpid(pid, NULL, 0);
	unlink(state);
	rmdir(dir);
	return 0;
}
