/*
 * prog_view_map.c - an ordinary device-DAX program (no cxlemu headers),
 * run under the preload by cli_views.sh: map all of DAXDEV, say how long
 * the mmap (and open + mmap) took and how many mappings it added, store a tag at a few
 * offsets, and read back what is already there.
 *   prog_view_map /dev/daxN.0 SIZE   -> "vmas=N ms=X" and the tags
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;
	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t len = strtoull(argv[2], NULL, 0);
	struct timespec t0, t1, o0;
	clock_gettime(CLOCK_MONOTONIC, &o0);
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	int before = maps();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	int after = maps();
	printf("vmas=%d ms=%.3f open+mmap_ms=%.3f\n", after - before,
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	       (t1.tv_sec - o0.tv_sec) * 1e3 + (t1.tv_nsec - o0.tv_nsec) / 1e6);
	/* what the exact path wrote before, at 0x1234 */
	printf("found=%.12s\n", p + 0x1234);
	size_t offs[] = { 0x100, 4096 * 7 + 5, len / 2 + 777, len - 16 };
	for (int i = 0; i < 4; i++)
		snprintf(p + offs[i], 16, "view-tag-%d", i);
	munmap(p, len);
	close(fd);
	return 0;
}
