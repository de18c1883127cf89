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

struct rt_slot {
	struct cx_memdev *m;
	struct cx_decoder *d;       /* m's endpoint decoder in the region */
	struct cx_media *media;
	uint64_t off;               /* media offset of the slot's first granule */
	uint64_t dpa0;              /* its DPA */
	uint64_t media_size;
};

struct rt_entry {
	struct cx_region *r;
	struct cx_window *w;
	uint64_t base, end;
	struct cx_ilv ilv;          /* gran, ways, XOR maps */
	int gshift, wshift;         /* log2, or -1 when not a power of two */
	struct rt_slot slot[CX_MAX_WAYS];
};

struct cx_route_table {
	uint64_t gen;
	int n;
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
	en->wshift = log2_or((uint64_t)rc.ilv.ways);
	for (int j = 0; j < rc.ilv.ways; j++) {
		struct rt_slot *s = &en->slot[j];
		s->m = rc.ent[j].memdev;
		s->media = rc.ent[j].media;
		s->off = rc.ent[j].off;
		s->d = region_decoder(s->m, r);
		if (!s->d || !s->media)
			return false;
		s->media_size = s->media->size;
		s->dpa0 = s->media == s->m->vmem ? s->off
			  : s->off + s->m->vmem_size;
	}
	return true;
}

static struct cx_route_table *table_of(struct cx_host *h)
{
	struct cx_route_table *t = h->route_table;
	if (t && t->gen == h->decode_gen)
		return t;
	cx_route_table_free(t);
	int n = h->regions.n;
	t = cx_xcalloc(1, sizeof(*t) + (size_t)n * sizeof(t->v[0]));
	t->gen = h->decode_gen;
	for (int i = 0; i < n; i++)
		if (compile(h->regions.v[i], &t->v[t->n]))
			t->n++;
	h->route_table = t;
	return t;
}

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

int cx_route_fast(struct cx_host *h, uint64_t hpa, struct cx_route *out)
{
	struct cx_route_table *t = table_of(h);
	const struct rt_entry *en = NULL;
	for (int i = 0; i < t->n; i++)
		if (hpa >= t->v[i].base && hpa < t->v[i].end) {
			en = &t->v[i];
			break;
		}
	if (!en)
		return -ENOENT;
	const struct cx_ilv *v = &en->ilv;
	uint64_t off = hpa - en->base, k, in, round;
	int j;
	if (en->gshift >= 0) {
		k = off >> en->gshift;
		in = off & (v->gran - 1);
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
	const struct rt_slot *s = &en->slot[j];
	uint64_t adv = round * v->gran + in;
	uint64_t moff = s->off + adv;
	if (moff >= s->media_size)
		return -ENOENT;
	uint64_t contig = en->end - hpa;
	if (v->ways > 1)
		contig = min64(contig, v->gran - in);
	contig = min64(contig, s->media_size - moff);
	out->hpa = hpa;
	out->win = en->w;
	out->region = en->r;
	out->position = s->d->pos;
	out->memdev = s->m;
	out->decoder = s->d;
	out->dpa = s->dpa0 + adv;
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
			out->slot[j].off = en->slot[j].off;
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
			const struct rt_slot *s = &en->slot[j];
			if (s->d != d || dpa < s->dpa0)
				continue;
			uint64_t o = cx_ilv_offset(&en->ilv, j, dpa - s->dpa0);
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
