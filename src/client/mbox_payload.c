/*
 * mbox_payload.c - device-management payloads, built and read
 * (mbox_payload.h).
 */
#include "client/mbox_payload.h"

#include <errno.h>
#include <string.h>

size_t cx_pl_set_partition(uint8_t in[CX_SPI_IN_LEN], uint64_t volatile_bytes,
			   bool immediate)
{
	memset(in, 0, CX_SPI_IN_LEN);
	cx_wr_le64(in + CX_SPI_VOLATILE, volatile_bytes / CX_CAPACITY_UNIT);
	in[CX_SPI_FLAGS] = immediate ? CX_SPI_FLAG_IMMEDIATE : 0;
	return CX_SPI_IN_LEN;
}

size_t cx_pl_get_lsa(uint8_t in[CX_GLSA_IN_LEN], uint32_t offset,
		     uint32_t length)
{
	cx_wr_le32(in + CX_GLSA_OFFSET, offset);
	cx_wr_le32(in + CX_GLSA_LENGTH, length);
	return CX_GLSA_IN_LEN;
}

size_t cx_pl_set_lsa(uint8_t in[CX_MBOX_PAYLOAD_MAX], uint32_t offset,
		     const void *data, size_t len)
{
	if (len > CX_PL_SET_LSA_MAX)
		len = CX_PL_SET_LSA_MAX;
	memset(in, 0, CX_SLSA_HDR_LEN + len);
	cx_wr_le32(in + CX_SLSA_OFFSET, offset);
	if (data)
		memcpy(in + CX_SLSA_DATA, data, len);
	return CX_SLSA_HDR_LEN + len;
}

size_t cx_pl_transfer_fw(uint8_t in[CX_MBOX_PAYLOAD_MAX], uint8_t action,
			 uint8_t slot, uint64_t offset, const void *data,
			 size_t len)
{
	if (len > CX_PL_FW_PART_MAX)
		len = CX_PL_FW_PART_MAX;
	memset(in, 0, CX_TFW_HDR_LEN);
	in[CX_TFW_ACTION] = action;
	in[CX_TFW_SLOT] = slot;
	cx_wr_le32(in + CX_TFW_OFFSET, (uint32_t)(offset / CX_TFW_UNIT));
	if (len)
		memcpy(in + CX_TFW_DATA, data, len);
	return CX_TFW_HDR_LEN + len;
}

size_t cx_pl_activate_fw(uint8_t in[CX_AFW_IN_LEN], bool online,
			 uint8_t slot)
{
	in[CX_AFW_ACTION] = online ? 0 : 1;
	in[CX_AFW_SLOT] = slot;
	return CX_AFW_IN_LEN;
}

size_t cx_pl_set_alert_config(uint8_t in[CX_SAC_IN_LEN],
			      const struct cx_alert_config *a)
{
	memset(in, 0, CX_SAC_IN_LEN);
	in[CX_SAC_VALID] = a->valid;
	in[CX_SAC_ENABLE] = a->enable;
	in[CX_SAC_LIFE_WARN] = a->life_used;
	cx_wr_le16(in + CX_SAC_OVER_TEMP_WARN, (uint16_t)a->over_temp);
	cx_wr_le16(in + CX_SAC_UNDER_TEMP_WARN, (uint16_t)a->under_temp);
	cx_wr_le16(in + CX_SAC_COR_VOL_WARN, a->cor_vol);
	cx_wr_le16(in + CX_SAC_COR_PER_WARN, a->cor_per);
	return CX_SAC_IN_LEN;
}

int cx_pl_bg_status(const uint8_t *out, size_t n, struct cx_bg_status *s)
{
	if (n < CX_BGS_OUT_LEN)
		return -EPROTO;
	s->running = out[CX_BGS_STATUS] & 1;
	s->percent = out[CX_BGS_STATUS] >> 1;
	s->opcode = cx_rd_le16(out + CX_BGS_OPCODE);
	s->rc = cx_rd_le16(out + CX_BGS_RC);
	return 0;
}

int cx_pl_identify(const uint8_t *out, size_t n, struct cx_identify *id)
{
	if (n < CX_ID_OUT_LEN)
		return -EPROTO;
	id->total = cx_rd_le64(out + CX_ID_TOTAL_CAP) * CX_CAPACITY_UNIT;
	id->volatile_only = cx_rd_le64(out + CX_ID_VOLATILE_CAP) *
			    CX_CAPACITY_UNIT;
	id->persistent_only = cx_rd_le64(out + CX_ID_PERSISTENT_CAP) *
			      CX_CAPACITY_UNIT;
	id->partition_align = cx_rd_le64(out + CX_ID_PARTITION_ALIGN) *
			      CX_CAPACITY_UNIT;
	id->lsa_size = cx_rd_le32(out + CX_ID_LSA_SIZE);
	return 0;
}
