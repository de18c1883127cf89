/*
 * media.c - memfd and file backed media, mapped once, read and written by
 * device offset.  See media.h for the ownership rules.
 */
#include "media.h"
#include "util/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A block lent to programs: store bytes [start, start+len) held by a
 * memfd of their own, laid over the daemon's view. */
struct lent {
	uint64_t start, len;
	int fd;
	bool keep;              /* a grant still covers it (reclaim marks) */
};

/* Store bytes [start, start+len) held elsewhere (media.h, overlays). */
struct overlay {
	uint64_t start, len;
	cx_media_at_fn at;
	cx_media_back_fn back;
	void *ctx;
	char owner[64];
};

struct cx_store {
	char *name;
	int fd;                 /* the base: only the daemon holds it */
	uint64_t size;
	bool file;              /* the base is a share=on backing file */
	bool external;          /* the file is mapped outside the fabric */
	uint8_t *map;           /* base, lent blocks laid over it */
	struct lent **lent;     /* sorted by start, disjoint */
	int nlent;
	struct overlay *over;   /* disjoint, unordered */
	int nover;
	int refs;
};

static int store_new(const char *name, int fd, uint64_t size, bool file,
		     struct cx_store **out, cx_err *e)
{
	struct cx_store *st = cx_xcalloc(1, sizeof(*st));
	st->name = cx_xstrdup(name);
	st->fd = fd;
	st->size = size;
	st->file = file;
	st->refs = 1;
	if (size) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		if (p == MAP_FAILED) {
			int err = errno;
			free(st->name);
			free(st);
			close(fd);
			return cx_fail(e, err, "media %s: cannot map %llu bytes: "
				       "%s", name, (unsigned long long)size,
				       strerror(err));
		}
		st->map = p;
	}
	*out = st;
	return 0;
}

static void lent_drop(struct cx_store *st, int i);
static int copy_back(struct cx_store *st, struct lent *l, uint64_t from,
		     uint64_t to);

static void store_put(struct cx_store *st)
{
	if (!st || --st->refs > 0)
		return;
	/* stop: lent bytes reach the backing file, then whoever still maps
	 * a block loses it */
	while (st->nlent) {
		if (st->file)
			copy_back(st, st->lent[0], 0, st->lent[0]->len);
		lent_drop(st, 0);
	}
	if (st->map)
		munmap(st->map, st->size);
	close(st->fd);
	free(st->over);
	free(st->lent);
	free(st->name);
	free(st);
}

static struct cx_media *media_alloc(const char *name, struct cx_store *st,
				    uint64_t off, uint64_t size)
{
	struct cx_media *m = cx_xcalloc(1, sizeof(*m));
	m->name = cx_xstrdup(name);
	m->store = st;
	m->offset = off;
	m->size = size;
	m->map = st->map ? st->map + off : NULL;
	m->persistent = st->file;
	m->external = st->external;
	m->refs = 1;
	return m;
}

/* A sealed memfd of `size` bytes: it can be written and, unless `shrink`
 * is false, emptied by us, but never grown (by anyone) nor sealed further
 * (a program holding it cannot stop us from emptying it). */
static int memfd_new(const char *name, uint64_t size, bool shrink, int *out,
		     cx_err *e)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return cx_fail(e, errno, "media %s: memfd_create: %s", name,
			       strerror(errno));
	int seals = F_SEAL_GROW | F_SEAL_SEAL | (shrink ? 0 : F_SEAL_SHRINK);
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, seals) < 0) {
		int err = errno;
		close(fd);
		return cx_fail(e, err, "media %s: cannot size and seal a memfd "
			       "of %llu bytes: %s", name,
			       (unsigned long long)size, strerror(err));
	}
	*out = fd;
	return 0;
}

int cx_media_new_memfd(const char *name, uint64_t size, struct cx_media **out,
		       cx_err *e)
{
	struct cx_store *st;
	int fd, rc;

	/* The base is sealed at its size: nothing may shrink the bytes under
	 * the daemon's view (its next access would be SIGBUS) */
	if ((rc = memfd_new(name, size, false, &fd, e)) ||
	    (rc = store_new(name, fd, size, false, &st, e)))
		return rc;
	*out = media_alloc(name, st, 0, size);
	return 0;
}

/* Copy the data extents of src [from, from+size) to dst at dst_off,
 * sparse-aware: holes are not written, or with `punch` are punched in dst
 * too (so bytes that became zero read as zero there). */
static int copy_extents(int src, uint64_t from, uint64_t size, int dst,
			uint64_t dst_off, bool punch)
{
	enum { BUF = 1 << 16 };
	off_t pos = (off_t)from, end = (off_t)(from + size);
	char *buf = malloc(BUF);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	while (pos < end && !rc) {
		off_t d = lseek(src, pos, SEEK_DATA);
		if (d < 0 && errno != ENXIO) {
			rc = -errno;
			break;
		}
		if (d < 0 || d > end)
			d = end;
		if (punch && d > pos &&
		    fallocate(dst, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(dst_off + (uint64_t)(pos - (off_t)from)),
			      d - pos) < 0 && errno != EOPNOTSUPP) {
			rc = -errno;
			break;
		}
		if (d == end)
			break;
		off_t h = lseek(src, d, SEEK_HOLE);
		if (h < 0) {
			rc = -errno;
			break;
		}
		if (h > end)
			h = end;
		for (off_t p = d; p < h;) {
			size_t n = (size_t)(h - p) < BUF ? (size_t)(h - p) : BUF;
			ssize_t r = pread(src, buf, n, p);
			if (r <= 0) {
				rc = r < 0 ? -errno : -EIO;
				break;
			}
			if (pwrite(dst, buf, (size_t)r,
				   (off_t)(dst_off + (uint64_t)(p - (off_t)from))) != r) {
				rc = -errno ? -errno : -EIO;
				break;
			}
			p += r;
		}
		pos = h;
	}
	free(buf);
	return rc;
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
		 * the file.  A private memfd copy gives the same result. */
		struct cx_media *m;
		int rc = cx_media_new_memfd(name, size, &m, e);
		if (!rc && (rc = copy_extents(fd, 0, size, m->store->fd, 0,
						 false)) < 0) {
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
	struct cx_store *s;
	int rc = store_new(name, fd, size, true, &s, e);
	if (rc)
		return rc;
	struct cx_media *m = media_alloc(name, s, 0, size);
	m->path = cx_xstrdup(realpath(path, real) ? real : path);
	*out = m;
	return 0;
}

void cx_media_set_external(struct cx_media *m)
{
	if (!m->store->file)
		return;
	m->store->external = true;
	m->external = true;
}

int cx_media_slice(struct cx_media *parent, uint64_t off, uint64_t size,
		   const char *name, struct cx_media **out, cx_err *e)
{
	if (off > parent->size || size > parent->size - off)
		return cx_fail(e, ERANGE, "media %s: slice %llu+%llu exceeds "
			       "its %llu bytes", parent->name,
			       (unsigned long long)off, (unsigned long long)size,
			       (unsigned long long)parent->size);
	struct cx_store *st = parent->store;
	st->refs++;
	struct cx_media *m = media_alloc(name, st, parent->offset + off, size);
	m->path = parent->path ? cx_xstrdup(parent->path) : NULL;
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
	store_put(m->store);
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

enum copy_op { COPY_IN, COPY_OUT, FILL_ZERO, FILL_BYTE };

static const struct overlay *overlay_at(const struct cx_store *st,
					uint64_t pos, uint64_t *next)
{
	*next = UINT64_MAX;
	for (int i = 0; i < st->nover; i++) {
		const struct overlay *o = &st->over[i];
		if (pos >= o->start && pos - o->start < o->len)
			return o;
		if (o->start > pos && o->start < *next)
			*next = o->start;
	}
	return NULL;
}

uint8_t *cx_media_at(struct cx_media *m, uint64_t off, uint64_t *left)
{
	struct cx_store *st = m->store;
	uint64_t pos = m->offset + off, next, rest = m->size - off;
	const struct overlay *o = st->nover ? overlay_at(st, pos, &next) : NULL;
	uint8_t *p;
	if (o) {
		uint64_t n;
		p = o->at(o->ctx, pos - o->start, &n);
		if (n > o->start + o->len - pos)
			n = o->start + o->len - pos;
		*left = n < rest ? n : rest;
		return p;
	}
	*left = st->nover && next - pos < rest ? next - pos : rest;
	return m->map + off;
}

bool cx_media_overlaid(const struct cx_media *m)
{
	return m->store->nover > 0;
}

/* The copy itself, overlays followed piece by piece. */
static void apply(struct cx_media *m, enum copy_op op, uint64_t off,
		  uint8_t *buf, size_t len, int byte)
{
	while (len) {
		uint64_t n = len;
		uint8_t *p = m->map + off;
		if (m->store->nover) {
			p = cx_media_at(m, off, &n);
			if (n > len)
				n = len;
		}
		if (op == COPY_OUT)
			cx_copy(buf, p, n);
		else if (op == COPY_IN)
			cx_copy(p, buf, n);
		else
			memset(p, op == FILL_ZERO ? 0 : byte, n);
		if (buf)
			buf += n;
		off += n;
		len -= n;
	}
}

/* A fault on [off, off+len) of m's file: a file shorter than those
 * bytes was truncated by another program; one long enough could not give
 * or take a page (its filesystem full, ENOSPC, or failing, EIO). */
static int fault_error(const struct cx_media *m, uint64_t off, uint64_t len,
		       cx_err *e)
{
	struct stat st;
	unsigned long long a = off, b = off + len;
	const char *file = m->path ? m->path : "(a memfd)";
	bool whole = !fstat(m->store->fd, &st) &&
		     (uint64_t)st.st_size >= m->offset + b;
	if (!whole)
		return cx_fail(e, EIO, "media %s: bytes %#llx..%#llx are gone "
			       "from its backing file %s (it is shorter than "
			       "they need: was it truncated by another "
			       "program?)", m->name, a, b, file);
	return cx_fail(e, ENOSPC, "media %s: its file %s could not hold bytes "
		       "%#llx..%#llx (an access faulted though the file is "
		       "%llu bytes long: its filesystem is full, ENOSPC, or "
		       "failing, EIO)", m->name, file, a, b,
		       (unsigned long long)st.st_size);
}

static int guarded(struct cx_media *m, enum copy_op op, uint64_t off,
		   void *buf, size_t len, int byte, cx_err *e)
{
	sigjmp_buf jb;
	/* savemask 0: saving the mask is a syscall per copy, and the
	 * handler runs with SA_NODEFER, so the mask needs no restoring */
	if (sigsetjmp(jb, 0)) {
		guard_jmp = NULL;
		return fault_error(m, off, len, e);
	}
	guard_jmp = &jb;
	apply(m, op, off, buf, len, byte);
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
			       "or it could not give or take them (truncated by "
			       "another program? its filesystem full, ENOSPC, or "
			       "failing, EIO?)", what);
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
		rc = guarded(m, COPY_OUT, off, buf, len, 0, e);
	return rc;
}

/* Lent and overlaid bytes of a share=on file's store that a daemon write
 * changed go to the file at once, as the daemon's writes always have. */
static int write_through(struct cx_media *m, uint64_t off, uint64_t len,
			 cx_err *e)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len;

	if (!st->file || st->external)
		return 0;
	for (int i = 0; i < st->nlent; i++) {
		struct lent *l = st->lent[i];
		uint64_t a = s0 > l->start ? s0 : l->start;
		uint64_t b = s1 < l->start + l->len ? s1 : l->start + l->len;
		if (a >= b)
			continue;
		int rc = copy_back(st, l, a - l->start, b - l->start);
		if (rc)
			return cx_fail(e, -rc, "media %s: cannot write bytes "
				       "%#llx..%#llx to %s: %s", m->name,
				       (unsigned long long)(a - m->offset),
				       (unsigned long long)(b - m->offset),
				       m->path ? m->path : "its file",
				       strerror(-rc));
	}
	/* overlaid bytes: their holder copies them to the file */
	for (int i = 0; i < st->nover; i++) {
		const struct overlay *o = &st->over[i];
		uint64_t a = s0 > o->start ? s0 : o->start;
		uint64_t b = s1 < o->start + o->len ? s1 : o->start + o->len;
		int rc = a < b && o->back ?
			 o->back(o->ctx, a - o->start, b - a, e) : 0;
		if (rc)
			return rc;      /* its error names the file and why */
	}
	return 0;
}

int cx_media_write(struct cx_media *m, uint64_t off, const void *buf,
		   size_t len, cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (!rc && len)
		rc = guarded(m, COPY_IN, off, (void *)buf, len, 0, e);
	if (!rc && len)
		rc = write_through(m, off, len, e);
	return rc;
}

int cx_media_writeback(struct cx_media *m, uint64_t off, uint64_t len,
		       cx_err *e)
{
	int rc = check_range(m, off, len, e);
	return rc || !len ? rc : write_through(m, off, len, e);
}

int cx_media_flush(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (rc || !len || !m->persistent)
		return rc;
	if ((rc = write_through(m, off, len, e)))
		return rc;
	/* the bytes that are not lent are the file's own pages, dirtied
	 * through the daemon's shared mapping: syncing the file covers
	 * them and what was just written back */
	if (fdatasync(m->store->fd) < 0)
		return cx_fail(e, errno, "media %s: fdatasync: %s", m->name,
			       strerror(errno));
	return 0;
}

int cx_media_zero(struct cx_media *m, uint64_t off, uint64_t len, cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (!rc && len)
		rc = guarded(m, FILL_ZERO, off, NULL, len, 0, e);
	if (!rc && len)
		rc = write_through(m, off, len, e);
	return rc;
}

int cx_media_fill(struct cx_media *m, uint64_t off, int byte, uint64_t len,
		  cx_err *e)
{
	int rc = check_range(m, off, len, e);
	if (!rc && len)
		rc = guarded(m, FILL_BYTE, off, NULL, len, byte & 0xff, e);
	if (!rc && len)
		rc = write_through(m, off, len, e);
	return rc;
}

/* ---- lending ---- */

static int lent_find(const struct cx_store *st, uint64_t pos)
{
	for (int i = 0; i < st->nlent; i++)
		if (pos >= st->lent[i]->start &&
		    pos < st->lent[i]->start + st->lent[i]->len)
			return i;
	return -1;
}

/* The start of the first lent block after pos, or `limit`. */
static uint64_t lent_next(const struct cx_store *st, uint64_t pos,
			  uint64_t limit)
{
	for (int i = 0; i < st->nlent; i++)
		if (st->lent[i]->start > pos && st->lent[i]->start < limit)
			return st->lent[i]->start;
	return limit;
}

/* Bytes [from, to) of block l back to the base (the backing file, or
 * the memfd base), holes included. */
static int copy_back(struct cx_store *st, struct lent *l, uint64_t from,
		     uint64_t to)
{
	return copy_extents(l->fd, from, to - from, st->fd, l->start + from,
			    true);
}

static char lend_tag[64];

void cx_media_set_tag(const char *tag)
{
	snprintf(lend_tag, sizeof(lend_tag), "%s", tag ? tag : "");
}

/* Move store bytes [start, start+len) into a block of their own. */
static int lent_new(struct cx_store *st, uint64_t start, uint64_t len,
		    cx_err *e)
{
	char name[240];
	int fd, rc;

	snprintf(name, sizeof(name), "cxlemu%s%s%s:%.120s@%#llx",
		 lend_tag[0] ? "[" : "", lend_tag, lend_tag[0] ? "]" : "",
		 st->name, (unsigned long long)start);
	if ((rc = memfd_new(name, len, true, &fd, e)))
		return rc;
	if ((rc = copy_extents(st->fd, start, len, fd, 0, false)) < 0) {
		close(fd);
		return cx_fail(e, -rc, "media %s: cannot copy bytes %#llx..%#llx "
			       "into a block of their own: %s", st->name,
			       (unsigned long long)start,
			       (unsigned long long)(start + len), strerror(-rc));
	}
	if (mmap(st->map + start, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		int err = errno;
		close(fd);
		return cx_fail(e, err, "media %s: cannot map a block of %llu "
			       "bytes: %s", st->name, (unsigned long long)len,
			       strerror(err));
	}
	/* a memfd base need not hold the bytes twice; a file keeps them
	 * (what a daemon killed later leaves behind) */
	if (!st->file)
		fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)start, (off_t)len);
	int i = 0;
	while (i < st->nlent && st->lent[i]->start < start)
		i++;
	st->lent = cx_xrealloc(st->lent, sizeof(*st->lent) *
			       (size_t)(st->nlent + 1));
	memmove(&st->lent[i + 1], &st->lent[i],
		sizeof(*st->lent) * (size_t)(st->nlent - i));
	st->lent[i] = cx_xcalloc(1, sizeof(**st->lent));
	*st->lent[i] = (struct lent){ start, len, fd, true };
	st->nlent++;
	return 0;
}

/* Take block i back: the daemon's view returns to the base and the block
 * is emptied, so whoever still maps it faults (SIGBUS) from now on. */
static void lent_drop(struct cx_store *st, int i)
{
	struct lent l = *st->lent[i];

	if (st->map && mmap(st->map + l.start, l.len, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED, st->fd,
			    (off_t)l.start) == MAP_FAILED) {
		/* keep the view on the block rather than lose the bytes: an
		 * empty block is what takes it from its mappers, so leave it
		 * whole and detach it only from the table */
		close(l.fd);
	} else {
		if (ftruncate(l.fd, 0) < 0) {
			/* nothing else to do: the block is detached */
		}
		close(l.fd);
	}
	free(st->lent[i]);
	memmove(&st->lent[i], &st->lent[i + 1],
		sizeof(*st->lent) * (size_t)(st->nlent - i - 1));
	st->nlent--;
}

int cx_media_lend(struct cx_media *m, uint64_t off, uint64_t len,
		  struct cx_media_lease *leases, int max, int *n, cx_err *e)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len, pos = s0;
	int rc, k = 0;

	*n = 0;
	if ((rc = check_range(m, off, len, e)))
		return rc;
	if (st->external) {
		/* the fabric does not own this file: lend it as it is */
		if (max < 1)
			return cx_fail(e, E2BIG, "media %s: no room for a block",
				       m->name);
		leases[0] = (struct cx_media_lease){ st->fd, s0, len, st->size,
						     st, st, 0 };
		*n = 1;
		return 0;
	}
	for (int i = 0; i < st->nover; i++)
		if (st->over[i].start < s1 && st->over[i].start +
		    st->over[i].len > s0)
			return cx_fail(e, EBUSY, "media %s: bytes %#llx..%#llx "
				       "are held by %s, which maps them in "
				       "another order; they cannot be lent as "
				       "blocks too until it is taken apart",
				       m->name, (unsigned long long)off,
				       (unsigned long long)(off + len),
				       st->over[i].owner);
	while (pos < s1) {
		int i = lent_find(st, pos);
		if (i < 0) {
			uint64_t unit = (pos / CX_MEDIA_BLOCK + 1) * CX_MEDIA_BLOCK;
			uint64_t end = lent_next(st, pos, unit < s1 ? unit : s1);
			if ((rc = lent_new(st, pos, end - pos, e)))
				return rc;
			i = lent_find(st, pos);
		}
		struct lent *l = st->lent[i];
		if (l->start < s0 || l->start + l->len > s1)
			return cx_fail(e, EBUSY, "media %s: bytes %#llx..%#llx "
				       "are lent as one block, which bytes "
				       "%#llx..%#llx cut through; lending the "
				       "block would reach bytes outside them",
				       m->name,
				       (unsigned long long)(l->start - m->offset),
				       (unsigned long long)(l->start + l->len -
							    m->offset),
				       (unsigned long long)off,
				       (unsigned long long)(off + len));
		if (k == max)
			return cx_fail(e, E2BIG, "media %s: bytes %#llx..%#llx "
				       "take more than %d blocks of %llu MiB",
				       m->name, (unsigned long long)off,
				       (unsigned long long)(off + len), max,
				       CX_MEDIA_BLOCK >> 20);
		leases[k++] = (struct cx_media_lease){
			l->fd, pos - l->start, l->start + l->len - pos, l->len,
			l, st, l->start };
		pos = l->start + l->len;
	}
	*n = k;
	return 0;
}

void cx_media_keep_clear(struct cx_media *m)
{
	for (int i = 0; i < m->store->nlent; i++)
		m->store->lent[i]->keep = false;
}

void cx_media_keep(struct cx_media *m, uint64_t off, uint64_t len)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len;

	for (int i = 0; i < st->nlent; i++)
		if (st->lent[i]->start < s1 &&
		    st->lent[i]->start + st->lent[i]->len > s0)
			st->lent[i]->keep = true;
}

void cx_media_keep_within(struct cx_media *m, uint64_t off, uint64_t len)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len;

	for (int i = 0; i < st->nlent; i++)
		if (st->lent[i]->start >= s0 &&
		    st->lent[i]->start + st->lent[i]->len <= s1)
			st->lent[i]->keep = true;
}

int cx_media_reclaim(struct cx_media *m, cx_err *e)
{
	struct cx_store *st = m->store;
	int taken = 0, err = 0;

	for (int i = st->nlent - 1; i >= 0; i--) {
		struct lent *l = st->lent[i];
		if (l->keep)
			continue;
		int rc = copy_back(st, l, 0, l->len);
		if (rc && !err)
			err = cx_fail(e, -rc, "media %s: bytes %#llx..%#llx "
				      "could not be written back when they "
				      "were taken back: %s", st->name,
				      (unsigned long long)l->start,
				      (unsigned long long)(l->start + l->len),
				      strerror(-rc));
		lent_drop(st, i);
		taken++;
	}
	return err ? err : taken;
}

int cx_media_revoke(struct cx_media *m, uint64_t off, uint64_t len,
		    cx_err *e)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len;

	/* the marks are only ever read by the reclaim that follows them */
	for (int i = 0; i < st->nlent; i++)
		st->lent[i]->keep = st->lent[i]->start >= s1 ||
				    st->lent[i]->start + st->lent[i]->len <= s0;
	return cx_media_reclaim(m, e);
}

int cx_media_lent_blocks(const struct cx_media *m)
{
	return m->store->nlent;
}

int cx_media_erase(struct cx_media *m, cx_err *e)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset, s1 = s0 + m->size;

	if (!m->size)
		return 0;
	for (int i = st->nlent - 1; i >= 0; i--) {
		struct lent *l = st->lent[i];
		uint64_t a = s0 > l->start ? s0 : l->start;
		uint64_t b = s1 < l->start + l->len ? s1 : l->start + l->len;
		if (a >= b)
			continue;
		if (a == l->start && b == l->start + l->len)
			lent_drop(st, i);   /* its bytes need not come back */
		else
			fallocate(l->fd, FALLOC_FL_PUNCH_HOLE |
				  FALLOC_FL_KEEP_SIZE, (off_t)(a - l->start),
				  (off_t)(b - a));
	}
	/* overlaid bytes are not in the store: zero them where they are */
	for (int i = 0; i < st->nover; i++) {
		uint64_t a = s0 > st->over[i].start ? s0 : st->over[i].start;
		uint64_t b = st->over[i].start + st->over[i].len;
		b = s1 < b ? s1 : b;
		int rc = a < b ? cx_media_zero(m, a - s0, b - a, e) : 0;
		if (rc)
			return rc;
	}
	/* holes: zeroes that commit no memory (and no disk) */
	if (fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)s0, (off_t)m->size) == 0)
		return 0;
	return cx_media_zero(m, 0, m->size, e);
}

/* ---- overlays ---- */

int cx_media_overlay(struct cx_media *m, uint64_t off, uint64_t len,
		     cx_media_at_fn at, cx_media_back_fn back, void *ctx,
		     const char *owner, cx_err *e)
{
	struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len;
	int rc = check_range(m, off, len, e);
	if (rc)
		return rc;
	if (cx_media_lent_in(m, off, len))
		return cx_fail(e, EBUSY, "media %s: bytes %#llx..%#llx are lent "
			       "as blocks already", m->name,
			       (unsigned long long)off,
			       (unsigned long long)(off + len));
	for (int i = 0; i < st->nover; i++)
		if (st->over[i].start < s1 &&
		    st->over[i].start + st->over[i].len > s0)
			return cx_fail(e, EBUSY, "media %s: bytes %#llx..%#llx "
				       "are held by %s already", m->name,
				       (unsigned long long)off,
				       (unsigned long long)(off + len),
				       st->over[i].owner);
	st->over = cx_xrealloc(st->over, sizeof(*st->over) *
			       (size_t)(st->nover + 1));
	struct overlay *o = &st->over[st->nover++];
	*o = (struct overlay){ s0, len, at, back, ctx, "" };
	snprintf(o->owner, sizeof(o->owner), "%s", owner);
	return 0;
}

void cx_media_overlay_end(struct cx_media *m, void *ctx)
{
	struct cx_store *st = m->store;
	for (int i = 0; i < st->nover; i++)
		if (st->over[i].ctx == ctx) {
			st->over[i] = st->over[--st->nover];
			return;
		}
}

bool cx_media_lent_in(const struct cx_media *m, uint64_t off, uint64_t len)
{
	const struct cx_store *st = m->store;
	uint64_t s0 = m->offset + off, s1 = s0 + len;
	for (int i = 0; i < st->nlent; i++)
		if (st->lent[i]->start < s1 &&
		    st->lent[i]->start + st->lent[i]->len > s0)
			return true;
	return false;
}

int cx_media_data_next(const struct cx_media *m, uint64_t off, uint64_t end,
		       uint64_t *a, uint64_t *b)
{
	const struct cx_store *st = m->store;
	off_t s0 = (off_t)(m->offset + off), s1 = (off_t)(m->offset + end);
	if (s0 >= s1)
		return 1;
	off_t d = lseek(st->fd, s0, SEEK_DATA);
	if (d < 0 && errno != ENXIO) {
		/* no hole support: all of it is data */
		*a = off;
		*b = end;
		return 0;
	}
	if (d < 0 || d >= s1)
		return 1;
	off_t h = lseek(st->fd, d, SEEK_HOLE);
	if (h < 0 || h > s1)
		h = s1;
	*a = (uint64_t)d - m->offset;
	*b = (uint64_t)h - m->offset;
	return 0;
}

void cx_media_punch(struct cx_media *m, uint64_t off, uint64_t len)
{
	if (m->store->file || !len)
		return;
	if (fallocate(m->store->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(m->offset + off), (off_t)len) < 0) {
		/* the bytes stay: only memory is lost, not data */
	}
}

void cx_media_discard(struct cx_media *m, uint64_t off, uint64_t len)
{
	if (len && fallocate(m->store->fd, FALLOC_FL_PUNCH_HOLE |
			     FALLOC_FL_KEEP_SIZE, (off_t)(m->offset + off),
			     (off_t)len) < 0) {
		/* no holes here: write the zeroes instead */
		memset(m->map + off, 0, len);
	}
}

int cx_media_lent_fd(const char *what, uint64_t size, int *out, cx_err *e)
{
	char name[240];
	snprintf(name, sizeof(name), "cxlemu%s%s%s:%.120s",
		 lend_tag[0] ? "[" : "", lend_tag, lend_tag[0] ? "]" : "",
		 what);
	return memfd_new(name, size, true, out, e);
}
