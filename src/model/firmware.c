/*
 * firmware.c - the firmware command set (02xxh): Get FW Info, Transfer FW
 * and Activate FW over CX_FW_SLOTS slots.
 *
 * A transfer arrives whole or in parts (initiate, continue, end), each
 * part a background command; parts must follow each other (a repeated
 * part is a retransmission) and a transfer that stalls for 30 s is
 * abandoned.  The image is not kept: its FNV-1a hash becomes the slot's
 * revision, "cxlemu-XXXXXXXX".  Activation is online or at the next
 * reset; slots and the active one outlive the fabric (device.c).
 */
#include "mbox.h"

#include <stdio.h>
#include <string.h>

/* ---- 02xxh firmware ---- */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}
#define FNV_INIT 2166136261u

uint16_t cx_cmd_get_fw_info(struct cx_memdev *m, struct cx_mbox_state *st,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len)
{
	out[CX_FWI_SLOTS] = CX_FW_SLOTS;
	out[CX_FWI_SLOT_INFO] = (uint8_t)((st->fw.active & 7) |
					  (st->fw.staged & 7) << 3);
	out[CX_FWI_ACTIVATION_CAPS] = 1; /* online activation */
	for (int s = 1; s <= CX_FW_SLOTS; s++)
		if (st->fw.present[s - 1])
			memcpy(out + CX_FWI_REV(s), st->fw.rev[s - 1],
			       CX_FW_REV_LEN);
	*out_len = CX_FWI_OUT_LEN;
	return CX_RC_SUCCESS;
}

void cx_fw_transfer_done(struct cx_mbox_state *st, bool aborted)
{
	if (aborted) {
		st->fw.transferring = false;
		return;
	}
	st->fw.last_part_ns = cx_mbox_now(st);
	if (st->bg.fw_action == CX_TFW_FULL || st->bg.fw_action == CX_TFW_END) {
		int s = st->bg.fw_slot - 1;
		st->fw.present[s] = true;
		memset(st->fw.rev[s], 0, CX_FW_REV_LEN);
		snprintf(st->fw.rev[s], CX_FW_REV_LEN, "cxlemu-%08x",
			 st->fw.hash);
		st->fw.transferring = false;
		cx_mbox_save_settings(st);
	}
}

static uint64_t fw_part_ms(struct cx_mbox_state *st, bool full)
{
	if (full)
		return st->timing.fw_full_ms ? st->timing.fw_full_ms : 200;
	return st->timing.fw_part_ms ? st->timing.fw_part_ms : 20;
}

uint16_t cx_cmd_transfer_fw(struct cx_memdev *m, struct cx_mbox_state *st,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len)
{
	uint8_t action = in[CX_TFW_ACTION], slot = in[CX_TFW_SLOT];
	uint64_t off = (uint64_t)cx_rd_le32(in + CX_TFW_OFFSET) * CX_TFW_UNIT;
	uint64_t len = in_len - CX_TFW_HDR_LEN;
	const uint8_t *data = in + CX_TFW_DATA;
	bool retransmit = false;

	if (action == CX_TFW_ABORT) {
		st->fw.transferring = false;
		return CX_RC_SUCCESS;
	}
	if (action > CX_TFW_ABORT || off + len > CX_FW_MAX_SIZE)
		return CX_RC_INVALID_INPUT;
	/* a partial transfer that stalls for 30 s is abandoned */
	if (st->fw.transferring &&
	    cx_mbox_now(st) - st->fw.last_part_ns > 30000000000ULL)
		st->fw.transferring = false;
	if (st->fw.transferring) {
		if (action == CX_TFW_FULL || action == CX_TFW_INIT)
			return CX_RC_FW_IN_PROGRESS;
		if (off == st->fw.prev_off && len == st->fw.prev_len)
			retransmit = true;
		else if (off != st->fw.prev_off + st->fw.prev_len)
			return CX_RC_FW_OUT_OF_ORDER;
	} else if (action == CX_TFW_CONTINUE || action == CX_TFW_END) {
		return CX_RC_INVALID_INPUT;
	}
	if ((action == CX_TFW_FULL || action == CX_TFW_END) &&
	    (slot == 0 || slot > CX_FW_SLOTS || slot == st->fw.active))
		return CX_RC_FW_INVALID_SLOT;
	if ((action == CX_TFW_INIT && off != 0) ||
	    (action == CX_TFW_FULL && len == 0))
		return CX_RC_INVALID_INPUT;

	switch (action) {
	case CX_TFW_FULL:
		st->fw.hash = fnv1a(FNV_INIT, data, len);
		st->fw.size = len;
		break;
	case CX_TFW_INIT:
		st->fw.transferring = true;
		st->fw.hash = fnv1a(FNV_INIT, data, len);
		break;
	default: /* continue, end */
		if (!retransmit)
			st->fw.hash = fnv1a(st->fw.hash, data, len);
		break;
	}
	if (action != CX_TFW_FULL) {
		st->fw.prev_off = off;
		st->fw.prev_len = len;
		st->fw.size = off + len;
		st->fw.last_part_ns = cx_mbox_now(st);
	}
	cx_mbox_bg_start(st, CX_OP_TRANSFER_FW,
			 fw_part_ms(st, action == CX_TFW_FULL));
	st->bg.fw_action = action;
	st->bg.fw_slot = slot;
	return CX_RC_BG_STARTED;
}

uint16_t cx_cmd_activate_fw(struct cx_memdev *m, struct cx_mbox_state *st,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len)
{
	uint8_t action = in[CX_AFW_ACTION], slot = in[CX_AFW_SLOT];

	if (action > 1)
		return CX_RC_INVALID_INPUT;
	if (st->fw.transferring)
		return CX_RC_FW_IN_PROGRESS;
	if (slot == 0 || slot > CX_FW_SLOTS || slot == st->fw.active ||
	    !st->fw.present[slot - 1])
		return CX_RC_FW_INVALID_SLOT;
	if (action == 0) {
		st->fw.active = slot;
		st->fw.staged = 0;
	} else {
		st->fw.staged = slot;
	}
	cx_mbox_save_settings(st);
	return CX_RC_SUCCESS;
}
