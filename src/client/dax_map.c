/*
 * dax_map.c - mapping and exact access of a device-DAX layout (dax_map.h).
 */
#include "dax_map.h"
#include "model/dax.h"
#include "util/stream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t page_size(void) { return (uint64_t)sysconf(_SC_PAGESIZE); }

static void locate(const struct cx_dax_layout *L, uint64_t off, int *fd,
		   uint64_t *fdoff, uint64_t *left)
{
	int j;
	uint64_t adv;
	cx_dax_period(&L->ilv, off, &j, &adv, left);
	*fd = L->ent_fd[j];
	*fdoff = L->ent_off[j] + adv;
}

static int check_range(const struct cx_dax_layout *L, uint64_t off,
		       uint64_t len, cx_err *e)
{
	if (off > L->size || len > L->size - off)
		return cx_fail(e, ERANGE, "%s: bytes %#llx..%#llx are past "
			       "the device's end (%#llx bytes)", L->name,
			       (unsigned long long)off,
			       (unsigned long long)(off + len),
			       (unsigned long long)L->size);
	return 0;
}

/* Walk [off, off+len) as maximal runs contiguous in one fd. */
typedef int (*run_fn)(void *ctx, uint64_t dev_off, int fd, uint64_t fdoff,
		      uint64_t len);

static int walk_runs(const struct cx_dax_layout *L, uint64_t off, uint64_t len,
		     run_fn fn, void *ctx)
{
	if (L->ilv.ways == 1 && len) {
		/* one position: the whole range is one run, whatever the
		 * granularity (walking 256 B granules of a 1 GiB device one
		 * by one cost 4 M steps per mapping) */
		int fd;
		uint64_t fdoff, left;
		locate(L, off, &fd, &fdoff, &left);
		return fn(ctx, off, fd, fdoff, len);
	}
	while (len) {
		int fd;
		uint64_t fdoff, left;
		locate(L, off, &fd, &fdoff, &left);
		uint64_t run = left < len ? left : len;
		/* extend while the next granule continues in the same fd */
		while (run < len) {
			int fd2;
			uint64_t off2, left2;
			locate(L, off + run, &fd2, &off2, &left2);
			if (fd2 != fd || off2 != fdoff + run)
				break;
			run += left2 < len - run ? left2 : len - run;
		}
		int rc = fn(ctx, off, fd, fdoff, run);
		if (rc)
			return rc;
		off += run;
		len -= run;
	}
	return 0;
}

static int count_run(void *ctx, uint64_t o, int fd, uint64_t fo, uint64_t l)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

uint64_t cx_dax_runs(const struct cx_dax_layout *L, uint64_t off, uint64_t len)
{
	uint64_t n = 0;
	uint32_t g = L->ilv.gran;
	if (L->ilv.ways == 1 || g >= len) {
		walk_runs(L, off, len, count_run, &n);
		return n;
	}
	/* at most one run per granule when ways > 1 (an XOR window's
	 * rounds may put two granules side by side on one device) */
	uint64_t first = off / g, last = (off + len - 1) / g;
	return last - first + 1;
}

/* How many more mappings this process may create. */
static uint64_t maps_available(uint64_t *limit)
{
	uint64_t max = 65530 /* Linux's default */, used = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	if (f) {
		unsigned long long v;
		if (fscanf(f, "%llu", &v) == 1)
			max = v;
		fclose(f);
	}
	f = fopen("/proc/self/maps", "re");
	if (f) {
		int c;
		while ((c = fgetc(f)) != EOF)
			used += c == '\n';
		fclose(f);
	}
	*limit = max;
	/* keep headroom for the allocator, libraries and the reservation */
	return used + 256 < max ? max - used - 256 : 0;
}

struct map_ctx {
	uint8_t *base;
	uint64_t off0;
	int prot;
	const struct cx_dax_layout *L;
	cx_err *e;
};

static int map_run(void *ctx, uint64_t o, int fdi, uint64_t fo, uint64_t l)
{
	struct map_ctx *c = ctx;
	void *want = c->base + (o - c->off0);
	void *p = mmap(want, l, c->prot, MAP_SHARED | MAP_FIXED,
		       c->L->fds[fdi], (off_t)fo);
	if (p == MAP_FAILED)
		return cx_fail(c->e, errno, "%s: cannot map %llu bytes at "
			       "device offset %#llx: %s", c->L->name,
			       (unsigned long long)l, (unsigned long long)o,
			       strerror(errno));
	return 0;
}

int cx_dax_map(const struct cx_dax_layout *L, uint64_t off, uint64_t len,
	       int prot, void *hint, int fixed, void **out, cx_err *e)
{
	uint64_t pg = page_size(), limit;
	int rc;

	if ((rc = check_range(L, off, len, e)))
		return rc;
	if (!len || off % pg || len % pg)
		return cx_fail(e, EINVAL, "%s: a mapping needs a page-aligned "
			       "offset and a non-zero page-aligned length "
			       "(offset %#llx, length %#llx)", L->name,
			       (unsigned long long)off, (unsigned long long)len);
	if (L->ilv.ways > 1 && L->ilv.gran % pg)
		return cx_fail(e, ENOTSUP, "%s: interleave granularity %u B is "
			       "below the page size (%llu B), so one page "
			       "spans %d devices and cannot be one mapping; "
			       "use the exact path (read/write/copy calls)",
			       L->name, L->ilv.gran, (unsigned long long)pg,
			       L->ilv.ways);
	uint64_t need = cx_dax_runs(L, off, len);
	uint64_t avail = maps_available(&limit);
	if (need > avail)
		return cx_fail(e, E2BIG, "%s: mapping %llu bytes at %u-byte "
			       "interleave takes %llu mappings, but this "
			       "process may create only %llu more "
			       "(vm.max_map_count = %llu); map less, raise "
			       "vm.max_map_count, or use the exact path",
			       L->name, (unsigned long long)len, L->ilv.gran,
			       (unsigned long long)need,
			       (unsigned long long)avail,
			       (unsigned long long)limit);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	if (fixed)
		flags |= MAP_FIXED;
	uint8_t *base = mmap(hint, len, PROT_NONE, flags, -1, 0);
	if (base == MAP_FAILED)
		return cx_fail(e, errno, "%s: cannot reserve %llu bytes of "
			       "address space: %s", L->name,
			       (unsigned long long)len, strerror(errno));
	struct map_ctx c = { base, off, prot, L, e };
	if ((rc = walk_runs(L, off, len, map_run, &c))) {
		munmap(base, len);
		return rc;
	}
	*out = base;
	return 0;
}

static int media_map(struct cx_dax_layout *L, int i, cx_err *e)
{
	if (L->media[i])
		return 0;
	void *p = mmap(NULL, L->fd_len[i], PROT_READ | PROT_WRITE, MAP_SHARED,
		       L->fds[i], 0);
	if (p == MAP_FAILED)
		return cx_fail(e, errno, "%s: cannot map media %d: %s", L->name,
			       i, strerror(errno));
	L->media[i] = p;
	return 0;
}

struct copy_ctx {
	struct cx_dax_layout *L;
	uint8_t *buf;
	uint64_t off0;
	enum { COPY_READ, COPY_WRITE, COPY_FILL } kind;
	bool stream;        /* a large request: non-temporal stores */
	int byte;           /* COPY_FILL's */
	cx_err *e;
};

static int copy_run(void *ctx, uint64_t o, int fdi, uint64_t fo, uint64_t l)
{
	struct copy_ctx *c = ctx;
	int rc = media_map(c->L, fdi, c->e);
	if (rc)
		return rc;
	uint8_t *m = c->L->media[fdi] + fo;
	switch (c->kind) {
	case COPY_READ:
		memcpy(c->buf + (o - c->off0), m, l);
		break;
	case COPY_WRITE:
		if (c->stream)
			cx_copy_stream(m, c->buf + (o - c->off0), l);
		else
			memcpy(m, c->buf + (o - c->off0), l);
		break;
	case COPY_FILL:
		if (c->stream)
			cx_fill_stream(m, c->byte, l);
		else
			memset(m, c->byte, l);
		break;
	}
	return 0;
}

/*
 * The exact path's walk: one granule per step, the slot and the round
 * carried from one granule to the next, so that the divisions of
 * cx_dax_period are paid once per request rather than twice per granule
 * (walk_runs merges runs for the mapper, which needs as few as it can;
 * a copy does not).  One position is one run.
 */
struct granule_walk {
	const struct cx_dax_layout *L;
	uint64_t off;               /* device offset of the next piece */
	run_fn fn;
	void *ctx;
};

static int granule_piece(void *arg, int j, uint64_t adv, uint64_t n)
{
	struct granule_walk *g = arg;
	int rc = g->fn(g->ctx, g->off, g->L->ent_fd[j],
		       g->L->ent_off[j] + adv, n);
	g->off += n;
	return rc;
}

static int walk_granules(const struct cx_dax_layout *L, uint64_t off,
			 uint64_t len, run_fn fn, void *ctx)
{
	if (L->ilv.ways == 1 || !len)
		return walk_runs(L, off, len, fn, ctx);
	struct granule_walk g = { L, off, fn, ctx };
	return cx_ilv_walk(&L->ilv, off, len, granule_piece, &g);
}

static int exact(struct cx_dax_layout *L, uint64_t off, struct copy_ctx *c,
		 uint64_t len)
{
	int rc = check_range(L, off, len, c->e);
	if (rc)
		return rc;
	c->stream = c->kind != COPY_READ && len >= CX_STREAM_MIN;
	rc = walk_granules(L, off, len, copy_run, c);
	if (c->stream)
		cx_stream_fence();
	return rc;
}

int cx_dax_read(struct cx_dax_layout *L, uint64_t off, void *buf, uint64_t len,
		cx_err *e)
{
	struct copy_ctx c = { .L = L, .buf = buf, .off0 = off,
			      .kind = COPY_READ, .e = e };
	return exact(L, off, &c, len);
}

int cx_dax_write(struct cx_dax_layout *L, uint64_t off, const void *buf,
		 uint64_t len, cx_err *e)
{
	struct copy_ctx c = { .L = L, .buf = (uint8_t *)buf, .off0 = off,
			      .kind = COPY_WRITE, .e = e };
	return exact(L, off, &c, len);
}

int cx_dax_fill(struct cx_dax_layout *L, uint64_t off, int byte, uint64_t len,
		cx_err *e)
{
	struct copy_ctx c = { .L = L, .off0 = off, .kind = COPY_FILL,
			      .byte = byte & 0xff, .e = e };
	return exact(L, off, &c, len);
}

int cx_dax_copy(struct cx_dax_layout *L, uint64_t dst, uint64_t src,
		uint64_t len, cx_err *e)
{
	uint8_t tmp[1 << 16];
	int rc;

	if ((rc = check_range(L, src, len, e)) || (rc = check_range(L, dst, len, e)))
		return rc;
	/* bounce through a buffer; copy backwards when ranges overlap upward */
	bool back = dst > src && dst < src + len;
	while (len) {
		uint64_t n = len < sizeof(tmp) ? len : sizeof(tmp);
		uint64_t s = back ? src + len - n : src;
		uint64_t d = back ? dst + len - n : dst;
		if ((rc = cx_dax_read(L, s, tmp, n, e)) ||
		    (rc = cx_dax_write(L, d, tmp, n, e)))
			return rc;
		if (!back) {
			src += n;
			dst += n;
		}
		len -= n;
	}
	return 0;
}

int cx_dax_flush(void *addr, uint64_t len, cx_err *e)
{
	uint64_t pg = page_size();
	uintptr_t a = (uintptr_t)addr & ~(uintptr_t)(pg - 1);
	uint64_t l = len + ((uintptr_t)addr - a);
	/* the system call itself: under the preload library, msync() of a
	 * DAX mapping answers as Linux device-DAX does (EINVAL) */
	if (syscall(SYS_msync, (void *)a, l, MS_SYNC) < 0)
		return cx_fail(e, errno, "flush of %llu bytes at %p: %s",
			       (unsigned long long)len, addr, strerror(errno));
	return 0;
}

void cx_dax_layout_release(struct cx_dax_layout *L)
{
	for (int i = 0; i < L->nfds; i++) {
		if (L->media[i])
			munmap(L->media[i], L->fd_len[i]);
		L->media[i] = NULL;
		if (L->fds[i] >= 0)
			close(L->fds[i]);
		L->fds[i] = -1;
	}
	L->nfds = 0;
}
