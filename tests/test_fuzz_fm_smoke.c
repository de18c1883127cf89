/*
 * test_fuzz_fm_smoke.c - the FM-API libFuzzer target (fuzz/fuzz_fm.c)
 * built with the ordinary compiler under ASan+UBSan and fed a fixed set
 * of pseudo-random step sequences, so `make check` keeps the target
 * compiling and its invariants (no block granted twice, nothing left for
 * the next owner, every refusal answered with a reason) checked without
 * clang.  `make fuzz FUZZ_TARGET=fm` does the coverage-guided run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_fm.c"

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* A selector byte in [lo, hi) with sel % mod == rem (and, when mask is
 * set, sel & mask == want). */
static uint8_t pick(uint64_t *seed, int lo, int hi, int mod, int rem,
		    int mask, int want)
{
	for (;;) {
		int v = lo + (int)(next(seed) % (uint64_t)(hi - lo));
		if (v % mod == rem && (v & mask) == want)
			return (uint8_t)v;
	}
}

/* Steps in the target's format, mostly meaningful: offers with plausible
 * hosts, policies, lengths and tags, answers from the host that was
 * offered, releases (tag-based, prescriptive, forced), log clears and
 * markers; now and then a raw frame or random bytes. */
static size_t make_input(uint64_t *seed, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	int steps = (int)(next(seed) % 64) + 1, offered = 0;
#define PUT(v) (buf[n++] = (uint8_t)(v))

	for (int i = 0; i < steps && n + 80 < cap; i++) {
		uint64_t k = next(seed) % 20;
		int head = (int)(next(seed) % 3);
		if (k >= 6 && k < 18 && next(seed) % 4)
			head = offered;  /* mostly the host last offered */
		if (k < 6) {            /* Initiate Add (ops[6]) */
			offered = head;
			int ne = (int)(next(seed) % 3);
			int pol = (int)(next(seed) % 4);
			PUT(pick(seed, 0x40, 0xa0, 11, 6, 0, 0));
			PUT(head);
			PUT(pol == 2 ? (ne ? ne : 1) : 0);
			PUT(pol);
			PUT(next(seed) % 2);                   /* region */
			PUT(1 + next(seed) % 4);               /* blocks */
			PUT(next(seed) % 3);                   /* tag */
			for (int j = 0; j < (pol == 2 ? (ne ? ne : 1) : 0);
			     j++) {
				PUT(next(seed) % 140);         /* block */
				PUT(1 + next(seed) % 3);       /* blocks */
			}
		} else if (k < 12) {    /* the host answers, then writes */
			PUT(pick(seed, 0xa0, 0xe0, 3, head, 4, 4));
			PUT(1 + next(seed) % 2);               /* count */
			for (int j = 0; j < 2; j++) {
				PUT(1 + next(seed) % 3);       /* how */
				PUT(next(seed) % 4);           /* skip */
				PUT(next(seed) % 4);           /* length */
			}
			PUT(next(seed) % 8 ? 1 : 0);           /* More */
			PUT(1);                                /* honest */
			PUT(pick(seed, 0xf0, 0x100, 3, head, 0, 0));
		} else if (k < 14) {    /* the host releases something */
			PUT(pick(seed, 0xa0, 0xe0, 3, head, 4, 0));
			PUT(1);                                /* count */
			PUT(1 + next(seed) % 3);               /* how */
			PUT(next(seed) % 4);                   /* where */
			PUT(next(seed) % 4);                   /* how much */
			PUT(1);                                /* no More */
			PUT(1);                                /* honest */
		} else if (k < 16) {    /* Initiate Release (ops[9]) */
			int tagged = next(seed) % 2;
			PUT(pick(seed, 0x40, 0xa0, 11, 9, 0, 0));
			PUT(head);
			PUT(tagged ? 0 : 1);                   /* extents */
			PUT(tagged ? 0 : 1);                   /* policy */
			PUT(next(seed) % 2 ? CX_IDC_FORCED : 0);
			PUT(0);
			PUT(0);
			PUT(1 + next(seed) % 2);               /* tag */
			if (!tagged) {
				PUT(next(seed) % 140);
				PUT(1 + next(seed) % 3);
			}
		} else if (k < 17) {
			PUT(pick(seed, 0xe0, 0xf0, 3, head, 0, 0));
		} else if (k < 18) {
			PUT(pick(seed, 0xf0, 0x100, 3, head, 0, 0));
		} else if (k < 19) {    /* any FM command, random bytes */
			PUT(0x40 + next(seed) % 0x60);
			for (int j = 0; j < 12; j++)
				PUT(next(seed));
		} else {                /* a raw frame */
			uint16_t len = (uint16_t)(next(seed) % 40);
			PUT(next(seed) % 0x40);
			PUT(len);
			PUT(0);
			for (int j = 0; j < len; j++)
				PUT(next(seed));
		}
	}
#undef PUT
	return n;
}

static void test_random_fm_sessions(void **state)
{
	static uint8_t buf[1 << 14];
	uint64_t seed = 0x243f6a8885a308d3ULL;

	for (int i = 0; i < 2000; i++) {
		size_t n = make_input(&seed, buf, sizeof(buf));
		assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
	}
	/* the sessions got past the refusals: hosts accepted capacity and
	 * the zero-on-release invariant was exercised */
	assert_true(fz_stats.accepted > 10);
	assert_true(fz_stats.zeroed > 0);
}

/* A fixed session that must move capacity: offer 8 MiB free to host 0
 * (prescriptive extents would need exact bytes), accept it, mark it,
 * force it back; the invariants then see the marker zeroed. */
static void test_story(void **state)
{
	static const uint8_t steps[] = {
		/* sel % 11 picks the FM command: 0x48 is Initiate Add;
		 * host 0, no extents, policy 0 (free), region 0, 4 blocks,
		 * no tag */
		0x48, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		/* head 0 (0xa5 % 3) answers its offer (bit 2: add): one
		 * extent, the whole offered one (how 1; where, how much),
		 * no More, honest length */
		0xa5, 0x01, 0x01, 0x00, 0x00, 0x01, 0x01,
		/* head 0 writes its marker into the 4 blocks */
		0xf0,
		/* 0x40 is Initiate Release: host 0, one extent,
		 * prescriptive, forced, region byte, length, no tag; the
		 * extent: block 0, 4 blocks */
		0x40, 0x00, 0x01, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x04,
	};
	fz_stats.accepted = fz_stats.zeroed = 0;
	assert_int_equal(LLVMFuzzerTestOneInput(steps, sizeof(steps)), 0);
	assert_int_equal(fz_stats.accepted, 1);
	/* the released blocks carried the marker and read zero */
	assert_int_equal(fz_stats.zeroed, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_fm_sessions),
		cmocka_unit_test(test_story),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
