/*
 * media.c - memfd and file backed media, mapped once, read and written by
 * device offset.  See media.h for the ownership rules.
 */
#include "media.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static struct cx_media *media_alloc(const char *name, int fd, uint64_t off,
				    uint64_t size)
{
	struct cx_media *m = cx_xcalloc(1, sizeof(*m));
	m->name = cx_xstrdup(name);
	m->fd = fd;
	m->offset = off;
	m->size = size;
	m->refs = 1;
	return m;
}

static int media_map(struct cx_media *m, cx_err *e)
{
	if (!m->size)
		return 0;
	void *p = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       m->fd, (off_t)m->offset);
	if (p == MAP_FAILED)
		return cx_fail(e, errno, "media %s: cannot map %llu bytes: %s",
			       m->name, (unsigned long long)m->size,
			       strerror(errno));
	m->map = p;
	return 0;
}

int cx_media_new_memfd(const char *name, uint64_t size, struct cx_media **out,
		       cx_err *e)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return cx_fail(e, errno, "media %s: memfd_create: %s", name,
			       strerror(errno));
	/* Sealed at its size: descriptors handed to mapping clients can
	 * write the bytes but never shrink the media under the daemon's
	 * own mapping (which would turn the daemon's next access into
	 * SIGBUS) nor grow it. */
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int err = errno;
		close(fd);
		return cx_fail(e, err, "media %s: cannot size and seal a memfd "
			       "of %llu bytes: %s", name,
			       (unsigned long long)size, strerror(err));
	}
	struct cx_media *m = media_alloc(name, fd, 0, size);
	int rc = media_map(m, e);
	if (rc) {
		cx_media_put(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Copy the data extents of src into dst (sparse-aware). */
static int copy_file(int src, int dst, uint64_t size)
{
	static char buf[1 << 16];
	off_t pos = 0;

	while ((uint64_t)pos < size) {
		off_t d = lseek(src, pos, SEEK_DATA);
		if (d < 0)
			return errno == ENXIO ? 0 : -errno;
		off_t h = lseek(src, d, SEEK_HOLE);
		if (h < 0)
			return -errno;
		if ((uint64_t)h > size)
			h = (off_t)size;
		for (off_t p = d; p < h;) {
			size_t n = (size_t)(h - p) < sizeof(buf) ? (size_t)(h - p) : sizeof(buf);
			ssize_t r = pread(src, buf, n, p);
			if (r <= 0)
				return r < 0 ? -errno : 0;
			if (pwrite(dst, buf, (size_t)r, p) != r)
				return -errno;
			p += r;
		}
		pos = h;
	}
	return 0;
}

int cx_media_new_file(const char *name, const char *path, uint64_t size,
		      bool share, struct cx_media **out, cx_err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cx_fail(e, errno, "backend %s: cannot open mem-path "
			       "'%s': %s", name, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return cx_fail(e, EINVAL, "backend %s: mem-path '%s' is not a "
			       "regular file", name, path);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < size &&
	    ftruncate(fd, (off_t)size) < 0) {
		int err = errno;
		close(fd);
		return cx_fail(e, err, "backend %s: cannot grow '%s' to %llu "
			       "bytes: %s", name, path,
			       (unsigned long long)size, strerror(err));
	}
	if (!share) {
		/* QEMU maps share=off files MAP_PRIVATE: writes never reach
		 * the file.  A private memfd copy gives the same result and
		 * can still be handed to host programs. */
		struct cx_media *m;
		int rc = cx_media_new_memfd(name, size, &m, e);
		if (!rc && (rc = copy_file(fd, m->fd, size)) < 0) {
			cx_fail(e, -rc, "backend %s: cannot copy '%s': %s",
				name, path, strerror(-rc));
			cx_media_put(m);
		}
		close(fd);
		if (!rc)
			*out = m;
		return rc;
	}
	char real[PATH_MAX];
	struct cx_media *m = media_alloc(name, fd, 0, size);
	m->path = cx_xstrdup(realpath(path, real) ? real : path);
	m->persistent = true;
	int rc = media_map(m, e);
	if (rc) {
		cx_media_put(m);
		return rc;
	}
	*out = m;
	return 0;
}

int cx_media_slice(struct cx_media *parent, uint64_t off, uint64_t size,
		   const char *name, struct cx_media **out, cx_err *e)
{
	if (off > parent->size || size > parent->size - off)
		return cx_fail(e, ERANGE, "media %s: slice %llu+%llu exceeds "
			       "its %llu bytes", parent->name,
			       (unsigned long long)off, (unsigned long long)size,
			       (unsigned long long)parent->size);
	int fd = dup(parent->fd);
	if (fd < 0)
		return cx_fail(e, errno, "media %s: dup: %s", parent->name,
			       strerror(errno));
	struct cx_media *m = media_alloc(name, fd, parent->offset + off, size);
	m->path = parent->path ? cx_xstrdup(parent->path) : NULL;
	m->persistent = parent->persistent;
	int rc = media_map(m, e);
	if (rc) {
		cx_media_put(m);
		return rc;
	}
	*out = m;
	return 0;
}

struct cx_media *cx_media_get(struct cx_media *m)
{
	if (m)
		m->refs++;
	return m;
}

void cx_media_put(struct cx_media *m)
{
	if (!m || --m->refs > 0)
		return;
	if (m->map)
		munmap(m->map, m->size);
	if (m->fd >= 0)
		close(m->fd);
	free(m->name);
	free(m->path);
	free(m);
}

static int check_range(struct cx_media *m, uint64_t off, uint64_t len,
		       cx_err *e)
{
	if (off > m->size || len > m->size - off)
		return cx_fail(e, ERANGE, "media %s: bytes %#llx..%#llx are "
			       "past its end (%#llx bytes)", m->name,
			       (unsigned long long)off,
			       (unsigned long long)(off + len),
			       (unsigned long long)m->size);
	return 0;
}

/*
 * A shared backing file can be truncated by any program that can open it;
 * the next access to the vanished pages raises SIGBUS.  Copies to and from
 * media run under a guard that turns that into an error for the request,
 * so a truncated file fails an access instead of killing the daemon.
 * SIGBUS outside a guarded copy goes to the previous handler (or kills,
 * as it would have).
 */
static __thread sigjmp_buf *guard_jmp;
static struct sigaction prev_bus;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (guard_jmp)
		siglongjmp(*guard_jmp, 1);
	if (prev_bus.sa_flags & SA_SIGINFO && prev_bus.sa_sigaction) {
		prev_bus.sa_sigaction(sig, si, uc);
		return;
	}
	if (prev_bus.sa_handler != SIG_DFL && prev_bus.sa_handler != SIG_IGN &&
	    prev_bus.sa_handler) {
		prev_bus.sa_handler(sig);
		return;
	}
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

void cx_media_guard_install(void)
{
	struct sigaction sa, cur;
	if (sigaction(SIGBUS, NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &prev_bus);
}

enum copy_op { COPY_IN, COPY_OUT, FILL_ZERO };

static int guarded(struct cx_media *m, enum copy_op op, uint64_t off,
		   void *buf, size_t len, cx_err *e)
{
	sigjmp_buf jb;
	/* savemask 0: saving the mask is a syscall per copy, and the
	 * handler runs with SA_NODEFER, so the mask needs no restoring */
	if (sigsetjmp(jb, 0)) {
		guard_jmp = NULL;
		return cx_fail(e, EIO, "media %s: bytes %#llx..%#llx are gone "
			       "from its backing file%s%s (was it truncated by "
			       "another program?)", m->name,
			       (unsigned long long)off,
			       (unsigned long long)(off + len),
			       m->path ? " " : "", m->path ? m->path : "");
	}
	guard_jmp = &jb;
	if (op == COPY_OUT)
		memcpy(buf, m->map + off, len);
	else if (op == COPY_IN)
		memcpy(m->map + off, buf, len);
	else
		memset(m->map + off, 0, len);
	guard_jmp = NULL;
	return 0;
}

int cx_media_guarded(int (*fn)(void *ctx), void *ctx, const char *what,
		     cx_err *e)
{
	sigjmp_buf jb;
	if (sigsetjmp(jb, 0)) {
		guard_jmp = NULL;
		return cx_fail(e, EIO, "%s: bytes are gone from a backing file "
			       "(was it truncated by another program?)", what);
	}
	guard_jmp = &jb;
	int rc = fn(ctx);
	guard_jmp = NULL;
	return rc;
}

int cx_media_read(struct cx_media *m, uint64_t off, void *buf, size_t len,
		  cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (!rc && len)
		rc = guarded(m, COPY_OUT, off, buf, len, e);
	return rc;
}

int cx_media_write(struct cx_media *m, uint64_t off, const void *buf,
		   size_t len, cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (!rc && len)
		rc = guarded(m, COPY_IN, off, (void *)buf, len, e);
	return rc;
}

int cx_media_flush(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (rc || !len || !m->persistent)
		return rc;
	long pg = sysconf(_SC_PAGESIZE);
	/* msync needs a page-aligned start; the slice itself may start
	 * inside a page of the mapping only if offset was unaligned, which
	 * mmap does not allow, so m->map is page aligned. */
	uint64_t start = off & ~((uint64_t)pg - 1);
	if (msync(m->map + start, off + len - start, MS_SYNC) < 0)
		return cx_fail(e, errno, "media %s: msync: %s", m->name,
			       strerror(errno));
	return 0;
}

int cx_media_zero(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (!rc && len)
		rc = guarded(m, FILL_ZERO, off, NULL, len, e);
	return rc;
}
