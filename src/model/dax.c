/*
 * dax.c - derive a region's device-DAX layout from its decoders (see
 * dax.h).  The recipe is built from the first interleave period and then
 * verified against the walk (cx_route_walk) at the start, the end and a spread of
 * granules in between, so a wrong assumption about periodicity is an
 * error, never a silent misplacement of data.
 */
#include "dax.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cx_region *cx_dax_find(struct cx_host *h, const char *name)
{
	char *end;
	if (strncmp(name, "dax", 3) || name[3] < '0' || name[3] > '9')
		return NULL;
	unsigned long id = strtoul(name + 3, &end, 10);
	if (strcmp(end, ".0") || id > 1000000)
		return NULL;
	char rname[32];
	snprintf(rname, sizeof(rname), "region%lu", id);
	return cx_region_find(h, rname);
}

/*
 * target_node: Linux gives each CXL window that SRAT does not describe a
 * NUMA node of its own, numbered after the RAM node(s); QEMU describes
 * none, so with one RAM node window N is node 1 + N (node 1 in the
 * captures).  Regions in the same window share its node.
 */
int cx_region_target_node(const struct cx_region *r)
{
	struct cx_host *h = r->host;
	for (int i = 0; h && i < h->windows.n; i++)
		if (h->windows.v[i] == r->win)
			return 1 + i;
	return 1;
}

static int check_granule(struct cx_region *r, const struct cx_dax_recipe *rc,
			 uint64_t k, cx_err *e)
{
	struct cx_route rt;
	uint64_t off = k * rc->ilv.gran;
	int rc2 = cx_route_walk(r->host, r->base + off, &rt, e);
	if (rc2)
		return rc2;
	int j;
	uint64_t moff, left;
	cx_dax_locate(rc, off, &j, &moff, &left);
	if (rt.media != rc->ent[j].media || rt.media_off != moff)
		return cx_fail(e, EIO,
			       "region%d: granule %llu routes to %s DPA %#llx, "
			       "not where the interleave period puts it; the "
			       "region cannot be laid out as device-DAX",
			       r->id, (unsigned long long)k,
			       rt.memdev ? rt.memdev->qid : "?",
			       (unsigned long long)rt.dpa);
	return 0;
}

void cx_region_ilv(const struct cx_region *r, struct cx_ilv *out)
{
	const struct cx_window *w = r->win;
	memset(out, 0, sizeof(*out));
	out->gran = r->gran;
	out->ways = r->ways;
	out->base = r->base;
	/* an interleaving XOR window's granularity is the region's (Linux
	 * refuses any other), so its maps decide granule-index bits */
	if (w && w->arith == CX_ARITH_XOR && w->ways > 1) {
		out->nmaps = w->nxormaps;
		for (int i = 0; i < w->nxormaps; i++)
			out->map[i] = w->xormap[i];
	}
}

int cx_region_dax_recipe(struct cx_region *r, struct cx_dax_recipe *out,
			 cx_err *e)
{
	struct cx_dax_recipe rc;
	int err;

	if (!r->committed)
		return cx_fail(e, ENXIO, "region%d is not committed; it has no "
			       "DAX device", r->id);
	memset(&rc, 0, sizeof(rc));
	rc.size = r->size;
	cx_region_ilv(r, &rc.ilv);
	uint64_t g = rc.ilv.gran, w = (uint64_t)rc.ilv.ways;
	for (uint64_t k = 0; k < w; k++) {
		struct cx_route rt;
		int j = cx_ilv_slot(&rc.ilv, k, k * g);
		if ((err = cx_route_walk(r->host, r->base + k * g, &rt, e)))
			return err;
		if (rt.contig < g)
			return cx_fail(e, EIO, "region%d: granule %llu is split "
				       "across devices", r->id,
				       (unsigned long long)k);
		if (rc.ent[j].media)
			return cx_fail(e, EIO, "region%d: granules of the first "
				       "round share slot %d; the region cannot "
				       "be laid out as device-DAX", r->id, j);
		rc.ent[j].media = rt.media;
		rc.ent[j].off = rt.media_off;
		rc.ent[j].memdev = rt.memdev;
	}
	/* Verify: the first periods, the last one, and a spread between. */
	uint64_t n = rc.size / g;
	uint64_t probe[4 * CX_MAX_WAYS + 1100];
	int np = 0;
	for (uint64_t k = 0; k < n && k < 2 * w; k++)
		probe[np++] = k;
	for (uint64_t k = n > 2 * w ? n - 2 * w : 0; k < n; k++)
		probe[np++] = k;
	for (int i = 1; i < 1024 && n > 1; i++)
		probe[np++] = (n - 1) * (uint64_t)i / 1024;
	for (int i = 0; i < np; i++)
		if ((err = check_granule(r, &rc, probe[i], e)))
			return err;
	*out = rc;
	return 0;
}

/* ---- the device's drivers and memory blocks ---- */

int cx_dax_blocks(const struct cx_region *r)
{
	return (int)(r->size / CX_MEMBLOCK_SIZE);
}

static int bit(int i)
{
	return i < CX_DAX_MAX_BLOCKS ? i : CX_DAX_MAX_BLOCKS - 1;
}

bool cx_dax_block_online(const struct cx_region *r, int i)
{
	int b = bit(i);
	return r->dax_system_ram && !r->dax_unbound &&
	       !(r->dax_offline[b / 64] & (1ULL << (b % 64)));
}

int cx_dax_online_blocks(const struct cx_region *r)
{
	int n = 0;
	for (int i = 0; i < cx_dax_blocks(r); i++)
		n += cx_dax_block_online(r, i);
	return n;
}

static void all_blocks(struct cx_region *r, bool online)
{
	memset(r->dax_offline, online ? 0 : 0xff, sizeof(r->dax_offline));
}

int cx_dax_set_block(struct cx_region *r, int i, bool online, cx_err *e)
{
	if (!r->dax_system_ram || r->dax_unbound)
		return cx_fail(e, ENXIO, "dax%d.0 is not system-ram: its memory "
			       "blocks are not the machine's", r->id);
	if (i < 0 || i >= cx_dax_blocks(r))
		return cx_fail(e, EINVAL, "dax%d.0 has no memory block %d",
			       r->id, i);
	int b = bit(i);
	if (online)
		r->dax_offline[b / 64] &= ~(1ULL << (b % 64));
	else
		r->dax_offline[b / 64] |= 1ULL << (b % 64);
	return 0;
}

int cx_dax_unbind(struct cx_region *r, cx_err *e)
{
	if (r->dax_unbound)
		return cx_fail(e, ENODEV, "dax%d.0 is bound to no driver",
			       r->id);
	if (r->dax_system_ram && cx_dax_online_blocks(r))
		return cx_fail(e, EBUSY, "dax%d.0: %d of its memory blocks are "
			       "online; offline them before kmem lets go",
			       r->id, cx_dax_online_blocks(r));
	if (!r->dax_system_ram && r->mapped)
		return cx_fail(e, EBUSY, "dax%d.0 is mapped by %d client%s",
			       r->id, r->mapped, r->mapped == 1 ? "" : "s");
	r->dax_unbound = true;
	return 0;
}

/* The devices of a dynamic_ram_a region are device-DAX only: kmem would
 * online capacity the fabric manager may take back at any time. */
static int dc_kmem(const struct cx_region *r, cx_err *e)
{
	return cx_fail(e, EINVAL, "region%d is a dynamic_ram_a region: its "
		       "DAX devices stay device-DAX (cxlemu does not online "
		       "dynamic capacity as system-ram)", r->id);
}

int cx_dax_bind(struct cx_region *r, bool kmem, cx_err *e)
{
	if (kmem && r->mode == CX_MODE_DC)
		return dc_kmem(r, e);
	if (!r->dax_unbound)
		return cx_fail(e, EBUSY, "dax%d.0 is bound to %s already",
			       r->id, r->dax_system_ram ? "kmem" : "device_dax");
	r->dax_system_ram = kmem;
	r->dax_unbound = false;
	all_blocks(r, false);   /* hot-added offline; daxctl onlines them */
	return 0;
}

int cx_dax_reconfigure(struct cx_region *r, bool system_ram, cx_err *e)
{
	if (system_ram && r->mode == CX_MODE_DC)
		return dc_kmem(r, e);
	if (system_ram && !r->dax_system_ram && r->mapped)
		return cx_fail(e, EBUSY, "dax%d.0 is mapped by %d client(s); "
			       "it cannot be onlined as system-ram until they "
			       "unmap it", r->id, r->mapped);
	r->dax_system_ram = system_ram;
	r->dax_unbound = false;
	all_blocks(r, true);
	return 0;
}
