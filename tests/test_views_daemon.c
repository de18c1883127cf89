/*
 * test_views_daemon.c - region views through the daemon and the client
 * library: an interleaved region over memfd media comes as its view, so
 * a program maps it at 256 B granularity in one mapping; what it stores
 * is what the daemon's exact path reads; destroying the region (forced
 * while mapped, or after the handle closed) takes the mapping away - its
 * next store faults with SIGBUS and changes nothing - while the bytes
 * stored before are back in the devices (the same DPAs mapped again hold
 * them).  A view mapped at an offset holds what the exact path reads
 * there, and nothing maps or reads past its end.  A 1-way region says
 * why it has no view.
 *
 * Two hosts on four shared share=on files: regions laid out alike share
 * one view (a store through host1's mapping is in host2's, in both exact
 * paths and, flushed, in the files at the DPAs the translation gives);
 * host1 destroying its region leaves host2's mapping and data; the last
 * region going, and stop, write unflushed stores back; a kill -9 leaves
 * what was flushed and a detached copy found by pid.  A region laid out
 * another way over the same DPAs falls back naming the other host's
 * region, taking apart a view nobody maps and refused while one is.
 * A file that cannot take a view's bytes (cut short under the daemon)
 * fails dax-flush and a forced destroy-region naming it, while the other
 * files get theirs and the view keeps the rest until it can.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cxlemu/cxlemu.h"
#include "cxlemu/dax.h"
#include "daemon_fixture.h"
#include "mapper_fixture.h"

#define MiB (1ULL << 20)
#define SPAN (4 * MiB)
#define SIGBUS_EXIT FX_SIGBUS_EXIT

/* two host bridges, two root ports each: rp0, rp1 below cxl.1, rp2, rp3
 * below cxl.2 */
#define PORTS \
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n" \
	"-device pxb-cxl,bus_nr=64,bus=pcie.0,id=cxl.2\n" \
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n" \
	"-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1\n" \
	"-device cxl-rp,port=0,bus=cxl.2,id=rp2,chassis=0,slot=2\n" \
	"-device cxl-rp,port=1,bus=cxl.2,id=rp3,chassis=0,slot=3\n"

/* four volatile memfd devices under two bridges; windows at 256 B and
 * 4 KiB over both bridges, and one over the first bridge alone */
static const char topo[] =
	"[host host1]\n"
	"-machine q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
	"-object memory-backend-ram,id=v0,size=512M\n"
	"-object memory-backend-ram,id=v1,size=512M\n"
	"-object memory-backend-ram,id=v2,size=512M\n"
	"-object memory-backend-ram,id=v3,size=512M\n"
	PORTS
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,id=d0\n"
	"-device cxl-type3,bus=rp1,volatile-memdev=v1,id=d1\n"
	"-device cxl-type3,bus=rp2,volatile-memdev=v2,id=d2\n"
	"-device cxl-type3,bus=rp3,volatile-memdev=v3,id=d3\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
	"cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=256\n"
	"-M cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.size=4G\n";

static struct fx_daemon D;

static int setup(void **state)
{
	fx_daemon_dir(&D, "views");
	fx_daemon_start(&D, topo, NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	fx_daemon_end(&D);
	return 0;
}

static struct cxlemu *conn(void)
{
	return fx_daemon_conn(&D, "host1");
}

/* A ram region over `n` memdevs of `size`, as devdax; returns its id. */
static int region(struct cxlemu *c, const char *root, const char **m, int n,
		  uint64_t size)
{
	struct cxlemu_region_req rq = { .root = root, .type = "ram",
					.memdevs = m, .nmemdevs = n,
					.size = size };
	struct json_object *r = NULL, *id;
	struct cxlemu_err err;
	if (cxlemu_create_region(c, &rq, &r, &err))
		fail_msg("create-region: %s", err.msg);
	assert_true(json_object_object_get_ex(r, "region", &id));
	int k = atoi(json_object_get_string(id) + strlen("region"));
	json_object_put(r);
	if (fx_dax_reconfigure(c, k, "devdax", &err))
		fail_msg("reconfigure: %s", err.msg);
	return k;
}

static const char *four[] = { "mem0", "mem2", "mem1", "mem3" };

static int region4(struct cxlemu *c)
{
	return region(c, "decoder0.0", four, 4, 1024 * MiB);
}

static void destroy(struct cxlemu *c, int id, bool force)
{
	char name[32];
	struct cxlemu_err err;
	int n;
	snprintf(name, sizeof(name), "region%d", id);
	if (cxlemu_destroy_region(c, name, force, &n, &err))
		fail_msg("destroy-region: %s", err.msg);
}

static uint8_t pattern(uint64_t i, int seed)
{
	return (uint8_t)(i * 7 + (i >> 8) + (uint64_t)seed * 31);
}

/* The daemon the mapping programs below talk to (NULL: D). */
static const char *mapper_sock;

struct map_args {
	int id, seed;
	bool close_handle;
};

/* The child's part (mapper_fixture.h): open, check it is a view, map
 * SPAN at 256 B, store pattern(seed), read it back through the client's
 * exact path, close the handle if asked (the mapping stays). */
static uint8_t *map_and_store(void *arg)
{
	const struct map_args *a = arg;
	struct cxlemu *c;
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	uint8_t *p;
	char dev[32];
	const char *why;

	snprintf(dev, sizeof(dev), "dax%d.0", a->id);
	if (cxlemu_connect(mapper_sock ? mapper_sock : D.sock, "host1", &c,
			   &err) ||
	    cxlemu_dax_open(c, dev, &d, &err)) {
		fprintf(stderr, "mapper: %s\n", err.msg);
		_exit(2);
	}
	if (!cxlemu_dax_view(d, &why)) {
		fprintf(stderr, "mapper: no view: %s\n", why);
		_exit(3);
	}
	if (cxlemu_dax_map(d, 0, SPAN, PROT_READ | PROT_WRITE, (void **)&p,
			   &err)) {
		fprintf(stderr, "mapper: map: %s\n", err.msg);
		_exit(4);
	}
	for (uint64_t i = 0; i < SPAN; i++)
		p[i] = pattern(i, a->seed);
	uint8_t buf[5000];
	if (cxlemu_dax_read(d, 300000, buf, sizeof(buf), &err) ||
	    memcmp(buf, p + 300000, sizeof(buf))) {
		fprintf(stderr, "mapper: the exact path disagrees\n");
		_exit(5);
	}
	if (a->close_handle) {
		cxlemu_dax_close(d);
		cxlemu_close(c);
	}
	return p;
}

static void mapper_start(struct fx_mapper *m, int id, int seed, bool close_h)
{
	struct map_args a = { id, seed, close_h };
	fx_mapper_start(m, map_and_store, &a, pattern, seed);
}

/* The daemon's exact path reads pattern(seed) over SPAN. */
static void expect_pattern(struct cxlemu *c, int id, int seed)
{
	fx_expect_pattern(c, id, SPAN, pattern, seed);
}

static void test_map_at_256b_then_destroy(void **state)
{
	struct cxlemu *c = conn();
	struct fx_mapper m;

	/* forced while the handle is open */
	int id = region4(c);
	mapper_start(&m, id, 1, false);
	expect_pattern(c, id, 1);
	destroy(c, id, true);
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	id = region4(c);     /* the same DPAs: the bytes from before */
	expect_pattern(c, id, 1);
	destroy(c, id, false);

	/* the handle closed, the mapping kept: no force needed */
	id = region4(c);
	mapper_start(&m, id, 2, true);
	destroy(c, id, false);
	assert_int_equal(fx_mapper_store(&m), SIGBUS_EXIT);
	id = region4(c);
	expect_pattern(c, id, 2);
	destroy(c, id, false);
	cxlemu_close(c);
}

/* A view mapped at an offset holds the bytes the exact path reads there;
 * past its end nothing maps and nothing reads. */
static void test_view_offsets_and_end(void **state)
{
	struct cxlemu *c = conn();
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	char dev[32], name[32];
	int id = region4(c);
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	snprintf(name, sizeof(name), "region%d", id);
	assert_int_equal(cxlemu_write(c, name, 3 * 4096 + 100, "at-an-offset",
				      12, &err), 0);
	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), 0);
	assert_int_equal(cxlemu_dax_view(d, NULL), 1);
	uint64_t size = cxlemu_dax_size(d);
	char *p;
	assert_int_equal(cxlemu_dax_map(d, 3 * 4096, 2 * MiB,
					PROT_READ | PROT_WRITE, (void **)&p,
					&err), 0);
	assert_memory_equal(p + 100, "at-an-offset", 12);
	memcpy(p + 2 * MiB - 7, "edge!", 5);
	char back[8];
	assert_int_equal(cxlemu_read(c, name, 3 * 4096 + 2 * MiB - 7, back, 5,
				     &err), 0);
	assert_memory_equal(back, "edge!", 5);
	munmap(p, 2 * MiB);
	void *q;
	assert_int_equal(cxlemu_dax_map(d, size, 4096, PROT_READ, &q, &err),
			 -ERANGE);
	assert_int_equal(cxlemu_dax_map(d, size - 4096, 8192, PROT_READ, &q,
					&err), -ERANGE);
	assert_int_equal(cxlemu_dax_read(d, size - 1, back, 2, &err), -ERANGE);
	cxlemu_dax_close(d);
	destroy(c, id, false);
	cxlemu_close(c);
}

static void test_one_way_says_why(void **state)
{
	struct cxlemu *c = conn();
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	const char *why = NULL;
	const char *one[] = { "mem0" };
	int id = region(c, "decoder0.1", one, 1, 256 * MiB);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), 0);
	assert_int_equal(cxlemu_dax_view(d, &why), 0);
	assert_non_null(strstr(why, "not interleaved"));
	void *p;
	assert_int_equal(cxlemu_dax_map(d, 0, 2 * MiB, PROT_READ, &p, &err),
			 0);
	munmap(p, 2 * MiB);
	cxlemu_dax_close(d);
	destroy(c, id, false);
	cxlemu_close(c);
}

/* ---- two hosts on four shared share=on files ---- */

/* host1 and host2 each see the four files f0..f3 as devices d0..d3 (e0..e3
 * on host2) under two bridges, with windows at 256 B and 4 KiB over both:
 * the same DPAs can be interleaved the same way on both hosts, or
 * another way. */
static const char topo2_host[] =
	"[host %2$s]\n"
	"-machine q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
	"-object memory-backend-file,id=f0,mem-path=%1$s/f0,size=512M,share=on\n"
	"-object memory-backend-file,id=f1,mem-path=%1$s/f1,size=512M,share=on\n"
	"-object memory-backend-file,id=f2,mem-path=%1$s/f2,size=512M,share=on\n"
	"-object memory-backend-file,id=f3,mem-path=%1$s/f3,size=512M,share=on\n"
	PORTS
	"-device cxl-type3,bus=rp0,volatile-memdev=f0,id=%3$s0\n"
	"-device cxl-type3,bus=rp1,volatile-memdev=f1,id=%3$s1\n"
	"-device cxl-type3,bus=rp2,volatile-memdev=f2,id=%3$s2\n"
	"-device cxl-type3,bus=rp3,volatile-memdev=f3,id=%3$s3\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
	"cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=256\n"
	"-M cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.targets.1=cxl.2,"
	"cxl-fmw.1.size=4G,cxl-fmw.1.interleave-granularity=4k\n"
	"-M cxl-fmw.2.targets.0=cxl.1,cxl-fmw.2.size=4G\n";

static struct fx_daemon F;
static char *F_text;

static int setup2(void **state)
{
	fx_daemon_dir(&F, "xviews");
	char *h1 = cx_xasprintf(topo2_host, F.dir, "host1", "d");
	char *h2 = cx_xasprintf(topo2_host, F.dir, "host2", "e");
	F_text = cx_xasprintf("%s%s", h1, h2);
	free(h1);
	free(h2);
	fx_daemon_start(&F, F_text, NULL, NULL);
	return 0;
}

static int teardown2(void **state)
{
	fx_daemon_end(&F);
	free(F_text);
	return 0;
}

static struct cxlemu *conn_on(const char *host)
{
	return fx_daemon_conn(&F, host);
}

static struct cxlemu_dax *open_dax(struct cxlemu *c, int id)
{
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	if (cxlemu_dax_open(c, dev, &d, &err))
		fail_msg("open %s: %s", dev, err.msg);
	return d;
}

static uint8_t *map_all(struct cxlemu_dax *d, uint64_t len)
{
	struct cxlemu_err err;
	void *p;
	if (cxlemu_dax_map(d, 0, len, PROT_READ | PROT_WRITE, &p, &err))
		fail_msg("map: %s", err.msg);
	return p;
}

/* The byte the file of region offset `off`'s device holds at its DPA
 * (the translation names memdev d<k> or e<k>: file f<k>). */
static uint8_t file_at(struct cxlemu *c, int id, uint64_t off)
{
	return fx_file_byte(c, id, off, F.dir, 'f');
}

/* The digit of the file holding region offset `off` (f<digit>). */
static char file_of(struct cxlemu *c, int id, uint64_t off)
{
	struct json_object *t;
	struct cxlemu_err err;
	char reg[32];
	snprintf(reg, sizeof(reg), "region%d", id);
	if (cxlemu_translate(c, reg, off, false, &t, &err))
		fail_msg("translate: %s", err.msg);
	const char *host = json_object_get_string(
		json_object_object_get(t, "host"));
	char k = host[strlen(host) - 1];
	json_object_put(t);
	return k;
}

/* The files but f<skip> (none: 0) hold pattern(seed) over [0, SPAN) of
 * region `id`, each byte at the DPA its translation gives (sampled:
 * every granule of the first 64 KiB, then an odd stride). */
static void expect_files_but(struct cxlemu *c, int id, int seed, char skip)
{
	for (uint64_t i = 0; i < SPAN; i += i < 65536 ? 97 : 4096 + 333)
		if ((!skip || file_of(c, id, i) != skip) &&
		    file_at(c, id, i) != pattern(i, seed))
			fail_msg("region%d offset %#llx: the file holds %#x, not "
				 "%#x (seed %d)", id, (unsigned long long)i,
				 file_at(c, id, i), pattern(i, seed), seed);
}

static void expect_files(struct cxlemu *c, int id, int seed)
{
	expect_files_but(c, id, seed, 0);
}

static void fill(uint8_t *p, int seed)
{
	for (uint64_t i = 0; i < SPAN; i++)
		p[i] = pattern(i, seed);
}

/* A 1 GiB region at 256 B on c's host, opened (in *dp) as its view,
 * pattern(seed) stored over SPAN through a mapping, then unmapped. */
static int store_through_view(struct cxlemu *c, int seed,
			      struct cxlemu_dax **dp)
{
	int id = region(c, "decoder0.0", four, 4, 1024 * MiB);
	*dp = open_dax(c, id);
	assert_int_equal(cxlemu_dax_view(*dp, NULL), 1);
	uint8_t *p = map_all(*dp, SPAN);
	fill(p, seed);
	munmap(p, SPAN);
	return id;
}

/* One view for both hosts' regions of one layout: host1's stores are
 * read at the right DPAs by both exact paths and through host2's own
 * mapping; flushed, they are in the files in DPA order; host1 giving its
 * region up leaves host2's mapping and data as they were; the last
 * region going writes everything back, flushed or not. */
static void test_two_hosts_share_a_file_backed_view(void **state)
{
	struct cxlemu *c1 = conn_on("host1"), *c2 = conn_on("host2");
	struct cxlemu_err err;
	const char *why = NULL;
	int r1 = region(c1, "decoder0.0", four, 4, 1024 * MiB);
	int r2 = region(c2, "decoder0.0", four, 4, 1024 * MiB);
	struct cxlemu_dax *d1 = open_dax(c1, r1), *d2 = open_dax(c2, r2);
	if (!cxlemu_dax_view(d1, &why))
		fail_msg("host1: no view: %s", why);
	if (!cxlemu_dax_view(d2, &why))
		fail_msg("host2: no view: %s", why);
	uint8_t *p1 = map_all(d1, SPAN), *p2 = map_all(d2, SPAN);
	fill(p1, 1);
	assert_memory_equal(p1, p2, SPAN);      /* one set of pages */
	expect_pattern(c1, r1, 1);
	expect_pattern(c2, r2, 1);
	assert_int_equal(cxlemu_dax_flush(d1, p1, SPAN, &err), 0);
	expect_files(c1, r1, 1);
	expect_files(c2, r2, 1);

	/* host1 gives its region up (forced: it still maps it) */
	destroy(c1, r1, true);
	for (uint64_t i = 0; i < SPAN; i++)
		p2[i] = pattern(i, 2);
	expect_pattern(c2, r2, 2);
	munmap(p1, SPAN);
	cxlemu_dax_close(d1);
	/* host2's stores were not flushed: taking the view apart writes
	 * them back */
	munmap(p2, SPAN);
	cxlemu_dax_close(d2);
	destroy(c2, r2, false);
	r2 = region(c2, "decoder0.0", four, 4, 1024 * MiB);
	expect_files(c2, r2, 2);
	expect_pattern(c2, r2, 2);
	destroy(c2, r2, false);
	cxlemu_close(c1);
	cxlemu_close(c2);
}

/* Another layout over the same DPAs on host2: both fall back, each naming
 * the other's region; a view nobody maps gives way to the other host's
 * blocks, one still mapped refuses them, naming itself. */
static void test_other_layout_falls_back_naming_it(void **state)
{
	struct cxlemu *c1 = conn_on("host1"), *c2 = conn_on("host2");
	struct cxlemu_err err;
	struct cxlemu_dax *d;
	const char *why = NULL;
	char want[64];

	/* host1 at 256 B: a view, stored through; its handle stays open */
	struct cxlemu_dax *d1;
	int r1 = store_through_view(c1, 3, &d1);

	/* host2 at 4 KiB over the same DPAs, while host1 still holds its
	 * handle: refused, naming host1's view */
	int r2 = region(c2, "decoder0.1", four, 4, 1024 * MiB);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", r2);
	assert_int_equal(cxlemu_dax_open(c2, dev, &d, &err), -EBUSY);
	snprintf(want, sizeof(want), "region%d's view (host host1)", r1);
	if (!strstr(err.msg, want))
		fail_msg("'%s' does not name %s", err.msg, want);
	cxlemu_dax_close(d1);

	/* nobody maps host1's view now: it gives way */
	d = open_dax(c2, r2);
	assert_int_equal(cxlemu_dax_view(d, &why), 0);
	snprintf(want, sizeof(want), "region%d of host host1", r1);
	if (!strstr(why, want) || !strstr(why, "laid out another way"))
		fail_msg("host2's reason '%s' does not name %s", why, want);
	/* host2's blocks hold host1's bytes, at the same DPAs */
	uint8_t *p2 = map_all(d, SPAN);
	for (uint64_t i = 0; i < SPAN; i += 4096 + 77)
		assert_int_equal(p2[i], file_at(c2, r2, i));
	expect_files(c1, r1, 3);
	/* and host1, mapping again, falls back too, naming host2's region */
	d1 = open_dax(c1, r1);
	assert_int_equal(cxlemu_dax_view(d1, &why), 0);
	snprintf(want, sizeof(want), "region%d of host host2", r2);
	if (!strstr(why, want))
		fail_msg("host1's reason '%s' does not name %s", why, want);
	expect_pattern(c1, r1, 3);
	cxlemu_dax_close(d1);
	munmap(p2, SPAN);
	cxlemu_dax_close(d);
	destroy(c1, r1, false);
	destroy(c2, r2, false);
	cxlemu_close(c1);
	cxlemu_close(c2);
}

/* stop writes a view's bytes back to the files in DPA order; a kill -9
 * leaves in them what was flushed, and the program that mapped the view
 * a detached copy, found by pid by the next daemon. */
static void test_stop_and_kill_leave_the_files_right(void **state)
{
	struct cxlemu *c = conn_on("host1");
	struct cxlemu_err err;
	struct cxlemu_dax *d;
	int id = store_through_view(c, 4, &d);
	cxlemu_dax_close(d);
	cxlemu_close(c);
	fx_daemon_stop(&F);             /* never flushed: stop writes back */
	fx_daemon_start(&F, F_text, NULL, NULL);
	c = conn_on("host1");
	id = region(c, "decoder0.0", four, 4, 1024 * MiB);
	expect_files(c, id, 4);
	expect_pattern(c, id, 4);

	/* a program maps the view and stores; the region is flushed (by
	 * any handle: one view) and the daemon killed */
	struct fx_mapper m;
	mapper_sock = F.sock;
	mapper_start(&m, id, 5, false);
	mapper_sock = NULL;
	d = open_dax(c, id);
	assert_int_equal(cxlemu_dax_flush(d, NULL, 0, &err), 0);
	/* the daemon's own write into the view reaches the files at once */
	char name[32];
	snprintf(name, sizeof(name), "region%d", id);
	assert_int_equal(cxlemu_write(c, name, SPAN + 100, "through", 7, &err),
			 0);
	kill(F.pid, SIGKILL);
	waitpid(F.pid, NULL, 0);
	F.pid = -1;
	cxlemu_dax_forget(d);
	cxlemu_close(c);
	fx_daemon_start(&F, F_text, NULL, NULL);
	c = conn_on("host1");
	id = region(c, "decoder0.0", four, 4, 1024 * MiB);
	/* the program is found by pid, as one mapping blocks would be */
	char pid[32], through[7];
	int n;
	snprintf(pid, sizeof(pid), "pid %d (", (int)m.pid);
	snprintf(name, sizeof(name), "region%d", id);
	assert_int_equal(cxlemu_destroy_region(c, name, true, &n, &err),
			 -EBUSY);
	if (!strstr(err.msg, pid) || !strstr(err.msg, "earlier daemon"))
		fail_msg("'%s' does not name %s", err.msg, pid);
	/* it stores on into a detached copy: no fault, no effect */
	assert_int_equal(fx_mapper_store(&m), 0);
	expect_files(c, id, 5);
	expect_pattern(c, id, 5);
	assert_int_equal(cxlemu_read(c, name, SPAN + 100, through, 7, &err), 0);
	assert_memory_equal(through, "through", 7);
	destroy(c, id, false);
	cxlemu_close(c);
}

/* A file that cannot take a view's bytes (f1, cut to nothing under the
 * daemon, as a full filesystem refuses a page): dax-flush still flushes
 * the other three and names f1; destroy-region, even forced, is refused
 * naming f1, and the view keeps the bytes - once f1 can take them again
 * the region goes and every file holds what was stored. */
static void test_a_file_that_cannot_take_the_bytes(void **state)
{
	struct cxlemu *c = conn_on("host1");
	struct cxlemu_err err;
	char path[160], name[32];
	int n;
	int id = region(c, "decoder0.0", four, 4, 1024 * MiB);
	struct cxlemu_dax *d = open_dax(c, id);
	assert_int_equal(cxlemu_dax_view(d, NULL), 1);
	uint8_t *p = map_all(d, SPAN);
	fill(p, 6);
	snprintf(path, sizeof(path), "%s/f1", F.dir);
	assert_int_equal(truncate(path, 0), 0);

	assert_int_equal(cxlemu_dax_flush(d, p, SPAN, &err), -EIO);
	if (!strstr(err.msg, path))
		fail_msg("dax-flush: '%s' does not name %s", err.msg, path);
	expect_files_but(c, id, 6, '1');

	snprintf(name, sizeof(name), "region%d", id);
	assert_int_equal(cxlemu_destroy_region(c, name, true, &n, &err),
			 -EIO);
	if (!strstr(err.msg, path) || !strstr(err.msg, "not destroyed"))
		fail_msg("destroy-region: '%s' does not name %s", err.msg,
			 path);
	expect_pattern(c, id, 6);       /* the view holds every byte */

	assert_int_equal(truncate(path, 512 * MiB), 0);
	destroy(c, id, true);
	munmap(p, SPAN);
	cxlemu_dax_close(d);
	id = region(c, "decoder0.0", four, 4, 1024 * MiB);
	expect_files(c, id, 6);
	expect_pattern(c, id, 6);
	destroy(c, id, false);
	cxlemu_close(c);
}

/* The same, the view taken apart by a change of mode (system-ram) while
 * f1 cannot take its bytes: the view stays, holding them, and is taken
 * apart at a later change once f1 can. */
static void test_a_view_kept_until_its_bytes_are_written(void **state)
{
	struct cxlemu *c = conn_on("host1");
	struct cxlemu_err err;
	struct cxlemu_dax *d;
	char path[160];
	int id = store_through_view(c, 8, &d);
	snprintf(path, sizeof(path), "%s/f1", F.dir);
	assert_int_equal(truncate(path, 0), 0);
	cxlemu_dax_close(d);
	/* the view is kept: f1 cannot take its bytes */
	assert_int_equal(fx_dax_reconfigure(c, id, "system-ram", &err), 0);
	expect_files_but(c, id, 8, '1');
	assert_int_equal(truncate(path, 512 * MiB), 0);
	/* written at last */
	assert_int_equal(fx_dax_reconfigure(c, id, "devdax", &err), 0);
	expect_files(c, id, 8);
	expect_pattern(c, id, 8);
	destroy(c, id, false);
	cxlemu_close(c);
}

/* A 1-way region on host2 over DPAs that host1's view holds, which no
 * program maps: the view is taken apart and host2 maps its blocks,
 * holding host1's bytes. */
static void test_one_way_over_an_unmapped_view(void **state)
{
	struct cxlemu *c1 = conn_on("host1"), *c2 = conn_on("host2");
	struct cxlemu_dax *d1;
	const char *why = NULL;
	int r1 = store_through_view(c1, 7, &d1);
	cxlemu_dax_close(d1);
	const char *one[] = { "e0" };
	int r2 = region(c2, "decoder0.2", one, 1, 256 * MiB);
	struct cxlemu_dax *d = open_dax(c2, r2);
	assert_int_equal(cxlemu_dax_view(d, &why), 0);
	if (!strstr(why, "not interleaved"))
		fail_msg("host2's reason: '%s'", why);
	uint8_t *p = map_all(d, SPAN);
	for (uint64_t i = 0; i < SPAN; i += 4096 + 77)
		assert_int_equal(p[i], file_at(c2, r2, i));
	expect_files(c1, r1, 7);
	munmap(p, SPAN);
	cxlemu_dax_close(d);
	destroy(c2, r2, false);
	cxlemu_close(c2);
	destroy(c1, r1, false);
	cxlemu_close(c1);
}

int main(void)
{
	/* one group (one closing count): the memfd daemon per test, and
	 * the two-host one */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_map_at_256b_then_destroy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_offsets_and_end,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_way_says_why, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_two_hosts_share_a_file_backed_view, setup2,
			teardown2),
		cmocka_unit_test_setup_teardown(
			test_other_layout_falls_back_naming_it, setup2,
			teardown2),
		cmocka_unit_test_setup_teardown(
			test_stop_and_kill_leave_the_files_right, setup2,
			teardown2),
		cmocka_unit_test_setup_teardown(
			test_a_file_that_cannot_take_the_bytes, setup2,
			teardown2),
		cmocka_unit_test_setup_teardown(
			test_a_view_kept_until_its_bytes_are_written, setup2,
			teardown2),
		cmocka_unit_test_setup_teardown(
			test_one_way_over_an_unmapped_view, setup2, teardown2),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
