/*
 * bench_load.c - the daemon under load from many hosts, in one run.
 *
 * A fabric of 64 hosts (one 256 MiB volatile device and region each) is
 * served from a forked child, with its state file as `cxlemu start` keeps
 * it; threads of this process attach as hosts, each on its own
 * connection, through the client library.
 *
 * Fairness: 16 hosts send small requests in a loop (list, translate, a
 * 64 B read, mailbox Identify).  Each pass measures them alone (the
 * baseline) and then while another host streams 2 x 256 MiB writes into
 * its region; passes are round-robin, so load from elsewhere falls on
 * both.  Per pass: p50, p99, p99.9 and the worst small request, and the
 * writer's MB/s.
 *
 * Load: 64 hosts, each 10^4 mixed control requests (the four above and
 * hello) back to back: requests per second and their p99.
 *
 * Figures go to results.json (bench/results.h): small_p99_ms_alone,
 * small_p99_ms_with_writer, small_p999_ms_with_writer,
 * small_max_ms_with_writer, control_ops_per_s_64_hosts,
 * control_p99_ms_64_hosts.
 */
#include <pthread.h>

#include "client/mbox_client.h"
#include "spec/mbox.h"
#include "bench_fabric.h"

#define HOSTS 64
#define SMALL 16                 /* hosts sending small requests */
#define BULK (256ULL << 20)      /* one streamed write */
#define BULK_ROUNDS 2            /* per pass */
#define ALONE_SECONDS 1.0        /* per pass */
#define PASSES 3
#define LOAD_OPS 10000           /* per host */

static const char *sock;

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

/* the p-quantile in ms of sorted latencies */
static double pct(const struct lat *l, double p)
{
	if (!l->n)
		return 0;
	return l->v[(size_t)(p * (double)(l->n - 1))] * 1e3;
}

static void merge(struct lat *into, struct lat *from)
{
	for (size_t i = 0; i < from->n; i++)
		lat_add(into, from->v[i]);
	free(from->v);
	memset(from, 0, sizeof(*from));
}

/* ---- fairness ---- */

enum { WARM, ALONE, WRITER, END };
static volatile int phase;

struct small {
	pthread_t t;
	int host;
	struct lat lat[END];       /* this pass, by phase */
};

static void *small_main(void *arg)
{
	struct small *s = arg;
	struct cxlemu *c = attach(s->host);
	for (int k = s->host; phase != END; k++) {
		int p = phase;
		double t0 = now();
		small_op(c, k % 4);      /* hello is for the load test */
		double dt = now() - t0;
		if (p == phase && (p == ALONE || p == WRITER))
			lat_add(&s->lat[p], dt);
	}
	cxlemu_close(c);
	return NULL;
}

static void fairness(void)
{
	static struct small sm[SMALL];
	struct series p99[END], p999 = { .n = 0 }, worst = { .n = 0 };
	struct series mbs = { .n = 0 };
	struct cxlemu_err err;

	memset(p99, 0, sizeof(p99));
	phase = WARM;
	for (int i = 0; i < SMALL; i++) {
		memset(&sm[i], 0, sizeof(sm[i]));
		sm[i].host = 1 + i;
		pthread_create(&sm[i].t, NULL, small_main, &sm[i]);
	}
	struct cxlemu *c = attach(0);
	uint8_t *buf = malloc(BULK);
	for (uint64_t i = 0; i < BULK; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 12));
	usleep(300000);
	printf("small requests from %d hosts (list, translate, 64 B read, "
	       "mailbox Identify), ms:\n", SMALL);
	printf("  %-5s %-12s %8s %8s %8s %8s %8s\n", "pass", "", "count",
	       "p50", "p99", "p99.9", "max");
	for (int pass = 0; pass < PASSES; pass++) {
		phase = ALONE;
		usleep((useconds_t)(ALONE_SECONDS * 1e6));
		phase = WRITER;
		double t0 = now();
		for (int r = 0; r < BULK_ROUNDS; r++)
			if (cxlemu_write(c, "region0", 0, buf, BULK, &err))
				die("bulk write", err.msg);
		double s = now() - t0;
		phase = WARM;
		series_add(&mbs, (double)BULK * BULK_ROUNDS / s / 1e6);
		usleep(100000);       /* the threads' last requests land */
		for (int p = ALONE; p <= WRITER; p++) {
			struct lat all = { 0 };
			for (int i = 0; i < SMALL; i++)
				merge(&all, &sm[i].lat[p]);
			qsort(all.v, all.n, sizeof(double), bench_cmp_double);
			printf("  %-5d %-12s %8zu %8.3f %8.3f %8.3f %8.3f\n",
			       pass, p == ALONE ? "alone" : "with writer",
			       all.n, pct(&all, 0.5), pct(&all, 0.99),
			       pct(&all, 0.999), pct(&all, 1));
			series_add(&p99[p], pct(&all, 0.99));
			if (p == WRITER) {
				series_add(&p999, pct(&all, 0.999));
				series_add(&worst, pct(&all, 1));
			}
			free(all.v);
		}
	}
	phase = END;
	for (int i = 0; i < SMALL; i++)
		pthread_join(sm[i].t, NULL);
	cxlemu_close(c);
	free(buf);
	bench_print("small p99, with a writer", &p99[WRITER], "ms",
		    &p99[ALONE]);
	bench_print("small p99.9, with a writer", &p999, "ms", NULL);
	bench_print("small worst, with a writer", &worst, "ms", NULL);
	bench_print("the writer", &mbs, "MB/s", NULL);
	printf("  p99 under 10 ms with the writer: %s\n\n",
	       series_max(&p99[WRITER]) < 10 ? "yes, every pass" : "NO");
	bench_record("bench_load", "small_p99_ms_alone", &p99[ALONE], "ms",
		     "p99 of small requests (list, translate, 64 B read, "
		     "Identify) from 16 hosts, nothing else running", NULL);
	bench_record("bench_load", "small_p99_ms_with_writer", &p99[WRITER],
		     "ms", "p99 of the same small requests while another host "
		     "streams 256 MiB writes", &p99[ALONE]);
	bench_record("bench_load", "small_p999_ms_with_writer", &p999, "ms",
		     "p99.9 of the small requests while another host streams "
		     "256 MiB writes", NULL);
	bench_record("bench_load", "small_max_ms_with_writer", &worst, "ms",
		     "the slowest small request while another host streams "
		     "256 MiB writes", NULL);
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
		double t0 = now();
		small_op(c, k + l->host);
		lat_add(&l->lat, now() - t0);
	}
	cxlemu_close(c);
	return NULL;
}

static void load(void)
{
	static struct loader ld[HOSTS];
	struct lat all = { 0 };
	struct series ops = { .n = 0 }, p99 = { .n = 0 };

	pthread_barrier_init(&go, NULL, HOSTS + 1);
	for (int i = 0; i < HOSTS; i++) {
		memset(&ld[i], 0, sizeof(ld[i]));
		ld[i].host = i;
		pthread_create(&ld[i].t, NULL, load_main, &ld[i]);
	}
	pthread_barrier_wait(&go);
	double t0 = now();
	for (int i = 0; i < HOSTS; i++)
		pthread_join(ld[i].t, NULL);
	double s = now() - t0;
	for (int i = 0; i < HOSTS; i++)
		merge(&all, &ld[i].lat);
	qsort(all.v, all.n, sizeof(double), bench_cmp_double);
	series_add(&ops, (double)all.n / s);
	series_add(&p99, pct(&all, 0.99));
	printf("%d hosts x %d mixed control requests (hello, list, "
	       "translate, 64 B read, Identify): %.2f s, p50 %.3f ms\n",
	       HOSTS, LOAD_OPS, s, pct(&all, 0.5));
	bench_print("requests per second", &ops, "op/s", NULL);
	bench_print("their p99", &p99, "ms", NULL);
	bench_record("bench_load", "control_ops_per_s_64_hosts", &ops, "op/s",
		     "64 hosts, each 10^4 mixed control requests back to back "
		     "on its own connection", NULL);
	bench_record("bench_load", "control_p99_ms_64_hosts", &p99, "ms",
		     "p99 of those requests", NULL);
	free(all.v);
	pthread_barrier_destroy(&go);
}

int main(void)
{
	struct bench_fabric fab = { .keep_state = true };
	struct cxlemu_err err;

	char *topo = topology();
	struct cxlemu *c = bench_fabric_start(&fab, topo);
	free(topo);
	sock = fab.sock;
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
	bench_fabric_stop(&fab, c);
	return 0;
}
