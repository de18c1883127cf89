/*
 * daxwriter - write a paragraph into a device-DAX device, the way the
 * MemVerge shared-memory lab's program does on real (or QEMU) CXL memory:
 * open /dev/dax0.0, map its first 2 MiB, copy the message in.
 *
 * Nothing here knows about cxlemu.  Under cxlemu, run it with
 *   LD_PRELOAD=build/libcxlemu-preload.so CXLEMU_HOST=host1 ./daxwriter MSG
 *
 * usage: daxwriter MESSAGE [DEVICE]
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DAX_MAP_SIZE (2UL * 1024 * 1024) /* device-DAX alignment */

int main(int argc, char **argv)
{
	const char *dev = argc > 2 ? argv[2] : "/dev/dax0.0";

	if (argc < 2) {
		fprintf(stderr, "usage: %s MESSAGE [DEVICE]\n", argv[0]);
		return 2;
	}
	size_t len = strlen(argv[1]) + 1;
	if (len > DAX_MAP_SIZE) {
		fprintf(stderr, "daxwriter: message longer than %lu bytes\n",
			DAX_MAP_SIZE);
		return 2;
	}
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
	memcpy(p, argv[1], len);
	munmap(p, DAX_MAP_SIZE);
	close(fd);
	printf("Paragraph written to DAX device successfully.\n");
	return 0;
}
