/*
 * test_fuzz_route_smoke.c - the decode-table fuzz target (fuzz/fuzz_route.c)
 * built with the ordinary compiler under ASan+UBSan and fed a fixed set
 * of inputs, so `make check` keeps it compiling and runs its checks (the
 * table against the walk, the window's arithmetic computed on its own,
 * the way back from a DPA, nothing answered outside the region, the
 * table after a recommit) over every shape the target can build: each
 * window ways (1, 2, 3, 4, 6, 8, 12, 16) with 1, 2 or 4 root ports and
 * 0, 2 or 4 switch ports, modulo and XOR, a spread of granularities and
 * window bases.  `make fuzz FUZZ_TARGET=route` does the real,
 * coverage-guided run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_route.c"

/* xorshift64*: the same inputs on every run */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void test_every_shape(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	uint8_t buf[3 + 4 * 8 + 64 * 8];
	(void)state;
	for (int shape = 0; shape < 256; shape++) {
		for (int xor = 0; xor < 2; xor++) {
			buf[0] = (uint8_t)shape;
			/* window granularity (small enough for the host
			 * bridges' to encode), x1 region granularity, XOR */
			buf[1] = (uint8_t)((next(&seed) % 3) |
					   (next(&seed) % 7) << 3 | xor << 6);
			buf[2] = (uint8_t)next(&seed); /* base, size, order */
			for (size_t i = 3; i < sizeof(buf); i++)
				buf[i] = (uint8_t)next(&seed);
			/* once in a while a recommit, at word 20 */
			if (shape % 16 == 5)
				buf[3 + 4 * 8 + 20 * 8 + 7] = 0xff;
			assert_int_equal(LLVMFuzzerTestOneInput(buf,
								sizeof(buf)),
					 0);
		}
	}
	/* most shapes make a region; none is checked only at its edges */
	print_message("%lu regions, %lu HPAs checked\n", fr_regions,
		      fr_checks);
	assert_true(fr_regions >= 400);
	assert_true(fr_checks >= 400 * 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
