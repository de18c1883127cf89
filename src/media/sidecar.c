/*
 * sidecar.c - a device's flash settings in a file beside its media (see
 * sidecar.h): "# comment" first, then one key=value line per setting:
 * partition_volatile (only for a partitionable device), shutdown_dirty,
 * dirty_shutdowns, fw_active, fw_staged, and fw_revN for each slot that
 * holds firmware.
 */
#include "sidecar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *cx_sidecar_path(const struct cx_media *lsa, const struct cx_media *pmem)
{
	const struct cx_media *md = NULL;
	if (lsa && lsa->persistent && lsa->path)
		md = lsa;
	else if (pmem && pmem->persistent && pmem->path)
		md = pmem;
	if (!md)
		return NULL;
	return cx_xasprintf("%s.cxlemu", md->path);
}

bool cx_sidecar_load(const char *path, struct cx_sidecar *v)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	char line[256];

	memset(v, 0, sizeof(*v));
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		char *val = eq + 1;
		val[strcspn(val, "\n")] = 0;
		unsigned long long n = strtoull(val, NULL, 0);
		if (!strcmp(line, "partition_volatile")) {
			v->have_partition = true;
			v->partition_volatile = n;
		} else if (!strcmp(line, "shutdown_dirty")) {
			v->shutdown_dirty = n != 0;
		} else if (!strcmp(line, "dirty_shutdowns")) {
			v->dirty_shutdowns = (uint32_t)n;
		} else if (!strcmp(line, "fw_active")) {
			v->fw_active = (int)n;
		} else if (!strcmp(line, "fw_staged")) {
			v->fw_staged = (int)n;
		} else if (!strncmp(line, "fw_rev", 6) && line[6] >= '1' &&
			   line[6] < '1' + CX_FW_SLOTS && !line[7]) {
			int s = line[6] - '1';
			v->fw_present[s] = true;
			snprintf(v->fw_rev[s], sizeof(v->fw_rev[s]), "%s", val);
		}
	}
	fclose(f);
	return true;
}

int cx_sidecar_save(const char *path, const char *owner,
		    const struct cx_sidecar *v)
{
	char *tmp = cx_xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = 0;

	if (!f) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	fprintf(f, "# cxlemu device settings for %s (kept like device flash)\n",
		owner);
	if (v->have_partition)
		fprintf(f, "partition_volatile=%llu\n",
			(unsigned long long)v->partition_volatile);
	fprintf(f, "shutdown_dirty=%d\n", v->shutdown_dirty ? 1 : 0);
	fprintf(f, "dirty_shutdowns=%u\n", v->dirty_shutdowns);
	fprintf(f, "fw_active=%d\nfw_staged=%d\n", v->fw_active, v->fw_staged);
	for (int s = 0; s < CX_FW_SLOTS; s++)
		if (v->fw_present[s])
			fprintf(f, "fw_rev%d=%s\n", s + 1, v->fw_rev[s]);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = errno ? -errno : -EIO;
	if (fclose(f) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	if (!rc && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
