/*
 * test_hdm.c - HDM decoder rules: commit in increasing id order, reset
 * from the top, register sanity (Error Not Committed), interleave
 * capabilities per level, endpoint DPA allocation order and DPA skip.
 */
#include "fixture.h"

#include <errno.h>

#define W_BASE(x) (((struct cx_window *)(x)->h->windows.v[0])->base)

static void prog(struct cx_decoder *d, uint64_t base, uint64_t size, int ways,
		 uint32_t gran)
{
	cx_hdm_set_base(&d->regs, base);
	cx_hdm_set_size(&d->regs, size);
	cx_hdm_set_ig_iw(&d->regs, cx_gran_to_eig(gran), cx_ways_to_eniw(ways));
}

/* 1 HB x 2 RPs, mem0 and mem1 with the given partitions, x1 window. */
static struct fx *two_devs(uint64_t vmem, uint64_t pmem)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 2, 0, vmem, pmem);
	fx_win_all(x, 16 * FX_GiB, 256);
	fx_start(x);
	return x;
}

static void test_commit_in_increasing_order(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d0, *d1;
	uint64_t b = W_BASE(x);

	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB,
					      &d0, &x->err), 0);
	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB,
					      &d1, &x->err), 0);
	assert_int_equal(d0->id, 0);
	assert_int_equal(d1->id, 1);
	prog(d0, b, 256 * FX_MiB, 1, 256);
	prog(d1, b + 256 * FX_MiB, 256 * FX_MiB, 1, 256);

	fx_expect(x, cx_decoder_commit(d1, &x->err), -EBUSY,
		  "out of order commit");
	assert_false(cx_hdm_committed(&d1->regs));
	assert_false(cx_hdm_commit_bit(&d1->regs));
	assert_int_equal(cx_memdev_decoders_committed(m), 0);

	assert_int_equal(cx_decoder_commit(d0, &x->err), 0);
	assert_true(cx_hdm_committed(&d0->regs));
	assert_true(cx_hdm_commit_bit(&d0->regs));
	assert_false(d0->regs.r[CX_HDM_CTRL] & CX_HDM_CTRL_ERR_NOT_COMMITTED);
	assert_int_equal(cx_memdev_decoders_committed(m), 1);
	fx_expect(x, cx_decoder_commit(d0, &x->err), -EBUSY,
		  "already committed");
	assert_int_equal(cx_decoder_commit(d1, &x->err), 0);
	assert_int_equal(cx_memdev_decoders_committed(m), 2);
	fx_free(x);
}

static void test_reset_from_the_top(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d0, *d1;
	uint64_t b = W_BASE(x);

	cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d0, &x->err);
	cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d1, &x->err);
	prog(d0, b, 256 * FX_MiB, 1, 256);
	prog(d1, b + 256 * FX_MiB, 256 * FX_MiB, 1, 256);
	assert_int_equal(cx_decoder_commit(d0, &x->err), 0);
	assert_int_equal(cx_decoder_commit(d1, &x->err), 0);

	fx_expect(x, cx_decoder_reset(d0, &x->err), -EBUSY,
		  "out of order reset");
	assert_true(cx_hdm_committed(&d0->regs));
	assert_int_equal(cx_hdm_base(&d0->regs), b);

	/* and DPA cannot be freed while committed, nor out of order */
	fx_expect(x, cx_decoder_free_dpa(d1, &x->err), -EBUSY, "committed");

	assert_int_equal(cx_decoder_reset(d1, &x->err), 0);
	assert_false(cx_hdm_committed(&d1->regs));
	assert_false(cx_hdm_commit_bit(&d1->regs));
	assert_int_equal(cx_hdm_base(&d1->regs), 0);
	assert_int_equal(cx_hdm_size(&d1->regs), 0);
	assert_int_equal(cx_memdev_decoders_committed(m), 1);
	assert_int_equal(cx_decoder_reset(d0, &x->err), 0);
	assert_int_equal(cx_memdev_decoders_committed(m), 0);

	fx_expect(x, cx_decoder_free_dpa(d0, &x->err), -EBUSY,
		  "decreasing decoder order");
	assert_int_equal(cx_decoder_free_dpa(d1, &x->err), 0);
	assert_int_equal(cx_decoder_free_dpa(d0, &x->err), 0);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_PMEM), FX_GiB);
	fx_expect(x, cx_decoder_free_dpa(d0, &x->err), -EINVAL,
		  "no DPA allocated");
	fx_free(x);
}

static void test_endpoint_register_checks(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d = &m->decoders[0];
	uint64_t b = W_BASE(x);

	/* no DPA yet */
	prog(d, b, 256 * FX_MiB, 1, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "no DPA");
	assert_true(d->regs.r[CX_HDM_CTRL] & CX_HDM_CTRL_ERR_NOT_COMMITTED);
	assert_false(cx_hdm_committed(&d->regs));

	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB,
					      NULL, &x->err), 0);
	prog(d, b, 0, 1, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -EINVAL, "size 0");
	/* size / ways must be the allocation */
	prog(d, b, 512 * FX_MiB, 1, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -EINVAL, "are allocated");
	/* reserved encodings */
	prog(d, b, 256 * FX_MiB, 1, 256);
	cx_hdm_set_ig_iw(&d->regs, 0, 5);
	fx_expect(x, cx_decoder_commit(d, &x->err), -EINVAL, "reserved");
	cx_hdm_set_ig_iw(&d->regs, 7, 0);
	fx_expect(x, cx_decoder_commit(d, &x->err), -EINVAL, "reserved");

	/* QEMU's type3 implements 3, 6, 12 and 16 ways */
	static const int ways[] = { 2, 3, 4, 6, 8, 12, 16 };
	for (size_t i = 0; i < CX_ARRAY_SIZE(ways); i++) {
		prog(d, b, 256 * FX_MiB * (uint64_t)ways[i], ways[i], 256);
		if (cx_decoder_commit(d, &x->err))
			fail_msg("%d ways: %s", ways[i], x->err.msg);
		assert_false(d->regs.r[CX_HDM_CTRL] &
			     CX_HDM_CTRL_ERR_NOT_COMMITTED);
		assert_int_equal(cx_decoder_reset(d, &x->err), 0);
	}
	/* ... but decodes interleave on HPA bits 8..14 only */
	prog(d, b, 16 * 256 * FX_MiB, 16, 4096);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "bits 12..15");
	prog(d, b, 16 * 256 * FX_MiB, 16, 2048);
	assert_int_equal(cx_decoder_commit(d, &x->err), 0);
	assert_int_equal(cx_decoder_reset(d, &x->err), 0);
	prog(d, b, 12 * 256 * FX_MiB, 12, 16384);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "bits 14..15");
	fx_free(x);
}

static void test_decoders_decode_increasing_hpa(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d0, *d1;
	uint64_t b = W_BASE(x);

	cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d0, &x->err);
	cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d1, &x->err);
	prog(d0, b + 256 * FX_MiB, 256 * FX_MiB, 1, 256);
	prog(d1, b, 256 * FX_MiB, 1, 256);
	assert_int_equal(cx_decoder_commit(d0, &x->err), 0);
	fx_expect(x, cx_decoder_commit(d1, &x->err), -EINVAL,
		  "below the end");
	assert_true(d1->regs.r[CX_HDM_CTRL] & CX_HDM_CTRL_ERR_NOT_COMMITTED);
	prog(d1, b + 512 * FX_MiB, 256 * FX_MiB, 1, 256);
	assert_int_equal(cx_decoder_commit(d1, &x->err), 0);
	assert_false(d1->regs.r[CX_HDM_CTRL] & CX_HDM_CTRL_ERR_NOT_COMMITTED);
	fx_free(x);
}

static void test_switch_register_checks(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_port *hb = fx_hb_at(x, 0);
	struct cx_decoder *d = &hb->decoders[0];
	struct cx_port *rp0 = hb->children.v[0], *rp1 = hb->children.v[1];
	uint64_t b = W_BASE(x);

	assert_false(hb->passthrough);
	assert_int_equal(hb->ndecoders, CX_DECODERS_PER_PORT);
	assert_int_equal(d->nr_targets, 8);

	prog(d, b, FX_GiB, 3, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "power of two");
	prog(d, b, FX_GiB, 16, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "target list");
	prog(d, b, FX_GiB, 2, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "targets are set");
	/* a target byte that names no root port of this bridge */
	cx_hdm_set_target(&d->regs, 0, (uint8_t)rp0->port_num);
	cx_hdm_set_target(&d->regs, 1, 7);
	d->targets[0] = rp0;
	d->targets[1] = rp1;
	d->nr_targets_set = 2;
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "port number 7");
	cx_hdm_set_target(&d->regs, 1, (uint8_t)rp1->port_num);
	assert_int_equal(cx_decoder_commit(d, &x->err), 0);
	assert_int_equal(cx_port_decoders_committed(hb), 1);
	assert_int_equal(cx_decoder_reset(d, &x->err), 0);
	assert_int_equal(d->nr_targets_set, 0);
	assert_int_equal(cx_hdm_target(&d->regs, 1), 0);

	/* DPA belongs to endpoints */
	fx_expect(x, cx_decoder_free_dpa(d, &x->err), -EINVAL,
		  "not an endpoint");
	/* root decoders are fixed */
	struct cx_window *w = x->h->windows.v[0];
	fx_expect(x, cx_decoder_commit(&w->dec, &x->err), -EINVAL,
		  "root decoder");
	fx_expect(x, cx_decoder_reset(&w->dec, &x->err), -EINVAL,
		  "root decoder");
	fx_free(x);
}

static void test_passthrough_host_bridge(void **state)
{
	struct fx *x = fx_new();
	fx_tree(x, 1, 1, 0, 256 * FX_MiB, 0);
	fx_win_all(x, 4 * FX_GiB, 256);
	fx_start(x);
	struct cx_port *hb = fx_hb_at(x, 0);
	struct cx_decoder *d = &hb->decoders[0];
	struct cx_port *rp = hb->children.v[0];

	assert_true(hb->passthrough);
	assert_int_equal(hb->ndecoders, 1);
	assert_true(d->passthrough);
	assert_int_equal(d->nr_targets, 1);
	prog(d, W_BASE(x), 256 * FX_MiB, 2, 256);
	fx_expect(x, cx_decoder_commit(d, &x->err), -ENXIO, "target list");
	prog(d, W_BASE(x), 256 * FX_MiB, 1, 256);
	cx_hdm_set_target(&d->regs, 0, (uint8_t)rp->port_num);
	d->targets[0] = rp;
	d->nr_targets_set = 1;
	assert_int_equal(cx_decoder_commit(d, &x->err), 0);
	assert_int_equal(cx_port_decoders_committed(hb), 1);
	fx_free(x);
}

static void test_dpa_allocation_order_and_skip(void **state)
{
	struct fx *x = two_devs(512 * FX_MiB, 512 * FX_MiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d;

	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_RAM), 512 * FX_MiB);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_PMEM), 512 * FX_MiB);

	/* ram from DPA 0 */
	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_RAM, 256 * FX_MiB, &d,
					      &x->err), 0);
	assert_int_equal(d->id, 0);
	assert_int_equal(d->dpa_base, 0);
	assert_int_equal(d->mode, CX_MODE_RAM);
	assert_int_equal(cx_hdm_skip(&d->regs), 0);

	/* pmem after unallocated ram: the gap is skipped */
	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d,
					      &x->err), 0);
	assert_int_equal(d->id, 1);
	assert_int_equal(d->dpa_base, 512 * FX_MiB);
	assert_int_equal(cx_hdm_skip(&d->regs), 256 * FX_MiB);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_RAM), 0);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_PMEM), 256 * FX_MiB);
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_RAM, 256 * FX_MiB, NULL,
					  &x->err), -ENOSPC, "skipped");

	/* free it (decreasing order) and the ram is usable again */
	assert_int_equal(cx_decoder_free_dpa(d, &x->err), 0);
	assert_int_equal(cx_hdm_skip(&d->regs), 0);
	assert_int_equal(d->mode, CX_MODE_NONE);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_RAM), 256 * FX_MiB);
	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_RAM, 256 * FX_MiB, &d,
					      &x->err), 0);
	assert_int_equal(d->id, 1);
	assert_int_equal(d->dpa_base, 256 * FX_MiB);
	assert_int_equal(cx_hdm_skip(&d->regs), 0);
	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 512 * FX_MiB, &d,
					      &x->err), 0);
	assert_int_equal(d->id, 2);
	assert_int_equal(d->dpa_base, 512 * FX_MiB);
	assert_int_equal(cx_hdm_skip(&d->regs), 0);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_PMEM), 0);
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, NULL,
					  &x->err), -ENOSPC, "available");
	fx_free(x);
}

static void test_dpa_pmem_first_skips_all_ram(void **state)
{
	struct fx *x = two_devs(512 * FX_MiB, 256 * FX_MiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d;

	assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d,
					      &x->err), 0);
	assert_int_equal(d->id, 0);
	assert_int_equal(d->dpa_base, 512 * FX_MiB);
	assert_int_equal(cx_hdm_skip(&d->regs), 512 * FX_MiB);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_RAM), 0);
	fx_free(x);
}

static void test_dpa_errors(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_memdev *m = fx_m(x, 0);

	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_NONE, 256 * FX_MiB, NULL,
					  &x->err), -EINVAL, "not none");
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_RAM, 256 * FX_MiB, NULL,
					  &x->err), -ENXIO, "no ram capacity");
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 100 * FX_MiB, NULL,
					  &x->err), -EINVAL, "256 MiB");
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 0, NULL, &x->err),
		  -EINVAL, "256 MiB");
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 2 * FX_GiB, NULL,
					  &x->err), -ENOSPC, "available");
	assert_int_equal(m->decoders[0].dpa_size, 0);
	/* four decoders, then none left */
	for (int i = 0; i < 4; i++)
		assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM,
						      256 * FX_MiB, NULL,
						      &x->err), 0);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_PMEM), 0);
	fx_free(x);
	x = two_devs(0, 2 * FX_GiB);
	m = fx_m(x, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cx_decoder_alloc_dpa(m, CX_MODE_PMEM,
						      256 * FX_MiB, NULL,
						      &x->err), 0);
	assert_int_equal(cx_memdev_free_capacity(m, CX_MODE_PMEM), 0);
	fx_expect(x, cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, NULL,
					  &x->err), -EBUSY, "all 4");
	fx_free(x);
}

/* QEMU finds an endpoint decoder's DPA base from the registers: the skip
 * and size / ways of every decoder below it, plus its own skip.  Our
 * driver-side dpa_base must agree. */
static void test_dpa_base_matches_qemu_register_sum(void **state)
{
	struct fx *x = two_devs(512 * FX_MiB, FX_GiB);
	struct cx_memdev *m = fx_m(x, 0);
	struct cx_decoder *d[3];
	uint64_t b = W_BASE(x);

	cx_decoder_alloc_dpa(m, CX_MODE_RAM, 256 * FX_MiB, &d[0], &x->err);
	cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 256 * FX_MiB, &d[1], &x->err);
	cx_decoder_alloc_dpa(m, CX_MODE_PMEM, 512 * FX_MiB, &d[2], &x->err);
	for (int i = 0; i < 3; i++) {
		prog(d[i], b + FX_GiB * (uint64_t)i, d[i]->dpa_size, 1, 256);
		assert_int_equal(cx_decoder_commit(d[i], &x->err), 0);
	}
	uint64_t sum = 0;
	for (int i = 0; i < 3; i++) {
		int ways = cx_eniw_to_ways(cx_hdm_iw(&d[i]->regs));
		sum += cx_hdm_skip(&d[i]->regs);
		assert_int_equal(sum, d[i]->dpa_base);
		sum += cx_hdm_size(&d[i]->regs) / (uint64_t)ways;
	}
	assert_int_equal(d[1]->dpa_base, 512 * FX_MiB);
	assert_int_equal(d[2]->dpa_base, 768 * FX_MiB);
	fx_free(x);
}

/* Interleave capability checks per level, used by region assembly. */
static void test_check_interleave(void **state)
{
	struct fx *x = two_devs(0, FX_GiB);
	struct cx_decoder *ep = &fx_m(x, 0)->decoders[0];
	struct cx_decoder *sw = &fx_hb_at(x, 0)->decoders[0];

	assert_int_equal(cx_decoder_check_interleave(ep, 12, 8192, &x->err), 0);
	assert_int_equal(cx_decoder_check_interleave(ep, 16, 2048, &x->err), 0);
	assert_int_equal(cx_decoder_check_interleave(ep, 4, 8192, &x->err), 0);
	fx_expect(x, cx_decoder_check_interleave(ep, 8, 8192, &x->err),
		  -ENXIO, "bits 13..15");
	fx_expect(x, cx_decoder_check_interleave(ep, 5, 256, &x->err),
		  -EINVAL, "not a valid encoding");
	fx_expect(x, cx_decoder_check_interleave(ep, 2, 300, &x->err),
		  -EINVAL, "granularity 300");
	assert_int_equal(cx_decoder_check_interleave(sw, 8, 256, &x->err), 0);
	assert_int_equal(cx_decoder_check_interleave(sw, 2, 16384, &x->err), 0);
	fx_expect(x, cx_decoder_check_interleave(sw, 6, 256, &x->err), -ENXIO,
		  "power of two");
	fx_expect(x, cx_decoder_check_interleave(sw, 16, 256, &x->err),
		  -ENXIO, "overflows");
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_in_increasing_order),
		cmocka_unit_test(test_reset_from_the_top),
		cmocka_unit_test(test_endpoint_register_checks),
		cmocka_unit_test(test_decoders_decode_increasing_hpa),
		cmocka_unit_test(test_switch_register_checks),
		cmocka_unit_test(test_passthrough_host_bridge),
		cmocka_unit_test(test_dpa_allocation_order_and_skip),
		cmocka_unit_test(test_dpa_pmem_first_skips_all_ram),
		cmocka_unit_test(test_dpa_errors),
		cmocka_unit_test(test_dpa_base_matches_qemu_register_sum),
		cmocka_unit_test(test_check_interleave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
