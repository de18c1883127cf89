/*
 * test_mbox_shared.c - a device shared by two hosts (their backends name
 * one file) is one device with two heads: poison injected through one head
 * is poison for the other; an erase through one head is refused while the
 * other host maps the media with a committed decoder; a sanitize disables
 * the media under both heads and completes for both.  A third host's own
 * device is a different device and sees none of it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "media/media.h"
#include "model/mbox.h"
#include "model/model.h"
#include "spec/mbox.h"
#include "util/util.h"

#define HOST(name, backend)                                                 \
	"[host " name "]\n"                                                 \
	"-machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G\n"                \
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"                   \
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"         \
	backend "\n"                                                        \
	"-device cxl-type3,bus=rp0,volatile-memdev=mem0,id=cxl-mem0\n"      \
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n"

struct world {
	char dir[64];
	struct cx_fabric *f;
	struct cx_memdev *m1, *m2, *m3; /* host1, host2: one device */
	uint64_t now;                   /* every head's mailbox clock */
	cx_err e;
};

static uint64_t clock_fn(void *ctx) { return *(uint64_t *)ctx; }

static struct cx_memdev *memdev0(struct world *w, const char *host)
{
	struct cx_host *h = cx_host_find(w->f, host);
	assert_non_null(h);
	struct cx_memdev *m = cx_memdev_find(h, "mem0");
	assert_non_null(m);
	assert_non_null(m->mbox);
	cx_mbox_set_clock(m, clock_fn, &w->now);
	return m;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	static const char fmt[] =
		HOST("host1", "%s") "\n" HOST("host2", "%s") "\n"
		HOST("host3", "-object memory-backend-ram,id=mem0,size=256M");
	char shared[160], text[sizeof(fmt) + 2 * sizeof(shared)];

	snprintf(w->dir, sizeof(w->dir), "/tmp/cxlemu-shared-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(shared, sizeof(shared),
		 "-object memory-backend-file,id=mem0,mem-path=%s/dev.raw,"
		 "size=256M,share=on", w->dir);
	snprintf(text, sizeof(text), fmt, shared, shared);
	w->now = 1000000000ULL;
	if (cx_config_load_text("shared.topo", text, &w->f, &w->e) ||
	    cx_fabric_start(w->f, &w->e))
		fail_msg("%s", w->e.msg);
	w->m1 = memdev0(w, "host1");
	w->m2 = memdev0(w, "host2");
	w->m3 = memdev0(w, "host3");
	struct cx_mbox_timing t = { .sanitize_ms = 1000 };
	cx_mbox_set_timing(w->m1, &t);
	cx_mbox_set_timing(w->m2, &t);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	cx_mbox_free_fabric(w->f);
	cx_fabric_free(w->f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

static uint16_t run(struct cx_memdev *m, uint16_t op, const void *in,
		    size_t len, uint8_t *out, size_t *out_len)
{
	static uint8_t scratch[CX_MBOX_PAYLOAD_MAX];
	size_t n = CX_MBOX_PAYLOAD_MAX;
	uint16_t rc = 0xffff;

	assert_int_equal(cx_mbox_exec(m, op, in, len, out ? out : scratch, &n,
				      &rc), 0);
	if (out_len)
		*out_len = n;
	return rc;
}

/* Media Operations, sanitize class, one range. */
static uint16_t ranged_erase(struct cx_memdev *m, uint8_t sub, uint64_t dpa,
			     uint64_t len)
{
	uint8_t mop[CX_MOP_HDR_LEN + CX_MOP_RANGE_SIZE] = { 0 };

	mop[CX_MOP_CLASS] = CX_MOP_CLASS_SANITIZE;
	mop[CX_MOP_SUBCLASS] = sub;
	cx_wr_le32(mop + CX_MOP_RANGE_COUNT, 1);
	cx_wr_le64(mop + CX_MOP_RANGES, dpa);
	cx_wr_le64(mop + CX_MOP_RANGES + 8, len);
	return run(m, CX_OP_MEDIA_OPERATIONS, mop, sizeof(mop), NULL, NULL);
}

/* Records Get Poison List reports over the whole device. */
static int poison_listed(struct cx_memdev *m)
{
	uint8_t in[CX_GPL_IN_LEN] = { 0 }, out[CX_MBOX_PAYLOAD_MAX];
	cx_wr_le64(in + CX_GPL_LENGTH, cx_mbox_capacity(m) / CX_CACHELINE);
	assert_int_equal(run(m, CX_OP_GET_POISON_LIST, in, sizeof(in), out,
			     NULL), CX_RC_SUCCESS);
	return cx_rd_le16(out + CX_GPL_COUNT);
}

static void test_poison_is_the_devices(void **state)
{
	struct world *w = *state;
	uint64_t bad = 0;
	uint8_t line[CX_CACHELINE];

	assert_ptr_equal(w->m1->mbox->dev, w->m2->mbox->dev);
	assert_ptr_not_equal(w->m1->mbox->dev, w->m3->mbox->dev);

	assert_int_equal(cx_inject_poison(w->m1, 0x10000, 128, &w->e), 0);
	/* the other head lists it and its reads of the line fail */
	assert_int_equal(poison_listed(w->m2), 1);
	assert_int_equal(cx_mbox_access_check(w->m2, 0x10040, 8, false, &bad,
					      &w->e), -EIO);
	assert_int_equal(bad, 0x10040);
	/* a second injection over it, through either head, overlaps */
	assert_int_equal(cx_inject_poison(w->m2, 0x10000, 64, &w->e), -EBUSY);
	/* host3's device is another device */
	assert_int_equal(poison_listed(w->m3), 0);
	assert_int_equal(cx_mbox_access_check(w->m3, 0x10040, 8, false, NULL,
					      &w->e), 0);

	/* Clear Poison through host2 writes the data and clears it for both */
	uint8_t cp[CX_CP_IN_LEN];
	memset(cp, 0xab, sizeof(cp));
	cx_wr_le64(cp + CX_CP_DPA, 0x10000);
	assert_int_equal(run(w->m2, CX_OP_CLEAR_POISON, cp, sizeof(cp), NULL,
			     NULL), CX_RC_SUCCESS);
	assert_int_equal(cx_mbox_access_check(w->m1, 0x10000, 64, false, NULL,
					      &w->e), 0);
	assert_int_equal(cx_mbox_access_check(w->m1, 0x10040, 64, false, NULL,
					      &w->e), -EIO);
	assert_int_equal(poison_listed(w->m1), 1);
	assert_int_equal(cx_media_read(w->m1->vmem, 0x10000, line,
				       sizeof(line), &w->e), 0);
	for (size_t i = 0; i < sizeof(line); i++)
		assert_int_equal(line[i], 0xab);
}

static bool media_is(struct cx_memdev *m, uint8_t byte)
{
	static uint8_t buf[1 << 20];
	for (uint64_t off = 0; off < m->vmem_size; off += sizeof(buf)) {
		cx_err e;
		assert_int_equal(cx_media_read(m->vmem, off, buf, sizeof(buf),
					       &e), 0);
		for (size_t i = 0; i < sizeof(buf); i += 4096)
			if (buf[i] != byte)
				return false;
	}
	return true;
}

static void test_erase_waits_for_every_head(void **state)
{
	struct world *w = *state;
	struct cx_region_req req = { .root = "decoder0.0",
				     .mode = CX_MODE_RAM };
	struct cx_region *r2 = NULL;
	uint8_t fill[1 << 16];

	memset(fill, 0x5a, sizeof(fill));
	for (uint64_t off = 0; off < w->m1->vmem_size; off += sizeof(fill))
		assert_int_equal(cx_media_write(w->m1->vmem, off, fill,
						sizeof(fill), &w->e), 0);

	/* host2 maps the whole device with a committed decoder */
	if (cx_region_create(cx_host_find(w->f, "host2"), &req, &r2, &w->e))
		fail_msg("%s", w->e.msg);
	assert_int_equal(run(w->m1, CX_OP_SANITIZE, NULL, 0, NULL, NULL),
			 CX_RC_BUSY);
	assert_int_equal(run(w->m1, CX_OP_SECURE_ERASE, NULL, 0, NULL, NULL),
			 CX_RC_BUSY);
	/* a ranged sanitize over host2's DPA through host1, likewise */
	assert_int_equal(ranged_erase(w->m1, CX_MOP_SANITIZE_ZERO, 0x100000,
				      64), CX_RC_BUSY);
	/* host3's device is not in use */
	assert_int_equal(run(w->m3, CX_OP_SECURE_ERASE, NULL, 0, NULL, NULL),
			 CX_RC_SUCCESS);
	assert_true(media_is(w->m1, 0x5a));

	/* once host2 lets go, host1's sanitize runs, for both heads */
	assert_int_equal(cx_region_destroy(r2, false, &w->e), 0);
	assert_int_equal(run(w->m1, CX_OP_SANITIZE, NULL, 0, NULL, NULL),
			 CX_RC_BG_STARTED);
	assert_int_equal(cx_mbox_access_check(w->m2, 0, 64, true, NULL, &w->e),
			 -ENXIO);
	assert_non_null(strstr(w->e.msg, "host host1's cxl-mem0"));
	assert_int_equal(run(w->m2, CX_OP_SANITIZE, NULL, 0, NULL, NULL),
			 CX_RC_BUSY);
	uint8_t gpl[CX_GPL_IN_LEN] = { 0 };
	assert_int_equal(run(w->m2, CX_OP_GET_POISON_LIST, gpl, sizeof(gpl),
			     NULL, NULL), CX_RC_MEDIA_DISABLED);
	assert_true(media_is(w->m2, 0x5a)); /* not before it completes */

	/* time passes; host2's next access completes host1's sanitize */
	w->now += 1000ULL * 1000000;
	assert_int_equal(cx_mbox_access_check(w->m2, 0, 64, false, NULL,
					      &w->e), 0);
	assert_true(media_is(w->m2, 0));
	struct cx_mbox_status st1;
	assert_int_equal(cx_mbox_status(w->m1, &st1), 0);
	assert_false(st1.bg_running);
	assert_int_equal(st1.media_status, 1);
	assert_true(st1.sanitize_done);
}

/* host2's ranged erase is pending: host1's sanitize would be written
 * over when both complete, so it waits, and says for whom. */
static void test_sanitize_waits_for_a_pending_ranged_erase(void **state)
{
	struct world *w = *state;
	char why[256];

	assert_int_equal(ranged_erase(w->m2, CX_MOP_SANITIZE_SANITIZE, 0,
				      4096), CX_RC_BG_STARTED);
	assert_int_equal(run(w->m1, CX_OP_SANITIZE, NULL, 0, NULL, NULL),
			 CX_RC_BUSY);
	assert_int_equal(cx_mbox_busy_reason(w->m1, CX_OP_SANITIZE, why,
					     sizeof(why)), 1);
	assert_non_null(strstr(why, "host host2's cxl-mem0"));
	assert_non_null(strstr(why, "Media Operations"));
	/* once it is done, the sanitize runs and its zeros stay */
	w->now += 3600ULL * 1000000000ULL;
	cx_mbox_poll(w->m1);
	assert_int_equal(run(w->m1, CX_OP_SANITIZE, NULL, 0, NULL, NULL),
			 CX_RC_BG_STARTED);
	w->now += 3600ULL * 1000000000ULL;
	cx_mbox_poll(w->m2);
	assert_true(media_is(w->m1, 0));
}

/* A ranged erase through host1 is refused over host2's region only; the
 * reason names host2, not host1's own region. */
static void test_ranged_erase_reason_names_the_other_head(void **state)
{
	struct world *w = *state;
	struct cx_region_req req = { .root = "decoder0.0",
				     .mode = CX_MODE_RAM };
	struct cx_region *r1 = NULL, *r2 = NULL;
	char why[256];

	if (cx_region_create(cx_host_find(w->f, "host1"), &req, &r1, &w->e) ||
	    cx_region_create(cx_host_find(w->f, "host2"), &req, &r2, &w->e))
		fail_msg("%s", w->e.msg);
	assert_int_equal(cx_mbox_busy_reason(w->m1, CX_OP_MEDIA_OPERATIONS,
					     why, sizeof(why)), 1);
	assert_non_null(strstr(why, "host host2's cxl-mem0"));
	assert_int_equal(cx_mbox_busy_reason(w->m1, CX_OP_SANITIZE, why,
					     sizeof(why)), 1);
	assert_non_null(strstr(why, "it has committed decoders"));
	assert_int_equal(cx_region_destroy(r2, false, &w->e), 0);
	/* only host1's own region left: no reason for a ranged erase */
	assert_int_equal(cx_mbox_busy_reason(w->m1, CX_OP_MEDIA_OPERATIONS,
					     why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(cx_region_destroy(r1, false, &w->e), 0);
}

/* A scan through host1 freezes the device's poison list for host2 too. */
static void test_scan_freezes_the_list_for_every_head(void **state)
{
	struct world *w = *state;
	uint8_t sm[CX_SM_IN_LEN] = { 0 }, ip[CX_IP_IN_LEN] = { 0 };
	uint8_t gpl[CX_GPL_IN_LEN] = { 0 }, out[CX_MBOX_PAYLOAD_MAX];

	cx_wr_le64(sm + CX_SM_LENGTH, 1024);
	assert_int_equal(run(w->m1, CX_OP_SCAN_MEDIA, sm, sizeof(sm), NULL,
			     NULL), CX_RC_BG_STARTED);
	cx_wr_le64(ip + CX_IP_DPA, 0x2000);
	assert_int_equal(run(w->m2, CX_OP_INJECT_POISON, ip, sizeof(ip), NULL,
			     NULL), CX_RC_SUCCESS);
	cx_wr_le64(gpl + CX_GPL_LENGTH, 1024);
	assert_int_equal(run(w->m2, CX_OP_GET_POISON_LIST, gpl, sizeof(gpl),
			     out, NULL), CX_RC_SUCCESS);
	assert_int_equal(cx_rd_le16(out + CX_GPL_COUNT), 0); /* not added */
	assert_true(out[CX_GPL_FLAGS] & CX_GPL_FLAG_SCANNING);
	w->now += 3600ULL * 1000000000ULL;
	assert_int_equal(run(w->m2, CX_OP_INJECT_POISON, ip, sizeof(ip), NULL,
			     NULL), CX_RC_SUCCESS);
	assert_int_equal(poison_listed(w->m1), 1);
}

/* Load and start topology `fmt`, whose two %s name a fresh temporary
 * directory (filled in `dir`); unload_tmp() undoes it. */
static struct cx_fabric *load_tmp(char *dir, const char *fmt)
{
	char text[4096];
	struct cx_fabric *f = NULL;
	cx_err e;

	strcpy(dir, "/tmp/cxlemu-shared-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), fmt, dir, dir);
	if (cx_config_load_text("shared.topo", text, &f, &e) ||
	    cx_fabric_start(f, &e))
		fail_msg("%s", e.msg);
	return f;
}

static void unload_tmp(struct cx_fabric *f, const char *dir)
{
	char cmd[128];

	cx_fabric_free(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Memdevs that only overlap in one file, at different DPAs, are two
 * devices: poison at host B's DPA 0 is not host A's DPA 0. */
static void test_overlapping_layouts_are_separate_devices(void **state)
{
	char dir[32];
	cx_err e;

	(void)state;
	struct cx_fabric *f = load_tmp(dir,
		 "[host a]\n-machine q35,cxl=on\n"
		 "-object memory-backend-ram,id=r,size=256M\n"
		 "-object memory-backend-ram,id=l,size=64K\n"
		 "-object memory-backend-file,id=p,mem-path=%s/p.raw,"
		 "size=256M,share=on\n"
		 "-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
		 "-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0\n"
		 "-device cxl-type3,bus=rp0,volatile-memdev=r,"
		 "persistent-memdev=p,lsa=l,id=d\n"
		 "-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n"
		 "[host b]\n-machine q35,cxl=on\n"
		 "-object memory-backend-ram,id=l,size=64K\n"
		 "-object memory-backend-file,id=p,mem-path=%s/p.raw,"
		 "size=256M,share=on\n"
		 "-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
		 "-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0\n"
		 "-device cxl-type3,bus=rp0,persistent-memdev=p,lsa=l,id=d\n"
		 "-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n");
	struct cx_memdev *a = cx_memdev_find(cx_host_find(f, "a"), "mem0");
	struct cx_memdev *b = cx_memdev_find(cx_host_find(f, "b"), "mem0");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a->mbox->dev, b->mbox->dev);
	assert_int_equal(cx_inject_poison(b, 0, 64, &e), 0);
	assert_int_equal(cx_poison_check(a, 0, 64, NULL), 0);
	unload_tmp(f, dir);
}

/* Two devices on one host whose backends name one file are two heads of
 * one device: a region interleaving them would map each DPA twice, so it
 * is refused, naming both. */
static void test_no_region_over_two_heads_of_one_device(void **state)
{
	char dir[32];
	struct cx_region *r = NULL;
	struct cx_region_req req = { .root = "decoder0.0",
				     .mode = CX_MODE_RAM };
	cx_err e;

	(void)state;
	struct cx_fabric *f = load_tmp(dir,
		 "-machine q35,cxl=on\n"
		 "-object memory-backend-file,id=a,mem-path=%s/d.raw,"
		 "size=256M,share=on\n"
		 "-object memory-backend-file,id=b,mem-path=%s/d.raw,"
		 "size=256M,share=on\n"
		 "-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
		 "-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0\n"
		 "-device cxl-rp,id=rp1,bus=cxl.0,port=1,chassis=0,slot=1\n"
		 "-device cxl-type3,bus=rp0,volatile-memdev=a,id=d0\n"
		 "-device cxl-type3,bus=rp1,volatile-memdev=b,id=d1\n"
		 "-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n");
	struct cx_host *h = f->hosts.v[0];
	assert_int_equal(cx_region_create(h, &req, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "mem0 and mem1 are heads of one device"));
	/* each alone is fine */
	req.memdevs[0] = "mem1";
	req.nmemdevs = 1;
	assert_int_equal(cx_region_create(h, &req, &r, &e), 0);
	unload_tmp(f, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poison_is_the_devices,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_waits_for_every_head,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sanitize_waits_for_a_pending_ranged_erase, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_ranged_erase_reason_names_the_other_head, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_scan_freezes_the_list_for_every_head, setup,
			teardown),
		cmocka_unit_test(test_overlapping_layouts_are_separate_devices),
		cmocka_unit_test(test_no_region_over_two_heads_of_one_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
