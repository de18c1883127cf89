/*
 * bench_route.c - how fast the model translates and how fast the exact
 * path moves bytes.
 *
 *  - translations per second: the decoder walk and the compiled table
 *    (cx_route_hpa) over random HPAs of a 4-way
 *    region (2 host bridges x 2 root ports, window at 8 KiB);
 *  - exact-path bandwidth: cx_region_read() and cx_region_write() of a
 *    64 MiB buffer over 1-way and 4-way regions at 256 B and 4 KiB
 *    granularity, each shown against memcpy() of the same 64 MiB between
 *    two ordinary buffers, measured in the same run.
 *
 * Each figure is taken in several passes, round-robin with its baseline,
 * after a warm-up pass that faults the media in (page faults are not what
 * is measured); min and median are printed and the medians recorded in
 * build/bench/results.json (results.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
#include "results.h"

#define MiB (1ULL << 20)
#define BUF (64 * MiB)
#define PASSES 7

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const cx_err *e)
{
	fprintf(stderr, "bench_route: %s: %s\n", what, e ? e->msg : "");
	exit(1);
}

/*
 * One host: `nhb` host bridges x `nrp` root ports, a 256 MiB pmem
 * device on each, one window over all bridges at `wgran`, and a region
 * over every device (Linux position order) at `rgran` (0: default).
 */
static struct cx_region *build(struct cx_fabric **fp, int nhb, int nrp,
			       uint32_t wgran, uint32_t rgran)
{
	cx_err e;
	struct cx_fabric *f = cx_fabric_new("bench");
	struct cx_host *h = cx_host_new(f, "host0", 0);
	char id[32], names[CX_MAX_WAYS][16];
	struct cx_region_req q;
	int nmem = 0;

	h->cxl_on = true;
	for (int i = 0; i < nhb; i++) {
		snprintf(id, sizeof(id), "cxl.%d", i + 1);
		struct cx_port *hb = cx_port_new(h, CX_PORT_HB, id, 0);
		hb->bus_nr = 12 + 16 * i;
		for (int r = 0; r < nrp; r++) {
			snprintf(id, sizeof(id), "rp%d.%d", i, r);
			struct cx_port *rp = cx_port_new(h, CX_PORT_RP, id, 0);
			rp->port_num = r;
			cx_port_attach(hb, rp);
			snprintf(id, sizeof(id), "mem%d", nmem++);
			struct cx_memdev *m = cx_memdev_new(h, id, 0);
			struct cx_backend *b = cx_backend_new(h, id, 0);
			b->kind = CX_BACKEND_MEMFD;
			b->size = 256 * MiB;
			m->parent = rp;
			rp->memdev = m;
			m->pmem_be = b;
			m->pmem_size = 256 * MiB;
		}
	}
	struct cx_window *w = cx_window_new(h, 0, 0);
	w->size = 16ULL << 30;
	w->gran = wgran;
	w->ways = nhb;
	for (int i = 0; i < nhb; i++)
		w->targets[i] = h->hbs.v[i];
	cx_fabric_finalize(f);
	if (cx_fabric_start(f, &e))
		die("start", &e);

	memset(&q, 0, sizeof(q));
	q.root = "decoder0.0";
	q.mode = CX_MODE_PMEM;
	q.gran = rgran;
	/* Linux order: host bridge index is the least significant digit */
	for (int p = 0; p < nhb * nrp; p++) {
		snprintf(names[p], sizeof(names[p]), "mem%d",
			 (p % nhb) * nrp + p / nhb);
		q.memdevs[q.nmemdevs++] = names[p];
	}
	struct cx_region *r = NULL;
	if (cx_region_create(h, &q, &r, &e))
		die("create region", &e);
	*fp = f;
	return r;
}

static double time_memcpy(uint8_t *dst, const uint8_t *src, uint64_t len)
{
	double t = now();
	memcpy(dst, src, len);
	t = now() - t;
	__asm__ __volatile__("" : : "r"(dst) : "memory");
	return t;
}

static double time_region(struct cx_region *r, uint8_t *buf, uint64_t len,
			  bool write)
{
	cx_err e;
	double t = now();
	int rc = write ? cx_region_write(r, 0, buf, len, &e)
		       : cx_region_read(r, 0, buf, len, &e);
	t = now() - t;
	if (rc)
		die(write ? "write" : "read", &e);
	__asm__ __volatile__("" : : "r"(buf) : "memory");
	return t;
}

static void translations(void)
{
	struct cx_fabric *f;
	struct cx_region *r = build(&f, 2, 2, 8192, 0);
	const int n = 4 * 1000 * 1000;
	uint64_t *hpa = malloc((size_t)n * sizeof(*hpa)), x = 88172645463325252ull;
	uint64_t sum = 0;
	cx_err e;
	struct series table = { .n = 0 }, walk = { .n = 0 }, ratio = { .n = 0 };

	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		hpa[i] = r->base + x % r->size;
	}
	/* the walk through every decoder (the baseline) and the compiled
	 * table that cx_route_hpa answers from, passes alternated */
	for (int rep = 0; rep < PASSES; rep++) {
		double t = now();
		for (int i = 0; i < n; i++) {
			struct cx_route rt;
			if (cx_route_hpa(r->host, hpa[i], &rt, &e))
				die("route", &e);
			sum += rt.dpa + (uint64_t)rt.position;
		}
		double tt = now() - t;
		t = now();
		for (int i = 0; i < n; i++) {
			struct cx_route rt;
			if (cx_route_walk(r->host, hpa[i], &rt, &e))
				die("walk", &e);
			sum -= rt.dpa + (uint64_t)rt.position;
		}
		double tw = now() - t;
		series_add(&table, n / tt);
		series_add(&walk, n / tw);
		series_add(&ratio, tw / tt);
	}
	printf("translations per second (random HPAs of a 4-way region, "
	       "2 HB x 2 RP, 8 KiB) [checksum %llx]:\n",
	       (unsigned long long)(sum & 0xffff));
	bench_print("compiled table (cx_route_hpa)", &table, "/s", &walk);
	bench_print("ratio to the walk (baseline)", &ratio, "x", NULL);
	bench_record("bench_route", "translations_per_s", &table,
		     "translations/s", "cx_route_hpa on random HPAs of a "
		     "4-way region (2 HB x 2 RP, 8 KiB); baseline: the "
		     "decoder walk cx_route_walk", &walk);
	printf("\n");
	free(hpa);
	cx_fabric_free(f);
}

int main(void)
{
	uint8_t *a = malloc(BUF), *b = malloc(BUF);
	if (!a || !b)
		die("malloc", NULL);
	for (uint64_t i = 0; i < BUF; i++)
		a[i] = (uint8_t)(i * 131 + 7);
	memset(b, 0, BUF);

	printf("bench_route: the model's translations and exact path, %d "
	       "passes each, round-robin with the baseline; buffers of %llu "
	       "MiB\n\n", PASSES, (unsigned long long)(BUF / MiB));
	translations();

	static const struct {
		const char *name, *key;
		int nhb, nrp;
		uint32_t wgran, rgran;
	} cases[] = {
		{ "1-way, 256 B granularity", NULL, 1, 1, 256, 256 },
		{ "1-way, 4 KiB granularity", NULL, 1, 1, 4096, 4096 },
		{ "4-way (2 HB x 2 RP), 256 B", "exact_256b", 2, 2, 256, 0 },
		{ "4-way (2 HB x 2 RP), 4 KiB", NULL, 2, 2, 4096, 0 },
	};
	printf("exact path (cx_region_read/write of %llu MiB) against memcpy "
	       "of the same bytes between two buffers, in GB/s:\n",
	       (unsigned long long)(BUF / MiB));
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct cx_fabric *f;
		struct cx_region *r = build(&f, cases[c].nhb, cases[c].nrp,
					    cases[c].wgran, cases[c].rgran);
		struct series cpy = { .n = 0 }, rd = { .n = 0 }, wr = { .n = 0 };
		struct series rr = { .n = 0 }, wrr = { .n = 0 };
		cx_err e;
		/* warm up: fault every media page in */
		if (cx_region_write(r, 0, a, BUF, &e))
			die("warm-up", &e);
		for (int p = 0; p < PASSES; p++) {
			double tc = time_memcpy(b, a, BUF);
			double tw = time_region(r, a, BUF, true);
			memset(b, 0, BUF);
			double tr = time_region(r, b, BUF, false);
			if (memcmp(a, b, BUF))
				die("read back differs", NULL);
			series_add(&cpy, BUF / tc / 1e9);
			series_add(&wr, BUF / tw / 1e9);
			series_add(&rd, BUF / tr / 1e9);
			series_add(&wrr, tc / tw);
			series_add(&rr, tc / tr);
		}
		printf(" %s\n", cases[c].name);
		bench_print("read", &rd, "GB/s", &cpy);
		bench_print("write", &wr, "GB/s", &cpy);
		bench_print("read ratio to memcpy", &rr, "x", NULL);
		bench_print("write ratio to memcpy", &wrr, "x", NULL);
		if (cases[c].key) {
			char key[64], what[160];
			snprintf(key, sizeof(key), "%s_read_ratio", cases[c].key);
			snprintf(what, sizeof(what), "the model's exact read "
				 "(cx_region_read), %s, per pass over memcpy "
				 "of the same %llu MiB", cases[c].name,
				 (unsigned long long)(BUF / MiB));
			bench_record("bench_route", key, &rr, "ratio", what, NULL);
			snprintf(key, sizeof(key), "%s_write_ratio", cases[c].key);
			snprintf(what, sizeof(what), "the model's exact write "
				 "(cx_region_write), %s, per pass over memcpy "
				 "of the same %llu MiB", cases[c].name,
				 (unsigned long long)(BUF / MiB));
			bench_record("bench_route", key, &wrr, "ratio", what,
				     NULL);
		}
		cx_fabric_free(f);
	}
	printf("\n(ratio = memcpy time / exact-path time for the same bytes "
	       "in the same pass; figures in %s)\n", bench_results_path());
	free(a);
	free(b);
	return 0;
}
