/*
 * dax.c - the DAX bus in a host's sysfs view, as Linux 6.x lays it out for
 * a CXL region:
 *
 *   /sys/devices/platform/ACPI0017:00/root0/decoder0.N/regionZ/dax_regionZ/
 *       dax_region/{id,size,align,available_size,seed,create,delete}
 *       daxZ.0/{dev,size,align,resource,target_node,numa_node,modalias,
 *               uevent,mapping0/{start,end,page_offset},
 *               subsystem -> /sys/bus/dax, driver -> device_dax or kmem}
 *   /sys/bus/dax/{devices/daxZ.0 -> ..., drivers/{device_dax,kmem}/...}
 *   /sys/dev/char/252:MINOR -> the daxZ.0 directory
 *   /dev/daxZ.0  (a character device, crw------- as devtmpfs makes it)
 *
 * What libdaxctl, PMDK and fio read to recognise and size a device-DAX
 * device is here: realpath(/sys/dev/char/M:m/subsystem) ends in "dax",
 * size and align sit beside it, and /sys/bus/dax/devices lists the
 * device.  A dynamic_ram_a region has one device per tag and one per
 * untagged extent its host accepted (daxR.K), each with a mappingN per
 * extent and, when tagged, its tag as `uuid`.  A device in system-ram mode is bound to kmem (its /dev node
 * stays, as on Linux, but opening it fails with ENXIO) and shows its
 * memory blocks; the drivers' bind and unbind switch it as daxctl
 * reconfigure-device does.
 */
#include "sysfs/sysfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/dax.h"
#include "model/mbox.h"

#define CXL_ROOT_DIR "/sys/devices/platform/ACPI0017:00/root0"

/* daxZ.0 of this host, for a driver's bind/unbind */
static struct cx_region *device_named(struct cx_host *h, const char *buf,
				      cx_err *e)
{
	char v[64];
	cx_sysfs_value(buf, v, sizeof(v));
	struct cx_region *r = cx_dax_find(h, v);
	if (!r || !cx_region_serves(r)) {
		cx_fail(e, ENODEV, "no DAX device '%s'", v);
		return NULL;
	}
	return r;
}

enum { DRV_BIND, DRV_UNBIND, DRV_NEW_ID, DRV_REMOVE_ID };

/*
 * The dax bus' drivers as daxctl drives them: new_id and remove_id are
 * accepted (there is no id table to change), bind takes an unbound
 * device (kmem hot-adds its memory, offline), unbind lets it go (kmem
 * only once every block is offline, device_dax only when unmapped).
 */
static int store_driver(struct cx_sysfs_node *n, const char *buf, size_t len,
			cx_err *e)
{
	bool kmem = !strcmp(n->parent->name, "kmem");
	if (n->arg == DRV_NEW_ID || n->arg == DRV_REMOVE_ID)
		return 0;
	struct cx_region *r = device_named(n->obj, buf, e);
	if (!r)
		return -ENODEV;
	if (n->arg == DRV_BIND)
		return cx_dax_bind(r, kmem, e);
	if (r->dax_unbound || r->dax_system_ram != kmem)
		return cx_fail(e, ENODEV, "dax%d.0 is not bound to %s", r->id,
			       n->parent->name);
	return cx_dax_unbind(r, e);
}

static void driver_dir(struct cx_sysfs *t, struct cx_sysfs_node *drivers,
		       const char *name)
{
	static const char *const files[] = {
		[DRV_BIND] = "bind", [DRV_UNBIND] = "unbind",
		[DRV_NEW_ID] = "new_id", [DRV_REMOVE_ID] = "remove_id",
	};
	struct cx_sysfs_node *d = cx_sysfs_dir(drivers, name);
	for (int i = 0; i < 4; i++)
		cx_sysfs_on_write(cx_sysfs_text(d, files[i], 0200, "%s", ""),
				  store_driver, t->host, i);
	cx_sysfs_text(d, "uevent", 0200, "%s", "");
}

/* a memory block's state: "online", "online_movable", "online_kernel" or
 * "offline", as /sys/devices/system/memory/memoryN/state takes them */
static int store_block(struct cx_sysfs_node *n, const char *buf, size_t len,
		       cx_err *e)
{
	struct cx_region *r = n->obj;
	char v[32];
	cx_sysfs_value(buf, v, sizeof(v));
	bool on = !strcmp(v, "online") || !strcmp(v, "online_movable") ||
		  !strcmp(v, "online_kernel");
	if (!on && strcmp(v, "offline"))
		return cx_fail(e, EINVAL, "%s: state '%s' is not online, "
			       "online_movable, online_kernel or offline",
			       n->parent->name, v);
	return cx_dax_set_block(r, (int)n->arg, on, e);
}

/*
 * A system-ram device's memory, as the memory hotplug code shows it:
 * 128 MiB blocks /sys/devices/system/memory/memoryN (N: the block's
 * address / 128 MiB) with phys_index, state, online, valid_zones, and
 * linked from the device's target node, where daxctl looks for them.
 * In `cxlemu shell` they stand in for the machine's blocks of the same
 * numbers.
 */
static void memory_blocks(struct cx_sysfs *t, struct cx_region *r)
{
	char path[96], name[32];
	struct cx_sysfs_node *mem = cx_sysfs_mkdirs(t, "/sys/devices/system/memory");
	cx_sysfs_text(mem, "block_size_bytes", 0444, "%llx\n",
		      (unsigned long long)CX_MEMBLOCK_SIZE);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
		 cx_region_target_node(r));
	struct cx_sysfs_node *node = cx_sysfs_mkdirs(t, path);
	for (int i = 0; i < cx_dax_blocks(r); i++) {
		unsigned long long idx = r->base / CX_MEMBLOCK_SIZE +
					 (unsigned long long)i;
		bool on = cx_dax_block_online(r, i);
		snprintf(name, sizeof(name), "memory%llu", idx);
		struct cx_sysfs_node *b = cx_sysfs_dir(mem, name);
		cx_sysfs_text(b, "phys_index", 0444, "%08llx\n", idx);
		cx_sysfs_on_write(cx_sysfs_text(b, "state", 0644, "%s\n",
						on ? "online" : "offline"),
				  store_block, r, i);
		cx_sysfs_text(b, "online", 0644, "%d\n", on);
		cx_sysfs_text(b, "valid_zones", 0444, "%s\n",
			      on ? "Movable" : "Normal Movable");
		cx_sysfs_text(b, "removable", 0444, "1\n");
		cx_sysfs_link(b, "subsystem", "/sys/bus/memory");
		char bp[CX_SYSFS_PATH_MAX];
		cx_sysfs_path(b, bp, sizeof(bp));
		cx_sysfs_link(node, name, bp);
		cx_sysfs_link(b, strrchr(path, '/') + 1, path);
	}
}

/* regionZ/dax_regionZ with its dax_region attributes: the devices'
 * parent */
static struct cx_sysfs_node *dax_region_dir(struct cx_sysfs *t,
					    struct cx_region *r)
{
	char path[CX_SYSFS_PATH_MAX], dec[32];

	cx_decoder_name(&r->win->dec, dec, sizeof(dec));
	snprintf(path, sizeof(path), CXL_ROOT_DIR "/%s/region%d/dax_region%d",
		 dec, r->id, r->id);
	struct cx_sysfs_node *dr = cx_sysfs_mkdirs(t, path);
	struct cx_sysfs_node *g = cx_sysfs_dir(dr, "dax_region");
	cx_sysfs_text(g, "id", 0444, "%d\n", r->id);
	cx_sysfs_text(g, "size", 0444, "%llu\n", (unsigned long long)r->size);
	cx_sysfs_text(g, "align", 0444, "%llu\n",
		      (unsigned long long)CX_DAX_ALIGN);
	/* the devices take everything reachable: nothing left, no seed */
	cx_sysfs_text(g, "available_size", 0444, "0\n");
	cx_sysfs_text(g, "seed", 0444, "\n");
	cx_sysfs_text(g, "create", 0644, "\n");
	cx_sysfs_text(g, "delete", 0200, "%s", "");
	return dr;
}

/* One device of a region: daxZ.K over `nmap` HPA ranges, in order. */
struct dax_dev {
	int k;
	uint64_t size;
	int nmap;
	const uint64_t *start, *len;    /* HPA ranges */
	const char *uuid;               /* a dynamic capacity tag, or NULL */
};

static void device_dir(struct cx_sysfs *t, struct cx_region *r,
		       struct cx_sysfs_node *dr, const struct dax_dev *x)
{
	char dev[32], link[64], mname[32];
	unsigned minor = CX_SYSFS_DAX_MINOR(r->id, x->k);
	const char *drv = r->dax_unbound ? NULL
			  : r->dax_system_ram ? "kmem" : "device_dax";

	snprintf(dev, sizeof(dev), "dax%d.%d", r->id, x->k);
	struct cx_sysfs_node *d = cx_sysfs_dir(dr, dev);
	cx_sysfs_text(d, "dev", 0444, "%u:%u\n", CX_SYSFS_DAX_MAJOR, minor);
	cx_sysfs_text(d, "size", 0444, "%llu\n", (unsigned long long)x->size);
	cx_sysfs_text(d, "align", 0644, "%llu\n",
		      (unsigned long long)CX_DAX_ALIGN);
	cx_sysfs_text(d, "resource", 0400, "0x%llx\n", (unsigned long long)
		      (x->nmap ? x->start[0] : r->base));
	cx_sysfs_text(d, "target_node", 0444, "%d\n", cx_region_target_node(r));
	cx_sysfs_text(d, "numa_node", 0444, "%d\n", cx_region_target_node(r));
	cx_sysfs_text(d, "modalias", 0444, "dax:t0*\n");
	cx_sysfs_text(d, "uevent", 0644, "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\n"
		      "%s%s%sMODALIAS=dax:t0*\n", CX_SYSFS_DAX_MAJOR,
		      minor, dev, drv ? "DRIVER=" : "", drv ? drv : "",
		      drv ? "\n" : "");
	if (x->uuid)
		cx_sysfs_text(d, "uuid", 0444, "%s\n", x->uuid);
	cx_sysfs_text(d, "mapping", 0200, "%s", "");
	uint64_t page_off = 0;
	for (int i = 0; i < x->nmap; i++) {
		snprintf(mname, sizeof(mname), "mapping%d", i);
		struct cx_sysfs_node *m = cx_sysfs_dir(d, mname);
		cx_sysfs_text(m, "start", 0400, "0x%llx\n",
			      (unsigned long long)x->start[i]);
		cx_sysfs_text(m, "end", 0400, "0x%llx\n", (unsigned long long)
			      (x->start[i] + x->len[i] - 1));
		cx_sysfs_text(m, "page_offset", 0400, "0x%llx\n",
			      (unsigned long long)(page_off / 4096));
		page_off += x->len[i];
	}
	cx_sysfs_link(d, "subsystem", "/sys/bus/dax");
	char devpath[CX_SYSFS_PATH_MAX];
	cx_sysfs_path(d, devpath, sizeof(devpath));
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/bus/dax/devices"), dev, devpath);
	if (drv) {
		snprintf(link, sizeof(link), "/sys/bus/dax/drivers/%s", drv);
		cx_sysfs_link(d, "driver", link);
		cx_sysfs_link(cx_sysfs_mkdirs(t, link), dev, devpath);
	}
	snprintf(link, sizeof(link), "%u:%u", CX_SYSFS_DAX_MAJOR, minor);
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/dev/char"), link, devpath);
	cx_sysfs_chr(cx_sysfs_mkdirs(t, "/dev"), dev, 0600,
		     CX_SYSFS_DAX_MAJOR, minor);
}

static void add_device(struct cx_sysfs *t, struct cx_region *r)
{
	struct cx_sysfs_node *dr = dax_region_dir(t, r);
	struct dax_dev x = { 0, r->size, 1, &r->base, &r->size, NULL };
	device_dir(t, r, dr, &x);
	if (r->dax_system_ram && !r->dax_unbound)
		memory_blocks(t, r);
}

/* A dynamic_ram_a region: daxR.K for each device its accepted extents
 * form (model: cx_region_dc_dax), mapped at the extents' HPAs, in the
 * device's order; the capacity outside them has no device. */
static void add_dc_devices(struct cx_sysfs *t, struct cx_region *r)
{
	struct cx_decoder *dec = cx_region_dc_decoder(r);
	struct cx_sysfs_node *dr = dax_region_dir(t, r);
	struct cx_dcd_dax *v;
	int n = dec ? cx_region_dc_dax(r, &v) : 0;
	char tag[40];

	for (int k = 0; k < n; k++) {
		uint64_t *st = cx_xcalloc((size_t)v[k].n, sizeof(*st));
		uint64_t *ln = cx_xcalloc((size_t)v[k].n, sizeof(*ln));
		for (int i = 0; i < v[k].n; i++) {
			st[i] = r->base + (v[k].ext[i].dpa - dec->dpa_base);
			ln[i] = v[k].ext[i].len;
		}
		cx_dc_tag_format(v[k].tag, tag, sizeof(tag));
		struct dax_dev x = { k, v[k].size, v[k].n, st, ln,
				     v[k].tagged ? tag : NULL };
		device_dir(t, r, dr, &x);
		free(st);
		free(ln);
	}
	if (n)
		cx_dcd_dax_free(v, n);
}

void cx_sysfs_add_dax(struct cx_sysfs *t)
{
	struct cx_sysfs_node *bus = cx_sysfs_mkdirs(t, "/sys/bus/dax");
	cx_sysfs_dir(bus, "devices");
	struct cx_sysfs_node *drivers = cx_sysfs_dir(bus, "drivers");
	driver_dir(t, drivers, "device_dax");
	driver_dir(t, drivers, "kmem");
	cx_sysfs_text(bus, "drivers_autoprobe", 0644, "1\n");
	cx_sysfs_text(bus, "drivers_probe", 0200, "%s", "");
	cx_sysfs_text(bus, "uevent", 0200, "%s", "");
	cx_sysfs_mkdirs(t, "/sys/dev/char");
	cx_sysfs_mkdirs(t, "/dev");

	for (int i = 0; i < t->host->regions.n; i++) {
		struct cx_region *r = t->host->regions.v[i];
		if (cx_region_serves(r) && r->mode == CX_MODE_DC)
			add_dc_devices(t, r);
		else if (cx_region_serves(r))
			add_device(t, r);
	}
}
