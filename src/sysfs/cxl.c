/*
 * cxl.c - the CXL bus in a host's sysfs view, as Linux 6.x lays it out.
 *
 * So far: the memdevs' character devices, /dev/cxl/memN (240:N), which
 * the mailbox ioctls are sent to.
 */
#include "sysfs/sysfs.h"

#include <stdio.h>

void cx_sysfs_add_cxl(struct cx_sysfs *t)
{
	struct cx_sysfs_node *dev = cx_sysfs_mkdirs(t, "/dev/cxl");
	for (int i = 0; i < t->host->memdevs.n; i++) {
		struct cx_memdev *m = t->host->memdevs.v[i];
		char name[32];
		snprintf(name, sizeof(name), "mem%d", m->index);
		cx_sysfs_chr(dev, name, 0600, CX_SYSFS_MEM_MAJOR,
			     (unsigned)m->index);
	}
}
