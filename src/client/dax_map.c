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
#include <unistd.h>

static uint64_t page_size(void) { return (uint64_t)sysconf(_SC_PAGESIZE); }

void cx_dax_where(const struct cx_dax_layout *L, uint64_t off, int *fd,
		  uint64_t *fdoff, uint64_t *left)
{
	int j;
	uint64_t adv;
	if (L->viewed) {
		*fd = L->view;
		*fdoff = off;
		*left = off < L->size ? L->size - off : 0;
		return;
	}
	cx_dax_period(&L->ilv, off, &j, &adv, left);
	for (int x = L->first[j]; x < L->first[j + 1]; x++) {
		const struct cx_dax_extent *t = &L->ext[x];
		if (adv < t->len) {
			*fd = t->fd;
			*fdoff = t->fd_off + adv;
			if (*left > t->len - adv)
				*left = t->len - adv;
			return;
		}
		adv -= t->len;
	}
	/* past the position's extents: a layout check_layout refused */
	*fd = -1;
	*fdoff = 0;
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
	while (len) {
		int fd;
		uint64_t fdoff, left;
		cx_dax_where(L, off, &fd, &fdoff, &left);
		if (L->viewed) {
			left = len;     /* a view: one run */
		} else if (L->ilv.ways == 1) {
			/* one position: a run goes on to its extent's end,
			 * whatever the granularity (walking 256 B granules of
			 * a 1 GiB device one by one cost 4 M steps) */
			uint64_t in = off;
			left = 0;
			for (int x = L->first[0]; x < L->first[1]; x++) {
				uint64_t n = L->ext[x].len;
				if (in < n) {
					left = n - in;
					break;
				}
				in -= n;
			}
		}
		uint64_t run = left < len ? left : len;
		/* extend while the next granule continues in the same fd */
		while (run < len && L->ilv.ways > 1 && !L->viewed) {
			int fd2;
			uint64_t off2, left2;
			cx_dax_where(L, off + run, &fd2, &off2, &left2);
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
	if (L->viewed || L->ilv.ways == 1 || g >= len) {
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
	if (L->ilv.ways > 1 && !L->viewed && L->ilv.gran % pg)
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
		cx_copy(c->buf + (o - c->off0), m, l);
		break;
	case COPY_WRITE:
		if (c->stream)
			cx_copy_stream(m, c->buf + (o - c->off0), l);
		else
			cx_copy(m, c->buf + (o - c->off0), l);
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
 * a copy does not).  One position is one run.  A slot's bytes may lie in
 * several blocks (its extents); its pieces come in rising order, so each
 * slot keeps a cursor on its current extent, and since extents hold
 * whole granules a piece never straddles two.
 */
struct granule_walk {
	const struct cx_dax_layout *L;
	uint64_t off;               /* device offset of the next piece */
	run_fn fn;
	void *ctx;
	int x[CX_DAX_MAX_WAYS];     /* slot j's current extent (-1: none yet) */
	uint64_t x0[CX_DAX_MAX_WAYS];   /* slot offset where that extent starts */
};

static int granule_piece(void *arg, int j, uint64_t adv, uint64_t n)
{
	struct granule_walk *g = arg;
	const struct cx_dax_layout *L = g->L;
	int x = g->x[j];
	uint64_t x0 = g->x0[j];
	if (x < 0 || adv < x0) {
		x = L->first[j];
		x0 = 0;
	}
	while (x < L->first[j + 1] && adv - x0 >= L->ext[x].len) {
		x0 += L->ext[x].len;
		x++;
	}
	if (x >= L->first[j + 1])
		return -EFAULT;     /* past the slot: a layout check refused */
	g->x[j] = x;
	g->x0[j] = x0;
	int rc = g->fn(g->ctx, g->off, L->ext[x].fd,
		       L->ext[x].fd_off + (adv - x0), n);
	g->off += n;
	return rc;
}

static int walk_granules(const struct cx_dax_layout *L, uint64_t off,
			 uint64_t len, run_fn fn, void *ctx)
{
	if (L->ilv.ways == 1 || L->viewed || !len)
		return walk_runs(L, off, len, fn, ctx);
	struct granule_walk g = { .L = L, .off = off, .fn = fn, .ctx = ctx };
	for (int j = 0; j < L->ilv.ways; j++)
		g.x[j] = -1;
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

int cx_dax_layout_check(const struct cx_dax_layout *L, cx_err *e)
{
	if (L->ilv.ways < 1 || L->ilv.ways > CX_DAX_MAX_WAYS || !L->ilv.gran ||
	    L->size % ((uint64_t)L->ilv.ways * L->ilv.gran))
		return cx_fail(e, EPROTO, "%s: %d ways of %u bytes cannot lay "
			       "out %llu bytes", L->name, L->ilv.ways,
			       L->ilv.gran, (unsigned long long)L->size);
	if (L->viewed) {
		if (L->view >= L->nfds || L->fd_len[L->view] < L->size)
			return cx_fail(e, EPROTO, "%s: its view (descriptor %d) "
				       "does not hold its %llu bytes", L->name,
				       L->view, (unsigned long long)L->size);
		return 0;
	}
	for (int j = 0; j < L->ilv.ways; j++) {
		uint64_t have = 0;
		if (L->first[j] < 0 || L->first[j + 1] < L->first[j] ||
		    L->first[j + 1] > CX_DAX_MAX_FDS)
			return cx_fail(e, EPROTO, "%s: position %d has no "
				       "extents", L->name, j);
		for (int x = L->first[j]; x < L->first[j + 1]; x++) {
			const struct cx_dax_extent *t = &L->ext[x];
			if (t->fd < 0 || t->fd >= L->nfds ||
			    t->fd_off > L->fd_len[t->fd] ||
			    t->len > L->fd_len[t->fd] - t->fd_off ||
			    t->len % L->ilv.gran)
				return cx_fail(e, EPROTO, "%s: position %d's "
					       "extent %d lies outside its "
					       "descriptor or cuts a granule",
					       L->name, j, x - L->first[j]);
			have += t->len;
		}
		if (have < L->size / (uint64_t)L->ilv.ways)
			return cx_fail(e, EPROTO, "%s: position %d holds %llu "
				       "bytes, not %llu", L->name, j,
				       (unsigned long long)have,
				       (unsigned long long)(L->size /
							    (uint64_t)L->ilv.ways));
	}
	return 0;
}

void cx_dax_note(struct cx_dax_layout *L, const void *addr, uint64_t off,
		 uint64_t len)
{
	int k = L->next_map % (int)CX_ARRAY_SIZE(L->maps);
	L->maps[k].addr = (uintptr_t)addr;
	L->maps[k].off = off;
	L->maps[k].len = len;
	L->next_map = k + 1;
}

int cx_dax_addr_offset(const struct cx_dax_layout *L, const void *addr,
		       uint64_t *off)
{
	uintptr_t a = (uintptr_t)addr;
	int n = (int)CX_ARRAY_SIZE(L->maps);
	/* newest first: an address range reused by a later mapping */
	for (int i = 1; i <= n; i++) {
		int k = ((L->next_map - i) % n + n) % n;
		if (L->maps[k].len && a >= L->maps[k].addr &&
		    a - L->maps[k].addr < L->maps[k].len) {
			*off = L->maps[k].off + (a - L->maps[k].addr);
			return 0;
		}
	}
	return -ENOENT;
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
