/*
 * preload_sysfs.c - the fabric's sysfs paths, as the program sees them.
 *
 * The preload claims /sys/bus/dax, /sys/class/dax, /sys/dev/char/252:*,
 * the CXL platform device /sys/devices/platform/ACPI0017:00 and the nodes
 * /dev/daxZ.M and /dev/cxl (the memdevs' /dev/cxl/memN, opened by
 * preload_cxl.c; only the nodes in `cxlemu shell`, whose filesystem serves
 * /sys): for these the daemon's view of the host (sysfs/sysfs.h) is
 * the truth, whatever this machine's own /sys holds.  Each call asks the
 * daemon, so a program sees the fabric as it is at that moment:
 *
 *   open, fopen     an attribute's text, in a sealed memory file (reads
 *                   as sysfs does); a directory gives a descriptor that
 *                   fdopendir, fstat and openat(dirfd, ...) understand
 *   opendir ...     readdir, readdir64, readdir_r, rewinddir, telldir,
 *                   seekdir, dirfd, closedir, fdopendir; scandir
 *   readlink        the link's relative text, as sysfs writes it
 *   realpath        every link followed (canonicalize_file_name too)
 *
 * Attributes are read-only here: writing them (daxctl reconfigure-device)
 * is refused with EACCES and a line saying so.  Paths relative to the
 * current directory are not claimed.
 */
#include "preload/preload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sysfs/sysfs.h"
#include "util/util.h"

static const char *const claimed_roots[] = {
	"/sys/bus/dax",
	"/sys/class/dax",
	"/sys/devices/platform/ACPI0017:00",
	NULL,
};

static bool under(const char *path, const char *root)
{
	size_t l = strlen(root);
	return !strncmp(path, root, l) && (path[l] == 0 || path[l] == '/');
}

/* In `cxlemu shell` a filesystem serves the fabric's /sys: leave it be. */
static bool sysfs_served(void)
{
	static int served = -1;
	if (served < 0)
		served = getenv("CXLEMU_SHELL") != NULL;
	return served;
}

bool cx_pl_claims(const char *path)
{
	char prefix[32];
	if (!path || path[0] != '/')
		return false;
	if (cx_pl_is_dax_path(path, NULL, 0, NULL, NULL) ||
	    under(path, "/dev/cxl"))
		return true;
	if (sysfs_served())
		return false;
	for (int i = 0; claimed_roots[i]; i++)
		if (under(path, claimed_roots[i]))
			return true;
	snprintf(prefix, sizeof(prefix), "/sys/dev/char/%u:", CX_SYSFS_DAX_MAJOR);
	return !strncmp(path, prefix, strlen(prefix));
}

const char *cx_pl_claimed_at(int dirfd, const char *path, char *buf,
			     size_t len)
{
	if (!path)
		return NULL;
	if (path[0] == '/')
		return cx_pl_claims(path) ? path : NULL;
	const char *dir = dirfd == AT_FDCWD ? NULL : cx_pl_dir_of(dirfd);
	if (!dir || !*path)
		return NULL;
	int w = snprintf(buf, len, "%s/%s", dir, path);
	return w > 0 && (size_t)w < len ? buf : NULL;
}

/* ---- open ---- */

static int sysfs_stat(const char *path, bool nofollow,
		      struct cx_sysfs_cstat *st)
{
	struct cxlemu_err err;
	int rc;
	cx_pl_lock_take();
	struct cxlemu *c = cx_pl_conn(&rc);
	if (c)
		rc = cx_sysfs_cstat(c, path, nofollow, st, &err);
	cx_pl_lock_drop();
	return rc;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

/* The attribute's text in a sealed memory file, positioned at 0. */
static int attr_file(const char *path, int flags)
{
	struct cxlemu_err err;
	char *data = NULL;
	size_t len = 0;
	int rc;
	cx_pl_lock_take();
	struct cxlemu *c = cx_pl_conn(&rc);
	if (c)
		rc = cx_sysfs_cread(c, path, &data, &len, &err);
	cx_pl_lock_drop();
	if (rc < 0)
		return fail(-rc);
	int fd = memfd_create("cxlemu-sysfs", MFD_ALLOW_SEALING |
			      ((flags & O_CLOEXEC) ? MFD_CLOEXEC : 0));
	if (fd < 0) {
		free(data);
		return -1;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = CX_PL_NEXT(write)(fd, data + done, len - done);
		if (w <= 0) {
			int e = errno;
			free(data);
			CX_PL_NEXT(close)(fd);
			return fail(e ? e : EIO);
		}
		done += (size_t)w;
	}
	free(data);
	CX_PL_NEXT(lseek)(fd, 0, SEEK_SET);
	fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
	      F_SEAL_SEAL);
	return fd;
}

int cx_pl_sysfs_open(const char *path, int flags)
{
	struct cx_sysfs_cstat st;
	int rc = sysfs_stat(path, (flags & O_NOFOLLOW) != 0, &st);
	if (rc < 0)
		return fail(-rc);
	int acc = flags & O_ACCMODE;
	switch (st.type) {
	case CX_SC_DIR:
		if (acc != O_RDONLY)
			return fail(EISDIR);
		return cx_pl_track_dir(cx_pl_placeholder(flags & O_CLOEXEC),
				       st.path);
	case CX_SC_LINK:        /* O_NOFOLLOW on a link */
		return fail(ELOOP);
	case CX_SC_CHR:
		return fail(ENXIO);  /* no such device behind the node */
	case CX_SC_ATTR:
	default:
		if (flags & O_DIRECTORY)
			return fail(ENOTDIR);
		if (acc != O_RDONLY) {
			cx_pl_say("%s: the preload library shows the fabric's "
				  "sysfs read-only; change the fabric with the "
				  "cxlemu command", path);
			return fail(EACCES);
		}
		return attr_file(st.path, flags);
	}
}

/* fopen's mode letters as open(2) flags. */
static int mode_flags(const char *mode)
{
	int f = strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY
							    : O_WRONLY;
	if (mode[0] == 'w')
		f |= O_CREAT | O_TRUNC;
	if (mode[0] == 'a')
		f |= O_CREAT | O_APPEND;
	if (strchr(mode, 'e'))
		f |= O_CLOEXEC;
	if (strchr(mode, 'x'))
		f |= O_EXCL;
	return f;
}

static FILE *claimed_fopen(const char *path, const char *mode)
{
	int fd = open(path, mode_flags(mode), 0666);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, mode);
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

FILE *fopen(const char *path, const char *mode)
{
	if (cx_pl_claims(path))
		return claimed_fopen(path, mode);
	return CX_PL_NEXT(fopen)(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	if (cx_pl_claims(path))
		return claimed_fopen(path, mode);
	return CX_PL_NEXT(fopen64)(path, mode);
}

/* ---- directories ---- */

#define VDIR_MAX 256

struct vdir {
	struct cx_sysfs_centry *ents;  /* "." and ".." first */
	int n;
	long pos;
	int fd;                        /* dirfd(): a tracked descriptor */
	struct dirent de;
};
static struct vdir *vdirs[VDIR_MAX];
static int nvdirs;

static struct vdir *vdir_of(void *dirp)
{
	if (!__atomic_load_n(&nvdirs, __ATOMIC_ACQUIRE) || !dirp)
		return NULL;
	struct vdir *v = NULL;
	cx_pl_lock_take();
	for (int i = 0; i < VDIR_MAX; i++)
		if (vdirs[i] == dirp)
			v = vdirs[i];
	cx_pl_lock_drop();
	return v;
}

/* List a claimed directory; its descriptor `fd` (taken) becomes dirfd. */
static DIR *vdir_open(const char *path, int fd)
{
	struct cx_sysfs_centry *ents = NULL;
	struct cxlemu_err err;
	int n = 0, rc;
	cx_pl_lock_take();
	struct cxlemu *c = cx_pl_conn(&rc);
	if (c)
		rc = cx_sysfs_clist(c, path, &ents, &n, &err);
	cx_pl_lock_drop();
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		errno = -rc;
		return NULL;
	}
	struct vdir *v = cx_xcalloc(1, sizeof(*v));
	v->ents = cx_xcalloc((size_t)n + 2, sizeof(*v->ents));
	snprintf(v->ents[0].name, sizeof(v->ents[0].name), ".");
	snprintf(v->ents[1].name, sizeof(v->ents[1].name), "..");
	v->ents[0].type = v->ents[1].type = CX_SC_DIR;
	v->ents[0].ino = v->ents[1].ino = 1;
	memcpy(v->ents + 2, ents, (size_t)n * sizeof(*ents));
	free(ents);
	v->n = n + 2;
	v->fd = fd;
	cx_pl_lock_take();
	for (int i = 0; i < VDIR_MAX; i++) {
		if (!vdirs[i]) {
			vdirs[i] = v;
			__atomic_add_fetch(&nvdirs, 1, __ATOMIC_RELEASE);
			cx_pl_lock_drop();
			return (DIR *)v;
		}
	}
	cx_pl_lock_drop();
	free(v->ents);
	free(v);
	if (fd >= 0)
		close(fd);
	errno = EMFILE;
	return NULL;
}

DIR *opendir(const char *path)
{
	if (!cx_pl_claims(path))
		return CX_PL_NEXT(opendir)(path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	return vdir_open(cx_pl_dir_of(fd), fd);
}

DIR *fdopendir(int fd)
{
	const char *dir = cx_pl_dir_of(fd);
	if (!dir)
		return CX_PL_NEXT(fdopendir)(fd);
	char path[CX_SYSFS_PATH_MAX];
	snprintf(path, sizeof(path), "%s", dir);
	return vdir_open(path, fd);
}

static unsigned char d_type(enum cx_sysfs_ctype t)
{
	switch (t) {
	case CX_SC_DIR:
		return DT_DIR;
	case CX_SC_LINK:
		return DT_LNK;
	case CX_SC_CHR:
		return DT_CHR;
	case CX_SC_ATTR:
	default:
		return DT_REG;
	}
}

static struct dirent *vdir_next(struct vdir *v)
{
	if (v->pos >= v->n)
		return NULL;   /* the end: errno untouched */
	const struct cx_sysfs_centry *e = &v->ents[v->pos++];
	memset(&v->de, 0, sizeof(v->de));
	v->de.d_ino = e->ino ? e->ino : 1;
	v->de.d_off = v->pos;
	v->de.d_reclen = sizeof(v->de);
	v->de.d_type = d_type(e->type);
	snprintf(v->de.d_name, sizeof(v->de.d_name), "%s", e->name);
	return &v->de;
}

struct dirent *readdir(DIR *d)
{
	struct vdir *v = vdir_of(d);
	return v ? vdir_next(v) : CX_PL_NEXT(readdir)(d);
}

/* struct dirent64 has struct dirent's layout on 64-bit Linux */
struct dirent64 *readdir64(DIR *d)
{
	struct vdir *v = vdir_of(d);
	return v ? (struct dirent64 *)vdir_next(v) : CX_PL_NEXT(readdir64)(d);
}

/* deprecated in glibc, still called by old programs */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int readdir_r(DIR *d, struct dirent *entry, struct dirent **result)
{
	struct vdir *v = vdir_of(d);
	if (!v)
		return CX_PL_NEXT(readdir_r)(d, entry, result);
	struct dirent *e = vdir_next(v);
	if (e)
		memcpy(entry, e, sizeof(*e));
	*result = e ? entry : NULL;
	return 0;
}

int readdir64_r(DIR *d, struct dirent64 *entry, struct dirent64 **result)
{
	struct vdir *v = vdir_of(d);
	if (!v)
		return CX_PL_NEXT(readdir64_r)(d, entry, result);
	struct dirent *e = vdir_next(v);
	if (e)
		memcpy(entry, e, sizeof(*e));
	*result = e ? entry : NULL;
	return 0;
}

#pragma GCC diagnostic pop

void rewinddir(DIR *d)
{
	struct vdir *v = vdir_of(d);
	if (v)
		v->pos = 0;
	else
		CX_PL_NEXT(rewinddir)(d);
}

long telldir(DIR *d)
{
	struct vdir *v = vdir_of(d);
	return v ? v->pos : CX_PL_NEXT(telldir)(d);
}

void seekdir(DIR *d, long pos)
{
	struct vdir *v = vdir_of(d);
	if (v)
		v->pos = pos < 0 ? 0 : pos > v->n ? v->n : pos;
	else
		CX_PL_NEXT(seekdir)(d, pos);
}

int dirfd(DIR *d)
{
	struct vdir *v = vdir_of(d);
	return v ? v->fd : CX_PL_NEXT(dirfd)(d);
}

int closedir(DIR *d)
{
	struct vdir *v = vdir_of(d);
	if (!v)
		return CX_PL_NEXT(closedir)(d);
	cx_pl_lock_take();
	for (int i = 0; i < VDIR_MAX; i++) {
		if (vdirs[i] == v) {
			vdirs[i] = NULL;
			__atomic_sub_fetch(&nvdirs, 1, __ATOMIC_RELEASE);
		}
	}
	cx_pl_lock_drop();
	if (v->fd >= 0)
		close(v->fd);
	free(v->ents);
	free(v);
	return 0;
}

typedef int (*scan_filter)(const struct dirent *);
typedef int (*scan_compar)(const struct dirent **, const struct dirent **);

static int claimed_scandir(const char *path, struct dirent ***list,
			   scan_filter filter, scan_compar compar)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent **out = NULL, *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (filter && !filter(e))
			continue;
		out = cx_xrealloc(out, sizeof(*out) * (size_t)(n + 1));
		out[n] = cx_xcalloc(1, sizeof(*e));
		memcpy(out[n++], e, sizeof(*e));
	}
	closedir(d);
	if (compar && n > 1)
		qsort(out, (size_t)n, sizeof(*out),
		      (int (*)(const void *, const void *))compar);
	*list = out;
	return n;
}

int scandir(const char *path, struct dirent ***list, scan_filter filter,
	    scan_compar compar)
{
	if (cx_pl_claims(path))
		return claimed_scandir(path, list, filter, compar);
	return CX_PL_NEXT(scandir)(path, list, filter, compar);
}

int scandir64(const char *path, struct dirent64 ***list,
	      int (*filter)(const struct dirent64 *),
	      int (*compar)(const struct dirent64 **,
			    const struct dirent64 **))
{
	if (cx_pl_claims(path))
		return claimed_scandir(path, (struct dirent ***)list,
				       (scan_filter)filter,
				       (scan_compar)compar);
	return CX_PL_NEXT(scandir64)(path, list, filter, compar);
}

/* ---- links ---- */

static bool claimed_readlink(int dirfd, const char *path, char *buf,
			     size_t size, ssize_t *rc)
{
	char joined[CX_SYSFS_PATH_MAX];
	const char *p = cx_pl_claimed_at(dirfd, path, joined, sizeof(joined));
	if (!p)
		return false;
	struct cx_sysfs_cstat st;
	int r = sysfs_stat(p, true, &st);
	if (r < 0) {
		errno = -r;
		*rc = -1;
	} else if (st.type != CX_SC_LINK) {
		errno = EINVAL;
		*rc = -1;
	} else {
		size_t l = strlen(st.link);
		if (l > size)
			l = size;
		memcpy(buf, st.link, l);
		*rc = (ssize_t)l;
	}
	return true;
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	ssize_t rc;
	if (claimed_readlink(AT_FDCWD, path, buf, size, &rc))
		return rc;
	return CX_PL_NEXT(readlink)(path, buf, size);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	ssize_t rc;
	if (claimed_readlink(dirfd, path, buf, size, &rc))
		return rc;
	return CX_PL_NEXT(readlinkat)(dirfd, path, buf, size);
}

ssize_t __readlink_chk(const char *path, char *buf, size_t size,
		       size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t size,
		       size_t buflen)
{
	ssize_t rc;
	if (claimed_readlink(AT_FDCWD, path, buf, size < buflen ? size : buflen,
			     &rc))
		return rc;
	return CX_PL_NEXT(__readlink_chk)(path, buf, size, buflen);
}

ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size,
			 size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size,
			 size_t buflen)
{
	ssize_t rc;
	if (claimed_readlink(dirfd, path, buf, size < buflen ? size : buflen,
			     &rc))
		return rc;
	return CX_PL_NEXT(__readlinkat_chk)(dirfd, path, buf, size, buflen);
}

static char *claimed_realpath(const char *path, char *resolved, size_t cap)
{
	struct cx_sysfs_cstat st;
	int rc = sysfs_stat(path, false, &st);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	size_t l = strlen(st.path);
	if (!resolved)
		return cx_xstrdup(st.path);
	if (l >= cap) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(resolved, st.path, l + 1);
	return resolved;
}

char *realpath(const char *path, char *resolved)
{
	if (cx_pl_claims(path))
		return claimed_realpath(path, resolved, PATH_MAX);
	return CX_PL_NEXT(realpath)(path, resolved);
}

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
	if (cx_pl_claims(path))
		return claimed_realpath(path, resolved, resolvedlen);
	return CX_PL_NEXT(__realpath_chk)(path, resolved, resolvedlen);
}

char *canonicalize_file_name(const char *path)
{
	if (cx_pl_claims(path))
		return claimed_realpath(path, NULL, PATH_MAX);
	return CX_PL_NEXT(canonicalize_file_name)(path);
}
