/*
 * test_sysfs.c - a host's sysfs view (src/sysfs): what device-DAX programs
 * find there, and path resolution with the kernel's rules.
 *
 * A region's DAX device must appear under /sys/bus/dax/devices, as
 * /sys/dev/char/252:MINOR and as /dev/daxZ.0 with the region's size,
 * address and alignment; realpath of its `subsystem` must be /sys/bus/dax
 * (what fio and PMDK test); links must read as the relative text Linux
 * writes; a device in system-ram mode is bound to kmem; a destroyed
 * region's device is gone.  Resolution follows links in the middle of a
 * path and at its end (not with nofollow, unless a trailing slash asks),
 * climbs ".." from where a link led, and ends loops with ELOOP.
 */
#include <errno.h>

#include "fixture.h"
#include "model/dax.h"
#include "model/mbox.h"
#include "model/view.h"
#include "sysfs/sysfs.h"

static struct fx *one_region(struct cx_region **r)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 4096);
	fx_start(x);
	*r = fx_create_ok(x, "decoder0.0", "mem0,mem1", CX_MODE_RAM, 0);
	(*r)->dax_system_ram = false;
	return x;
}

static void expect_read(struct cx_sysfs *t, const char *path,
			const char *want)
{
	struct cx_sysfs_node *n;
	cx_err e;
	char buf[CX_SYSFS_ATTR_MAX];
	int rc = cx_sysfs_lookup(t, path, false, &n, NULL, 0, &e);
	if (rc)
		fail_msg("%s: %s", path, e.msg);
	int len = cx_sysfs_read(n, buf, sizeof(buf), &e);
	assert_true(len >= 0);
	buf[len] = 0;
	assert_string_equal(buf, want);
}

static void expect_canon(struct cx_sysfs *t, const char *path, bool nofollow,
			 const char *want)
{
	struct cx_sysfs_node *n;
	cx_err e;
	char canon[CX_SYSFS_PATH_MAX];
	int rc = cx_sysfs_lookup(t, path, nofollow, &n, canon, sizeof(canon),
				 &e);
	if (rc)
		fail_msg("%s: %s", path, e.msg);
	assert_string_equal(canon, want);
}

static int lookup_rc(struct cx_sysfs *t, const char *path, cx_err *e)
{
	struct cx_sysfs_node *n;
	return cx_sysfs_lookup(t, path, false, &n, NULL, 0, e);
}

#define DEVDIR "/sys/devices/platform/ACPI0017:00/root0/decoder0.0/" \
	       "region0/dax_region0/dax0.0"

static void test_dax_device(void **state)
{
	struct cx_region *r;
	struct fx *x = one_region(&r);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	char buf[64];

	/* what fio, PMDK and libdaxctl look at */
	expect_canon(t, "/sys/dev/char/252:0/subsystem", false, "/sys/bus/dax");
	expect_canon(t, "/sys/bus/dax/devices/dax0.0", false, DEVDIR);
	expect_canon(t, "/sys/dev/char/252:0", false, DEVDIR);
	snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)r->size);
	expect_read(t, "/sys/dev/char/252:0/size", buf);
	expect_read(t, "/sys/dev/char/252:0/align", "2097152\n");
	expect_read(t, "/sys/bus/dax/devices/dax0.0/dev", "252:0\n");
	snprintf(buf, sizeof(buf), "0x%llx\n", (unsigned long long)r->base);
	expect_read(t, "/sys/bus/dax/devices/dax0.0/resource", buf);
	expect_read(t, "/sys/bus/dax/devices/dax0.0/mapping0/page_offset",
		    "0x0\n");
	expect_read(t, "/sys/bus/dax/devices/dax0.0/target_node", "1\n");
	expect_read(t, DEVDIR "/../dax_region/id", "0\n");
	expect_canon(t, "/sys/bus/dax/devices/dax0.0/driver", false,
		     "/sys/bus/dax/drivers/device_dax");

	/* the device node */
	struct cx_sysfs_node *n;
	cx_err e;
	assert_int_equal(cx_sysfs_lookup(t, "/dev/dax0.0", false, &n, NULL, 0,
					 &e), 0);
	assert_int_equal(n->type, CX_SYSFS_CHR);
	assert_int_equal(n->major, 252);
	assert_int_equal(n->minor, 0);
	assert_int_equal(cx_sysfs_st_mode(n), 0020600);

	/* links read as Linux writes them: relative */
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/dax/devices/dax0.0", true,
					 &n, NULL, 0, &e), 0);
	assert_int_equal(n->type, CX_SYSFS_LINK);
	char text[CX_SYSFS_PATH_MAX];
	cx_sysfs_readlink(n, text, sizeof(text));
	assert_string_equal(text, "../../../devices/platform/ACPI0017:00/root0/"
			    "decoder0.0/region0/dax_region0/dax0.0");
	assert_int_equal(cx_sysfs_lookup(t, DEVDIR "/subsystem", true, &n,
					 NULL, 0, &e), 0);
	cx_sysfs_readlink(n, text, sizeof(text));
	assert_string_equal(text, "../../../../../../../../bus/dax");
	assert_int_equal(cx_sysfs_lookup(t, "/sys/dev/char/252:0", true, &n,
					 NULL, 0, &e), 0);
	cx_sysfs_readlink(n, text, sizeof(text));
	assert_string_equal(text, "../../devices/platform/ACPI0017:00/root0/"
			    "decoder0.0/region0/dax_region0/dax0.0");
	cx_sysfs_free(t);

	/* system-ram: bound to kmem */
	r->dax_system_ram = true;
	t = cx_sysfs_build(x->h);
	expect_canon(t, "/sys/bus/dax/devices/dax0.0/driver", false,
		     "/sys/bus/dax/drivers/kmem");
	expect_canon(t, "/sys/bus/dax/drivers/kmem/dax0.0", false, DEVDIR);
	assert_int_equal(lookup_rc(t, "/sys/bus/dax/drivers/device_dax/dax0.0",
				   &e), -ENOENT);
	cx_sysfs_free(t);

	/* destroyed: gone everywhere */
	fx_destroy_ok(x, r);
	t = cx_sysfs_build(x->h);
	assert_int_equal(lookup_rc(t, "/dev/dax0.0", &e), -ENOENT);
	assert_int_equal(lookup_rc(t, "/sys/dev/char/252:0", &e), -ENOENT);
	assert_int_equal(lookup_rc(t, "/sys/bus/dax/devices/dax0.0", &e),
			 -ENOENT);
	assert_int_equal(lookup_rc(t, "/sys/bus/dax/devices", &e), 0);
	cx_sysfs_free(t);
	fx_free(x);
}

static void test_minor_numbers(void **state)
{
	struct cx_region *r;
	struct fx *x = one_region(&r);
	fx_destroy_ok(x, r);
	/* the next region is region1: dax1.0 is 252:256 */
	r = fx_create_ok(x, "decoder0.0", "mem0,mem1", CX_MODE_RAM, 0);
	assert_int_equal(r->id, 1);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	expect_read(t, "/sys/bus/dax/devices/dax1.0/dev", "252:256\n");
	expect_canon(t, "/sys/dev/char/252:256", false,
		     "/sys/devices/platform/ACPI0017:00/root0/decoder0.0/"
		     "region1/dax_region1/dax1.0");
	cx_sysfs_free(t);
	fx_free(x);
}

static void test_resolution_rules(void **state)
{
	struct cx_region *r;
	struct fx *x = one_region(&r);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	cx_err e;

	/* a trailing slash follows the last link even with nofollow */
	expect_canon(t, "/sys/dev/char/252:0", true, "/sys/dev/char/252:0");
	expect_canon(t, "/sys/dev/char/252:0/", true, DEVDIR);
	/* ".." climbs from where the link led, not from the link */
	expect_canon(t, "/sys/bus/dax/devices/dax0.0/..", false,
		     "/sys/devices/platform/ACPI0017:00/root0/decoder0.0/"
		     "region0/dax_region0");
	expect_canon(t, "//sys/./bus//dax/", false, "/sys/bus/dax");
	expect_canon(t, "/..", false, "/");

	assert_int_equal(lookup_rc(t, "/sys/bus/dax/nothing", &e), -ENOENT);
	assert_non_null(strstr(e.msg, "nothing"));
	assert_int_equal(lookup_rc(t, "/sys/dev/char/252:0/size/x", &e),
			 -ENOTDIR);
	assert_int_equal(lookup_rc(t, "sys/bus", &e), -ENOENT);

	/* reading: directories and write-only attributes refuse */
	struct cx_sysfs_node *n;
	char buf[CX_SYSFS_ATTR_MAX];
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/dax", false, &n, NULL, 0,
					 &e), 0);
	assert_int_equal(cx_sysfs_read(n, buf, sizeof(buf), &e), -EISDIR);
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/dax/drivers/kmem/bind",
					 false, &n, NULL, 0, &e), 0);
	assert_int_equal(cx_sysfs_read(n, buf, sizeof(buf), &e), -EACCES);
	/* a store of nothing (sysfs-write with neither "data" nor a raw
	 * frame) is an empty store, not a copy from no buffer */
	assert_true(cx_sysfs_write_at(n, NULL, 0, 0, &e) <= 0);

	/* a loop of links ends */
	struct cx_sysfs_node *d = cx_sysfs_mkdirs(t, "/loop");
	cx_sysfs_link(d, "a", "/loop/b");
	cx_sysfs_link(d, "b", "/loop/a");
	assert_int_equal(lookup_rc(t, "/loop/a", &e), -ELOOP);
	assert_int_equal(lookup_rc(t, "/loop/a/x", &e), -ELOOP);
	/* inode numbers: stable, distinct, never 0 */
	struct cx_sysfs_node *p, *q;
	assert_int_equal(cx_sysfs_lookup(t, "/loop/a", true, &p, NULL, 0, &e), 0);
	assert_int_equal(cx_sysfs_lookup(t, "/loop/b", true, &q, NULL, 0, &e), 0);
	assert_true(cx_sysfs_ino(p) != cx_sysfs_ino(q));
	assert_true(cx_sysfs_ino(p) != 0);
	cx_sysfs_free(t);
	fx_free(x);
}

/* The CXL bus as libcxl walks it: 2 bridges x 2 root ports, a 2-way
 * window, one region over two memdevs. */
static void test_cxl_bus(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 2, 2, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 4096);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0,mem2",
					   CX_MODE_RAM, 0);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	char buf[128];
	cx_err e;
	struct cx_sysfs_node *n;

	/* devices listed on the bus, each a link to its place */
	expect_canon(t, "/sys/bus/cxl/devices/root0", false,
		     "/sys/devices/platform/ACPI0017:00/root0");
	expect_canon(t, "/sys/bus/cxl/devices/port1/uport", false,
		     "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0016:00");
	/* a memdev sits below its PCI function, below its root port */
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/cxl/devices/mem0", false,
					 &n, buf, sizeof(buf), &e), 0);
	assert_non_null(strstr(buf, "/sys/devices/pci0000:0c/0000:0c:00.0/"));
	assert_non_null(strstr(buf, "/mem0"));
	/* the endpoint's uport is that memdev */
	char ep[CX_SYSFS_PATH_MAX];
	snprintf(ep, sizeof(ep), "/sys/bus/cxl/devices/endpoint%d/uport",
		 fx_m(x, 0)->endpoint_id);
	expect_canon(t, ep, false, buf);
	expect_read(t, "/sys/bus/cxl/devices/mem0/dev", "240:0\n");
	expect_read(t, "/sys/bus/cxl/devices/mem0/ram/size", "0x10000000\n");
	expect_read(t, "/sys/bus/cxl/devices/mem0/pmem/size", "0x0\n");
	expect_read(t, "/sys/bus/cxl/devices/mem0/payload_max", "2048\n");
	expect_canon(t, "/sys/bus/cxl/devices/mem0/driver", false,
		     "/sys/bus/cxl/drivers/cxl_mem");
	expect_canon(t, "/dev/cxl/mem0", false, "/dev/cxl/mem0");
	/* the root decoder: the window, its bridges by UID, the next region */
	snprintf(buf, sizeof(buf), "0x%llx\n", (unsigned long long)r->win->base);
	expect_read(t, "/sys/bus/cxl/devices/decoder0.0/start", buf);
	expect_read(t, "/sys/bus/cxl/devices/decoder0.0/target_list", "12,28\n");
	expect_read(t, "/sys/bus/cxl/devices/decoder0.0/create_ram_region",
		    "region1\n");
	/* the region, its targets, committed and bound */
	expect_read(t, "/sys/bus/cxl/devices/region0/commit", "1\n");
	expect_read(t, "/sys/bus/cxl/devices/region0/mode", "ram\n");
	expect_read(t, "/sys/bus/cxl/devices/region0/interleave_ways", "2\n");
	char dec[32];
	cx_decoder_name(r->targets[1], dec, sizeof(dec));
	snprintf(buf, sizeof(buf), "%s\n", dec);
	expect_read(t, "/sys/bus/cxl/devices/region0/target1", buf);
	snprintf(buf, sizeof(buf), "/sys/bus/cxl/devices/%s/region", dec);
	expect_read(t, buf, "region0\n");
	expect_canon(t, "/sys/bus/cxl/devices/region0/driver", false,
		     "/sys/bus/cxl/drivers/cxl_region");
	/* the bus' flush takes "1" only; read-only attributes refuse */
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/cxl/flush", false, &n,
					 NULL, 0, &e), 0);
	assert_int_equal(cx_sysfs_write(n, "1\n", 2, &e), 0);
	assert_int_equal(cx_sysfs_write(n, "2", 1, &e), -EINVAL);
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/cxl/devices/mem0/serial",
					 false, &n, NULL, 0, &e), 0);
	assert_int_equal(cx_sysfs_write(n, "5", 1, &e), -EACCES);
	cx_sysfs_free(t);
	fx_free(x);
}

static bool exists(struct cx_sysfs *t, const char *path)
{
	cx_err e;
	return lookup_rc(t, path, &e) == 0;
}

/*
 * qos_class as Linux 6.8+ on QEMU shows it: every root decoder carries
 * its window's QTG id (QEMU's is 0); a memdev partition has the class
 * only when it has capacity and a window decodes its host bridge; the
 * listing says the same.
 */
static void test_qos_class(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 2, 1, 0, 256 * FX_MiB, 0);
	int first[] = { 0 };
	fx_win(x, 4 * FX_GiB, 4096, 1, first);   /* the second HB: none */
	fx_start(x);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	cx_err e;
	struct cx_sysfs_node *n;

	expect_read(t, "/sys/bus/cxl/devices/decoder0.0/qos_class", "0\n");
	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/cxl/devices/decoder0.0/"
					 "qos_class", false, &n, NULL, 0, &e), 0);
	assert_int_equal(cx_sysfs_write(n, "1", 1, &e), -EACCES);
	expect_read(t, "/sys/bus/cxl/devices/mem0/ram/qos_class", "0\n");
	assert_false(exists(t, "/sys/bus/cxl/devices/mem0/pmem/qos_class"));
	assert_true(exists(t, "/sys/bus/cxl/devices/mem0/pmem/size"));
	assert_false(exists(t, "/sys/bus/cxl/devices/mem1/ram/qos_class"));
	assert_int_equal(cx_view_memdev_qos_class(fx_m(x, 0), CX_MODE_RAM), 0);
	assert_int_equal(cx_view_memdev_qos_class(fx_m(x, 0), CX_MODE_PMEM),
			 CX_QOS_CLASS_NONE);
	assert_int_equal(cx_view_memdev_qos_class(fx_m(x, 1), CX_MODE_RAM),
			 CX_QOS_CLASS_NONE);
	cx_sysfs_free(t);
	fx_free(x);
}

static int write_at(struct cx_sysfs *t, const char *path, const char *v)
{
	struct cx_sysfs_node *n;
	cx_err e;
	int rc = cx_sysfs_lookup(t, path, false, &n, NULL, 0, &e);
	return rc ? rc : cx_sysfs_write(n, v, strlen(v), &e);
}

/* daxctl's reconfigure-device, write by write: a system-ram device's
 * memory blocks hang off its target node; kmem lets go only when they
 * are offline; device_dax binds the unbound device; kmem brings the
 * memory back offline, to be onlined block by block. */
static void test_dax_drivers(void **state)
{
	struct cx_region *r;
	struct fx *x = one_region(&r);
	cx_dax_reconfigure(r, true, NULL);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	char blk[96], path[160];
	unsigned long long first = r->base / CX_MEMBLOCK_SIZE;
	snprintf(blk, sizeof(blk), "/sys/devices/system/node/node1/memory%llu",
		 first);
	snprintf(path, sizeof(path), "%s/state", blk);
	expect_read(t, path, "online\n");
	snprintf(path, sizeof(path), "%s/phys_index", blk);
	char want[32];
	snprintf(want, sizeof(want), "%08llx\n", first);
	expect_read(t, path, want);
	expect_read(t, "/sys/devices/system/memory/block_size_bytes",
		    "8000000\n");
	assert_int_equal(write_at(t, "/sys/bus/dax/drivers/kmem/unbind",
				  "dax0.0"), -EBUSY);
	cx_sysfs_free(t);
	for (int i = 0; i < cx_dax_blocks(r); i++) {
		t = cx_sysfs_build(x->h);
		snprintf(path, sizeof(path), "/sys/devices/system/memory/"
			 "memory%llu/state", first + (unsigned long long)i);
		assert_int_equal(write_at(t, path, "offline\n"), 0);
		cx_sysfs_free(t);
	}
	t = cx_sysfs_build(x->h);
	assert_int_equal(write_at(t, "/sys/bus/dax/drivers/device_dax/unbind",
				  "dax0.0"), -ENODEV);
	assert_int_equal(write_at(t, "/sys/bus/dax/drivers/kmem/unbind",
				  "dax0.0"), 0);
	cx_sysfs_free(t);
	t = cx_sysfs_build(x->h);
	struct cx_sysfs_node *n;
	cx_err e;
	assert_int_equal(cx_sysfs_lookup(t, DEVDIR "/driver", true, &n, NULL,
					 0, &e), -ENOENT);
	assert_int_equal(write_at(t, "/sys/bus/dax/drivers/device_dax/bind",
				  "dax0.0"), 0);
	cx_sysfs_free(t);
	assert_false(r->dax_system_ram);
	t = cx_sysfs_build(x->h);
	expect_canon(t, DEVDIR "/driver", false,
		     "/sys/bus/dax/drivers/device_dax");
	assert_int_equal(write_at(t, "/sys/bus/dax/drivers/kmem/bind",
				  "dax0.0"), -EBUSY);
	cx_sysfs_free(t);
	fx_free(x);
}

/* A memdev with a mailbox, as the daemon has them; mem1 unbound from
 * cxl_mem when `unbound`. */
static struct fx *mbox_tree(bool unbound)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 4096);
	fx_start(x);
	assert_int_equal(cx_mbox_init_fabric(x->f, &x->err), 0);
	fx_m(x, 1)->disabled = unbound;
	return x;
}

/*
 * The firmware upload device Linux registers for a memdev with the
 * firmware commands: below the memdev, linked from /sys/class/firmware,
 * idle with no error; cancel refuses 0 (EINVAL) and, idle, 1 (ENODEV);
 * status is read-only.
 */
static void test_firmware_device(void **state)
{
	struct fx *x = mbox_tree(false);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	char mem[CX_SYSFS_PATH_MAX], want[CX_SYSFS_PATH_MAX + 32];
	cx_err e;
	struct cx_sysfs_node *n;

	assert_int_equal(cx_sysfs_lookup(t, "/sys/bus/cxl/devices/mem0", false,
					 &n, mem, sizeof(mem), &e), 0);
	snprintf(want, sizeof(want), "%s/firmware/mem0", mem);
	expect_canon(t, "/sys/class/firmware/mem0", false, want);
	expect_canon(t, "/sys/class/firmware/mem0/device", false, mem);
	expect_read(t, "/sys/class/firmware/mem0/status", "idle\n");
	expect_read(t, "/sys/class/firmware/mem0/loading", "0\n");
	expect_read(t, "/sys/class/firmware/mem0/error", "");
	expect_read(t, "/sys/class/firmware/mem0/remaining_size", "0\n");
	assert_int_equal(write_at(t, "/sys/class/firmware/mem0/cancel", "0"),
			 -EINVAL);
	assert_int_equal(write_at(t, "/sys/class/firmware/mem0/cancel", "1"),
			 -ENODEV);
	assert_int_equal(write_at(t, "/sys/class/firmware/mem0/status", "idle"),
			 -EACCES);
	cx_sysfs_free(t);
	fx_free(x);
}

/*
 * The device's poison as Linux's debugfs and trigger take it: a DPA must
 * be inside the device and 64-byte aligned (EINVAL otherwise); what goes
 * in is poison the media reports, what is cleared is gone; the debugfs
 * directory exists only while cxl_mem drives the memdev, and the trigger
 * needs the endpoint and takes only 1.
 */
static void test_poison_debugfs(void **state)
{
	struct fx *x = mbox_tree(true);
	struct cx_sysfs *t = cx_sysfs_build(x->h);
	struct cx_memdev *m = fx_m(x, 0);
	uint64_t bad;

#define DBG0 "/sys/kernel/debug/cxl/mem0/"
	assert_int_equal(write_at(t, DBG0 "inject_poison", "0x1000\n"), 0);
	assert_int_equal(cx_poison_check(m, 0x1000, 64, &bad), 1);
	assert_int_equal(bad, 0x1000);
	assert_int_equal(write_at(t, DBG0 "inject_poison", "0x1001"), -EINVAL);
	assert_int_equal(write_at(t, DBG0 "inject_poison", "0x10000000"),
			 -EINVAL);
	assert_int_equal(write_at(t, DBG0 "clear_poison", "poison"), -EINVAL);
	assert_int_equal(write_at(t, "/sys/bus/cxl/devices/mem0/"
				  "trigger_poison_list", "1"), 0);
	assert_int_equal(write_at(t, "/sys/bus/cxl/devices/mem0/"
				  "trigger_poison_list", "0"), -EINVAL);
	assert_int_equal(write_at(t, DBG0 "clear_poison", "0x1000"), 0);
	assert_int_equal(cx_poison_check(m, 0x1000, 64, &bad), 0);
#undef DBG0
	assert_false(exists(t, "/sys/kernel/debug/cxl/mem1"));
	assert_int_equal(write_at(t, "/sys/bus/cxl/devices/mem1/"
				  "trigger_poison_list", "1"), -EINVAL);
	cx_sysfs_free(t);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dax_device),
		cmocka_unit_test(test_minor_numbers),
		cmocka_unit_test(test_resolution_rules),
		cmocka_unit_test(test_cxl_bus),
		cmocka_unit_test(test_qos_class),
		cmocka_unit_test(test_dax_drivers),
		cmocka_unit_test(test_firmware_device),
		cmocka_unit_test(test_poison_debugfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
