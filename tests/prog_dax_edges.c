/*
 * prog_dax_edges.c - a plain device-DAX program doing what real programs
 * sometimes do, for tests/cli_preload.sh to run under the preload library:
 * MAP_PRIVATE, a dup()ed descriptor, fork, partial munmap, mremap, odd
 * lengths and offsets.  It prints one line per case; $HOLD_CHECK is a command
 * (cxlemu destroy-region ...) whose exit status shows whether the device
 * is still held.  Not linked with cxlemu: it is what users run.
 *
 * usage: prog_dax_edges CASE    (device: $DAXDEV, default /dev/dax0.0)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define L (2UL << 20)

static int hold_check(void)
{
	const char *cmd = getenv("HOLD_CHECK");
	int st = cmd ? system(cmd) : -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	const char *dev = getenv("DAXDEV") ? getenv("DAXDEV") : "/dev/dax0.0";
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
		printf("fork: child=%d parent-held=%s seen=%s\n", WEXITSTATUS(st),
		       hold_check() ? "yes" : "no", p + 64);
	} else if (!strcmp(c, "partial")) {
		char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		munmap(p + 4096, 4096);                 /* a hole */
		munmap(p, 4096);                        /* the head */
		printf("partial: held=%s\n", hold_check() ? "yes" : "no");
		munmap(p + 8192, L - 8192);             /* the rest */
		printf("partial: after all unmapped held=%s\n",
		       hold_check() ? "yes" : "no");
	} else if (!strcmp(c, "mremap")) {
		char *p = mmap(NULL, L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		char *spot = mmap(NULL, L / 2, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || spot == MAP_FAILED)
			return 1;
		close(fd);
		strcpy(p + 4096, "moved along");
		char *g = mremap(p, L, 2 * L, MREMAP_MAYMOVE);
		printf("mremap grow: errno=%d\n", g == MAP_FAILED ? errno : 0);
		char *q = mremap(p, L, L / 2, MREMAP_MAYMOVE | MREMAP_FIXED,
				 spot);
		if (q == MAP_FAILED) {
			printf("mremap move: errno=%d\n", errno);
			return 1;
		}
		printf("mremap move: %s held=%s\n", q + 4096,
		       hold_check() ? "yes" : "no");
		munmap(q, L / 2);
		printf("mremap: after the moved range unmapped held=%s\n",
		       hold_check() ? "yes" : "no");
	} else if (!strcmp(c, "bounds")) {
		void *p;
		p = mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0);
		printf("len0: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, (size_t)-1, PROT_READ, MAP_SHARED, fd, 0);
		printf("lenmax: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, -4096);
		printf("negative: errno=%d\n", p == MAP_FAILED ? errno : 0);
		p = mmap(NULL, L, PROT_READ, MAP_SHARED, fd, (off_t)1 << 40);
		printf("past end: errno=%d\n", p == MAP_FAILED ? errno : 0);
	}
	return 0;
}
