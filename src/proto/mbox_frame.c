/*
 * mbox_frame.c - the binary mailbox frame's layout (mbox_frame.h): the
 * request checked field by field, the reply built and read back.
 */
#include "proto/mbox_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec/mbox.h"

int cx_mbf_req_parse(const uint8_t *f, size_t len, struct cx_mbf_req *r,
		     cx_err *e)
{
	if (len < CX_MBF_REQ_HDR)
		return cx_fail(e, EINVAL, "binary frame of %zu bytes is shorter "
			       "than the %d-byte mailbox request header", len,
			       CX_MBF_REQ_HDR);
	if (f[CX_MBF_REQ_KIND] != CX_MBF_KIND_MBOX)
		return cx_fail(e, EINVAL, "binary frame of kind %u: the only "
			       "kind is %d (a mailbox command)",
			       f[CX_MBF_REQ_KIND], CX_MBF_KIND_MBOX);
	if (f[CX_MBF_REQ_FLAGS] || cx_rd_le16(f + CX_MBF_REQ_RSVD))
		return cx_fail(e, EINVAL, "binary mailbox frame: flags %#x and "
			       "reserved %#x must be 0", f[CX_MBF_REQ_FLAGS],
			       cx_rd_le16(f + CX_MBF_REQ_RSVD));
	uint32_t in_len = cx_rd_le32(f + CX_MBF_REQ_LEN);
	if (in_len != len - CX_MBF_REQ_HDR)
		return cx_fail(e, EINVAL, "binary mailbox frame announces "
			       "%u payload bytes but carries %zu", in_len,
			       len - CX_MBF_REQ_HDR);
	r->memdev = cx_rd_le16(f + CX_MBF_REQ_MEMDEV);
	r->opcode = cx_rd_le16(f + CX_MBF_REQ_OPCODE);
	r->in = f + CX_MBF_REQ_HDR;
	r->in_len = in_len;
	return 0;
}

void cx_mbf_req_header(uint8_t *h, unsigned memdev, uint16_t opcode,
		       size_t in_len)
{
	memset(h, 0, CX_MBF_REQ_HDR);
	h[CX_MBF_REQ_KIND] = CX_MBF_KIND_MBOX;
	cx_wr_le16(h + CX_MBF_REQ_MEMDEV, (uint16_t)memdev);
	cx_wr_le16(h + CX_MBF_REQ_OPCODE, opcode);
	cx_wr_le32(h + CX_MBF_REQ_LEN, (uint32_t)in_len);
}

uint8_t *cx_mbf_rep_build(const struct cx_mbf_rep *r, size_t *len)
{
	size_t text = r->text ? strlen(r->text) : 0;
	if (text > CX_MBF_TEXT_MAX)
		text = CX_MBF_TEXT_MAX;
	*len = CX_MBF_REP_HDR + r->out_len + text;
	uint8_t *b = cx_xcalloc(1, *len + 1);
	b[CX_MBF_REP_KIND] = CX_MBF_KIND_MBOX;
	b[CX_MBF_REP_STATUS] = (uint8_t)r->status;
	cx_wr_le16(b + CX_MBF_REP_RC, r->rc);
	cx_wr_le32(b + CX_MBF_REP_ERRNO, (uint32_t)r->err);
	cx_wr_le32(b + CX_MBF_REP_OUT_LEN, (uint32_t)r->out_len);
	cx_wr_le16(b + CX_MBF_REP_TEXT_LEN, (uint16_t)text);
	if (r->out_len)
		memcpy(b + CX_MBF_REP_HDR, r->out, r->out_len);
	if (text)
		memcpy(b + CX_MBF_REP_HDR + r->out_len, r->text, text);
	return b;
}

int cx_mbf_rep_parse(const uint8_t *f, size_t len, struct cx_mbf_rep *r,
		     cx_err *e)
{
	if (len < CX_MBF_REP_HDR)
		return cx_fail(e, EPROTO, "binary mailbox reply of %zu bytes is "
			       "shorter than its %d-byte header", len,
			       CX_MBF_REP_HDR);
	if (f[CX_MBF_REP_KIND] != CX_MBF_KIND_MBOX ||
	    f[CX_MBF_REP_STATUS] > CX_MBF_REFUSED)
		return cx_fail(e, EPROTO, "binary mailbox reply of kind %u, "
			       "status %u: not a mailbox answer",
			       f[CX_MBF_REP_KIND], f[CX_MBF_REP_STATUS]);
	r->status = f[CX_MBF_REP_STATUS];
	r->rc = cx_rd_le16(f + CX_MBF_REP_RC);
	r->err = (int)cx_rd_le32(f + CX_MBF_REP_ERRNO);
	r->out_len = cx_rd_le32(f + CX_MBF_REP_OUT_LEN);
	r->text_len = cx_rd_le16(f + CX_MBF_REP_TEXT_LEN);
	if ((uint64_t)CX_MBF_REP_HDR + r->out_len + r->text_len != len)
		return cx_fail(e, EPROTO, "binary mailbox reply announces %zu "
			       "payload and %zu text bytes in a frame of %zu",
			       r->out_len, r->text_len, len);
	if (r->status == CX_MBF_REFUSED && (r->err <= 0 || r->err > 4095))
		return cx_fail(e, EPROTO, "binary mailbox reply refused with "
			       "errno %d", r->err);
	r->out = f + CX_MBF_REP_HDR;
	r->text = (const char *)f + CX_MBF_REP_HDR + r->out_len;
	return 0;
}
