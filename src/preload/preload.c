/*
 * preload.c - libcxlemu-preload.so: run unmodified device-DAX programs on
 * a cxlemu fabric.
 *
 *   LD_PRELOAD=build/libcxlemu-preload.so CXLEMU_HOST=host1 ./daxwriter MSG
 *
 * open("/dev/daxZ.M") (and open64, openat, the _2 fortify forms) is
 * answered by the fabric at $CXLEMU_SOCKET (default socket otherwise) as
 * host $CXLEMU_HOST (default: the first host): the program gets a
 * placeholder descriptor, and mmap() of that descriptor lays the emulated
 * device's media into its address space (cxlemu/dax.h).  Every other
 * path and descriptor goes to the C library untouched.  A device the host
 * does not have fails the open with ENOENT and a line on stderr saying
 * what the host has.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cxlemu/dax.h"
#include "util/util.h"

#define MAX_TRACK 1024

struct tracked {
	struct cxlemu_dax *dax;
	int maps;           /* live mappings made through this descriptor */
	bool closed;        /* the program closed it; release at last unmap */
};
struct mapping {
	void *addr;
	size_t len;
	struct tracked *t;
};

/* recursive: the client library calls close() and mmap(), which land
 * back in this file while an open or mmap holds the lock */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct tracked *fds[MAX_TRACK]; /* by placeholder descriptor */
static struct mapping maps[MAX_TRACK];
static struct cxlemu *conn;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_close)(int);

static void resolve(void)
{
	if (real_open)
		return;
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_mmap = dlsym(RTLD_NEXT, "mmap");
	real_munmap = dlsym(RTLD_NEXT, "munmap");
	real_close = dlsym(RTLD_NEXT, "close");
	real_open = dlsym(RTLD_NEXT, "open");
}

static bool is_dax_path(const char *path, char *dev, size_t len)
{
	int z, m, n = 0;
	if (!path || strncmp(path, "/dev/dax", 8))
		return false;
	if (sscanf(path, "/dev/dax%d.%d%n", &z, &m, &n) != 2 || path[n] ||
	    z < 0 || m < 0)
		return false;
	snprintf(dev, len, "dax%d.%d", z, m);
	return true;
}

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cxlemu-preload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Open the emulated device; returns a placeholder descriptor or -1. */
static int dax_open(const char *path, int flags)
{
	char dev[32];
	struct cxlemu_err err;
	struct cxlemu_dax *d;

	is_dax_path(path, dev, sizeof(dev));
	pthread_mutex_lock(&lock);
	if (!conn && cxlemu_connect(getenv("CXLEMU_SOCKET"),
				    getenv("CXLEMU_HOST"), &conn, &err) < 0) {
		pthread_mutex_unlock(&lock);
		say("%s: %s", path, err.msg);
		errno = ENOENT;
		return -1;
	}
	int rc = cxlemu_dax_open(conn, dev, &d, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&lock);
		say("%s: %s", path, err.msg);
		errno = rc == -EBUSY ? EBUSY : ENOENT;
		return -1;
	}
	int fd = memfd_create(dev, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0 || fd >= MAX_TRACK) {
		int e = fd < 0 ? errno : EMFILE;
		if (fd >= 0)
			real_close(fd);
		cxlemu_dax_close(d);
		pthread_mutex_unlock(&lock);
		errno = e;
		return -1;
	}
	fds[fd] = cx_xcalloc(1, sizeof(struct tracked));
	fds[fd]->dax = d;
	pthread_mutex_unlock(&lock);
	return fd;
}

static int open_common(const char *path, int flags, mode_t mode, int dirfd,
		       bool at)
{
	char dev[32];
	resolve();
	if (is_dax_path(path, dev, sizeof(dev)))
		return dax_open(path, flags);
	if (at)
		return real_openat(dirfd, path, flags, mode);
	return real_open(path, flags, mode);
}

static mode_t va_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t m = va_mode(flags, ap);
	va_end(ap);
	return open_common(path, flags, m, AT_FDCWD, false);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t m = va_mode(flags, ap);
	va_end(ap);
	return open_common(path, flags, m, AT_FDCWD, false);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t m = va_mode(flags, ap);
	va_end(ap);
	return open_common(path, flags, m, dirfd, true);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t m = va_mode(flags, ap);
	va_end(ap);
	return open_common(path, flags, m, dirfd, true);
}

int __open_2(const char *path, int flags) { return open_common(path, flags, 0, AT_FDCWD, false); }
int __open64_2(const char *path, int flags) { return open_common(path, flags, 0, AT_FDCWD, false); }
int __openat_2(int d, const char *path, int flags) { return open_common(path, flags, 0, d, true); }
int __openat64_2(int d, const char *path, int flags) { return open_common(path, flags, 0, d, true); }

/* A closed descriptor's device stays open while its mappings live. */
static void release_if_done(struct tracked *t)
{
	if (t->closed && t->maps == 0) {
		cxlemu_dax_close(t->dax);
		free(t);
	}
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	resolve();
	if (fd < 0 || fd >= MAX_TRACK || !fds[fd])
		return real_mmap(addr, len, prot, flags, fd, off);
	struct cxlemu_err err;
	void *p;
	long pg = sysconf(_SC_PAGESIZE);
	size_t rlen = (len + (size_t)pg - 1) & ~((size_t)pg - 1);
	pthread_mutex_lock(&lock);
	int rc = cxlemu_dax_map_at(fds[fd]->dax, (uint64_t)off, rlen, prot, addr,
				   (flags & MAP_FIXED) != 0, &p, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&lock);
		say("mmap of %zu bytes at offset %lld: %s", len,
		    (long long)off, err.msg);
		errno = rc == -ERANGE ? ENXIO : rc == -E2BIG ? ENOMEM : EINVAL;
		return MAP_FAILED;
	}
	for (int i = 0; i < MAX_TRACK; i++) {
		if (!maps[i].addr) {
			maps[i] = (struct mapping){ p, rlen, fds[fd] };
			fds[fd]->maps++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
	resolve();
	int rc = real_munmap(addr, len);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_TRACK; i++) {
		if (maps[i].addr == addr) {
			struct tracked *t = maps[i].t;
			maps[i].addr = NULL;
			t->maps--;
			release_if_done(t);
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int close(int fd)
{
	resolve();
	if (fd >= 0 && fd < MAX_TRACK) {
		pthread_mutex_lock(&lock);
		if (fds[fd]) {
			struct tracked *t = fds[fd];
			fds[fd] = NULL;
			t->closed = true;
			release_if_done(t);
		}
		pthread_mutex_unlock(&lock);
	}
	return real_close(fd);
}
