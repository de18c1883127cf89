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
 * device's media into its address space (cxlemu/dax.h).  Every other path
 * and descriptor goes to the C library untouched.
 *
 * What real device-DAX does, this does: only shared mappings (MAP_PRIVATE
 * is EINVAL); descriptors made by dup/dup2/dup3/fcntl(F_DUPFD) map the same
 * device; the device stays open (its region cannot be destroyed) while
 * any descriptor or any mapped byte remains, and a partial munmap keeps
 * the rest; mremap may shrink or move a mapping (growing is refused).  After fork() the child holds nothing of the parent's; it
 * opens the device again on its own connection if it maps it.
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

#define MAX_FDS 4096
#define MAX_MAPS 4096

struct tracked {
	char dev[32];              /* daxZ.M */
	struct cxlemu_dax *dax;    /* NULL in a forked child until it maps */
	int nfds;                  /* placeholder descriptors naming it */
	int nmaps;                 /* mapped ranges */
};
struct mapping {
	uintptr_t start, end;      /* [start, end) still mapped */
	struct tracked *t;
};

/* recursive: the client library calls close() and mmap(), which land
 * back in this file while an open or mmap holds the lock */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static struct tracked *fds[MAX_FDS];
static struct mapping maps[MAX_MAPS];
static struct cxlemu *conn;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);

static void after_fork_child(void);

static void resolve_once(void)
{
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_mmap = dlsym(RTLD_NEXT, "mmap");
	real_munmap = dlsym(RTLD_NEXT, "munmap");
	real_mremap = dlsym(RTLD_NEXT, "mremap");
	real_close = dlsym(RTLD_NEXT, "close");
	real_dup = dlsym(RTLD_NEXT, "dup");
	real_dup2 = dlsym(RTLD_NEXT, "dup2");
	real_dup3 = dlsym(RTLD_NEXT, "dup3");
	real_fcntl = dlsym(RTLD_NEXT, "fcntl");
	real_open = dlsym(RTLD_NEXT, "open");
	pthread_atfork(NULL, NULL, after_fork_child);
}

static void resolve(void) { pthread_once(&once, resolve_once); }

/* "/dev/daxZ.M" with Z and M small decimal numbers */
static bool is_dax_path(const char *path, char *dev, size_t len)
{
	const char *p;
	char *end;
	if (!path || strncmp(path, "/dev/dax", 8))
		return false;
	p = path + 8;
	if (*p < '0' || *p > '9')
		return false;
	unsigned long z = strtoul(p, &end, 10);
	if (*end != '.' || z > 1000000 || end[1] < '0' || end[1] > '9')
		return false;
	unsigned long m = strtoul(end + 1, &end, 10);
	if (*end || m > 1000000)
		return false;
	snprintf(dev, len, "dax%u.%u", (unsigned)z, (unsigned)m);
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

static struct tracked *tracked_of(int fd)
{
	return fd >= 0 && fd < MAX_FDS ? fds[fd] : NULL;
}

/* Nothing names the device any more: let the daemon know. */
static void release_if_done(struct tracked *t)
{
	if (t->nfds > 0 || t->nmaps > 0)
		return;
	cxlemu_dax_close(t->dax);
	free(t);
}

/* Open the device on this process's connection (t->dax). */
static int attach(struct tracked *t, const char *path)
{
	struct cxlemu_err err;
	if (!conn && cxlemu_connect(getenv("CXLEMU_SOCKET"),
				    getenv("CXLEMU_HOST"), &conn, &err) < 0) {
		say("%s: %s", path, err.msg);
		return -ENOENT;
	}
	int rc = cxlemu_dax_open(conn, t->dev, &t->dax, &err);
	if (rc < 0) {
		say("%s: %s", path, err.msg);
		return rc == -EBUSY ? -EBUSY : -ENOENT;
	}
	return 0;
}

/* Open the emulated device; returns a placeholder descriptor or -1. */
static int dax_open(const char *path, int flags)
{
	struct tracked *t = cx_xcalloc(1, sizeof(*t));
	is_dax_path(path, t->dev, sizeof(t->dev));
	pthread_mutex_lock(&lock);
	int rc = attach(t, path);
	if (rc < 0) {
		pthread_mutex_unlock(&lock);
		free(t);
		errno = -rc;
		return -1;
	}
	int fd = memfd_create(t->dev, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0 || fd >= MAX_FDS) {
		int e = fd < 0 ? errno : EMFILE;
		if (fd >= 0)
			real_close(fd);
		cxlemu_dax_close(t->dax);
		free(t);
		pthread_mutex_unlock(&lock);
		errno = e;
		return -1;
	}
	t->nfds = 1;
	fds[fd] = t;
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

#define OPEN_WRAPPER(name, at)                                              \
	int name(const char *path, int flags, ...)                          \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, flags);                                        \
		mode_t m = va_mode(flags, ap);                              \
		va_end(ap);                                                 \
		return open_common(path, flags, m, AT_FDCWD, at);           \
	}
OPEN_WRAPPER(open, false)
OPEN_WRAPPER(open64, false)

#define OPENAT_WRAPPER(name)                                                \
	int name(int dirfd, const char *path, int flags, ...)               \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, flags);                                        \
		mode_t m = va_mode(flags, ap);                              \
		va_end(ap);                                                 \
		return open_common(path, flags, m, dirfd, true);            \
	}
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

int __open_2(const char *path, int flags) { return open_common(path, flags, 0, AT_FDCWD, false); }
int __open64_2(const char *path, int flags) { return open_common(path, flags, 0, AT_FDCWD, false); }
int __openat_2(int d, const char *path, int flags) { return open_common(path, flags, 0, d, true); }
int __openat64_2(int d, const char *path, int flags) { return open_common(path, flags, 0, d, true); }

/* ---- descriptors ---- */

/* `fd` stops naming its device (close, or dup2 onto it). */
static void forget_fd(int fd)
{
	struct tracked *t = tracked_of(fd);
	if (!t)
		return;
	fds[fd] = NULL;
	t->nfds--;
	release_if_done(t);
}

/* A successful dup of `old` made `new`. */
static int dup_done(int old, int new)
{
	if (new < 0 || old == new)
		return new;
	pthread_mutex_lock(&lock);
	struct tracked *t = tracked_of(old);
	forget_fd(new); /* dup2/dup3 closed whatever `new` was */
	if (t && new < MAX_FDS) {
		fds[new] = t;
		t->nfds++;
	}
	pthread_mutex_unlock(&lock);
	return new;
}

int close(int fd)
{
	resolve();
	if (tracked_of(fd)) {
		pthread_mutex_lock(&lock);
		forget_fd(fd);
		pthread_mutex_unlock(&lock);
	}
	return real_close(fd);
}

int dup(int fd) { resolve(); return dup_done(fd, real_dup(fd)); }
int dup2(int fd, int nfd) { resolve(); return dup_done(fd, real_dup2(fd, nfd)); }
int dup3(int fd, int nfd, int fl) { resolve(); return dup_done(fd, real_dup3(fd, nfd, fl)); }

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	/* every fcntl argument fits in a pointer-sized vararg */
	void *arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	int rc = real_fcntl(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_done(fd, rc);
	return rc;
}
int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* ---- mappings ---- */

static void add_mapping(uintptr_t start, uintptr_t end, struct tracked *t)
{
	for (int i = 0; i < MAX_MAPS; i++) {
		if (!maps[i].t) {
			maps[i] = (struct mapping){ start, end, t };
			t->nmaps++;
			return;
		}
	}
	/* out of slots: keep the hold (the device stays open) */
	t->nmaps++;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	resolve();
	struct tracked *t = tracked_of(fd);
	if (!t)
		return real_mmap(addr, len, prot, flags, fd, off);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int type = flags & MAP_TYPE;
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE) {
		say("%s: device-DAX is mapped shared only (MAP_PRIVATE and "
		    "other types are refused, as by Linux)", t->dev);
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (!len || len > SIZE_MAX - pg || off < 0) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	size_t rlen = (len + pg - 1) & ~(pg - 1);
	struct cxlemu_err err;
	void *p;
	pthread_mutex_lock(&lock);
	if (!t->dax) { /* a forked child mapping an inherited descriptor */
		char path[48];
		snprintf(path, sizeof(path), "/dev/%s", t->dev);
		int rc = attach(t, path);
		if (rc < 0) {
			pthread_mutex_unlock(&lock);
			errno = -rc;
			return MAP_FAILED;
		}
	}
	int rc = cxlemu_dax_map_at(t->dax, (uint64_t)off, rlen, prot, addr,
				   (flags & MAP_FIXED) != 0, &p, &err);
	if (rc < 0) {
		pthread_mutex_unlock(&lock);
		say("mmap of %zu bytes of %s at offset %lld: %s", len, t->dev,
		    (long long)off, err.msg);
		errno = rc == -ERANGE ? ENXIO : rc == -E2BIG ? ENOMEM : EINVAL;
		return MAP_FAILED;
	}
	add_mapping((uintptr_t)p, (uintptr_t)p + rlen, t);
	pthread_mutex_unlock(&lock);
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/* [a, b) is unmapped: trim, split or drop the ranges it touches. */
static void unmapped(uintptr_t a, uintptr_t b)
{
	for (int i = 0; i < MAX_MAPS; i++) {
		struct mapping *m = &maps[i];
		if (!m->t || b <= m->start || a >= m->end)
			continue;
		struct tracked *t = m->t;
		if (a > m->start && b < m->end) {       /* a hole: split */
			uintptr_t tail = m->end;
			m->end = a;
			add_mapping(b, tail, t);
			continue;
		}
		if (a > m->start)
			m->end = a;                     /* the tail went */
		else if (b < m->end)
			m->start = b;                   /* the head went */
		else {                                  /* all of it */
			m->t = NULL;
			t->nmaps--;
			release_if_done(t);
		}
	}
}

int munmap(void *addr, size_t len)
{
	resolve();
	int rc = real_munmap(addr, len);
	if (rc == 0 && len) {
		size_t pg = (size_t)sysconf(_SC_PAGESIZE);
		uintptr_t a = (uintptr_t)addr;
		uintptr_t b = len > UINTPTR_MAX - a - pg ? UINTPTR_MAX
			       : (a + len + pg - 1) & ~(uintptr_t)(pg - 1);
		pthread_mutex_lock(&lock);
		unmapped(a, b);
		pthread_mutex_unlock(&lock);
	}
	return rc;
}

/* The device mapped at some byte of [a, b), or NULL. */
static struct tracked *mapped_in(uintptr_t a, uintptr_t b)
{
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].t && a < maps[i].end && maps[i].start < b)
			return maps[i].t;
	return NULL;
}

/*
 * mremap of a DAX mapping: shrinking it and moving it are followed (the
 * hold moves with the bytes); growing it is refused, since the bytes past
 * the mapping in the media need not be the device's next ones (another
 * partition, another granule's position).  MREMAP_DONTUNMAP would leave
 * the old range mapped to nothing the device answers for: refused too.
 */
void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *want = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	resolve();
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)old;
	size_t old_r = (old_len + pg - 1) & ~(pg - 1);
	size_t new_r = (new_len + pg - 1) & ~(pg - 1);
	pthread_mutex_lock(&lock);
	struct tracked *t = old_len && old_len <= SIZE_MAX - pg &&
			    a <= UINTPTR_MAX - old_r ?
			    mapped_in(a, a + old_r) : NULL;
	if (!t) {
		pthread_mutex_unlock(&lock);
		return real_mremap(old, old_len, new_len, flags, want);
	}
	if (new_len > old_len || (flags & MREMAP_DONTUNMAP)) {
		pthread_mutex_unlock(&lock);
		say("mremap of %s: a DAX mapping can shrink or move, not %s; "
		    "mmap the range you need instead", t->dev,
		    new_len > old_len ? "grow" : "stay mapped behind "
		    "(MREMAP_DONTUNMAP)");
		errno = EINVAL;
		return MAP_FAILED;
	}
	void *p = real_mremap(old, old_len, new_len, flags, want);
	if (p != MAP_FAILED && new_len) {
		if ((uintptr_t)p != a) {
			/* hold the new place before letting go of the old */
			add_mapping((uintptr_t)p, (uintptr_t)p + new_r, t);
			unmapped(a, a + old_r);
		} else {
			unmapped(a + new_r, a + old_r);
		}
	}
	pthread_mutex_unlock(&lock);
	return p;
}

/*
 * In a forked child: the connection, the open devices and the mapped
 * ranges are the parent's holds.  Drop this process's copies without a
 * word to the daemon; descriptors stay tracked (by device name) so that
 * a child that maps one opens the device on its own connection.
 */
static void after_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	memcpy(&lock, &fresh, sizeof(lock));
	for (int i = 0; i < MAX_MAPS; i++)
		maps[i].t = NULL;
	for (int fd = 0; fd < MAX_FDS; fd++) {
		struct tracked *t = fds[fd];
		if (t && t->dax) {
			cxlemu_dax_forget(t->dax);
			t->dax = NULL;
		}
		if (t)
			t->nmaps = 0;
	}
	if (conn) {
		cxlemu_close(conn);
		conn = NULL;
	}
}
