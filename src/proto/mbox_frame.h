/*
 * mbox_frame.h - the binary mailbox frame: one mailbox command and its
 * answer without JSON, for programs that send many (the preload's
 * /dev/cxl/memN ioctls, cxlemu_mbox()).
 *
 * Both travel as one frame whose 4-byte header has CX_PROTO_BINARY set
 * (proto.h).  All fields little-endian, offsets stated here once.
 *
 * Request (CX_MBF_REQ_HDR bytes, then the input payload):
 *   0  u8   kind     CX_MBF_KIND_MBOX
 *   1  u8   flags    0
 *   2  u16  memdev   N of the connection's host's memN
 *   4  u16  opcode   command set << 8 | command
 *   6  u16  reserved 0
 *   8  u32  in_len   bytes of input payload that follow
 *
 * Reply (CX_MBF_REP_HDR bytes, then out_len bytes of output payload,
 * then text_len bytes of text):
 *   0  u8   kind     as asked (CX_MBF_KIND_MBOX)
 *   1  u8   status   CX_MBF_RAN: the mailbox took the command and rc is
 *                    its CXL return code; CX_MBF_REFUSED: the request
 *                    never reached a mailbox, errno says why and the text
 *                    is the same message the JSON path gives
 *   2  u16  rc       CXL return code (CX_MBF_RAN)
 *   4  u32  errno    positive errno (CX_MBF_REFUSED), else 0
 *   8  u32  out_len  output payload bytes the device returned
 *  12  u16  text_len bytes of text: the refusal, or what holds a busy
 *                    device; none otherwise
 *  14  u16  reserved 0
 */
#ifndef CXLEMU_MBOX_FRAME_H
#define CXLEMU_MBOX_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define CX_MBF_KIND_MBOX 1

#define CX_MBF_REQ_KIND 0
#define CX_MBF_REQ_FLAGS 1
#define CX_MBF_REQ_MEMDEV 2
#define CX_MBF_REQ_OPCODE 4
#define CX_MBF_REQ_RSVD 6
#define CX_MBF_REQ_LEN 8
#define CX_MBF_REQ_HDR 12

#define CX_MBF_REP_KIND 0
#define CX_MBF_REP_STATUS 1
#define CX_MBF_REP_RC 2
#define CX_MBF_REP_ERRNO 4
#define CX_MBF_REP_OUT_LEN 8
#define CX_MBF_REP_TEXT_LEN 12
#define CX_MBF_REP_RSVD 14
#define CX_MBF_REP_HDR 16

#define CX_MBF_RAN 0
#define CX_MBF_REFUSED 1

/* Longest text a reply carries (a longer message is cut). */
#define CX_MBF_TEXT_MAX 1024

struct cx_mbf_req {
	unsigned memdev;
	uint16_t opcode;
	const uint8_t *in;          /* into the frame */
	size_t in_len;
};

/* Check a request frame's payload (after the 4-byte header): -EINVAL
 * naming the field for a short frame, an unknown kind, non-zero flags or
 * reserved bits, or an in_len that disagrees with the frame's length. */
int cx_mbf_req_parse(const uint8_t *frame, size_t len, struct cx_mbf_req *r,
		     cx_err *e);
/* Write a request's header into hdr[CX_MBF_REQ_HDR]. */
void cx_mbf_req_header(uint8_t *hdr, unsigned memdev, uint16_t opcode,
		       size_t in_len);

struct cx_mbf_rep {
	int status;                 /* CX_MBF_RAN or CX_MBF_REFUSED */
	uint16_t rc;
	int err;                    /* positive errno when refused */
	const uint8_t *out;         /* into the frame */
	size_t out_len;
	const char *text;           /* into the frame, not NUL-terminated */
	size_t text_len;
};

/* A reply frame's payload in one malloc'd buffer (*len bytes): text may
 * be NULL, and is cut at CX_MBF_TEXT_MAX. */
uint8_t *cx_mbf_rep_build(const struct cx_mbf_rep *r, size_t *len);
/* Check and decode a reply's payload: -EPROTO naming the field when it is
 * not shaped as one. */
int cx_mbf_rep_parse(const uint8_t *frame, size_t len, struct cx_mbf_rep *r,
		     cx_err *e);

#endif
