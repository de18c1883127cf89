/*
 * cci.h - CCI messages and the FM-API (CXL r3.1 §7.6), as the
 * specification lays them out: the message header every command and
 * response carries on an MCTP-style transport, the FM-API opcodes a
 * fabric manager sends to a multi-headed dynamic capacity device, and the
 * byte layout of their payloads.  Constants and pure functions only; the
 * payload helpers (cx_rd_le*, cx_wr_le*) and return codes are
 * spec/mbox.h's.
 *
 * On the wire (docs: README "The fabric manager endpoint") a message is
 * one frame of the daemon's socket: a 4-byte little-endian length, then
 * an MCTP-style prefix (destination or source endpoint id, MCTP message
 * type 7h = FM-API), then the CCI message: this header and its payload.
 */
#ifndef CXLEMU_SPEC_CCI_H
#define CXLEMU_SPEC_CCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/mbox.h"

/* ---- MCTP-style prefix (DSP0236 message type byte, DSP0234) ---- */
#define CX_MCTP_PREFIX_LEN     2
#define CX_MCTP_EID            0x00   /* request: destination endpoint id;
					 response: the endpoint's own */
#define CX_MCTP_TYPE           0x01   /* [6:0] message type, [7] IC = 0 */
#define CX_MCTP_TYPE_FMAPI     0x07   /* CXL FM-API over MCTP */
#define CX_MCTP_TYPE_CCI       0x08   /* CXL Type 3 component CCI */

/* ---- CCI message (§7.6.3, Figure 7-19): 12-byte header ---- */
#define CX_CCI_HDR_LEN         12
#define CX_CCI_CATEGORY        0x00   /* [3:0] */
#define   CX_CCI_REQUEST       0
#define   CX_CCI_RESPONSE      1
#define CX_CCI_TAG             0x01
#define CX_CCI_OPCODE          0x03   /* u16: command set << 8 | command */
#define CX_CCI_PL_LEN          0x05   /* [20:0] payload length, [23] BO */
#define   CX_CCI_PL_LEN_MASK   0x1fffff
#define   CX_CCI_BO            (1u << 23) /* background operation */
#define CX_CCI_RC              0x08   /* u16 return code (responses) */
#define CX_CCI_VENDOR          0x0a   /* u16 vendor specific status */
#define CX_CCI_PAYLOAD         0x0c

struct cx_cci_msg {
	uint8_t category;          /* CX_CCI_REQUEST, CX_CCI_RESPONSE */
	uint8_t tag;
	uint16_t opcode;
	bool bo;
	uint16_t rc;
	uint16_t vendor;
	const uint8_t *payload;    /* into the decoded buffer */
	uint32_t len;
};

/* Why a buffer is not a CCI message (see cx_cci_decode). */
enum cx_cci_error {
	CX_CCI_OK = 0,
	CX_CCI_TRUNCATED,          /* shorter than the 12-byte header */
	CX_CCI_BAD_LENGTH,         /* payload length field != what follows */
	CX_CCI_BAD_CATEGORY,       /* category is neither request nor
				      response, or a reserved bit is set */
};
/* Decode the 12-byte header and check the payload length against what
 * follows it.  Pure: msg->payload points into buf. */
enum cx_cci_error cx_cci_decode(const uint8_t *buf, size_t len,
				struct cx_cci_msg *msg);
/* Write header + payload into buf (room for CX_CCI_HDR_LEN + msg->len);
 * returns the bytes written, 0 when it does not fit. */
size_t cx_cci_encode(const struct cx_cci_msg *msg, uint8_t *buf,
		     size_t room);
const char *cx_cci_error_name(enum cx_cci_error err);

/* ---- FM-API opcodes (§7.6.7, Table 7-70 and r3.2 §7.6.7.6) ---- */
enum cx_fm_opcode {
	CX_FM_IDENTIFY = 0x0001,             /* §8.2.9.1.1, generic */
	CX_FM_GET_MHD_INFO = 0x5500,         /* Get Multi-Headed Info */
	CX_FM_GET_DCD_INFO = 0x5600,
	CX_FM_GET_HOST_DC_REGION_CONFIG = 0x5601,
	CX_FM_SET_DC_REGION_CONFIG = 0x5602,
	CX_FM_GET_DC_REGION_EXTENT_LISTS = 0x5603,
	CX_FM_INITIATE_DC_ADD = 0x5604,
	CX_FM_INITIATE_DC_RELEASE = 0x5605,
};

/* 0001h Identify: out 0x12 (§8.2.9.1.1, Table 8-36) */
#define CX_FID_OUT_LEN         0x12
#define CX_FID_VID             0x00   /* u16 PCIe vendor id */
#define CX_FID_DID             0x02   /* u16 device id */
#define CX_FID_SUBSYS_VID      0x04
#define CX_FID_SUBSYS_ID       0x06
#define CX_FID_SERIAL          0x08   /* u64 */
#define CX_FID_MAX_MSG         0x10   /* log2 of the largest message */
#define CX_FID_COMPONENT       0x11
#define   CX_FID_COMPONENT_SWITCH 0x00
#define   CX_FID_COMPONENT_TYPE3  0x03

/* 5500h Get Multi-Headed Info: in 2, out 8 + LD map (§7.6.7.5.1) */
#define CX_MHD_IN_LEN          2
#define CX_MHD_IN_START_LD     0x00
#define CX_MHD_IN_MAP_LEN      0x01
#define CX_MHD_NUM_LDS         0x00
#define CX_MHD_NUM_HEADS       0x01
#define CX_MHD_START_LD        0x04
#define CX_MHD_MAP_LEN         0x05
#define CX_MHD_MAP             0x08   /* a byte per LD: its head */

/* 5600h Get DCD Info: out 0x54 (r3.2 §7.6.7.6.1) */
#define CX_DCDI_OUT_LEN        0x54
#define CX_DCDI_NUM_HOSTS      0x00
#define CX_DCDI_NUM_REGIONS    0x01
#define CX_DCDI_ADD_POLICIES   0x04   /* u16, bit n = selection policy n */
#define CX_DCDI_REL_POLICIES   0x08   /* u16, bit n = removal policy n */
#define CX_DCDI_SANITIZE_MASK  0x0a   /* bit n: region n's sanitize on
					 release can be configured */
#define CX_DCDI_TOTAL_CAP      0x0c   /* u64, 256 MiB units */
#define CX_DCDI_BLOCK_MASKS    0x14   /* 8 x u64: bit n = 2^n bytes */

/* Extent selection (Initiate Add) and removal (Initiate Release)
 * policies */
#define CX_FM_SEL_FREE         0
#define CX_FM_SEL_CONTIGUOUS   1
#define CX_FM_SEL_PRESCRIPTIVE 2
#define CX_FM_SEL_SHARED       3      /* enable shared access, by tag */
#define CX_FM_REL_TAG          0      /* tag-based */
#define CX_FM_REL_PRESCRIPTIVE 1

/* 5601h Get Host DC Region Configuration: in 4 (r3.2 §7.6.7.6.2) */
#define CX_HDRC_IN_LEN         4
#define CX_HDRC_IN_HOST        0x00   /* u16 */
#define CX_HDRC_IN_COUNT       0x02
#define CX_HDRC_IN_START       0x03
#define CX_HDRC_HOST           0x00   /* out: u16 */
#define CX_HDRC_NUM_REGIONS    0x02
#define CX_HDRC_RETURNED       0x03
#define CX_HDRC_REGIONS        0x04   /* CX_DCR_SIZE each: base, decode
					 length, length, block size as in
					 4800h, then these two */
#define CX_HDRC_R_DSMAS_FLAGS  0x20   /* the region's CDAT DSMAS flags */
#define CX_HDRC_R_SANITIZE     0x24   /* [0] sanitize on release */
/* then the trailer of 4800h (CX_GDC_T_*) */

/* 5602h Set DC Region Configuration: in 0x10 (r3.2 §7.6.7.6.3) */
#define CX_SDRC_IN_LEN         0x10
#define CX_SDRC_REGION         0x00
#define CX_SDRC_BLOCK_SIZE     0x04   /* u64 */
#define CX_SDRC_FLAGS          0x0c   /* [0] sanitize on release */

/* 5603h Get DC Region Extent Lists: in 0x0c (r3.2 §7.6.7.6.4) */
#define CX_GREL_IN_LEN         0x0c
#define CX_GREL_IN_HOST        0x00   /* u16 */
#define CX_GREL_IN_COUNT       0x04   /* u32 */
#define CX_GREL_IN_START       0x08   /* u32 */
#define CX_GREL_HOST           0x00   /* out: u16 */
#define CX_GREL_START          0x04   /* u32 */
#define CX_GREL_RETURNED       0x08   /* u32 */
#define CX_GREL_TOTAL          0x0c   /* u32 */
#define CX_GREL_GENERATION     0x10   /* u32 */
#define CX_GREL_EXTENTS        0x18   /* CX_DCE_SIZE each */

/* 5604h Initiate Dynamic Capacity Add, 5605h Initiate Dynamic Capacity
 * Release: 0x20 + CX_DCE_SIZE per extent (r3.2 §7.6.7.6.5-6) */
#define CX_IDC_HDR_LEN         0x20
#define CX_IDC_HOST            0x00   /* u16 */
#define CX_IDC_POLICY          0x02   /* add: [3:0] selection policy;
					 release: the flags below */
#define   CX_IDC_POLICY_MASK   0x0f
#define   CX_IDC_FORCED        (1u << 4)  /* release: forced removal */
#define   CX_IDC_SANITIZE      (1u << 5)  /* release: sanitize on release */
#define CX_IDC_REGION          0x03   /* add: region number */
#define CX_IDC_LENGTH          0x04   /* u64 */
#define CX_IDC_TAG             0x0c   /* 16 B */
#define CX_IDC_EXT_COUNT       0x1c   /* u32 */
#define CX_IDC_EXTENTS         0x20

#endif
