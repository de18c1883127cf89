/*
 * region_view.c - building, lending and taking apart region views (see
 * region_view.h).
 *
 * Building: the view memfd is created and mapped once by the daemon,
 * each slot's DPA range becomes an overlay on its media (so nothing can
 * lend those bytes as blocks meanwhile), the data extents of each range
 * are copied granule by granule to their HPA-order places (holes stay
 * holes: a fresh 1 GiB region costs nothing to view), and the store's
 * copy is punched out.  Taking apart is the reverse over the view's data
 * extents, then the overlays go and the memfd is emptied (its mappers get
 * SIGBUS from then on).
 */
#include "region_view.h"
#include "dax.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct rv_slot {
	struct cx_rview *v;
	int j;
};

struct cx_rview {
	struct cx_host *host;
	int region_id;              /* ids are never reused within a host */
	struct cx_grant g;          /* holds a reference on each media */
	int fd;
	uint8_t *map;               /* the daemon's mapping of all of it */
	uint64_t size;
	uint64_t serial;
	struct rv_slot slot[CX_MAX_WAYS];
};

static uint64_t next_serial;

int cx_rview_fd(const struct cx_rview *v) { return v->fd; }
uint64_t cx_rview_size(const struct cx_rview *v) { return v->size; }
uint8_t *cx_rview_map(const struct cx_rview *v) { return v->map; }
uint64_t cx_rview_serial(const struct cx_rview *v) { return v->serial; }
int cx_fabric_views(const struct cx_fabric *f) { return f->views.n; }

/* Byte adv of slot s's DPA range, in the view (an overlay's lookup). */
static uint8_t *view_at(void *ctx, uint64_t adv, uint64_t *left)
{
	struct rv_slot *s = ctx;
	const struct cx_ilv *v = &s->v->g.ilv;
	*left = v->gran - adv % v->gran;
	return s->v->map + cx_ilv_offset(v, s->j, adv);
}

static struct cx_region *view_region(const struct cx_rview *v)
{
	char name[32];
	snprintf(name, sizeof(name), "region%d", v->region_id);
	return cx_region_find(v->host, name);
}

static bool grant_same(const struct cx_grant *a, const struct cx_grant *b)
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

static bool overlap(const struct cx_media *a, uint64_t ao, uint64_t al,
		    const struct cx_media *b, uint64_t bo, uint64_t bl)
{
	return a->store == b->store && a->offset + ao < b->offset + bo + bl &&
	       b->offset + bo < a->offset + ao + al;
}

/* Why region r cannot have a view (one line in why), or false. */
static bool why_not(struct cx_fabric *f, struct cx_region *r,
		    const struct cx_grant *g, char *why, size_t len)
{
	if (g->ilv.ways == 1) {
		snprintf(why, len, "region%d is not interleaved: its blocks "
			 "map in one run already", r->id);
		return true;
	}
	for (int j = 0; j < g->ilv.ways; j++) {
		const struct cx_media *m = g->part[j].media;
		const char *qid = g->part[j].memdev->qid;
		if (m->persistent || m->external) {
			snprintf(why, len, "%s's media %s are file-backed; they "
				 "stay in DPA order (persistence, sharing with "
				 "QEMU) and map granule by granule", qid,
				 m->name);
			return true;
		}
		if (cx_media_lent_in(m, g->part[j].off, g->part[j].len)) {
			snprintf(why, len, "%s's bytes of the region are lent as "
				 "blocks already (mapped before a view could "
				 "hold them)", qid);
			return true;
		}
	}
	/* another region granting the same bytes (a head of a shared
	 * device on another host): its blocks would not see the view */
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int k = 0; k < h->regions.n; k++) {
			struct cx_region *o = h->regions.v[k];
			struct cx_grant og;
			if (o == r || !cx_region_exposed(o) ||
			    cx_region_grant(o, &og, NULL))
				continue;
			for (int a = 0; a < g->ilv.ways; a++)
				for (int b = 0; b < og.ilv.ways; b++) {
					if (!overlap(g->part[a].media,
						     g->part[a].off,
						     g->part[a].len,
						     og.part[b].media,
						     og.part[b].off,
						     og.part[b].len))
						continue;
					snprintf(why, len, "%s's bytes of the "
						 "region are granted to "
						 "region%d of host %s too (a "
						 "shared device)",
						 g->part[a].memdev->qid, o->id,
						 h->name);
					return true;
				}
		}
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

/* Copying back: the view's pieces in order, each to its slot's media. */
struct back {
	struct cx_rview *v;
	uint64_t off;               /* view offset of the next piece */
};

static int back_piece(void *ctx, int j, uint64_t adv, uint64_t n)
{
	struct back *c = ctx;
	const struct cx_grant *g = &c->v->g;
	memcpy(g->part[j].media->map + g->part[j].off + adv,
	       c->v->map + c->off, n);
	c->off += n;
	return 0;
}

static int copy_back(void *ctx)
{
	struct cx_rview *v = ctx;
	uint64_t gran = v->g.ilv.gran, pos = 0;

	while (pos < v->size) {
		off_t d = lseek(v->fd, (off_t)pos, SEEK_DATA);
		if (d < 0)
			break;      /* no more data (or emptied by a mapper) */
		off_t h = lseek(v->fd, d, SEEK_HOLE);
		uint64_t a = (uint64_t)d / gran * gran;
		uint64_t b = h < 0 || (uint64_t)h > v->size ? v->size :
			     ((uint64_t)h + gran - 1) / gran * gran;
		if (b > v->size)
			b = v->size;
		struct back c = { v, a };
		cx_ilv_walk(&v->g.ilv, a, b - a, back_piece, &c);
		pos = b;
	}
	return 0;
}

static void dissolve(struct cx_fabric *f, struct cx_rview *v)
{
	char what[48];
	snprintf(what, sizeof(what), "region%d's view", v->region_id);
	cx_media_guarded(copy_back, v, what, NULL);
	for (int j = 0; j < v->g.ilv.ways; j++)
		cx_media_overlay_end(v->g.part[j].media, &v->slot[j]);
	munmap(v->map, v->size);
	if (ftruncate(v->fd, 0) < 0) {
		/* sealed against it? then its mappers keep stale bytes that
		 * reach no device any more */
	}
	close(v->fd);
	struct cx_region *r = view_region(v);
	if (r && r->view == v)
		r->view = NULL;
	for (int j = 0; j < v->g.ilv.ways; j++)
		cx_media_put(v->g.part[j].media);
	cx_vec_remove(&f->views, v);
	free(v);
}

static int build(struct cx_fabric *f, struct cx_region *r,
		 const struct cx_grant *g, struct cx_rview **out, cx_err *e)
{
	struct cx_rview *v = cx_xcalloc(1, sizeof(*v));
	char name[96];
	int rc, j;

	v->host = r->host;
	v->region_id = r->id;
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
		if ((rc = cx_media_overlay(g->part[j].media, g->part[j].off,
					   g->part[j].len, view_at, &v->slot[j],
					   name, e)))
			break;
	}
	if (rc) {
		while (j-- > 0)
			cx_media_overlay_end(g->part[j].media, &v->slot[j]);
		munmap(v->map, v->size);
		close(v->fd);
		free(v);
		return rc;
	}
	for (j = 0; j < g->ilv.ways; j++) {
		copy_in(v, j);
		cx_media_punch(g->part[j].media, g->part[j].off, g->part[j].len);
		cx_media_get(g->part[j].media);
	}
	cx_vec_push(&f->views, v);
	r->view = v;
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
			dissolve(f, r->view);
		return 0;
	}
	if (r->view) {
		if (grant_same(&g, &r->view->g)) {
			*out = r->view;
			return 0;
		}
		dissolve(f, r->view);   /* the decoders changed under it */
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

int cx_fabric_views_settle(struct cx_fabric *f, bool all)
{
	int n = 0;
	for (int i = f->views.n - 1; i >= 0; i--) {
		struct cx_rview *v = f->views.v[i];
		struct cx_region *r = all ? NULL : view_region(v);
		struct cx_grant g;
		if (r && r->view == v && cx_region_exposed(r) &&
		    !cx_region_grant(r, &g, NULL) && grant_same(&g, &v->g))
			continue;
		dissolve(f, v);
		n++;
	}
	return n;
}
