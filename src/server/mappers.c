/*
 * mappers.c - programs that still map media an earlier daemon of this
 * fabric lent them.
 *
 * Every block a daemon lends is a memfd named
 * "cxlemu[FABRIC.INSTANCE]:BACKEND@OFFSET" (media.h, cx_media_set_tag):
 * FABRIC hashes the fabric's socket path, INSTANCE is this daemon's start
 * time.  The name is in /proc/PID/maps of every process that maps the
 * block, even after it closed every descriptor.  So at start a daemon
 * finds the programs a killed predecessor left mapping its media - a
 * FABRIC of its own with an INSTANCE that is not - and reports them by
 * pid.  They hold detached copies (the new daemon's media are not theirs),
 * but they believe they hold the device: destructive commands wait for
 * them to end (cx_srv_stale_check).  A daemon sees the processes whose
 * maps it may read: its own user's, or all of them as root.
 */
#include "server.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "media/media.h"

void cx_srv_mappers_tag(const char *socket, char *fabric, size_t flen,
			char *tag, size_t tlen)
{
	char real[PATH_MAX];
	const char *p = realpath(socket, real) ? real : socket;
	uint32_t h = 2166136261u;
	for (; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 16777619u;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(fabric, flen, "%08" PRIx32, h);
	snprintf(tag, tlen, "%08" PRIx32 ".%llx", h,
		 (unsigned long long)ts.tv_sec * 1000000000ULL +
		 (unsigned long long)ts.tv_nsec);
}

/* Does pid map a block of `fabric` lent by another instance than `tag`? */
static bool maps_stale(int pid, const char *fabric, const char *tag)
{
	char path[64], line[4096], want[64], mine[96];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	snprintf(want, sizeof(want), "/memfd:cxlemu[%s.", fabric);
	snprintf(mine, sizeof(mine), "/memfd:cxlemu[%s]", tag);
	FILE *f = fopen(path, "re");
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *at = strstr(line, want);
		found = at && strncmp(at, mine, strlen(mine));
	}
	fclose(f);
	return found;
}

int cx_srv_mappers_scan(const char *fabric, const char *tag, int *pids,
			int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		int pid = atoi(de->d_name);
		if (pid != getpid() && maps_stale(pid, fabric, tag))
			pids[n++] = pid;
	}
	closedir(d);
	return n;
}

void cx_srv_mappers_describe(const int *pids, int n, char *buf, size_t len)
{
	struct cx_srv_names l = { .used = 0 };
	for (int i = 0; i < n; i++) {
		char path[64], comm[64] = "?";
		snprintf(path, sizeof(path), "/proc/%d/comm", pids[i]);
		FILE *f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		cx_srv_names_add(&l, "pid %d (%s)", pids[i], comm);
	}
	snprintf(buf, len, "%s", l.buf);
}
