/*
 * coherency_int.h - what the engine's files share (coherency.c: maps,
 * faults, cache operations, checker; coherency_life.c: the evictor
 * thread and fork).  Not for callers: they use coherency.h.
 */
#ifndef CXLEMU_COHERENCY_INT_H
#define CXLEMU_COHERENCY_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/coherency.h"

#define COH_LINES 64            /* lines per 4 KiB page: one 64-bit mask */
#define COH_MAX_MAPS 256
#define COH_OPENED_MAX 64       /* pages opened since the last arm, listed */
#define COH_LOG_MAX 200         /* reports logged per kind (all counted) */
#define COH_CHUNK (2u << 20)    /* the cache memfd is backed this much at a
				   time */

enum {
	PG_DIRTY = 1,           /* opened for stores since its fill */
	PG_ARMED = 2,           /* re-protected by the checker */
	PG_WINDOW = 4,          /* coherent window: the media itself */
	PG_GONE = 8,            /* unmapped */
};

struct coh_page {
	uint64_t valid;         /* lines fetched (bit l: line l) */
	uint8_t prot;           /* the view page's protection now */
	uint8_t user;           /* what the program allows (mmap, mprotect) */
	uint8_t flags;
};

struct coh_map {
	uintptr_t base;         /* the view */
	uint64_t len, off;      /* its length and device offset */
	size_t npages, live;    /* pages, and pages not unmapped */
	char name[32];          /* daxZ.0 */
	int cache_fd;
	uint8_t *alias, *twin, *media;
	uint64_t *seen;         /* per line: the state word we last fetched
				   or wrote */
	uint32_t *fetched;      /* per line: the checker epoch of its fetch */
	uint8_t *chunked;       /* per COH_CHUNK of the cache: backed yet */
	struct coh_page *pg;
	/* the interleave and the blocks of the layout (its own copy: the
	 * handle may close first), to find a line's shared state word */
	struct cx_dax_layout lay;
	uint64_t *state[CX_DAX_MAX_FDS];
	uint64_t state_len[CX_DAX_MAX_FDS];
	const char *registry;
	unsigned writer;
	/* pages opened since the checker last armed */
	uint32_t opened[COH_OPENED_MAX];
	int nopened;
	bool opened_all;
};

enum coh_kind { COH_STALE, COH_LOST, COH_LOCKED, COH_UNFLUSHED };

struct coh_global {
	int lock;
	void *owner;
	struct cxlemu_coh_config cfg;
	struct cxlemu_coh_stats st;
	struct coh_map *maps[COH_MAX_MAPS];
	int nmaps;              /* slots in use, holes included */
	size_t resident;        /* pages holding at least one valid line */
	int hand_map;           /* the capacity clock */
	size_t hand_page;
	bool installed;         /* SIGSEGV handler */
	uint32_t epoch;         /* cache operations armed so far (checker) */
};
extern struct coh_global cx_coh;
/* The C library's sigaction; the preload points it past its own. */
extern int (*cx_coh_real_sigaction)(int, const struct sigaction *,
				    struct sigaction *);

/* Take the engine's lock; false (said once) when this thread holds it
 * already: a signal handler interrupted the engine. */
bool cx_coh_lock(void) __attribute__((warn_unused_result));
void cx_coh_unlock(void);
/* Where conditions the program should hear of go, besides the log (the
 * preload: its stderr).  Called from signal handlers. */
extern void (*cx_coh_notice)(const char *msg);
size_t cx_coh_page(void);
int cx_coh_mprotect(void *a, size_t len, int prot);
/* false (said once) when mprotect failed: the page keeps its old one */
bool cx_coh_set_prot(struct coh_map *m, size_t i, int prot);
struct coh_map *cx_coh_map_at(uintptr_t a);
bool cx_coh_access(struct coh_map *m, uintptr_t a, bool write, uintptr_t pc);
int cx_coh_writeback(struct coh_map *m, size_t i, uint64_t mask, uintptr_t pc);
void cx_coh_drop(struct coh_map *m, size_t i, uint64_t mask);
void cx_coh_arm(void);
void cx_coh_report(enum coh_kind k, struct coh_map *m, size_t line,
		   uintptr_t pc, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
const char *cx_coh_who(const struct coh_map *m, unsigned writer, char *buf,
		       size_t len);
/* Forget a view range without unmapping it (the preload unmaps):
 * reports and discards its dirty lines; returns 1 if it held any. */
int cx_coh_release(void *addr, uint64_t len);
/* A map exists or the configuration changed: start what runs beside
 * the program (the evictor, the fork handler). */
void cx_coh_started(void);

#endif
