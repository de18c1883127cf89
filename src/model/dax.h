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
/*
 * The device's drivers, as daxctl drives them through sysfs: kmem (the
 * memory is hot-added to the machine in 128 MiB blocks, each online or
 * offline), device_dax (programs map it), or neither between the two.
 * Blocks are tracked one by one up to CX_DAX_MAX_BLOCKS (64 GiB); past
 * that they follow the last one.
 */
#define CX_MEMBLOCK_SIZE (128ULL << 20)
#define CX_DAX_MAX_BLOCKS 512
int cx_dax_blocks(const struct cx_region *r);
bool cx_dax_block_online(const struct cx_region *r, int i);
int cx_dax_online_blocks(const struct cx_region *r);
/* online a block (movable or not, as Linux names the zones) or offline
 * it; kmem must hold the device */
int cx_dax_set_block(struct cx_region *r, int i, bool online, cx_err *e);
/* kmem lets go only of offline memory; device_dax only when unmapped */
int cx_dax_unbind(struct cx_region *r, cx_err *e);
/* an unbound device to kmem (its blocks come offline) or device_dax */
int cx_dax_bind(struct cx_region *r, bool kmem, cx_err *e);
/* cxlemu reconfigure-device: straight to system-ram (all blocks online,
 * as Linux onlines a new ram region) or to devdax */
int cx_dax_reconfigure(struct cx_region *r, bool system_ram, cx_err *e);

/* The NUMA node Linux gives the region's memory (daxctl's target_node). */
int cx_region_target_node(const struct cx_region *r);
/* "daxZ.0" -> region, or NULL */
struct cx_region *cx_dax_find(struct cx_host *h, const char *name);

#endif
