/*
 * prog_dax_edges.c - a plain device-DAX program doing what real programs
 * sometimes do, for tests/cli_preload.sh to run under the preload library:
 * MAP_PRIVATE, a dup()ed descriptor, fork, partial munmap, mremap, odd
 * lengths and offsets, threads, and the calls Linux device-DAX refuses.  It prints one line per case; $HOLD_CHECK is a command
 * (cxlemu destroy-region ...) whose exit status shows whether the device
 * is still held.  Not linked with cxlemu: it is what users run.
 *
 * usage: prog_dax_edges CASE    (device: $DAXDEV, default /dev/dax0.0)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define L (2UL << 20)   /* the device's align */

/* Run fn in a child; "SIGBUS" if a signal killed it, else its status. */
static const char *in_child(void (*fn)(void *), void *arg)
{
	static char buf[32];
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "%s",
			 WTERMSIG(st) == SIGBUS ? "SIGBUS" : strsignal(WTERMSIG(st)));
	else
		snprintf(buf, sizeof(buf), "exit%d", WEXITSTATUS(st));
	return buf;
}

static void touch(void *p) { *(volatile char *)p = 1; }

/* An address aligned to L with 3 L of free space around it. */
static char *aligned_spot(void)
{
	char *r = mmap(NULL, 4 * L, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	return (char *)(((uintptr_t)r + L - 1) & ~(uintptr_t)(L - 1));
}

static const char *dev_path;

static void *opener(void *arg)
{
	long i = (long)arg;
	int fd = open(dev_path, O_RDWR);
	if (fd < 0)
		return (void *)1;
	char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return (void *)2;
	close(fd);
	p[4096 + i] = (char)('a' + i);
	munmap(p, L);
	return NULL;
}

static int hold_check(void)
{
	const char *cmd = getenv("HOLD_CHECK");
	int st = cmd ? system(cmd) : -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	const char *dev = getenv("DAXDEV") ? getenv("DAXDEV") : "/dev/dax0.0";
	dev_path = dev;
	const char *c = argc > 1 ? argv[1] : "";
	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		perror(dev);
		return 1;
	}
	if (!strcmp(c, "private")) {
		char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		printf("private: %s errno=%d\n", p == MAP_FAILED ? "refused" : "mapped",
		       p == MAP_FAILED ? errno : 0);
	} else if (!strcmp(c, "dup")) {
		int fd2 = dup(fd), fd3 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
		close(fd);
		char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
		char *q = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd3, 0);
		if (p == MAP_FAILED || q == MAP_FAILED) {
			printf("dup: refused errno=%d\n", errno);
			return 1;
		}
		strcpy(p, "through a dup");
		printf("dup: %s\n", q);
	} else if (!strcmp(c, "fork")) {
		char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return 1;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			/* the inherited mapping works as it is */
			strcpy(p + 128, "inherited");
			/* the child maps on its own connection, then lets go */
			char *q = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (q == MAP_FAILED)
				_exit(3);
			strcpy(q + 64, "child");
			munmap(q, L);
			close(fd);
			munmap(p, L);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		printf("fork: child=%d parent-held=%s seen=%s %s\n",
		       WEXITSTATUS(st), hold_check() ? "yes" : "no", p + 64,
		       p + 128);
	} else if (!strcmp(c, "partial")) {
		char *p = mmap(NULL, 4 * L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return 1;
		close(fd);
		int r = munmap(p + 4096, 4096);        /* splits off-align */
		printf("partial: unaligned errno=%d\n", r ? errno : 0);
		munmap(p + L, L);                       /* a hole */
		munmap(p, L);                           /* the head */
		printf("partial: held=%s\n", hold_check() ? "yes" : "no");
		munmap(p + 2 * L, 2 * L);               /* the rest */
		printf("partial: after all unmapped held=%s\n",
		       hold_check() ? "yes" : "no");
	} else if (!strcmp(c, "mremap")) {
		char *p = mmap(NULL, 2 * L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		char *spot = aligned_spot();
		if (p == MAP_FAILED || !spot)
			return 1;
		close(fd);
		strcpy(p + 4096, "moved along");
		char *g = mremap(p, 2 * L, 4 * L, MREMAP_MAYMOVE);
		printf("mremap grow: errno=%d\n", g == MAP_FAILED ? errno : 0);
		g = mremap(p, 2 * L, L + 4096, MREMAP_MAYMOVE);
		printf("mremap unaligned shrink: errno=%d\n",
		       g == MAP_FAILED ? errno : 0);
		g = mremap(p, 2 * L, L, MREMAP_MAYMOVE | MREMAP_FIXED, spot + 4096);
		printf("mremap unaligned destination: errno=%d\n",
		       g == MAP_FAILED ? errno : 0);
		char *q = mremap(p, 2 * L, L, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
		if (q == MAP_FAILED) {
			printf("mremap move: errno=%d\n", errno);
			return 1;
		}
		printf("mremap move: %s held=%s\n", q + 4096,
		       hold_check() ? "yes" : "no");
		munmap(q, L);
		printf("mremap: after the moved range unmapped held=%s\n",
		       hold_check() ? "yes" : "no");
	} else if (!strcmp(c, "bounds")) {
		void *p;
		p = mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0);
		printf("len0: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, (size_t)-1, PROT_READ, MAP_SHARED, fd, 0);
		printf("lenmax: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, L, PROT_READ, MAP_SHARED, fd, -(off_t)L);
		printf("negative: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		printf("unaligned length: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, L, PROT_READ, MAP_SHARED, fd, 4096);
		printf("unaligned offset: errno=%d\n", p == MAP_FAILED ? errno : 0);
		char *spot = aligned_spot();
		p = mmap(spot + 4096, L, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
		printf("unaligned fixed address: errno=%d\n",
		       p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, L, PROT_READ, MAP_SHARED, fd, 0);
		printf("address aligned: %s\n", p != MAP_FAILED &&
		       (uintptr_t)p % L == 0 ? "yes" : "no");
		/* Linux maps past the end; touching it is SIGBUS */
		char *e = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			       (off_t)1 << 40);
		printf("past end: %s, touch=%s\n",
		       e == MAP_FAILED ? "refused" : "mapped",
		       e == MAP_FAILED ? "-" : in_child(touch, e));
	} else if (!strcmp(c, "linux")) {
		/* what Linux device-DAX answers besides mmap */
		char b[16] = "x";
		struct stat st;
		int r = fstat(fd, &st);
		printf("fstat: %s %u:%u size=%lld\n",
		       r == 0 && S_ISCHR(st.st_mode) ? "chr" : "?",
		       major(st.st_rdev), minor(st.st_rdev),
		       (long long)st.st_size);
		printf("read: errno=%d\n", read(fd, b, 1) < 0 ? errno : 0);
		printf("write: errno=%d\n", write(fd, b, 1) < 0 ? errno : 0);
		printf("pread: errno=%d\n", pread(fd, b, 1, 0) < 0 ? errno : 0);
		printf("pwrite: errno=%d\n", pwrite(fd, b, 1, 0) < 0 ? errno : 0);
		printf("fsync: errno=%d\n", fsync(fd) < 0 ? errno : 0);
		printf("ftruncate: errno=%d\n", ftruncate(fd, L) < 0 ? errno : 0);
		printf("lseek: %lld\n", (long long)lseek(fd, 4096, SEEK_SET));
		printf("ioctl: errno=%d\n", ioctl(fd, FIONREAD, &r) < 0 ? errno : 0);
		errno = 0;
		r = isatty(fd);
		printf("isatty: %d errno=%d\n", r, errno);
		int ro = open(dev, O_RDONLY);
		printf("getfl: rdwr=%d rdonly=%d\n",
		       (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
		       (fcntl(ro, F_GETFL) & O_ACCMODE) == O_RDONLY);
		close(ro);
		char *p = mmap(NULL, 2 * L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return 1;
		strcpy(p, "kept");
		printf("msync: errno=%d\n", msync(p, L, MS_SYNC) < 0 ? errno : 0);
		printf("madvise remove: errno=%d\n",
		       madvise(p, L, MADV_REMOVE) < 0 ? errno : 0);
		printf("madvise dontneed: %d %s\n", madvise(p, L, MADV_DONTNEED),
		       p);
		printf("mprotect unaligned: errno=%d\n",
		       mprotect(p + 4096, 4096, PROT_READ) < 0 ? errno : 0);
		printf("mprotect aligned: %d\n", mprotect(p + L, L, PROT_READ));
		int d = dup(fd);
		close(fd);
		char *q = mmap(NULL, L, PROT_READ, MAP_SHARED, d, 0);
		close(d);
		printf("dup then close: %s\n", q == MAP_FAILED ? "refused" : q);
	} else if (!strcmp(c, "threads")) {
		pthread_t t[8];
		long bad = 0;
		for (long i = 0; i < 8; i++)
			pthread_create(&t[i], NULL, opener, (void *)i);
		for (int i = 0; i < 8; i++) {
			void *r;
			pthread_join(t[i], &r);
			bad += r != NULL;
		}
		char *p = mmap(NULL, L, PROT_READ, MAP_SHARED, fd, 0);
		printf("threads: failed=%ld seen=%.8s\n", bad,
		       p == MAP_FAILED ? "" : p + 4096);
	}
	return 0;
}
