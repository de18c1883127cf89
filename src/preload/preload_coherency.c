/*
 * preload_coherency.c - non-coherent device-DAX for unmodified programs
 * (the cache engine is client/coherency.c; cxlemu/coherency.h).
 *
 * A device is mapped non-coherently when the daemon's mode of it says so
 * (`cxlemu reconfigure-device daxZ.0 --coherency noncoherent`) or
 * CXLEMU_COHERENCY=noncoherent (coherent: never) asks for it.  Settings,
 * read once from the environment:
 *
 *   CXLEMU_COHERENCY_LOG       the report file (default:
 *                              ./cxlemu-coherency.PID.log, removed at exit
 *                              when it stayed empty)
 *   CXLEMU_COHERENCY_CHECK     0: no stale-read sampling (faster)
 *   CXLEMU_COHERENCY_CAPACITY  bytes cached at most (default 64M)
 *   CXLEMU_COHERENCY_EVICT     random evictions per second (default 0)
 *   CXLEMU_COHERENCY_SEED      the evictor's seed
 *   CXLEMU_COHERENT_WINDOW     OFFSET:LENGTH of each device mapped
 *                              coherently (lock words, atomics)
 *
 * What the program does to that memory is honoured here: its cache
 * instructions (preload_cacheops.c), munmap/mprotect/mremap (hooks in
 * preload_map.c), read(2)-style calls into it (which the kernel would
 * fail with EFAULT on a page the engine has not opened: the buffer is
 * touched first, hooks in preload_io.c and recv/send/fread/fwrite here),
 * and SIGSEGV/SIGTRAP handlers it installs (kept as the ones the engine
 * chains to).  At exit, stores never written back are reported and a
 * summary said.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client/coherency.h"
#include "client/coherency_int.h"

bool cx_pl_coh_any;                   /* a non-coherent mapping was made */
static bool configured;
static struct cxlemu_coh_config cfg;
static char log_path[512];
static bool log_default;

/* What the engine says the program should hear of, from a signal
 * handler perhaps: straight to stderr, no stdio. */
static void notice(const char *msg)
{
	static const char tag[] = "cxlemu-preload: ";
	(void)syscall(SYS_write, 2, tag, sizeof(tag) - 1);
	(void)syscall(SYS_write, 2, msg, strlen(msg));
	(void)syscall(SYS_write, 2, "\n", 1);
}

static void env_size(const char *name, uint64_t *out, bool size)
{
	const char *v = getenv(name);
	cx_err e;
	if (!v || !*v)
		return;
	int rc = size ? cx_parse_size(v, out, name, &e)
		      : cx_parse_u64(v, out, name, &e);
	if (rc)
		cx_pl_say("%s (ignored)", e.msg);
}

/* Read the settings and configure the engine (before its first
 * mapping: the coherent window is laid out then); lock held.  The log is
 * opened at the first mapping, so that a program that only opens or
 * stats the device leaves no file behind. */
static void configure(void)
{
	if (configured)
		return;
	configured = true;
	cx_coh_real_sigaction = CX_PL_NEXT(sigaction);
	cx_coh_notice = notice;
	struct cxlemu_coh_config c;
	struct cxlemu_err err;
	cxlemu_coh_config_default(&c);
	const char *v = getenv("CXLEMU_COHERENCY_CHECK");
	if (v && *v)
		c.check = strcmp(v, "0") != 0;
	env_size("CXLEMU_COHERENCY_CAPACITY", &c.capacity, true);
	uint64_t rate = 0;
	env_size("CXLEMU_COHERENCY_EVICT", &rate, false);
	c.evict_rate = (double)rate;
	env_size("CXLEMU_COHERENCY_SEED", &c.seed, false);
	if ((v = getenv("CXLEMU_COHERENT_WINDOW")) && *v) {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", v);
		char *colon = strchr(buf, ':');
		cx_err e;
		if (!colon)
			cx_pl_say("CXLEMU_COHERENT_WINDOW=%s: give OFFSET:LENGTH "
				  "(ignored)", v);
		else {
			*colon = 0;
			if (cx_parse_size(buf, &c.window_off, "window offset", &e) ||
			    cx_parse_size(colon + 1, &c.window_len,
					  "window length", &e)) {
				cx_pl_say("CXLEMU_COHERENT_WINDOW: %s (ignored)",
					  e.msg);
				c.window_off = c.window_len = 0;
			}
		}
	}
	v = getenv("CXLEMU_COHERENCY_LOG");
	log_default = !v || !*v;
	if (log_default)
		snprintf(log_path, sizeof(log_path), "cxlemu-coherency.%d.log",
			 (int)getpid());
	else
		snprintf(log_path, sizeof(log_path), "%s", v);
	if (cxlemu_coh_configure(&c, &err) < 0) {
		cx_pl_say("coherency settings: %s (defaults used)", err.msg);
		cxlemu_coh_config_default(&c);
		cxlemu_coh_configure(&c, NULL);
	}
	cfg = c;
}

static void open_log(void)
{
	cfg.log_fd = CX_PL_NEXT(open)(log_path, O_WRONLY | O_CREAT | O_APPEND |
				      O_CLOEXEC, 0644);
	if (cfg.log_fd < 0)
		cx_pl_say("coherency log %s: %s; reports are only counted",
			  log_path, strerror(errno));
	cxlemu_coh_configure(&cfg, NULL);
}

void cx_pl_coh_attach(struct cx_pl_dev *d)
{
	const char *v = getenv("CXLEMU_COHERENCY");
	if (v && *v) {
		int mode = !strcmp(v, "noncoherent") ? CXLEMU_NONCOHERENT
			   : !strcmp(v, "coherent") ? CXLEMU_COHERENT : -1;
		if (mode < 0)
			CX_PL_SAY_ONCE("CXLEMU_COHERENCY=%s: not coherent or "
				       "noncoherent (ignored)", v);
		else
			cxlemu_dax_set_coherency(d->dax, mode, NULL);
	}
	if (cxlemu_dax_coherency(d->dax) == CXLEMU_NONCOHERENT)
		configure();
}

void cx_pl_coh_mapped(struct cx_pl_dev *d, void *addr)
{
	if (cxlemu_dax_coherency(d->dax) != CXLEMU_NONCOHERENT)
		return;
	bool first = !cx_pl_coh_any;
	if (first)
		open_log();
	cx_pl_coh_any = true;
	int n = cx_pl_cacheops_patch();
	if (first)
		CX_PL_SAY_ONCE("%s is mapped non-coherently: stores reach the "
			       "device when flushed (clwb, clflushopt, "
			       "clflush: %d in this program and its libraries, "
			       "trapped), other hosts' only after invalidating "
			       "(clflushopt, clflush); reports go to %s",
			       d->name, n, log_path);
}

/* ---- signal handlers the program installs ---- */

/* SIGSEGV belongs to the engine once a non-coherent mapping exists, and
 * SIGTRAP to the cache-instruction traps: the program's handler becomes
 * the one they chain to, and it gets back what it installed before. */
static bool ours(int sig)
{
	return cx_pl_coh_any && (sig == SIGSEGV || sig == SIGTRAP);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!ours(sig))
		return CX_PL_NEXT(sigaction)(sig, act, old);
	if (sig == SIGSEGV)
		cxlemu_coh_chain(act, old);
	else
		cx_pl_cacheops_chain(act, old);
	return 0;
}

static sighandler_t set_handler(int sig, sighandler_t h, int flags)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	/* sa_handler and sa_sigaction share their storage */
	return old.sa_handler;
}

sighandler_t signal(int sig, sighandler_t h)
{
	if (!ours(sig))
		return CX_PL_NEXT(signal)(sig, h);
	return set_handler(sig, h, SA_RESTART);
}

sighandler_t bsd_signal(int sig, sighandler_t h) { return signal(sig, h); }

sighandler_t sysv_signal(int sig, sighandler_t h)
{
	if (!ours(sig))
		return CX_PL_NEXT(sysv_signal)(sig, h);
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER);
}

/* ---- system calls handed a pointer into non-coherent memory ---- */

/* Open [p, p+n) of views for a system call that writes into it (into)
 * or reads from it; true when some of it is a view. */
bool cx_pl_coh_touch(const void *p, size_t n, bool into)
{
	if (!cx_pl_coh_any || !p || !n)
		return false;
	uintptr_t a = (uintptr_t)p;
	if (!cx_coh_owns(a, a + n))
		return false;
	if (cxlemu_touch(p, n, into) < 0)
		CX_PL_SAY_ONCE("a system call was handed %zu bytes at %p, part "
			       "of a non-coherent mapping it may not %s: the "
			       "kernel fails it with EFAULT", n, p,
			       into ? "write" : "read");
	return true;
}

bool cx_pl_coh_touch_iov(const struct iovec *v, int n, bool into)
{
	bool any = false;
	for (int i = 0; cx_pl_coh_any && v && i < n; i++)
		any |= cx_pl_coh_touch(v[i].iov_base, v[i].iov_len, into);
	return any;
}

ssize_t recv(int fd, void *b, size_t n, int fl)
{
	CX_PL_COH_IO(ssize_t, CX_PL_NEXT(recv)(fd, b, n, fl),
		     cx_pl_coh_touch(b, n, true));
}

ssize_t recvfrom(int fd, void *b, size_t n, int fl, struct sockaddr *a,
		 socklen_t *al)
{
	CX_PL_COH_IO(ssize_t, CX_PL_NEXT(recvfrom)(fd, b, n, fl, a, al),
		     cx_pl_coh_touch(b, n, true));
}

ssize_t send(int fd, const void *b, size_t n, int fl)
{
	CX_PL_COH_IO(ssize_t, CX_PL_NEXT(send)(fd, b, n, fl),
		     cx_pl_coh_touch(b, n, false));
}

ssize_t sendto(int fd, const void *b, size_t n, int fl,
	       const struct sockaddr *a, socklen_t al)
{
	CX_PL_COH_IO(ssize_t, CX_PL_NEXT(sendto)(fd, b, n, fl, a, al),
		     cx_pl_coh_touch(b, n, false));
}

/* stdio reads and writes large buffers with its own read(2)/write(2),
 * which no wrapper sees: touch them here */
size_t fread(void *p, size_t sz, size_t n, FILE *f)
{
	if (sz && n <= SIZE_MAX / sz)
		cx_pl_coh_touch(p, sz * n, true);
	return CX_PL_NEXT(fread)(p, sz, n, f);
}

size_t fwrite(const void *p, size_t sz, size_t n, FILE *f)
{
	if (sz && n <= SIZE_MAX / sz)
		cx_pl_coh_touch(p, sz * n, false);
	return CX_PL_NEXT(fwrite)(p, sz, n, f);
}

/* ---- exit ---- */

__attribute__((destructor)) static void coherency_exit(void)
{
	if (!cx_pl_coh_any)
		return;
	cxlemu_coh_finish();
	struct cxlemu_coh_stats s;
	cxlemu_coh_stats(&s);
	uint64_t reports = s.stale_reads + s.lost_updates + s.locked_rmw +
			   s.unflushed_lines;
	if (!reports && log_default)
		unlink(log_path);
	cx_pl_say("coherency: %llu stale read(s), %llu lost update(s), %llu "
		  "locked RMW(s) on non-coherent memory, %llu line(s) never "
		  "written back%s%s; %llu fault(s), %llu write-back(s), %llu "
		  "refetch(es), %llu eviction(s)",
		  (unsigned long long)s.stale_reads,
		  (unsigned long long)s.lost_updates,
		  (unsigned long long)s.locked_rmw,
		  (unsigned long long)s.unflushed_lines,
		  reports ? "; see " : "", reports ? log_path : "",
		  (unsigned long long)s.faults,
		  (unsigned long long)s.writebacks,
		  (unsigned long long)s.refetches,
		  (unsigned long long)(s.evictions + s.capacity_evictions));
}
