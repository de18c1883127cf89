/*
 * route.c - HPA -> (memdev, DPA) through the decoders, and exact region
 * reads and writes on top of it.
 *
 * The walk is the one QEMU's memory path takes:
 *   window:       the target index its arithmetic gives the absolute HPA
 *                 (cx_window_target: modulo, (HPA / granularity) mod
 *                 ways, or XOR, the parities of the HPA under the
 *                 window's maps, plus modulo 3 for 3, 6 and 12 ways); the
 *                 window's target list names the host bridge;
 *   host bridge:  a passthrough bridge (one root port) forwards to it;
 *                 otherwise the committed decoder containing the HPA picks
 *                 way = (HPA / IG) mod IW and its target list names the
 *                 root port by port number;
 *   root port:    the memdev below it, or a switch upstream port, which
 *                 decodes like a host bridge and picks a downstream port;
 *   endpoint:     the committed decoder containing the HPA turns the
 *                 offset into the decoder into a DPA offset (CXL 3.1
 *                 §8.2.4.20.13, cx_ep_dpa_offset), added to the decoder's
 *                 DPA base; the DPA selects the volatile partition
 *                 [0, vmem_size), the persistent one after it, or the
 *                 dynamic capacity after both (whose bytes the device
 *                 lets a host reach only inside its accepted extents:
 *                 cx_mbox_access_check).
 *
 * One rule: the window is the platform's decoder and reads the absolute
 * HPA (as QEMU does, and as Linux assumes when it translates unaligned
 * 3/6/12-way regions); the HDM decoders count from their base.  Host
 * bridges and switches interleave power-of-two ways only, where the two
 * agree because bases are 256 MiB aligned.  At 3, 6 and 12 ways a
 * region whose base is not a multiple of 768 MiB starts on a window
 * target other than 0, so the device Linux calls position p receives
 * another residue class of granules than p's; every device still
 * receives one class and packs it densely, so every byte of a region
 * lands at one distinct DPA inside its decoder's allocation, and the
 * route reports the position of the device the bytes really reach.
 *
 * Every miss is an error naming the level and the HPA.  This walk is the
 * oracle; cx_route_hpa answers from the compiled table of
 * route_table.c first and comes here only for what the table cannot
 * answer (its misses, with their messages).
 */
#include "model.h"
#include "dax.h"
#include "mbox.h"
#include "region_view.h"
#include "util/stream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static struct cx_decoder *committed_at(struct cx_decoder *decs, int n,
				       uint64_t hpa)
{
	for (int i = 0; i < n; i++) {
		struct cx_decoder *d = &decs[i];
		if (!cx_hdm_committed(&d->regs))
			continue;
		uint64_t base = cx_hdm_base(&d->regs);
		if (hpa >= base && hpa - base < cx_hdm_size(&d->regs))
			return d;
	}
	return NULL;
}

static const char *kind_name(const struct cx_port *p)
{
	switch (p->kind) {
	case CX_PORT_HB: return "host bridge";
	case CX_PORT_RP: return "root port";
	case CX_PORT_USP: return "switch upstream port";
	default: return "switch downstream port";
	}
}

/* A host bridge or switch upstream port decodes hpa to a downstream port. */
static int route_port(struct cx_port *p, uint64_t hpa, uint64_t *contig,
		      struct cx_port **next, cx_err *e)
{
	struct cx_decoder *d = committed_at(p->decoders, p->ndecoders, hpa);
	if (!d)
		return cx_fail(e, ENXIO, "HPA %#llx hits no committed decoder "
			       "at port%d (%s %s)", (unsigned long long)hpa,
			       p->port_id, kind_name(p), p->qid);
	int ways = cx_eniw_to_ways(cx_hdm_iw(&d->regs));
	uint32_t gran = cx_eig_to_gran(cx_hdm_ig(&d->regs));
	if (!ways || cx_ways_mod3(ways))
		return cx_fail(e, EIO, "HPA %#llx: decoder%d.%d of %s %s has "
			       "an interleave a switch cannot route",
			       (unsigned long long)hpa, d->port_id, d->id,
			       kind_name(p), p->qid);
	int way = cx_route_way(hpa, gran, ways);
	if (ways > 1)
		*contig = min64(*contig, gran - hpa % gran);
	*contig = min64(*contig, cx_hdm_base(&d->regs) +
			cx_hdm_size(&d->regs) - hpa);
	int num = cx_hdm_target(&d->regs, way);
	for (int i = 0; i < p->children.n; i++) {
		struct cx_port *c = p->children.v[i];
		if (c->port_num == num) {
			*next = c;
			return 0;
		}
	}
	return cx_fail(e, ENXIO, "HPA %#llx: decoder%d.%d target %d names port "
		       "number %d, which %s %s does not have",
		       (unsigned long long)hpa, d->port_id, d->id, way, num,
		       kind_name(p), p->qid);
}

int cx_route_walk(struct cx_host *h, uint64_t hpa, struct cx_route *out,
		  cx_err *e)
{
	struct cx_window *w = NULL;
	uint64_t contig;
	int rc;

	for (int i = 0; i < h->windows.n; i++) {
		struct cx_window *c = h->windows.v[i];
		if (hpa >= c->base && hpa - c->base < c->size) {
			w = c;
			break;
		}
	}
	if (!w)
		return cx_fail(e, ENXIO, "HPA %#llx is in no CXL window of host "
			       "%s", (unsigned long long)hpa, h->name);
	contig = w->base + w->size - hpa;
	int way = cx_window_target(w, hpa);
	if (w->ways > 1)
		contig = min64(contig, w->gran - hpa % w->gran);
	struct cx_port *p = w->targets[way];
	if (!p)
		return cx_fail(e, ENXIO, "HPA %#llx: decoder0.%d has no target "
			       "%d", (unsigned long long)hpa, w->index, way);

	/* host bridge, then root port, then maybe a switch */
	while (!(p->kind == CX_PORT_RP || p->kind == CX_PORT_DSP) ||
	       !p->memdev) {
		struct cx_port *next = NULL;
		switch (p->kind) {
		case CX_PORT_HB:
			if (p->passthrough && p->children.n == 1) {
				next = p->children.v[0];
				break;
			}
			/* fall through */
		case CX_PORT_USP:
			if ((rc = route_port(p, hpa, &contig, &next, e)))
				return rc;
			break;
		default:
			if (p->children.n) {
				next = p->children.v[0];
				break;
			}
			return cx_fail(e, ENXIO, "HPA %#llx reaches %s %s, "
				       "which has nothing below it",
				       (unsigned long long)hpa, kind_name(p),
				       p->qid);
		}
		p = next;
	}

	struct cx_memdev *m = p->memdev;
	struct cx_decoder *d = committed_at(m->decoders, CX_DECODERS_PER_PORT,
					    hpa);
	if (!d)
		return cx_fail(e, ENXIO, "HPA %#llx hits no committed decoder "
			       "at endpoint%d (mem%d, %s)",
			       (unsigned long long)hpa, m->endpoint_id,
			       m->index, m->qid);
	uint64_t base = cx_hdm_base(&d->regs);
	int eniw = cx_hdm_iw(&d->regs), eig = cx_hdm_ig(&d->regs);
	uint64_t off = hpa - base;
	uint64_t doff = cx_ep_dpa_offset(off, eig, eniw);
	if (doff >= d->dpa_size)
		return cx_fail(e, EIO, "HPA %#llx: decoder%d.%d gives DPA offset "
			       "%#llx, past its %#llx bytes of DPA",
			       (unsigned long long)hpa, d->port_id, d->id,
			       (unsigned long long)doff,
			       (unsigned long long)d->dpa_size);
	uint64_t dpa = d->dpa_base + doff;
	uint32_t gran = cx_eig_to_gran(eig);
	if (cx_eniw_to_ways(eniw) > 1)
		contig = min64(contig, gran - off % gran);
	contig = min64(contig, cx_hdm_size(&d->regs) - off);

	struct cx_media *media;
	uint64_t moff, dc_base;
	uint64_t dc_len = cx_memdev_dc_part(m, &dc_base);
	if (dpa < m->vmem_size) {
		media = m->vmem;
		moff = dpa;
		contig = min64(contig, m->vmem_size - dpa);
	} else if (dc_len && dpa >= dc_base) {
		/* dynamic capacity (a dynamic_ram_a region): the DC media */
		media = m->dc;
		moff = dpa - dc_base;
	} else {
		media = m->pmem;
		moff = dpa - m->vmem_size;
	}
	if (!media)
		return cx_fail(e, ENXIO, "HPA %#llx: mem%d (%s) has no media "
			       "at DPA %#llx (is the fabric started?)",
			       (unsigned long long)hpa, m->index, m->qid,
			       (unsigned long long)dpa);
	if (moff >= media->size)
		return cx_fail(e, EIO, "HPA %#llx: DPA %#llx is past the end of "
			       "mem%d's media %s", (unsigned long long)hpa,
			       (unsigned long long)dpa, m->index, media->name);
	contig = min64(contig, media->size - moff);

	out->hpa = hpa;
	out->win = w;
	out->region = d->region;
	out->position = d->pos;
	out->memdev = m;
	out->decoder = d;
	out->dpa = dpa;
	out->media = media;
	out->media_off = moff;
	out->contig = contig;
	return 0;
}

/* Route region offset `off`; the route must stay inside region r. */
static int route_in_region(struct cx_region *r, uint64_t off,
			   struct cx_route *rt, cx_err *e)
{
	int rc = cx_route_hpa(r->host, r->base + off, rt, e);
	if (rc) {
		cx_err_prefix(e, "region%d offset %#llx", r->id,
			      (unsigned long long)off);
		return rc;
	}
	if (rt->region != r)
		return cx_fail(e, EIO, "region%d offset %#llx (HPA %#llx) "
			       "routes to decoder%d.%d, which is not part of "
			       "the region", r->id, (unsigned long long)off,
			       (unsigned long long)rt->hpa,
			       rt->decoder->port_id, rt->decoder->id);
	return 0;
}

/*
 * Ask each device of the region whether [off, off+len) may be accessed:
 * poisoned lines fail reads; sanitizing or locked media fail both.  A
 * device's DPAs advance with the region offset, so the bytes of the range
 * that land on one position are one DPA range, from the first byte routed
 * there to the last: finding both ends takes at most 2 x ways routes.
 */
static int check_access(struct cx_region *r, uint64_t off, uint64_t len,
			bool wr, cx_err *e)
{
	struct {
		struct cx_memdev *m;
		uint64_t lo, hi;
		bool have_lo, have_hi;
	} dev[CX_MAX_WAYS];
	struct cx_route rt;
	uint64_t end = off + len;
	int rc, found = 0;

	memset(dev, 0, sizeof(dev));
	for (uint64_t o = off; o < end && found < r->ways;) {
		if ((rc = route_in_region(r, o, &rt, e)))
			return rc;
		int p = rt.position;
		if (p < 0 || p >= r->ways)
			return cx_fail(e, EIO, "region%d offset %#llx: endpoint "
				       "position %d is outside the region's %d "
				       "ways", r->id, (unsigned long long)o, p,
				       r->ways);
		if (!dev[p].have_lo) {
			dev[p].m = rt.memdev;
			dev[p].lo = rt.dpa;
			dev[p].have_lo = true;
			found++;
		}
		o += min64(rt.contig, end - o);
	}
	found = 0;
	for (uint64_t o = end - 1; found < r->ways;) {
		if ((rc = route_in_region(r, o, &rt, e)))
			return rc;
		int p = rt.position;
		if (p >= 0 && p < r->ways && dev[p].have_lo && !dev[p].have_hi) {
			dev[p].hi = rt.dpa;
			dev[p].have_hi = true;
			found++;
		}
		uint64_t g = o - o % r->gran; /* start of this granule */
		if (g <= off)
			break;
		o = g - 1;
	}
	for (int p = 0; p < r->ways; p++) {
		if (!dev[p].have_lo)
			continue;
		uint64_t bad = dev[p].lo;
		if ((rc = cx_mbox_access_check(dev[p].m, dev[p].lo,
					       dev[p].hi - dev[p].lo + 1, wr,
					       &bad, e))) {
			cx_err_prefix(e, "region%d (position %d, %s DPA %#llx)",
				      r->id, p, dev[p].m->qid,
				      (unsigned long long)bad);
			return rc;
		}
	}
	return 0;
}

/* The strided copy: one guard for the request, the interleave period
 * from the compiled table, one memcpy per granule (per run for 1 way);
 * the slot and round carried from granule to granule, so the divisions
 * are paid once per request; non-temporal stores for large writes
 * (util/stream.h). */
struct stride {
	const struct cx_route_layout *L;
	uint64_t off, len;
	uint8_t *dst;
	const uint8_t *src;
	int bad;                    /* a piece past its media's end */
	struct cx_rview *view;      /* view_copy's */
	bool stream;                /* non-temporal stores (writes) */
};

static int stride_piece(void *arg, int j, uint64_t adv, uint64_t n)
{
	struct stride *c = arg;
	struct cx_media *m = c->L->slot[j].media;
	uint64_t moff = c->L->slot[j].off + adv;
	if (moff > m->size || n > m->size - moff) {
		c->bad = 1;
		return -EIO;
	}
	while (n) {
		/* a device's bytes another region's view holds are reached
		 * through it (media.h, overlays) */
		uint64_t k = n;
		uint8_t *p = m->map + moff;
		if (cx_media_overlaid(m)) {
			p = cx_media_at(m, moff, &k);
			if (k > n)
				k = n;
		}
		if (c->src) {
			if (c->stream)
				cx_copy_stream(p, c->src, k);
			else
				cx_copy(p, c->src, k);
			c->src += k;
		} else {
			cx_copy(c->dst, p, k);
			c->dst += k;
		}
		moff += k;
		n -= k;
	}
	return 0;
}

/* A region with a view: its bytes are in region order, one copy. */
static int view_copy(void *arg)
{
	struct stride *c = arg;
	uint8_t *p = cx_rview_map(c->view) + c->off;
	if (c->src && c->len >= CX_STREAM_MIN) {
		cx_copy_stream(p, c->src, c->len);
		cx_stream_fence();
	} else if (c->src) {
		cx_copy(p, c->src, c->len);
	}
	if (c->src) {
		cx_rview_written(c->view, c->off, c->len);
	} else {
		cx_copy(c->dst, p, c->len);
	}
	return 0;
}

static int stride_copy(void *arg)
{
	struct stride *c = arg;
	const struct cx_ilv *v = &c->L->ilv;
	uint64_t off = c->off, len = c->len;
	int rc;
	c->stream = c->src && len >= CX_STREAM_MIN;
	if (v->ways == 1) {
		int j;
		uint64_t adv, left;
		cx_dax_period(v, off, &j, &adv, &left);
		rc = stride_piece(c, j, adv, len);
	} else {
		rc = cx_ilv_walk(v, off, len, stride_piece, c);
	}
	if (c->stream)
		cx_stream_fence();
	return rc;
}

/* The strided copy wrote into the media's mappings directly: bytes of a
 * file-backed device that a program was lent reach the file too, as
 * every daemon write does (cx_media_writeback; nothing for the rest). */
static int write_back(const struct cx_route_layout *L, uint64_t off,
		      uint64_t len, cx_err *e)
{
	uint64_t a0, b0;
	cx_ilv_slot_span(&L->ilv, off, len, &a0, &b0);
	for (int j = 0; j < L->ilv.ways; j++) {
		struct cx_media *m = L->slot[j].media;
		uint64_t a = L->slot[j].off + a0, b = L->slot[j].off + b0;
		if (b > m->size)
			b = m->size;
		int rc = a < b ? cx_media_writeback(m, a, b - a, e) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Exact access: every device is asked first (check_access), so a refused
 * request changes nothing; then the bytes move.  With the compiled table
 * (all committed regions) the period is known: one guard for the request
 * and one memcpy per granule; otherwise one route and one guarded copy
 * per granule.
 */
static int region_rw(struct cx_region *r, uint64_t off, uint8_t *dst,
		     const uint8_t *src, uint64_t len, cx_err *e)
{
	bool wr = src != NULL;
	struct cx_route rt;
	int rc;

	if (off > r->size || len > r->size - off)
		return cx_fail(e, ERANGE, "region%d: offset %#llx + length "
			       "%#llx is past the region's %#llx bytes", r->id,
			       (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)r->size);
	if (len && (rc = check_access(r, off, len, wr, e)))
		return rc;
	if (len && r->view) {
		struct stride c = { .view = r->view, .off = off, .len = len,
				      .dst = dst, .src = src };
		char what[32];
		snprintf(what, sizeof(what), "region%d", r->id);
		return cx_media_guarded(view_copy, &c, what, e);
	}
	struct cx_route_layout L;
	if (len && cx_route_region_layout(r, &L) == 0) {
		struct stride c = { .L = &L, .off = off, .len = len,
				      .dst = dst, .src = src };
		char what[32];
		snprintf(what, sizeof(what), "region%d", r->id);
		rc = cx_media_guarded(stride_copy, &c, what, e);
		if (rc && c.bad)
			return cx_fail(e, EIO, "region%d: offset %#llx maps "
				       "past the end of a device's media",
				       r->id, (unsigned long long)off);
		if (!rc && wr && len)
			rc = write_back(&L, off, len, e);
		return rc;
	}
	while (len) {
		if ((rc = route_in_region(r, off, &rt, e)))
			return rc;
		uint64_t n = min64(rt.contig, len);
		rc = wr ? cx_media_write(rt.media, rt.media_off, src, n, e)
			: cx_media_read(rt.media, rt.media_off, dst, n, e);
		if (rc)
			return rc;
		off += n;
		len -= n;
		if (wr)
			src += n;
		else
			dst += n;
	}
	return 0;
}

int cx_region_check_access(struct cx_region *r, uint64_t off, uint64_t len,
			   bool write, cx_err *e)
{
	if (off > r->size || len > r->size - off)
		return cx_fail(e, ERANGE, "region%d: offset %#llx + length "
			       "%#llx is past the region's %#llx bytes", r->id,
			       (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)r->size);
	return len ? check_access(r, off, len, write, e) : 0;
}

int cx_region_read(struct cx_region *r, uint64_t off, void *buf, uint64_t len,
		   cx_err *e)
{
	if (!buf && len)
		return cx_fail(e, EINVAL, "region%d: read into no buffer", r->id);
	return region_rw(r, off, buf, NULL, len, e);
}

int cx_region_write(struct cx_region *r, uint64_t off, const void *buf,
		    uint64_t len, cx_err *e)
{
	if (!buf && len)
		return cx_fail(e, EINVAL, "region%d: write from no buffer",
			       r->id);
	static const uint8_t none;
	return region_rw(r, off, NULL, buf ? buf : &none, len, e);
}
