/*
 * test_util.c - QEMU's spellings of sizes, numbers and booleans, including
 * the hostile ones: exponents, infinities and values that wrap 64 bits
 * must be refused, fractions of a unit must be exact; and the exact
 * paths' piece copy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/spin.h"
#include "util/stream.h"
#include "util/util.h"

static uint64_t size_ok(const char *s)
{
	uint64_t v = 0;
	cx_err e;
	int rc = cx_parse_size(s, &v, "size", &e);
	if (rc)
		fail_msg("'%s' refused: %s", s, e.msg);
	return v;
}

static void size_bad(const char *s, int want)
{
	uint64_t v = 12345;
	cx_err e;
	assert_int_equal(cx_parse_size(s, &v, "size", &e), want);
	assert_int_equal(v, 12345); /* untouched */
	assert_non_null(strstr(e.msg, "size"));
}

static void test_sizes(void **state)
{
	assert_int_equal(size_ok("256M"), 256ULL << 20);
	assert_int_equal(size_ok("4g"), 4ULL << 30);
	assert_int_equal(size_ok("0x10M"), 16ULL << 20);
	assert_int_equal(size_ok("1.5G"), 3ULL << 29);
	assert_int_equal(size_ok("1.25K"), 1280);
	assert_int_equal(size_ok("15E"), 15ULL << 60);
	assert_int_equal(size_ok("4096"), 4096);
	assert_int_equal(size_ok("18446744073709551615"), UINT64_MAX);
	size_bad("1.5e3G", -EINVAL);      /* no exponents: E is exbibytes */
	size_bad("1.5e400G", -EINVAL);
	size_bad("inf", -EINVAL);
	size_bad("nanG", -EINVAL);
	size_bad("1.5", -EINVAL);          /* a fraction of a byte */
	size_bad("0x1.8G", -EINVAL);
	size_bad(".5G", -EINVAL);
	size_bad("-1G", -EINVAL);
	size_bad("4Q", -EINVAL);
	size_bad("", -EINVAL);
	size_bad("16E", -ERANGE);
	size_bad("18446744073709551616", -ERANGE);
	size_bad("15.99999999999999999999E1", -EINVAL);
}

static void test_bools_and_numbers(void **state)
{
	bool b;
	uint64_t v;
	cx_err e;
	const char *yes[] = { "on", "yes", "true", "y" };
	const char *no[] = { "off", "no", "false", "n" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cx_parse_bool(yes[i], &b, "share", &e), 0);
		assert_true(b);
		assert_int_equal(cx_parse_bool(no[i], &b, "share", &e), 0);
		assert_false(b);
	}
	assert_int_equal(cx_parse_bool("1", &b, "share", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "on/off"));
	assert_int_equal(cx_parse_u64("0x1f", &v, "sn", &e), 0);
	assert_int_equal(v, 31);
	assert_int_equal(cx_parse_u64("12K", &v, "sn", &e), -EINVAL);
	assert_int_equal(cx_parse_u64("-1", &v, "sn", &e), -EINVAL);
}

static void test_hex_decode(void **state)
{
	uint8_t b[4];
	size_t n = 99;
	cx_err e;

	assert_int_equal(cx_hex_decode("0a:Bc\tff 01", b, 4, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(b, "\x0a\xbc\xff\x01", 4);
	assert_int_equal(cx_hex_decode("", NULL, 0, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cx_hex_decode("0a0b0c", NULL, SIZE_MAX, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(cx_hex_decode("0a0b0c", b, 2, &n, &e), -E2BIG);
	assert_int_equal(cx_hex_decode("0a 0", b, 4, &n, &e), -EINVAL);
	assert_string_equal(e.msg, "3 hex digits is not a whole number of "
			    "bytes");
	assert_int_equal(cx_hex_decode("0a x1", b, 4, &n, &e), -EINVAL);
	assert_string_equal(e.msg, "'x' (at character 4) is not a hex digit");
}

/* cx_copy moves exactly the bytes memcpy would, for every relative
 * alignment and length around the lengths where it takes its own loop,
 * and touches nothing around the destination. */
static void test_copy_pieces(void **state)
{
	enum { PAD = 128, MAX = 9000 };
	static uint8_t src[MAX + 2 * PAD], dst[MAX + 2 * PAD];
	static const size_t lens[] = { 0, 1, 15, 63, 2047, 2048, 2049, 4096,
				       4100, 8191, 8192 + 37, MAX };
	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 37 + 11);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (int so = 0; so < 64; so += 7)
			for (int d0 = 0; d0 < 64; d0 += 5) {
				memset(dst, 0xee, sizeof(dst));
				cx_copy(dst + PAD + d0, src + PAD + so, lens[l]);
				assert_memory_equal(dst + PAD + d0,
						    src + PAD + so, lens[l]);
				for (size_t k = 0; k < PAD + (size_t)d0; k++)
					assert_int_equal(dst[k], 0xee);
				for (size_t k = PAD + d0 + lens[l];
				     k < sizeof(dst); k++)
					assert_int_equal(dst[k], 0xee);
			}
}

/* cx_read_spin: an answer already there, one that comes long after the
 * awake window (the blocking read takes it), and a peer gone (0). */
static void test_read_spin(void **state)
{
	int sv[2];
	char b[8] = "";
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "now", 3), 3);
	assert_int_equal(cx_read_spin(sv[0], b, sizeof(b)), 3);
	assert_memory_equal(b, "now", 3);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100 * 1000);  /* well past the window */
		_exit(write(sv[1], "later", 5) == 5 ? 0 : 1);
	}
	uint64_t t0 = cx_now_us();
	assert_int_equal(cx_read_spin(sv[0], b, sizeof(b)), 5);
	assert_memory_equal(b, "later", 5);
	assert_true(cx_now_us() - t0 >= 100 * 1000);
	int st;
	waitpid(pid, &st, 0);
	assert_int_equal(st, 0);
	close(sv[1]);
	assert_int_equal(cx_read_spin(sv[0], b, sizeof(b)), 0);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bools_and_numbers),
		cmocka_unit_test(test_hex_decode),
		cmocka_unit_test(test_copy_pieces),
		cmocka_unit_test(test_read_spin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
