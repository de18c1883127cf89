/*
 * cci.c - the CCI message header (CXL r3.1 §7.6.3): decode with the
 * checks every receiver makes before it looks at a command, encode.
 */
#include "cci.h"

#include <string.h>

enum cx_cci_error cx_cci_decode(const uint8_t *buf, size_t len,
				struct cx_cci_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	if (!buf || len < CX_CCI_HDR_LEN)
		return CX_CCI_TRUNCATED;
	uint8_t cat = buf[CX_CCI_CATEGORY];
	if (cat & 0xf0 || (cat != CX_CCI_REQUEST && cat != CX_CCI_RESPONSE))
		return CX_CCI_BAD_CATEGORY;
	uint32_t pl = cx_rd_le24(buf + CX_CCI_PL_LEN);
	msg->category = cat;
	msg->tag = buf[CX_CCI_TAG];
	msg->opcode = cx_rd_le16(buf + CX_CCI_OPCODE);
	msg->bo = pl & CX_CCI_BO;
	msg->len = pl & CX_CCI_PL_LEN_MASK;
	msg->rc = cx_rd_le16(buf + CX_CCI_RC);
	msg->vendor = cx_rd_le16(buf + CX_CCI_VENDOR);
	msg->payload = buf + CX_CCI_PAYLOAD;
	if (msg->len != len - CX_CCI_HDR_LEN)
		return CX_CCI_BAD_LENGTH;
	return CX_CCI_OK;
}

size_t cx_cci_encode(const struct cx_cci_msg *msg, uint8_t *buf,
		     size_t room)
{
	size_t n = CX_CCI_HDR_LEN + msg->len;
	if (msg->len > CX_CCI_PL_LEN_MASK || room < n)
		return 0;
	memset(buf, 0, CX_CCI_HDR_LEN);
	buf[CX_CCI_CATEGORY] = msg->category & 0x0f;
	buf[CX_CCI_TAG] = msg->tag;
	cx_wr_le16(buf + CX_CCI_OPCODE, msg->opcode);
	cx_wr_le24(buf + CX_CCI_PL_LEN, msg->len | (msg->bo ? CX_CCI_BO : 0));
	cx_wr_le16(buf + CX_CCI_RC, msg->rc);
	cx_wr_le16(buf + CX_CCI_VENDOR, msg->vendor);
	if (msg->len)
		memmove(buf + CX_CCI_PAYLOAD, msg->payload, msg->len);
	return n;
}

const char *cx_cci_error_name(enum cx_cci_error err)
{
	switch (err) {
	case CX_CCI_OK: return "ok";
	case CX_CCI_TRUNCATED:
		return "truncated: shorter than the 12-byte CCI header";
	case CX_CCI_BAD_LENGTH:
		return "the header's payload length is not the number of "
		       "bytes that follow it";
	case CX_CCI_BAD_CATEGORY:
		return "message category is not 0 (request) or 1 (response)";
	}
	return "?";
}
