/*
 * coherency.h - non-coherent shared memory: a per-host cache model for
 * mapped device-DAX memory, the cache operations a program uses on it,
 * and a checker that reports the bugs they hide.
 *
 * A DAX device is mapped coherent (every load and store reaches the
 * media: today's behaviour, CXL 3 hardware coherency) or non-coherent
 * (CXL 2 shared memory without hardware coherency): then the mapping is
 * this process's cached copy of the media.  Its stores reach the media
 * only when written back, and it sees other hosts' write-backs only after
 * invalidating, 64-byte line by line, as with CLWB and CLFLUSHOPT:
 *
 *     cxlemu_dax_set_coherency(d, CXLEMU_NONCOHERENT, &err);
 *     cxlemu_dax_map(d, 0, 2 << 20, PROT_READ | PROT_WRITE, &p, &err);
 *     memcpy(p + 4096, msg, n);
 *     cxlemu_flush(p + 4096, n);        // CLWB loop: write back, keep
 *     cxlemu_fence();                   // SFENCE
 *     ...                               // on the other host:
 *     cxlemu_invalidate(q + 4096, n);   // CLFLUSHOPT loop: drop, refetch
 *     memcpy(buf, q + 4096, n);
 *
 * The same calls are no-ops on coherent memory, so a program written with
 * them runs in both modes.  Unmap a mapping with cxlemu_dax_unmap (it
 * reports stores never written back); cxlemu_coh_finish at exit reports
 * those of every mapping still held.
 *
 * How it works (DESIGN.md "Media, mapping and tracking", and the
 * prototype's measured choices): the mapping is a private cache memfd
 * whose pages are protected until used; a SIGSEGV handler fills a page
 * from the media on first use and opens it read-only, then read-write on
 * the first store, so steady-state loads and stores run at memory speed.
 * A system call handed a pointer into a page not yet opened (read(2)
 * into the mapping) fails with EFAULT: touch the range first
 * (cxlemu_touch) or use a bounce buffer.  The emulator owns SIGSEGV and
 * chains faults that are not its own to the handler installed before the
 * first non-coherent mapping (or given to cxlemu_coh_chain).
 */
#ifndef CXLEMU_COHERENCY_PUBLIC_H
#define CXLEMU_COHERENCY_PUBLIC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cxlemu/dax.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CXLEMU_COHERENT 0
#define CXLEMU_NONCOHERENT 1

/* The mode later mappings of the device get: the daemon's mode of the
 * device (`cxlemu reconfigure-device --coherency`) unless set here. */
int cxlemu_dax_coherency(const struct cxlemu_dax *d);
int cxlemu_dax_set_coherency(struct cxlemu_dax *d, int mode,
			     struct cxlemu_err *err);
/* Unmap a device mapping of either mode (page-aligned range).  For a
 * non-coherent one, lines still dirty are reported and discarded. */
int cxlemu_dax_unmap(void *addr, uint64_t len, struct cxlemu_err *err);

/* Cache operations on [p, p+n), 64-byte lines.  Outside non-coherent
 * mappings they do nothing (coherent memory needs nothing), as the
 * instructions they stand for do nothing visible there. */
void cxlemu_flush(const void *p, size_t n);       /* CLWB: write back */
void cxlemu_invalidate(const void *p, size_t n);  /* CLFLUSHOPT: write back
						     dirty lines, drop, refetch */
void cxlemu_fence(void);                          /* SFENCE/MFENCE */
/* Open [p, p+n) for system calls (read(2) into it): 0, or -EFAULT when
 * part of it is not mapped or not writable as asked. */
int cxlemu_touch(const void *p, size_t n, int write);

/* Process-wide settings of the cache model (before or between maps). */
struct cxlemu_coh_config {
	int check;              /* stale-read sampling: re-protect cached
				   pages at each cache operation (1) */
	uint64_t capacity;      /* bytes cached at most per process; past it
				   pages are written back and dropped
				   (0: 64 MiB) */
	double evict_rate;      /* random evictions per second (0: off) */
	uint64_t seed;          /* for the evictor */
	uint64_t window_off;    /* coherent sub-window of each mapping, in */
	uint64_t window_len;    /* device offsets (page-aligned; len 0: none) */
	int log_fd;             /* where reports go (-1: counted only) */
};
void cxlemu_coh_config_default(struct cxlemu_coh_config *c);
int cxlemu_coh_configure(const struct cxlemu_coh_config *c,
			 struct cxlemu_err *err);

struct cxlemu_coh_stats {
	uint64_t stale_reads;       /* read a line another host wrote back
				       after our fetch (no invalidate) */
	uint64_t lost_updates;      /* our write-back over a newer one */
	uint64_t locked_rmw;        /* LOCK/XCHG on non-coherent memory */
	uint64_t unflushed_lines;   /* dirty at unmap or exit */
	uint64_t faults, fills, writebacks, refetches;
	uint64_t evictions;         /* random evictor */
	uint64_t capacity_evictions;
};
void cxlemu_coh_stats(struct cxlemu_coh_stats *s);
/* Report the dirty lines of every mapping (at exit); returns how many. */
uint64_t cxlemu_coh_finish(void);
/* The handler SIGSEGV faults that are not the emulator's go to, for a
 * program that installs its own after mapping (old may be NULL). */
void cxlemu_coh_chain(const struct sigaction *act, struct sigaction *old);

#ifdef __cplusplus
}
#endif

#endif
