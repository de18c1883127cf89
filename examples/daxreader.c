/*
 * daxreader - read the paragraph daxwriter left in a device-DAX device:
 * open /dev/dax0.0, map its first 2 MiB, print the string found there.
 *
 * Nothing here knows about cxlemu.  Under cxlemu, run it with
 *   LD_PRELOAD=build/libcxlemu-preload.so CXLEMU_HOST=host2 ./daxreader
 *
 * usage: daxreader [DEVICE]
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DAX_MAP_SIZE (2UL * 1024 * 1024)

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/dax0.0";

	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		perror(dev);
		return 1;
	}
	char *p = mmap(NULL, DAX_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		close(fd);
		return 1;
	}
	printf("Paragraph read from DAX device:\n%.*s\n",
	       (int)strnlen(p, DAX_MAP_SIZE), p);
	munmap(p, DAX_MAP_SIZE);
	close(fd);
	return 0;
}
