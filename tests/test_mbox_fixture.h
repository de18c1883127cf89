/*
 * test_mbox_fixture.h - one memdev behind one host bridge and root port, with
 * mailbox state and a fake clock, for the device-management tests.
 *
 *   struct mx *x = mx_new(256 << 20, 512 << 20, 128 << 10, NULL);
 *   uint8_t out[CX_MBOX_PAYLOAD_MAX]; size_t n;
 *   assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &n), 0);
 *   x->now += 1000000000;   (the mailbox clock, in ns)
 *   mx_free(x);
 *
 * With a directory, pmem and LSA are file backends (share=on) in it, so
 * a second mx_new() on the same directory sees what the first wrote.
 */
#ifndef CXLEMU_TESTS_MBOX_FIXTURE_H
#define CXLEMU_TESTS_MBOX_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/mbox.h"

#define MX_FN static __attribute__((unused))
#define MX_MiB (1ULL << 20)
#define MX_GiB (1ULL << 30)

struct mx {
	struct cx_fabric *f;
	struct cx_host *h;
	struct cx_memdev *m;
	uint64_t now;                /* fake mailbox clock, ns */
	cx_err err;
};

MX_FN uint64_t mx_clock(void *ctx)
{
	return ((struct mx *)ctx)->now;
}

MX_FN struct cx_backend *mx_backend(struct mx *x, const char *id,
				    uint64_t size, const char *dir,
				    const char *file)
{
	struct cx_backend *b = cx_backend_new(x->h, id, 0);
	b->size = size;
	b->share = true;
	b->used_by = "mem";
	if (dir) {
		b->kind = CX_BACKEND_FILE;
		b->mem_path = cx_xasprintf("%s/%s", dir, file);
	} else {
		b->kind = CX_BACKEND_MEMFD;
	}
	return b;
}

/* With dynamic capacity: `dc` bytes in `nregions` regions after the
 * static capacity (a memfd backend). */
MX_FN struct mx *mx_new_dc(uint64_t vmem, uint64_t pmem, uint64_t lsa,
			   uint64_t dc, int nregions, const char *dir);

MX_FN struct mx *mx_new(uint64_t vmem, uint64_t pmem, uint64_t lsa,
			const char *dir)
{
	return mx_new_dc(vmem, pmem, lsa, 0, 0, dir);
}

MX_FN struct mx *mx_new_dc(uint64_t vmem, uint64_t pmem, uint64_t lsa,
			   uint64_t dc, int nregions, const char *dir)
{
	struct mx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->f = cx_fabric_new("mbox-test");
	x->h = cx_host_new(x->f, "host0", 0);
	x->h->cxl_on = true;
	struct cx_port *hb = cx_port_new(x->h, CX_PORT_HB, "cxl.1", 0);
	hb->bus_nr = 12;
	struct cx_port *rp = cx_port_new(x->h, CX_PORT_RP, "rp0", 0);
	rp->port_num = 0;
	cx_port_attach(hb, rp);
	struct cx_memdev *m = cx_memdev_new(x->h, "cxl-mem0", 0);
	m->parent = rp;
	rp->memdev = m;
	if (vmem) {
		m->vmem_be = mx_backend(x, "vmem0", vmem, NULL, NULL);
		m->vmem_size = vmem;
	}
	if (pmem) {
		m->pmem_be = mx_backend(x, "pmem0", pmem, dir, "pmem.img");
		m->pmem_size = pmem;
	}
	if (lsa) {
		m->lsa_be = mx_backend(x, "lsa0", lsa, dir, "lsa.img");
		m->lsa_size = lsa;
	}
	if (dc) {
		m->dc_be = mx_backend(x, "dc0", dc, NULL, NULL);
		m->dc_size = dc;
		m->dc_regions = nregions;
	}
	struct cx_window *w = cx_window_new(x->h, 0, 0);
	w->size = 4 * MX_GiB;
	w->ways = 1;
	w->targets[0] = hb;
	cx_fabric_finalize(x->f);
	if (cx_fabric_start(x->f, &x->err))
		fail_msg("cx_fabric_start: %s", x->err.msg);
	if (cx_mbox_init_fabric(x->f, &x->err))
		fail_msg("cx_mbox_init: %s", x->err.msg);
	x->m = m;
	cx_mbox_set_clock(m, mx_clock, x);
	return x;
}

MX_FN void mx_free(struct mx *x)
{
	cx_mbox_free_fabric(x->f);
	cx_fabric_free(x->f);
	free(x);
}

/* Run a command; returns the CXL return code. */
MX_FN uint16_t mx_run(struct mx *x, uint16_t op, const void *in, size_t len,
		      uint8_t *out, size_t *out_len)
{
	static uint8_t scratch[CX_MBOX_PAYLOAD_MAX];
	size_t n = CX_MBOX_PAYLOAD_MAX;
	uint16_t rc = 0xffff;
	assert_int_equal(cx_mbox_exec(x->m, op, in, len, out ? out : scratch,
				      &n, &rc), 0);
	if (out_len)
		*out_len = n;
	return rc;
}

/* Advance the clock far enough for any background command to finish. */
MX_FN void mx_finish_bg(struct mx *x)
{
	x->now += 5ULL * 3600 * 1000000000ULL;
	cx_mbox_poll(x->m);
}

#endif
