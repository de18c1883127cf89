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
 */
#include <errno.h>
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

#define MiB (1ULL << 20)
#define SPAN (4 * MiB)
#define SIGBUS_EXIT 77

/* four volatile memfd devices under two bridges; windows at 256 B and
 * 4 KiB over both bridges, and one over the first bridge alone */
static const char topo[] =
	"[host host1]\n"
	"-machine q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
	"-object memory-backend-ram,id=v0,size=512M\n"
	"-object memory-backend-ram,id=v1,size=512M\n"
	"-object memory-backend-ram,id=v2,size=512M\n"
	"-object memory-backend-ram,id=v3,size=512M\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device pxb-cxl,bus_nr=64,bus=pcie.0,id=cxl.2\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1\n"
	"-device cxl-rp,port=0,bus=cxl.2,id=rp2,chassis=0,slot=2\n"
	"-device cxl-rp,port=1,bus=cxl.2,id=rp3,chassis=0,slot=3\n"
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
	if (D.pid > 0)
		fx_daemon_stop(&D);
	fx_daemon_rmdir(&D);
	return 0;
}

static struct cxlemu *conn(void)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	if (cxlemu_connect(D.sock, "host1", &c, &err))
		fail_msg("connect: %s", err.msg);
	return c;
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
	struct cxlemu_reply rep;
	if (cxlemu_create_region(c, &rq, &r, &err))
		fail_msg("create-region: %s", err.msg);
	assert_true(json_object_object_get_ex(r, "region", &id));
	int k = atoi(json_object_get_string(id) + strlen("region"));
	json_object_put(r);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", k);
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "device", json_object_new_string(dev));
	json_object_object_add(a, "mode", json_object_new_string("devdax"));
	if (cxlemu_call(c, "dax-reconfigure", a, NULL, 0, &rep, &err))
		fail_msg("reconfigure: %s", err.msg);
	cxlemu_reply_release(&rep);
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

static void on_bus(int sig)
{
	(void)sig;
	_exit(SIGBUS_EXIT);
}

struct mapper {
	pid_t pid;
	int to, from;
};

/* The child: open, check it is a view, map SPAN at 256 B, store
 * pattern(seed), read it back through the client's exact path, close
 * the handle if asked (the mapping stays), say 'M'; on 'w' store
 * pattern(seed + 1) over the first page. */
static void mapper_main(int id, int seed, bool close_handle, int in, int out)
{
	struct sigaction sa;
	struct cxlemu *c;
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	uint8_t *p;
	char dev[32], cmd;
	const char *why;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, NULL);
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	if (cxlemu_connect(D.sock, "host1", &c, &err) ||
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
		p[i] = pattern(i, seed);
	uint8_t buf[5000];
	if (cxlemu_dax_read(d, 300000, buf, sizeof(buf), &err) ||
	    memcmp(buf, p + 300000, sizeof(buf))) {
		fprintf(stderr, "mapper: the exact path disagrees\n");
		_exit(5);
	}
	if (close_handle) {
		cxlemu_dax_close(d);
		cxlemu_close(c);
	}
	if (write(out, "M", 1) != 1 || read(in, &cmd, 1) != 1)
		_exit(6);
	for (uint64_t i = 0; i < 4096; i++)
		p[i] = pattern(i, seed + 1);
	if (write(out, "D", 1) != 1)
		_exit(7);
	_exit(0);
}

static void mapper_start(struct mapper *m, int id, int seed, bool close_h)
{
	int a[2], b[2];
	char r;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	fflush(NULL);
	m->pid = fork();
	assert_true(m->pid >= 0);
	if (m->pid == 0) {
		close(a[1]);
		close(b[0]);
		mapper_main(id, seed, close_h, a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	m->to = a[1];
	m->from = b[0];
	if (read(m->from, &r, 1) != 1 || r != 'M') {
		int st;
		waitpid(m->pid, &st, 0);
		fail_msg("the mapping program did not map (status %#x)", st);
	}
}

static int mapper_store(struct mapper *m)
{
	int st;
	assert_int_equal(write(m->to, "w", 1), 1);
	assert_int_equal(waitpid(m->pid, &st, 0), m->pid);
	close(m->to);
	close(m->from);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The daemon's exact path reads pattern(seed) over SPAN. */
static void expect_pattern(struct cxlemu *c, int id, int seed)
{
	char name[32];
	struct cxlemu_err err;
	uint8_t *buf = malloc(SPAN);
	assert_non_null(buf);
	snprintf(name, sizeof(name), "region%d", id);
	if (cxlemu_read(c, name, 0, buf, SPAN, &err))
		fail_msg("read: %s", err.msg);
	for (uint64_t i = 0; i < SPAN; i++)
		if (buf[i] != pattern(i, seed))
			fail_msg("region%d byte %#llx is %#x, not %#x (seed %d)",
				 id, (unsigned long long)i, buf[i],
				 pattern(i, seed), seed);
	free(buf);
}

static void test_map_at_256b_then_destroy(void **state)
{
	struct cxlemu *c = conn();
	struct mapper m;

	/* forced while the handle is open */
	int id = region4(c);
	mapper_start(&m, id, 1, false);
	expect_pattern(c, id, 1);
	destroy(c, id, true);
	assert_int_equal(mapper_store(&m), SIGBUS_EXIT);
	id = region4(c);     /* the same DPAs: the bytes from before */
	expect_pattern(c, id, 1);
	destroy(c, id, false);

	/* the handle closed, the mapping kept: no force needed */
	id = region4(c);
	mapper_start(&m, id, 2, true);
	destroy(c, id, false);
	assert_int_equal(mapper_store(&m), SIGBUS_EXIT);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_at_256b_then_destroy),
		cmocka_unit_test(test_view_offsets_and_end),
		cmocka_unit_test(test_one_way_says_why),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
