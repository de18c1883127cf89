/*
 * prog_cxl_ioctl.c - a plain program using Linux's CXL memdev UAPI
 * (<linux/cxl_mem.h>) the way libcxl does, for tests/cli_cxlioctl.sh to
 * run under `cxlemu run`.  Not linked with cxlemu: it is what users run.
 * It prints one line per thing it did; the script compares them with
 * what the daemon's own mailbox (`cxlemu mbox`) returns.
 *
 *   prog_cxl_ioctl node DEV          the node: stat, fstat, F_GETFL, read,
 *                                    write, mmap, lseek, other ioctls
 *   prog_cxl_ioctl query DEV         CXL_MEM_QUERY_COMMANDS every way
 *   prog_cxl_ioctl send DEV ID IN OUTSIZE [KEY=VAL...]
 *       one CXL_MEM_SEND_COMMAND: IN is hex ("-" for none), OUTSIZE the
 *       output buffer (decimal, or "var" for ~0); keys: flags, rsvd,
 *       in_rsvd, out_rsvd, raw_op, raw_rsvd, in_size (overrides the
 *       input's length), bad=cmd|in|out (an unmapped pointer), and
 *       repeat=N (send it N times and print the rate)
 *       prints "send: rc=R errno=E retval=V size=S out=HEX"
 *   prog_cxl_ioctl procs DEV         dup, close, fork: the memdev follows
 *   prog_cxl_ioctl gone DEV          ioctls after $STOP_CMD stopped the
 *                                    daemon
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/cxl_mem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCMDS 25          /* Linux 6.12's CXL_MEM_COMMAND_ID_MAX */

static void *bad_ptr(void)
{
	/* a page that is certainly not mapped */
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	munmap(p, 4096);
	return p;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (!strcmp(s, "-"))
		return 0;
	while (s[0] && s[1] && n < cap) {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int node(int fd, const char *dev)
{
	struct stat st, pst;
	char buf[16];
	if (fstat(fd, &st) || stat(dev, &pst))
		return 1;
	printf("fstat: %s %u:%u mode=%o uid=%u\n",
	       S_ISCHR(st.st_mode) ? "chr" : "other", major(st.st_rdev),
	       minor(st.st_rdev), st.st_mode & 07777, st.st_uid);
	printf("stat: %s %u:%u mode=%o\n", S_ISCHR(pst.st_mode) ? "chr" : "other",
	       major(pst.st_rdev), minor(pst.st_rdev), pst.st_mode & 07777);
	printf("getfl: rdwr=%d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	long r;
	errno = 0;
	r = read(fd, buf, sizeof(buf));
	printf("read: %ld errno=%d\n", r, errno);
	errno = 0;
	r = write(fd, buf, sizeof(buf));
	printf("write: %ld errno=%d\n", r, errno);
	errno = 0;
	r = pread(fd, buf, sizeof(buf), 0);
	printf("pread: %ld errno=%d\n", r, errno);
	errno = 0;
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	printf("mmap: %s errno=%d\n", p == MAP_FAILED ? "failed" : "mapped",
	       errno);
	printf("lseek: %lld\n", (long long)lseek(fd, 100, SEEK_SET));
	errno = 0;
	r = ioctl(fd, _IO(0xCE, 3));
	printf("ioctl other: %ld errno=%d\n", r, errno);
	/* the right number with the wrong size is another ioctl */
	errno = 0;
	r = ioctl(fd, _IOWR(0xCE, 2, uint64_t), buf);
	printf("ioctl wrong size: %ld errno=%d\n", r, errno);
	int on = 1;
	printf("ioctl fionbio: %d\n", ioctl(fd, FIONBIO, &on));
	errno = 0;
	r = isatty(fd);
	printf("isatty: %ld errno=%d\n", r, errno);
	errno = 0;
	r = open(dev, O_RDONLY | O_DIRECTORY);
	printf("open directory: %ld errno=%d\n", r, errno);
	return 0;
}

static int query(int fd)
{
	struct cxl_mem_query_commands q0 = { 0 };
	if (ioctl(fd, CXL_MEM_QUERY_COMMANDS, &q0)) {
		printf("query count: errno=%d\n", errno);
		return 1;
	}
	printf("query count: %u\n", q0.n_commands);
	size_t sz = sizeof(q0) + (NCMDS + 1) * sizeof(struct cxl_command_info);
	struct cxl_mem_query_commands *q = malloc(sz);
	memset(q, 0xa5, sz);
	q->n_commands = NCMDS + 1;
	if (ioctl(fd, CXL_MEM_QUERY_COMMANDS, q))
		return 1;
	for (int i = 0; i < NCMDS; i++) {
		struct cxl_command_info *c = &q->commands[i];
		printf("cmd %d: id=%u flags=%u in=%d out=%d\n", i, c->id,
		       c->flags, (int)c->size_in, (int)c->size_out);
	}
	printf("query n_commands after: %u; entry %d untouched: %s\n",
	       q->n_commands, NCMDS, q->commands[NCMDS].id == 0xa5a5a5a5 ?
	       "yes" : "no");
	/* fewer than there are: exactly that many written */
	memset(q, 0xa5, sz);
	q->n_commands = 4;
	ioctl(fd, CXL_MEM_QUERY_COMMANDS, q);
	printf("query 4: fourth id=%u fifth untouched=%s\n", q->commands[3].id,
	       q->commands[4].id == 0xa5a5a5a5 ? "yes" : "no");
	free(q);
	errno = 0;
	int r = ioctl(fd, CXL_MEM_QUERY_COMMANDS, bad_ptr());
	printf("query bad pointer: %d errno=%d\n", r, errno);
	/* the count fits, the entries do not */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	q = (void *)(page + 4096 - 8 - 2 * sizeof(struct cxl_command_info));
	q->n_commands = NCMDS;
	errno = 0;
	r = ioctl(fd, CXL_MEM_QUERY_COMMANDS, q);
	printf("query short buffer: %d errno=%d\n", r, errno);
	return 0;
}

static int sendc(int fd, int argc, char **argv)
{
	static uint8_t in[1 << 16], out[1 << 16];
	struct cxl_send_command s;
	long repeat = 1;
	if (argc < 3)
		return 2;
	memset(&s, 0, sizeof(s));
	memset(out, 0xee, sizeof(out));
	s.id = (uint32_t)strtoul(argv[0], NULL, 0);
	s.in.size = (uint32_t)unhex(argv[1], in, sizeof(in));
	s.in.payload = (uintptr_t)in;
	s.out.size = !strcmp(argv[2], "var") ? ~0u
		     : (uint32_t)strtoul(argv[2], NULL, 0);
	s.out.payload = (uintptr_t)out;
	void *cmd = &s;
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			return 2;
		*eq = 0;
		const char *k = argv[i], *v = eq + 1;
		unsigned long n = strtoul(v, NULL, 0);
		if (!strcmp(k, "flags"))
			s.flags = (uint32_t)n;
		else if (!strcmp(k, "rsvd"))
			s.rsvd = (uint32_t)n;
		else if (!strcmp(k, "in_rsvd"))
			s.in.rsvd = (uint32_t)n;
		else if (!strcmp(k, "out_rsvd"))
			s.out.rsvd = (uint32_t)n;
		else if (!strcmp(k, "raw_op"))
			s.raw.opcode = (uint16_t)n;
		else if (!strcmp(k, "raw_rsvd"))
			s.raw.rsvd = (uint16_t)n;
		else if (!strcmp(k, "in_size"))
			s.in.size = (uint32_t)n;
		else if (!strcmp(k, "repeat"))
			repeat = (long)n;
		else if (!strcmp(k, "bad") && !strcmp(v, "cmd"))
			cmd = bad_ptr();
		else if (!strcmp(k, "bad") && !strcmp(v, "in"))
			s.in.payload = (uintptr_t)bad_ptr();
		else if (!strcmp(k, "bad") && !strcmp(v, "out"))
			s.out.payload = (uintptr_t)bad_ptr();
		else
			return 2;
	}
	struct timespec t0, t1;
	uint32_t out_size = s.out.size;
	int rc = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < repeat; i++) {
		s.out.size = out_size;
		errno = 0;
		rc = ioctl(fd, CXL_MEM_SEND_COMMAND, cmd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (repeat > 1) {
		double sec = (double)(t1.tv_sec - t0.tv_sec) +
			     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("rate: %.0f commands/s (%.1f us each)\n",
		       (double)repeat / sec, sec / (double)repeat * 1e6);
	}
	printf("send: rc=%d errno=%d retval=%u size=%u out=", rc,
	       rc ? errno : 0, s.retval, s.out.size);
	if (rc == 0 && s.out.size <= sizeof(out))
		hex(out, s.out.size);
	printf("\n");
	return 0;
}

/* Identify through fd: "ok" or the errno. */
static const char *identify(int fd)
{
	static char buf[32];
	uint8_t out[0x43];
	struct cxl_send_command s = {
		.id = CXL_MEM_COMMAND_ID_IDENTIFY,
		.out = { .size = sizeof(out), .payload = (uintptr_t)out },
	};
	if (ioctl(fd, CXL_MEM_SEND_COMMAND, &s) == 0 && s.retval == 0)
		return "ok";
	snprintf(buf, sizeof(buf), "errno=%d", errno);
	return buf;
}

static int procs(int fd)
{
	int fd2 = dup(fd), fd3 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	close(fd);
	printf("dup: %s\n", identify(fd2));
	close(fd2);
	printf("dup of dup: %s\n", identify(fd3));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: %s\n", identify(fd3));
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("parent after child: %s\n", identify(fd3));
	close(fd3);
	struct cxl_mem_query_commands q = { 0 };
	errno = 0;
	int r = ioctl(fd3, CXL_MEM_QUERY_COMMANDS, &q);
	printf("closed: %d errno=%d\n", r, errno);
	return 0;
}

static int gone(int fd)
{
	printf("before: %s\n", identify(fd));
	fflush(stdout);
	const char *cmd = getenv("STOP_CMD");
	if (!cmd || system(cmd) != 0)
		return 1;
	printf("after: %s\n", identify(fd));
	struct cxl_mem_query_commands q = { 0 };
	errno = 0;
	int r = ioctl(fd, CXL_MEM_QUERY_COMMANDS, &q);
	printf("query after: %d errno=%d\n", r, errno);
	struct cxl_send_command s = { .id = 9999 };
	errno = 0;
	r = ioctl(fd, CXL_MEM_SEND_COMMAND, &s);
	printf("bad id after: %d errno=%d\n", r, errno);
	struct stat st;
	printf("fstat after: %d\n", fstat(fd, &st));
	printf("close after: %d\n", close(fd));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: prog_cxl_ioctl CASE DEV ...\n");
		return 2;
	}
	const char *c = argv[1], *dev = argv[2];
	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		printf("open: errno=%d\n", errno);
		return 1;
	}
	if (!strcmp(c, "node"))
		return node(fd, dev);
	if (!strcmp(c, "query"))
		return query(fd);
	if (!strcmp(c, "send"))
		return sendc(fd, argc - 3, argv + 3);
	if (!strcmp(c, "procs"))
		return procs(fd);
	if (!strcmp(c, "gone"))
		return gone(fd);
	return 2;
}
