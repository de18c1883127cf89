/*
 * preload.c - libcxlemu-preload.so: run unmodified device-DAX programs on
 * a cxlemu fabric.
 *
 *   cxlemu run --host host1 -- ./daxwriter MSG
 *   LD_PRELOAD=/abs/path/libcxlemu-preload.so CXLEMU_HOST=host1 ./daxwriter MSG
 *
 * open("/dev/daxZ.M") (and open64, openat, the _2 fortify forms) is
 * answered by the fabric at $CXLEMU_SOCKET (default socket otherwise) as
 * host $CXLEMU_HOST (default: the first host).  The program gets a
 * placeholder descriptor (an epoll instance: like device-DAX it refuses
 * read, write and fsync even when a call bypasses the preload), and
 * mmap() of it lays the emulated device's media into its address space
 * (cxlemu/dax.h).  stat and the device's sysfs are answered from the
 * daemon's live state (preload_stat.c, preload_sysfs.c), so programs that
 * check what they opened (PMDK, fio, Python, memtester) find a device-DAX
 * character device.  /dev/cxl/memN, the memdevs' mailboxes, is answered
 * the same way (preload_cxl.c).  Every other path and descriptor goes to
 * the C library untouched.
 *
 * The device stays open (its region cannot be destroyed) while any
 * descriptor or any mapped byte remains.  After fork() the child holds
 * nothing of the parent's: its inherited mappings keep working (they are
 * the same shared pages) while the parent holds the device, and it opens
 * the device on its own connection if it maps an inherited descriptor.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sysfs/sysfs.h"
#include "util/util.h"

pthread_mutex_t cx_pl_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
struct cx_pl_fd cx_pl_fds[CX_PL_MAX_FDS];
static struct cxlemu *conn;
static int conn_rc;             /* why the connection failed, once it has */

static void after_fork_child(void);

__attribute__((constructor)) static void preload_init(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

void cx_pl_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cxlemu-preload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct cxlemu *cx_pl_conn(int *rc)
{
	struct cxlemu_err err;
	if (conn)
		return conn;
	if (conn_rc) {
		*rc = conn_rc;
		return NULL;
	}
	int r = cxlemu_connect(getenv("CXLEMU_SOCKET"), getenv("CXLEMU_HOST"),
			       &conn, &err);
	if (r < 0) {
		/* no fabric: its devices do not exist for this program */
		conn_rc = -ENOENT;
		*rc = conn_rc;
		cx_pl_say("no fabric to answer for /dev/dax*, /dev/cxl and "
			  "their sysfs: %s", err.msg);
		return NULL;
	}
	return conn;
}

bool cx_pl_is_dax_path(const char *path, char *name, size_t len,
		       unsigned *major, unsigned *minor)
{
	const char *p;
	char *end;
	if (!path || strncmp(path, "/dev/dax", 8))
		return false;
	p = path + 8;
	if (*p < '0' || *p > '9')
		return false;
	unsigned long z = strtoul(p, &end, 10);
	if (*end != '.' || z > 4095 || end[1] < '0' || end[1] > '9')
		return false;
	unsigned long m = strtoul(end + 1, &end, 10);
	if (*end || m > 255)
		return false;
	if (name)
		snprintf(name, len, "dax%u.%u", (unsigned)z, (unsigned)m);
	if (major)
		*major = CX_SYSFS_DAX_MAJOR;
	if (minor)
		*minor = CX_SYSFS_DAX_MINOR(z, m);
	return true;
}

struct cx_pl_dev *cx_pl_dev_of(int fd)
{
	return fd >= 0 && fd < CX_PL_MAX_FDS ? cx_pl_fds[fd].dev : NULL;
}

struct cx_pl_mem *cx_pl_mem_of(int fd)
{
	return fd >= 0 && fd < CX_PL_MAX_FDS ? cx_pl_fds[fd].mem : NULL;
}

const char *cx_pl_dir_of(int fd)
{
	return fd >= 0 && fd < CX_PL_MAX_FDS ? cx_pl_fds[fd].dir : NULL;
}

void cx_pl_release_if_done(struct cx_pl_dev *d)
{
	if (d->nfds > 0 || d->nmaps > 0)
		return;
	cxlemu_dax_close(d->dax);
	free(d);
}

int cx_pl_attach(struct cx_pl_dev *d, const char *path)
{
	struct cxlemu_err err;
	int rc;
	struct cxlemu *c = cx_pl_conn(&rc);
	if (!c)
		return rc;
	rc = cxlemu_dax_open(c, d->name, &d->dax, &err);
	if (rc == -EBUSY) {
		/* bound to kmem: the node is there, the device is not */
		cx_pl_say("%s: %s", path, err.msg);
		return -ENXIO;
	}
	if (rc < 0) {
		cx_pl_say("%s: %s", path, err.msg);
		return -ENOENT;
	}
	cx_pl_coh_attach(d);    /* its coherency mode (preload_coherency.c) */
	return 0;
}

int cx_pl_placeholder(bool cloexec)
{
	return epoll_create1(cloexec ? EPOLL_CLOEXEC : 0);
}

int cx_pl_node_flags_check(int flags)
{
	if (flags & O_DIRECTORY)
		return ENOTDIR;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return EEXIST;
	return 0;
}

int cx_pl_node_fd(int flags)
{
	int fd = cx_pl_placeholder(flags & O_CLOEXEC);
	if (fd >= CX_PL_MAX_FDS) {
		CX_PL_NEXT(close)(fd);
		errno = EMFILE;
		return -1;
	}
	return fd;
}

int cx_pl_track_dir(int fd, const char *path)
{
	if (fd < 0 || fd >= CX_PL_MAX_FDS) {
		if (fd >= 0)
			CX_PL_NEXT(close)(fd);
		errno = EMFILE;
		return -1;
	}
	cx_pl_lock_take();
	free(cx_pl_fds[fd].dir);
	cx_pl_fds[fd].dir = cx_xstrdup(path);
	cx_pl_lock_drop();
	return fd;
}

/* Open the emulated device; returns a placeholder descriptor or -1. */
static int dax_open(const char *path, int flags)
{
	int e = cx_pl_node_flags_check(flags);
	if (e) {
		errno = e;
		return -1;
	}
	struct cx_pl_dev *d = cx_xcalloc(1, sizeof(*d));
	cx_pl_is_dax_path(path, d->name, sizeof(d->name), &d->major, &d->minor);
	cx_pl_lock_take();
	int rc = cx_pl_attach(d, path);
	if (rc < 0) {
		cx_pl_lock_drop();
		free(d);
		errno = -rc;
		return -1;
	}
	int fd = cx_pl_node_fd(flags);
	if (fd < 0) {
		e = errno;
		cxlemu_dax_close(d->dax);
		free(d);
		cx_pl_lock_drop();
		errno = e;
		return -1;
	}
	d->nfds = 1;
	cx_pl_fds[fd].dev = d;
	cx_pl_fds[fd].acc = flags & O_ACCMODE;
	cx_pl_lock_drop();
	return fd;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode,
		       bool at)
{
	char buf[CX_SYSFS_PATH_MAX];
	const char *p = cx_pl_claimed_at(at ? dirfd : AT_FDCWD, path, buf,
					 sizeof(buf));
	if (p && cx_pl_is_dax_path(p, NULL, 0, NULL, NULL))
		return dax_open(p, flags);
	if (p && cx_pl_is_mem_path(p, NULL))
		return cx_pl_mem_open(p, flags);
	if (p)
		return cx_pl_sysfs_open(p, flags);
	if (at)
		return CX_PL_NEXT(openat)(dirfd, path, flags, mode);
	return CX_PL_NEXT(open)(path, flags, mode);
}

static mode_t va_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(name)                                                  \
	int name(const char *path, int flags, ...)                          \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, flags);                                        \
		mode_t m = va_mode(flags, ap);                              \
		va_end(ap);                                                 \
		return open_common(AT_FDCWD, path, flags, m, false);        \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

#define OPENAT_WRAPPER(name)                                                \
	int name(int dirfd, const char *path, int flags, ...)               \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, flags);                                        \
		mode_t m = va_mode(flags, ap);                              \
		va_end(ap);                                                 \
		return open_common(dirfd, path, flags, m, true);            \
	}
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

int __open_2(const char *path, int flags) { return open_common(AT_FDCWD, path, flags, 0, false); }
int __open64_2(const char *path, int flags) { return open_common(AT_FDCWD, path, flags, 0, false); }
int __openat_2(int d, const char *path, int flags) { return open_common(d, path, flags, 0, true); }
int __openat64_2(int d, const char *path, int flags) { return open_common(d, path, flags, 0, true); }

/* ---- descriptors ---- */

/* `fd` stops naming what it named (close, or dup2 onto it). Lock held. */
static void forget_fd(int fd)
{
	if (fd < 0 || fd >= CX_PL_MAX_FDS)
		return;
	struct cx_pl_dev *d = cx_pl_fds[fd].dev;
	free(cx_pl_fds[fd].dir);
	cx_pl_fds[fd].dir = NULL;
	cx_pl_fds[fd].dev = NULL;
	if (cx_pl_fds[fd].mem)
		cx_pl_mem_put(cx_pl_fds[fd].mem);
	cx_pl_fds[fd].mem = NULL;
	if (d) {
		d->nfds--;
		cx_pl_release_if_done(d);
	}
}

/* A successful dup of `old` made `new`. */
static int dup_done(int old, int new)
{
	if (new < 0 || old == new)
		return new;
	cx_pl_lock_take();
	forget_fd(new); /* dup2/dup3 closed whatever `new` was */
	if (new < CX_PL_MAX_FDS && old >= 0 && old < CX_PL_MAX_FDS) {
		struct cx_pl_dev *d = cx_pl_fds[old].dev;
		if (d) {
			cx_pl_fds[new].dev = d;
			cx_pl_fds[new].acc = cx_pl_fds[old].acc;
			d->nfds++;
		}
		struct cx_pl_mem *m = cx_pl_fds[old].mem;
		if (m) {
			cx_pl_fds[new].mem = m;
			cx_pl_fds[new].acc = cx_pl_fds[old].acc;
			m->nfds++;
		}
		if (cx_pl_fds[old].dir)
			cx_pl_fds[new].dir = cx_xstrdup(cx_pl_fds[old].dir);
	}
	cx_pl_lock_drop();
	return new;
}

int close(int fd)
{
	if (cx_pl_dev_of(fd) || cx_pl_mem_of(fd) || cx_pl_dir_of(fd)) {
		cx_pl_lock_take();
		forget_fd(fd);
		cx_pl_lock_drop();
	}
	return CX_PL_NEXT(close)(fd);
}

int dup(int fd) { return dup_done(fd, CX_PL_NEXT(dup)(fd)); }
int dup2(int fd, int nfd) { return dup_done(fd, CX_PL_NEXT(dup2)(fd, nfd)); }
int dup3(int fd, int nfd, int fl) { return dup_done(fd, CX_PL_NEXT(dup3)(fd, nfd, fl)); }

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	/* every fcntl argument fits in a pointer-sized vararg */
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int rc = CX_PL_NEXT(fcntl)(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_done(fd, rc);
	if (cmd == F_GETFL && rc >= 0 &&
	    (cx_pl_dev_of(fd) || cx_pl_mem_of(fd)))
		/* the placeholder is O_RDWR; show how the device was opened */
		rc = (rc & ~O_ACCMODE) | cx_pl_fds[fd].acc | O_LARGEFILE;
	return rc;
}
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/*
 * In a forked child: the connection, the open devices and the mapped
 * ranges are the parent's holds.  Drop this process's copies without a
 * word to the daemon; descriptors stay tracked (by device name) so that
 * a child that maps one opens the device on its own connection.  Open
 * memdevs hold nothing in the daemon: the child's ioctls go out on its
 * own connection.
 */
static void after_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	memcpy(&cx_pl_lock, &fresh, sizeof(cx_pl_lock));
	cx_pl_maps_forget();
	for (int fd = 0; fd < CX_PL_MAX_FDS; fd++) {
		struct cx_pl_dev *d = cx_pl_fds[fd].dev;
		if (d && d->dax) {
			cxlemu_dax_forget(d->dax);
			d->dax = NULL;
		}
		if (d)
			d->nmaps = 0;
	}
	if (conn) {
		cxlemu_close(conn);
		conn = NULL;
	}
	conn_rc = 0;
}
