/*
 * coherency_life.c - what runs beside the program in the cache engine:
 *
 *   the random evictor  a thread that, at random times (exponential gaps,
 *                       cfg.evict_rate per second on average), picks a
 *                       random cached line, writes it back if dirty and
 *                       drops it, as a real cache may at any moment.  It
 *                       makes a store visible before the program flushed
 *                       it ("published too early" bugs show) and
 *                       refreshes stale lines by chance.  The page is
 *                       protected before the line is looked at, so no
 *                       thread's store is lost.
 *   fork                a child gets its own cache: a copy of the
 *                       parent's (the same process state, as after a
 *                       fork on hardware the child's CPU shares nothing
 *                       it did not write back), so that the two never
 *                       share the cache memfd the parent's twin
 *                       describes.  The child's write-backs carry the
 *                       parent's writer id.
 */
#include "client/coherency_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static bool evictor_running;
static bool atfork_done;
static uint64_t rng;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One eviction; lock held. */
static void evict_one(void)
{
	if (!cx_coh.resident)
		return;
	for (int tries = 0; tries < 64; tries++) {
		struct coh_map *m = cx_coh.maps[next_rand() % (uint64_t)cx_coh.nmaps];
		if (!m)
			continue;
		size_t i = next_rand() % m->npages;
		uint64_t v = m->pg[i].valid;
		if (!v || (m->pg[i].flags & (PG_GONE | PG_WINDOW)))
			continue;
		int l;
		do
			l = (int)(next_rand() % COH_LINES);
		while (!(v >> l & 1));
		cx_coh_drop(m, i, 1ULL << l);
		cx_coh.st.evictions++;
		return;
	}
}

static void *evictor(void *arg)
{
	for (;;) {
		double rate = 0;
		if (cx_coh_lock()) {    /* never re-entered: its own thread */
			rate = cx_coh.cfg.evict_rate;
			cx_coh_unlock();
		}
		if (rate <= 0)
			break;
		/* exponential gap: -ln(u) / rate, with ln from a cheap series
		 * of halvings to avoid libm */
		double u = (double)(next_rand() % 1000000 + 1) / 1e6, ln = 0;
		while (u < 0.5) {
			u *= 2;
			ln -= 0.6931471805599453;
		}
		ln += (u - 1) - (u - 1) * (u - 1) / 2;
		double gap = -ln / rate;
		struct timespec ts = { (time_t)gap,
				       (long)((gap - (double)(time_t)gap) * 1e9) };
		nanosleep(&ts, NULL);
		if (cx_coh_lock()) {
			if (cx_coh.nmaps)
				evict_one();
			cx_coh_unlock();
		}
	}
	__atomic_store_n(&evictor_running, false, __ATOMIC_RELAXED);
	return NULL;
}

static void start_evictor(void)
{
	if (cx_coh.cfg.evict_rate <= 0 || evictor_running)
		return;
	rng = cx_coh.cfg.seed ? cx_coh.cfg.seed : 0x9e3779b97f4a7c15ULL;
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* the evictor must not take the program's signals */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &a, evictor, NULL) == 0)
		evictor_running = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
}

/* Re-map the view of m onto a private copy of its cache; false if that
 * failed (the view is then made inaccessible and forgotten). */
static bool own_cache(struct coh_map *m)
{
	size_t pg = cx_coh_page();
	int fd = memfd_create("cxlemu-cache", MFD_CLOEXEC);
	void *alias = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, (off_t)m->len) == 0)
		alias = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, 0);
	if (alias == MAP_FAILED) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	memcpy(alias, m->alias, m->len);
	for (size_t i = 0; i < m->npages;) {
		size_t j = i;
		struct coh_page *p = &m->pg[i];
		while (j < m->npages && m->pg[j].prot == p->prot &&
		       !((m->pg[j].flags ^ p->flags) & (PG_GONE | PG_WINDOW)))
			j++;
		if (!(p->flags & (PG_GONE | PG_WINDOW)) &&
		    mmap((void *)(m->base + i * pg), (j - i) * pg, p->prot,
			 MAP_SHARED | MAP_FIXED, fd, (off_t)(i * pg)) ==
		    MAP_FAILED) {
			munmap(alias, m->len);
			close(fd);
			return false;
		}
		i = j;
	}
	munmap(m->alias, m->len);
	close(m->cache_fd);
	m->alias = alias;
	m->cache_fd = fd;
	return true;
}

static void after_fork_child(void)
{
	cx_coh.lock = 0;
	cx_coh.owner = NULL;
	evictor_running = false;
	size_t pg = cx_coh_page();
	for (int k = 0; k < cx_coh.nmaps; k++) {
		struct coh_map *m = cx_coh.maps[k];
		if (!m || own_cache(m))
			continue;
		/* never share the parent's cache: fault instead */
		for (size_t i = 0; i < m->npages; i++)
			if (!(m->pg[i].flags & (PG_GONE | PG_WINDOW))) {
				cx_coh_mprotect((void *)(m->base + i * pg), pg,
						PROT_NONE);
				m->pg[i].flags = PG_GONE;
			}
	}
	start_evictor();
}

void cx_coh_started(void)
{
	if (!cx_coh_lock())
		return;
	if (!atfork_done) {
		pthread_atfork(NULL, NULL, after_fork_child);
		atfork_done = true;
	}
	start_evictor();
	cx_coh_unlock();
}
