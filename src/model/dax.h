/*
 * dax.h - the device-DAX view of a region: what host programs map.
 *
 * A committed region has one DAX device, daxZ.0 (Z = region id), over all
 * of it, 2 MiB aligned, as Linux creates for ram regions.  Its bytes are
 * laid out by the region's interleave: granule k of the device lives on
 * slot j, at media offset first[j] + (k / ways) * gran, where j is k mod
 * ways, or for a window with XOR arithmetic k mod ways with its low bits
 * replaced by the parities the window's XOR maps take of the granule's
 * HPA (cx_ilv_slot): each round of `ways` granules visits every slot once,
 * in an order the HPA decides.  That "recipe" is derived from the
 * decoders by routing the first round, then checked against full
 * routing, so that a program mapping it granule by granule (or copying by
 * it) lands every byte at the same (memdev, DPA) that the decoders give.
 */
#ifndef CXLEMU_DAX_H
#define CXLEMU_DAX_H

#include "model/model.h"

#define CX_DAX_ALIGN (2ULL << 20)

/*
 * How a region's granules go round its slots (struct cx_ilv, model.h):
 * the slot of the granule at region offset `off`, k = off / gran.  Stated
 * once for the daemon's recipe and compiled table and the client's mapper.
 */
static inline int cx_ilv_xor(const struct cx_ilv *v, int j, uint64_t hpa)
{
	/* map i's lowest set bit is granule-index bit i: its parity over
	 * the granule's HPA replaces that bit of k mod ways */
	for (int i = 0; i < v->nmaps; i++)
		j = (j & ~(1 << i)) |
		    (__builtin_parityll(hpa & v->map[i]) << i);
	return j;
}

static inline int cx_ilv_slot(const struct cx_ilv *v, uint64_t k,
			      uint64_t off)
{
	return cx_ilv_xor(v, (int)(k % (uint64_t)v->ways), v->base + off);
}

struct cx_dax_recipe {
	uint64_t size;              /* bytes of the device (= region size) */
	struct cx_ilv ilv;          /* gran, ways, XOR maps */
	struct {
		struct cx_media *media; /* partition media of that position */
		uint64_t off;           /* media offset of its first granule */
		struct cx_memdev *memdev;
	} ent[CX_MAX_WAYS];
};

int cx_region_dax_recipe(struct cx_region *r, struct cx_dax_recipe *out,
			 cx_err *e);
/* A region's interleave (gran, ways, its window's XOR maps, base). */
void cx_region_ilv(const struct cx_region *r, struct cx_ilv *out);
/*
 * The interleave period, stated once: DAX offset `off` lies on slot
 * *ent, `*adv` bytes past that slot's first byte, with `*left` bytes to
 * the end of its granule.  (Used here, by the compiled table and by the
 * client's mapper.)
 */
static inline void cx_dax_period(const struct cx_ilv *v, uint64_t off,
				 int *ent, uint64_t *adv, uint64_t *left)
{
	uint64_t k = off / v->gran, in = off % v->gran;
	*ent = cx_ilv_slot(v, k, off);
	*adv = (k / (uint64_t)v->ways) * v->gran + in;
	*left = v->gran - in;
}

/*
 * The period walked: fn(ctx, slot, adv, n) for each granule piece of
 * [off, off + len), in order, the slot and the round carried from one
 * granule to the next so the divisions are paid once per walk.  Stops at
 * the first non-zero return and gives it back.
 */
typedef int (*cx_ilv_piece_fn)(void *ctx, int ent, uint64_t adv,
			       uint64_t n);
static inline int cx_ilv_walk(const struct cx_ilv *v, uint64_t off,
			      uint64_t len, cx_ilv_piece_fn fn, void *ctx)
{
	uint64_t g = v->gran, w = (uint64_t)v->ways;
	uint64_t k = off / g, in = off % g;
	uint64_t round = k / w, pos = k % w;
	while (len) {
		int j = cx_ilv_xor(v, (int)pos, v->base + off);
		uint64_t n = g - in < len ? g - in : len;
		int rc = fn(ctx, j, round * g + in, n);
		if (rc)
			return rc;
		off += n;
		len -= n;
		in = 0;
		if (++pos == w) {
			pos = 0;
			round++;
		}
	}
	return 0;
}

/*
 * The bytes of every slot that [off, off + len) (len > 0) may touch,
 * [*a, *b) counted from the slot's first byte: each round of `ways`
 * granules visits every slot once (an XOR window only reorders a round),
 * so granules k0..k1 touch each slot's rounds k0 / ways .. k1 / ways.
 * (What a write-back or a flush of that range covers.)
 */
static inline void cx_ilv_slot_span(const struct cx_ilv *v, uint64_t off,
				    uint64_t len, uint64_t *a, uint64_t *b)
{
	uint64_t g = v->gran, w = (uint64_t)v->ways;
	if (w == 1) {
		*a = off;
		*b = off + len;
		return;
	}
	*a = off / g / w * g;
	*b = ((off + len - 1) / g / w + 1) * g;
}

/* The inverse: the offset of byte `adv` of slot `ent` (-1 if none). */
static inline uint64_t cx_ilv_offset(const struct cx_ilv *v, int ent,
				     uint64_t adv)
{
	uint64_t g = v->gran, w = (uint64_t)v->ways;
	uint64_t first = (adv / g) * w * g;
	for (uint64_t s = 0; s < w; s++) {
		uint64_t off = first + s * g;
		if (cx_ilv_slot(v, off / g, off) == ent)
			return off + adv % g;
	}
	return UINT64_MAX;
}

/* Where DAX offset `off` lives: media and offset; bytes left in granule. */
static inline void cx_dax_locate(const struct cx_dax_recipe *rc, uint64_t off,
				 int *ent, uint64_t *media_off, uint64_t *left)
{
	uint64_t adv;
	cx_dax_period(&rc->ilv, off, ent, &adv, left);
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
