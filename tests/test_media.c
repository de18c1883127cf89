/*
 * test_media.c - media the daemon hands to clients must not be able to
 * take the daemon down: memfds are sealed against resizing, and a shared
 * backing file truncated by another program fails the access with an
 * error instead of SIGBUS.  And the settings file a device keeps beside
 * its media (sidecar.c): where it is, and that it reads back what was
 * written.
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
#include <unistd.h>
#include <cmocka.h>

#include "media/media.h"
#include "media/sidecar.h"

static void test_memfd_is_sealed_against_resizing(void **state)
{
	struct cx_media *m;
	cx_err e;
	assert_int_equal(cx_media_new_memfd("t", 1 << 20, &m, &e), 0);
	int fd = dup(m->fd); /* what a mapping client receives */
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, 2 << 20), -1);
	char b[4] = "abc";
	assert_int_equal(cx_media_write(m, (1 << 20) - 4, b, 4, &e), 0);
	assert_int_equal(cx_media_read(m, (1 << 20) - 4, b, 4, &e), 0);
	assert_string_equal(b, "abc");
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
		cmocka_unit_test(test_memfd_is_sealed_against_resizing),
		cmocka_unit_test(test_truncated_file_fails_access_not_process),
		cmocka_unit_test(test_sidecar_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
