/*
 * bench_coherency.c - what the non-coherent cache model costs, in one run
 * (client/coherency.c; cxlemu/coherency.h).
 *
 * One device, mapped twice through the client library: coherently (the
 * baseline: plain loads and stores on the media) and non-coherently (this
 * process's cache of it).  Printed, each with its ratio to the baseline
 * measured in the same run:
 *   - steady state, after a warm-up pass has filled and opened every
 *     page: memcpy into and out of the mapping, memset, and dependent
 *     loads (pointer chasing), best of several passes taken round-robin
 *     (this machine is shared: a single pass varies by 20% and more);
 *   - the fault path, per 4 KiB page: first read (fill), first write
 *     (fill), the first write to a page filled by a read (read-only to
 *     read-write), against a native minor fault on a fresh coherent
 *     mapping;
 *   - cache operations: flush (write-back) per MiB with every line dirty
 *     and with nothing to write, invalidate per MiB, and one line stored
 *     and flushed, or invalidated and reloaded.
 * The checker's stale-read sampling is off here (it re-protects pages at
 * each cache operation, a cost of its own, shown last).
 */
#include <stdint.h>
#include <sys/mman.h>

#include "bench_fabric.h"
#include "cxlemu/coherency.h"

#define BUF (64ULL << 20)
#define PASSES 7
#define CHASE_STEPS (2u << 20)
#define PG 4096

static const char topo[] =
	"-machine q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
	"-object memory-backend-ram,id=v0,size=1G\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

static volatile uint64_t sink;
static struct cxlemu_dax *dev;

/* A random cycle through the 64-byte lines. */
static void build_chase(char *base)
{
	uint64_t lines = BUF / 64, x = 88172645463325252ULL;
	uint32_t *perm = malloc(lines * sizeof(*perm));
	for (uint64_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	for (uint64_t i = lines - 1; i > 0; i--) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint64_t j = x % (i + 1);
		uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
	}
	for (uint64_t i = 0; i < lines; i++)
		*(uint64_t *)(base + (uint64_t)perm[i] * 64) =
			(uint64_t)perm[(i + 1) % lines] * 64;
	free(perm);
}

/* ns per dependent load along the cycle */
static double chase(char *base)
{
	uint64_t p = 0;
	double t0 = now();
	for (unsigned i = 0; i < CHASE_STEPS; i++)
		p = *(volatile uint64_t *)(base + p);
	sink = p;
	return (now() - t0) / CHASE_STEPS * 1e9;
}

static char *map(uint64_t off, int mode)
{
	struct cxlemu_err err;
	char *p;
	if (cxlemu_dax_set_coherency(dev, mode, &err) ||
	    cxlemu_dax_map(dev, off, BUF, PROT_READ | PROT_WRITE, (void **)&p,
			   &err))
		die("map", err.msg);
	return p;
}

static void unmap(char *p)
{
	struct cxlemu_err err;
	if (cxlemu_dax_unmap(p, BUF, &err))
		die("unmap", err.msg);
}

/* µs per page of touching each page of a fresh mapping once. */
static double touch_pages(char *p, int write)
{
	double t0 = now();
	for (uint64_t o = 0; o < BUF; o += PG) {
		if (write)
			((volatile char *)p)[o] = 1;
		else
			sink += ((volatile char *)p)[o];
	}
	return (now() - t0) / (BUF / PG) * 1e6;
}

static double ms_per_mib(double t) { return t * 1e3 / (BUF >> 20); }

int main(void)
{
	struct bench_fabric fab;
	struct cxlemu *c = bench_fabric_start(&fab, topo);
	static const char *one[] = { "mem0" };
	dev = bench_region(c, "decoder0.0", one, 1, 512ULL << 20);
	struct cxlemu_coh_config cfg;
	struct cxlemu_err err;
	cxlemu_coh_config_default(&cfg);
	cfg.check = 0;
	cfg.capacity = 512ULL << 20;   /* no capacity evictions here */
	if (cxlemu_coh_configure(&cfg, &err))
		die("configure", err.msg);

	char *anon = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(anon, 1, BUF);
	char *co = map(0, CXLEMU_COHERENT), *nc = map(BUF, CXLEMU_NONCOHERENT);

	/* ---- the fault path, on fresh mappings ---- */
	double native = 0, rfill = 0, wfill = 0, upgrade = 0;
	for (int k = 0; k < 3; k++) {
		char *f = map(2 * BUF, CXLEMU_COHERENT);
		double t = touch_pages(f, 0);
		native = k && native < t ? native : t;
		unmap(f);
		f = map(3 * BUF, CXLEMU_NONCOHERENT);
		t = touch_pages(f, 0);
		rfill = k && rfill < t ? rfill : t;
		t = touch_pages(f, 1);
		upgrade = k && upgrade < t ? upgrade : t;
		cxlemu_flush(f, BUF);
		unmap(f);
		f = map(4 * BUF, CXLEMU_NONCOHERENT);
		t = touch_pages(f, 1);
		wfill = k && wfill < t ? wfill : t;
		cxlemu_flush(f, BUF);
		unmap(f);
	}

	/* ---- steady state ---- */
	struct row rows[2] = {
		{ .name = "coherent mapping (baseline)" },
		{ .name = "non-coherent mapping" },
	};
	bench_pass(&rows[1], nc, anon, BUF, 0);            /* warm-up: fills every page */
	memset(&rows[1], 0, sizeof(rows[1]));
	rows[1].name = "non-coherent mapping";
	for (int p = 0; p < PASSES; p++) {
		bench_pass(&rows[0], co, anon, BUF, p);
		bench_pass(&rows[1], nc, anon, BUF, p);
	}
	build_chase(co);
	build_chase(nc);
	for (int p = 0; p < 3; p++)
		for (int i = 0; i < 2; i++) {
			double t = chase(i ? nc : co);
			if (!p || t < rows[i].lat)
				rows[i].lat = t;
		}

	/* ---- cache operations ---- */
	memset(nc, 0x33, BUF);
	double t0 = now();
	cxlemu_flush(nc, BUF);
	double fl_dirty = ms_per_mib(now() - t0);
	t0 = now();
	cxlemu_flush(nc, BUF);
	double fl_clean = ms_per_mib(now() - t0);
	t0 = now();
	cxlemu_invalidate(nc, BUF);
	double inval = ms_per_mib(now() - t0);
	enum { N = 200000 };
	t0 = now();
	for (int i = 0; i < N; i++) {
		nc[(i % 1024) * 64] = (char)i;
		cxlemu_flush(nc + (i % 1024) * 64, 1);
	}
	double one_flush = (now() - t0) / N * 1e9;
	t0 = now();
	for (int i = 0; i < N; i++) {
		cxlemu_invalidate(nc + (i % 1024) * 64, 1);
		sink += ((volatile char *)nc)[(i % 1024) * 64];
	}
	double one_inval = (now() - t0) / N * 1e9;
	/* the checker's sampling: each cache operation re-protects the pages
	 * opened since the last, and the next touch of each faults */
	cfg.check = 1;
	cxlemu_coh_configure(&cfg, &err);
	enum { M = 20000 };
	t0 = now();
	for (int i = 0; i < M; i++) {
		cxlemu_invalidate(nc, 1);
		sink += ((volatile char *)nc)[0];
	}
	double one_checked = (now() - t0) / M * 1e9;
	cfg.check = 0;
	cxlemu_coh_configure(&cfg, &err);

	printf("buffer %llu MiB, best of %d passes; GB/s and ns per dependent "
	       "load, (ratio to the coherent mapping)\n", BUF >> 20, PASSES);
	printf("%-30s %14s %14s %14s %16s\n", "", "memcpy in", "memcpy out",
	       "memset", "dependent load");
	for (int i = 0; i < 2; i++)
		printf("%-30s %7.2f (%4.2f) %7.2f (%4.2f) %7.2f (%4.2f) %8.1f "
		       "(%5.2f)\n", rows[i].name, rows[i].cpy_in,
		       rows[i].cpy_in / rows[0].cpy_in, rows[i].cpy_out,
		       rows[i].cpy_out / rows[0].cpy_out, rows[i].set,
		       rows[i].set / rows[0].set, rows[i].lat,
		       rows[i].lat / rows[0].lat);
	printf("\nfaults, us per 4 KiB page (ratio to a native minor fault, "
	       "best of 3)\n");
	printf("  native minor fault, coherent   %7.2f\n", native);
	printf("  read fill                      %7.2f (%5.1f)\n", rfill,
	       rfill / native);
	printf("  write fill                     %7.2f (%5.1f)\n", wfill,
	       wfill / native);
	printf("  read-only to read-write        %7.2f (%5.1f)\n", upgrade,
	       upgrade / native);
	printf("\ncache operations\n");
	printf("  flush, every line dirty        %7.3f ms/MiB\n", fl_dirty);
	printf("  flush, nothing dirty (scan)    %7.3f ms/MiB\n", fl_clean);
	printf("  invalidate, clean              %7.3f ms/MiB\n", inval);
	printf("  store + flush of one line      %7.1f ns\n", one_flush);
	printf("  invalidate + reload one line   %7.1f ns\n", one_inval);
	printf("  the same, checker sampling on  %7.1f ns\n", one_checked);

	unmap(co);
	unmap(nc);
	cxlemu_dax_close(dev);
	bench_fabric_stop(&fab, c);
	return 0;
}
