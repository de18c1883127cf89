/*
 * test_xor.c - windows with XOR interleave arithmetic: the arithmetic
 * itself (spec.c), and translation against the samples ndctl's
 * test/cxl-translate.sh carries: its sample sets (modulo and XOR) and
 * the XOR tables of the CXL Type 3 memory device software guide
 * (sections 2.13.24.1 and 25.1), on fabrics shaped like each sample (N
 * host bridges, the region's devices below them in Linux's position
 * order, the window at 256 B with the maps ndctl's test/translate.c uses
 * for the guide's samples: 0x2020900, 0x4041200, 0x1010400, 0x800).
 *
 * A sample gives a DPA offset, an interleave position and the HPA offset
 * the guide computes for them; routing base + HPA offset must reach the
 * device at that position and that DPA offset of its decoder.  Every
 * sample of the script is expressible: each is a region interleaving
 * every host bridge of its window (4 or 12 ways over as many bridges, 8
 * ways over 4 bridges of 2 root ports) at 256 B.
 */
#include "fixture.h"

#include <errno.h>

/* ---- the arithmetic ---- */

static void test_maps_per_ways(void **state)
{
	static const int want[17] = {
		[1] = 0, [2] = 1, [3] = 0, [4] = 2, [6] = 1, [8] = 3,
		[12] = 2, [16] = 4,
	};
	for (int w = 1; w <= 16; w++)
		assert_int_equal(cx_xormaps_for_ways(w),
				 cx_ways_valid(w) ? want[w] : -1);
	assert_int_equal(cx_xormaps_for_ways(0), -1);
	assert_int_equal(cx_xormap_bit(0, 0), 8);
	assert_int_equal(cx_xormap_bit(2, 1), 11);
}

static void test_fold_and_target(void **state)
{
	const uint64_t m[2] = { 0x404100, 0x808200 };
	/* bit 8 := parity(bits 8, 14, 22), bit 9 := parity(9, 15, 23) */
	assert_int_equal(cx_xor_fold(0, m, 2), 0);
	assert_int_equal(cx_xor_fold(0x4000, m, 2), 0x4100);
	assert_int_equal(cx_xor_fold(0x4100, m, 2), 0x4000);
	assert_int_equal(cx_xor_fold(0x404000, m, 2), 0x404000);
	assert_int_equal(cx_xor_fold(0x408000, m, 2), 0x408300);
	assert_int_equal(cx_xor_fold(0x8000, m, 2), 0x8200);
	/* the parities read the HPA given, not one already folded */
	const uint64_t c[2] = { 0x300, 0x200 };
	assert_int_equal(cx_xor_fold(0x200, c, 2), 0x300);
	/* x4 XOR at 256 B; x4 modulo; x12 XOR: 2 bits + mod 3 above */
	assert_int_equal(cx_cfmws_target(0x4000, 256, 4, m, 2), 1);
	assert_int_equal(cx_cfmws_target(0x4000, 256, 4, NULL, 0), 0);
	assert_int_equal(cx_cfmws_target(0x8000, 256, 4, m, 2), 2);
	assert_int_equal(cx_cfmws_target(0x400, 256, 12, m, 2), 4);
	assert_int_equal(cx_cfmws_target(0x4400, 256, 12, m, 2), 9);
	assert_int_equal(cx_cfmws_target(0x800, 256, 12, m, 2), 8);
	assert_int_equal(cx_cfmws_target(0xc00, 256, 12, m, 2), 0);
	/* x3 under XOR takes no maps: plain modulo 3 */
	assert_int_equal(cx_cfmws_target(3 * 512, 512, 3, NULL, 0), 0);
	assert_int_equal(cx_cfmws_target(5 * 512, 512, 3, NULL, 0), 2);
}

/* ---- the guide's samples ---- */

/* the maps translate.c gives the guide's host bridge interleaves */
static const uint64_t guide_maps[4] = { 0x2020900, 0x4041200, 0x1010400,
					0x800 };

struct sample {
	uint64_t dpa;
	int pos;
	uint64_t hpa;
};

/* A fabric of `hbs` bridges with `per` root ports each, a 256 MiB x1
 * window first (it puts the interleaving window at a multiple of 768 MiB,
 * where the guide's HPA offsets are HPA bits), the window over all
 * bridges at 256 B, and a region over every device in position order. */
static struct cx_region *guide_fabric(struct fx **xp, int hbs, int per,
				      enum cx_arith a)
{
	struct fx *x = fx_new();
	char order[256];
	int hb0 = 0;
	fx_tree(x, hbs, per, 0, 0, 512 * FX_MiB);
	fx_win(x, 256 * FX_MiB, 256, 1, &hb0);
	struct cx_window *w = fx_win_all(x, 16 * FX_GiB, 256);
	if (a == CX_ARITH_XOR) {
		w->arith = CX_ARITH_XOR;
		w->nxormaps = cx_xormaps_for_ways(hbs);
		for (int i = 0; i < w->nxormaps; i++)
			w->xormap[i] = guide_maps[i];
	}
	fx_start(x);
	assert_int_equal(w->base % (768 * FX_MiB), 0);
	struct cx_region *r = fx_create_ok(x, "decoder0.1",
					   fx_linux_order(order, sizeof(order),
							  hbs, per, 0),
					   CX_MODE_PMEM, 0);
	assert_int_equal(r->ways, hbs * per);
	assert_int_equal(r->gran, 256);
	*xp = x;
	return r;
}

/* Route the sample's HPA offset: the device at its position, at its DPA
 * offset; then the other way, the DPA of that position routes back. */
static void check_sample(struct fx *x, struct cx_region *r,
			 const struct sample *s, const char *set)
{
	struct cx_route rt;
	if (cx_route_hpa(x->h, r->base + s->hpa, &rt, &x->err))
		fail_msg("%s: HPA offset %llu: %s", set,
			 (unsigned long long)s->hpa, x->err.msg);
	struct cx_decoder *d = r->targets[s->pos];
	if (rt.position != s->pos || rt.decoder != d ||
	    rt.dpa - d->dpa_base != s->dpa)
		fail_msg("%s: HPA offset %llu routes to position %d, DPA offset "
			 "%llu; the guide has position %d, DPA offset %llu", set,
			 (unsigned long long)s->hpa, rt.position,
			 (unsigned long long)(rt.dpa - rt.decoder->dpa_base),
			 s->pos, (unsigned long long)s->dpa);
}

static void run_samples(int hbs, int per, enum cx_arith a,
			const struct sample *s, int n, const char *set)
{
	struct fx *x;
	struct cx_region *r = guide_fabric(&x, hbs, per, a);
	for (int i = 0; i < n; i++)
		check_sample(x, r, &s[i], set);
	fx_free(x);
}

/* A sample set: for DPA offsets, the HPA offset of every position. */
static void run_set(int hbs, int per, enum cx_arith a, const uint64_t *dpa,
		    int ndpa, const uint64_t *hpa, const char *set)
{
	int ways = hbs * per;
	struct sample s[64];
	int n = 0;
	for (int i = 0; i < ndpa; i++)
		for (int p = 0; p < ways; p++)
			s[n++] = (struct sample){ dpa[i], p, hpa[i * ways + p] };
	run_samples(hbs, per, a, s, n, set);
}

/* Sample_4R_4H: 4-way region over 4 host bridges */
static void test_sample_4r_4h(void **state)
{
	static const uint64_t dpa[] = { 0, 256, 2048 };
	static const uint64_t modulo[] = {
		0, 256, 512, 768, 1024, 1280, 1536, 1792,
		8192, 8448, 8704, 8960,
	};
	/* the set's XOR HPAs are the modulo ones: no map bit above 9 is
	 * set in them */
	run_set(4, 1, CX_ARITH_MODULO, dpa, 3, modulo, "4R_4H modulo");
	run_set(4, 1, CX_ARITH_XOR, dpa, 3, modulo, "4R_4H xor");
}

/* Sample_12R_12H: 12-way region over 12 host bridges */
static void test_sample_12r_12h(void **state)
{
	static const uint64_t dpa[] = { 0, 512 };
	static const uint64_t modulo[] = {
		0, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 2560,
		2816,
		6144, 6400, 6656, 6912, 7168, 7424, 7680, 7936, 8192, 8448,
		8704, 8960,
	};
	static const uint64_t xor[] = {
		0, 256, 512, 768, 1024, 1280, 1536, 1792, 2304, 2048, 2816,
		2560,
		6912, 6656, 6400, 6144, 7936, 7680, 7424, 7168, 8192, 8448,
		8704, 8960,
	};
	run_set(12, 1, CX_ARITH_MODULO, dpa, 2, modulo, "12R_12H modulo");
	run_set(12, 1, CX_ARITH_XOR, dpa, 2, xor, "12R_12H xor");
}

/* XOR_Table_4R_4H: dpa pos hpa */
static void test_xor_table_4r_4h(void **state)
{
	static const struct sample s[] = {
		{ 248, 0, 248 }, { 16, 1, 272 }, { 16, 2, 528 },
		{ 32, 3, 800 }, { 288, 0, 1056 }, { 288, 1, 1312 },
		{ 288, 2, 1568 }, { 288, 3, 1824 }, { 544, 1, 2080 },
		{ 544, 0, 2336 }, { 544, 3, 2592 }, { 1040, 2, 4112 },
		{ 1568, 3, 6176 }, { 32784, 1, 131088 },
		{ 65552, 2, 262160 }, { 98336, 3, 393248 },
		{ 98328, 2, 393496 }, { 98352, 2, 393520 },
		{ 443953523, 0, 1775813747 },
	};
	run_samples(4, 1, CX_ARITH_XOR, s, (int)CX_ARRAY_SIZE(s), "4R_4H");
}

/* XOR_Table_8R_4H: 8-way region over 4 host bridges, 2 devices each */
static void test_xor_table_8r_4h(void **state)
{
	static const struct sample s[] = {
		{ 248, 0, 248 }, { 16, 1, 272 }, { 16, 2, 528 },
		{ 32, 3, 800 }, { 272, 1, 2064 }, { 528, 2, 4112 },
		{ 800, 3, 6176 }, { 16400, 1, 131088 },
		{ 32784, 2, 262160 }, { 49184, 3, 393248 },
		{ 49176, 2, 393496 }, { 49200, 2, 393520 },
		{ 116520373, 3, 932162229 }, { 244690459, 5, 1957525275 },
		{ 292862215, 5, 2342899463 }, { 30721158, 4, 245769350 },
		{ 246386959, 4, 1971096847 }, { 72701249, 5, 581610561 },
		{ 529382429, 5, 4235060509 }, { 191132300, 2, 1529057420 },
		{ 18589081, 1, 148712089 }, { 344295715, 7, 2754367011 },
	};
	run_samples(4, 2, CX_ARITH_XOR, s, (int)CX_ARRAY_SIZE(s), "8R_4H");
}

/* XOR_Table_12R_12H: 12-way region over 12 host bridges */
static void test_xor_table_12r_12h(void **state)
{
	static const struct sample s[] = {
		{ 224, 0, 224 }, { 16, 1, 272 }, { 16, 2, 528 },
		{ 32, 3, 800 }, { 32, 4, 1056 }, { 32, 5, 1312 },
		{ 32, 6, 1568 }, { 32, 7, 1824 }, { 32, 9, 2080 },
		{ 32, 8, 2336 }, { 32, 11, 2592 }, { 32, 10, 2848 },
		{ 288, 0, 3360 }, { 299017087, 7, 3588205439 },
		{ 329210435, 0, 3950524995 }, { 151050637, 11, 1812608653 },
		{ 145169214, 2, 1742030654 }, { 328998732, 10, 3947985996 },
		{ 159252439, 3, 1911027415 }, { 342098916, 5, 4105186020 },
		{ 97970344, 8, 1175645096 }, { 214995572, 8, 2579948404 },
		{ 101289661, 7, 1215475645 }, { 40424079, 7, 485088911 },
		{ 231458716, 7, 2777503900 },
	};
	run_samples(12, 1, CX_ARITH_XOR, s, (int)CX_ARRAY_SIZE(s),
		    "12R_12H");
}

/* The comparison can fail: under a modulo window the guide's XOR HPAs
 * reach other devices. */
static void test_samples_tell_arithmetics_apart(void **state)
{
	struct fx *x;
	struct cx_region *r = guide_fabric(&x, 12, 1, CX_ARITH_MODULO);
	struct cx_route rt;
	/* XOR: DPA 32 of position 9 at HPA offset 2080; modulo: position 8 */
	assert_int_equal(cx_route_hpa(x->h, r->base + 2080, &rt, &x->err), 0);
	assert_int_equal(rt.position, 8);
	fx_free(x);
	r = guide_fabric(&x, 4, 1, CX_ARITH_MODULO);
	/* XOR: DPA 544 of position 1 at 2080; modulo: position 0 */
	assert_int_equal(cx_route_hpa(x->h, r->base + 2080, &rt, &x->err), 0);
	assert_int_equal(rt.position, 0);
	fx_free(x);
}

/*
 * Positions under an XOR window are checked as under a modulo one: the
 * endpoint's host bridge must be target pos mod ways (the CFMWS lists its
 * targets in interleave target order), through create-region and
 * through the sysfs stages; the region then routes as the maps say.
 */
static void test_positions_on_xor_window(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 2, 1, 0, 0, 256 * FX_MiB);
	struct cx_window *w = fx_win_all(x, 4 * FX_GiB, 256);
	w->arith = CX_ARITH_XOR;
	w->nxormaps = 1;
	w->xormap[0] = 0x404100;
	fx_start(x);
	struct cx_region *r = NULL;
	fx_expect(x, fx_create(x, "decoder0.0", "mem1,mem0", CX_MODE_PMEM, 0,
			       &r), -ENXIO, "invalid target position: mem1 at "
		  "position 0");

	/* the sysfs stages: size, then targets */
	assert_int_equal(cx_region_stage_create(x->h, w, CX_MODE_PMEM, 0, &r,
						&x->err), 0);
	assert_int_equal(cx_region_set_uuid(r, "2f1b9a36-5e0c-4c1e-9d3a-"
					    "0a1b2c3d4e5f", &x->err), 0);
	assert_int_equal(cx_region_set_gran(r, 256, &x->err), 0);
	assert_int_equal(cx_region_set_ways(r, 2, &x->err), 0);
	assert_int_equal(cx_region_set_size(r, 512 * FX_MiB, &x->err), 0);
	struct cx_decoder *d[2];
	for (int i = 0; i < 2; i++) {
		d[i] = &fx_m(x, i)->decoders[0];
		assert_int_equal(cx_decoder_set_mode(d[i], CX_MODE_PMEM,
						     &x->err), 0);
		assert_int_equal(cx_decoder_set_dpa_size(d[i], 256 * FX_MiB,
							 &x->err), 0);
	}
	fx_expect(x, cx_region_set_target(r, 0, d[1], &x->err), -ENXIO,
		  "is an invalid target for position 0: decoder0.0 sends it "
		  "to host bridge cxl.1");
	assert_int_equal(cx_region_set_target(r, 0, d[0], &x->err), 0);
	assert_int_equal(cx_region_set_target(r, 1, d[1], &x->err), 0);
	if (cx_region_set_commit(r, true, &x->err))
		fail_msg("commit: %s", x->err.msg);
	assert_true(r->committed);
	/* offset 0x4000 has HPA bit 14: the map sends it to position 1 */
	struct cx_route rt;
	assert_int_equal(cx_route_hpa(x->h, r->base + 0x4000, &rt, &x->err),
			 0);
	assert_int_equal(rt.position, 1);
	assert_int_equal(rt.dpa - d[1]->dpa_base, 0x2000);
	fx_check_map(x, r);
	fx_roundtrip(x, r, 0x3f00, 0x300, 5);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_per_ways),
		cmocka_unit_test(test_fold_and_target),
		cmocka_unit_test(test_sample_4r_4h),
		cmocka_unit_test(test_sample_12r_12h),
		cmocka_unit_test(test_xor_table_4r_4h),
		cmocka_unit_test(test_xor_table_8r_4h),
		cmocka_unit_test(test_xor_table_12r_12h),
		cmocka_unit_test(test_samples_tell_arithmetics_apart),
		cmocka_unit_test(test_positions_on_xor_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
