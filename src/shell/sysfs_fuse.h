/*
 * sysfs_fuse.h - the FUSE filesystem `cxlemu shell` mounts over /sys in
 * its private mount namespace (sysfs_fuse.c says how it works).
 */
#ifndef CXLEMU_SYSFS_FUSE_H
#define CXLEMU_SYSFS_FUSE_H

#include "cxlemu/cxlemu.h"
#include "util/util.h"

struct cx_shell_fs;

/* Mount the fabric's view of conn's host over `mnt` (this process's
 * mount namespace) and serve it from a thread.  NULL with e set. */
struct cx_shell_fs *cx_shell_fs_mount(struct cxlemu *conn, const char *mnt,
				      cx_err *e);
/* Unmount and stop serving. */
void cx_shell_fs_unmount(struct cx_shell_fs *fs);

#endif
