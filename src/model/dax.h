/*
 * dax.h - the device-DAX view of a region: what host programs map.
 *
 * A committed region has one DAX device, daxZ.0 (Z = region id), over all
 * of it, 2 MiB aligned, as Linux creates for ram regions.  Its bytes are
 * laid out by the region's interleave: granule k of the device lives on
 * the position j = k mod ways, at media offset first[j] + (k / ways) * gran.
 * That periodic "recipe" is derived from the decoders by routing the
 * first period, then checked against full routing, so that a program
 * mapping it granule by granule (or copying by it) lands every byte at
 * the same (memdev, DPA) that the HDM decoders give.
 */
#ifndef CXLEMU_DAX_H
#define CXLEMU_DAX_H

#include "model/model.h"

#define CX_DAX_ALIGN (2ULL << 20)

struct cx_dax_recipe {
	uint64_t size;              /* bytes of the device (= region size) */
	uint32_t gran;              /* bytes per granule */
	int ways;                   /* granules per period */
	struct {
		struct cx_media *media; /* partition media of that position */
		uint64_t off;           /* media offset of its first granule */
		struct cx_memdev *memdev;
	} ent[CX_MAX_WAYS];
};

int cx_region_dax_recipe(struct cx_region *r, struct cx_dax_recipe *out,
			 cx_err *e);
/*
 * The interleave period, stated once: DAX offset `off` lies on position
 * *ent, `*adv` bytes past that position's first byte, with `*left` bytes
 * to the end of its granule.  (Used here and by the client's mapper.)
 */
static inline void cx_dax_period(uint64_t off, uint32_t gran, int ways,
				 int *ent, uint64_t *adv, uint64_t *left)
{
	uint64_t k = off / gran, in = off % gran;
	*ent = (int)(k % (uint64_t)ways);
	*adv = (k / (uint64_t)ways) * gran + in;
	*left = gran - in;
}

/* Where DAX offset `off` lives: media and offset; bytes left in granule. */
static inline void cx_dax_locate(const struct cx_dax_recipe *rc, uint64_t off,
				 int *ent, uint64_t *media_off, uint64_t *left)
{
	uint64_t adv;
	cx_dax_period(off, rc->gran, rc->ways, ent, &adv, left);
	*media_off = rc->ent[*ent].off + adv;
}
/* The NUMA node Linux gives the region's memory (daxctl's target_node). */
int cx_region_target_node(const struct cx_region *r);
/* "daxZ.0" -> region, or NULL */
struct cx_region *cx_dax_find(struct cx_host *h, const char *name);

#endif
