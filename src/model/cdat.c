/*
 * cdat.c - the Coherent Device Attribute Table of a memdev (CDAT r1.03),
 * what a host reads over DOE to learn the device's memory ranges and
 * their performance.
 *
 * Layout: the 16-byte header (length of the whole table, revision 1, a
 * checksum that makes all bytes sum to 0, sequence 0), then for each
 * partition present (volatile first, DPA 0; persistent next) with DSMAS
 * handle 0 and 1: a DSMAS (DPA range, non-volatile flag for pmem), four
 * DSLBIS (read and write latency, read and write bandwidth, from the
 * memdev's read_latency_ns / write_latency_ns / read_bw_mbs /
 * write_bw_mbs) and a DSEMTS (EFI memory type: 1 = EFI_MEMORY_SP for
 * volatile, 2 = reserved for persistent, as QEMU).  Each dynamic capacity
 * region follows with handle 2 + its index: its DSMAS carries the
 * dynamic capacity flag, and the shareable flag when the region is
 * sharable (a multi-headed device's); EFI type 1, as volatile memory.
 */
#include "mbox.h"

#include <errno.h>
#include <string.h>

#define PART_LEN (CX_DSMAS_LEN + 4 * CX_DSLBIS_LEN + CX_DSEMTS_LEN)

static int ndc(const struct cx_memdev *m)
{
	if (!m->dc_size || m->dc_regions <= 0)
		return 0;
	return m->dc_regions < CX_DC_MAX_REGIONS ? m->dc_regions :
	       CX_DC_MAX_REGIONS;
}

static int nparts(const struct cx_memdev *m)
{
	return (m->vmem_size ? 1 : 0) + (m->pmem_size ? 1 : 0) + ndc(m);
}

uint32_t cx_cdat_dc_handle(const struct cx_memdev *m, int i)
{
	return 2 + (uint32_t)i;
}

size_t cx_cdat_size(const struct cx_memdev *m)
{
	return CX_CDAT_HDR_LEN + (size_t)nparts(m) * PART_LEN;
}

static uint8_t *put_header(uint8_t *p, uint8_t type, uint16_t len)
{
	p[CX_CDAT_S_TYPE] = type;
	cx_wr_le16(p + CX_CDAT_S_LENGTH, len);
	return p;
}

static uint8_t *put_dslbis(uint8_t *p, uint8_t handle, uint8_t type,
			   uint64_t value, uint64_t min_base)
{
	uint64_t base;
	uint16_t entry = cx_hmat_encode(value, min_base, &base);

	put_header(p, CX_CDAT_DSLBIS, CX_DSLBIS_LEN);
	p[CX_DSLBIS_HANDLE] = handle;
	p[CX_DSLBIS_FLAGS] = 0;  /* memory */
	p[CX_DSLBIS_DATA_TYPE] = type;
	cx_wr_le64(p + CX_DSLBIS_BASE_UNIT, base);
	cx_wr_le16(p + CX_DSLBIS_ENTRY0, entry);
	return p + CX_DSLBIS_LEN;
}

static uint8_t *put_partition(uint8_t *p, const struct cx_memdev *m,
			      uint8_t handle, uint8_t flags, uint64_t base,
			      uint64_t len)
{
	bool pmem = flags & CX_DSMAS_NONVOLATILE;
	put_header(p, CX_CDAT_DSMAS, CX_DSMAS_LEN);
	p[CX_DSMAS_HANDLE] = handle;
	p[CX_DSMAS_FLAGS] = flags;
	cx_wr_le64(p + CX_DSMAS_DPA_BASE, base);
	cx_wr_le64(p + CX_DSMAS_DPA_LEN, len);
	p += CX_DSMAS_LEN;
	/* latencies in picoseconds, at least ns units; bandwidth in MB/s */
	p = put_dslbis(p, handle, CX_HMAT_READ_LATENCY,
		       (uint64_t)m->read_latency_ns * 1000, 1000);
	p = put_dslbis(p, handle, CX_HMAT_WRITE_LATENCY,
		       (uint64_t)m->write_latency_ns * 1000, 1000);
	p = put_dslbis(p, handle, CX_HMAT_READ_BW, m->read_bw_mbs, 1);
	p = put_dslbis(p, handle, CX_HMAT_WRITE_BW, m->write_bw_mbs, 1);
	put_header(p, CX_CDAT_DSEMTS, CX_DSEMTS_LEN);
	p[CX_DSEMTS_HANDLE] = handle;
	p[CX_DSEMTS_EFI_TYPE] = pmem ? 2 : 1;
	cx_wr_le64(p + CX_DSEMTS_DPA_OFFSET, 0);
	cx_wr_le64(p + CX_DSEMTS_DPA_LEN, len);
	return p + CX_DSEMTS_LEN;
}

int cx_cdat_build(const struct cx_memdev *m, uint8_t *buf, size_t cap,
		  size_t *len, cx_err *e)
{
	size_t size = cx_cdat_size(m);

	if (cap < size)
		return cx_fail(e, ENOSPC, "memdev %s: its CDAT takes %zu bytes, "
			       "the buffer has %zu", m->qid, size, cap);
	memset(buf, 0, size);
	cx_wr_le32(buf + CX_CDAT_LENGTH, (uint32_t)size);
	buf[CX_CDAT_REVISION] = 1;
	uint8_t *p = buf + CX_CDAT_HDR_LEN;
	if (m->vmem_size)
		p = put_partition(p, m, 0, 0, 0, m->vmem_size);
	if (m->pmem_size)
		p = put_partition(p, m, 1, CX_DSMAS_NONVOLATILE, m->vmem_size,
				  m->pmem_size);
	for (int i = 0; i < ndc(m); i++) {
		uint64_t rlen = m->dc_size / (uint64_t)m->dc_regions;
		bool shared = m->mbox && m->mbox->dev->dc_region[i].sharable;
		p = put_partition(p, m, (uint8_t)cx_cdat_dc_handle(m, i),
				  CX_DSMAS_DYNAMIC_CAP |
				  (shared ? CX_DSMAS_SHAREABLE : 0),
				  m->vmem_size + m->pmem_size +
				  (uint64_t)i * rlen, rlen);
	}
	buf[CX_CDAT_CHECKSUM] = (uint8_t)(0x100 - cx_cdat_sum(buf, size));
	*len = size;
	return 0;
}
