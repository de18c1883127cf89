/*
 * region.c - region assembly with `cxl create-region`'s defaults and the
 * rules Linux's drivers/cxl/core/region.c applies while attaching targets.
 *
 * cx_region_create() works in three phases:
 *
 *  1. Resolve the request (root decoder, memdevs in position order, ways,
 *     granularity, mode, size) and check it the way ndctl and the kernel
 *     do, without touching anything.
 *  2. Plan the decode: HPA (first fit, ascending, 256 MiB aligned in the
 *     window), the host bridge of every position against the window's
 *     target list, and for every port with decoders (host bridges and
 *     switch upstream ports) the distinct downstream ports the region uses
 *     there, in order of first appearance by position, with Linux's
 *     interleave parameters: IW = number of those ports, IG = region IG x
 *     root ways (/3 for 3, 6, 12 ways) below the root, parent IG x parent
 *     IW deeper down; endpoints get the region's IW and IG.
 *  3. Program: allocate DPA (size / ways) on each endpoint, program every
 *     decoder with the region's base and full size, commit bottom-up
 *     (endpoints, switches, host bridges) through cx_decoder_commit().
 *     Any failure restores every decoder it touched from a snapshot, so a
 *     refused request changes nothing.
 *
 * A passthrough host bridge (one root port) has one software decoder that
 * does not route.  The first region through it programs and commits it so
 * that listings show what Linux shows; further regions through the same
 * bridge are allowed and leave it alone (the ordering rules apply to
 * decoders that route).
 */
#include "model.h"
#include "dax.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PLAN_PORTS (2 * CX_MAX_WAYS)

struct plan_port {
	struct cx_port *port;           /* host bridge or switch USP */
	int parent;                     /* index of the parent plan port, -1 */
	struct cx_port *dports[CX_TARGETS_PER_DECODER];
	int ndports;
	struct cx_decoder *dec;         /* NULL: shared passthrough decoder */
	int iw;
	uint32_t ig;
};

struct plan_pos {
	struct cx_memdev *m;
	struct cx_port *hb, *rp, *usp, *dsp;
	int hb_plan, usp_plan;          /* plan port indexes, usp -1 */
};

struct plan {
	struct cx_host *h;
	struct cx_window *w;
	enum cx_mode mode;
	int ways;
	uint32_t gran;
	uint64_t base, size;
	struct plan_pos pos[CX_MAX_WAYS];
	struct plan_port pp[MAX_PLAN_PORTS];
	int npp;
	/* endpoint decoders already holding the DPA (a region assembled
	 * through sysfs); NULL: allocate at program time */
	struct cx_decoder *pre[CX_MAX_WAYS];
	struct cx_region *r;            /* that region: its decoders are ours */
};

static const char *port_kind_name(const struct cx_port *p)
{
	switch (p->kind) {
	case CX_PORT_HB: return "host bridge";
	case CX_PORT_RP: return "root port";
	case CX_PORT_USP: return "switch upstream port";
	default: return "switch downstream port";
	}
}

/* "port1 (host bridge cxl.1)" */
static const char *port_desc(const struct cx_port *p, char *buf, size_t len)
{
	if (p->port_id >= 0)
		snprintf(buf, len, "port%d (%s %s)", p->port_id,
			 port_kind_name(p), p->qid);
	else
		snprintf(buf, len, "%s %s", port_kind_name(p), p->qid);
	return buf;
}

/* Linux reports 256 as the granularity of an x1 root decoder. */
static uint32_t root_gran(const struct cx_window *w)
{
	return w->ways == 1 ? CX_MIN_GRAN : w->gran;
}

/* Regions of window w, sorted by base. */
static int window_regions(const struct cx_window *w, struct cx_region **out,
			  int max)
{
	int n = 0;
	if (!w->ways || !w->targets[0])
		return 0;
	struct cx_host *h = w->targets[0]->host;
	for (int i = 0; i < h->regions.n && n < max; i++) {
		struct cx_region *r = h->regions.v[i];
		if (r->win != w)
			continue;
		int j = n++;
		while (j > 0 && out[j - 1]->base > r->base) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = r;
	}
	return n;
}

#define MAX_WIN_REGIONS 4096

uint64_t cx_window_max_extent(const struct cx_window *w)
{
	static __thread struct cx_region *rs[MAX_WIN_REGIONS];
	int n = window_regions(w, rs, MAX_WIN_REGIONS);
	uint64_t cur = w->base, best = 0;

	for (int i = 0; i <= n; i++) {
		uint64_t next = i < n ? rs[i]->base : w->base + w->size;
		if (next > cur && next - cur > best)
			best = next - cur;
		if (i < n && rs[i]->base + rs[i]->size > cur)
			cur = rs[i]->base + rs[i]->size;
	}
	return best;
}

/* First fit, ascending, 256 MiB aligned. */
bool cx_window_alloc_hpa(const struct cx_window *w, uint64_t size, uint64_t *base)
{
	static __thread struct cx_region *rs[MAX_WIN_REGIONS];
	int n = window_regions(w, rs, MAX_WIN_REGIONS);
	uint64_t cur = (w->base + CX_HDM_ALIGN - 1) / CX_HDM_ALIGN * CX_HDM_ALIGN;

	for (int i = 0; i <= n; i++) {
		uint64_t next = i < n ? rs[i]->base : w->base + w->size;
		if (next >= cur && next - cur >= size) {
			*base = cur;
			return true;
		}
		if (i < n && rs[i]->base + rs[i]->size > cur)
			cur = rs[i]->base + rs[i]->size;
	}
	return false;
}

static int random_uuid(char out[37], cx_err *e)
{
	uint8_t b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, b, sizeof(b)) : -1;
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)sizeof(b))
		return cx_fail(e, got < 0 ? err : EIO, "cannot read 16 random "
			       "bytes from /dev/urandom for a pmem region "
			       "uuid: %s", got < 0 ? strerror(err) : "short read");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
		 b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return 0;
}

/* ---- phase 1: resolve the request ---- */

static int resolve(struct cx_host *h, const struct cx_region_req *req,
		   struct plan *pl, cx_err *e)
{
	struct cx_decoder *root;
	struct cx_window *w;
	int n = 0;

	if (!req->root || !*req->root)
		return cx_fail(e, EINVAL, "a root decoder is required (the "
			       "window to create the region in, decoder0.N)");
	root = cx_decoder_find(h, req->root);
	if (!root)
		return cx_fail(e, ENXIO, "root decoder %s not found on host %s",
			       req->root, h->name);
	if (root->kind != CX_DEC_ROOT)
		return cx_fail(e, EINVAL, "%s is not a root decoder; regions "
			       "are created in a window, decoder0.N", req->root);
	w = root->window;
	if (!w || !w->ways || !w->targets[0] || !w->targets[0]->decoders)
		return cx_fail(e, ENXIO, "host %s is not finalized: %s has no "
			       "host bridges with decoders yet", h->name,
			       req->root);
	pl->h = h;
	pl->w = w;

	if (req->nmemdevs < 0 || req->nmemdevs > CX_MAX_WAYS)
		return cx_fail(e, EINVAL, "%d memdevs given; a region "
			       "interleaves at most %d", req->nmemdevs,
			       CX_MAX_WAYS);
	if (req->nmemdevs) {
		for (int i = 0; i < req->nmemdevs; i++) {
			struct cx_memdev *m = req->memdevs[i] ?
				cx_memdev_find(h, req->memdevs[i]) : NULL;
			if (!m)
				return cx_fail(e, ENODEV, "memdev %s not found "
					       "on host %s", req->memdevs[i] ?
					       req->memdevs[i] : "(null)",
					       h->name);
			for (int j = 0; j < i; j++)
				if (pl->pos[j].m == m)
					return cx_fail(e, EBUSY, "mem%d is "
						"given at positions %d and %d; "
						"a memdev can be in a region "
						"once", m->index, j, i);
			pl->pos[n++].m = m;
		}
	} else {
		/* all memdevs below the window's host bridges, memdev order */
		for (int i = 0; i < h->memdevs.n; i++) {
			struct cx_memdev *m = h->memdevs.v[i];
			struct cx_port *hb = cx_memdev_hb(m);
			bool below = false;
			for (int t = 0; t < w->ways; t++)
				if (hb && w->targets[t] == hb)
					below = true;
			if (!below)
				continue;
			if (n == CX_MAX_WAYS)
				return cx_fail(e, EINVAL, "more than %d memdevs "
					       "below %s; name the ones to "
					       "interleave", CX_MAX_WAYS,
					       req->root);
			pl->pos[n++].m = m;
		}
		if (!n)
			return cx_fail(e, ENODEV, "no memdevs below the host "
				       "bridges of %s", req->root);
	}

	/* ways: the number of memdevs given; of those found, the first
	 * `ways` may be taken (ndctl's validate_ways) */
	/* a dynamic_ram_a region is one device's DC partition: 1 way */
	bool dc = req->mode == CX_MODE_DC;
	int ways = req->ways ? req->ways : dc ? 1 : n;
	if (dc && (ways > 1 || (req->nmemdevs > 1)))
		return cx_fail(e, EINVAL, "a dynamic_ram_a region has 1 way, "
			       "not %d: interleaved dynamic capacity regions "
			       "are out of scope (as in Linux's DCD series); "
			       "name one memdev", ways > 1 ? ways :
			       req->nmemdevs);
	const char *how = req->nmemdevs ? "given" : "found";
	if (ways < 0)
		return cx_fail(e, EINVAL, "invalid interleave ways %d", ways);
	if (ways > n)
		return cx_fail(e, EINVAL, "interleave ways %d is greater than "
			       "the number of memdevs %s (%d)", ways, how, n);
	if (ways < n && req->nmemdevs)
		return cx_fail(e, EINVAL, "interleave ways %d is less than the "
			       "number of memdevs %s (%d)", ways, how, n);
	n = ways;
	/* two heads of one device would put two granules on one DPA */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (cx_memdev_same_device(pl->pos[i].m, pl->pos[j].m))
				return cx_fail(e, EINVAL, "mem%d and mem%d are "
					"heads of one device (their backends "
					"name the same media): interleaving "
					"them would map each DPA twice",
					pl->pos[j].m->index,
					pl->pos[i].m->index);
	if (!cx_ways_valid(ways))
		return cx_fail(e, EINVAL, "interleave ways %d is not a valid "
			       "encoding (1, 2, 3, 4, 6, 8, 12 or 16)", ways);
	if (ways % w->ways || !cx_is_pow2((uint64_t)(ways / w->ways)))
		return cx_fail(e, EINVAL, "interleave ways %d is not a power "
			       "of two multiple of the %d ways of %s", ways,
			       w->ways, req->root);
	pl->ways = ways;

	/* granularity: the root's; any valid value under an x1 root */
	uint32_t rg = root_gran(w);
	uint32_t gran = req->gran ? req->gran : rg;
	if (!cx_gran_valid(gran))
		return cx_fail(e, EINVAL, "interleave granularity %u is not "
			       "valid (a power of two from 256 to 16384)",
			       gran);
	if (w->ways > 1 && gran != rg)
		return cx_fail(e, EINVAL, "for an x%d root, only the root "
			       "decoder granularity (%u) is permitted, not %u",
			       w->ways, rg, gran);
	pl->gran = gran;

	/*
	 * Mode.  ndctl takes pmem whenever the root allows it, which QEMU's
	 * windows always do, and then fails on a volatile-only device.  To
	 * stay useful we default to pmem only when every memdev has a
	 * persistent partition, and to ram otherwise.
	 */
	enum cx_mode mode = req->mode;
	if (mode == CX_MODE_NONE) {
		mode = CX_MODE_PMEM;
		for (int i = 0; i < n; i++)
			if (!pl->pos[i].m->pmem_size)
				mode = CX_MODE_RAM;
	}
	if (mode != CX_MODE_RAM && mode != CX_MODE_PMEM && mode != CX_MODE_DC)
		return cx_fail(e, EINVAL, "region type must be ram, pmem or "
			       "dynamic_ram_a, not %s", cx_mode_name(mode));
	for (int i = 0; i < n; i++) {
		struct cx_memdev *m = pl->pos[i].m;
		uint64_t have = mode == CX_MODE_RAM ? m->vmem_size :
				mode == CX_MODE_PMEM ? m->pmem_size :
				cx_memdev_dc_part(m, NULL);
		if (!cx_memdev_enabled(m))
			return cx_fail(e, ENXIO, "mem%d (%s) is disabled (not "
				       "bound to cxl_mem); enable it first",
				       m->index, m->qid);
		if (!have)
			return cx_fail(e, ENXIO, "mem%d (%s) has no %s "
				       "capacity%s", m->index, m->qid,
				       cx_mode_name(mode), mode == CX_MODE_DC ?
				       " (it has no dynamic capacity: "
				       "num-dc-regions, volatile-dc-memdev)" :
				       "");
		uint64_t free_b = cx_memdev_free_capacity(m, mode);
		if (mode == CX_MODE_DC && req->size > free_b)
			return cx_fail(e, ENOSPC, "mem%d (%s): region size "
				       "%#llx does not fit its dynamic_ram_a "
				       "partition (DC region 0: %#llx bytes, "
				       "%#llx free)", m->index, m->qid,
				       (unsigned long long)req->size,
				       (unsigned long long)have,
				       (unsigned long long)free_b);
	}
	pl->mode = mode;

	/* size */
	uint64_t unit = CX_HDM_ALIGN * (uint64_t)ways;
	uint64_t extent = cx_window_max_extent(w);
	uint64_t size = req->size;
	if (size) {
		if (size % unit)
			return cx_fail(e, EINVAL, "region size %#llx is not a "
				       "multiple of 256 MiB x %d ways",
				       (unsigned long long)size, ways);
		if (size > extent)
			return cx_fail(e, ENOSPC, "%s: region size %#llx "
				       "exceeds the largest free extent "
				       "%#llx of the window", req->root,
				       (unsigned long long)size,
				       (unsigned long long)extent);
	} else {
		uint64_t per = UINT64_MAX;
		int which = 0;
		for (int i = 0; i < n; i++) {
			uint64_t c = cx_memdev_free_capacity(pl->pos[i].m, mode)
				     / CX_HDM_ALIGN * CX_HDM_ALIGN;
			if (c < per) {
				per = c;
				which = i;
			}
		}
		if (!per)
			return cx_fail(e, ENOSPC, "mem%d has no free %s "
				       "capacity left for a region",
				       pl->pos[which].m->index,
				       cx_mode_name(mode));
		size = per * (uint64_t)ways;
		if (size > extent / unit * unit)
			size = extent / unit * unit;
		if (!size)
			return cx_fail(e, ENOSPC, "%s has no free extent of "
				       "256 MiB x %d ways left", req->root,
				       ways);
	}
	pl->size = size;
	return 0;
}

/* ---- phase 2: plan the decode ---- */

static int plan_port_index(struct plan *pl, struct cx_port *p, int parent)
{
	for (int i = 0; i < pl->npp; i++)
		if (pl->pp[i].port == p)
			return i;
	struct plan_port *pp = &pl->pp[pl->npp];
	memset(pp, 0, sizeof(*pp));
	pp->port = p;
	pp->parent = parent;
	return pl->npp++;
}

/* The downstream port position i uses at plan port k. */
static struct cx_port *pos_dport(const struct plan *pl, int i, int k)
{
	const struct plan_pos *ps = &pl->pos[i];
	if (ps->hb_plan == k)
		return ps->rp;
	if (ps->usp_plan == k)
		return ps->dsp;
	return NULL;
}

static int walk_paths(struct plan *pl, cx_err *e)
{
	struct cx_window *w = pl->w;
	char a[96], b[96];

	for (int i = 0; i < pl->ways; i++) {
		struct plan_pos *ps = &pl->pos[i];
		struct cx_memdev *m = ps->m;
		struct cx_port *p = m->parent;

		ps->usp_plan = -1;
		if (p && p->kind == CX_PORT_DSP) {
			ps->dsp = p;
			ps->usp = p->parent;
			p = ps->usp ? ps->usp->parent : NULL;
		}
		if (!p || p->kind != CX_PORT_RP || !p->parent ||
		    p->parent->kind != CX_PORT_HB)
			return cx_fail(e, ENXIO, "mem%d (%s) is not below a "
				       "root port of a host bridge", m->index,
				       m->qid);
		ps->rp = p;
		ps->hb = p->parent;
		struct cx_port *want = cx_window_position_target(w, i);
		if (ps->hb != want)
			return cx_fail(e, ENXIO, "invalid target position: "
				       "mem%d at position %d is below %s, but "
				       "decoder0.%d sends position %d to its "
				       "target %d, %s", m->index, i,
				       port_desc(ps->hb, a, sizeof(a)),
				       w->index, i, i % w->ways,
				       want ? port_desc(want, b, sizeof(b)) :
				       "nothing");
		ps->hb_plan = plan_port_index(pl, ps->hb, -1);
		if (ps->usp)
			ps->usp_plan = plan_port_index(pl, ps->usp,
						       ps->hb_plan);
	}
	/* distinct downstream ports, in order of first appearance */
	for (int k = 0; k < pl->npp; k++) {
		struct plan_port *pp = &pl->pp[k];
		for (int i = 0; i < pl->ways; i++) {
			struct cx_port *d = pos_dport(pl, i, k);
			if (!d)
				continue;
			bool seen = false;
			for (int j = 0; j < pp->ndports; j++)
				if (pp->dports[j] == d)
					seen = true;
			if (seen)
				continue;
			if (pp->ndports == CX_TARGETS_PER_DECODER)
				return cx_fail(e, ENXIO, "%s: the region uses "
					       "more than %d of its downstream "
					       "ports; a decoder has %d targets",
					       port_desc(pp->port, a, sizeof(a)),
					       CX_TARGETS_PER_DECODER,
					       CX_TARGETS_PER_DECODER);
			pp->dports[pp->ndports++] = d;
		}
	}
	return 0;
}

/* Linux's check_last_peer(): a position that shares a downstream port
 * with an earlier one must find that port at position - distance. */
static int check_peers(struct plan *pl, int k, cx_err *e)
{
	struct plan_port *pp = &pl->pp[k];
	char a[96];
	int distance = pl->w->ways;

	for (int j = k; j >= 0; j = pl->pp[j].parent)
		distance *= pl->pp[j].ndports;
	for (int i = 0; i < pl->ways; i++) {
		struct cx_port *d = pos_dport(pl, i, k);
		if (!d)
			continue;
		int first = -1;
		for (int j = 0; j < i && first < 0; j++)
			if (pos_dport(pl, j, k) == d)
				first = j;
		if (first < 0)
			continue;
		if (i < distance)
			return cx_fail(e, ENXIO, "%s cannot host mem%d at "
				       "position %d: it shares %s with "
				       "position %d, but positions sharing a "
				       "downstream port here must be %d apart",
				       port_desc(pp->port, a, sizeof(a)),
				       pl->pos[i].m->index, i, d->qid, first,
				       distance);
		if (pos_dport(pl, i - distance, k) != d)
			return cx_fail(e, ENXIO, "%s: mem%d at position %d "
				       "has a mismatched peer: it uses %s, "
				       "but position %d (mem%d), %d positions "
				       "before it, does not",
				       port_desc(pp->port, a, sizeof(a)),
				       pl->pos[i].m->index, i, d->qid,
				       i - distance,
				       pl->pos[i - distance].m->index, distance);
	}
	return 0;
}

/* The decoder the region will use at a port, Linux's match_free_decoder:
 * the one after the last committed, with everything below it committed. */
static int pick_decoder(struct plan *pl, struct plan_port *pp, cx_err *e)
{
	struct cx_port *p = pp->port;
	char a[96];
	int c = cx_port_decoders_committed(p);

	port_desc(p, a, sizeof(a));
	if (p->passthrough) {
		struct cx_decoder *d = &p->decoders[0];
		pp->dec = cx_hdm_committed(&d->regs) || d->region ? NULL : d;
		return 0;
	}
	for (int i = 0; i < c; i++)
		if (!cx_hdm_committed(&p->decoders[i].regs))
			return cx_fail(e, EBUSY, "%s: decoder%d.%d is reset "
				       "below committed ones (out of order "
				       "shutdown); no decoder can be allocated",
				       a, p->port_id, i);
	if (c >= p->ndecoders)
		return cx_fail(e, EBUSY, "%s: no free decoder, all %d are "
			       "committed", a, p->ndecoders);
	struct cx_decoder *d = &p->decoders[c];
	if (d->region && d->region != pl->r)
		return cx_fail(e, EBUSY, "%s: the next decoder to commit, "
			       "decoder%d.%d, is reserved by region%d", a,
			       p->port_id, c, d->region->id);
	/* regions attached to a port are in increasing HPA order */
	for (int i = 0; i < p->ndecoders; i++) {
		struct cx_region *o = p->decoders[i].region;
		if (o && o != pl->r && o->base >= pl->base)
			return cx_fail(e, EBUSY, "%s: HPA order violation: "
				       "region%d at %#llx is already decoded "
				       "here, and a new region at %#llx below "
				       "it would need a lower decoder id", a,
				       o->id, (unsigned long long)o->base,
				       (unsigned long long)pl->base);
	}
	pp->dec = d;
	return 0;
}

static int plan_ports(struct plan *pl, cx_err *e)
{
	char a[96];

	/* plan ports were added parents first, so parents' IG/IW exist */
	for (int k = 0; k < pl->npp; k++) {
		struct plan_port *pp = &pl->pp[k];
		uint64_t pig, piw;

		port_desc(pp->port, a, sizeof(a));
		if (pp->parent < 0) {
			pig = pl->gran;
			piw = (uint64_t)pl->w->ways;
			if (cx_ways_mod3(pl->w->ways))
				piw /= 3;
		} else {
			pig = pl->pp[pp->parent].ig;
			piw = (uint64_t)pl->pp[pp->parent].iw;
		}
		pp->iw = pp->ndports;
		if (!cx_is_pow2((uint64_t)pp->iw))
			return cx_fail(e, EINVAL, "%s: the region uses %d of "
				       "its downstream ports; a host bridge or "
				       "switch interleaves a power of two", a,
				       pp->iw);
		if (!cx_gran_valid(pig * piw))
			return cx_fail(e, EINVAL, "%s would interleave at "
				       "%llu bytes (parent granularity %llu x "
				       "parent ways %llu), more than the 16384 "
				       "an HDM decoder can encode", a,
				       (unsigned long long)(pig * piw),
				       (unsigned long long)pig,
				       (unsigned long long)piw);
		pp->ig = (uint32_t)(pig * piw);
		int rc = pick_decoder(pl, pp, e);
		if (rc)
			return rc;
		const struct cx_decoder *d = pp->dec ? pp->dec :
					     &pp->port->decoders[0];
		if (pp->iw > d->nr_targets)
			return cx_fail(e, ENXIO, "%s: the region uses %d of its "
				       "downstream ports, more than the %d "
				       "targets of its decoder", a, pp->iw,
				       d->nr_targets);
		if ((rc = cx_decoder_check_interleave(d, pp->iw, pp->ig, e)))
			return rc;
		if ((rc = check_peers(pl, k, e)))
			return rc;
	}
	return 0;
}

/* ---- phase 3: program and commit, all or nothing ---- */

struct snap {
	struct cx_decoder *d;
	struct cx_decoder saved;
};

struct snapshot {
	struct snap *s;
	int n, cap;
};

static void snap_add(struct snapshot *ss, struct cx_decoder *d)
{
	for (int i = 0; i < ss->n; i++)
		if (ss->s[i].d == d)
			return;
	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? 2 * ss->cap : 64;
		ss->s = cx_xrealloc(ss->s, (size_t)ss->cap * sizeof(*ss->s));
	}
	ss->s[ss->n].d = d;
	ss->s[ss->n].saved = *d;
	ss->n++;
}

static void snap_restore(struct snapshot *ss)
{
	for (int i = ss->n - 1; i >= 0; i--) {
		*ss->s[i].d = ss->s[i].saved;
		struct cx_decoder *d = ss->s[i].d;
		cx_host_decode_changed(d->kind == CX_DEC_ENDPOINT ?
				       d->memdev->host : d->port->host);
	}
}

static void program_range(struct cx_decoder *d, const struct cx_region *r,
			  int ways, uint32_t gran)
{
	cx_hdm_set_base(&d->regs, r->base);
	cx_hdm_set_size(&d->regs, r->size);
	cx_hdm_set_ig_iw(&d->regs, cx_gran_to_eig(gran), cx_ways_to_eniw(ways));
	d->region = (struct cx_region *)r;
}

static int region_port_decoders(struct cx_region *r, struct cx_decoder **out,
				int max);

/* Program every decoder of the plan (endpoints get their DPA first,
 * unless they hold it already), without committing. */
static int program(struct plan *pl, struct cx_region *r, cx_err *e)
{
	int rc;

	/* endpoints: DPA, then decode range */
	for (int i = 0; i < pl->ways; i++) {
		struct cx_memdev *m = pl->pos[i].m;
		struct cx_decoder *d;
		if ((rc = cx_decoder_check_interleave(&m->decoders[0],
						      pl->ways, pl->gran, e)))
			return rc;
		if (pl->pre[i])
			d = pl->pre[i];
		else if ((rc = cx_decoder_alloc_dpa(m, pl->mode,
						    pl->size / (uint64_t)pl->ways,
						    &d, e))) {
			cx_err_prefix(e, "position %d", i);
			return rc;
		}
		program_range(d, r, pl->ways, pl->gran);
		d->pos = i;
		r->targets[i] = d;
	}
	/* ports */
	for (int k = 0; k < pl->npp; k++) {
		struct plan_port *pp = &pl->pp[k];
		struct cx_decoder *d = pp->dec;
		if (!d)
			continue;
		program_range(d, r, pp->iw, pp->ig);
		for (int t = 0; t < pp->ndports; t++) {
			cx_hdm_set_target(&d->regs, t,
					  (uint8_t)pp->dports[t]->port_num);
			d->targets[t] = pp->dports[t];
		}
		d->nr_targets_set = pp->ndports;
	}
	return 0;
}

/* Commit the region's programmed decoders bottom-up: endpoints, switch
 * upstream ports, host bridges. */
static int commit_all(struct cx_region *r, cx_err *e)
{
	struct cx_decoder *pd[MAX_PLAN_PORTS];
	int rc, npd = region_port_decoders(r, pd, MAX_PLAN_PORTS);
	for (int i = 0; i < r->ways; i++)
		if (!cx_hdm_committed(&r->targets[i]->regs) &&
		    (rc = cx_decoder_commit(r->targets[i], e)))
			goto fail;
	for (int i = npd - 1; i >= 0; i--)   /* listed top-down */
		if (!cx_hdm_committed(&pd[i]->regs) &&
		    (rc = cx_decoder_commit(pd[i], e)))
			goto fail;
	return 0;
fail:
	cx_err_prefix(e, "commit");
	return rc;
}

static void snapshot_plan(struct plan *pl, struct snapshot *ss)
{
	for (int i = 0; i < pl->ways; i++)
		for (int j = 0; j < CX_DECODERS_PER_PORT; j++)
			snap_add(ss, &pl->pos[i].m->decoders[j]);
	for (int k = 0; k < pl->npp; k++)
		for (int j = 0; j < pl->pp[k].port->ndecoders; j++)
			snap_add(ss, &pl->pp[k].port->decoders[j]);
}

int cx_region_create(struct cx_host *h, const struct cx_region_req *req,
		     struct cx_region **out, cx_err *e)
{
	struct plan *pl = cx_xcalloc(1, sizeof(*pl));
	struct snapshot ss = { 0 };
	struct cx_region *r = NULL;
	int rc;

	if ((rc = resolve(h, req, pl, e)))
		goto out;
	if (!cx_window_alloc_hpa(pl->w, pl->size, &pl->base)) {
		rc = cx_fail(e, ENOSPC, "decoder0.%d: no free %#llx bytes in "
			     "the window", pl->w->index,
			     (unsigned long long)pl->size);
		goto out;
	}
	if ((rc = walk_paths(pl, e)) || (rc = plan_ports(pl, e)))
		goto out;

	r = cx_xcalloc(1, sizeof(*r));
	r->id = h->next_region_id;
	r->host = h;
	r->win = pl->w;
	r->mode = pl->mode;
	r->base = pl->base;
	r->size = pl->size;
	r->ways = pl->ways;
	r->gran = pl->gran;
	if (pl->mode == CX_MODE_PMEM && (rc = random_uuid(r->uuid, e)))
		goto out;

	snapshot_plan(pl, &ss);
	if ((rc = program(pl, r, e)) || (rc = commit_all(r, e))) {
		snap_restore(&ss);
		goto out;
	}
	r->committed = true;
	r->programmed = true;
	/* Linux hands a new ram region's DAX device to kmem (system-ram);
	 * programs map it only after `reconfigure-device -m devdax`.
	 * Persistent regions come up as device-DAX. */
	cx_dax_reconfigure(r, r->mode == CX_MODE_RAM, NULL);
	r->noncoherent = h->noncoherent;
	h->next_region_id++;
	cx_vec_push(&h->regions, r);
	if (out)
		*out = r;
	r = NULL;
out:
	if (rc)
		cx_err_prefix(e, "create region in %s", req->root ? req->root :
			      "(no root decoder)");
	free(r);
	free(ss.s);
	free(pl);
	return rc;
}

/*
 * A region assembled through sysfs (region_stage.c), all its targets
 * attached with their DPA: plan the ports as cx_region_create does and
 * program every decoder without committing, as Linux's
 * cxl_region_setup_targets does when the last target attaches (the
 * decoders then read the region's range, ways and granularity).  All or
 * nothing.
 */
int cx_region_setup_targets(struct cx_region *r, cx_err *e)
{
	struct plan *pl = cx_xcalloc(1, sizeof(*pl));
	struct snapshot ss = { 0 };
	int rc = 0;

	if (r->programmed)
		goto out;
	pl->h = r->host;
	pl->w = r->win;
	pl->r = r;
	pl->mode = r->mode;
	pl->ways = r->ways;
	pl->gran = r->gran;
	pl->base = r->base;
	pl->size = r->size;
	for (int i = 0; i < r->ways; i++) {
		if (!r->targets[i]) {
			rc = cx_fail(e, ENXIO, "target%d is not set; %d of %d "
				     "targets attached", i,
				     cx_region_targets_set(r), r->ways);
			goto out;
		}
		pl->pos[i].m = r->targets[i]->memdev;
		pl->pre[i] = r->targets[i];
	}
	if ((rc = walk_paths(pl, e)) || (rc = plan_ports(pl, e)))
		goto out;
	snapshot_plan(pl, &ss);
	if ((rc = program(pl, r, e))) {
		snap_restore(&ss);
		goto out;
	}
	r->programmed = true;
out:
	if (rc)
		cx_err_prefix(e, "region%d", r->id);
	free(ss.s);
	free(pl);
	return rc;
}

/* Undo the setup of an uncommitted region: its decoders read as fresh
 * again (endpoints keep their DPA), the ports' are free. */
void cx_region_teardown_targets(struct cx_region *r)
{
	struct cx_decoder *pd[MAX_PLAN_PORTS];
	if (!r->programmed || r->committed)
		return;
	int npd = region_port_decoders(r, pd, MAX_PLAN_PORTS);
	for (int i = 0; i < npd; i++) {
		cx_decoder_reset(pd[i], NULL);
		pd[i]->region = NULL;
	}
	for (int i = 0; i < r->ways; i++)
		if (r->targets[i])
			cx_decoder_reset(r->targets[i], NULL);
	r->programmed = false;
}

/* Commit a set-up region bottom-up (setting it up first if a decommit
 * undid that); what was committed is reset again on failure. */
int cx_region_commit_targets(struct cx_region *r, cx_err *e)
{
	int rc;
	if ((rc = cx_region_setup_targets(r, e)))
		return rc;
	if ((rc = commit_all(r, e))) {
		cx_err_prefix(e, "region%d", r->id);
		cx_err tmp;
		r->committed = true;      /* so that decommit undoes it all */
		cx_region_decommit(r, &tmp);
		return rc;
	}
	r->committed = true;
	return 0;
}

int cx_region_targets_set(const struct cx_region *r)
{
	int n = 0;
	for (int i = 0; i < r->ways && i < CX_MAX_WAYS; i++)
		n += r->targets[i] != NULL;
	return n;
}

/* ---- destroy ---- */

static int region_port_decoders(struct cx_region *r, struct cx_decoder **out,
				int max)
{
	int n = 0;
	struct cx_host *h = r->host;
	/* host bridges first (top-down order for reset) */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < h->ports.n; i++) {
			struct cx_port *p = h->ports.v[i];
			if ((p->kind == CX_PORT_HB) != (pass == 0) ||
			    !p->decoders)
				continue;
			for (int j = 0; j < p->ndecoders && n < max; j++)
				if (p->decoders[j].region == r)
					out[n++] = &p->decoders[j];
		}
	return n;
}

static int check_top(struct cx_region *r, struct cx_decoder *d, cx_err *e)
{
	char a[32];
	int ndec, c;
	struct cx_decoder *decs;

	if (d->kind == CX_DEC_ENDPOINT) {
		decs = d->memdev->decoders;
		ndec = CX_DECODERS_PER_PORT;
	} else {
		decs = d->port->decoders;
		ndec = d->port->ndecoders;
	}
	c = 0;
	for (int i = 0; i < ndec; i++)
		if (cx_hdm_committed(&decs[i].regs))
			c = i + 1;
	cx_decoder_name(d, a, sizeof(a));
	if (cx_hdm_committed(&d->regs) && d->id != c - 1) {
		char by[32] = "";
		if (decs[c - 1].region)
			snprintf(by, sizeof(by), " for region%d",
				 decs[c - 1].region->id);
		return cx_fail(e, EBUSY, "region%d: %s cannot be reset while "
			       "decoder%d.%d above it is committed%s; "
			       "decoders reset from the top, destroy the "
			       "newer region first", r->id, a, d->port_id,
			       c - 1, by);
	}
	if (d->kind == CX_DEC_ENDPOINT)
		for (int i = d->id + 1; i < ndec; i++)
			if (decs[i].dpa_size)
				return cx_fail(e, EBUSY, "region%d: the DPA of "
					       "%s cannot be freed while "
					       "decoder%d.%d above it holds "
					       "DPA; DPA is freed in decreasing "
					       "order", r->id, a, d->port_id, i);
	return 0;
}

int cx_region_destroy(struct cx_region *r, bool force, cx_err *e)
{
	struct cx_decoder *pd[MAX_PLAN_PORTS];
	int npd, rc;

	if (r->mapped > 0 && !force)
		return cx_fail(e, EBUSY, "region%d is mapped by %d client%s; "
			       "unmap it first or force", r->id, r->mapped,
			       r->mapped == 1 ? "" : "s");
	npd = region_port_decoders(r, pd, MAX_PLAN_PORTS);
	for (int i = 0; i < npd; i++)
		if ((rc = check_top(r, pd[i], e)))
			return rc;
	for (int i = 0; i < r->ways; i++)
		if (r->targets[i] && (rc = check_top(r, r->targets[i], e)))
			return rc;

	/* top-down: host bridges, switches, endpoints */
	for (int i = 0; i < npd; i++) {
		if ((rc = cx_decoder_reset(pd[i], e)))
			return rc; /* cannot happen after check_top */
		pd[i]->region = NULL;
	}
	for (int i = 0; i < r->ways; i++) {
		struct cx_decoder *d = r->targets[i];
		if (!d)
			continue;
		if ((rc = cx_decoder_reset(d, e)))
			return rc;
		d->region = NULL;
		d->pos = -1;
	}
	/* DPA in decreasing decoder order per memdev: each region holds one
	 * decoder per memdev, the top one (checked above) */
	for (int i = 0; i < r->ways; i++) {
		struct cx_decoder *d = r->targets[i];
		if (d && (rc = cx_decoder_free_dpa(d, e)))
			return rc;
		r->targets[i] = NULL;
	}
	cx_vec_remove(&r->host->regions, r);
	free(r);
	return 0;
}

/*
 * Reset a committed region's decoders from the top (Linux's commit = 0):
 * the targets stay attached and keep their DPA, so it can be committed
 * again.
 */
int cx_region_decommit(struct cx_region *r, cx_err *e)
{
	struct cx_decoder *pd[MAX_PLAN_PORTS];
	int npd, rc;

	if (!r->committed)
		return 0;
	if (r->mapped > 0)
		return cx_fail(e, EBUSY, "region%d is mapped by %d client%s; "
			       "its decode cannot be reset under them", r->id,
			       r->mapped, r->mapped == 1 ? "" : "s");
	npd = region_port_decoders(r, pd, MAX_PLAN_PORTS);
	for (int i = 0; i < npd; i++)
		if (cx_hdm_committed(&pd[i]->regs) &&
		    (rc = check_top(r, pd[i], e)))
			return rc;
	for (int i = 0; i < r->ways; i++) {
		struct cx_decoder *d = r->targets[i];
		if (!d || !cx_hdm_committed(&d->regs))
			continue;
		int c = cx_memdev_decoders_committed(d->memdev);
		if (d->id != c - 1)
			return cx_fail(e, EBUSY, "region%d: decoder%d.%d cannot "
				       "be reset while decoder%d.%d above it "
				       "is committed; reset the newer region "
				       "first", r->id, d->port_id, d->id,
				       d->port_id, c - 1);
	}
	for (int i = 0; i < npd; i++) {
		if ((rc = cx_decoder_reset(pd[i], e)))
			return rc;
		pd[i]->region = NULL;
	}
	for (int i = 0; i < r->ways; i++)
		if (r->targets[i] && (rc = cx_decoder_reset(r->targets[i], e)))
			return rc;
	r->committed = false;
	r->programmed = false;   /* a reset decoder forgets its settings */
	return 0;
}
