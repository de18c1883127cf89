/*
 * hdm.c - HDM decoders: what the hardware does when software commits or
 * resets one, and the ordering rules Linux's drivers/cxl keeps on top.
 *
 * A decoder is a register image (cx_hdm_regs, read and written only
 * through spec.h's accessors) plus the driver state Linux keeps beside it
 * (mode, DPA allocation, region, target ports).  The rules:
 *
 *  - Commit in increasing id order per port: decoder N commits only when
 *    decoders 0..N-1 are committed ("out of order commit", -EBUSY).
 *  - Reset from the top: only the highest committed decoder of a port.
 *  - A committed decoder has a non-zero size, valid IW/IG encodings that
 *    the decoder implements (QEMU: host bridges and switch upstream ports
 *    interleave 1/2/4/8 ways over an 8-entry target list; Type 3 endpoints
 *    also 3/6/12/16; every level decodes interleave on HPA bits 8..14), a
 *    base above the previous decoder's range, and its targets (switch) or
 *    its DPA allocation (endpoint) in place.  A decoder that fails these
 *    reports Error Not Committed, as hardware would.
 *  - Endpoint DPA is allocated on the decoder after the last allocated
 *    one, at the first free DPA of the partition (volatile at DPA 0,
 *    persistent after it); allocating persistent capacity while volatile
 *    capacity is unallocated records the gap as DPA skip, which makes the
 *    skipped volatile capacity unusable.  Frees go in decreasing order.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* QEMU sets both "A11to8" and "A14to12" interleave capability bits at
 * every level, so a decoder may route on HPA bits 8..14. */
#define HDM_IL_ADDR_LOW 8
#define HDM_IL_ADDR_HIGH 14

static const char *dname(const struct cx_decoder *d, char *buf, int len)
{
	cx_decoder_name(d, buf, len);
	return buf;
}

/* The decoders that share d's port, and how many there are. */
static struct cx_decoder *port_decoders(const struct cx_decoder *d, int *n)
{
	if (d->kind == CX_DEC_ENDPOINT) {
		*n = CX_DECODERS_PER_PORT;
		return d->memdev->decoders;
	}
	*n = d->port->ndecoders;
	return d->port->decoders;
}

static struct cx_host *host_of(const struct cx_decoder *d)
{
	return d->kind == CX_DEC_ENDPOINT ? d->memdev->host
	       : d->kind == CX_DEC_SWITCH ? d->port->host : NULL;
}

static int count_committed(const struct cx_decoder *decs, int n)
{
	int c = 0;
	for (int i = 0; i < n; i++)
		if (cx_hdm_committed(&decs[i].regs))
			c++;
	return c;
}

int cx_port_decoders_committed(const struct cx_port *p)
{
	return p->decoders ? count_committed(p->decoders, p->ndecoders) : 0;
}

int cx_memdev_decoders_committed(const struct cx_memdev *m)
{
	return count_committed(m->decoders, CX_DECODERS_PER_PORT);
}

int cx_decoder_check_interleave(const struct cx_decoder *d, int ways,
				uint32_t gran, cx_err *e)
{
	char n[32];
	int eniw = cx_ways_to_eniw(ways), eig = cx_gran_to_eig(gran);

	dname(d, n, sizeof(n));
	if (eniw < 0)
		return cx_fail(e, EINVAL, "%s: %d interleave ways is not a "
			       "valid encoding (1, 2, 3, 4, 6, 8, 12 or 16)",
			       n, ways);
	if (eig < 0)
		return cx_fail(e, EINVAL, "%s: interleave granularity %u is not "
			       "a valid encoding (a power of two from 256 to "
			       "16384 bytes)", n, gran);
	if (d->kind == CX_DEC_SWITCH) {
		if (cx_ways_mod3(ways))
			return cx_fail(e, ENXIO, "%s: a host bridge or switch "
				       "decoder interleaves only a power of "
				       "two ways, not %d", n, ways);
		if (ways > CX_TARGETS_PER_DECODER || ways > d->nr_targets)
			return cx_fail(e, ENXIO, "%s: %d interleave ways "
				       "overflows its %d-entry target list", n,
				       ways,
				       d->nr_targets < CX_TARGETS_PER_DECODER ?
				       d->nr_targets : CX_TARGETS_PER_DECODER);
	}
	if (eniw == 0 || eniw == 8)
		return 0; /* no address bits select the way */
	int low = eig + 8;
	int high = eniw > 8 ? eniw + eig - 1 : eniw + eig + 7;
	if (low < HDM_IL_ADDR_LOW || high > HDM_IL_ADDR_HIGH)
		return cx_fail(e, ENXIO, "%s: interleaving %d ways at %u bytes "
			       "selects the way with HPA bits %d..%d, but the "
			       "decoder implements interleave on bits %d..%d "
			       "only", n, ways, gran, low, high,
			       HDM_IL_ADDR_LOW, HDM_IL_ADDR_HIGH);
	return 0;
}

/* Hardware refused the programmed values: Error Not Committed. */
static int commit_error(struct cx_decoder *d, int rc)
{
	cx_host_decode_changed(host_of(d));
	cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_COMMIT |
			     CX_HDM_CTRL_COMMITTED, false);
	cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_ERR_NOT_COMMITTED, true);
	return rc;
}

static struct cx_port *dport_by_num(const struct cx_port *p, int num)
{
	for (int i = 0; i < p->children.n; i++) {
		struct cx_port *c = p->children.v[i];
		if (c->port_num == num)
			return c;
	}
	return NULL;
}

static int check_targets(struct cx_decoder *d, int ways, cx_err *e)
{
	char n[32];
	dname(d, n, sizeof(n));
	if (d->nr_targets_set < ways)
		return cx_fail(e, ENXIO, "%s interleaves %d ways but only %d "
			       "targets are set", n, ways, d->nr_targets_set);
	for (int i = 0; i < ways; i++) {
		int num = cx_hdm_target(&d->regs, i);
		struct cx_port *t = dport_by_num(d->port, num);
		if (!t || t != d->targets[i])
			return cx_fail(e, ENXIO, "%s: target %d names port "
				       "number %d, which is not a downstream "
				       "port of %s", n, i, num, d->port->qid);
	}
	return 0;
}

int cx_decoder_commit(struct cx_decoder *d, cx_err *e)
{
	char n[32];
	int ndec, rc;
	struct cx_decoder *decs;

	dname(d, n, sizeof(n));
	if (d->kind == CX_DEC_ROOT)
		return cx_fail(e, EINVAL, "%s is a root decoder: the platform "
			       "fixes it, software does not commit it", n);
	if (cx_hdm_committed(&d->regs))
		return cx_fail(e, EBUSY, "%s is already committed", n);
	decs = port_decoders(d, &ndec);
	int committed = count_committed(decs, ndec);
	if (d->id != committed)
		return cx_fail(e, EBUSY, "out of order commit: %s while %d "
			       "decoder%s of its port %s committed; decoders "
			       "commit in increasing id order", n, committed,
			       committed == 1 ? "" : "s",
			       committed == 1 ? "is" : "are");

	uint64_t base = cx_hdm_base(&d->regs), size = cx_hdm_size(&d->regs);
	int eniw = cx_hdm_iw(&d->regs), eig = cx_hdm_ig(&d->regs);
	int ways = cx_eniw_to_ways(eniw);

	if (!size)
		return commit_error(d, cx_fail(e, EINVAL, "%s: cannot commit "
					       "a decoder of size 0", n));
	if (!ways)
		return commit_error(d, cx_fail(e, EINVAL, "%s: interleave ways "
					       "encoding %d is reserved", n,
					       eniw));
	if (eig > 6)
		return commit_error(d, cx_fail(e, EINVAL, "%s: interleave "
					       "granularity encoding %d is "
					       "reserved", n, eig));
	if ((rc = cx_decoder_check_interleave(d, ways, cx_eig_to_gran(eig),
					      e)))
		return commit_error(d, rc);
	if (base + size < base)
		return commit_error(d, cx_fail(e, EINVAL, "%s: base %#llx + "
					       "size %#llx wraps", n,
					       (unsigned long long)base,
					       (unsigned long long)size));
	if (d->id > 0) {
		const struct cx_decoder *prev = &decs[d->id - 1];
		uint64_t pend = cx_hdm_base(&prev->regs) +
				cx_hdm_size(&prev->regs);
		if (base < pend)
			return commit_error(d, cx_fail(e, EINVAL, "%s: base "
				"%#llx is below the end %#llx of the decoder "
				"before it; decoders of a port decode "
				"increasing HPA ranges", n,
				(unsigned long long)base,
				(unsigned long long)pend));
	}
	if (d->kind == CX_DEC_SWITCH) {
		if ((rc = check_targets(d, ways, e)))
			return commit_error(d, rc);
	} else {
		if (!d->dpa_size || (d->mode != CX_MODE_RAM &&
				     d->mode != CX_MODE_PMEM &&
				     d->mode != CX_MODE_DC))
			return commit_error(d, cx_fail(e, ENXIO, "%s has no DPA "
						       "allocated", n));
		if (size % (uint64_t)ways || size / (uint64_t)ways != d->dpa_size)
			return commit_error(d, cx_fail(e, EINVAL, "%s: %#llx "
				"bytes over %d ways needs %#llx bytes of DPA "
				"per device, but %#llx are allocated", n,
				(unsigned long long)size, ways,
				(unsigned long long)(size / (uint64_t)ways),
				(unsigned long long)d->dpa_size));
	}
	cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_ERR_NOT_COMMITTED, false);
	cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_COMMIT |
			     CX_HDM_CTRL_COMMITTED, true);
	cx_host_decode_changed(host_of(d));
	return 0;
}

int cx_decoder_reset(struct cx_decoder *d, cx_err *e)
{
	char n[32];
	int ndec;
	struct cx_decoder *decs;

	dname(d, n, sizeof(n));
	if (d->kind == CX_DEC_ROOT)
		return cx_fail(e, EINVAL, "%s is a root decoder: the platform "
			       "fixes it, software does not reset it", n);
	decs = port_decoders(d, &ndec);
	if (cx_hdm_committed(&d->regs)) {
		int committed = count_committed(decs, ndec);
		if (d->id != committed - 1)
			return cx_fail(e, EBUSY, "out of order reset: %s while "
				       "decoder%d.%d above it is committed; "
				       "decoders reset from the top", n,
				       d->port_id, committed - 1);
	}
	/* Linux clears Commit, then zeroes size and base; we also clear the
	 * interleave setting and the target list so that a reset decoder
	 * reads like a fresh one.  The DPA skip of an endpoint belongs to its
	 * DPA allocation and stays. */
	cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_COMMIT |
			     CX_HDM_CTRL_COMMITTED |
			     CX_HDM_CTRL_ERR_NOT_COMMITTED, false);
	cx_host_decode_changed(host_of(d));
	cx_hdm_set_size(&d->regs, 0);
	cx_hdm_set_base(&d->regs, 0);
	cx_hdm_set_ig_iw(&d->regs, 0, 0);
	if (d->kind == CX_DEC_SWITCH) {
		for (int i = 0; i < CX_TARGETS_PER_DECODER; i++) {
			cx_hdm_set_target(&d->regs, i, 0);
			d->targets[i] = NULL;
		}
		d->nr_targets_set = 0;
	}
	return 0;
}

/* ---- endpoint DPA ---- */

/* Highest decoder id with a DPA allocation, or -1. */
static int last_allocated(const struct cx_memdev *m)
{
	for (int i = CX_DECODERS_PER_PORT - 1; i >= 0; i--)
		if (m->decoders[i].dpa_size)
			return i;
	return -1;
}

/* First DPA after every allocation (skips included). */
static uint64_t alloc_end(const struct cx_memdev *m)
{
	int last = last_allocated(m);
	if (last < 0)
		return 0;
	return m->decoders[last].dpa_base + m->decoders[last].dpa_size;
}

/* Where the next allocation of `mode` would start; 0 capacity -> end. */
static void partition_free(const struct cx_memdev *m, enum cx_mode mode,
			   uint64_t *start, uint64_t *avail)
{
	uint64_t end = alloc_end(m);
	uint64_t pstart, pend;

	if (mode == CX_MODE_RAM) {
		pstart = 0;
		pend = m->vmem_size;
	} else if (mode == CX_MODE_PMEM) {
		pstart = m->vmem_size;
		pend = m->vmem_size + m->pmem_size;
	} else if (mode == CX_MODE_DC) {
		pend = cx_memdev_dc_part(m, &pstart);
		pend += pstart;
	} else {
		*start = end;
		*avail = 0;
		return;
	}
	*start = end > pstart ? end : pstart;
	*avail = *start < pend ? pend - *start : 0;
}

uint64_t cx_memdev_free_capacity(const struct cx_memdev *m, enum cx_mode mode)
{
	uint64_t start, avail;
	if (last_allocated(m) == CX_DECODERS_PER_PORT - 1)
		return 0; /* no decoder left to describe it */
	partition_free(m, mode, &start, &avail);
	return avail;
}

int cx_memdev_check_dpa(const struct cx_memdev *m, cx_err *e)
{
	uint64_t end = 0;
	bool gap = false;
	char n[32];

	for (int i = 0; i < CX_DECODERS_PER_PORT; i++) {
		const struct cx_decoder *d = &m->decoders[i];
		dname(d, n, sizeof(n));
		if (!d->dpa_size) {
			if (d->dpa_base || cx_hdm_skip(&d->regs))
				return cx_fail(e, EINVAL, "%s has no DPA but a "
					       "DPA base or skip", n);
			gap = true;
			continue;
		}
		if (gap)
			return cx_fail(e, EINVAL, "%s holds DPA above a decoder "
				       "that holds none (DPA goes in decoder "
				       "order)", n);
		/* inside the device; not checked against the partitions,
		 * which a pending Set Partition Info may have moved at this
		 * start */
		uint64_t cap = m->vmem_size + m->pmem_size +
			       cx_memdev_dc_part(m, NULL);
		if (d->dpa_size % CX_HDM_ALIGN || d->dpa_base % CX_HDM_ALIGN ||
		    d->dpa_base >= cap || d->dpa_size > cap - d->dpa_base)
			return cx_fail(e, EINVAL, "%s: DPA %#llx+%#llx is not "
				       "256 MiB aligned inside the device's "
				       "%#llx bytes", n,
				       (unsigned long long)d->dpa_base,
				       (unsigned long long)d->dpa_size,
				       (unsigned long long)cap);
		if (d->dpa_base < end ||
		    d->dpa_base - end != cx_hdm_skip(&d->regs))
			return cx_fail(e, EINVAL, "%s: DPA starts at %#llx, but "
				       "the decoder before it ends at %#llx and "
				       "its skip is %#llx", n,
				       (unsigned long long)d->dpa_base,
				       (unsigned long long)end,
				       (unsigned long long)cx_hdm_skip(
					       &d->regs));
		end = d->dpa_base + d->dpa_size;
	}
	return 0;
}

int cx_decoder_alloc_dpa(struct cx_memdev *m, enum cx_mode mode,
			 uint64_t size, struct cx_decoder **out, cx_err *e)
{
	char n[32];
	uint64_t start, avail, psize;
	int id = last_allocated(m) + 1;

	if (mode != CX_MODE_RAM && mode != CX_MODE_PMEM && mode != CX_MODE_DC)
		return cx_fail(e, EINVAL, "mem%d: DPA is allocated as ram, "
			       "pmem or dynamic_ram_a, not %s", m->index,
			       cx_mode_name(mode));
	psize = mode == CX_MODE_RAM ? m->vmem_size :
		mode == CX_MODE_PMEM ? m->pmem_size : cx_memdev_dc_part(m, NULL);
	if (!psize)
		return cx_fail(e, ENXIO, "mem%d (%s) has no %s capacity%s",
			       m->index, m->qid, cx_mode_name(mode),
			       mode == CX_MODE_DC ? " (no dynamic capacity: "
			       "num-dc-regions and volatile-dc-memdev)" : "");
	if (!size || size % CX_HDM_ALIGN)
		return cx_fail(e, EINVAL, "mem%d: DPA size %#llx is not a "
			       "non-zero multiple of 256 MiB", m->index,
			       (unsigned long long)size);
	if (id >= CX_DECODERS_PER_PORT)
		return cx_fail(e, EBUSY, "mem%d: all %d endpoint decoders "
			       "already have DPA allocated", m->index,
			       CX_DECODERS_PER_PORT);
	struct cx_decoder *d = &m->decoders[id];
	if (cx_hdm_committed(&d->regs) || d->region)
		return cx_fail(e, EBUSY, "%s is busy (committed or in a "
			       "region) without a DPA allocation",
			       dname(d, n, sizeof(n)));
	partition_free(m, mode, &start, &avail);
	if (size > avail)
		return cx_fail(e, ENOSPC, "mem%d: %#llx bytes of %s requested, "
			       "%#llx available%s", m->index,
			       (unsigned long long)size, cx_mode_name(mode),
			       (unsigned long long)avail,
			       mode == CX_MODE_RAM && alloc_end(m) > m->vmem_size ?
			       " (ram was skipped by an earlier pmem allocation)"
			       : "");
	uint64_t skip = start - alloc_end(m);
	d->mode = mode;
	d->dpa_base = start;
	d->dpa_size = size;
	cx_hdm_set_skip(&d->regs, skip);
	if (out)
		*out = d;
	return 0;
}

int cx_decoder_free_dpa(struct cx_decoder *d, cx_err *e)
{
	char n[32];
	dname(d, n, sizeof(n));
	if (d->kind != CX_DEC_ENDPOINT)
		return cx_fail(e, EINVAL, "%s is not an endpoint decoder; only "
			       "endpoints have DPA", n);
	if (!d->dpa_size)
		return cx_fail(e, EINVAL, "%s has no DPA allocated", n);
	if (cx_hdm_committed(&d->regs))
		return cx_fail(e, EBUSY, "%s is committed; reset it before "
			       "freeing its DPA", n);
	if (d->region)
		return cx_fail(e, EBUSY, "%s belongs to region%d", n,
			       d->region->id);
	int last = last_allocated(d->memdev);
	if (d->id != last)
		return cx_fail(e, EBUSY, "%s: DPA is freed in decreasing "
			       "decoder order, and decoder%d.%d above it still "
			       "holds DPA", n, d->port_id, last);
	d->mode = CX_MODE_NONE;
	d->dpa_base = 0;
	d->dpa_size = 0;
	cx_hdm_set_skip(&d->regs, 0);
	return 0;
}
