/*
 * coherency.c - the non-coherent cache engine (see coherency.h for the
 * objects): mapping, the SIGSEGV fault path, flush / invalidate / fence,
 * capacity evictions, and the checker's reports.
 *
 * One spinlock serialises the engine (faults, cache operations, the
 * evictor).  It records its owner: a signal handler of the program that
 * touches a view, or asks for a cache operation, while the same thread
 * is inside the engine would deadlock, so the engine refuses instead
 * (the access then faults as the program's own, the operation is not
 * done) and says so once.
 * Everything the fault handler calls is async-signal-safe in practice
 * (system calls, memcpy, snprintf of integers and strings).  The engine
 * uses raw system calls for mprotect and munmap so that the preload's
 * device-DAX rules (splits only at 2 MiB) do not apply to its own work.
 *
 * Reports go to the configured log descriptor, one line each (the first
 * COH_LOG_MAX of each kind; all are counted); the library never prints:
 * conditions the program should hear of (that one, or running out of
 * memory areas) also go to cx_coh_notice, which the preload points at
 * its stderr.
 */
#include "client/coherency.h"
#include "client/coherency_int.h"
#include "model/dax.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

struct coh_global cx_coh = {
	.cfg = { .check = 1, .capacity = 64ULL << 20, .log_fd = -1 },
};

static __thread char me_tls __attribute__((tls_model("initial-exec")));

/* write(2) itself: the preload's write() would look the buffer up in
 * the engine, under the lock this thread may hold */
static void raw_write(int fd, const char *buf, size_t len)
{
	if (fd >= 0)
		(void)syscall(SYS_write, fd, buf, len);
}

void (*cx_coh_notice)(const char *msg);

/* Tell the log and the notice hook, once per `flag`. */
static void notice(int *flag, const char *msg)
{
	if (__atomic_exchange_n(flag, 1, __ATOMIC_RELAXED))
		return;
	raw_write(cx_coh.cfg.log_fd, msg, strlen(msg));
	raw_write(cx_coh.cfg.log_fd, "\n", 1);
	if (cx_coh_notice)
		cx_coh_notice(msg);
}

/* ---- the lock ---- */

bool cx_coh_lock(void)
{
	static int said;
	void *me = &me_tls;
	if (__atomic_load_n(&cx_coh.owner, __ATOMIC_RELAXED) == me) {
		notice(&said, "cxlemu-coherency: a signal handler touched "
		       "non-coherent memory, or asked for a cache operation or "
		       "a mapping change, while its thread was inside the "
		       "emulator: refused (the access faults as the "
		       "program's own; the operation is not done), as going "
		       "on would deadlock");
		return false;
	}
	unsigned spins = 0;
	while (__atomic_exchange_n(&cx_coh.lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&cx_coh.lock, __ATOMIC_RELAXED)) {
			if (++spins % 256 == 0)
				sched_yield();
			__builtin_ia32_pause();
		}
	}
	__atomic_store_n(&cx_coh.owner, me, __ATOMIC_RELAXED);
	return true;
}

void cx_coh_unlock(void)
{
	__atomic_store_n(&cx_coh.owner, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&cx_coh.lock, 0, __ATOMIC_RELEASE);
}

/* ---- small helpers ---- */

size_t cx_coh_page(void)
{
	static size_t pg;
	if (!pg)
		pg = (size_t)sysconf(_SC_PAGESIZE);
	return pg;
}

int cx_coh_mprotect(void *a, size_t len, int prot)
{
	return (int)syscall(SYS_mprotect, a, len, prot);
}

static int raw_munmap(void *a, size_t len)
{
	return (int)syscall(SYS_munmap, a, len);
}

bool cx_coh_set_prot(struct coh_map *m, size_t i, int prot)
{
	static int said;
	struct coh_page *p = &m->pg[i];
	if (p->prot == prot)
		return true;
	if (cx_coh_mprotect((void *)(m->base + i * cx_coh_page()),
			    cx_coh_page(), prot) < 0) {
		/* out of memory areas despite the capacity bound: the
		 * program maps much else.  The page keeps its protection: an
		 * access it does not allow faults as the program's own */
		char msg[256];
		snprintf(msg, sizeof(msg), "cxlemu-coherency: mprotect of a "
			 "cached page of %s failed (errno %d): vm.max_map_count "
			 "reached? lower the cache capacity "
			 "(CXLEMU_COHERENCY_CAPACITY)", m->name, errno);
		notice(&said, msg);
		return false;
	}
	if (prot != PROT_NONE && p->prot == PROT_NONE &&
	    !m->opened_all) {
		if (m->nopened < COH_OPENED_MAX)
			m->opened[m->nopened++] = (uint32_t)i;
		else
			m->opened_all = true;
	}
	p->prot = (uint8_t)prot;
	return true;
}

struct coh_map *cx_coh_map_at(uintptr_t a)
{
	for (int k = 0; k < cx_coh.nmaps; k++) {
		struct coh_map *m = cx_coh.maps[k];
		if (m && a >= m->base && a < m->base + m->len)
			return m;
	}
	return NULL;
}

bool cx_coh_owns(uintptr_t a, uintptr_t b)
{
	bool yes = false;
	if (!cx_coh_lock())
		return false;
	for (int k = 0; k < cx_coh.nmaps && !yes; k++) {
		struct coh_map *m = cx_coh.maps[k];
		yes = m && a < m->base + m->len && m->base < b;
	}
	cx_coh_unlock();
	return yes;
}

/* The shared state word of the first line of page i. */
static uint64_t *page_state(struct coh_map *m, size_t i)
{
	int f;
	uint64_t fo, left;
	cx_dax_where(&m->lay, m->off + i * cx_coh_page(), &f, &fo, &left);
	uint64_t idx = fo / CX_COH_LINE;
	if (f < 0 || !m->state[f] ||
	    (idx + cx_coh_page() / CX_COH_LINE) * 8 > m->state_len[f])
		return NULL;
	return m->state[f] + idx;
}

/* Wait for a line's busy bit to clear; a writer that died holding it
 * (killed mid write-back) is given up on after about 100 ms. */
static uint64_t wait_idle(uint64_t *st)
{
	uint64_t w;
	unsigned spins = 0;
	while ((w = __atomic_load_n(st, __ATOMIC_ACQUIRE)) & CX_COH_BUSY) {
		if (++spins > (1u << 16))
			return w & ~CX_COH_BUSY;
		if (spins % 64 == 0)
			sched_yield();
		__builtin_ia32_pause();
	}
	return w;
}

/* Copy one media line to dst as one transaction; returns its word. */
static uint64_t read_line(uint64_t *st, const uint8_t *src, uint8_t *dst)
{
	static uint64_t none;
	if (!st)
		st = &none;
	for (int tries = 0;; tries++) {
		uint64_t w1 = wait_idle(st);
		memcpy(dst, src, CX_COH_LINE);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint64_t w2 = __atomic_load_n(st, __ATOMIC_RELAXED);
		if (w1 == w2 || tries > 1000)
			return w1 & ~CX_COH_BUSY;
	}
}

const char *cx_coh_who(const struct coh_map *m, unsigned writer, char *buf,
		       size_t len)
{
	if (m->registry && writer && writer < CX_COH_REG_SLOTS &&
	    m->registry[writer * CX_COH_REG_SLOT]) {
		snprintf(buf, len, "%.*s", CX_COH_REG_SLOT - 1,
			 m->registry + writer * CX_COH_REG_SLOT);
		return buf;
	}
	snprintf(buf, len, "writer %u", writer);
	return buf;
}

/* ---- reports ---- */

static uint64_t *kind_counter(enum coh_kind k)
{
	switch (k) {
	case COH_STALE: return &cx_coh.st.stale_reads;
	case COH_LOST: return &cx_coh.st.lost_updates;
	case COH_LOCKED: return &cx_coh.st.locked_rmw;
	default: return &cx_coh.st.unflushed_lines;
	}
}

static const char *kind_name(enum coh_kind k)
{
	switch (k) {
	case COH_STALE: return "stale read";
	case COH_LOST: return "lost update";
	case COH_LOCKED: return "locked RMW on non-coherent memory";
	default: return "store never written back";
	}
}

void cx_coh_report(enum coh_kind k, struct coh_map *m, size_t line,
		   uintptr_t pc, const char *fmt, ...)
{
	uint64_t n = ++*kind_counter(k);
	if (cx_coh.cfg.log_fd < 0 || n > COH_LOG_MAX)
		return;
	char buf[512], me[CX_COH_REG_SLOT];
	int len = snprintf(buf, sizeof(buf), "cxlemu-coherency: %s: %s+%#llx "
			   "(line %zu) on %s", kind_name(k), m->name,
			   (unsigned long long)(m->off + line * CX_COH_LINE),
			   line, cx_coh_who(m, m->writer, me, sizeof(me)));
	if (pc && len < (int)sizeof(buf))
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
				" at pc %#lx", (unsigned long)pc);
	if (len < (int)sizeof(buf) - 2) {
		buf[len++] = ':';
		buf[len++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		len += vsnprintf(buf + len, sizeof(buf) - (size_t)len, fmt, ap);
		va_end(ap);
	}
	if (n == COH_LOG_MAX && len < (int)sizeof(buf) - 2)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len,
				" (later ones are counted, not logged)");
	if (len > (int)sizeof(buf) - 2)
		len = (int)sizeof(buf) - 2;
	buf[len++] = '\n';
	raw_write(cx_coh.cfg.log_fd, buf, (size_t)len);
}

/* ---- lines ---- */

/* The whole page at once when no line of it is being written back: one
 * copy between two reads of its 64 state words (a seqlock over the
 * page); false when a word changed or was busy (then line by line). */
static bool fill_page(struct coh_map *m, size_t i, uint64_t *st)
{
	size_t pg = cx_coh_page(), o = i * pg;
	uint64_t w[COH_LINES];
	for (int l = 0; l < COH_LINES; l++)
		if ((w[l] = __atomic_load_n(st + l, __ATOMIC_ACQUIRE)) &
		    CX_COH_BUSY)
			return false;
	memcpy(m->twin + o, m->media + o, pg);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (int l = 0; l < COH_LINES; l++)
		if (__atomic_load_n(st + l, __ATOMIC_RELAXED) != w[l])
			return false;
	memcpy(m->alias + o, m->twin + o, pg);
	for (int l = 0; l < COH_LINES; l++) {
		m->seen[i * COH_LINES + (size_t)l] = w[l];
		m->fetched[i * COH_LINES + (size_t)l] = cx_coh.epoch;
	}
	return true;
}

/* Back the 2 MiB chunk of the cache holding page i in one go: fewer,
 * contiguous allocations than one page per fault. */
static void back_chunk(struct coh_map *m, size_t i)
{
	size_t c = i * cx_coh_page() / COH_CHUNK;
	if (m->chunked[c])
		return;
	uint64_t off = (uint64_t)c * COH_CHUNK;
	uint64_t n = m->len - off < COH_CHUNK ? m->len - off : COH_CHUNK;
	(void)fallocate(m->cache_fd, 0, (off_t)off, (off_t)n);
	m->chunked[c] = 1;
}

/* Fill the lines of `need` of page i from media (media -> twin -> alias). */
static void fill_lines(struct coh_map *m, size_t i, uint64_t need)
{
	size_t pg = cx_coh_page();
	uint64_t *st = page_state(m, i);
	back_chunk(m, i);
	if (need == ~0ULL && st && fill_page(m, i, st)) {
		m->pg[i].valid = ~0ULL;
		cx_coh.st.fills++;
		return;
	}
	for (int l = 0; l < COH_LINES; l++) {
		if (!(need >> l & 1))
			continue;
		size_t o = i * pg + (size_t)l * CX_COH_LINE;
		uint64_t w = read_line(st ? st + l : NULL, m->media + o,
				       m->twin + o);
		memcpy(m->alias + o, m->twin + o, CX_COH_LINE);
		m->seen[i * COH_LINES + (size_t)l] = w;
		m->fetched[i * COH_LINES + (size_t)l] = cx_coh.epoch;
	}
	m->pg[i].valid |= need;
	cx_coh.st.fills++;
}

/* Write one line's bytes to media as one transaction, checking that no
 * other host wrote it back since we fetched it. */
static void write_line(struct coh_map *m, size_t i, int l,
		       const uint8_t *data, uintptr_t pc)
{
	size_t pg = cx_coh_page();
	size_t li = i * COH_LINES + (size_t)l;
	size_t o = i * pg + (size_t)l * CX_COH_LINE;
	uint64_t *st = page_state(m, i);
	uint64_t w = 0;
	if (st) {
		st += l;
		for (;;) {
			w = wait_idle(st);
			if (__atomic_compare_exchange_n(st, &w, w | CX_COH_BUSY,
							false, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				break;
		}
	}
	if (st && w != m->seen[li] && CX_COH_WRITER(w) != m->writer) {
		char who[CX_COH_REG_SLOT];
		cx_coh_report(COH_LOST, m, li, pc, "%s wrote it back (v%llu) "
			      "after our fetch (v%llu); our write-back "
			      "replaces its bytes (missing invalidate before "
			      "a read-modify-write, or two hosts writing one "
			      "64-byte line)",
			      cx_coh_who(m, CX_COH_WRITER(w), who, sizeof(who)),
			      (unsigned long long)CX_COH_VERSION(w),
			      (unsigned long long)CX_COH_VERSION(m->seen[li]));
	}
	memcpy(m->media + o, data, CX_COH_LINE);
	uint64_t nw = CX_COH_WORD(CX_COH_VERSION(w) + 1, m->writer);
	if (st)
		__atomic_store_n(st, nw, __ATOMIC_RELEASE);
	m->seen[li] = nw;
	memcpy(m->twin + o, data, CX_COH_LINE);
	cx_coh.st.writebacks++;
}

/* Write back the dirty lines of `mask` in page i; returns how many. */
int cx_coh_writeback(struct coh_map *m, size_t i, uint64_t mask, uintptr_t pc)
{
	struct coh_page *p = &m->pg[i];
	int n = 0;
	if (!(p->flags & PG_DIRTY))
		return 0;
	mask &= p->valid;
	size_t base = i * cx_coh_page();
	for (int l = 0; l < COH_LINES; l++) {
		if (!(mask >> l & 1))
			continue;
		size_t o = base + (size_t)l * CX_COH_LINE;
		if (!memcmp(m->alias + o, m->twin + o, CX_COH_LINE))
			continue;
		uint8_t tmp[CX_COH_LINE];
		memcpy(tmp, m->alias + o, CX_COH_LINE);  /* one snapshot */
		write_line(m, i, l, tmp, pc);
		n++;
	}
	return n;
}

/* Refetch the valid lines of `mask` in page i from media (after their
 * write-back).  On a writable page another thread may store meanwhile:
 * each 8-byte word is replaced only if it still holds what was written
 * back, so such a store is kept, as hardware keeps it. */
static void refetch(struct coh_map *m, size_t i, uint64_t mask)
{
	size_t pg = cx_coh_page();
	uint64_t *st = page_state(m, i);
	struct coh_page *p = &m->pg[i];
	mask &= p->valid;
	for (int l = 0; l < COH_LINES; l++) {
		if (!(mask >> l & 1))
			continue;
		size_t o = i * pg + (size_t)l * CX_COH_LINE;
		uint64_t fresh[CX_COH_LINE / 8];
		uint64_t w = read_line(st ? st + l : NULL, m->media + o,
				       (uint8_t *)fresh);
		if (!memcmp(m->alias + o, fresh, CX_COH_LINE)) {
			/* the media holds what we hold: nothing to replace */
		} else if (p->prot & PROT_WRITE) {
			uint64_t *v = (uint64_t *)(m->alias + o);
			uint64_t *t = (uint64_t *)(m->twin + o);
			for (int k = 0; k < CX_COH_LINE / 8; k++) {
				uint64_t want = t[k];
				__atomic_compare_exchange_n(&v[k], &want,
							    fresh[k], false,
							    __ATOMIC_RELAXED,
							    __ATOMIC_RELAXED);
			}
		} else {
			memcpy(m->alias + o, fresh, CX_COH_LINE);
		}
		memcpy(m->twin + o, fresh, CX_COH_LINE);
		m->seen[i * COH_LINES + (size_t)l] = w;
		m->fetched[i * COH_LINES + (size_t)l] = cx_coh.epoch;
		cx_coh.st.refetches++;
	}
}

/* ---- pages ---- */

/* Write back and drop page i: a capacity eviction, or the evictor. */
void cx_coh_drop(struct coh_map *m, size_t i, uint64_t mask)
{
	struct coh_page *p = &m->pg[i];
	if (!(p->valid & mask) ||
	    !cx_coh_set_prot(m, i, PROT_NONE))  /* no thread stores meanwhile */
		return;
	cx_coh_writeback(m, i, mask, 0);
	p->valid &= ~mask;
	if (!p->valid) {
		p->flags &= (uint8_t)~(PG_DIRTY | PG_ARMED);
		cx_coh.resident--;
	}
}

/* Make room for one more resident page, never evicting page (m0, i0). */
static void make_room(struct coh_map *m0, size_t i0)
{
	size_t cap = cx_coh.cfg.capacity / cx_coh_page();
	if (cap < 16)
		cap = 16;
	while (cx_coh.resident > cap) {
		bool found = false;
		for (int round = 0; round < cx_coh.nmaps * 2 + 2 && !found;
		     round++) {
			int k = cx_coh.hand_map % (cx_coh.nmaps ? cx_coh.nmaps : 1);
			struct coh_map *m = cx_coh.maps[k];
			for (; m && cx_coh.hand_page < m->npages;
			     cx_coh.hand_page++) {
				size_t i = cx_coh.hand_page;
				if (!m->pg[i].valid || (m == m0 && i == i0))
					continue;
				cx_coh_drop(m, i, ~0ULL);
				cx_coh.st.capacity_evictions++;
				cx_coh.hand_page++;
				found = true;
				break;
			}
			if (!found) {
				cx_coh.hand_map = k + 1;
				cx_coh.hand_page = 0;
			}
		}
		if (!found)
			return;
	}
}

/* Handle an access to page i of m: false when it is not the engine's to
 * handle (the program's protection forbids it, or the page is gone). */
bool cx_coh_access(struct coh_map *m, uintptr_t a, bool write, uintptr_t pc)
{
	size_t pg = cx_coh_page();
	size_t i = (a - m->base) / pg;
	struct coh_page *p = &m->pg[i];
	if (p->flags & (PG_GONE | PG_WINDOW))
		return false;
	if (write ? !(p->user & PROT_WRITE) : !p->user)
		return false;
	cx_coh.st.faults++;
	int l = (int)((a - m->base - i * pg) / CX_COH_LINE);
	size_t li = i * COH_LINES + (size_t)l;
	/* a stale read: the line changed in the media since we fetched it,
	 * and we fetched it before the program's previous cache operation
	 * (a line refetched by the last one and overwritten since is the
	 * ordinary race of polling, not a missing invalidate) */
	if ((p->flags & PG_ARMED) && !write && (p->valid >> l & 1) &&
	    m->fetched[li] + 1 < cx_coh.epoch) {
		uint64_t *st = page_state(m, i);
		uint64_t w = st ? __atomic_load_n(st + l, __ATOMIC_ACQUIRE) &
				  ~CX_COH_BUSY : 0;
		if (st && w != m->seen[li] && CX_COH_WRITER(w) != m->writer) {
			char who[CX_COH_REG_SLOT];
			cx_coh_report(COH_STALE, m, li, pc, "%s wrote it back "
				      "(v%llu) after our fetch (v%llu), and "
				      "we did not invalidate it since",
				      cx_coh_who(m, CX_COH_WRITER(w), who,
						 sizeof(who)),
				      (unsigned long long)CX_COH_VERSION(w),
				      (unsigned long long)
				      CX_COH_VERSION(m->seen[li]));
		}
	}
	p->flags &= (uint8_t)~PG_ARMED;
	if (p->valid != ~0ULL) {
		if (!p->valid) {
			cx_coh.resident++;
			make_room(m, i);
		}
		fill_lines(m, i, ~p->valid);
	}
	if (write) {
		if (pc && cx_coh_insn_locked((const uint8_t *)pc))
			cx_coh_report(COH_LOCKED, m, li, pc, "a LOCK-prefixed "
				      "or XCHG instruction is atomic only in "
				      "this host's cache; other hosts do not "
				      "see it (use the coherent window for "
				      "lock words)");
		p->flags |= PG_DIRTY;
	}
	int want = (p->flags & PG_DIRTY) && (p->user & PROT_WRITE) ?
		   PROT_READ | PROT_WRITE : PROT_READ;
	return cx_coh_set_prot(m, i, want);
}

/* ---- the fault handler ---- */

static struct sigaction chained;
int (*cx_coh_real_sigaction)(int, const struct sigaction *,
			     struct sigaction *) = sigaction;

static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction c = chained;
	if (c.sa_flags & SA_SIGINFO) {
		if (c.sa_sigaction) {
			c.sa_sigaction(sig, si, uc);
			return;
		}
	} else if (c.sa_handler != SIG_DFL && c.sa_handler != SIG_IGN) {
		c.sa_handler(sig);
		return;
	}
	/* default action: let the access fault again, unhandled */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	cx_coh_real_sigaction(sig, &dfl, NULL);
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	bool write = uc->uc_mcontext.gregs[REG_ERR] & 2;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	bool mine = false;
	if (cx_coh_lock()) {
		struct coh_map *m = cx_coh_map_at(a);
		if (m)
			mine = cx_coh_access(m, a, write, pc);
		cx_coh_unlock();
	}
	errno = saved;
	if (!mine)
		chain(sig, si, ucv);
}

void cxlemu_coh_chain(const struct sigaction *act, struct sigaction *old)
{
	if (!cx_coh_lock())
		return;
	if (old)
		*old = chained;
	if (act)
		chained = *act;
	cx_coh_unlock();
}

/* Install the handler, or take SIGSEGV back from a handler installed
 * since without the preload seeing it (it becomes the one chained to). */
static int install_handler(cx_err *e)
{
	struct sigaction sa, now;
	if (cx_coh.installed &&
	    cx_coh_real_sigaction(SIGSEGV, NULL, &now) == 0 &&
	    (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_segv)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (cx_coh_real_sigaction(SIGSEGV, &sa, &chained) < 0)
		return cx_fail(e, errno, "cannot install the SIGSEGV handler "
			       "that non-coherent memory needs: %s",
			       strerror(errno));
	cx_coh.installed = true;
	return 0;
}

/* ---- mapping ---- */

static void map_free(struct coh_map *m)
{
	size_t pg = cx_coh_page();
	(void)pg;
	if (m->alias)
		raw_munmap(m->alias, m->len);
	if (m->twin)
		raw_munmap(m->twin, m->len);
	if (m->media)
		raw_munmap(m->media, m->len);
	for (int f = 0; f < CX_DAX_MAX_FDS; f++)
		if (m->state[f])
			raw_munmap(m->state[f], m->state_len[f]);
	if (m->registry)
		raw_munmap((void *)m->registry, CX_COH_REG_SIZE);
	if (m->cache_fd >= 0)
		close(m->cache_fd);
	free(m->seen);
	free(m->fetched);
	free(m->chunked);
	free(m->pg);
	free(m);
}

static int map_window(struct coh_map *m, const struct cx_dax_layout *L,
		      int prot, cx_err *e)
{
	size_t pg = cx_coh_page();
	uint64_t wa = cx_coh.cfg.window_off, wb = wa + cx_coh.cfg.window_len;
	if (!cx_coh.cfg.window_len || wb <= m->off || wa >= m->off + m->len)
		return 0;
	if (wa < m->off)
		wa = m->off;
	if (wb > m->off + m->len)
		wb = m->off + m->len;
	void *at;
	int rc = cx_dax_map(L, wa, wb - wa, prot, (void *)(m->base + (wa -
			    m->off)), 1, &at, e);
	if (rc)
		return rc;
	for (uint64_t o = wa; o < wb; o += pg) {
		struct coh_page *p = &m->pg[(o - m->off) / pg];
		p->flags |= PG_WINDOW;
		p->prot = (uint8_t)prot;
	}
	return 0;
}

int cx_coh_map(const struct cx_coh_src *s, uint64_t off, uint64_t len,
	       int prot, void *hint, int fixed, void **out, cx_err *e)
{
	const struct cx_dax_layout *L = s->L;
	size_t pg = cx_coh_page();
	int rc;

	if (!len || off % pg || len % pg || off > L->size ||
	    len > L->size - off)
		return cx_fail(e, EINVAL, "%s: a non-coherent mapping needs a "
			       "page-aligned range inside the device (offset "
			       "%#llx, length %#llx, device %#llx bytes)",
			       L->name, (unsigned long long)off,
			       (unsigned long long)len,
			       (unsigned long long)L->size);
	struct coh_map *m = cx_xcalloc(1, sizeof(*m));
	m->cache_fd = -1;
	m->off = off;
	m->len = len;
	m->npages = len / pg;
	snprintf(m->name, sizeof(m->name), "%s", L->name);
	m->writer = s->writer;
	m->lay = *L;   /* only its interleave and extents are used */
	/* the media, in device order, where the engine reads and writes */
	void *media;
	if ((rc = cx_dax_map(L, off, len, PROT_READ | PROT_WRITE, NULL, 0,
			     &media, e)))
		goto fail;
	m->media = media;
	for (int f = 0; f < L->nfds; f++) {
		if (s->state_fd[f] < 0)
			continue;
		void *p = mmap(NULL, s->state_len[f], PROT_READ | PROT_WRITE,
			       MAP_SHARED, s->state_fd[f], 0);
		if (p == MAP_FAILED) {
			rc = cx_fail(e, errno, "%s: cannot map the shared line "
				     "states: %s", L->name, strerror(errno));
			goto fail;
		}
		m->state[f] = p;
		m->state_len[f] = s->state_len[f];
	}
	if (s->registry_fd >= 0) {
		void *p = mmap(NULL, CX_COH_REG_SIZE, PROT_READ, MAP_SHARED,
			       s->registry_fd, 0);
		m->registry = p == MAP_FAILED ? NULL : p;
	}
	m->cache_fd = memfd_create("cxlemu-cache", MFD_CLOEXEC);
	if (m->cache_fd < 0 || ftruncate(m->cache_fd, (off_t)len) < 0) {
		rc = cx_fail(e, errno, "%s: cannot make this host's cache "
			     "(memfd of %llu bytes): %s", L->name,
			     (unsigned long long)len, strerror(errno));
		goto fail;
	}
	void *twin = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	void *alias = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   m->cache_fd, 0);
	if (twin == MAP_FAILED || alias == MAP_FAILED) {
		rc = cx_fail(e, errno, "%s: cannot map this host's cache: %s",
			     L->name, strerror(errno));
		if (twin != MAP_FAILED)
			raw_munmap(twin, len);
		if (alias != MAP_FAILED)
			raw_munmap(alias, len);
		goto fail;
	}
	m->twin = twin;
	m->alias = alias;
	/* the twin in huge pages where the system allows (THP "madvise"):
	 * fewer faults inside the fault handler */
	madvise(twin, len, MADV_HUGEPAGE);
	m->chunked = cx_xcalloc(len / COH_CHUNK + 1, 1);
	m->seen = cx_xcalloc(m->npages * COH_LINES, sizeof(*m->seen));
	m->fetched = cx_xcalloc(m->npages * COH_LINES, sizeof(*m->fetched));
	m->pg = cx_xcalloc(m->npages, sizeof(*m->pg));
	for (size_t i = 0; i < m->npages; i++)
		m->pg[i].user = (uint8_t)(prot & (PROT_READ | PROT_WRITE));
	void *view = mmap(hint, len, PROT_NONE, MAP_SHARED |
			  (fixed ? MAP_FIXED : 0), m->cache_fd, 0);
	if (view == MAP_FAILED) {
		rc = cx_fail(e, errno, "%s: cannot map %llu bytes: %s",
			     L->name, (unsigned long long)len,
			     strerror(errno));
		goto fail;
	}
	m->base = (uintptr_t)view;
	m->live = m->npages;
	if ((rc = map_window(m, L, prot, e)) ||
	    (rc = install_handler(e))) {
		raw_munmap(view, len);
		goto fail;
	}
	if (!cx_coh_lock()) {
		raw_munmap(view, len);
		rc = cx_fail(e, EDEADLK, "%s: mapping from a signal handler "
			     "that interrupted the emulator", L->name);
		goto fail;
	}
	int k;
	for (k = 0; k < cx_coh.nmaps && cx_coh.maps[k]; k++)
		;
	if (k == COH_MAX_MAPS) {
		cx_coh_unlock();
		raw_munmap(view, len);
		rc = cx_fail(e, EMFILE, "%s: this process holds %d "
			     "non-coherent mappings, the most it may",
			     L->name, COH_MAX_MAPS);
		goto fail;
	}
	cx_coh.maps[k] = m;
	if (k == cx_coh.nmaps)
		cx_coh.nmaps++;
	cx_coh_unlock();
	cx_coh_started();
	*out = view;
	return 0;
fail:
	map_free(m);
	return rc;
}

/* Report the dirty lines of pages [i0, i1) of m and discard them. */
static uint64_t report_dirty(struct coh_map *m, size_t i0, size_t i1,
			     const char *when)
{
	size_t pg = cx_coh_page();
	uint64_t n = 0;
	for (size_t i = i0; i < i1; i++) {
		struct coh_page *p = &m->pg[i];
		if (!(p->flags & PG_DIRTY) || (p->flags & (PG_GONE | PG_WINDOW)))
			continue;
		for (int l = 0; l < COH_LINES; l++) {
			size_t o = i * pg + (size_t)l * CX_COH_LINE;
			if (!(p->valid >> l & 1) ||
			    !memcmp(m->alias + o, m->twin + o, CX_COH_LINE))
				continue;
			cx_coh_report(COH_UNFLUSHED, m, i * COH_LINES +
				      (size_t)l, 0, "stored to but never "
				      "written back (flushed) before %s; "
				      "discarded: no other host will see it",
				      when);
			memcpy(m->alias + o, m->twin + o, CX_COH_LINE);
			n++;
		}
	}
	return n;
}

int cx_coh_release(void *addr, uint64_t len)
{
	size_t pg = cx_coh_page();
	uintptr_t a = (uintptr_t)addr & ~(uintptr_t)(pg - 1);
	uintptr_t b = ((uintptr_t)addr + len + pg - 1) & ~(uintptr_t)(pg - 1);
	int found = 0;
	if (!cx_coh_lock())
		return 0;
	for (int k = 0; k < cx_coh.nmaps; k++) {
		struct coh_map *m = cx_coh.maps[k];
		if (!m || b <= m->base || a >= m->base + m->len)
			continue;
		found = 1;
		size_t i0 = a > m->base ? (a - m->base) / pg : 0;
		size_t i1 = b < m->base + m->len ? (b - m->base) / pg
						  : m->npages;
		/* make sure no thread stores while we look */
		for (size_t i = i0; i < i1; i++)
			if (!(m->pg[i].flags & (PG_GONE | PG_WINDOW)) &&
			    (m->pg[i].prot & PROT_WRITE))
				cx_coh_set_prot(m, i, PROT_READ);
		report_dirty(m, i0, i1, "unmap");
		for (size_t i = i0; i < i1; i++) {
			struct coh_page *p = &m->pg[i];
			if (p->flags & PG_GONE)
				continue;
			if (p->valid && !(p->flags & PG_WINDOW))
				cx_coh.resident--;
			p->flags = PG_GONE;
			p->valid = 0;
			m->live--;
		}
		if (!m->live) {
			cx_coh.maps[k] = NULL;
			map_free(m);
		}
	}
	cx_coh_unlock();
	return found;
}

int cxlemu_dax_unmap(void *addr, uint64_t len, struct cxlemu_err *err)
{
	cx_coh_release(addr, len);
	if (raw_munmap(addr, len) < 0) {
		int rc = -errno;
		if (err)
			snprintf(err->msg, sizeof(err->msg), "munmap of %llu "
				 "bytes at %p: %s", (unsigned long long)len,
				 addr, strerror(errno));
		return rc;
	}
	return 0;
}

int cx_coh_protect(void *addr, uint64_t len, int prot, cx_err *e)
{
	size_t pg = cx_coh_page();
	uintptr_t a = (uintptr_t)addr, b = a + len;
	if (a % pg)
		return cx_fail(e, EINVAL, "mprotect of %p: not page aligned",
			       addr);
	if (!cx_coh_lock())
		return cx_fail(e, EDEADLK, "mprotect from a signal handler "
			       "that interrupted the emulator");
	for (uintptr_t x = a; x < b; x += pg) {
		struct coh_map *m = cx_coh_map_at(x);
		if (!m) {
			if (cx_coh_mprotect((void *)x, pg, prot) < 0) {
				int rc = -errno;
				cx_coh_unlock();
				return cx_fail(e, -rc, "mprotect: %s",
					       strerror(-rc));
			}
			continue;
		}
		size_t i = (x - m->base) / pg;
		struct coh_page *p = &m->pg[i];
		p->user = (uint8_t)(prot & (PROT_READ | PROT_WRITE));
		if (p->flags & PG_WINDOW) {
			cx_coh_mprotect((void *)x, pg, prot);
			p->prot = (uint8_t)prot;
		} else if (!p->user) {
			cx_coh_set_prot(m, i, PROT_NONE);
		} else if (!(p->user & PROT_WRITE) && (p->prot & PROT_WRITE)) {
			cx_coh_set_prot(m, i, PROT_READ);
		}
	}
	cx_coh_unlock();
	return 0;
}

/* ---- cache operations ---- */

/* Apply fn to every page of views within [a, a+n), with the line mask of
 * the range in that page. */
static void each_page(uintptr_t a, uint64_t n,
		      void (*fn)(struct coh_map *, size_t, uint64_t, uintptr_t),
		      uintptr_t pc)
{
	size_t pg = cx_coh_page();
	if (!n)
		return;
	uintptr_t end = a + n;
	if (end < a)
		end = UINTPTR_MAX;
	for (int k = 0; k < cx_coh.nmaps; k++) {
		struct coh_map *m = cx_coh.maps[k];
		if (!m || end <= m->base || a >= m->base + m->len)
			continue;
		uintptr_t x = a > m->base ? a : m->base;
		uintptr_t y = end < m->base + m->len ? end : m->base + m->len;
		while (x < y) {
			size_t i = (x - m->base) / pg;
			uintptr_t pend = m->base + (i + 1) * pg;
			uintptr_t to = y < pend ? y : pend;
			int l0 = (int)((x - m->base - i * pg) / CX_COH_LINE);
			int l1 = (int)((to - 1 - m->base - i * pg) / CX_COH_LINE);
			uint64_t mask = (l1 == 63 ? ~0ULL : ((1ULL << (l1 + 1)) - 1)) &
					~((1ULL << l0) - 1);
			if (!(m->pg[i].flags & (PG_GONE | PG_WINDOW)))
				fn(m, i, mask, pc);
			x = to;
		}
	}
}

static void flush_page(struct coh_map *m, size_t i, uint64_t mask,
		       uintptr_t pc)
{
	cx_coh_writeback(m, i, mask, pc);
}

static void invalidate_page(struct coh_map *m, size_t i, uint64_t mask,
			    uintptr_t pc)
{
	cx_coh_writeback(m, i, mask, pc);
	refetch(m, i, mask);
}

/* A cache operation on [a, a+n): fn on each page, then the checker's
 * sampling. */
static void cache_op(uintptr_t a, uint64_t n,
		     void (*fn)(struct coh_map *, size_t, uint64_t, uintptr_t),
		     uintptr_t pc)
{
	if (!cx_coh_lock())
		return;
	each_page(a, n, fn, pc);
	cx_coh_arm();
	cx_coh_unlock();
}

void cx_coh_flush(uintptr_t a, uint64_t n, uintptr_t pc)
{
	cache_op(a, n, flush_page, pc);
}

void cx_coh_invalidate(uintptr_t a, uint64_t n, uintptr_t pc)
{
	cache_op(a, n, invalidate_page, pc);
}

void cx_coh_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!cx_coh.cfg.check || !cx_coh.nmaps || !cx_coh_lock())
		return;
	cx_coh_arm();
	cx_coh_unlock();
}

/*
 * The checker's sampling: re-protect the pages opened since the last
 * time, so that the next access to each faults and the exact line it
 * reads is compared with the shared state (a stale read).  Lock held.
 */
void cx_coh_arm(void)
{
	if (!cx_coh.cfg.check)
		return;
	for (int k = 0; k < cx_coh.nmaps; k++) {
		struct coh_map *m = cx_coh.maps[k];
		if (!m)
			continue;
		size_t n = m->opened_all ? m->npages : (size_t)m->nopened;
		for (size_t x = 0; x < n; x++) {
			size_t i = m->opened_all ? x : m->opened[x];
			struct coh_page *p = &m->pg[i];
			if (p->prot == PROT_NONE ||
			    (p->flags & (PG_GONE | PG_WINDOW)))
				continue;
			/* one mprotect for a run of opened pages */
			size_t j = i + 1;
			while (m->opened_all && j < m->npages &&
			       m->pg[j].prot != PROT_NONE &&
			       !(m->pg[j].flags & (PG_GONE | PG_WINDOW)))
				j++;
			cx_coh_mprotect((void *)(m->base + i * cx_coh_page()),
					(j - i) * cx_coh_page(), PROT_NONE);
			for (size_t y = i; y < j; y++) {
				m->pg[y].prot = PROT_NONE;
				m->pg[y].flags |= PG_ARMED;
			}
			if (m->opened_all)
				x = j - 1;
		}
		m->nopened = 0;
		m->opened_all = false;
	}
	cx_coh.epoch++;
}

/* ---- the public calls ---- */

void cxlemu_flush(const void *p, size_t n)
{
	if (cx_coh.nmaps)
		cx_coh_flush((uintptr_t)p, n, 0);
}

void cxlemu_invalidate(const void *p, size_t n)
{
	if (cx_coh.nmaps)
		cx_coh_invalidate((uintptr_t)p, n, 0);
}

void cxlemu_fence(void)
{
	cx_coh_fence();
}

int cxlemu_touch(const void *p, size_t n, int write)
{
	size_t pg = cx_coh_page();
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(pg - 1);
	uintptr_t b = (uintptr_t)p + n;
	int rc = 0;
	if (!cx_coh_lock())
		return -EDEADLK;
	for (uintptr_t x = a; x < b && x >= a; x += pg) {
		struct coh_map *m = cx_coh_map_at(x);
		if (!m)
			continue;
		struct coh_page *pp = &m->pg[(x - m->base) / pg];
		if (pp->flags & PG_WINDOW)
			continue;
		bool ok = pp->prot & (write ? PROT_WRITE : PROT_READ);
		if (!ok && !cx_coh_access(m, x, write, 0))
			rc = -EFAULT;
	}
	cx_coh_unlock();
	return rc;
}

void cxlemu_coh_config_default(struct cxlemu_coh_config *c)
{
	memset(c, 0, sizeof(*c));
	c->check = 1;
	c->capacity = 64ULL << 20;
	c->log_fd = -1;
}

int cxlemu_coh_configure(const struct cxlemu_coh_config *c,
			 struct cxlemu_err *err)
{
	size_t pg = cx_coh_page();
	if (c->window_off % pg || c->window_len % pg || c->evict_rate < 0) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "the coherent "
				 "window (offset %#llx, length %#llx) must be "
				 "page aligned, and the eviction rate not "
				 "negative", (unsigned long long)c->window_off,
				 (unsigned long long)c->window_len);
		return -EINVAL;
	}
	if (!cx_coh_lock()) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "configuring from "
				 "a signal handler that interrupted the "
				 "emulator");
		return -EDEADLK;
	}
	cx_coh.cfg = *c;
	if (!cx_coh.cfg.capacity)
		cx_coh.cfg.capacity = 64ULL << 20;
	cx_coh_unlock();
	cx_coh_started();
	return 0;
}

void cxlemu_coh_stats(struct cxlemu_coh_stats *s)
{
	bool locked = cx_coh_lock();
	*s = cx_coh.st;            /* a snapshot, exact when locked */
	if (locked)
		cx_coh_unlock();
}

uint64_t cxlemu_coh_finish(void)
{
	uint64_t n = 0;
	if (!cx_coh_lock())
		return 0;
	for (int k = 0; k < cx_coh.nmaps; k++) {
		struct coh_map *m = cx_coh.maps[k];
		if (!m)
			continue;
		for (size_t i = 0; i < m->npages; i++)
			if (!(m->pg[i].flags & (PG_GONE | PG_WINDOW)) &&
			    (m->pg[i].prot & PROT_WRITE))
				cx_coh_set_prot(m, i, PROT_READ);
		n += report_dirty(m, 0, m->npages, "exit");
	}
	cx_coh_unlock();
	return n;
}
