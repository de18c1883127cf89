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
 * device.  A device in system-ram mode is bound to kmem (its /dev node
 * stays, as on Linux, but opening it fails with ENXIO).
 */
#include "sysfs/sysfs.h"

#include <stdio.h>

#include "model/dax.h"

#define CXL_ROOT_DIR "/sys/devices/platform/ACPI0017:00/root0"

static void driver_dir(struct cx_sysfs_node *drivers, const char *name)
{
	struct cx_sysfs_node *d = cx_sysfs_dir(drivers, name);
	cx_sysfs_text(d, "bind", 0200, "%s", "");
	cx_sysfs_text(d, "unbind", 0200, "%s", "");
	cx_sysfs_text(d, "new_id", 0200, "%s", "");
	cx_sysfs_text(d, "remove_id", 0200, "%s", "");
	cx_sysfs_text(d, "uevent", 0200, "%s", "");
}

static void add_device(struct cx_sysfs *t, struct cx_region *r)
{
	char path[CX_SYSFS_PATH_MAX], dec[32], dev[32], link[64];
	unsigned minor = CX_SYSFS_DAX_MINOR(r->id, 0);
	const char *drv = r->dax_system_ram ? "kmem" : "device_dax";

	cx_decoder_name(&r->win->dec, dec, sizeof(dec));
	snprintf(dev, sizeof(dev), "dax%d.0", r->id);

	/* the region and its dax_region, the device's parent */
	snprintf(path, sizeof(path), CXL_ROOT_DIR "/%s/region%d/dax_region%d",
		 dec, r->id, r->id);
	struct cx_sysfs_node *dr = cx_sysfs_mkdirs(t, path);
	struct cx_sysfs_node *g = cx_sysfs_dir(dr, "dax_region");
	cx_sysfs_text(g, "id", 0444, "%d\n", r->id);
	cx_sysfs_text(g, "size", 0444, "%llu\n", (unsigned long long)r->size);
	cx_sysfs_text(g, "align", 0444, "%llu\n",
		      (unsigned long long)CX_DAX_ALIGN);
	/* the one device takes the whole region: nothing left, no seed */
	cx_sysfs_text(g, "available_size", 0444, "0\n");
	cx_sysfs_text(g, "seed", 0444, "\n");
	cx_sysfs_text(g, "create", 0644, "\n");
	cx_sysfs_text(g, "delete", 0200, "%s", "");

	struct cx_sysfs_node *d = cx_sysfs_dir(dr, dev);
	cx_sysfs_text(d, "dev", 0444, "%u:%u\n", CX_SYSFS_DAX_MAJOR, minor);
	cx_sysfs_text(d, "size", 0444, "%llu\n", (unsigned long long)r->size);
	cx_sysfs_text(d, "align", 0644, "%llu\n",
		      (unsigned long long)CX_DAX_ALIGN);
	cx_sysfs_text(d, "resource", 0400, "0x%llx\n",
		      (unsigned long long)r->base);
	cx_sysfs_text(d, "target_node", 0444, "%d\n", cx_region_target_node(r));
	cx_sysfs_text(d, "numa_node", 0444, "%d\n", cx_region_target_node(r));
	cx_sysfs_text(d, "modalias", 0444, "dax:t0*\n");
	cx_sysfs_text(d, "uevent", 0644, "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\n"
		      "DRIVER=%s\nMODALIAS=dax:t0*\n", CX_SYSFS_DAX_MAJOR,
		      minor, dev, drv);
	cx_sysfs_text(d, "mapping", 0200, "%s", "");
	struct cx_sysfs_node *m = cx_sysfs_dir(d, "mapping0");
	cx_sysfs_text(m, "start", 0400, "0x%llx\n", (unsigned long long)r->base);
	cx_sysfs_text(m, "end", 0400, "0x%llx\n",
		      (unsigned long long)(r->base + r->size - 1));
	cx_sysfs_text(m, "page_offset", 0400, "0x0\n");
	cx_sysfs_link(d, "subsystem", "/sys/bus/dax");
	snprintf(link, sizeof(link), "/sys/bus/dax/drivers/%s", drv);
	cx_sysfs_link(d, "driver", link);

	char devpath[CX_SYSFS_PATH_MAX];
	cx_sysfs_path(d, devpath, sizeof(devpath));
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/bus/dax/devices"), dev, devpath);
	cx_sysfs_link(cx_sysfs_mkdirs(t, link), dev, devpath);
	snprintf(link, sizeof(link), "%u:%u", CX_SYSFS_DAX_MAJOR, minor);
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/dev/char"), link, devpath);
	cx_sysfs_chr(cx_sysfs_mkdirs(t, "/dev"), dev, 0600,
		     CX_SYSFS_DAX_MAJOR, minor);
}

void cx_sysfs_add_dax(struct cx_sysfs *t)
{
	struct cx_sysfs_node *bus = cx_sysfs_mkdirs(t, "/sys/bus/dax");
	cx_sysfs_dir(bus, "devices");
	struct cx_sysfs_node *drivers = cx_sysfs_dir(bus, "drivers");
	driver_dir(drivers, "device_dax");
	driver_dir(drivers, "kmem");
	cx_sysfs_text(bus, "drivers_autoprobe", 0644, "1\n");
	cx_sysfs_text(bus, "drivers_probe", 0200, "%s", "");
	cx_sysfs_text(bus, "uevent", 0200, "%s", "");
	cx_sysfs_mkdirs(t, "/sys/dev/char");
	cx_sysfs_mkdirs(t, "/dev");

	for (int i = 0; i < t->host->regions.n; i++) {
		struct cx_region *r = t->host->regions.v[i];
		if (cx_region_serves(r))
			add_device(t, r);
	}
}
