/*
 * test_coherency.c - the non-coherent cache engine on a synthetic device
 * (memfd media and line states): two mappings of the same media in one
 * process are two hosts' caches, each with its own writer id.  Stores
 * must stay in the cache until flushed, cached lines must stay stale
 * until invalidated, write-back must be line-granular, and the checker
 * must report stale reads, lost updates, locked RMWs and stores never
 * written back, with the line, the host and the offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/coherency.h"
#include "client/coherency_int.h"
#include "cxlemu/coherency.h"

#define DEV (1u << 20)          /* device bytes */
#define PG 4096

static struct cx_dax_layout L;
static struct cx_coh_src src;
static uint8_t *media;          /* the device's bytes, as a third party */
static int log_fd;

static void setup_device(void)
{
	memset(&L, 0, sizeof(L));
	strcpy(L.name, "dax0.0");
	L.ilv.ways = 1;
	L.ilv.gran = 4096;
	L.size = DEV;
	L.align = 2u << 20;
	L.nfds = 1;
	L.fds[0] = memfd_create("media", MFD_CLOEXEC);
	assert_int_equal(ftruncate(L.fds[0], DEV), 0);
	L.fd_len[0] = DEV;
	L.first[0] = 0;
	L.first[1] = 1;
	L.ext[0] = (struct cx_dax_extent){ 0, 0, DEV };
	memset(&src, 0, sizeof(src));
	src.L = &L;
	for (int i = 0; i < CX_DAX_MAX_FDS; i++)
		src.state_fd[i] = -1;
	src.state_fd[0] = memfd_create("state", MFD_CLOEXEC);
	src.state_len[0] = DEV / 64 * 8;
	assert_int_equal(ftruncate(src.state_fd[0], (off_t)src.state_len[0]), 0);
	src.registry_fd = memfd_create("registry", MFD_CLOEXEC);
	assert_int_equal(ftruncate(src.registry_fd, CX_COH_REG_SIZE), 0);
	char *reg = mmap(NULL, CX_COH_REG_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, src.registry_fd, 0);
	strcpy(reg + 1 * CX_COH_REG_SLOT, "hostA pid 1");
	strcpy(reg + 2 * CX_COH_REG_SLOT, "hostB pid 2");
	munmap(reg, CX_COH_REG_SIZE);
	media = mmap(NULL, DEV, PROT_READ | PROT_WRITE, MAP_SHARED, L.fds[0], 0);
	assert_true(media != MAP_FAILED);
}

static int setup(void **state)
{
	setup_device();
	log_fd = memfd_create("log", MFD_CLOEXEC);
	struct cxlemu_coh_config c;
	cxlemu_coh_config_default(&c);
	c.log_fd = log_fd;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	munmap(media, DEV);
	close(L.fds[0]);
	close(src.state_fd[0]);
	close(src.registry_fd);
	close(log_fd);
	return 0;
}

/* host `w` (1 or 2) maps [off, off+len) */
static uint8_t *host_map(unsigned w, uint64_t off, uint64_t len)
{
	void *p;
	cx_err e;
	src.writer = w;
	int rc = cx_coh_map(&src, off, len, PROT_READ | PROT_WRITE, NULL, 0,
			    &p, &e);
	if (rc)
		fail_msg("%s", e.msg);
	return p;
}

static void unmap(void *p, uint64_t len)
{
	assert_int_equal(cxlemu_dax_unmap(p, len, NULL), 0);
}

static struct cxlemu_coh_stats stats(void)
{
	struct cxlemu_coh_stats s;
	cxlemu_coh_stats(&s);
	return s;
}

static char *log_text(void)
{
	static char buf[1 << 16];
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void test_flush_and_invalidate_visibility(void **state)
{
	memset(media, 0, 4 * PG);
	strcpy((char *)media, "initial");
	uint8_t *a = host_map(1, 0, 4 * PG), *b = host_map(2, 0, 4 * PG);

	assert_string_equal((char *)b, "initial");      /* b caches page 0 */
	strcpy((char *)a + PG, "A page1");
	strcpy((char *)a, "A page0");
	/* not flushed: neither the media nor b sees it */
	assert_string_equal((char *)media, "initial");
	assert_string_equal((char *)b + PG, "");         /* a fresh fill */
	cxlemu_flush(a, 2 * PG);
	cxlemu_fence();
	assert_string_equal((char *)media, "A page0");
	assert_string_equal((char *)media + PG, "A page1");
	/* b still holds its cached copies until it invalidates */
	assert_string_equal((char *)b, "initial");
	assert_string_equal((char *)b + PG, "");
	/* b's own dirty line in page 1 survives an invalidate of line 0 */
	strcpy((char *)b + PG + 64 * 32, "B own dirty line");
	cxlemu_invalidate(b + PG, 64);
	cxlemu_invalidate(b, 64);
	assert_string_equal((char *)b, "A page0");
	assert_string_equal((char *)b + PG, "A page1");
	assert_string_equal((char *)b + PG + 64 * 32, "B own dirty line");
	assert_string_equal((char *)media + PG + 64 * 32, "");
	cxlemu_flush(b + PG, PG);
	assert_string_equal((char *)media + PG + 64 * 32, "B own dirty line");
	unmap(a, 4 * PG);
	unmap(b, 4 * PG);
}

static void test_false_sharing_clobbers_whole_line(void **state)
{
	memset(media, 0, PG);
	uint8_t *a = host_map(1, 0, PG), *b = host_map(2, 0, PG);
	uint64_t lost0 = stats().lost_updates;
	a[0] = 'a';             /* both cache the line, then each stores */
	b[8] = 'b';
	cxlemu_flush(a, 64);
	cxlemu_flush(b, 64);    /* b's whole line wins: a's byte is gone */
	assert_int_equal(media[0], 0);
	assert_int_equal(media[8], 'b');
	assert_int_equal(stats().lost_updates, lost0 + 1);
	assert_non_null(strstr(log_text(), "lost update: dax0.0+0 (line 0) "
			       "on hostB pid 2"));
	assert_non_null(strstr(log_text(), "hostA pid 1 wrote it back"));
	unmap(a, PG);
	unmap(b, PG);
}

static void test_stale_read_reported_unless_invalidated(void **state)
{
	memset(media, 0, 2 * PG);
	uint8_t *a = host_map(1, 0, 2 * PG), *b = host_map(2, 0, 2 * PG);
	volatile uint8_t *vb = b;
	uint64_t s0 = stats().stale_reads;
	(void)vb[PG + 128];     /* b caches line 66 */
	a[PG + 128] = 7;
	cxlemu_flush(a + PG + 128, 1);
	cxlemu_fence();         /* arms b's pages */
	assert_int_equal(vb[PG + 128], 0);       /* stale, and reported */
	assert_int_equal(stats().stale_reads, s0 + 1);
	assert_non_null(strstr(log_text(), "stale read: dax0.0+0x1080 "
			       "(line 66) on hostB pid 2"));
	/* the correct way: invalidate, then read: no report */
	a[PG + 128] = 8;
	cxlemu_flush(a + PG + 128, 1);
	cxlemu_invalidate(b + PG + 128, 1);
	assert_int_equal(vb[PG + 128], 8);
	assert_int_equal(stats().stale_reads, s0 + 1);
	unmap(a, 2 * PG);
	unmap(b, 2 * PG);
}

static void test_locked_rmw_reported(void **state)
{
	uint8_t *a = host_map(1, 0, PG);
	uint64_t n0 = stats().locked_rmw;
	__atomic_fetch_add((uint64_t *)(a + 64), 1, __ATOMIC_SEQ_CST);
	assert_int_equal(stats().locked_rmw, n0 + 1);
	assert_non_null(strstr(log_text(), "locked RMW on non-coherent "
			       "memory: dax0.0+0x40 (line 1) on hostA"));
	cxlemu_flush(a, PG);
	unmap(a, PG);
}

static void test_unflushed_store_reported_and_discarded(void **state)
{
	memset(media, 0, PG);
	uint8_t *a = host_map(1, 0, PG);
	uint64_t n0 = stats().unflushed_lines;
	strcpy((char *)a + 640, "never flushed");
	unmap(a, PG);
	assert_int_equal(stats().unflushed_lines, n0 + 1);
	assert_int_equal(media[640], 0);
	assert_non_null(strstr(log_text(), "store never written back: "
			       "dax0.0+0x280 (line 10)"));
}

static void test_capacity_bounds_cache_and_writes_back(void **state)
{
	struct cxlemu_coh_config c;
	cxlemu_coh_config_default(&c);
	c.log_fd = log_fd;
	c.capacity = 16 * PG;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
	memset(media, 0, 64 * PG);
	uint64_t ev0 = stats().capacity_evictions;
	uint8_t *a = host_map(1, 0, 64 * PG);
	for (int i = 0; i < 64; i++)
		a[i * PG] = (uint8_t)(i + 1);
	/* pages pushed out were written back, as a cache evicts */
	assert_true(stats().capacity_evictions >= ev0 + 48);
	for (int i = 0; i < 48; i++)
		assert_int_equal(media[i * PG], i + 1);
	for (int i = 0; i < 64; i++)    /* and the cache still reads right */
		assert_int_equal(a[i * PG], i + 1);
	cxlemu_flush(a, 64 * PG);
	unmap(a, 64 * PG);
	c.capacity = 0;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
}

static void test_coherent_window_reaches_media(void **state)
{
	struct cxlemu_coh_config c;
	cxlemu_coh_config_default(&c);
	c.log_fd = log_fd;
	c.window_off = PG;
	c.window_len = PG;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
	memset(media, 0, 2 * PG);
	uint8_t *a = host_map(1, 0, 2 * PG), *b = host_map(2, 0, 2 * PG);
	uint64_t n0 = stats().locked_rmw;
	__atomic_fetch_add((uint64_t *)(a + PG), 5, __ATOMIC_SEQ_CST);
	assert_int_equal(*(volatile uint64_t *)(b + PG), 5);   /* no flush */
	assert_int_equal(stats().locked_rmw, n0);              /* no report */
	a[0] = 1;                       /* outside the window: cached */
	assert_int_equal(media[0], 0);
	cxlemu_flush(a, PG);
	unmap(a, 2 * PG);
	unmap(b, 2 * PG);
	c.window_len = 0;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
}

static sigjmp_buf jb;
static volatile int chained_hits;
static void own_handler(int sig)
{
	chained_hits++;
	siglongjmp(jb, 1);
}

static void test_program_faults_chain_to_its_handler(void **state)
{
	uint8_t *a = host_map(1, 0, PG);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = own_handler;
	cxlemu_coh_chain(&sa, &old);
	cx_err e;
	assert_int_equal(cx_coh_protect(a, PG, PROT_READ, &e), 0);
	assert_int_equal(a[1], 0);                      /* reads work */
	chained_hits = 0;
	if (!sigsetjmp(jb, 1))
		((volatile uint8_t *)a)[1] = 1;         /* the program's fault */
	assert_int_equal(chained_hits, 1);
	cxlemu_coh_chain(&old, NULL);
	unmap(a, PG);
}

/* A signal handler that runs while its thread holds the engine's lock
 * (here: the test holds it, as an interrupted flush would) is refused
 * instead of deadlocking: its access faults as the program's own, its
 * cache operation is not done, and the log says why. */
static void test_reentry_refused_not_deadlocked(void **state)
{
	memset(media, 0, 2 * PG);
	uint8_t *a = host_map(1, 0, PG);
	a[0] = 1;                       /* opened read-write, dirty */
	uint8_t *b = host_map(2, 0, 2 * PG);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = own_handler;
	cxlemu_coh_chain(&sa, &old);
	chained_hits = 0;
	assert_true(cx_coh_lock());
	cxlemu_flush(a, PG);            /* refused: not written back */
	if (!sigsetjmp(jb, 1))
		(void)((volatile uint8_t *)b)[PG];  /* refused: the program's */
	cx_coh_unlock();
	assert_int_equal(chained_hits, 1);
	assert_int_equal(media[0], 0);
	assert_non_null(strstr(log_text(), "while its thread was inside the "
			       "emulator: refused"));
	cxlemu_coh_chain(&old, NULL);
	cxlemu_flush(a, PG);            /* and all is well after */
	assert_int_equal(media[0], 1);
	assert_int_equal(b[PG], 0);
	unmap(a, PG);
	unmap(b, 2 * PG);
}

static void test_evictor_publishes_early(void **state)
{
	struct cxlemu_coh_config c;
	cxlemu_coh_config_default(&c);
	c.log_fd = log_fd;
	c.evict_rate = 20000;
	c.seed = 42;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
	memset(media, 0, PG);
	uint8_t *a = host_map(1, 0, PG);
	memset(a, 0x5a, PG);            /* every line dirty, none flushed */
	/* sooner or later the evictor writes a line back */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int seen = 0;
	do {
		for (int i = 0; i < PG && !seen; i++)
			seen = ((volatile uint8_t *)media)[i] == 0x5a;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!seen && t.tv_sec - t0.tv_sec < 30);
	assert_true(seen);
	assert_true(stats().evictions > 0);
	c.evict_rate = 0;
	assert_int_equal(cxlemu_coh_configure(&c, NULL), 0);
	cxlemu_flush(a, PG);
	unmap(a, PG);
}

static void test_fork_child_has_its_own_cache(void **state)
{
	memset(media, 0, PG);
	uint8_t *a = host_map(1, 0, PG);
	strcpy((char *)a, "parent dirty");
	pid_t pid = fork();
	if (pid == 0) {
		/* the child sees the parent's cache as it was, and its own
		 * stores do not reach the parent's */
		int ok = !strcmp((char *)a, "parent dirty");
		strcpy((char *)a + 64, "child");
		cxlemu_flush(a + 64, 64);
		_exit(ok ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal((char *)media + 64, "child");
	assert_string_equal((char *)a + 64, "");        /* not invalidated */
	cxlemu_invalidate(a + 64, 64);
	assert_string_equal((char *)a + 64, "child");
	assert_string_equal((char *)a, "parent dirty");
	cxlemu_flush(a, PG);
	unmap(a, PG);
}

struct racer { uint64_t *word; int n; };
static void *race(void *arg)
{
	struct racer *r = arg;
	for (int i = 0; i < r->n; i++)
		__atomic_store_n(r->word, (uint64_t)i + 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_threads_keep_their_stores_across_invalidate(void **state)
{
	memset(media, 0, PG);
	uint8_t *a = host_map(1, 0, PG);
	struct racer r = { (uint64_t *)(a + 8), 200000 };
	a[0] = 1;               /* open the page for stores */
	pthread_t t;
	pthread_create(&t, NULL, race, &r);
	for (int i = 0; i < 2000; i++)
		cxlemu_invalidate(a, 64);
	pthread_join(t, NULL);
	/* the thread's last store is never undone by a refetch */
	assert_int_equal(*(volatile uint64_t *)(a + 8), 200000);
	cxlemu_flush(a, PG);
	unmap(a, PG);
}

static void test_ops_outside_mappings_do_nothing(void **state)
{
	char buf[128] = "plain";
	uint64_t w0 = stats().writebacks;
	cxlemu_flush(buf, sizeof(buf));
	cxlemu_invalidate(buf, sizeof(buf));
	cxlemu_flush(NULL, 0);
	assert_string_equal(buf, "plain");
	assert_int_equal(stats().writebacks, w0);
	assert_int_equal(cxlemu_touch(buf, sizeof(buf), 1), 0);
}

static void test_touch_opens_pages_for_syscalls(void **state)
{
	memset(media, 'x', PG);
	uint8_t *a = host_map(1, 0, 2 * PG);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	/* unfilled page: the kernel cannot fault it in for us */
	assert_int_equal(read(p[0], a + PG, 5), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(cxlemu_touch(a + PG, 5, 1), 0);
	assert_int_equal(read(p[0], a + PG, 5), 5);
	assert_memory_equal(a + PG, "hello", 5);
	assert_int_equal(write(p[1], a, 3), -1);      /* not filled yet */
	assert_int_equal(errno, EFAULT);
	assert_int_equal(cxlemu_touch(a, 3, 0), 0);
	assert_int_equal(write(p[1], a, 3), 3);
	close(p[0]);
	close(p[1]);
	cxlemu_flush(a, 2 * PG);
	unmap(a, 2 * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_and_invalidate_visibility),
		cmocka_unit_test(test_false_sharing_clobbers_whole_line),
		cmocka_unit_test(test_stale_read_reported_unless_invalidated),
		cmocka_unit_test(test_locked_rmw_reported),
		cmocka_unit_test(test_unflushed_store_reported_and_discarded),
		cmocka_unit_test(test_capacity_bounds_cache_and_writes_back),
		cmocka_unit_test(test_coherent_window_reaches_media),
		cmocka_unit_test(test_program_faults_chain_to_its_handler),
		cmocka_unit_test(test_reentry_refused_not_deadlocked),
		cmocka_unit_test(test_evictor_publishes_early),
		cmocka_unit_test(test_fork_child_has_its_own_cache),
		cmocka_unit_test(test_threads_keep_their_stores_across_invalidate),
		cmocka_unit_test(test_ops_outside_mappings_do_nothing),
		cmocka_unit_test(test_touch_opens_pages_for_syscalls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
