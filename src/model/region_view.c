/*
 * region_view.c - building, lending and taking apart region views (see
 * region_view.h).
 *
 * Building: the view memfd is created and mapped once by the daemon,
 * each slot's DPA range becomes an overlay on its media (so nothing can
 * lend those bytes as blocks meanwhile), the data extents of each range
 * are copied granule by granule to their HPA-order places (holes stay
 * holes: a fresh 1 GiB region costs nothing to view), and a memfd store's
 * copy is punched out (a file keeps its own: what a daemon killed later
 * leaves behind).  Writing back (slot_back) is the reverse for a slot's
 * range; taking apart writes every slot back, then the overlays go and
 * the memfd is emptied (its mappers get SIGBUS from then on).
 *
 * Sharing: a view has users, the regions (of any host) whose layout is
 * its own (layout_same); each keeps the grant it came with, and leaves
 * when that changes.  Another region over the same bytes laid out
 * otherwise is a conflict (one set of bytes, one order): the region
 * asking falls back, naming it.
 */
#include "region_view.h"
#include "dax.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct rv_slot {
	struct cx_rview *v;
	int j;
};

/* A region using the view (the regions of hosts sharing the devices
 * with one layout use one view). */
struct rv_user {
	struct cx_host *host;
	int region_id;              /* ids are never reused within a host */
	struct cx_grant g;          /* its grant when it came: the view
				       stays its while that is unchanged */
};

struct cx_rview {
	struct rv_user *user;
	int nuser;
	struct cx_grant g;          /* the first user's; a reference on each
				       media */
	int fd;
	uint8_t *map;               /* the daemon's mapping of all of it */
	uint64_t size;
	uint64_t serial;
	bool persistent;            /* a slot's media are a share=on file */
	struct rv_slot slot[CX_MAX_WAYS];
};

static uint64_t next_serial;

int cx_rview_fd(const struct cx_rview *v) { return v->fd; }
uint64_t cx_rview_size(const struct cx_rview *v) { return v->size; }
uint8_t *cx_rview_map(const struct cx_rview *v) { return v->map; }
uint64_t cx_rview_serial(const struct cx_rview *v) { return v->serial; }
int cx_rview_users(const struct cx_rview *v) { return v->nuser; }
int cx_fabric_views(const struct cx_fabric *f) { return f->views.n; }

/* Byte adv of slot s's DPA range, in the view (an overlay's lookup). */
static uint8_t *view_at(void *ctx, uint64_t adv, uint64_t *left)
{
	struct rv_slot *s = ctx;
	const struct cx_ilv *v = &s->v->g.ilv;
	*left = v->gran - adv % v->gran;
	return s->v->map + cx_ilv_offset(v, s->j, adv);
}

/*
 * Slot j's bytes [a, b) (counted from its first byte) from the view to
 * its media's store, in DPA order: granules holding data are copied,
 * granules in the view's holes are made holes in the store a run at a
 * time, so the store reads what the view does and a fresh region writes
 * nothing.  The slot's granules sit at rising view offsets (round k of
 * `ways` granules holds the slot's k-th), so the view's extents are
 * looked up once per data/hole boundary and a hole is passed over in one
 * step: the cost follows the data, not the size.  Run under a guard (a
 * backing file truncated under it).
 */
static void slot_back(struct cx_rview *v, int j, uint64_t a, uint64_t b)
{
	const struct cx_ilv *il = &v->g.ilv;
	struct cx_media *m = v->g.part[j].media;
	uint64_t base = v->g.part[j].off, g = il->gran;
	uint64_t d = 0, h = 0;      /* the view's next data extent [d, h) */
	uint64_t pa = 0, pb = 0;    /* the hole run not yet made */

	while (a < b) {
		uint64_t n = g - a % g < b - a ? g - a % g : b - a;
		uint64_t o = cx_ilv_offset(il, j, a);
		if (o >= h) {
			off_t x = lseek(v->fd, (off_t)o, SEEK_DATA);
			if (x < 0 && errno == ENXIO) {
				d = h = UINT64_MAX;     /* holes to the end */
			} else if (x < 0) {
				d = 0;                  /* all of it data */
				h = UINT64_MAX;
			} else {
				off_t y = lseek(v->fd, x, SEEK_HOLE);
				d = (uint64_t)x;
				h = y < 0 ? v->size : (uint64_t)y;
			}
		}
		if (d >= o + n) {
			/* a hole up to the round holding d: the slot's
			 * granules before it are all in it */
			uint64_t rw = g * (uint64_t)il->ways;
			uint64_t to = d / rw > (b - 1) / g ? b : d / rw * g;
			if (to < a + n)
				to = a + n;
			if (pb != a) {
				cx_media_discard(m, base + pa, pb - pa);
				pa = a;
			}
			pb = to;
			a = to;
			continue;
		}
		memcpy(m->map + base + a, v->map + o, n);
		a += n;
	}
	cx_media_discard(m, base + pa, pb - pa);
}

struct slot_run {
	struct cx_rview *v;
	int j;
	uint64_t a, b;
};

static int slot_run(void *ctx)
{
	struct slot_run *c = ctx;
	slot_back(c->v, c->j, c->a, c->b);
	return 0;
}

/*
 * Slot j's bytes [a, b) back to its media under a guard of their own:
 * 0, or the error naming the device, the file, the DPAs and why.  A
 * fault writing a share=on file's page is either a file shorter than
 * the bytes (truncated by another program) or a file whose filesystem
 * could not take them (full: ENOSPC, or failing: EIO); its size tells
 * which.
 */
static int slot_back_guarded(struct cx_rview *v, int j, uint64_t a,
			     uint64_t b, cx_err *e)
{
	struct slot_run c = { v, j, a, b };
	const struct cx_media *m = v->g.part[j].media;
	const char *dev = v->g.part[j].memdev ? v->g.part[j].memdev->qid : "?";
	uint64_t d0 = v->g.part[j].off + a, d1 = v->g.part[j].off + b;
	cx_err ge;
	struct stat st;

	if (!cx_media_guarded(slot_run, &c, "a region view's write-back", &ge))
		return 0;
	if (m->path && !stat(m->path, &st) &&
	    (uint64_t)st.st_size >= m->offset + d1)
		return cx_fail(e, ENOSPC, "%s: media %s: file %s could not take "
			       "the view's bytes %#llx..%#llx (a write into it "
			       "faulted though the file is %llu bytes long: its "
			       "filesystem is full (ENOSPC) or failing (EIO)); "
			       "the view keeps them until they can be written",
			       dev, m->name, m->path, (unsigned long long)d0,
			       (unsigned long long)d1,
			       (unsigned long long)st.st_size);
	return cx_fail(e, EIO, "%s: media %s: file %s cannot take the view's "
		       "bytes %#llx..%#llx: it is shorter than they need "
		       "(%llu bytes; truncated by another program?); the view "
		       "keeps them until they can be written", dev, m->name,
		       m->path ? m->path : "(none)", (unsigned long long)d0,
		       (unsigned long long)d1,
		       m->path && !stat(m->path, &st) ?
		       (unsigned long long)st.st_size : 0ULL);
}

/* The overlay's write-back (media.h): a share=on file gets slot s's
 * bytes [adv, adv+len) from the view. */
static int view_back(void *ctx, uint64_t adv, uint64_t len, cx_err *e)
{
	struct rv_slot *s = ctx;
	return slot_back_guarded(s->v, s->j, adv, adv + len, e);
}

static struct cx_region *user_region(const struct rv_user *u)
{
	char name[32];
	snprintf(name, sizeof(name), "region%d", u->region_id);
	return cx_region_find(u->host, name);
}

/* Do two slots hold the same device bytes? */
static bool part_same(const struct cx_grant *a, const struct cx_grant *b,
		      int j)
{
	return a->part[j].media->store == b->part[j].media->store &&
	       a->part[j].media->offset + a->part[j].off ==
	       b->part[j].media->offset + b->part[j].off &&
	       a->part[j].len == b->part[j].len;
}

/* The same grant, field for field (what keeps a region on its view: a
 * cheap test, made on every change to any grant). */
static bool grant_equal(const struct cx_grant *a, const struct cx_grant *b)
{
	if (memcmp(&a->ilv, &b->ilv, sizeof(a->ilv)))
		return false;
	for (int j = 0; j < a->ilv.ways; j++)
		if (a->part[j].media != b->part[j].media ||
		    a->part[j].off != b->part[j].off ||
		    a->part[j].len != b->part[j].len)
			return false;
	return true;
}

/*
 * Does every region offset of a and b go to the same device byte?  The
 * same granularity, ways, XOR maps, and at each slot the same device
 * (store) and DPA range.  A window with XOR maps picks slots by absolute
 * HPA: regions at two bases agree only if the maps' parities do for
 * every granule - at once when both bases are aligned past the region's
 * size (the parity of base | off splits), otherwise granule by granule
 * (up to 2^22 of them; larger ones are called different).
 */
static bool layout_same(const struct cx_grant *a, const struct cx_grant *b)
{
	const struct cx_ilv *x = &a->ilv, *y = &b->ilv;
	if (x->gran != y->gran || x->ways != y->ways || x->nmaps != y->nmaps ||
	    memcmp(x->map, y->map, sizeof(x->map[0]) * (size_t)x->nmaps))
		return false;
	for (int j = 0; j < x->ways; j++)
		if (!part_same(a, b, j))
			return false;
	if (!x->nmaps || x->base == y->base)
		return true;
	uint64_t size = a->part[0].len * (uint64_t)x->ways, p = 1;
	while (p < size)
		p <<= 1;
	if (!(x->base % p) && !(y->base % p)) {
		for (int i = 0; i < x->nmaps; i++)
			if (__builtin_parityll(x->base & x->map[i]) !=
			    __builtin_parityll(y->base & y->map[i]))
				return false;
		return true;
	}
	uint64_t n = size / x->gran;
	if (n > (1ULL << 22))
		return false;
	for (uint64_t k = 0; k < n; k++)
		if (cx_ilv_slot(x, k, k * x->gran) !=
		    cx_ilv_slot(y, k, k * y->gran))
			return false;
	return true;
}

static bool overlap(const struct cx_media *a, uint64_t ao, uint64_t al,
		    const struct cx_media *b, uint64_t bo, uint64_t bl)
{
	return a->store == b->store && a->offset + ao < b->offset + bo + bl &&
	       b->offset + bo < a->offset + ao + al;
}

/* The first slot of g whose bytes og grants too, or -1. */
static int overlap_slot(const struct cx_grant *g, const struct cx_grant *og)
{
	for (int a = 0; a < g->ilv.ways; a++)
		for (int b = 0; b < og->ilv.ways; b++)
			if (overlap(g->part[a].media, g->part[a].off,
				    g->part[a].len, og->part[b].media,
				    og->part[b].off, og->part[b].len))
				return a;
	return -1;
}

/* Programs mapping the view through any of its regions. */
static int view_mapped(const struct cx_rview *v)
{
	int n = 0;
	for (int i = 0; i < v->nuser; i++) {
		struct cx_region *r = user_region(&v->user[i]);
		if (r && r->view == v)
			n += r->mapped;
	}
	return n;
}

static int dissolve(struct cx_fabric *f, struct cx_rview *v, bool last,
		    cx_err *e);

/*
 * Another exposed region granting bytes of g with another layout (a head
 * of a shared device on another host, interleaved otherwise): one set of
 * bytes cannot be held in two orders, so r falls back, naming it (true).
 * A view that region's host holds over those bytes, which no program
 * maps, is taken apart so that r's blocks can be lent; one still mapped
 * stays, and lending the blocks is refused, naming it (media.h).
 */
static bool conflict(struct cx_fabric *f, struct cx_region *r,
		     const struct cx_grant *g, char *why, size_t len)
{
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int k = 0; k < h->regions.n; k++) {
			struct cx_region *o = h->regions.v[k];
			struct cx_grant og;
			int a;
			if (o == r || !cx_region_exposed(o) ||
			    cx_region_grant(o, &og, NULL) ||
			    (a = overlap_slot(g, &og)) < 0 || layout_same(g, &og))
				continue;
			snprintf(why, len, "%s's bytes of the region are granted "
				 "to region%d of host %s too, laid out another "
				 "way (there %d ways x %u B at HPA %#llx, here "
				 "%d x %u B at HPA %#llx); one set of bytes "
				 "cannot be in two orders, so both map granule "
				 "by granule", g->part[a].memdev->qid, o->id,
				 h->name, og.ilv.ways, og.ilv.gran,
				 (unsigned long long)o->base, g->ilv.ways,
				 g->ilv.gran, (unsigned long long)r->base);
			if (o->view && !view_mapped(o->view))
				dissolve(f, o->view, false, NULL);
			return true;
		}
	}
	return false;
}

/* Why region r cannot have a view (one line in why), or false. */
static bool why_not(struct cx_fabric *f, struct cx_region *r,
		    const struct cx_grant *g, char *why, size_t len)
{
	if (g->ilv.ways == 1) {
		/* its blocks are lent as they are: a view another host's
		 * region holds over them, which no program maps, is taken
		 * apart first (conflict), or lending them is refused */
		char scratch[8];
		conflict(f, r, g, scratch, sizeof(scratch));
		snprintf(why, len, "region%d is not interleaved: its blocks "
			 "map in one run already", r->id);
		return true;
	}
	for (int j = 0; j < g->ilv.ways; j++) {
		const struct cx_media *m = g->part[j].media;
		if (m->external) {
			snprintf(why, len, "%s's media %s are mapped by a QEMU "
				 "guest too ([fabric external=]); they stay in "
				 "DPA order, in the file the guest maps, and map "
				 "granule by granule", g->part[j].memdev->qid,
				 m->name);
			return true;
		}
	}
	if (conflict(f, r, g, why, len))
		return true;
	for (int j = 0; j < g->ilv.ways; j++)
		if (cx_media_lent_in(g->part[j].media, g->part[j].off,
				     g->part[j].len)) {
			snprintf(why, len, "%s's bytes of the region are lent as "
				 "blocks already (mapped before a view could "
				 "hold them)", g->part[j].memdev->qid);
			return true;
		}
	return false;
}

/* Copy slot j's data extents from its media to the view. */
static void copy_in(struct cx_rview *v, int j)
{
	struct cx_media *m = v->g.part[j].media;
	uint64_t off = v->g.part[j].off, end = off + v->g.part[j].len;
	uint64_t gran = v->g.ilv.gran, pos = off, a, b;

	while (pos < end && !cx_media_data_next(m, pos, end, &a, &b)) {
		uint64_t adv = (a - off) / gran * gran;
		uint64_t stop = b - off;
		for (; adv < stop; adv += gran)
			memcpy(v->map + cx_ilv_offset(&v->g.ilv, j, adv),
			       m->map + off + adv, gran);
		pos = off + adv;
	}
}

static int copy_in_all(void *ctx)
{
	struct cx_rview *v = ctx;
	for (int j = 0; j < v->g.ilv.ways; j++)
		copy_in(v, j);
	return 0;
}

/* Every slot back to its media, each under its own guard: one that
 * fails does not keep the others from theirs.  0, or the first error
 * (each failure is told to stderr too with `loud`: at stop nobody asks). */
static int copy_back(struct cx_rview *v, bool loud, cx_err *e)
{
	int rc = 0;
	for (int j = 0; j < v->g.ilv.ways; j++) {
		cx_err se;
		int r = slot_back_guarded(v, j, 0, v->g.part[j].len, &se);
		if (!r)
			continue;
		if (loud)
			fprintf(stderr, "cxlemu: DATA NOT WRITTEN: a region view "
				"taken apart at stop: %s\n", se.msg);
		if (!rc) {
			rc = r;
			if (e)
				*e = se;
		}
	}
	return rc;
}

/* The exact path wrote [off, off+len) of the view: a share=on file's
 * bytes among them reach the file at once. */
struct back {
	struct cx_rview *v;
	uint64_t off;               /* view offset of the next piece */
};

static int back_piece(void *ctx, int j, uint64_t adv, uint64_t n)
{
	struct back *c = ctx;
	const struct cx_grant *g = &c->v->g;
	if (g->part[j].media->persistent)
		memcpy(g->part[j].media->map + g->part[j].off + adv,
		       c->v->map + c->off, n);
	c->off += n;
	return 0;
}

void cx_rview_written(struct cx_rview *v, uint64_t off, uint64_t len)
{
	struct back c = { v, off };
	if (v->persistent && len)
		cx_ilv_walk(&v->g.ilv, off, len, back_piece, &c);
}

/*
 * Take the view apart: every slot written back, then the overlays go and
 * the memfd is emptied.  If a slot could not be written back the view
 * holds the only copy of its bytes, so it stays (with no users: an
 * orphan, tried again at every settle, joined by a region laid out the
 * same way) and the error is returned.  At stop (`last`) it cannot
 * stay: each failure is told on stderr and the memfd is not emptied, so
 * a program still mapping it keeps the bytes.
 */
static int dissolve(struct cx_fabric *f, struct cx_rview *v, bool last,
		    cx_err *e)
{
	int rc = copy_back(v, last, e);
	for (int i = 0; rc && i < v->nuser; i++) {
		struct cx_region *r = user_region(&v->user[i]);
		if (r && r->view == v)
			r->view = NULL;
	}
	if (rc && !last) {
		v->nuser = 0;
		return rc;
	}
	for (int j = 0; j < v->g.ilv.ways; j++)
		cx_media_overlay_end(v->g.part[j].media, &v->slot[j]);
	munmap(v->map, v->size);
	if (!rc && ftruncate(v->fd, 0) < 0) {
		/* sealed against it? then its mappers keep stale bytes that
		 * reach no device any more */
	}
	close(v->fd);
	for (int i = 0; i < v->nuser; i++) {
		struct cx_region *r = user_region(&v->user[i]);
		if (r && r->view == v)
			r->view = NULL;
	}
	for (int j = 0; j < v->g.ilv.ways; j++)
		cx_media_put(v->g.part[j].media);
	cx_vec_remove(&f->views, v);
	free(v->user);
	free(v);
	return rc;
}

static void user_add(struct cx_rview *v, struct cx_region *r,
		     const struct cx_grant *g)
{
	v->user = cx_xrealloc(v->user, sizeof(*v->user) *
			      (size_t)(v->nuser + 1));
	v->user[v->nuser++] = (struct rv_user){ r->host, r->id, *g };
	r->view = v;
}

static int user_find(const struct cx_rview *v, const struct cx_region *r)
{
	for (int i = 0; i < v->nuser; i++)
		if (v->user[i].host == r->host && v->user[i].region_id == r->id)
			return i;
	return -1;
}

/* r stops using its view; the last region to stop takes it apart: 1
 * if it did, 0 if others use it still, or the error that kept it (an
 * orphan, see dissolve). */
static int user_drop(struct cx_fabric *f, struct cx_rview *v, int i,
		     bool last, cx_err *e)
{
	struct cx_region *r = user_region(&v->user[i]);
	if (r && r->view == v)
		r->view = NULL;
	v->user[i] = v->user[--v->nuser];
	if (v->nuser)
		return 0;
	int rc = dissolve(f, v, last, e);
	return rc ? rc : 1;
}

static void region_leaves(struct cx_fabric *f, struct cx_region *r)
{
	int i = user_find(r->view, r);
	if (i >= 0)
		user_drop(f, r->view, i, false, NULL);
	r->view = NULL;
}

int cx_region_view_write_back(struct cx_region *r, cx_err *e)
{
	struct cx_rview *v = r->view;
	return v && v->persistent ? copy_back(v, false, e) : 0;
}

static int build(struct cx_fabric *f, struct cx_region *r,
		 const struct cx_grant *g, struct cx_rview **out, cx_err *e)
{
	struct cx_rview *v = cx_xcalloc(1, sizeof(*v));
	char name[96];
	int rc, j;

	v->g = *g;
	v->size = r->size;
	v->serial = ++next_serial;
	snprintf(name, sizeof(name), "%s.region%d.view", r->host->name, r->id);
	if ((rc = cx_media_lent_fd(name, v->size, &v->fd, e))) {
		free(v);
		return rc;
	}
	v->map = mmap(NULL, v->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->map == MAP_FAILED) {
		rc = cx_fail(e, errno, "region%d: cannot map its view of %llu "
			     "bytes: %s", r->id, (unsigned long long)v->size,
			     strerror(errno));
		close(v->fd);
		free(v);
		return rc;
	}
	snprintf(name, sizeof(name), "region%d's view (host %s)", r->id,
		 r->host->name);
	for (j = 0; j < g->ilv.ways; j++) {
		v->slot[j] = (struct rv_slot){ v, j };
		v->persistent |= g->part[j].media->persistent;
		if ((rc = cx_media_overlay(g->part[j].media, g->part[j].off,
					   g->part[j].len, view_at, view_back,
					   &v->slot[j], name, e)))
			break;
	}
	if (!rc && (rc = cx_media_guarded(copy_in_all, v, name, e)))
		j = g->ilv.ways;
	if (rc) {
		while (j-- > 0)
			cx_media_overlay_end(g->part[j].media, &v->slot[j]);
		munmap(v->map, v->size);
		close(v->fd);
		free(v);
		return rc;
	}
	for (j = 0; j < g->ilv.ways; j++) {
		/* a memfd store need not hold the bytes twice; a file keeps
		 * them (what a daemon killed later leaves behind) */
		cx_media_punch(g->part[j].media, g->part[j].off, g->part[j].len);
		cx_media_get(g->part[j].media);
	}
	cx_vec_push(&f->views, v);
	user_add(v, r, g);
	*out = v;
	return 0;
}

int cx_region_view(struct cx_fabric *f, struct cx_region *r,
		   struct cx_rview **out, char *why, size_t whylen)
{
	struct cx_grant g;
	cx_err e;

	*out = NULL;
	why[0] = 0;
	if (cx_region_grant(r, &g, &e)) {
		snprintf(why, whylen, "%s", e.msg);
		if (r->view)
			region_leaves(f, r);
		return 0;
	}
	if (r->view) {
		int i = user_find(r->view, r);
		if (i >= 0 && grant_equal(&g, &r->view->user[i].g)) {
			*out = r->view;
			return 0;
		}
		region_leaves(f, r);    /* the decoders changed under it */
	}
	if (g.ilv.ways > 1) {
		/* another host's region over the same bytes, laid out the
		 * same way: one view, one set of pages, for both */
		for (int i = 0; i < f->views.n; i++) {
			struct cx_rview *v = f->views.v[i];
			if (layout_same(&g, &v->g)) {
				user_add(v, r, &g);
				*out = v;
				return 0;
			}
		}
	}
	if (why_not(f, r, &g, why, whylen))
		return 0;
	if (build(f, r, &g, out, &e)) {
		snprintf(why, whylen, "region%d's view could not be built: %s",
			 r->id, e.msg);
		*out = NULL;
	}
	return 0;
}

int cx_fabric_views_settle(struct cx_fabric *f, bool all, cx_err *e)
{
	int n = 0, err = 0;
	for (int i = f->views.n - 1; i >= 0; i--) {
		struct cx_rview *v = f->views.v[i];
		int rc;
		if (!v->nuser) {        /* kept by a failed write-back */
			rc = dissolve(f, v, all, err ? NULL : e);
			if (rc < 0 && !err)
				err = rc;
			n += !rc;
			continue;
		}
		for (int k = v->nuser - 1; k >= 0; k--) {
			struct cx_region *r = all ? NULL :
					      user_region(&v->user[k]);
			struct cx_grant g;
			if (r && r->view == v && cx_region_exposed(r) &&
			    !cx_region_grant(r, &g, NULL) &&
			    grant_equal(&g, &v->user[k].g))
				continue;
			rc = user_drop(f, v, k, all, err ? NULL : e);
			if (rc < 0 && !err)
				err = rc;
			if (rc) {
				n += rc > 0;
				break;
			}
		}
	}
	return err ? err : n;
}
