/*
 * test_dax.c - device-DAX end to end: a daemon forked on a temporary
 * socket, a program attached through the client library.  Bytes stored
 * through a 4-way mapping must be found in each device's backing file at
 * the DPA the routing gives; sub-page interleave over file-backed media
 * maps through the region's view, whose flushed bytes are in the files
 * at their DPAs, and the exact paths agree with it; a mapped region must not be
 * destroyable, until its client closes or dies; persistent stores must
 * survive a restart once flushed; and one host's mapping must not disturb
 * another host sharing the device.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "cxlemu/coherency.h"
#include "cxlemu/dax.h"
#include "server/server.h"
#include "daemon_fixture.h"

/* host1: two bridges x two root ports x four 512 MiB file-backed devices
 * (volatile 256 MiB + persistent 256 MiB each), a 4 KiB window and a 256 B
 * window over both bridges.  host2: the same first device's files behind
 * its own bridge. */
static const char topo_fmt[] =
	"[host host1]\n"
	"-machine q35,cxl=on -m 4G,maxmem=8G,slots=8\n"
	"-object memory-backend-file,id=v0,mem-path=%1$s/v0,size=256M,share=on\n"
	"-object memory-backend-file,id=v1,mem-path=%1$s/v1,size=256M,share=on\n"
	"-object memory-backend-file,id=v2,mem-path=%1$s/v2,size=256M,share=on\n"
	"-object memory-backend-file,id=v3,mem-path=%1$s/v3,size=256M,share=on\n"
	"-object memory-backend-file,id=p0,mem-path=%1$s/p0,size=256M,share=on\n"
	"-object memory-backend-file,id=l0,mem-path=%1$s/l0,size=128K,share=on\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device pxb-cxl,bus_nr=222,bus=pcie.0,id=cxl.2\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1\n"
	"-device cxl-rp,port=0,bus=cxl.2,id=rp2,chassis=0,slot=2\n"
	"-device cxl-rp,port=1,bus=cxl.2,id=rp3,chassis=0,slot=3\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,persistent-memdev=p0,lsa=l0,id=d0\n"
	"-device cxl-type3,bus=rp1,volatile-memdev=v1,id=d1\n"
	"-device cxl-type3,bus=rp2,volatile-memdev=v2,id=d2\n"
	"-device cxl-type3,bus=rp3,volatile-memdev=v3,id=d3\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
	"cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=4k\n"
	"-M cxl-fmw.1.targets.0=cxl.1,cxl-fmw.1.targets.1=cxl.2,"
	"cxl-fmw.1.size=4G,cxl-fmw.1.interleave-granularity=256\n"
	"-M cxl-fmw.2.targets.0=cxl.1,cxl-fmw.2.size=4G\n"
	"[host host2]\n"
	"-machine q35,cxl=on\n"
	"-object memory-backend-file,id=v0,mem-path=%1$s/v0,size=256M,share=on\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=v0,id=h2d0\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

static struct fx_daemon S;
static char *S_text;

static void srv_start(void) { fx_daemon_start(&S, S_text, NULL, NULL); }
static void srv_stop(void) { fx_daemon_stop(&S); }

static int setup(void **state)
{
	fx_daemon_dir(&S, "dax");
	S_text = cx_xasprintf(topo_fmt, S.dir);
	srv_start();
	return 0;
}

static int teardown(void **state)
{
	srv_stop();
	fx_daemon_rmdir(&S);
	free(S_text);
	return 0;
}

static struct cxlemu *conn(const char *host)
{
	return fx_daemon_conn(&S, host);
}

/* Create a region; return its id. */
static int region(struct cxlemu *c, const char *root, const char *type,
		  const char *const *mds, int n)
{
	struct cxlemu_region_req rq = { .root = root, .type = type,
					.memdevs = mds, .nmemdevs = n };
	struct json_object *j;
	struct cxlemu_err err;
	if (cxlemu_create_region(c, &rq, &j, &err))
		fail_msg("create-region: %s", err.msg);
	int id = atoi(json_object_get_string(json_object_object_get(j, "region")) + 6);
	json_object_put(j);
	return id;
}

static int destroy(struct cxlemu *c, int id, struct cxlemu_err *err)
{
	char name[32];
	snprintf(name, sizeof(name), "region%d", id);
	return cxlemu_destroy_region(c, name, false, NULL, err);
}

/* The byte at region offset `off` read straight from its device's file
 * (devices d0..d3 have volatile files v0..v3 at DPA 0). */
static uint8_t file_byte(struct cxlemu *c, int id, uint64_t off)
{
	return fx_file_byte(c, id, off, S.dir, 'v');
}

static const char *const FOUR[] = { "mem0", "mem2", "mem1", "mem3" };

static void test_4way_mapping_lands_at_routed_dpa(void **state)
{
	struct cxlemu *c = conn("host1");
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	uint8_t *p;
	int id = region(c, "decoder0.0", "ram", FOUR, 4);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);

	/* a ram region's device starts in system-ram mode, as on Linux */
	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "reconfigure-device"));
	assert_int_equal(fx_dax_reconfigure(c, id, "devdax", &err), 0);

	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), 0);
	assert_int_equal(cxlemu_dax_ways(d), 4);
	assert_int_equal(cxlemu_dax_granularity(d), 4096);
	uint64_t len = 8 << 20;
	assert_int_equal(cxlemu_dax_map(d, 0, len, PROT_READ | PROT_WRITE,
					(void **)&p, &err), 0);
	for (uint64_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i >> 12) * 31 + (i & 0xff));
	/* flushed: the stores are in the backing files, each at its DPA */
	assert_int_equal(cxlemu_dax_flush(d, p, len, &err), 0);
	for (uint64_t off = 0; off < len; off += 4096 + 1111)
		assert_int_equal(file_byte(c, id, off), p[off]);
	/* one granule per device in the first 16 KiB */
	for (int k = 0; k < 4; k++)
		assert_int_equal(file_byte(c, id, (uint64_t)k * 4096 + 5),
				 p[k * 4096 + 5]);

	/* past the end */
	void *q;
	assert_int_equal(cxlemu_dax_map(d, cxlemu_dax_size(d), 4096, PROT_READ,
					&q, &err), -ERANGE);
	assert_int_equal(cxlemu_dax_read(d, cxlemu_dax_size(d) - 1, &q, 2, &err),
			 -ERANGE);

	/* mapped: the region cannot be destroyed */
	assert_int_equal(destroy(c, id, &err), -EBUSY);
	munmap(p, len);
	cxlemu_dax_close(d);
	assert_int_equal(destroy(c, id, &err), 0);
	cxlemu_close(c);
}

static void test_256B_file_backed_maps_through_its_view(void **state)
{
	struct cxlemu *c = conn("host1");
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	uint8_t *p;
	int id = region(c, "decoder0.1", "ram", FOUR, 4);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	assert_int_equal(fx_dax_reconfigure(c, id, "devdax", &err), 0);
	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), 0);
	/* share=on files no QEMU guest maps: the region's view, a working
	 * copy in region order, so 256 B granules map in one mapping */
	const char *why = NULL;
	if (!cxlemu_dax_view(d, &why))
		fail_msg("no view: %s", why);
	size_t n = 3 << 20;
	assert_int_equal(cxlemu_dax_map(d, 0, 4 << 20, PROT_READ | PROT_WRITE,
					(void **)&p, &err), 0);
	uint8_t *buf = malloc(n), *back = malloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 13 + (i >> 8));
	memcpy(p + 777, buf, n);
	/* flushed: in the backing files, each byte at its routed DPA */
	assert_int_equal(cxlemu_dax_flush(d, p, 4 << 20, &err), 0);
	for (uint64_t off = 777; off < 777 + n; off += 256 * 7 + 3)
		assert_int_equal(file_byte(c, id, off), buf[off - 777]);
	assert_int_equal(cxlemu_dax_read(d, 777, back, n, &err), 0);
	assert_memory_equal(buf, back, n);
	/* the client's exact path writes into the view too */
	assert_int_equal(cxlemu_dax_write(d, 5, "client", 6, &err), 0);
	assert_memory_equal(p + 5, "client", 6);
	/* the daemon's exact path agrees with the client's */
	char reg[32];
	snprintf(reg, sizeof(reg), "region%d", id);
	assert_int_equal(cxlemu_read(c, reg, 777, back, 65536, &err), 0);
	assert_memory_equal(buf, back, 65536);
	free(buf);
	free(back);
	munmap(p, 4 << 20);
	cxlemu_dax_close(d);
	assert_int_equal(destroy(c, id, &err), 0);
	cxlemu_close(c);
}

static void test_dead_client_releases_mapping(void **state)
{
	struct cxlemu *c = conn("host1");
	struct cxlemu_err err;
	int id = region(c, "decoder0.0", "ram", FOUR, 4);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	assert_int_equal(fx_dax_reconfigure(c, id, "devdax", &err), 0);

	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct cxlemu *cc;
		struct cxlemu_dax *d;
		void *m;
		if (cxlemu_connect(S.sock, "host1", &cc, &err) ||
		    cxlemu_dax_open(cc, dev, &d, &err) ||
		    cxlemu_dax_map(d, 0, 2 << 20, PROT_READ | PROT_WRITE, &m, &err))
			_exit(1);
		memcpy(m, "written before dying", 21);
		if (write(p[1], "m", 1) != 1)
			_exit(2);
		pause(); /* killed while mapped */
		_exit(0);
	}
	char ch;
	close(p[1]);
	assert_int_equal(read(p[0], &ch, 1), 1);
	close(p[0]);
	assert_int_equal(destroy(c, id, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "mapped"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* the daemon notices the closed connection; then destroy works */
	int rc = -1;
	for (int i = 0; i < 3000 && rc; i++) {
		rc = destroy(c, id, &err);
		if (rc)
			usleep(10000);
	}
	assert_int_equal(rc, 0);
	cxlemu_close(c);
}

/* host1's x1 ram region over d0 and host2's over the same file, both
 * devdax: their device names in dev1, dev2 (32 bytes each). */
static void shared_devdax(struct cxlemu *c1, struct cxlemu *c2, char *dev1,
			  char *dev2)
{
	struct cxlemu_err err;
	static const char *const ONE[] = { "mem0" };
	int id1 = region(c1, "decoder0.2", "ram", ONE, 1);
	int id2 = region(c2, "decoder0.0", "ram", ONE, 1);
	assert_int_equal(fx_dax_reconfigure(c1, id1, "devdax", &err), 0);
	assert_int_equal(fx_dax_reconfigure(c2, id2, "devdax", &err), 0);
	snprintf(dev1, 32, "dax%d.0", id1);
	snprintf(dev2, 32, "dax%d.0", id2);
}

static void test_unknown_device_and_other_host(void **state)
{
	struct cxlemu *c1 = conn("host1"), *c2 = conn("host2");
	struct cxlemu_dax *d1, *d2;
	struct cxlemu_err err;
	assert_int_equal(cxlemu_dax_open(c2, "dax9.0", &d2, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "host2"));

	/* host1 maps its x1 ram region over d0; host2 its own over the same
	 * file: each sees the other's stores, and host1's client going away
	 * costs host2 nothing */
	char dev1[32], dev2[32];
	shared_devdax(c1, c2, dev1, dev2);
	char *m1, *m2;
	assert_int_equal(cxlemu_dax_open(c1, dev1, &d1, &err), 0);
	assert_int_equal(cxlemu_dax_open(c2, dev2, &d2, &err), 0);
	assert_int_equal(cxlemu_dax_map(d1, 0, 2 << 20, PROT_READ | PROT_WRITE,
					(void **)&m1, &err), 0);
	assert_int_equal(cxlemu_dax_map(d2, 0, 2 << 20, PROT_READ | PROT_WRITE,
					(void **)&m2, &err), 0);
	strcpy(m1, "Hello from instance 1!");
	assert_string_equal(m2, "Hello from instance 1!");
	munmap(m1, 2 << 20);
	cxlemu_dax_close(d1);
	cxlemu_close(c1);
	strcpy(m2 + 100, "still here");
	assert_string_equal(m2, "Hello from instance 1!");
	munmap(m2, 2 << 20);
	cxlemu_dax_close(d2);
	cxlemu_close(c2);
}

/* Two hosts on one shared device, both non-coherent: host2's device by
 * the daemon's mode (and `dax list` says so), host1's by the library
 * call.  Stores cross only by flush and invalidate, and the checker
 * names the host that wrote a line back. */
static void test_noncoherent_hosts_share_through_flush(void **state)
{
	struct cxlemu *c1 = conn("host1"), *c2 = conn("host2");
	struct cxlemu_dax *d1, *d2;
	struct cxlemu_err err;
	char dev1[32], dev2[32];
	shared_devdax(c1, c2, dev1, dev2);
	struct cxlemu_reply rep;
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "device", json_object_new_string(dev2));
	json_object_object_add(a, "coherency", json_object_new_string("noncoherent"));
	assert_int_equal(cxlemu_call(c2, "dax-reconfigure", a, NULL, 0, &rep,
				     &err), 0);
	cxlemu_reply_release(&rep);
	assert_int_equal(cxlemu_call(c2, "dax-list", NULL, NULL, 0, &rep, &err), 0);
	assert_non_null(strstr(json_object_to_json_string_ext(rep.result, JSON_C_TO_STRING_PLAIN),
			       "\"coherency\":\"noncoherent\""));
	cxlemu_reply_release(&rep);
	assert_int_equal(cxlemu_call(c1, "dax-list", NULL, NULL, 0, &rep, &err), 0);
	assert_null(strstr(json_object_to_json_string_ext(rep.result, JSON_C_TO_STRING_PLAIN), "coherency"));
	cxlemu_reply_release(&rep);

	int log = memfd_create("log", MFD_CLOEXEC);
	struct cxlemu_coh_config cfg;
	cxlemu_coh_config_default(&cfg);
	cfg.log_fd = log;
	assert_int_equal(cxlemu_coh_configure(&cfg, &err), 0);
	char *m1, *m2;
	assert_int_equal(cxlemu_dax_open(c1, dev1, &d1, &err), 0);
	assert_int_equal(cxlemu_dax_open(c2, dev2, &d2, &err), 0);
	assert_int_equal(cxlemu_dax_coherency(d1), CXLEMU_COHERENT);
	assert_int_equal(cxlemu_dax_coherency(d2), CXLEMU_NONCOHERENT);
	assert_int_equal(cxlemu_dax_set_coherency(d1, CXLEMU_NONCOHERENT, &err), 0);
	assert_int_equal(cxlemu_dax_map(d1, 0, 2 << 20, PROT_READ | PROT_WRITE,
					(void **)&m1, &err), 0);
	assert_int_equal(cxlemu_dax_map(d2, 0, 2 << 20, PROT_READ | PROT_WRITE,
					(void **)&m2, &err), 0);
	assert_int_equal(m2[0], 0);                     /* host2 caches it */
	strcpy(m1, "Hello from instance 1!");
	assert_int_equal(m2[0], 0);
	cxlemu_flush(m1, 64);
	cxlemu_fence();
	assert_int_equal(((volatile char *)m2)[0], 0);  /* stale: reported */
	cxlemu_invalidate(m2, 64);
	assert_string_equal(m2, "Hello from instance 1!");
	char text[4096] = "";
	assert_true(pread(log, text, sizeof(text) - 1, 0) > 0);
	char want[128];
	snprintf(want, sizeof(want), "stale read: %s+0 (line 0) on host2 pid "
		 "%d", dev2, (int)getpid());
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "host1 pid"));
	assert_int_equal(cxlemu_dax_unmap(m1, 2 << 20, &err), 0);
	assert_int_equal(cxlemu_dax_unmap(m2, 2 << 20, &err), 0);
	cxlemu_dax_close(d1);
	cxlemu_dax_close(d2);
	assert_int_equal(cxlemu_destroy_region(c1, "all", true, NULL, &err), 0);
	assert_int_equal(cxlemu_destroy_region(c2, "all", true, NULL, &err), 0);
	cxlemu_close(c1);
	cxlemu_close(c2);
	cfg.log_fd = -1;
	assert_int_equal(cxlemu_coh_configure(&cfg, &err), 0);
	close(log);
}

static void test_persistent_flush_survives_restart(void **state)
{
	struct cxlemu *c = conn("host1");
	struct cxlemu_dax *d;
	struct cxlemu_err err;
	static const char *const ONE[] = { "mem0" };
	char *m;
	int id = region(c, "decoder0.2", "pmem", ONE, 1);
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	/* persistent regions come up as device-DAX */
	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), 0);
	assert_int_equal(cxlemu_dax_map(d, 0, 2 << 20, PROT_READ | PROT_WRITE,
					(void **)&m, &err), 0);
	strcpy(m + 4096, "durable bytes");
	assert_int_equal(cxlemu_dax_flush(d, m + 4096, 14, &err), 0);
	munmap(m, 2 << 20);
	cxlemu_dax_close(d);
	cxlemu_close(c);

	srv_stop();
	srv_start();
	c = conn("host1");
	id = region(c, "decoder0.2", "pmem", ONE, 1);
	snprintf(dev, sizeof(dev), "dax%d.0", id);
	assert_int_equal(cxlemu_dax_open(c, dev, &d, &err), 0);
	char buf[14];
	assert_int_equal(cxlemu_dax_read(d, 4096, buf, 14, &err), 0);
	assert_string_equal(buf, "durable bytes");
	cxlemu_dax_close(d);
	cxlemu_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_4way_mapping_lands_at_routed_dpa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_256B_file_backed_maps_through_its_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_client_releases_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_device_and_other_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noncoherent_hosts_share_through_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_flush_survives_restart, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
