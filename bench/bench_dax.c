/*
 * bench_dax.c - device-DAX speed against ordinary memory, in one run.
 *
 * A fabric is served from a forked child on a private socket; this process
 * attaches as a host through the client library, exactly as a program
 * would.  For one buffer size (256 MiB) it measures memcpy into and out of,
 * and memset on: ordinary anonymous memory (the baseline), a mapped 1-way
 * region, a mapped 4-way region at 4 KiB granularity, the exact path on a
 * 4-way region at 256 B granularity, and that region mapped (through its
 * view, model/region_view.h); plus a dependent-load
 * (pointer-chasing) latency on each.  Each figure is the best of several
 * passes, taken round-robin over the rows, printed with its ratio to the baseline.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_fabric.h"

#define BUF (256ULL << 20)
#define PASSES 7
#define CHASE_STEPS (2u << 20)

static const char topo[] =
	"-machine q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
	"-object memory-backend-ram,id=v0,size=512M\n"
	"-object memory-backend-ram,id=v1,size=512M\n"
	"-object memory-backend-ram,id=v2,size=512M\n"
	"-object memory-backend-ram,id=v3,size=512M\n"
	"-object memory-backend-ram,id=v4,size=256M\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device pxb-cxl,bus_nr=64,bus=pcie.0,id=cxl.2\n"
	"-device pxb-cxl,bus_nr=128,bus=pcie.0,id=cxl.3\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1\n"
	"-device cxl-rp,port=0,bus=cxl.2,id=rp2,chassis=0,slot=2\n"
	"-device cxl-rp,port=1,bus=cxl.2,id=rp3,chassis=0,slot=3\n"
	"-device cxl-rp,port=0,bus=cxl.3,id=rp4,chassis=0,slot=4\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0\n"
	"-device cxl-type3,bus=rp1,volatile-memdev=v1,id=d1\n"
	"-device cxl-type3,bus=rp2,volatile-memdev=v2,id=d2\n"
	"-device cxl-type3,bus=rp3,volatile-memdev=v3,id=d3\n"
	"-device cxl-type3,bus=rp4,volatile-memdev=v4,id=d4\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
	"cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=4k\n"
	"-M cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.targets.1=cxl.2,"
	"cxl-fmw.1.size=4G,cxl-fmw.1.interleave-granularity=256\n"
	"-M cxl-fmw.2.targets.0=cxl.3,cxl-fmw.2.size=4G\n";

static volatile uint64_t sink;

/* A random cycle through the buffer's 64-byte lines, for pointer chasing.
 * Written through `put` so that the exact path can build it too. */
typedef void (*put_fn)(void *ctx, uint64_t off, uint64_t val);
static void build_chase(uint64_t lines, put_fn put, void *ctx)
{
	uint32_t *perm = malloc(lines * sizeof(*perm));
	for (uint64_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	uint64_t x = 88172645463325252ULL;
	for (uint64_t i = lines - 1; i > 0; i--) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint64_t j = x % (i + 1);
		uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
	}
	for (uint64_t i = 0; i < lines; i++)
		put(ctx, (uint64_t)perm[i] * 64, (uint64_t)perm[(i + 1) % lines] * 64);
	free(perm);
}

static void put_mem(void *ctx, uint64_t off, uint64_t val)
{
	*(uint64_t *)((char *)ctx + off) = val;
}

static double chase_mem(char *base)
{
	uint64_t p = 0;
	double t0 = now();
	for (unsigned i = 0; i < CHASE_STEPS; i++)
		p = *(volatile uint64_t *)(base + p);
	double t = now() - t0;
	sink = p;
	return t / CHASE_STEPS * 1e9;
}

static void latency_mem(struct row *r, char *mem)
{
	build_chase(BUF / 64, put_mem, mem);
	r->lat = chase_mem(mem);
}

struct exact { struct cxlemu_dax *d; };
static void put_exact(void *ctx, uint64_t off, uint64_t val)
{
	struct cxlemu_err err;
	struct exact *x = ctx;
	if (cxlemu_dax_write(x->d, off, &val, 8, &err))
		die("exact write", err.msg);
}

/* The exact path's memset is its fill call. */
static void pass_exact(struct row *r, struct cxlemu_dax *d, char *anon)
{
	struct cxlemu_err err;
	double t0 = now();
	if (cxlemu_dax_write(d, 0, anon, BUF, &err))
		die("exact write", err.msg);
	double t1 = now();
	if (cxlemu_dax_read(d, 0, anon, BUF, &err))
		die("exact read", err.msg);
	double t2 = now();
	if (cxlemu_dax_fill(d, 0, 0x5a, BUF, &err))
		die("exact fill", err.msg);
	double t3 = now();
	row_sample(r, BUF / (t1 - t0) / 1e9, BUF / (t2 - t1) / 1e9,
		   BUF / (t3 - t2) / 1e9);
}

static void latency_exact(struct row *r, struct cxlemu_dax *d)
{
	struct cxlemu_err err;
	struct exact x = { d };
	build_chase(BUF / 64, put_exact, &x);
	uint64_t p = 0;
	unsigned steps = CHASE_STEPS / 8;
	double t0 = now();
	for (unsigned i = 0; i < steps; i++)
		if (cxlemu_dax_read(d, p, &p, 8, &err))
			die("exact read", err.msg);
	r->lat = (now() - t0) / steps * 1e9;
	sink = p;
}

static void print_row(const struct row *r, const struct row *b)
{
	printf("%-34s %7.2f (%4.2f) %7.2f (%4.2f) %7.2f (%4.2f) %8.1f (%5.2f)\n",
	       r->name, r->cpy_in, r->cpy_in / b->cpy_in, r->cpy_out,
	       r->cpy_out / b->cpy_out, r->set, r->set / b->set, r->lat,
	       r->lat / b->lat);
}

static int count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, ch;
	if (!f)
		die("/proc/self/maps", strerror(errno));
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static unsigned long long max_map_count(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int set_max_map_count(unsigned long long v)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "w");
	if (!f)
		return -1;
	int rc = fprintf(f, "%llu\n", v) < 0;
	return fclose(f) || rc ? -1 : 0;
}

#define MAP_1G (1ULL << 30)
#define MAP_PASSES 5

/* MAP_PASSES maps of all of a 1 GiB region, 4 ways at 4 KiB: how long
 * one cxlemu_dax_map takes and how many VMAs it makes.  Stops at the
 * first refusal, whose message goes to *why. */
static void map_passes(struct cxlemu_dax *d, struct series *ms,
		       struct series *vmas, char *why, size_t whylen)
{
	struct cxlemu_err err;
	for (int p = 0; p < MAP_PASSES; p++) {
		void *m;
		int v0 = count_vmas();
		double t0 = now();
		if (cxlemu_dax_map(d, 0, MAP_1G, PROT_READ | PROT_WRITE, &m,
				   &err)) {
			snprintf(why, whylen, "%s", err.msg);
			return;
		}
		double t = now() - t0;
		int v1 = count_vmas();
		munmap(m, MAP_1G);
		series_add(ms, t * 1e3);
		series_add(vmas, v1 - v0);
	}
}

/* map_1g_4way_4k_ms and _vmas: at this machine's vm.max_map_count
 * first; when that refuses and we are root, again with the limit raised,
 * and the figures say so. */
static void map_1g(struct cxlemu_dax *d4)
{
	struct series ms = { .n = 0 }, vmas = { .n = 0 };
	char why[CXLEMU_ERR_MAX] = "";
	unsigned long long limit = max_map_count(), raised = 0;

	const char *fb = NULL;
	int view = cxlemu_dax_view(d4, &fb);
	printf("mapping all of a 1 GiB region, 4 ways at 4 KiB "
	       "(vm.max_map_count %llu), %s%s:\n", limit,
	       view ? "through its view" : "granule by granule: ",
	       view ? "" : fb);
	map_passes(d4, &ms, &vmas, why, sizeof(why));
	if (*why && geteuid() == 0 && !set_max_map_count(300000)) {
		raised = 300000;
		printf("  refused at the limit: %s\n  raising "
		       "vm.max_map_count to %llu to measure it anyway\n", why,
		       raised);
		map_passes(d4, &ms, &vmas, why + strlen(why),
			   sizeof(why) - strlen(why));
		set_max_map_count(limit);
	}
	if (!ms.n) {
		bench_record_none("bench_dax", "map_1g_4way_4k_ms", why);
		bench_record_none("bench_dax", "map_1g_4way_4k_vmas", why);
		return;
	}
	bench_print("one cxlemu_dax_map of 1 GiB", &ms, "ms", NULL);
	bench_print("VMAs it made", &vmas, "", NULL);
	for (int k = 0; k < 2; k++) {
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "vm_max_map_count",
				       json_object_new_int64((int64_t)(raised ?
						raised : limit)));
		if (raised)
			json_object_object_add(x, "refused_at_default",
					       json_object_new_string(why));
		json_object_object_add(x, "path", json_object_new_string(
			view ? "region view" : fb));
		bench_record_ex("bench_dax", k ? "map_1g_4way_4k_vmas" :
				"map_1g_4way_4k_ms", k ? &vmas : &ms,
				k ? "VMAs" : "ms", k ? "VMAs one cxlemu_dax_map "
				"of a 1 GiB region (4 ways, 4 KiB) adds" :
				"time of one cxlemu_dax_map of a 1 GiB region "
				"(4 ways, 4 KiB)", NULL, x);
	}
	printf("\n");
}

/* the figure of row r against row b, pass by pass: GB/s over GB/s */
static struct series pass_ratio(const struct series *r, const struct series *b)
{
	struct series s = { .n = 0 };
	for (int p = 0; p < r->n && p < b->n; p++)
		series_add(&s, r->v[p] / b->v[p]);
	return s;
}

int main(void)
{
	struct bench_fabric fab;
	struct cxlemu_err err;
	struct cxlemu *c = bench_fabric_start(&fab, topo);

	char *anon = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *base = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(anon, 1, BUF);
	memset(base, 1, BUF);

	static const char *one[] = { "mem4" };
	static const char *four[] = { "mem0", "mem2", "mem1", "mem3" };
	struct cxlemu_dax *d1 = bench_region(c, "decoder0.2", one, 1, BUF);
	struct cxlemu_dax *d4 = bench_region(c, "decoder0.0", four, 4, BUF * 4);
	struct cxlemu_dax *d4x = bench_region(c, "decoder0.1", four, 4, BUF * 4);

	char *m1, *m4;
	unsigned long long old_max = 0;
	map_1g(d4);
	if (cxlemu_dax_map(d1, 0, BUF, PROT_READ | PROT_WRITE, (void **)&m1, &err))
		die("map 1-way", err.msg);
	if (cxlemu_dax_map(d4, 0, BUF, PROT_READ | PROT_WRITE, (void **)&m4,
			   &err)) {
		FILE *f = fopen("/proc/sys/vm/max_map_count", "r+");
		if (!f || geteuid() != 0)
			die("map 4-way", err.msg);
		/* 256 MiB at 4 KiB is 65536 mappings, just past Linux's
		 * default vm.max_map_count (65530): raise it, as root */
		printf("note: %s\n      raising vm.max_map_count to 262144 "
		       "for this run\n", err.msg);
		if (fscanf(f, "%llu", &old_max) != 1)
			old_max = 0;
		rewind(f);
		fprintf(f, "262144\n");
		fclose(f);
		if (cxlemu_dax_map(d4, 0, BUF, PROT_READ | PROT_WRITE,
				   (void **)&m4, &err))
			die("map 4-way", err.msg);
	}
	/* 256 B granularity maps through the region's view */
	char *m4x;
	if (cxlemu_dax_map(d4x, 0, BUF, PROT_READ | PROT_WRITE, (void **)&m4x,
			   &err))
		die("map 4-way 256 B", err.msg);

	struct row rows[5] = {
		{ .name = "anonymous memory (baseline)" },
		{ .name = "mapped 1-way region" },
		{ .name = "mapped 4-way region, 4 KiB gran" },
		{ .name = "exact path, 4-way, 256 B gran" },
		{ .name = "mapped 4-way region, 256 B gran" },
	};
	/* passes round-robin over the rows, so that load from elsewhere on a
	 * shared machine falls on every row alike; best pass of each */
	for (int p = 0; p < PASSES; p++) {
		bench_pass(&rows[0], base, anon, BUF, p);
		bench_pass(&rows[1], m1, anon, BUF, p);
		bench_pass(&rows[2], m4, anon, BUF, p);
		pass_exact(&rows[3], d4x, anon);
		bench_pass(&rows[4], m4x, anon, BUF, p);
	}
	latency_mem(&rows[0], base);
	latency_mem(&rows[1], m1);
	latency_mem(&rows[2], m4);
	latency_exact(&rows[3], d4x);
	latency_mem(&rows[4], m4x);

	printf("buffer %llu MiB, best of %d passes; GB/s (ratio to baseline), "
	       "latency ns per dependent load (ratio)\n",
	       BUF >> 20, PASSES);
	printf("%-34s %14s %14s %14s %16s\n", "", "memcpy in", "memcpy out",
	       "memset", "dependent load");
	for (int i = 0; i < 5; i++)
		print_row(&rows[i], &rows[0]);

	printf("\nper pass, against anonymous memory in the same pass:\n");
	struct series r4 = row_memcpy_ratio(&rows[2], &rows[0]);
	struct series r1 = row_memcpy_ratio(&rows[1], &rows[0]);
	struct series er = pass_ratio(&rows[3].out_s, &rows[0].out_s);
	struct series ew = pass_ratio(&rows[3].in_s, &rows[0].in_s);
	bench_print("memcpy, mapped 4-way 4 KiB", &r4, "x", NULL);
	bench_print("memcpy, mapped 1-way", &r1, "x", NULL);
	bench_print("client exact read, 4-way 256 B", &er, "x", NULL);
	bench_print("client exact write, 4-way 256 B", &ew, "x", NULL);
	bench_record("bench_dax", "mapped_memcpy_ratio", &r4, "ratio",
		     "memcpy in and out of a mapped 4-way 4 KiB region "
		     "(256 MiB) over the same on anonymous memory, per pass",
		     NULL);
	bench_record("bench_dax", "mapped_1way_memcpy_ratio", &r1, "ratio",
		     "memcpy in and out of a mapped 1-way region (256 MiB) "
		     "over the same on anonymous memory, per pass", NULL);
	bench_record("bench_dax", "exact_256b_client_read_ratio", &er,
		     "ratio", "cxlemu_dax_read of 256 MiB from a 4-way 256 B "
		     "region over memcpy out of anonymous memory, per pass",
		     NULL);
	bench_record("bench_dax", "exact_256b_client_write_ratio", &ew,
		     "ratio", "cxlemu_dax_write of 256 MiB to a 4-way 256 B "
		     "region over memcpy into anonymous memory, per pass",
		     NULL);

	munmap(m1, BUF);
	munmap(m4, BUF);
	munmap(m4x, BUF);
	if (old_max) {
		FILE *f = fopen("/proc/sys/vm/max_map_count", "w");
		if (f) {
			fprintf(f, "%llu\n", old_max);
			fclose(f);
		}
	}
	cxlemu_dax_close(d1);
	cxlemu_dax_close(d4);
	cxlemu_dax_close(d4x);
	bench_fabric_stop(&fab, c);
	return 0;
}
