/*
 * grant.h - which media bytes a host's programs may reach, and taking
 * back what they may no longer reach (see grant.c).
 */
#ifndef CXLEMU_GRANT_H
#define CXLEMU_GRANT_H

#include "model/model.h"

/* Does the region expose its memory to programs (device-DAX bound to
 * device_dax over a committed, enabled region)? */
bool cx_region_exposed(const struct cx_region *r);

/* What a region grants: per slot of its interleave (model/dax.h), a
 * range of one partition's media. */
struct cx_grant {
	struct cx_ilv ilv;
	struct {
		struct cx_media *media;
		struct cx_memdev *memdev;
		uint64_t off, len;      /* media offset and length */
	} part[CX_MAX_WAYS];
};
int cx_region_grant(struct cx_region *r, struct cx_grant *g, cx_err *e);

/* Take back every lent block of the fabric's media that no exposed
 * region's grant covers.  Returns how many were taken back, or a negative
 * errno (they are taken back all the same). */
int cx_fabric_reclaim(struct cx_fabric *f, cx_err *e);

#endif
