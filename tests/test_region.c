/*
 * test_region.c - region assembly: cxl create-region's defaults, every
 * rule Linux applies while attaching targets (and its error), per-level
 * interleave programming, destroy order, and "a refused request changes
 * nothing".
 */
#include "fixture.h"

#include <errno.h>

static struct cx_window *win(struct fx *x, int i)
{
	return x->h->windows.v[i];
}

static struct fx_snap *snap(struct fx *x)
{
	struct fx_snap *s = malloc(sizeof(*s));
	assert_non_null(s);
	fx_snap_take(x, s);
	return s;
}

static void snap_same_free(struct fx *x, struct fx_snap *s)
{
	fx_snap_same(x, s);
	free(s);
}

static void check_uuid(const char *u)
{
	assert_int_equal(strlen(u), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", u[i]));
	}
	assert_int_equal(u[14], '4');
}

static void test_single_device_defaults(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 1, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_window *w = win(x, 0);
	struct cx_port *hb = fx_hb_at(x, 0);
	struct cx_memdev *m = fx_m(x, 0);

	assert_int_equal(cx_window_max_extent(w), 4 * FX_GiB);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_NONE,
					   0);
	assert_int_equal(r->id, 0);
	assert_ptr_equal(cx_region_find(x->h, "region0"), r);
	assert_int_equal(x->h->next_region_id, 1);
	assert_ptr_equal(r->win, w);
	assert_int_equal(r->base, w->base);
	assert_int_equal(r->size, 256 * FX_MiB);
	assert_int_equal(r->ways, 1);
	assert_int_equal(r->gran, 256);
	assert_int_equal(r->mode, CX_MODE_PMEM);
	assert_true(r->committed);
	check_uuid(r->uuid);
	assert_int_equal(cx_window_max_extent(w), 4 * FX_GiB - 256 * FX_MiB);

	/* endpoint */
	struct cx_decoder *ed = &m->decoders[0];
	assert_ptr_equal(r->targets[0], ed);
	assert_ptr_equal(ed->region, r);
	assert_int_equal(ed->pos, 0);
	assert_int_equal(ed->mode, CX_MODE_PMEM);
	assert_int_equal(ed->dpa_base, 0);
	assert_int_equal(ed->dpa_size, 256 * FX_MiB);
	assert_true(cx_hdm_committed(&ed->regs));
	assert_int_equal(cx_hdm_base(&ed->regs), w->base);
	assert_int_equal(cx_hdm_size(&ed->regs), 256 * FX_MiB);
	assert_int_equal(cx_hdm_iw(&ed->regs), 0);
	/* the passthrough bridge's software decoder, programmed as Linux does */
	struct cx_decoder *hd = &hb->decoders[0];
	assert_true(hb->passthrough);
	assert_ptr_equal(hd->region, r);
	assert_true(cx_hdm_committed(&hd->regs));
	assert_int_equal(cx_hdm_base(&hd->regs), w->base);
	assert_int_equal(cx_hdm_size(&hd->regs), 256 * FX_MiB);
	assert_int_equal(cx_hdm_iw(&hd->regs), 0);
	assert_int_equal(hd->nr_targets_set, 1);
	assert_ptr_equal(hd->targets[0], hb->children.v[0]);

	/* the device is full now */
	struct cx_region *r2 = NULL;
	fx_expect(x, fx_create(x, "decoder0.0", NULL, CX_MODE_NONE, 0, &r2),
		  -ENOSPC, "no free pmem");
	assert_null(r2);
	fx_free(x);
}

static void test_mode_defaults(void **state)
{
	struct fx *x = fx_new();
	struct cx_port *hb = fx_hb(x);
	fx_mem(x, fx_rp(x, hb, 0), 512 * FX_MiB, 0);          /* mem0: ram */
	fx_mem(x, fx_rp(x, hb, 1), 512 * FX_MiB, 512 * FX_MiB); /* mem1 */
	fx_mem(x, fx_rp(x, hb, 2), 0, 512 * FX_MiB);          /* mem2: pmem */
	fx_win_all(x, 8 * FX_GiB, 256);
	fx_start(x);

	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0",
					   CX_MODE_NONE, 0);
	assert_int_equal(r->mode, CX_MODE_RAM);
	assert_string_equal(r->uuid, "");
	r = fx_create_ok(x, "decoder0.0", "mem1", CX_MODE_NONE, 256 * FX_MiB);
	assert_int_equal(r->mode, CX_MODE_PMEM);
	assert_int_equal(r->targets[0]->dpa_base, 512 * FX_MiB);
	/* the pmem allocation skipped mem1's ram */
	assert_int_equal(cx_memdev_free_capacity(fx_m(x, 1), CX_MODE_RAM), 0);
	fx_expect(x, fx_create(x, "decoder0.0", "mem1", CX_MODE_RAM, 0, NULL),
		  -ENOSPC, "no free ram");
	fx_expect(x, fx_create(x, "decoder0.0", "mem2", CX_MODE_RAM, 0, NULL),
		  -ENXIO, "has no ram capacity");
	/* a ram-only and a pmem-only device: no common default */
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem2", CX_MODE_NONE, 0,
			       NULL), -ENXIO, "no ram capacity");
	fx_expect(x, fx_create(x, "decoder0.0", "mem2", CX_MODE_MIXED, 0,
			       NULL), -EINVAL, "ram, pmem or dynamic_ram_a");
	fx_free(x);
}

/* QEMU's cxl.rst 4-way example: the Linux result in real-outputs/. */
static void test_interleave4_programming(void **state)
{
	struct fx *x = fx_new();
	struct cx_port *hb0 = fx_hb_nr(x, 12), *hb1 = fx_hb_nr(x, 222);
	fx_mem(x, fx_rp(x, hb0, 0), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb0, 1), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb1, 0), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb1, 1), 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 8192);
	fx_start(x);

	struct fx_snap *s = snap(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1,mem2,mem3",
			       CX_MODE_PMEM, 0, NULL), -ENXIO,
		  "invalid target position: mem1 at position 1");
	snap_same_free(x, s);

	struct cx_region *r = fx_create_ok(x, "decoder0.0",
					   "mem0,mem2,mem1,mem3", CX_MODE_PMEM,
					   0);
	assert_int_equal(r->size, FX_GiB);
	assert_int_equal(r->ways, 4);
	assert_int_equal(r->gran, 8192);
	assert_int_equal(cx_window_max_extent(win(x, 0)), 3 * FX_GiB);
	static const int order[] = { 0, 2, 1, 3 };
	for (int p = 0; p < 4; p++) {
		struct cx_decoder *d = r->targets[p];
		assert_ptr_equal(d->memdev, fx_m(x, order[p]));
		assert_int_equal(d->id, 0);
		assert_int_equal(d->pos, p);
		assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&d->regs)), 4);
		assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&d->regs)), 8192);
		assert_int_equal(d->dpa_size, 256 * FX_MiB);
		assert_int_equal(cx_hdm_base(&d->regs), r->base);
		assert_int_equal(cx_hdm_size(&d->regs), FX_GiB);
	}
	struct cx_port *hbs[2] = { hb0, hb1 };
	for (int i = 0; i < 2; i++) {
		struct cx_decoder *d = &hbs[i]->decoders[0];
		assert_ptr_equal(d->region, r);
		assert_true(cx_hdm_committed(&d->regs));
		assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&d->regs)), 2);
		assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&d->regs)), 16384);
		assert_int_equal(cx_hdm_base(&d->regs), r->base);
		assert_int_equal(cx_hdm_size(&d->regs), FX_GiB);
		/* targets in order of first appearance by position */
		assert_int_equal(cx_hdm_target(&d->regs, 0), 0);
		assert_int_equal(cx_hdm_target(&d->regs, 1), 1);
		assert_ptr_equal(d->targets[0], hbs[i]->children.v[0]);
		assert_ptr_equal(d->targets[1], hbs[i]->children.v[1]);
	}
	fx_check_map(x, r);
	fx_free(x);
}

static struct fx *hb2x2(uint32_t gran)
{
	struct fx *x = fx_new();
	fx_tree(x, 2, 2, 0, 0, 512 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, gran);
	fx_start(x);
	return x;
}

static void test_ways_rules(void **state)
{
	struct fx *x = hb2x2(4096);
	struct cx_region_req q = fx_req(x, "decoder0.0", "mem0,mem2,mem1,mem3",
					CX_MODE_PMEM, 0);
	q.ways = 8;
	fx_expect(x, cx_region_create(x->h, &q, NULL, &x->err), -EINVAL,
		  "interleave ways 8 is greater than the number of memdevs "
		  "given (4)");
	q.ways = 2;
	fx_expect(x, cx_region_create(x->h, &q, NULL, &x->err), -EINVAL,
		  "interleave ways 2 is less than the number of memdevs given "
		  "(4)");
	q.ways = 4;
	struct cx_region *r = NULL;
	assert_int_equal(cx_region_create(x->h, &q, &r, &x->err), 0);
	assert_int_equal(r->ways, 4);
	/* x2 root: a 1-way region is not a multiple of the root ways */
	fx_expect(x, fx_create(x, "decoder0.0", "mem0", CX_MODE_PMEM, 0, NULL),
		  -EINVAL, "power of two multiple of the 2 ways");
	fx_free(x);

	x = fx_new();
	fx_tree(x, 1, 5, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 256);
	fx_start(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1,mem2", CX_MODE_PMEM,
			       0, NULL), -EINVAL,
		  "power of two multiple of the 1 ways");
	fx_expect(x, fx_create(x, "decoder0.0", NULL, CX_MODE_PMEM, 0, NULL),
		  -EINVAL, "interleave ways 5 is not a valid encoding");
	fx_free(x);
}

static void test_granularity_rules(void **state)
{
	struct fx *x = hb2x2(8192);
	struct cx_region_req q = fx_req(x, "decoder0.0", "mem0,mem2",
					CX_MODE_PMEM, 0);
	q.gran = 4096;
	fx_expect(x, cx_region_create(x->h, &q, NULL, &x->err), -EINVAL,
		  "for an x2 root, only the root decoder granularity (8192)");
	q.gran = 8192;
	struct cx_region *r = NULL;
	assert_int_equal(cx_region_create(x->h, &q, &r, &x->err), 0);
	assert_int_equal(r->gran, 8192);
	fx_free(x);

	/* x1 roots report 256 and accept any valid granularity */
	x = fx_new();
	fx_tree(x, 1, 2, 0, 0, 512 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 4096);
	fx_start(x);
	r = fx_create_ok(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM,
			 512 * FX_MiB);
	assert_int_equal(r->gran, 256);
	q = fx_req(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM, 512 * FX_MiB);
	q.gran = 300;
	fx_expect(x, cx_region_create(x->h, &q, NULL, &x->err), -EINVAL,
		  "granularity 300 is not valid");
	q.gran = 16384;
	assert_int_equal(cx_region_create(x->h, &q, &r, &x->err), 0);
	assert_int_equal(r->gran, 16384);
	assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&r->targets[0]->regs)),
			 16384);
	fx_free(x);

	/* a x2 root at 16k makes the host bridge granularity 32k */
	x = hb2x2(16384);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem2", CX_MODE_PMEM, 0,
			       NULL), -EINVAL, "more than the 16384");
	fx_free(x);
}

static void test_size_rules(void **state)
{
	struct fx *x = fx_new();
	struct cx_port *hb = fx_hb(x);
	fx_mem(x, fx_rp(x, hb, 0), 0, 2 * FX_GiB);
	fx_mem(x, fx_rp(x, hb, 1), 0, 768 * FX_MiB);
	fx_win_all(x, FX_GiB, 256);
	fx_start(x);

	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM,
			       256 * FX_MiB, NULL), -EINVAL,
		  "not a multiple of 256 MiB x 2 ways");
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM,
			       2 * FX_GiB, NULL), -ENOSPC,
		  "exceeds the largest free extent");
	/* default: min free capacity x ways (1.5G), capped to the window */
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0,mem1",
					   CX_MODE_PMEM, 0);
	assert_int_equal(r->size, FX_GiB);
	assert_int_equal(cx_window_max_extent(win(x, 0)), 0);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0", CX_MODE_PMEM, 0, NULL),
		  -ENOSPC, "no free extent");
	fx_destroy_ok(x, r);
	fx_free(x);

	/* default: min over the devices of their free capacity x ways */
	x = fx_new();
	hb = fx_hb(x);
	fx_mem(x, fx_rp(x, hb, 0), 0, 2 * FX_GiB);
	fx_mem(x, fx_rp(x, hb, 1), 0, 768 * FX_MiB);
	fx_win_all(x, 16 * FX_GiB, 256);
	fx_start(x);
	r = fx_create_ok(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM, 0);
	assert_int_equal(r->size, 1536 * FX_MiB);
	fx_destroy_ok(x, r);
	/* explicit size beyond one device: refused at its DPA allocation */
	struct fx_snap *s = snap(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM,
			       2 * FX_GiB, NULL), -ENOSPC,
		  "position 1: mem1: 0x40000000 bytes of pmem requested");
	snap_same_free(x, s);
	fx_free(x);
}

static void test_request_errors(void **state)
{
	struct fx *x = hb2x2(4096);
	fx_expect(x, fx_create(x, NULL, "mem0,mem2", CX_MODE_PMEM, 0, NULL),
		  -EINVAL, "root decoder is required");
	fx_expect(x, fx_create(x, "decoder0.7", "mem0,mem2", CX_MODE_PMEM, 0,
			       NULL), -ENXIO, "decoder0.7 not found");
	fx_expect(x, fx_create(x, "decoder1.0", "mem0,mem2", CX_MODE_PMEM, 0,
			       NULL), -EINVAL, "not a root decoder");
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem9", CX_MODE_PMEM, 0,
			       NULL), -ENODEV, "memdev mem9 not found");
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem0", CX_MODE_PMEM, 0,
			       NULL), -EBUSY, "given at positions 0 and 1");
	/* by QEMU id too */
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "cxl-mem1,cxl-mem3",
					   CX_MODE_PMEM, 0);
	assert_ptr_equal(r->targets[0]->memdev, fx_m(x, 1));
	fx_free(x);

	/* a memdev below a bridge the window does not target */
	x = fx_new();
	fx_tree(x, 2, 1, 0, 0, 256 * FX_MiB);
	int hb0 = 0;
	fx_win(x, 4 * FX_GiB, 256, 1, &hb0);
	fx_start(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem1", CX_MODE_PMEM, 0, NULL),
		  -ENXIO, "invalid target position");
	/* default memdevs: only those below the window's bridges */
	r = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_NONE, 0);
	assert_int_equal(r->ways, 1);
	assert_ptr_equal(r->targets[0]->memdev, fx_m(x, 0));
	fx_free(x);
}

/* ndctl takes the memdevs in memdev order when none are given, which for
 * two interleaved host bridges breaks the root's position rule. */
static void test_default_memdevs_in_memdev_order(void **state)
{
	struct fx *x = hb2x2(4096);
	fx_expect(x, fx_create(x, "decoder0.0", NULL, CX_MODE_PMEM, 0, NULL),
		  -ENXIO, "invalid target position: mem1 at position 1");
	fx_free(x);
	x = fx_new();
	fx_tree(x, 1, 2, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_NONE,
					   0);
	assert_int_equal(r->ways, 2);
	assert_int_equal(r->size, 512 * FX_MiB);
	assert_ptr_equal(r->targets[0]->memdev, fx_m(x, 0));
	assert_ptr_equal(r->targets[1]->memdev, fx_m(x, 1));
	fx_destroy_ok(x, r);
	/* with no memdevs named, -w takes the first ones found */
	struct cx_region_req q = fx_req(x, "decoder0.0", NULL, CX_MODE_PMEM, 0);
	q.ways = 1;
	assert_int_equal(cx_region_create(x->h, &q, &r, &x->err), 0);
	assert_int_equal(r->ways, 1);
	assert_ptr_equal(r->targets[0]->memdev, fx_m(x, 0));
	q.ways = 4;
	fx_expect(x, cx_region_create(x->h, &q, NULL, &x->err), -EINVAL,
		  "interleave ways 4 is greater than the number of memdevs "
		  "found (2)");
	fx_free(x);
}

static void test_unfinalized_host(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 1, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_expect(x, fx_create(x, "decoder0.0", NULL, CX_MODE_NONE, 0, NULL),
		  -ENXIO, "not finalized");
	fx_free(x);
}

/* 1 HB x 2 RPs, a switch with 2 DSPs below each RP: mem0, mem1 below
 * rp0's switch, mem2, mem3 below rp1's. */
static struct fx *switched(void)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 2, 0, 256 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 256);
	fx_start(x);
	return x;
}

static void test_switch_programming_and_peers(void **state)
{
	struct fx *x = switched();
	struct fx_snap *s = snap(x);

	/* positions 0 and 1 share rp0, but peers at this HB are 2 apart */
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1,mem2,mem3",
			       CX_MODE_PMEM, 0, NULL), -ENXIO,
		  "cannot host mem1 at position 1");
	/* position 2 uses rp1, whose peer at position 0 uses rp0 */
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem2,mem3,mem1",
			       CX_MODE_PMEM, 0, NULL), -ENXIO,
		  "mem3 at position 2 has a mismatched peer");
	snap_same_free(x, s);

	struct cx_region *r = fx_create_ok(x, "decoder0.0",
					   "mem0,mem2,mem1,mem3", CX_MODE_PMEM,
					   0);
	struct cx_port *hb = fx_hb_at(x, 0);
	struct cx_decoder *hd = &hb->decoders[0];
	assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&hd->regs)), 2);
	assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&hd->regs)), 256);
	for (int i = 0; i < 2; i++) {
		struct cx_port *rp = hb->children.v[i];
		struct cx_port *usp = rp->children.v[0];
		struct cx_decoder *sd = &usp->decoders[0];
		assert_ptr_equal(sd->region, r);
		assert_true(cx_hdm_committed(&sd->regs));
		/* switch IG = parent IG x parent IW */
		assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&sd->regs)), 2);
		assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&sd->regs)), 512);
		assert_ptr_equal(sd->targets[0], usp->children.v[0]);
		assert_ptr_equal(sd->targets[1], usp->children.v[1]);
	}
	assert_int_equal(cx_eniw_to_ways(cx_hdm_iw(&r->targets[0]->regs)), 4);
	assert_int_equal(cx_eig_to_gran(cx_hdm_ig(&r->targets[0]->regs)), 256);
	fx_check_map(x, r);
	fx_free(x);
}

static void test_downstream_port_counts(void **state)
{
	/* three root ports used at one bridge */
	struct fx *x = fx_new();
	struct cx_port *hb = fx_hb(x);
	struct cx_port *usp = fx_usp(x, fx_rp(x, hb, 0));
	fx_mem(x, fx_dsp(x, usp, 0), 0, 256 * FX_MiB);
	fx_mem(x, fx_dsp(x, usp, 1), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb, 1), 0, 256 * FX_MiB);
	fx_mem(x, fx_rp(x, hb, 2), 0, 256 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 256);
	fx_start(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem2,mem3,mem1",
			       CX_MODE_PMEM, 0, NULL), -EINVAL,
		  "uses 3 of its downstream ports");
	fx_free(x);

	/* sixteen downstream ports of one switch: more than 8 targets */
	x = fx_new();
	usp = fx_usp(x, fx_rp(x, fx_hb(x), 0));
	for (int i = 0; i < 16; i++)
		fx_mem(x, fx_dsp(x, usp, i), 0, 256 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 256);
	fx_start(x);
	fx_expect(x, fx_create(x, "decoder0.0", NULL, CX_MODE_PMEM, 0, NULL),
		  -ENXIO, "more than 8 of its downstream ports");
	fx_free(x);
}

/* QEMU's decoders route on HPA bits 8..14: deeper levels multiply the
 * granularity up, and the last level that interleaves needs the same top
 * bit as the endpoints. */
static void test_interleave_address_bits(void **state)
{
	/* 8 ways at 8k: the bridges would need bits 14..15 */
	struct fx *x = fx_new();
	fx_tree(x, 2, 4, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 8192);
	fx_start(x);
	struct fx_snap *s = snap(x);
	fx_expect(x, fx_create(x, "decoder0.0",
			       "mem0,mem4,mem1,mem5,mem2,mem6,mem3,mem7",
			       CX_MODE_PMEM, 0, NULL), -ENXIO, "bits 14..15");
	snap_same_free(x, s);
	fx_free(x);

	/* one bridge, eight root ports, 8k: bits 13..15 */
	x = fx_new();
	fx_tree(x, 1, 8, 0, 0, 256 * FX_MiB);
	fx_win_all(x, 8 * FX_GiB, 256);
	fx_start(x);
	struct cx_region_req q = fx_req(x, "decoder0.0", NULL, CX_MODE_PMEM, 0);
	q.gran = 8192;
	fx_expect(x, cx_region_create(x->h, &q, NULL, &x->err), -ENXIO,
		  "bits 13..15");
	q.gran = 4096;
	struct cx_region *r = NULL;
	assert_int_equal(cx_region_create(x->h, &q, &r, &x->err), 0);
	assert_int_equal(r->ways, 8);
	fx_free(x);
}

static void test_hpa_order_violation(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 0, FX_GiB);
	int hb0 = 0;
	fx_win(x, 4 * FX_GiB, 256, 1, &hb0);
	fx_win(x, 4 * FX_GiB, 256, 1, &hb0);
	fx_start(x);
	assert_true(win(x, 1)->base > win(x, 0)->base);

	struct cx_region *hi = fx_create_ok(x, "decoder0.1", "mem0",
					    CX_MODE_PMEM, 0);
	struct fx_snap *s = snap(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem1", CX_MODE_PMEM, 0, NULL),
		  -EBUSY, "HPA order violation: region0");
	snap_same_free(x, s);
	fx_destroy_ok(x, hi);
	struct cx_region *lo = fx_create_ok(x, "decoder0.0", "mem1",
					    CX_MODE_PMEM, 0);
	assert_int_equal(lo->id, 1);
	fx_free(x);
}

static void test_no_free_decoder(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 0, 2 * FX_GiB);
	fx_win_all(x, 16 * FX_GiB, 256);
	fx_start(x);
	for (int i = 0; i < 4; i++) {
		struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0",
						   CX_MODE_PMEM, 256 * FX_MiB);
		assert_int_equal(r->targets[0]->id, i);
		assert_int_equal(fx_hb_at(x, 0)->decoders[i].region->id, r->id);
	}
	fx_expect(x, fx_create(x, "decoder0.0", "mem1", CX_MODE_PMEM,
			       256 * FX_MiB, NULL), -EBUSY,
		  "no free decoder, all 4 are committed");
	fx_free(x);
}

static void test_two_regions_destroy_from_the_top(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 0, FX_GiB);
	fx_win_all(x, 16 * FX_GiB, 256);
	fx_start(x);
	struct cx_window *w = win(x, 0);
	struct fx_snap *clean = snap(x);

	struct cx_region *a = fx_create_ok(x, "decoder0.0", "mem0,mem1",
					   CX_MODE_PMEM, FX_GiB);
	struct cx_region *b = fx_create_ok(x, "decoder0.0", "mem1,mem0",
					   CX_MODE_PMEM, 0);
	assert_int_equal(b->id, 1);
	assert_int_equal(b->base, a->base + FX_GiB);
	assert_int_equal(b->size, FX_GiB);
	assert_int_equal(b->targets[0]->memdev->index, 1);
	assert_int_equal(b->targets[0]->id, 1);
	assert_int_equal(b->targets[0]->dpa_base, 512 * FX_MiB);
	assert_int_equal(fx_hb_at(x, 0)->decoders[1].region->id, 1);
	assert_int_equal(cx_hdm_target(&fx_hb_at(x, 0)->decoders[1].regs, 0),
			 1);
	assert_string_not_equal(a->uuid, b->uuid);
	fx_check_map(x, a);
	fx_check_map(x, b);
	assert_int_equal(cx_window_max_extent(w), 14 * FX_GiB);

	struct fx_snap *s = snap(x);
	fx_expect(x, cx_region_destroy(a, false, &x->err), -EBUSY,
		  "above it is committed for region1");
	snap_same_free(x, s);
	assert_ptr_equal(cx_region_find(x->h, "region0"), a);

	fx_destroy_ok(x, b);
	assert_null(cx_region_find(x->h, "region1"));
	fx_destroy_ok(x, a);
	assert_int_equal(x->h->regions.n, 0);
	assert_int_equal(cx_window_max_extent(w), 16 * FX_GiB);
	/* every decoder is back where it started */
	clean->next_region_id = 2;
	snap_same_free(x, clean);

	struct cx_region *c = fx_create_ok(x, "decoder0.0", "mem0,mem1",
					   CX_MODE_PMEM, 0);
	assert_int_equal(c->id, 2);
	assert_int_equal(c->base, w->base);
	fx_free(x);
}

static void test_destroy_mapped(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 1, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_NONE,
					   0);
	r->mapped = 2;
	fx_expect(x, cx_region_destroy(r, false, &x->err), -EBUSY,
		  "mapped by 2 clients");
	assert_int_equal(x->h->regions.n, 1);
	assert_int_equal(cx_region_destroy(r, true, &x->err), 0);
	assert_int_equal(x->h->regions.n, 0);
	assert_int_equal(fx_m(x, 0)->decoders[0].dpa_size, 0);
	assert_false(cx_hdm_committed(&fx_hb_at(x, 0)->decoders[0].regs));
	fx_free(x);
}

/* A commit that fails after other decoders committed is rolled back. */
static void test_commit_failure_changes_nothing(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, 0, FX_GiB);
	fx_win_all(x, 16 * FX_GiB, 256);
	fx_start(x);
	/* someone reserved DPA on mem1's decoder 0 without committing it */
	assert_int_equal(cx_decoder_alloc_dpa(fx_m(x, 1), CX_MODE_PMEM,
					      256 * FX_MiB, NULL, &x->err), 0);
	struct fx_snap *s = snap(x);
	fx_expect(x, fx_create(x, "decoder0.0", "mem0,mem1", CX_MODE_PMEM,
			       512 * FX_MiB, NULL), -EBUSY,
		  "commit: out of order commit: decoder3.1");
	snap_same_free(x, s);
	assert_int_equal(cx_memdev_decoders_committed(fx_m(x, 0)), 0);
	assert_int_equal(fx_m(x, 0)->decoders[0].dpa_size, 0);
	fx_free(x);
}

/* Regions after the first through a passthrough bridge share its one
 * software decoder (it does not route). */
static void test_passthrough_shared(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 1, 0, 0, FX_GiB);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_region *a = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_PMEM,
					   256 * FX_MiB);
	struct cx_region *b = fx_create_ok(x, "decoder0.0", NULL, CX_MODE_PMEM,
					   512 * FX_MiB);
	struct cx_decoder *hd = &fx_hb_at(x, 0)->decoders[0];
	assert_ptr_equal(hd->region, a);
	assert_int_equal(b->targets[0]->id, 1);
	assert_int_equal(b->targets[0]->dpa_base, 256 * FX_MiB);
	fx_check_map(x, b);
	fx_roundtrip(x, b, 0, 64 * 1024, 3);
	fx_destroy_ok(x, b);
	fx_destroy_ok(x, a);
	assert_false(cx_hdm_committed(&hd->regs));
	assert_null(hd->region);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_device_defaults),
		cmocka_unit_test(test_mode_defaults),
		cmocka_unit_test(test_interleave4_programming),
		cmocka_unit_test(test_ways_rules),
		cmocka_unit_test(test_granularity_rules),
		cmocka_unit_test(test_size_rules),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_default_memdevs_in_memdev_order),
		cmocka_unit_test(test_unfinalized_host),
		cmocka_unit_test(test_switch_programming_and_peers),
		cmocka_unit_test(test_downstream_port_counts),
		cmocka_unit_test(test_interleave_address_bits),
		cmocka_unit_test(test_hpa_order_violation),
		cmocka_unit_test(test_no_free_decoder),
		cmocka_unit_test(test_two_regions_destroy_from_the_top),
		cmocka_unit_test(test_destroy_mapped),
		cmocka_unit_test(test_commit_failure_changes_nothing),
		cmocka_unit_test(test_passthrough_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
