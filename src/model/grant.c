/*
 * grant.c - which media bytes a host's programs may reach.
 *
 * A host's programs are granted the bytes its regions expose as
 * device-DAX: a region that serves memory (committed and enabled) and
 * whose DAX device is bound to device_dax (devdax mode) grants, for each
 * position, the DPA range its endpoint decoder maps.  Nothing else: not the rest of the
 * device, not another region's bytes, not another host's.
 *
 * Mapping programs receive those bytes as blocks (media.h).  After
 * anything that may have ended a grant - a region destroyed, disabled,
 * decommitted or deleted through sysfs, a device switched to system-ram
 * or unbound from its driver, a device erased - cx_fabric_reclaim() takes back every block that no
 * grant covers any more, however the grant ended, so the checks are not
 * spread over every path that can end one.  A block two hosts share
 * (heads of one device) stays lent while either host's grant covers it.
 * Region views (region_view.h) are taken apart on the same occasions.
 * Dynamic capacity grants what each host has accepted (its extent list):
 * a block stays lent only while it lies wholly inside one of them, with
 * or without a dynamic_ram_a region over it (such a region grants
 * nothing more: cx_region_grant refuses it).
 */
#include "dax.h"
#include "grant.h"
#include "mbox.h"
#include "region_view.h"

#include <errno.h>
#include <stdlib.h>

bool cx_region_exposed(const struct cx_region *r)
{
	return cx_region_serves(r) && !r->dax_system_ram && !r->dax_unbound;
}

int cx_region_grant(struct cx_region *r, struct cx_grant *g, cx_err *e)
{
	struct cx_dax_recipe rc;
	int err;

	/* a dynamic_ram_a region grants its host's accepted extents, not
	 * its range (cx_region_dc_dax; the extents are kept below) */
	if (r->mode == CX_MODE_DC)
		return cx_fail(e, ENXIO, "region%d is a dynamic_ram_a region: "
			       "its hosts reach the extents they accepted, "
			       "through its DAX devices, not its whole range",
			       r->id);
	if ((err = cx_region_dax_recipe(r, &rc, e)))
		return err;
	g->ilv = rc.ilv;
	for (int j = 0; j < rc.ilv.ways; j++) {
		g->part[j].media = rc.ent[j].media;
		g->part[j].memdev = rc.ent[j].memdev;
		g->part[j].off = rc.ent[j].off;
		g->part[j].len = rc.size / (uint64_t)rc.ilv.ways;
	}
	return 0;
}

int cx_fabric_reclaim(struct cx_fabric *f, cx_err *e)
{
	int taken = 0, err = 0, lent = 0;

	/* views first: a view taken apart gives its bytes back to the
	 * stores, where the blocks below may then be lent again (one whose
	 * bytes a file could not take stays: its error is this one's) */
	int views = cx_fabric_views_settle(f, false, e);
	if (views < 0)
		err = views;
	else
		taken += views;
	for (int i = 0; i < f->media.n; i++)
		lent += cx_media_lent_blocks(f->media.v[i]);
	if (!lent)
		return err ? err : taken; /* no blocks: no grant to work out */

	for (int i = 0; i < f->media.n; i++)
		cx_media_keep_clear(f->media.v[i]);
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int k = 0; k < h->memdevs.n; k++) {
			struct cx_memdev *m = h->memdevs.v[k];
			struct cx_dc_extent *x = NULL;
			int n = 0;
			if (!m->dc || cx_dcd_extents(m, &x, &n, NULL))
				continue;
			uint64_t base = m->vmem_size + m->pmem_size;
			for (int j = 0; j < n; j++)
				cx_media_keep_within(m->dc, x[j].dpa - base,
						     x[j].len);
			free(x);
		}
		for (int k = 0; k < h->regions.n; k++) {
			struct cx_region *r = h->regions.v[k];
			struct cx_grant g;
			if (!cx_region_exposed(r) || cx_region_grant(r, &g, NULL))
				continue;
			for (int j = 0; j < g.ilv.ways; j++)
				cx_media_keep(g.part[j].media, g.part[j].off,
					      g.part[j].len);
		}
	}
	for (int i = 0; i < f->media.n; i++) {
		int rc = cx_media_reclaim(f->media.v[i], err ? NULL : e);
		if (rc < 0 && !err)
			err = rc;
		else if (rc > 0)
			taken += rc;
	}
	return err ? err : taken;
}
