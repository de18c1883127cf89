/*
 * prog_coherency.c - what an unmodified program does to non-coherent
 * device-DAX memory under the preload, one case per run, for
 * tests/cli_coherency.sh.  Written as for real device-DAX: plain system
 * calls, signal handlers and the CPU's cache instructions.
 *
 *   prog_coherency io       read(2), fread, recv into the mapping, write(2)
 *                           from it (the kernel would fail with EFAULT)
 *   prog_coherency segv     the program's own SIGSEGV handler, installed
 *                           after mapping, still gets its own faults
 *   prog_coherency count N  N locked increments of the word at offset 0
 *                           (the first, then a pause for the other host
 *                           to start, then the rest), then clwb: across
 *                           hosts they add up only in a coherent window
 *   prog_coherency fork     a child's flushed store, seen by the parent
 *                           after clflushopt
 *   prog_coherency plain    cache instructions on ordinary memory
 *   prog_coherency dirty    a store never flushed, at exit (no munmap)
 *   prog_coherency wait     a page of 'E' stored, never flushed, then 2 s
 *                           of waiting (for the evictor to publish it)
 */
#include <fcntl.h>
#include <immintrin.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAP (2UL << 20)

__attribute__((target("clwb"))) static void wb(const volatile void *p)
{
	_mm_clwb((void *)p);
}

__attribute__((target("clflushopt"))) static void inval(const volatile void *p)
{
	_mm_clflushopt((void *)p);
}

static char *map_dev(void)
{
	const char *dev = getenv("DAXDEV") ? getenv("DAXDEV") : "/dev/dax0.0";
	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		perror(dev);
		exit(1);
	}
	char *p = mmap(NULL, MAP, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static int io(void)
{
	char *p = map_dev();
	int fds[2], sv[2];
	if (pipe(fds) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	if (write(fds[1], "through read", 12) != 12)
		return 1;
	ssize_t n = read(fds[0], p + 8192, 12);
	printf("io: read into the mapping: %zd '%.12s'\n", n, p + 8192);
	FILE *f = tmpfile();
	fputs("through fread", f);
	rewind(f);
	setvbuf(f, NULL, _IONBF, 0);
	size_t k = fread(p + 16384, 1, 13, f);
	printf("io: fread into the mapping: %zu '%.13s'\n", k, p + 16384);
	if (send(sv[0], "through recv", 12, 0) != 12)
		return 1;
	n = recv(sv[1], p + 24576, 12, 0);
	printf("io: recv into the mapping: %zd '%.12s'\n", n, p + 24576);
	/* and out of it, from a page not touched yet */
	n = write(fds[1], p + 40960, 4);
	char b[4];
	printf("io: write from the mapping: %zd, %zd\n", n, read(fds[0], b, 4));
	for (int i = 0; i < 32768; i += 64)
		wb(p + i);
	return 0;
}

static sigjmp_buf jb;
static void own(int sig)
{
	siglongjmp(jb, 1);
}

static int segv(void)
{
	char *p = map_dev();
	p[0] = 'x';                     /* the emulator's faults */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = own;
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(jb, 1)) {
		*(volatile int *)16 = 1;        /* the program's own fault */
		printf("segv: no fault?\n");
		return 1;
	}
	printf("segv: own handler called\n");
	p[4096] = 'y';                  /* a new page: the emulator's again */
	wb(p);
	wb(p + 4096);
	printf("segv: mapping still works: %c%c\n", p[0], p[4096]);
	return 0;
}

static int count(long n)
{
	volatile uint64_t *w = (volatile uint64_t *)map_dev();
	for (long i = 0; i < n; i++) {
		__atomic_fetch_add(w, 1, __ATOMIC_SEQ_CST);
		if (!i)
			usleep(300000);
	}
	wb(w);
	printf("count: done\n");
	return 0;
}

static int forked(void)
{
	char *p = map_dev();
	p[64] = 0;
	wb(p + 64);
	pid_t pid = fork();
	if (pid == 0) {
		strcpy(p + 64, "from the child");
		wb(p + 64);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("fork: before invalidating '%s'\n", p + 64);
	inval(p + 64);
	printf("fork: after invalidating '%s'\n", p + 64);
	return 0;
}

static int plain(void)
{
	static char buf[256] = "ordinary memory";
	wb(buf);
	inval(buf + 64);
	_mm_clflush(buf);
	printf("plain: %s\n", buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "io"))
		return io();
	if (!strcmp(c, "segv"))
		return segv();
	if (!strcmp(c, "count"))
		return count(argc > 2 ? atol(argv[2]) : 100000);
	if (!strcmp(c, "fork"))
		return forked();
	if (!strcmp(c, "plain"))
		return plain();
	if (!strcmp(c, "dirty")) {
		map_dev()[128] = 1;
		return 0;
	}
	if (!strcmp(c, "wait")) {
		memset(map_dev(), 'E', 4096);
		sleep(2);
		return 0;
	}
	fprintf(stderr, "usage: prog_coherency io|segv|count N|fork|plain|"
		"dirty|wait\n");
	return 2;
}
