/*
 * dax_map.h - lay a device-DAX device out in a program's address space.
 *
 * The daemon hands over a layout (the interleave recipe of model/dax.h) and
 * one file descriptor per media.  Mapping reserves one contiguous virtual
 * range and maps each run of the layout into it with MAP_FIXED|MAP_SHARED,
 * so every access is a plain load or store on the device's media.  A
 * non-interleaved device is one mapping; an interleaved one is one mapping
 * per granule, which needs the granularity to be a multiple of the page
 * size and the process to have room for that many mappings.  The exact
 * path copies granule by granule through whole-media mappings instead and
 * works at any granularity.
 */
#ifndef CXLEMU_DAX_MAP_H
#define CXLEMU_DAX_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "util/util.h"

#define CX_DAX_MAX_WAYS CX_MAX_WAYS  /* a region's interleave ways */

struct cx_dax_layout {
	char name[32];          /* daxZ.0 */
	uint64_t size;
	uint64_t align;         /* mappings are multiples of this (device-DAX) */
	struct cx_ilv ilv;      /* granularity, ways, an XOR window's maps */
	int nfds;
	int fds[CX_DAX_MAX_WAYS];
	uint64_t fd_len[CX_DAX_MAX_WAYS];   /* bytes of each fd we may touch */
	int ent_fd[CX_DAX_MAX_WAYS];        /* position j -> index in fds */
	uint64_t ent_off[CX_DAX_MAX_WAYS];  /* fd offset of j's first granule */
	uint8_t *media[CX_DAX_MAX_WAYS];    /* exact path: whole-fd mappings */
};

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
/* msync a mapped range (persistent media: make stores durable). */
int cx_dax_flush(void *addr, uint64_t len, cx_err *e);
void cx_dax_layout_release(struct cx_dax_layout *L);

#endif
