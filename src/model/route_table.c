/*
 * route_table.c - a host's decoders compiled into a table, so that a
 * translation is a range compare and a few shifts instead of a walk.
 *
 * One entry per committed region: its HPA range and the interleave
 * period as the decoders route it (model/dax.h's recipe, itself derived
 * from the walk and verified against it): granule k of the region lives
 * on slot j = k mod ways, at media offset first[j] + (k / ways) * gran;
 * under a window with XOR arithmetic the low bits of j are the parities
 * of the HPA under the window's maps (cx_ilv_slot), one AND and one
 * parity per map.  For power-of-two granularities and ways that is a
 * shift and a mask; 3, 6 and 12 ways take one division.  The table carries the host's
 * decode generation, which every decoder commit and reset moves on
 * (cx_host_decode_changed), and is rebuilt on the first translation
 * after a change.
 *
 * cx_route_hpa asks the table first; an HPA it has no answer for (in no
 * region, or past a media end) goes to the walk, whose messages say
 * which level missed.  The walk stays the oracle: tests compare both.
 */
#include "model.h"
#include "dax.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* a slot's numbers, read by every translation (32 bytes) ... */
struct rt_hot {
	uint64_t off;               /* media offset of the slot's first granule */
	uint64_t dpa0;              /* its DPA */
	uint64_t media_size;
	int64_t pos;                /* d's position in the region */
};

/* ... and its objects, only copied into the answer */
struct rt_slot {
	struct cx_memdev *m;
	struct cx_decoder *d;       /* m's endpoint decoder in the region */
	struct cx_media *media;
};

struct rt_entry {
	/* what every translation reads first, together */
	uint64_t base, end;
	uint64_t gmask;             /* gran - 1 when a power of two */
	int gshift, wshift;         /* log2, or -1 when not a power of two */
	struct cx_ilv ilv;          /* gran, ways, XOR maps */
	struct cx_region *r;
	struct cx_window *w;
	struct rt_hot hot[CX_MAX_WAYS];
	struct rt_slot slot[CX_MAX_WAYS];
};

struct cx_route_table {
	uint64_t gen;
	int n;
	int last;                   /* the entry the last hit was in */
	struct rt_entry v[];
};

void cx_host_decode_changed(struct cx_host *h)
{
	if (h)
		h->decode_gen++;
}

void cx_route_table_free(struct cx_route_table *t)
{
	free(t);
}

static struct cx_decoder *region_decoder(struct cx_memdev *m,
					 struct cx_region *r)
{
	for (int i = 0; i < CX_DECODERS_PER_PORT; i++)
		if (m->decoders[i].region == r)
			return &m->decoders[i];
	return NULL;
}

static int log2_or(uint64_t v)
{
	return cx_is_pow2(v) ? cx_log2(v) : -1;
}

/* Compile one region; false when its layout cannot be (it is left to
 * the walk). */
static bool compile(struct cx_region *r, struct rt_entry *en)
{
	struct cx_dax_recipe rc;
	cx_err e;
	if (!r->committed || cx_region_dax_recipe(r, &rc, &e))
		return false;
	memset(en, 0, sizeof(*en));
	en->r = r;
	en->w = r->win;
	en->base = r->base;
	en->end = r->base + r->size;
	en->ilv = rc.ilv;
	en->gshift = log2_or(rc.ilv.gran);
	en->gmask = rc.ilv.gran - 1;
	en->wshift = log2_or((uint64_t)rc.ilv.ways);
	for (int j = 0; j < rc.ilv.ways; j++) {
		struct rt_slot *s = &en->slot[j];
		struct rt_hot *o = &en->hot[j];
		s->m = rc.ent[j].memdev;
		s->media = rc.ent[j].media;
		s->d = region_decoder(s->m, r);
		if (!s->d || !s->media)
			return false;
		o->off = rc.ent[j].off;
		o->pos = s->d->pos;
		o->media_size = s->media->size;
		o->dpa0 = s->media == s->m->vmem ? o->off
			  : s->media == s->m->dc ? o->off + s->m->vmem_size +
						   s->m->pmem_size
			  : o->off + s->m->vmem_size;
	}
	return true;
}

static struct cx_route_table *rebuild(struct cx_host *h)
{
	cx_route_table_free(h->route_table);
	int n = h->regions.n;
	struct cx_route_table *t =
		cx_xcalloc(1, sizeof(*t) + (size_t)n * sizeof(t->v[0]));
	t->gen = h->decode_gen;
	for (int i = 0; i < n; i++)
		if (compile(h->regions.v[i], &t->v[t->n]))
			t->n++;
	h->route_table = t;
	return t;
}

static inline struct cx_route_table *table_of(struct cx_host *h)
{
	struct cx_route_table *t = h->route_table;
	return t && t->gen == h->decode_gen ? t : rebuild(h);
}

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The entry holding hpa: the last one hit first (accesses come in runs),
 * then the others. */
static inline const struct rt_entry *entry_of(struct cx_route_table *t,
					      uint64_t hpa)
{
	const struct rt_entry *en = &t->v[t->last];
	if (t->n && hpa >= en->base && hpa < en->end)
		return en;
	for (int i = 0; i < t->n; i++)
		if (hpa >= t->v[i].base && hpa < t->v[i].end) {
			t->last = i;
			return &t->v[i];
		}
	return NULL;
}

int cx_route_fast(struct cx_host *h, uint64_t hpa, struct cx_route *out)
{
	const struct rt_entry *en = entry_of(table_of(h), hpa);
	if (!en)
		return -ENOENT;
	const struct cx_ilv *v = &en->ilv;
	uint64_t off = hpa - en->base, k, in, round;
	int j;
	if (en->gshift >= 0) {
		k = off >> en->gshift;
		in = off & en->gmask;
	} else {
		k = off / v->gran;
		in = off % v->gran;
	}
	if (en->wshift >= 0) {
		j = (int)(k & (uint64_t)(v->ways - 1));
		round = k >> en->wshift;
	} else {
		j = (int)(k % (uint64_t)v->ways);
		round = k / (uint64_t)v->ways;
	}
	if (v->nmaps)
		j = cx_ilv_xor(v, j, hpa);
	const struct rt_hot *o = &en->hot[j];
	const struct rt_slot *s = &en->slot[j];
	uint64_t adv = round * v->gran + in;
	uint64_t moff = o->off + adv;
	if (moff >= o->media_size)
		return -ENOENT;
	uint64_t contig = en->end - hpa;
	if (v->ways > 1)
		contig = min64(contig, v->gran - in);
	contig = min64(contig, o->media_size - moff);
	out->hpa = hpa;
	out->win = en->w;
	out->region = en->r;
	out->position = (int)o->pos;
	out->memdev = s->m;
	out->decoder = s->d;
	out->dpa = o->dpa0 + adv;
	out->media = s->media;
	out->media_off = moff;
	out->contig = contig;
	return 0;
}

int cx_route_region_layout(struct cx_region *r, struct cx_route_layout *out)
{
	struct cx_route_table *t = table_of(r->host);
	for (int i = 0; i < t->n; i++) {
		const struct rt_entry *en = &t->v[i];
		if (en->r != r)
			continue;
		out->ilv = en->ilv;
		for (int j = 0; j < en->ilv.ways; j++) {
			out->slot[j].media = en->slot[j].media;
			out->slot[j].off = en->hot[j].off;
		}
		return 0;
	}
	return -ENOENT;
}

int cx_route_region_offset(struct cx_region *r, const struct cx_decoder *d,
			   uint64_t dpa, uint64_t *off)
{
	struct cx_route_table *t = table_of(r->host);
	for (int i = 0; i < t->n; i++) {
		const struct rt_entry *en = &t->v[i];
		if (en->r != r)
			continue;
		for (int j = 0; j < en->ilv.ways; j++) {
			if (en->slot[j].d != d || dpa < en->hot[j].dpa0)
				continue;
			uint64_t o = cx_ilv_offset(&en->ilv, j,
						   dpa - en->hot[j].dpa0);
			if (o >= r->size)
				return -ENOENT;
			*off = o;
			return 0;
		}
	}
	return -ENOENT;
}

int cx_route_hpa(struct cx_host *h, uint64_t hpa, struct cx_route *out,
		 cx_err *e)
{
	if (cx_route_fast(h, hpa, out) == 0)
		return 0;
	return cx_route_walk(h, hpa, out, e);
}
