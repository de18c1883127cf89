/*
 * test_route.c - HPA -> DPA routing through window, host bridge, switch
 * and endpoint, at 1, 2, 4, 8 and 16 ways with and without a switch and
 * at 3, 6 and 12 ways, each under a modulo window and an XOR window; the
 * Linux-on-QEMU placement of the cxl.rst 4-way example; exact region
 * reads and writes; every routing miss.
 */
#include "fixture.h"

#include <errno.h>

/* For power-of-two interleaves Linux's position of region offset o is
 * (o / gran) mod ways, at DPA offset (o / (gran ways)) gran + o mod gran. */
static void check_linux_positions(struct fx *x, struct cx_region *r)
{
	uint64_t g = r->gran, w = (uint64_t)r->ways;
	uint64_t step = g / 2 + 3;
	for (uint64_t o = 0; o < r->size; o += step) {
		struct cx_route rt;
		if (cx_route_hpa(x->h, r->base + o, &rt, &x->err))
			fail_msg("offset %#llx: %s", (unsigned long long)o,
				 x->err.msg);
		assert_int_equal(rt.position, (int)((o / g) % w));
		assert_int_equal(rt.dpa, rt.decoder->dpa_base +
				 (o / (g * w)) * g + o % g);
		assert_int_equal(rt.contig, r->ways > 1 ? g - o % g :
				 r->size - o);
		if (o > 4 * 1024 * 1024 && o < r->size - 4 * 1024 * 1024)
			o += 4 * 1024 * 1024; /* sample the middle */
	}
}

/* The compiled table answers every HPA of the region as the walk does:
 * granule edges, both ends, and a spread of pseudo-random offsets. */
static void check_table(struct fx *x, struct cx_region *r)
{
	uint64_t g = r->gran, seed = 0x9e3779b97f4a7c15ULL ^ r->size;
	for (int i = 0; i < 4096; i++) {
		uint64_t o;
		if (i < 64)
			o = (uint64_t)i * g / 2 + (i & 1 ? g / 2 - 1 : 0);
		else if (i < 96)
			o = r->size - 1 - (uint64_t)(i - 64) * g / 3;
		else {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			o = seed % r->size;
		}
		struct cx_route a, b;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		if (cx_route_walk(x->h, r->base + o, &a, &x->err))
			fail_msg("walk at offset %#llx: %s",
				 (unsigned long long)o, x->err.msg);
		if (cx_route_fast(x->h, r->base + o, &b))
			fail_msg("the table has no answer at offset %#llx",
				 (unsigned long long)o);
		if (a.memdev != b.memdev || a.decoder != b.decoder ||
		    a.dpa != b.dpa || a.media != b.media ||
		    a.media_off != b.media_off || a.contig != b.contig ||
		    a.position != b.position || a.region != b.region ||
		    a.win != b.win)
			fail_msg("%d-way at %u B, offset %#llx: walk mem%d dpa "
				 "%#llx contig %#llx pos %d, table mem%d dpa "
				 "%#llx contig %#llx pos %d", r->ways, r->gran,
				 (unsigned long long)o, a.memdev->index,
				 (unsigned long long)a.dpa,
				 (unsigned long long)a.contig, a.position,
				 b.memdev ? b.memdev->index : -1,
				 (unsigned long long)b.dpa,
				 (unsigned long long)b.contig, b.position);
		/* and back: the DPA's region offset (poison listings) */
		uint64_t back = UINT64_MAX;
		if (cx_route_region_offset(r, a.decoder, a.dpa, &back) ||
		    back != o)
			fail_msg("%d-way at %u B: mem%d DPA %#llx comes back as "
				 "offset %#llx, not %#llx", r->ways, r->gran,
				 a.memdev->index, (unsigned long long)a.dpa,
				 (unsigned long long)back,
				 (unsigned long long)o);
	}
}

/* The host bridge each granule reaches is the window target the
 * specification's arithmetic names, computed here on its own: modulo,
 * (HPA / gran) mod ways; XOR, index bit i the parity of HPA & map i, and
 * for 3, 6 and 12 ways the HPA above the interleave bits modulo 3. */
static void check_window_targets(struct fx *x, struct cx_region *r)
{
	struct cx_window *w = r->win;
	uint64_t g = w->gran, seed = 0x2545f4914f6cdd1dULL ^ r->base;
	for (int i = 0; i < 2048; i++) {
		uint64_t o;
		if (i < 64)
			o = (uint64_t)i * g;
		else {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			o = seed % r->size;
		}
		uint64_t hpa = r->base + o;
		int t;
		if (w->arith == CX_ARITH_MODULO || w->ways == 1) {
			t = (int)((hpa / g) % (uint64_t)w->ways);
		} else {
			int n = w->nxormaps;
			t = 0;
			for (int b = 0; b < n; b++)
				t |= (__builtin_popcountll(hpa & w->xormap[b]) &
				      1) << b;
			if (cx_ways_mod3(w->ways))
				t += (1 << n) * (int)((hpa / g >> n) % 3);
		}
		struct cx_route rt;
		if (cx_route_hpa(x->h, hpa, &rt, &x->err))
			fail_msg("%s", x->err.msg);
		if (cx_memdev_hb(rt.memdev) != w->targets[t])
			fail_msg("%s window x%d: HPA %#llx reaches %s, not "
				 "target %d (%s)", w->arith == CX_ARITH_XOR ?
				 "XOR" : "modulo", w->ways,
				 (unsigned long long)hpa,
				 cx_memdev_hb(rt.memdev)->qid, t,
				 w->targets[t]->qid);
	}
}

static void full_check(struct fx *x, struct cx_region *r, bool linux_pos)
{
	fx_check_map(x, r);
	check_table(x, r);
	check_window_targets(x, r);
	if (linux_pos)
		check_linux_positions(x, r);
	uint64_t len = 3 * (uint64_t)r->gran * (uint64_t)r->ways + 77;
	fx_roundtrip(x, r, 0, len, 1);
	fx_roundtrip(x, r, r->size / 2 + 5, len, 2);
	fx_roundtrip(x, r, r->size - len, len, 3);
}

/* XOR maps for a window at granularity `gran`: map i has the
 * interleave bit it decides as its lowest bit, some bits above the
 * interleave bits, and bits above 28, where region bases differ. */
static void test_xormaps(struct cx_window *w)
{
	int eig = cx_gran_to_eig(w->gran);
	w->arith = CX_ARITH_XOR;
	w->nxormaps = cx_xormaps_for_ways(w->ways);
	for (int i = 0; i < w->nxormaps; i++) {
		int b = cx_xormap_bit(eig, i);
		w->xormap[i] = (1ULL << b) | (1ULL << (b + 6 + i)) |
			       (1ULL << (b + 11)) | (1ULL << (30 + i)) |
			       (1ULL << (34 + 2 * i));
	}
}

/* R bridges x H root ports x S switch ports (0: none), window over all
 * bridges at `wgran`, region over all devices in Linux order; once with
 * a modulo window, once with an XOR one. */
static void run_topology_arith(int R, int H, int S, uint32_t wgran,
			       uint32_t rgran, uint64_t dev, enum cx_arith a)
{
	struct fx *x = fx_new();
	char order[256];
	fx_tree(x, R, H, S, 0, dev);
	struct cx_window *w = fx_win_all(x, 64 * FX_GiB, wgran);
	if (a == CX_ARITH_XOR)
		test_xormaps(w);
	fx_start(x);
	struct cx_region_req q = fx_req(x, "decoder0.0",
					fx_linux_order(order, sizeof(order), R, H,
						    S), CX_MODE_PMEM, 0);
	q.gran = rgran;
	struct cx_region *r = NULL;
	if (cx_region_create(x->h, &q, &r, &x->err))
		fail_msg("%dx%dx%d: %s", R, H, S, x->err.msg);
	assert_int_equal(r->ways, R * H * (S ? S : 1));
	assert_int_equal(r->size, dev * (uint64_t)r->ways);
	full_check(x, r, !cx_ways_mod3(r->ways) &&
		   (a == CX_ARITH_MODULO || !w->nxormaps));
	fx_free(x);
}

static void run_topology(int R, int H, int S, uint32_t wgran, uint32_t rgran,
			 uint64_t dev)
{
	run_topology_arith(R, H, S, wgran, rgran, dev, CX_ARITH_MODULO);
	run_topology_arith(R, H, S, wgran, rgran, dev, CX_ARITH_XOR);
}

/* The QEMU cxl.rst example with Linux's result: 2 host bridges (bus 12
 * and 222) x 2 root ports x 4 pmem devices, window 8k over both; the
 * 4-way region in position order mem0, mem2, mem1, mem3 puts region
 * offset o on position (o / 8k) mod 4 at DPA (o / 32k) 8k + o mod 8k. */
static void test_linux_qemu_interleave4(void **state)
{
	struct fx *x = fx_new();
	struct cx_port *hb0 = fx_hb_nr(x, 12), *hb1 = fx_hb_nr(x, 222);
	fx_mem(x, fx_rp(x, hb0, 0), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb0, 1), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb1, 0), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb1, 1), 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 8192);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0",
					   "mem0,mem2,mem1,mem3", CX_MODE_PMEM,
					   0);
	static const int at[] = { 0, 2, 1, 3 };
	const uint64_t k8 = 8192, k32 = 32768;

	assert_int_equal(r->size, FX_GiB);
	for (int i = 0; i < 2; i++) {
		struct cx_decoder *d = &fx_hb_at(x, i)->decoders[0];
		assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&d->regs)), 2);
		assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&d->regs)), 16384);
	}
	for (int p = 0; p < 4; p++) {
		struct cx_decoder *d = r->targets[p];
		assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&d->regs)), 4);
		assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&d->regs)), 8192);
	}
	for (uint64_t o = 0; o < r->size; o += 4093) {
		struct cx_route rt;
		if (cx_route_hpa(x->h, r->base + o, &rt, &x->err))
			fail_msg("%s", x->err.msg);
		int pos = (int)((o / k8) % 4);
		assert_int_equal(rt.position, pos);
		assert_ptr_equal(rt.memdev, fx_m(x, at[pos]));
		assert_int_equal(rt.dpa, (o / k32) * k8 + o % k8);
		assert_ptr_equal(rt.media, fx_m(x, at[pos])->pmem);
		assert_int_equal(rt.media_off, rt.dpa);
		assert_ptr_equal(rt.region, r);
		assert_int_equal(rt.contig, k8 - o % k8);
		if (o > FX_MiB && o < r->size - FX_MiB)
			o += 3 * FX_MiB;
	}
	/* a write through the region is found in each device at that DPA */
	uint8_t msg[3 * 8192];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	uint64_t off = 5 * FX_MiB + 4096;
	assert_int_equal(cx_region_write(r, off, msg, sizeof(msg), &x->err), 0);
	for (size_t i = 0; i < sizeof(msg); i++) {
		uint64_t o = off + i;
		struct cx_memdev *m = fx_m(x, at[(o / k8) % 4]);
		assert_int_equal(m->pmem->map[(o / k32) * k8 + o % k8], msg[i]);
	}
	fx_check_map(x, r);
	fx_free(x);
}

static void test_ways_without_switch(void **state)
{
	run_topology(1, 1, 0, 256, 0, 256 * FX_MiB);    /* 1 */
	run_topology(2, 1, 0, 4096, 0, 256 * FX_MiB);   /* 2 over 2 HBs */
	run_topology(1, 2, 0, 256, 1024, 256 * FX_MiB); /* 2 over 2 RPs */
	run_topology(2, 2, 0, 1024, 0, 256 * FX_MiB);   /* 4 */
	run_topology(1, 4, 0, 4096, 4096, 256 * FX_MiB);/* 4, x1 root */
	run_topology(2, 4, 0, 1024, 0, 256 * FX_MiB);   /* 8 */
	run_topology(4, 4, 0, 256, 0, 256 * FX_MiB);    /* 16 */
	run_topology(2, 8, 0, 1024, 0, 256 * FX_MiB);   /* 16, HB x8 */
	run_topology(8, 1, 0, 512, 0, 256 * FX_MiB);    /* x8 window */
	run_topology(8, 2, 0, 2048, 0, 256 * FX_MiB);   /* 16 = 8 HB x 2 */
	run_topology(16, 1, 0, 1024, 0, 256 * FX_MiB);  /* x16 window */
}

static void test_ways_with_switch(void **state)
{
	run_topology(1, 1, 1, 256, 0, 256 * FX_MiB);    /* 1 */
	run_topology(1, 1, 2, 4096, 2048, 256 * FX_MiB);/* 2 */
	run_topology(1, 1, 4, 4096, 0, 256 * FX_MiB);   /* 4, cxl.rst */
	run_topology(2, 1, 2, 512, 0, 256 * FX_MiB);    /* 4 */
	run_topology(2, 2, 2, 1024, 0, 256 * FX_MiB);   /* 8 */
	run_topology(2, 2, 4, 512, 0, 256 * FX_MiB);    /* 16 */
	run_topology(1, 2, 8, 256, 1024, 256 * FX_MiB); /* 16, x1 root */
}

static void test_ways_modulo3(void **state)
{
	run_topology(3, 1, 0, 4096, 0, 256 * FX_MiB);   /* x3 window */
	run_topology(3, 2, 0, 4096, 0, 256 * FX_MiB);   /* 6 = 3 HB x 2 RP */
	run_topology(3, 4, 0, 1024, 0, 256 * FX_MiB);   /* 12 = 3 HB x 4 RP */
	run_topology(3, 2, 2, 1024, 0, 256 * FX_MiB);   /* 12 with switches */
	run_topology(6, 1, 0, 2048, 0, 256 * FX_MiB);   /* x6 window */
	run_topology(6, 2, 0, 1024, 0, 256 * FX_MiB);   /* 12 = 6 HB x 2 RP */
	run_topology(12, 1, 0, 1024, 0, 256 * FX_MiB);  /* x12 window */
}

/*
 * The one rule at 3, 6 and 12 ways: the window decodes the absolute HPA
 * (the platform's decoder; QEMU does the same, and Linux's translation
 * of unaligned MOD3 regions assumes it), the endpoints the offset into
 * their decoder.  With the region base a multiple of 3 x 256 MiB the two
 * agree on Linux's positions too; otherwise they differ in which device
 * a granule reaches, and every granule still has its own DPA (checked
 * by fx_check_map).
 */
static void test_modulo3_alignment(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 3, 2, 0, 0, FX_GiB);
	int hb0 = 0, all[3] = { 0, 1, 2 };
	fx_win(x, 256 * FX_MiB, 256, 1, &hb0); /* pushes the x3 window up */
	fx_win(x, 64 * FX_GiB, 1024, 3, all);
	fx_start(x);
	struct cx_window *w = x->h->windows.v[1];
	assert_int_equal(w->base % (3 * 256 * FX_MiB), 0);

	char order[128];
	struct cx_region *a = fx_create_ok(x, "decoder0.1",
					   fx_linux_order(order, sizeof(order), 3,
						       2, 0), CX_MODE_PMEM,
					   6 * 256 * FX_MiB);
	/* Linux programs the bridges below an x3 root with power-of-two
	 * math (IG = region IG, IW 2): QEMU then sends granule c to root
	 * port c mod 2 of bridge c mod 3, which is not Linux's position
	 * c mod 6 (for c = 1 it is position 4).  Bytes still land once
	 * each, inside the allocations. */
	full_check(x, a, false);
	/* the next region starts 6 x 256 MiB later: still aligned, and a
	 * plain x3 set agrees with Linux's positions */
	struct cx_region *b = fx_create_ok(x, "decoder0.1", "mem0,mem2,mem4",
					   CX_MODE_PMEM, 3 * 256 * FX_MiB);
	assert_int_equal(b->base, a->base + 6 * 256 * FX_MiB);
	full_check(x, b, true);
	fx_free(x);

	/* the default layout: the x3 window starts at 17 x 256 MiB */
	x = fx_new();
	fx_tree(x, 3, 1, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 3 * FX_GiB, 512);
	fx_start(x);
	w = x->h->windows.v[0];
	assert_int_not_equal(w->base % (3 * 256 * FX_MiB), 0);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0,mem1,mem2",
					   CX_MODE_PMEM, 0);
	full_check(x, r, false);
	/* the window (like QEMU's) picks the bridge by absolute HPA */
	for (uint64_t o = 0; o < 64 * 512; o += 512) {
		struct cx_route rt;
		assert_int_equal(cx_route_hpa(x->h, r->base + o, &rt, &x->err),
				 0);
		int t = -1;
		for (int k = 0; k < 3; k++)
			if (w->targets[k] == cx_memdev_hb(rt.memdev))
				t = k;
		assert_int_equal(t, (int)(((r->base + o) / 512) % 3));
		assert_int_equal(rt.dpa, (o / (3 * 512)) * 512);
	}
	fx_free(x);
}

/* The README's example: QEMU's first window for -m 4G,maxmem=8G,slots=8
 * starts at 0x490000000 (73 x 256 MiB); a 12-way window at 256 B there
 * sends a region's granule 0 to its target 4, under modulo arithmetic
 * and, the maps' other bits clear in that address, under XOR too. */
static void test_window_base_rule_example(void **state)
{
	for (int a = 0; a < 2; a++) {
		struct fx *x = fx_new();
		x->h->ram_size = 4 * FX_GiB;
		x->h->maxram_size = 8 * FX_GiB;
		x->h->ram_slots = 8;
		fx_tree(x, 12, 1, 0, 0, 256 * FX_MiB);
		struct cx_window *w = fx_win_all(x, 4 * FX_GiB, 256);
		if (a) {
			w->arith = CX_ARITH_XOR;
			w->nxormaps = 2;
			w->xormap[0] = 0x2020900;
			w->xormap[1] = 0x4041200;
		}
		fx_start(x);
		assert_int_equal(w->base, 0x490000000ULL);
		char order[256];
		struct cx_region *r = fx_create_ok(x, "decoder0.0",
			fx_linux_order(order, sizeof(order), 12, 1, 0),
			CX_MODE_PMEM, 0);
		struct cx_route rt;
		assert_int_equal(cx_route_hpa(x->h, r->base, &rt, &x->err), 0);
		assert_ptr_equal(cx_memdev_hb(rt.memdev), w->targets[4]);
		assert_int_equal(rt.position, 4);
		assert_int_equal(rt.dpa, 0);
		check_table(x, r);
		fx_free(x);
	}
}

/* The compiled table follows the decoders: after a destroy it answers
 * nothing there (the walk's error stands), and a new region at the same
 * HPA with another interleave is answered with the new layout. */
static void test_table_follows_decoders(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 4, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 4096);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0,mem1",
					   CX_MODE_PMEM, 0);
	uint64_t base = r->base, g = r->gran;
	struct cx_route rt;
	assert_int_equal(cx_route_fast(x->h, base + g, &rt), 0);
	assert_int_equal(rt.memdev->index, 1);
	fx_destroy_ok(x, r);
	assert_int_equal(cx_route_fast(x->h, base + g, &rt), -ENOENT);
	assert_int_equal(cx_route_hpa(x->h, base + g, &rt, &x->err), -ENXIO);
	assert_non_null(strstr(x->err.msg, "no committed decoder"));
	r = fx_create_ok(x, "decoder0.0", "mem3,mem2,mem1,mem0", CX_MODE_PMEM,
			 0);
	assert_int_equal(r->base, base);
	assert_int_equal(cx_route_hpa(x->h, base + r->gran, &rt, &x->err), 0);
	assert_int_equal(rt.memdev->index, 2);
	check_table(x, r);
	fx_free(x);
}

static void test_two_regions_keep_apart(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 2, 1, 0, 256 * FX_MiB, 512 * FX_MiB);
	fx_win_all(x, 16 * FX_GiB, 4096);
	fx_start(x);
	struct cx_region *v = fx_create_ok(x, "decoder0.0", "mem0,mem1",
					   CX_MODE_RAM, 0);
	struct cx_region *p = fx_create_ok(x, "decoder0.0", "mem0,mem1",
					   CX_MODE_PMEM, 0);
	assert_int_equal(v->mode, CX_MODE_RAM);
	full_check(x, p, true);
	fx_roundtrip(x, v, 0, 64 * 1024, 9);
	/* the pmem region's DPA starts after the volatile partition */
	struct cx_route rt;
	assert_int_equal(cx_route_hpa(x->h, p->base, &rt, &x->err), 0);
	assert_ptr_equal(rt.media, fx_m(x, 0)->pmem);
	assert_int_equal(rt.dpa, 256 * FX_MiB);
	fx_roundtrip(x, p, 0, 64 * 1024, 1); /* rewrite p, v must survive */
	uint8_t back[4096];
	assert_int_equal(cx_region_read(v, 4096, back, sizeof(back), &x->err),
			 0);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], fx_pat(4096 + i, 9));
	fx_free(x);
}

static void test_route_misses(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 2, 2, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_window *w = x->h->windows.v[0];
	struct cx_route rt;

	fx_expect(x, cx_route_hpa(x->h, 0x1000, &rt, &x->err), -ENXIO,
		  "HPA 0x1000 is in no CXL window of host host0");
	fx_expect(x, cx_route_hpa(x->h, w->base + w->size, &rt, &x->err),
		  -ENXIO, "no CXL window");
	fx_expect(x, cx_route_hpa(x->h, w->base, &rt, &x->err), -ENXIO,
		  "hits no committed decoder at port2 (host bridge cxl.1)");
	fx_expect(x, cx_route_hpa(x->h, w->base + 256, &rt, &x->err), -ENXIO,
		  "at port1 (host bridge cxl.2)");
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0,mem2",
					   CX_MODE_PMEM, 0);
	assert_int_equal(cx_route_hpa(x->h, r->base, &rt, &x->err), 0);
	/* past the region: the bridge decoders end there */
	fx_expect(x, cx_route_hpa(x->h, r->base + r->size, &rt, &x->err),
		  -ENXIO, "no committed decoder at port2");
	/* a hand-committed bridge decoder routing to a port without the
	 * region's endpoint decoder: the endpoint misses */
	struct cx_decoder *hd = &fx_hb_at(x, 0)->decoders[1];
	struct cx_port *rp1 = fx_hb_at(x, 0)->children.v[1];
	cx_hdm_set_base(&hd->regs, r->base + r->size);
	cx_hdm_set_size(&hd->regs, 256 * FX_MiB);
	cx_hdm_set_ig_iw(&hd->regs, 0, 0);
	cx_hdm_set_target(&hd->regs, 0, (uint8_t)rp1->port_num);
	hd->targets[0] = rp1;
	hd->nr_targets_set = 1;
	assert_int_equal(cx_decoder_commit(hd, &x->err), 0);
	char want[128];
	snprintf(want, sizeof(want), "HPA %#llx hits no committed decoder at "
		 "endpoint%d (mem1, cxl-mem1)",
		 (unsigned long long)(r->base + r->size),
		 fx_m(x, 1)->endpoint_id);
	fx_expect(x, cx_route_hpa(x->h, r->base + r->size, &rt, &x->err),
		  -ENXIO, want);
	fx_free(x);

	/* switches: no committed decoder at the upstream port */
	x = fx_new();
	fx_tree(x, 1, 1, 2, 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	w = x->h->windows.v[0];
	fx_expect(x, cx_route_hpa(x->h, w->base, &rt, &x->err), -ENXIO,
		  "no committed decoder at port2 (switch upstream port usp0)");
	fx_free(x);

	/* a root port with nothing below it */
	x = fx_new();
	fx_rp(x, fx_hb(x), 0);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	w = x->h->windows.v[0];
	fx_expect(x, cx_route_hpa(x->h, w->base, &rt, &x->err), -ENXIO,
		  "reaches root port rp0, which has nothing below it");
	fx_free(x);

	/* regions can be assembled before the media exist; routing says so */
	x = fx_new();
	fx_tree(x, 1, 1, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 256);
	cx_fabric_finalize(x->f);
	r = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_NONE, 0);
	fx_expect(x, cx_route_hpa(x->h, r->base, &rt, &x->err), -ENXIO,
		  "is the fabric started?");
	uint8_t b[8];
	fx_expect(x, cx_region_read(r, 0, b, sizeof(b), &x->err), -ENXIO,
		  "region0 offset 0");
	fx_free(x);
}

static void test_region_rw_bounds(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_NONE,
					   0);
	uint8_t b[512] = { 1 };
	assert_int_equal(r->size, 512 * FX_MiB);
	fx_expect(x, cx_region_read(r, r->size - 100, b, 200, &x->err),
		  -ERANGE, "past the region's 0x20000000 bytes");
	fx_expect(x, cx_region_write(r, r->size + 1, b, 0, &x->err), -ERANGE,
		  "past the region");
	fx_expect(x, cx_region_write(r, 8, b, UINT64_MAX, &x->err), -ERANGE,
		  "past the region");
	fx_expect(x, cx_region_read(r, 0, NULL, 8, &x->err), -EINVAL,
		  "no buffer");
	assert_int_equal(cx_region_read(r, r->size, b, 0, &x->err), 0);
	/* nothing written by a refused write */
	assert_int_equal(cx_region_read(r, r->size - 100, b, 100, &x->err), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(b[i], 0);
	/* the last byte, and a span crossing every granule boundary */
	memset(b, 0xa5, sizeof(b));
	assert_int_equal(cx_region_write(r, r->size - 1, b, 1, &x->err), 0);
	assert_int_equal(fx_m(x, 1)->vmem->map[256 * FX_MiB - 1], 0xa5);
	fx_roundtrip(x, r, 100, 5000, 4);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_qemu_interleave4),
		cmocka_unit_test(test_ways_without_switch),
		cmocka_unit_test(test_ways_with_switch),
		cmocka_unit_test(test_ways_modulo3),
		cmocka_unit_test(test_table_follows_decoders),
		cmocka_unit_test(test_modulo3_alignment),
		cmocka_unit_test(test_window_base_rule_example),
		cmocka_unit_test(test_two_regions_keep_apart),
		cmocka_unit_test(test_route_misses),
		cmocka_unit_test(test_region_rw_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
