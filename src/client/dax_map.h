/*
 * dax_map.h - lay a device-DAX device out in a program's address space.
 *
 * The daemon hands over a layout (the interleave recipe of model/dax.h)
 * and, for each position, the extents of its bytes: a descriptor per block
 * it was lent (media.h) and where in it.  Mapping reserves one contiguous virtual
 * range and maps each run of the layout into it with MAP_FIXED|MAP_SHARED,
 * so every access is a plain load or store on the device's media.  A
 * non-interleaved device is one mapping; an interleaved one is one mapping
 * per granule, which needs the granularity to be a multiple of the page
 * size and the process to have room for that many mappings.  The exact
 * path copies granule by granule through whole-media mappings instead and
 * works at any granularity.  An interleaved device over memfd media comes
 * as its region's view instead: one descriptor holding the device's bytes
 * in order, so it is one mapping at any granularity and the exact path
 * is one memcpy.
 */
#ifndef CXLEMU_DAX_MAP_H
#define CXLEMU_DAX_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "util/util.h"

#define CX_DAX_MAX_WAYS CX_MAX_WAYS  /* a region's interleave ways */
#define CX_DAX_MAX_FDS 64            /* blocks one reply carries */

/* A run of one position's bytes held by one descriptor. */
struct cx_dax_extent {
	int fd;                 /* index in fds */
	uint64_t fd_off;        /* where the run starts in that fd */
	uint64_t len;
};

struct cx_dax_layout {
	char name[32];          /* daxZ.0 */
	uint64_t size;
	uint64_t align;         /* mappings are multiples of this (device-DAX) */
	struct cx_ilv ilv;      /* granularity, ways, an XOR window's maps */
	int nfds;
	int fds[CX_DAX_MAX_FDS];
	uint64_t fd_len[CX_DAX_MAX_FDS];    /* bytes of each fd we may touch */
	uint8_t *media[CX_DAX_MAX_FDS];     /* exact path: whole-fd mappings */
	/* Position j's bytes, in order: ext[first[j]] .. ext[first[j+1]-1]
	 * (its granules k / ways * gran onward lie in them back to back) */
	int first[CX_DAX_MAX_WAYS + 1];
	struct cx_dax_extent ext[CX_DAX_MAX_FDS];
	/* viewed: fds[view] is the region's view (model/region_view.h),
	 * the device's bytes in order: one mapping, the exact path one
	 * copy, and no extents.  Else the extents above; view_fallback
	 * says why, for an interleaved device */
	bool viewed;
	int view;
	char view_fallback[256];
	/* the last mappings made (cx_dax_note) */
	struct { uintptr_t addr; uint64_t off, len; } maps[16];
	int next_map;
};

/* Is the layout whole: every position's extents in range of their fds,
 * together holding its size / ways bytes? */
int cx_dax_layout_check(const struct cx_dax_layout *L, cx_err *e);
/* Remember that [addr, addr+len) maps device offset off (the last 16
 * are kept), so that cx_dax_addr_offset can find it: the device offset
 * of a mapped address; -ENOENT when no mapping remembered holds it. */
void cx_dax_note(struct cx_dax_layout *L, const void *addr, uint64_t off,
		 uint64_t len);
int cx_dax_addr_offset(const struct cx_dax_layout *L, const void *addr,
		       uint64_t *off);

/* Where device offset `off` is: the index of its fd in L->fds (-1 when
 * the layout does not hold it), its offset there, and how many bytes
 * follow it there before its granule or its extent ends. */
void cx_dax_where(const struct cx_dax_layout *L, uint64_t off, int *fd,
		  uint64_t *fdoff, uint64_t *left);
/* How many mappings [off, off+len) takes. */
uint64_t cx_dax_runs(const struct cx_dax_layout *L, uint64_t off, uint64_t len);
/* Map [off, off+len) of the device; *out receives the address.  `hint`
 * with fixed != 0 places it exactly there (MAP_FIXED semantics). */
int cx_dax_map(const struct cx_dax_layout *L, uint64_t off, uint64_t len,
	       int prot, void *hint, int fixed, void **out, cx_err *e);
/* Exact path: copy by device offset, one translation per granule. */
int cx_dax_read(struct cx_dax_layout *L, uint64_t off, void *buf, uint64_t len,
		cx_err *e);
int cx_dax_write(struct cx_dax_layout *L, uint64_t off, const void *buf,
		 uint64_t len, cx_err *e);
int cx_dax_copy(struct cx_dax_layout *L, uint64_t dst, uint64_t src,
		uint64_t len, cx_err *e);
/* Exact path: set [off, off+len) to `byte`, as memset() would. */
int cx_dax_fill(struct cx_dax_layout *L, uint64_t off, int byte, uint64_t len,
		cx_err *e);
void cx_dax_layout_release(struct cx_dax_layout *L);

#endif
