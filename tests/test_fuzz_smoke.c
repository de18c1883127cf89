/*
 * test_fuzz_smoke.c - the libFuzzer target (fuzz/fuzz_mbox.c) built with
 * the ordinary compiler under ASan+UBSan and fed a fixed set of
 * pseudo-random inputs, so `make check` keeps the target compiling and
 * catches the grossest mailbox faults without clang.  `make fuzz` does the
 * real, coverage-guided run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_mbox.c"

/* xorshift64*: the same inputs on every run */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static size_t put(uint8_t *buf, size_t at, size_t cap, uint8_t v)
{
	if (at < cap)
		buf[at] = v;
	return at + 1;
}

/* One input in the target's step format: mostly well-formed commands
 * (valid input lengths half the time), some raw opcodes and side doors,
 * random payload bytes and clock steps. */
static size_t make_input(uint64_t *seed, uint8_t *buf, size_t cap)
{
	const struct cx_mbox_cmd_info *tab;
	int ncmd = cx_mbox_commands(&tab);
	int steps = (int)(next(seed) % 48) + 1;
	size_t n = 0;

	for (int i = 0; i < steps && n < cap; i++) {
		if (next(seed) % 8 == 0) {
			/* bytes each side door 0xf0..0xf9 reads */
			static const int args[] = { 0, 10, 11, 17, 13, 11, 0, 0,
						    1, 0 };
			int d = (int)(next(seed) % 10);
			n = put(buf, n, cap, (uint8_t)(0xf0 + d));
			for (int j = 0; j < args[d]; j++)
				n = put(buf, n, cap, (uint8_t)next(seed));
		} else {
			uint8_t sel = (uint8_t)(next(seed) % 0xf0);
			n = put(buf, n, cap, sel);
			if (sel >= 0x80 && !(sel & 1)) {
				n = put(buf, n, cap, (uint8_t)next(seed));
				n = put(buf, n, cap, 0x40 + next(seed) % 8);
			}
			/* the exact length, or a variable command's shortest */
			const struct cx_mbox_cmd_info *c = &tab[sel % ncmd];
			int want = c->in_len >= 0 ? c->in_len : c->in_min;
			uint16_t len = (uint16_t)(next(seed) % 2 ?
				want : (int)(next(seed) % 4 ? next(seed) % 80 :
					     next(seed) % 2100));
			n = put(buf, n, cap, (uint8_t)len);
			n = put(buf, n, cap, (uint8_t)(len >> 8));
			for (uint16_t j = 0; j < len; j++)
				n = put(buf, n, cap, (uint8_t)(next(seed) % 3 ?
					next(seed) % 4 : next(seed)));
		}
		n = put(buf, n, cap, (uint8_t)(next(seed) % 4 ? 0 :
					       next(seed)));
	}
	return n < cap ? n : cap;
}

static void test_random_command_streams(void **state)
{
	static uint8_t buf[1 << 16];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		size_t n = make_input(&seed, buf, sizeof(buf));
		assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
	}
	/* the state of each input was freed after it */
	assert_non_null(heads[0]);
	assert_null(heads[0]->mbox);
	assert_null(heads[1]->mbox);
}

static int teardown(void **state)
{
	(void)state;
	cx_fabric_free(fab);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_random_command_streams,
					  teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
