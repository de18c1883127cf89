/*
 * test_media.c - media the daemon hands to clients must not be able to
 * take the daemon down nor reach past what they were lent: blocks are
 * sealed against growing, hold their own bytes only and are emptied when
 * taken back; a shared backing file truncated by another program fails
 * the access with an error instead of SIGBUS.  And the settings file a
 * device keeps beside its media (sidecar.c): where it is, and that it
 * reads back what was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "media/media.h"
#include "media/sidecar.h"

/* What a mapping program receives is a block of its own range: it cannot
 * resize the media under the daemon, reach bytes outside its range, nor
 * keep the block once it is taken back. */
static void test_lent_blocks(void **state)
{
	struct cx_media *m;
	struct cx_media_lease ls[8];
	cx_err e;
	int n;
	uint64_t blk = CX_MEDIA_BLOCK;

	cx_media_guard_install();
	assert_int_equal(cx_media_new_memfd("t", 3 * blk, &m, &e), 0);
	assert_int_equal(cx_media_write(m, blk + 100, "abc", 4, &e), 0);
	/* a range of one and a half units: two blocks, the second cut */
	assert_int_equal(cx_media_lend(m, blk, blk + blk / 2, ls, 8, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ls[0].len, blk);
	assert_int_equal(ls[1].len, blk / 2);
	assert_int_equal(ls[1].fd_len, blk / 2);
	assert_int_equal(cx_media_lent_blocks(m), 2);
	/* the block holds the bytes, and nothing before or after them */
	struct stat st;
	assert_int_equal(fstat(ls[0].fd, &st), 0);
	assert_int_equal(st.st_size, blk);
	char b[4];
	assert_int_equal(pread(ls[0].fd, b, 4, 100), 4);
	assert_string_equal(b, "abc");
	/* it cannot grow, and the daemon's exact path sees its stores */
	int fd = dup(ls[0].fd);
	assert_int_equal(ftruncate(fd, (off_t)(2 * blk)), -1);
	assert_int_equal(pwrite(fd, "xyz", 4, 200), 4);
	assert_int_equal(cx_media_read(m, blk + 200, b, 4, &e), 0);
	assert_string_equal(b, "xyz");
	/* lent again: the same blocks */
	struct cx_media_lease again[8];
	assert_int_equal(cx_media_lend(m, blk, blk + blk / 2, again, 8, &n, &e),
			 0);
	assert_true(again[0].id == ls[0].id && again[1].id == ls[1].id);
	/* a range whose edge cuts a lent block is refused */
	assert_int_equal(cx_media_lend(m, blk + 4096, 4096, again, 8, &n, &e),
			 -EBUSY);
	assert_non_null(strstr(e.msg, "outside"));
	/* taken back: the bytes stay, the holder's block is empty */
	char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	cx_media_keep_clear(m);
	cx_media_keep(m, blk + blk, blk / 2);   /* only the second */
	assert_int_equal(cx_media_reclaim(m, &e), 1);
	assert_int_equal(cx_media_lent_blocks(m), 1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* and it may not grow back: a store through it goes nowhere */
	assert_int_equal(pwrite(fd, "new", 4, 200), -1);
	assert_int_equal(cx_media_read(m, blk + 200, b, 4, &e), 0);
	assert_string_equal(b, "xyz");
	munmap(p, 4096);
	close(fd);
	cx_media_put(m);
}

static void test_truncated_file_fails_access_not_process(void **state)
{
	char dir[] = "/tmp/cxlemu-test-media-XXXXXX", path[128];
	struct cx_media *m;
	cx_err e;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dev.raw", dir);
	cx_media_guard_install(); /* as cx_fabric_start does */
	assert_int_equal(cx_media_new_file("dev", path, 1 << 20, true, &m, &e), 0);
	assert_int_equal(cx_media_write(m, 4096, "x", 1, &e), 0);
	/* another program shrinks the file under the fabric */
	assert_int_equal(truncate(path, 0), 0);
	char b[16];
	assert_int_equal(cx_media_read(m, 8192, b, sizeof(b), &e), -EIO);
	assert_non_null(strstr(e.msg, "truncated"));
	assert_int_equal(cx_media_write(m, 8192, b, sizeof(b), &e), -EIO);
	assert_int_equal(cx_media_zero(m, 0, 4096, &e), -EIO);
	/* and it still works once the file is whole again */
	assert_int_equal(truncate(path, 1 << 20), 0);
	assert_int_equal(cx_media_read(m, 8192, b, sizeof(b), &e), 0);
	cx_media_put(m);
	unlink(path);
	rmdir(dir);
}

/* The sidecar sits beside the LSA file, else the pmem file, else nowhere;
 * what is saved loads back, and a save replaces the whole file. */
static void test_sidecar_round_trip(void **state)
{
	char dir[] = "/tmp/cxlemu-test-sidecar-XXXXXX", path[128];
	struct cx_media lsa = { .path = "/x/lsa.raw", .persistent = true };
	struct cx_media pmem = { .path = "/x/pmem.raw", .persistent = true };
	struct cx_media ram = { .persistent = false };
	struct cx_sidecar a = { 0 }, b;
	char *p;

	p = cx_sidecar_path(&lsa, &pmem);
	assert_string_equal(p, "/x/lsa.raw.cxlemu");
	free(p);
	p = cx_sidecar_path(&ram, &pmem);
	assert_string_equal(p, "/x/pmem.raw.cxlemu");
	free(p);
	assert_null(cx_sidecar_path(&ram, NULL));
	assert_null(cx_sidecar_path(NULL, NULL));

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dev.raw.cxlemu", dir);
	assert_false(cx_sidecar_load(path, &b));
	a.have_partition = true;
	a.partition_volatile = 256 << 20;
	a.shutdown_dirty = true;
	a.dirty_shutdowns = 7;
	a.fw_active = 2;
	a.fw_staged = 1;
	a.fw_present[1] = true;
	strcpy(a.fw_rev[1], "cxlemu-0123abcd");
	assert_int_equal(cx_sidecar_save(path, "mem0", &a), 0);
	assert_true(cx_sidecar_load(path, &b));
	assert_memory_equal(&a, &b, sizeof(a));

	/* a save without a partition drops the old partition line */
	a.have_partition = false;
	a.partition_volatile = 0;
	assert_int_equal(cx_sidecar_save(path, "mem0", &a), 0);
	assert_true(cx_sidecar_load(path, &b));
	assert_memory_equal(&a, &b, sizeof(a));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lent_blocks),
		cmocka_unit_test(test_truncated_file_fails_access_not_process),
		cmocka_unit_test(test_sidecar_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
