/*
 * coherency.h - the non-coherent cache engine the client library and the
 * preload share (public calls: cxlemu/coherency.h).
 *
 * Per mapping:
 *   view    the program's range: a private "cache" memfd mapped shared,
 *           protected per page (PROT_NONE until filled, then read-only,
 *           then read-write once stored to);
 *   alias   a second read-write mapping of that memfd, where the engine
 *           fills and scans without touching protections;
 *   twin    private anonymous memory holding each line as last fetched or
 *           written back: a line whose view differs from its twin is dirty;
 *   media   the device range itself, mapped shared (in device order);
 *   state   one shared 64-bit word per 64-byte media line, one memfd per
 *           media from the daemon: version, last writer, and a busy bit
 *           that makes every fill and write-back of a line one transaction
 *           (a seqlock), so a fill racing another host's write-back never
 *           tears inside a line.  The checker compares it with the word
 *           this mapping last fetched or wrote.
 * A page is a line mask of what is valid; a fault fills the invalid lines
 * (media -> twin -> alias) and opens the page.  A process holds at most
 * `capacity` bytes cached: past it pages are written back and dropped, a
 * capacity eviction as caches do, which also bounds the number of VMAs
 * that per-page protections create (vm.max_map_count).
 */
#ifndef CXLEMU_COHERENCY_H
#define CXLEMU_COHERENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "client/dax_map.h"
#include "cxlemu/coherency.h"

#define CX_COH_LINE 64
/* the state word of a line */
#define CX_COH_BUSY 1ULL                       /* a transfer in progress */
#define CX_COH_WRITER(w) ((unsigned)((w) >> 1) & 0x7fffu)
#define CX_COH_VERSION(w) ((w) >> 16)
#define CX_COH_WORD(ver, writer) (((uint64_t)(ver) << 16) | \
				  ((uint64_t)(writer) << 1))
/* the writer registry: slot i (64 bytes) names writer i */
#define CX_COH_REG_SLOTS 1024
#define CX_COH_REG_SLOT 64
#define CX_COH_REG_SIZE (CX_COH_REG_SLOTS * CX_COH_REG_SLOT)

/* Where a mapping's media and shared state come from. */
struct cx_coh_src {
	const struct cx_dax_layout *L;  /* media fds and interleave */
	int state_fd[CX_DAX_MAX_FDS];   /* per L->fds[i]: its line states */
	uint64_t state_len[CX_DAX_MAX_FDS];
	int registry_fd;                /* writer names, or -1 */
	unsigned writer;                /* this mapping's id (1..32767) */
};

/* Map [off, off+len) of the device non-coherently (page-aligned); *out
 * receives the view.  `hint` with fixed places it exactly there. */
int cx_coh_map(const struct cx_coh_src *s, uint64_t off, uint64_t len,
	       int prot, void *hint, int fixed, void **out, cx_err *e);
/* Is [a, b) (partly) a non-coherent view? */
bool cx_coh_owns(uintptr_t a, uintptr_t b);
/* Unmap [addr, addr+len) of views: report and discard dirty lines, then
 * unmap; ranges outside views are unmapped too.  0 or -errno. */
int cx_coh_unmap(void *addr, uint64_t len, cx_err *e);
/* The program's mprotect of a view range: 0 or -errno. */
int cx_coh_protect(void *addr, uint64_t len, int prot, cx_err *e);

/* Flush / invalidate one line or a range; `pc` is the instruction that
 * asked (0: an API call), for reports. */
void cx_coh_flush(uintptr_t a, uint64_t n, uintptr_t pc);
void cx_coh_invalidate(uintptr_t a, uint64_t n, uintptr_t pc);
void cx_coh_fence(void);

/* x86: is the instruction at pc a locked read-modify-write (a LOCK
 * prefix, or XCHG with memory)?  (coherency_insn.c) */
bool cx_coh_insn_locked(const uint8_t *pc);

#endif
