/*
 * preload_stat.c - stat and access for the fabric's paths and descriptors.
 *
 * An open DAX device descriptor, and the path /dev/daxZ.M, are a character
 * device: crw------- root root, st_rdev 252:(Z * 256 + M), st_size 0, as
 * devtmpfs makes Linux's device-DAX nodes; a memdev, /dev/cxl/memN, is
 * crw------- root root 240:N the same way.  The fabric's sysfs paths
 * (preload_sysfs.c) are directories, attributes (st_size 4096, as sysfs
 * reports) and symbolic links, answered from the daemon's live view.  A
 * path the host does not have is ENOENT.  Every entry point glibc exports
 * is covered: stat, lstat, fstat, fstatat, statx, their 64-bit names, and
 * the __xstat family that programs built before glibc 2.33 call; then
 * access, faccessat, euidaccess and eaccess; and the extended attribute
 * calls (the fabric's nodes have none), which ls makes.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "sysfs/sysfs.h"

#define DEVTMPFS_DEV makedev(0, 5)
#define SYSFS_DEV makedev(0, 21)

static void fill(struct stat *st, unsigned mode, uint64_t ino, uint64_t size,
		 dev_t dev, dev_t rdev)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_ino = ino;
	st->st_size = (off_t)size;
	st->st_dev = dev;
	st->st_rdev = rdev;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = now;
}

void cx_pl_stat_dev(const struct cx_pl_dev *d, struct stat *st)
{
	fill(st, S_IFCHR | 0600, 0x100000u + d->minor, 0, DEVTMPFS_DEV,
	     makedev(d->major, d->minor));
}

void cx_pl_stat_mem(const struct cx_pl_mem *m, struct stat *st)
{
	fill(st, S_IFCHR | 0600, 0x200000u + m->minor, 0, DEVTMPFS_DEV,
	     makedev(CX_SYSFS_MEM_MAJOR, m->minor));
}

int cx_pl_stat_path(const char *path, bool nofollow, struct stat *st)
{
	struct cx_sysfs_cstat s;
	struct cxlemu_err err;
	int rc;
	cx_pl_lock_take();
	struct cxlemu *c = cx_pl_conn(&rc);
	if (c)
		rc = cx_sysfs_cstat(c, path, nofollow, &s, &err);
	cx_pl_lock_drop();
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	bool chr = s.type == CX_SC_CHR;
	fill(st, s.mode, s.ino, s.size, chr ? DEVTMPFS_DEV : SYSFS_DEV,
	     chr ? makedev(s.major, s.minor) : 0);
	return 0;
}

/* A tracked descriptor: a DAX device, a memdev or a sysfs directory. */
static bool stat_fd(int fd, struct stat *st, int *rc)
{
	struct cx_pl_dev *d = cx_pl_dev_of(fd);
	struct cx_pl_mem *m = cx_pl_mem_of(fd);
	if (d || m) {
		if (d)
			cx_pl_stat_dev(d, st);
		else
			cx_pl_stat_mem(m, st);
		*rc = 0;
		return true;
	}
	const char *dir = cx_pl_dir_of(fd);
	if (dir) {
		*rc = cx_pl_stat_path(dir, false, st);
		return true;
	}
	return false;
}

/* fstatat's cases: a tracked fd with AT_EMPTY_PATH, a claimed path. */
static bool stat_at(int dirfd, const char *path, int flags, struct stat *st,
		    int *rc)
{
	char buf[CX_SYSFS_PATH_MAX];
	if (path && !*path && (flags & AT_EMPTY_PATH))
		return stat_fd(dirfd, st, rc);
	const char *p = cx_pl_claimed_at(dirfd, path, buf, sizeof(buf));
	if (!p)
		return false;
	*rc = cx_pl_stat_path(p, flags & AT_SYMLINK_NOFOLLOW, st);
	return true;
}

int stat(const char *path, struct stat *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, 0, st, &rc))
		return rc;
	return CX_PL_NEXT(stat)(path, st);
}

int stat64(const char *path, struct stat64 *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, 0, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(stat64)(path, st);
}

int lstat(const char *path, struct stat *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, st, &rc))
		return rc;
	return CX_PL_NEXT(lstat)(path, st);
}

int lstat64(const char *path, struct stat64 *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(lstat64)(path, st);
}

int fstat(int fd, struct stat *st)
{
	int rc;
	if (stat_fd(fd, st, &rc))
		return rc;
	return CX_PL_NEXT(fstat)(fd, st);
}

int fstat64(int fd, struct stat64 *st)
{
	int rc;
	if (stat_fd(fd, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(fstat64)(fd, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int rc;
	if (stat_at(dirfd, path, flags, st, &rc))
		return rc;
	return CX_PL_NEXT(fstatat)(dirfd, path, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	int rc;
	if (stat_at(dirfd, path, flags, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(fstatat64)(dirfd, path, st, flags);
}

/* The pre-2.33 entry points (struct stat has one layout on x86_64). */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags);

int __xstat(int ver, const char *path, struct stat *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, 0, st, &rc))
		return rc;
	return CX_PL_NEXT(__xstat)(ver, path, st);
}

int __xstat64(int ver, const char *path, struct stat64 *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, 0, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(__xstat64)(ver, path, st);
}

int __lxstat(int ver, const char *path, struct stat *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, st, &rc))
		return rc;
	return CX_PL_NEXT(__lxstat)(ver, path, st);
}

int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	int rc;
	if (stat_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(__lxstat64)(ver, path, st);
}

int __fxstat(int ver, int fd, struct stat *st)
{
	int rc;
	if (stat_fd(fd, st, &rc))
		return rc;
	return CX_PL_NEXT(__fxstat)(ver, fd, st);
}

int __fxstat64(int ver, int fd, struct stat64 *st)
{
	int rc;
	if (stat_fd(fd, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(__fxstat64)(ver, fd, st);
}

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags)
{
	int rc;
	if (stat_at(dirfd, path, flags, st, &rc))
		return rc;
	return CX_PL_NEXT(__fxstatat)(ver, dirfd, path, st, flags);
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags)
{
	int rc;
	if (stat_at(dirfd, path, flags, (struct stat *)st, &rc))
		return rc;
	return CX_PL_NEXT(__fxstatat64)(ver, dirfd, path, st, flags);
}

static void to_statx(const struct stat *st, struct statx *x)
{
	memset(x, 0, sizeof(*x));
	x->stx_mask = STATX_BASIC_STATS;
	x->stx_blksize = (uint32_t)st->st_blksize;
	x->stx_nlink = (uint32_t)st->st_nlink;
	x->stx_uid = st->st_uid;
	x->stx_gid = st->st_gid;
	x->stx_mode = (uint16_t)st->st_mode;
	x->stx_ino = st->st_ino;
	x->stx_size = (uint64_t)st->st_size;
	x->stx_atime.tv_sec = st->st_atim.tv_sec;
	x->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	x->stx_mtime = x->stx_ctime = x->stx_atime;
	x->stx_rdev_major = major(st->st_rdev);
	x->stx_rdev_minor = minor(st->st_rdev);
	x->stx_dev_major = major(st->st_dev);
	x->stx_dev_minor = minor(st->st_dev);
}

int statx(int dirfd, const char *path, int flags, unsigned mask,
	  struct statx *x)
{
	struct stat st;
	int rc;
	if (stat_at(dirfd, path, flags, &st, &rc)) {
		if (rc == 0)
			to_statx(&st, x);
		return rc;
	}
	return CX_PL_NEXT(statx)(dirfd, path, flags, mask, x);
}

/* ---- access ---- */

/* Permission as Linux checks it; root passes read and write, and
 * execute where any x bit is set. */
static int check_access(const struct stat *st, int how)
{
	if (how == F_OK)
		return 0;
	unsigned m = st->st_mode;
	bool ok;
	if (geteuid() == 0)
		ok = !(how & X_OK) || S_ISDIR(m) || (m & 0111);
	else /* everything is root's: "other" bits apply */
		ok = (!(how & R_OK) || (m & S_IROTH)) &&
		     (!(how & W_OK) || (m & S_IWOTH)) &&
		     (!(how & X_OK) || (m & S_IXOTH));
	if (ok)
		return 0;
	errno = EACCES;
	return -1;
}

static bool access_at(int dirfd, const char *path, int how, int flags,
		      int *rc)
{
	struct stat st;
	if (!stat_at(dirfd, path, flags & AT_SYMLINK_NOFOLLOW, &st, rc))
		return false;
	if (*rc == 0)
		*rc = check_access(&st, how);
	return true;
}

int access(const char *path, int how)
{
	int rc;
	if (access_at(AT_FDCWD, path, how, 0, &rc))
		return rc;
	return CX_PL_NEXT(access)(path, how);
}

int faccessat(int dirfd, const char *path, int how, int flags)
{
	int rc;
	if (access_at(dirfd, path, how, flags, &rc))
		return rc;
	return CX_PL_NEXT(faccessat)(dirfd, path, how, flags);
}

int euidaccess(const char *path, int how)
{
	int rc;
	if (access_at(AT_FDCWD, path, how, 0, &rc))
		return rc;
	return CX_PL_NEXT(euidaccess)(path, how);
}

int eaccess(const char *path, int how)
{
	int rc;
	if (access_at(AT_FDCWD, path, how, 0, &rc))
		return rc;
	return CX_PL_NEXT(eaccess)(path, how);
}

/* ---- extended attributes: the fabric's nodes have none (ls asks) ---- */

static bool xattr_at(const char *path, bool nofollow, ssize_t *rc)
{
	struct stat st;
	int r;
	if (!stat_at(AT_FDCWD, path, nofollow ? AT_SYMLINK_NOFOLLOW : 0, &st,
		     &r))
		return false;
	*rc = r;
	return true;
}

static ssize_t no_attr(ssize_t rc)
{
	if (rc < 0)
		return rc;
	errno = ENODATA;
	return -1;
}

ssize_t getxattr(const char *path, const char *name, void *v, size_t n)
{
	ssize_t rc;
	if (xattr_at(path, false, &rc))
		return no_attr(rc);
	return CX_PL_NEXT(getxattr)(path, name, v, n);
}

ssize_t lgetxattr(const char *path, const char *name, void *v, size_t n)
{
	ssize_t rc;
	if (xattr_at(path, true, &rc))
		return no_attr(rc);
	return CX_PL_NEXT(lgetxattr)(path, name, v, n);
}

ssize_t fgetxattr(int fd, const char *name, void *v, size_t n)
{
	if (cx_pl_dev_of(fd) || cx_pl_mem_of(fd) || cx_pl_dir_of(fd))
		return no_attr(0);
	return CX_PL_NEXT(fgetxattr)(fd, name, v, n);
}

ssize_t listxattr(const char *path, char *list, size_t n)
{
	ssize_t rc;
	if (xattr_at(path, false, &rc))
		return rc;
	return CX_PL_NEXT(listxattr)(path, list, n);
}

ssize_t llistxattr(const char *path, char *list, size_t n)
{
	ssize_t rc;
	if (xattr_at(path, true, &rc))
		return rc;
	return CX_PL_NEXT(llistxattr)(path, list, n);
}

ssize_t flistxattr(int fd, char *list, size_t n)
{
	if (cx_pl_dev_of(fd) || cx_pl_mem_of(fd) || cx_pl_dir_of(fd))
		return 0;
	return CX_PL_NEXT(flistxattr)(fd, list, n);
}
