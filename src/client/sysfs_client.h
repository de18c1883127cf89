/*
 * sysfs_client.h - ask the daemon about a host's sysfs view (the
 * sysfs-stat, sysfs-read and sysfs-list requests of server/ops_sysfs.c).
 * Used by the preload library to answer programs' stat, open, readdir,
 * readlink and realpath of the fabric's /sys and /dev paths.
 *
 * Every call returns 0 or the negative errno the daemon gave (-ENOENT for
 * a path the host does not have), with its sentence in err.
 */
#ifndef CXLEMU_SYSFS_CLIENT_H
#define CXLEMU_SYSFS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cxlemu/cxlemu.h"

#define CX_SYSFS_CLIENT_PATH_MAX 512

enum cx_sysfs_ctype { CX_SC_DIR, CX_SC_ATTR, CX_SC_LINK, CX_SC_CHR };

struct cx_sysfs_cstat {
	enum cx_sysfs_ctype type;
	unsigned mode;                 /* st_mode: type and permission bits */
	uint64_t ino, size;
	unsigned major, minor;         /* character devices */
	char path[CX_SYSFS_CLIENT_PATH_MAX];  /* physical path (realpath) */
	char link[CX_SYSFS_CLIENT_PATH_MAX];  /* a link's text (nofollow) */
};

struct cx_sysfs_centry {
	char name[256];
	enum cx_sysfs_ctype type;
	uint64_t ino;
};

int cx_sysfs_cstat(struct cxlemu *c, const char *path, bool nofollow,
		   struct cx_sysfs_cstat *st, struct cxlemu_err *err);
/* *data is malloc'd (not NUL-terminated beyond *len; one spare byte is
 * NUL). */
int cx_sysfs_cread(struct cxlemu *c, const char *path, char **data,
		   size_t *len, struct cxlemu_err *err);
/* *ents is malloc'd, *n entries. */
int cx_sysfs_clist(struct cxlemu *c, const char *path,
		   struct cx_sysfs_centry **ents, int *n,
		   struct cxlemu_err *err);

/* Write `data` (text) to an attribute, as a store in the kernel acts. */
int cx_sysfs_cwrite(struct cxlemu *c, const char *path, const char *data,
		    struct cxlemu_err *err);
/* Write len bytes at offset off, as a write(2) at that file position:
 * a binary attribute takes them as they are, a text one as one store. */
int cx_sysfs_cwrite_at(struct cxlemu *c, const char *path, const void *data,
		       size_t len, uint64_t off, struct cxlemu_err *err);

#endif
