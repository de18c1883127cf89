/*
 * test_dax_map.c - the client's device-DAX mapping and exact path on
 * synthetic layouts over memfds: bytes stored through a mapping or the
 * exact path must land in the fd the interleave names, at the offset it
 * names; impossible mappings must be refused with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client/dax_map.h"
#include "util/stream.h"

/* A layout of `ways` positions at granularity `gran`, `per` bytes each,
 * in two extents: position j's first half on fd (ways-1-j) at offset
 * base_off, its second half on fd ways+j at offset 0, so that position
 * order, fd order and extent order all differ. */
static void make_layout(struct cx_dax_layout *L, int ways, uint32_t gran,
			uint64_t per, uint64_t base_off)
{
	cx_err e;
	uint64_t half = per / 2;
	memset(L, 0, sizeof(*L));
	strcpy(L->name, "dax0.0");
	L->ilv.ways = ways;
	L->ilv.gran = gran;
	L->size = per * (uint64_t)ways;
	L->nfds = 2 * ways;
	for (int i = 0; i < 2 * ways; i++) {
		L->fds[i] = memfd_create("t", MFD_CLOEXEC);
		assert_true(L->fds[i] >= 0);
		assert_int_equal(ftruncate(L->fds[i], (off_t)(base_off + half)), 0);
		L->fd_len[i] = base_off + half;
	}
	for (int j = 0; j < ways; j++) {
		L->first[j] = 2 * j;
		L->ext[2 * j] = (struct cx_dax_extent){ ways - 1 - j, base_off,
							half };
		L->ext[2 * j + 1] = (struct cx_dax_extent){ ways + j, 0, half };
	}
	L->first[ways] = 2 * ways;
	assert_int_equal(cx_dax_layout_check(L, &e), 0);
}

/* where device offset o must be, computed independently of dax_map.c */
static void expect_at(const struct cx_dax_layout *L, uint64_t o, int *fd,
		      uint64_t *fo)
{
	uint64_t k = o / L->ilv.gran;
	int j = (int)(k % (uint64_t)L->ilv.ways);
	uint64_t adv = (k / (uint64_t)L->ilv.ways) * L->ilv.gran + o % L->ilv.gran;
	uint64_t half = L->size / (uint64_t)L->ilv.ways / 2;
	const struct cx_dax_extent *t = &L->ext[2 * j + (adv >= half)];
	*fd = L->fds[t->fd];
	*fo = t->fd_off + adv % half;
}

static void test_map_4way_lands_in_right_fd(void **state)
{
	struct cx_dax_layout L;
	cx_err e;
	void *p;
	make_layout(&L, 4, 4096, 1 << 20, 8192);
	assert_int_equal(cx_dax_runs(&L, 0, L.size), L.size / 4096);
	assert_int_equal(cx_dax_map(&L, 0, L.size, PROT_READ | PROT_WRITE,
				    NULL, 0, &p, &e), 0);
	uint64_t *w = p;
	for (uint64_t i = 0; i < L.size / 8; i++)
		w[i] = i * 0x9e3779b97f4a7c15ULL;
	for (uint64_t o = 0; o < L.size; o += 4096 - 8) {
		int fd;
		uint64_t fo, v;
		o &= ~7ULL;
		expect_at(&L, o, &fd, &fo);
		assert_int_equal(pread(fd, &v, 8, (off_t)fo), 8);
		assert_true(v == (o / 8) * 0x9e3779b97f4a7c15ULL);
	}
	munmap(p, L.size);
	cx_dax_layout_release(&L);
}

static void test_map_1way_is_one_mapping(void **state)
{
	struct cx_dax_layout L;
	cx_err e;
	void *p;
	make_layout(&L, 1, 256, 4 << 20, 0);
	/* one mapping per extent, whatever the granularity */
	assert_int_equal(cx_dax_runs(&L, 0, L.size), 2);
	assert_int_equal(cx_dax_runs(&L, 2 << 20, 2 << 20), 1);
	assert_int_equal(cx_dax_map(&L, 1 << 20, 2 << 20, PROT_READ | PROT_WRITE,
				    NULL, 0, &p, &e), 0);
	memcpy(p, "hello", 6);
	memcpy((char *)p + (1 << 20), "world", 6);
	char buf[6];
	assert_int_equal(pread(L.fds[0], buf, 6, 1 << 20), 6);
	assert_string_equal(buf, "hello");
	assert_int_equal(pread(L.fds[1], buf, 6, 0), 6);
	assert_string_equal(buf, "world");
	/* the flush of an address finds its device offset */
	uint64_t off;
	cx_dax_note(&L, p, 1 << 20, 2 << 20);
	assert_int_equal(cx_dax_addr_offset(&L, (char *)p + 4096, &off), 0);
	assert_int_equal(off, (1 << 20) + 4096);
	assert_int_equal(cx_dax_addr_offset(&L, &off, &off), -ENOENT);
	munmap(p, 2 << 20);
	cx_dax_layout_release(&L);

	/* a layout whose extents do not hold the position is refused */
	make_layout(&L, 1, 256, 4 << 20, 0);
	L.ext[1].len -= 256;
	assert_int_equal(cx_dax_layout_check(&L, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "position 0 holds"));
	L.ext[1].fd_off = 4096;
	L.ext[1].len += 256;
	assert_int_equal(cx_dax_layout_check(&L, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "outside its descriptor"));
	cx_dax_layout_release(&L);
}

static void test_map_refusals(void **state)
{
	struct cx_dax_layout L;
	cx_err e;
	void *p;
	make_layout(&L, 4, 256, 1 << 20, 0);
	assert_int_equal(cx_dax_map(&L, 0, 1 << 20, PROT_READ, NULL, 0, &p, &e),
			 -ENOTSUP);
	assert_non_null(strstr(e.msg, "below the page size"));
	assert_non_null(strstr(e.msg, "exact path"));
	cx_dax_layout_release(&L);

	/* 1 GiB at 4 KiB over 4 ways: 262144 mappings, more than the
	 * default vm.max_map_count allows; nothing is mapped */
	memset(&L, 0, sizeof(L));
	strcpy(L.name, "dax1.0");
	L.ilv.ways = 4;
	L.ilv.gran = 4096;
	L.size = 1ULL << 30;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	unsigned long long max = 0;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &max), 1);
	fclose(f);
	if (max < 262144) {
		assert_int_equal(cx_dax_map(&L, 0, L.size, PROT_READ, NULL, 0,
					    &p, &e), -E2BIG);
		assert_non_null(strstr(e.msg, "vm.max_map_count"));
	}
	/* past the end, unaligned */
	make_layout(&L, 2, 4096, 1 << 20, 0);
	assert_int_equal(cx_dax_map(&L, 1 << 20, 2 << 20, PROT_READ, NULL, 0,
				    &p, &e), -ERANGE);
	assert_int_equal(cx_dax_map(&L, 100, 4096, PROT_READ, NULL, 0, &p, &e),
			 -EINVAL);
	cx_dax_layout_release(&L);
}

static void test_exact_path_256(void **state)
{
	struct cx_dax_layout L;
	cx_err e;
	make_layout(&L, 4, 256, 1 << 20, 4096);
	size_t n = 100000;
	uint8_t *src = malloc(n), *dst = malloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(cx_dax_write(&L, 1000, src, n, &e), 0);
	/* each byte is where the interleave says */
	for (uint64_t o = 1000; o < 1000 + n; o += 97) {
		int fd;
		uint64_t fo;
		uint8_t b;
		expect_at(&L, o, &fd, &fo);
		assert_int_equal(pread(fd, &b, 1, (off_t)fo), 1);
		assert_int_equal(b, src[o - 1000]);
	}
	assert_int_equal(cx_dax_read(&L, 1000, dst, n, &e), 0);
	assert_memory_equal(src, dst, n);
	/* overlapping copy forward */
	assert_int_equal(cx_dax_copy(&L, 1100, 1000, n, &e), 0);
	assert_int_equal(cx_dax_read(&L, 1100, dst, n, &e), 0);
	assert_memory_equal(src, dst, n);
	assert_int_equal(cx_dax_read(&L, L.size - 10, dst, 11, &e), -ERANGE);
	free(src);
	free(dst);
	cx_dax_layout_release(&L);
}

/* A write and a fill large enough for the streaming stores (3 ways, so
 * the position is carried, not masked), from an unaligned buffer, and a
 * small fill; every byte where the interleave says, nothing outside. */
static void test_exact_large_and_fill(void **state)
{
	struct cx_dax_layout L;
	cx_err e;
	make_layout(&L, 3, 256, 4 << 20, 4096);
	size_t n = 9 << 20;
	assert_true(n >= CX_STREAM_MIN);
	uint8_t *src = malloc(n + 3), *dst = malloc(L.size);
	for (size_t i = 0; i < n + 3; i++)
		src[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(cx_dax_write(&L, 777, src + 3, n, &e), 0);
	for (uint64_t o = 777; o < 777 + n; o += 4099) {
		int fd;
		uint64_t fo;
		uint8_t b;
		expect_at(&L, o, &fd, &fo);
		assert_int_equal(pread(fd, &b, 1, (off_t)fo), 1);
		assert_int_equal(b, src[3 + o - 777]);
	}
	assert_int_equal(cx_dax_read(&L, 777, dst, n, &e), 0);
	assert_memory_equal(src + 3, dst, n);

	/* a streaming fill, then a small one inside it */
	assert_int_equal(cx_dax_fill(&L, 5000, 0xa5, n, &e), 0);
	assert_int_equal(cx_dax_fill(&L, 100000, 0x11, 1000, &e), 0);
	assert_int_equal(cx_dax_read(&L, 0, dst, L.size, &e), 0);
	for (uint64_t o = 0; o < L.size; o++) {
		uint8_t want;
		if (o >= 100000 && o < 101000)
			want = 0x11;
		else if (o >= 5000 && o < 5000 + n)
			want = 0xa5;
		else if (o >= 777 && o < 777 + n)
			want = src[3 + o - 777];
		else
			want = 0;
		if (dst[o] != want)
			fail_msg("byte %#llx is %#x, not %#x",
				 (unsigned long long)o, dst[o], want);
	}
	/* past the end: refused, and nothing written */
	assert_int_equal(cx_dax_fill(&L, L.size - 10, 0x77, 11, &e), -ERANGE);
	assert_non_null(strstr(e.msg, "past the device's end"));
	assert_int_equal(cx_dax_read(&L, L.size - 10, dst, 10, &e), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(dst[i], 0);
	free(src);
	free(dst);
	cx_dax_layout_release(&L);
}

/* Under XOR maps the exact path's granule walk and the mapper's run walk
 * must agree: bytes written one way read back the other. */
static void test_exact_agrees_with_mapping_xor(void **state)
{
	struct cx_dax_layout L;
	cx_err e;
	make_layout(&L, 4, 4096, 1 << 20, 0);
	L.ilv.nmaps = 2;
	L.ilv.map[0] = (1ull << 12) | (1ull << 20) | (1ull << 25);
	L.ilv.map[1] = (1ull << 13) | (1ull << 21);
	L.ilv.base = 0x490000000ull;
	size_t n = L.size;
	uint8_t *src = malloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = (uint8_t)(i / 4096 * 31 + i);
	assert_int_equal(cx_dax_write(&L, 0, src, n, &e), 0);
	uint8_t *p;
	assert_int_equal(cx_dax_map(&L, 0, n, PROT_READ, NULL, 0, (void **)&p,
				    &e), 0);
	assert_memory_equal(p, src, n);
	munmap(p, n);
	/* and the maps matter: the layout without them reads differently */
	L.ilv.nmaps = 0;
	assert_int_equal(cx_dax_map(&L, 0, n, PROT_READ, NULL, 0, (void **)&p,
				    &e), 0);
	assert_true(memcmp(p, src, n) != 0);
	munmap(p, n);
	free(src);
	cx_dax_layout_release(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_4way_lands_in_right_fd),
		cmocka_unit_test(test_map_1way_is_one_mapping),
		cmocka_unit_test(test_map_refusals),
		cmocka_unit_test(test_exact_path_256),
		cmocka_unit_test(test_exact_large_and_fill),
		cmocka_unit_test(test_exact_agrees_with_mapping_xor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
