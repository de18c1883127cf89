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
 * Every figure is the best of several repetitions after a warm-up pass
 * that faults the media in, so page faults are not what is measured.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"

#define MiB (1ULL << 20)
#define BUF (64 * MiB)
#define REPS 5

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

static double best_memcpy(uint8_t *dst, const uint8_t *src, uint64_t len)
{
	double best = 1e9;
	for (int i = 0; i < REPS; i++) {
		double t = now();
		memcpy(dst, src, len);
		t = now() - t;
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		if (t < best)
			best = t;
	}
	return best;
}

static double best_region(struct cx_region *r, uint8_t *buf, uint64_t len,
			  bool write)
{
	cx_err e;
	double best = 1e9;
	for (int i = 0; i < REPS; i++) {
		double t = now();
		int rc = write ? cx_region_write(r, 0, buf, len, &e)
			       : cx_region_read(r, 0, buf, len, &e);
		t = now() - t;
		if (rc)
			die(write ? "write" : "read", &e);
		__asm__ __volatile__("" : : "r"(buf) : "memory");
		if (t < best)
			best = t;
	}
	return best;
}

static void translations(void)
{
	struct cx_fabric *f;
	struct cx_region *r = build(&f, 2, 2, 8192, 0);
	const int n = 4 * 1000 * 1000;
	uint64_t *hpa = malloc((size_t)n * sizeof(*hpa)), x = 88172645463325252ull;
	uint64_t sum = 0;
	cx_err e;
	double best = 1e9;

	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		hpa[i] = r->base + x % r->size;
	}
	/* the walk through every decoder (the baseline) and the compiled
	 * table that cx_route_hpa answers from, passes alternated */
	double best_walk = 1e9;
	for (int rep = 0; rep < REPS; rep++) {
		double t = now();
		for (int i = 0; i < n; i++) {
			struct cx_route rt;
			if (cx_route_hpa(r->host, hpa[i], &rt, &e))
				die("route", &e);
			sum += rt.dpa + (uint64_t)rt.position;
		}
		t = now() - t;
		if (t < best)
			best = t;
		t = now();
		for (int i = 0; i < n; i++) {
			struct cx_route rt;
			if (cx_route_walk(r->host, hpa[i], &rt, &e))
				die("walk", &e);
			sum -= rt.dpa + (uint64_t)rt.position;
		}
		t = now() - t;
		if (t < best_walk)
			best_walk = t;
	}
	printf("translations (random HPAs of a 4-way region, 2 HB x 2 RP, "
	       "8 KiB), best of %d:\n"
	       "  walk through the decoders (baseline) %7.2f million/s  "
	       "(%.0f ns each)\n"
	       "  compiled table (cx_route_hpa)        %7.2f million/s  "
	       "(%.0f ns each)  ratio %.2f  [checksum %llx]\n\n", REPS,
	       n / best_walk / 1e6, best_walk / n * 1e9, n / best / 1e6,
	       best / n * 1e9, best_walk / best,
	       (unsigned long long)(sum & 0xffff));
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

	printf("bench_route: exact path of the model (cxlemu), best of %d, "
	       "buffers of %llu MiB\n\n", REPS, (unsigned long long)(BUF / MiB));
	translations();

	double base = best_memcpy(b, a, BUF);
	printf("memcpy baseline, %llu MiB buffer to buffer: %.2f GB/s\n\n",
	       (unsigned long long)(BUF / MiB), BUF / base / 1e9);
	printf("%-34s %10s %8s %10s %8s\n", "region", "read GB/s", "ratio",
	       "write GB/s", "ratio");

	static const struct {
		const char *name;
		int nhb, nrp;
		uint32_t wgran, rgran;
	} cases[] = {
		{ "1-way, 256 B granularity", 1, 1, 256, 256 },
		{ "1-way, 4 KiB granularity", 1, 1, 4096, 4096 },
		{ "4-way (2 HB x 2 RP), 256 B", 2, 2, 256, 0 },
		{ "4-way (2 HB x 2 RP), 4 KiB", 2, 2, 4096, 0 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct cx_fabric *f;
		struct cx_region *r = build(&f, cases[c].nhb, cases[c].nrp,
					    cases[c].wgran, cases[c].rgran);
		cx_err e;
		/* warm up: fault every media page in */
		if (cx_region_write(r, 0, a, BUF, &e))
			die("warm-up", &e);
		double base2 = best_memcpy(b, a, BUF);
		if (base2 < base)
			base = base2;
		double tw = best_region(r, a, BUF, true);
		double tr = best_region(r, b, BUF, false);
		if (memcmp(a, b, BUF))
			die("read back differs", NULL);
		printf("%-34s %10.2f %8.2f %10.2f %8.2f\n", cases[c].name,
		       BUF / tr / 1e9, base / tr, BUF / tw / 1e9, base / tw);
		cx_fabric_free(f);
	}
	printf("\n(ratio = memcpy time / exact-path time for the same %llu MiB; "
	       "memcpy best %.2f GB/s)\n", (unsigned long long)(BUF / MiB),
	       BUF / base / 1e9);
	free(a);
	free(b);
	return 0;
}
