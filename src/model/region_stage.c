/*
 * region_stage.c - a region built one sysfs write at a time, with the
 * rules and return codes of Linux's drivers/cxl/core/region.c and hdm.c:
 * what `cxl create-region`, `cxl destroy-region` and scripts that write
 * /sys do inside `cxlemu shell`.
 *
 * The states are Linux's, read off the region: IDLE (no HPA), INTERLEAVE
 * ACTIVE (size written: HPA held, ways and granularity fixed), ACTIVE (all
 * targets attached, positions checked), COMMIT (decoders programmed and
 * committed).  A committed region serves memory only once "bound" to the
 * region driver (r->disabled false), as Linux probes cxl_region.
 *
 * Endpoint decoders hold DPA independently of regions: mode, then
 * dpa_size (allocated in decoder order, freed in reverse), then attached
 * to a region position.  Committing plans the host bridge and switch
 * decoders as cx_region_create does (region.c), all or nothing.
 */
#include "model.h"
#include "dax.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool size_set(const struct cx_region *r) { return r->size != 0; }

static bool active(const struct cx_region *r)
{
	return r->ways && cx_region_targets_set(r) == r->ways;
}

int cx_region_stage_create(struct cx_host *h, struct cx_window *w,
			   enum cx_mode mode, int id, struct cx_region **out,
			   cx_err *e)
{
	if (mode != CX_MODE_RAM && mode != CX_MODE_PMEM)
		return cx_fail(e, EINVAL, "a region is ram or pmem, not %s",
			       cx_mode_name(mode));
	if (id != h->next_region_id)
		return cx_fail(e, EBUSY, "decoder0.%d: the next region is "
			       "region%d, not region%d (read create_%s_region "
			       "for the name)", w->index, h->next_region_id, id,
			       cx_mode_name(mode));
	struct cx_region *r = cx_xcalloc(1, sizeof(*r));
	r->id = id;
	r->host = h;
	r->win = w;
	r->mode = mode;
	r->disabled = true;
	h->next_region_id++;
	cx_vec_push(&h->regions, r);
	*out = r;
	return 0;
}

int cx_region_set_ways(struct cx_region *r, int ways, cx_err *e)
{
	if (!cx_ways_valid(ways))
		return cx_fail(e, EINVAL, "region%d: interleave_ways %d is not "
			       "a valid encoding (1, 2, 3, 4, 6, 8, 12 or 16)",
			       r->id, ways);
	int rw = r->win->ways;
	if (ways % rw || !cx_is_pow2((uint64_t)(ways / rw)))
		return cx_fail(e, EINVAL, "region%d: interleave_ways %d is not "
			       "a power of two multiple of the %d ways of "
			       "decoder0.%d", r->id, ways, rw, r->win->index);
	if (size_set(r))
		return cx_fail(e, EBUSY, "region%d: interleave_ways is fixed "
			       "once the size is set", r->id);
	r->ways = ways;
	return 0;
}

int cx_region_set_gran(struct cx_region *r, uint32_t gran, cx_err *e)
{
	if (!cx_gran_valid(gran))
		return cx_fail(e, EINVAL, "region%d: interleave_granularity %u "
			       "is not valid (a power of two from 256 to "
			       "16384)", r->id, gran);
	if (r->win->ways > 1 && gran != r->win->gran)
		return cx_fail(e, EINVAL, "region%d: under decoder0.%d, which "
			       "interleaves %d host bridges, the granularity "
			       "must be the window's %u, not %u", r->id,
			       r->win->index, r->win->ways, r->win->gran, gran);
	if (size_set(r))
		return cx_fail(e, EBUSY, "region%d: interleave_granularity is "
			       "fixed once the size is set", r->id);
	r->gran = gran;
	return 0;
}

int cx_region_set_uuid(struct cx_region *r, const char *uuid, cx_err *e)
{
	if (r->mode != CX_MODE_PMEM)
		return cx_fail(e, EINVAL, "region%d: only pmem regions have a "
			       "uuid", r->id);
	bool ok = strlen(uuid) == 36, zero = true;
	for (int i = 0; ok && i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		ok = dash ? uuid[i] == '-' : isxdigit((unsigned char)uuid[i]);
		if (!dash && uuid[i] != '0')
			zero = false;
	}
	if (!ok || zero)
		return cx_fail(e, EINVAL, "region%d: '%s' is not a uuid (or is "
			       "the null uuid)", r->id, uuid);
	if (size_set(r))
		return cx_fail(e, EBUSY, "region%d: the uuid is fixed once the "
			       "size is set", r->id);
	for (int i = 0; i < r->host->regions.n; i++) {
		struct cx_region *o = r->host->regions.v[i];
		if (o != r && !strcasecmp(o->uuid, uuid))
			return cx_fail(e, EBUSY, "region%d: uuid %s is "
				       "region%d's already", r->id, uuid, o->id);
	}
	snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
	for (char *p = r->uuid; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

int cx_region_set_size(struct cx_region *r, uint64_t size, cx_err *e)
{
	if (!size) {
		if (!size_set(r))
			return 0;
		if (active(r) || r->committed)
			return cx_fail(e, EBUSY, "region%d: its HPA is in use "
				       "by its %d targets; detach them first",
				       r->id, r->ways);
		r->base = r->size = 0;
		return 0;
	}
	if (r->size == size)
		return 0;
	if (size_set(r))
		return cx_fail(e, EBUSY, "region%d: the size is %#llx; write 0 "
			       "to free it before setting another", r->id,
			       (unsigned long long)r->size);
	if (!r->ways || !r->gran || (r->mode == CX_MODE_PMEM && !r->uuid[0]))
		return cx_fail(e, ENXIO, "region%d: set interleave_ways, "
			       "interleave_granularity%s before the size",
			       r->id, r->mode == CX_MODE_PMEM ? " and uuid" : "");
	uint64_t unit = CX_HDM_ALIGN * (uint64_t)r->ways;
	if (size % unit)
		return cx_fail(e, EINVAL, "region%d: size %#llx is not a "
			       "multiple of 256 MiB x %d ways", r->id,
			       (unsigned long long)size, r->ways);
	uint64_t base;
	if (!cx_window_alloc_hpa(r->win, size, &base))
		return cx_fail(e, ENOSPC, "region%d: decoder0.%d has no free "
			       "%#llx bytes of HPA", r->id, r->win->index,
			       (unsigned long long)size);
	r->base = base;
	r->size = size;
	return 0;
}

/* Detach the decoder at pos (reset the decode first, as Linux does). */
static int detach(struct cx_region *r, int pos, cx_err *e)
{
	struct cx_decoder *d = r->targets[pos];
	int rc;
	if (!d)
		return 0;
	if (r->committed && (rc = cx_region_decommit(r, e)))
		return rc;
	cx_region_teardown_targets(r);
	d->region = NULL;
	d->pos = -1;
	r->targets[pos] = NULL;
	return 0;
}

int cx_region_set_target(struct cx_region *r, int pos, struct cx_decoder *d,
			 cx_err *e)
{
	char n[32];
	if (pos < 0 || pos >= CX_MAX_WAYS)
		return cx_fail(e, ENXIO, "region%d: there is no target%d",
			       r->id, pos);
	if (!d)
		return detach(r, pos, e);
	cx_decoder_name(d, n, sizeof(n));
	if (d->kind != CX_DEC_ENDPOINT)
		return cx_fail(e, EINVAL, "region%d: %s is not an endpoint "
			       "decoder", r->id, n);
	if (d->mode != r->mode)
		return cx_fail(e, EINVAL, "region%d: %s is in %s mode, the "
			       "region is %s", r->id, n, cx_mode_name(d->mode),
			       cx_mode_name(r->mode));
	if (r->committed || active(r))
		return cx_fail(e, EBUSY, "region%d is already active (all %d "
			       "targets attached)", r->id, r->ways);
	if (!size_set(r))
		return cx_fail(e, ENXIO, "region%d: the interleave "
			       "configuration is missing; set the size first",
			       r->id);
	if (pos >= r->ways)
		return cx_fail(e, ENXIO, "region%d: position %d is out of range "
			       "for %d ways", r->id, pos, r->ways);
	if (r->targets[pos] == d)
		return 0;
	if (r->targets[pos]) {
		char o[32];
		cx_decoder_name(r->targets[pos], o, sizeof(o));
		return cx_fail(e, EBUSY, "region%d: position %d is already "
			       "assigned to %s", r->id, pos, o);
	}
	if (d->region)
		return cx_fail(e, EBUSY, "region%d: %s already belongs to "
			       "region%d", r->id, n, d->region->id);
	if (d->dpa_size * (uint64_t)r->ways != r->size)
		return cx_fail(e, EINVAL, "region%d: %s holds %#llx bytes of "
			       "DPA; x %d ways is not the region size %#llx",
			       r->id, n, (unsigned long long)d->dpa_size,
			       r->ways, (unsigned long long)r->size);
	struct cx_port *hb = cx_memdev_hb(d->memdev);
	struct cx_window *w = r->win;
	bool below = false;
	for (int t = 0; t < w->ways; t++)
		below |= hb && w->targets[t] == hb;
	if (!below)
		return cx_fail(e, ENXIO, "region%d: %s is not below a host "
			       "bridge of decoder0.%d", r->id, n, w->index);
	if (hb != cx_window_position_target(w, pos))
		return cx_fail(e, ENXIO, "region%d: %s is an invalid target "
			       "for position %d: decoder0.%d sends it to host "
			       "bridge %s", r->id, n, pos, w->index,
			       cx_window_position_target(w, pos)->qid);
	r->targets[pos] = d;
	d->region = r;
	d->pos = pos;
	if (active(r)) {
		/* the last one: Linux sets the decoders up now */
		int rc = cx_region_setup_targets(r, e);
		if (rc) {
			r->targets[pos] = NULL;
			d->region = NULL;
			d->pos = -1;
			return rc;
		}
	}
	return 0;
}

int cx_region_set_commit(struct cx_region *r, bool commit, cx_err *e)
{
	if (commit == r->committed)
		return 0;
	if (!commit) {
		if (!r->disabled)
			return cx_fail(e, EBUSY, "region%d is enabled (bound to "
				       "cxl_region); disable it first", r->id);
		return cx_region_decommit(r, e);
	}
	if (!active(r))
		return cx_fail(e, ENXIO, "region%d: %d of %d targets attached; "
			       "it commits once all are", r->id,
			       cx_region_targets_set(r), r->ways);
	return cx_region_commit_targets(r, e);
}

int cx_region_set_enabled(struct cx_region *r, bool on, cx_err *e)
{
	if (on == !r->disabled)
		return 0;
	if (on) {
		if (!r->committed)
			return cx_fail(e, ENXIO, "region%d is not committed; it "
				       "cannot be enabled", r->id);
		r->disabled = false;
		/* as Linux: a ram region's memory goes to kmem */
		cx_dax_reconfigure(r, r->mode == CX_MODE_RAM, NULL);
		r->noncoherent = r->host->noncoherent;
		return 0;
	}
	if (r->mapped)
		return cx_fail(e, EBUSY, "region%d is mapped by %d client%s",
			       r->id, r->mapped, r->mapped == 1 ? "" : "s");
	r->disabled = true;
	return 0;
}

int cx_region_stage_delete(struct cx_region *r, cx_err *e)
{
	int rc;
	if (r->mapped)
		return cx_fail(e, EBUSY, "region%d is mapped by %d client%s",
			       r->id, r->mapped, r->mapped == 1 ? "" : "s");
	if (r->committed && (rc = cx_region_decommit(r, e)))
		return rc;
	for (int i = 0; i < CX_MAX_WAYS; i++)
		if ((rc = detach(r, i, e)))
			return rc;
	cx_vec_remove(&r->host->regions, r);
	free(r);
	return 0;
}

int cx_decoder_set_mode(struct cx_decoder *d, enum cx_mode mode, cx_err *e)
{
	char n[32];
	cx_decoder_name(d, n, sizeof(n));
	if (d->kind != CX_DEC_ENDPOINT)
		return cx_fail(e, EINVAL, "%s is not an endpoint decoder", n);
	if (mode != CX_MODE_RAM && mode != CX_MODE_PMEM)
		return cx_fail(e, EINVAL, "%s: mode is ram or pmem", n);
	if (d->dpa_size || cx_hdm_committed(&d->regs))
		return cx_fail(e, EBUSY, "%s holds DPA; free it (dpa_size 0) "
			       "before changing the mode", n);
	struct cx_memdev *m = d->memdev;
	if (!(mode == CX_MODE_RAM ? m->vmem_size : m->pmem_size))
		return cx_fail(e, ENXIO, "%s: mem%d has no %s capacity", n,
			       m->index, cx_mode_name(mode));
	d->mode = mode;
	return 0;
}

int cx_decoder_set_dpa_size(struct cx_decoder *d, uint64_t size, cx_err *e)
{
	char n[32];
	int rc;
	cx_decoder_name(d, n, sizeof(n));
	if (d->kind != CX_DEC_ENDPOINT)
		return cx_fail(e, EINVAL, "%s is not an endpoint decoder", n);
	if (!cx_memdev_enabled(d->memdev))
		return cx_fail(e, ENXIO, "%s: mem%d is disabled", n,
			       d->memdev->index);
	if (size % CX_HDM_ALIGN)
		return cx_fail(e, EINVAL, "%s: dpa_size %#llx is not a multiple "
			       "of 256 MiB", n, (unsigned long long)size);
	enum cx_mode mode = d->mode;
	if (d->dpa_size && (rc = cx_decoder_free_dpa(d, e)))
		return rc;
	d->mode = mode;       /* freeing keeps the mode, as Linux does */
	if (!size)
		return 0;
	if (mode != CX_MODE_RAM && mode != CX_MODE_PMEM)
		return cx_fail(e, EINVAL, "%s: set its mode (ram or pmem) "
			       "before its dpa_size", n);
	struct cx_decoder *got;
	if ((rc = cx_decoder_alloc_dpa(d->memdev, mode, size, &got, e)))
		return rc;
	if (got != d) {
		char g[32];
		cx_decoder_name(got, g, sizeof(g));
		cx_decoder_free_dpa(got, NULL);
		return cx_fail(e, EBUSY, "%s: decoders are allocated in order; "
			       "the next one is %s", n, g);
	}
	return 0;
}
