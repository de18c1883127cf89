/*
 * dax.h - map a cxlemu device-DAX device into this program, or copy to
 * and from it by device offset.
 *
 *     struct cxlemu *c;
 *     struct cxlemu_dax *d;
 *     char *p;
 *     cxlemu_connect(NULL, "host1", &c, &err);
 *     cxlemu_dax_open(c, "dax0.0", &d, &err);
 *     cxlemu_dax_map(d, 0, 2 << 20, PROT_READ | PROT_WRITE, (void **)&p, &err);
 *     strcpy(p, "hello");            // a plain store, straight to media
 *     cxlemu_dax_flush(d, p, 6, &err); // durable, for persistent regions
 *
 * A mapping is one contiguous virtual range whose pages are the device's
 * media, laid out by the region's interleave.  The descriptors behind it
 * reach the region's bytes and nothing else; when the region stops being
 * this program's (destroyed, erased, switched to system-ram, the fabric
 * stopped) they are taken back, and a later access raises SIGBUS, as on
 * Linux device-DAX whose device went away.  An interleaved device comes
 * as its region's view (its bytes in order in one descriptor, shared
 * with another host's region laid out the same way): one mapping at any
 * granularity.  Otherwise (a file a QEMU guest maps too, another host's
 * region over the same bytes laid out another way: cxlemu_dax_view says
 * why) a mapping fails, saying why, when the interleave granularity is below the
 * page size or the process cannot hold one mapping per granule;
 * cxlemu_dax_read/write/copy then serve at any granularity, translating
 * once per granule.  While a device is open
 * its region counts as mapped and cannot be destroyed; closing the handle,
 * the connection, or the process releases it.
 */
#ifndef CXLEMU_DAX_PUBLIC_H
#define CXLEMU_DAX_PUBLIC_H

#include "cxlemu/cxlemu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cxlemu_dax;

int cxlemu_dax_open(struct cxlemu *c, const char *device,
		    struct cxlemu_dax **out, struct cxlemu_err *err);
void cxlemu_dax_close(struct cxlemu_dax *d);
/* After fork(), in the child: free this process's copy of the handle
 * without telling the daemon (the parent's hold stays the parent's). */
void cxlemu_dax_forget(struct cxlemu_dax *d);
uint64_t cxlemu_dax_size(const struct cxlemu_dax *d);
/* The device's alignment (daxctl's align): Linux maps device-DAX only in
 * multiples of it; cxlemu_dax_map itself needs only page alignment. */
uint64_t cxlemu_dax_align(const struct cxlemu_dax *d);
uint32_t cxlemu_dax_granularity(const struct cxlemu_dax *d);
int cxlemu_dax_ways(const struct cxlemu_dax *d);
/* 1 when the device came as its region's view (one mapping at any
 * granularity), else 0 with *why (if not NULL) pointing at the daemon's
 * one line saying why not ("" for a device that is not interleaved). */
int cxlemu_dax_view(const struct cxlemu_dax *d, const char **why);

/* Map [offset, offset+len): page aligned.  `hint` non-NULL with `fixed`
 * places it there (MAP_FIXED).  Unmap with munmap(). */
int cxlemu_dax_map(struct cxlemu_dax *d, uint64_t offset, uint64_t len,
		   int prot, void **addr, struct cxlemu_err *err);
int cxlemu_dax_map_at(struct cxlemu_dax *d, uint64_t offset, uint64_t len,
		      int prot, void *hint, int fixed, void **addr,
		      struct cxlemu_err *err);
/* The exact path. */
int cxlemu_dax_read(struct cxlemu_dax *d, uint64_t offset, void *buf,
		    uint64_t len, struct cxlemu_err *err);
int cxlemu_dax_write(struct cxlemu_dax *d, uint64_t offset, const void *buf,
		     uint64_t len, struct cxlemu_err *err);
int cxlemu_dax_copy(struct cxlemu_dax *d, uint64_t dst, uint64_t src,
		    uint64_t len, struct cxlemu_err *err);
/* Set [offset, offset+len) to `byte` (the exact path's memset).  Large
 * writes and fills (8 MiB and more) use non-temporal stores, as memcpy()
 * and memset() of one large buffer do. */
int cxlemu_dax_fill(struct cxlemu_dax *d, uint64_t offset, int byte,
		    uint64_t len, struct cxlemu_err *err);
/* Make stores to a mapped range durable: the daemon writes the bytes
 * back to the device's backing file and syncs it (persistent regions;
 * volatile ones have nothing to do).  An address that is not one of this
 * handle's mappings flushes the whole device. */
int cxlemu_dax_flush(struct cxlemu_dax *d, void *addr, uint64_t len,
		     struct cxlemu_err *err);

#ifdef __cplusplus
}
#endif

#endif
