/*
 * test_mbox_payload.c - the device-management payloads the client
 * library builds (client/mbox_payload.h), byte for byte as the CXL
 * specification lays them out, and the outputs it reads back, including
 * ones too short to hold what is read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "client/mbox_payload.h"

static void test_set_partition(void **state)
{
	uint8_t in[CX_SPI_IN_LEN];
	const uint8_t want[CX_SPI_IN_LEN] = { 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t now[CX_SPI_IN_LEN] = { 0, 1, 0, 0, 0, 0, 0, 0, 1, 0 };

	(void)state;
	memset(in, 0xee, sizeof(in));
	assert_int_equal(cx_pl_set_partition(in, 3 * CX_CAPACITY_UNIT, false),
			 CX_SPI_IN_LEN);
	assert_memory_equal(in, want, sizeof(want));
	assert_int_equal(cx_pl_set_partition(in, 256 * CX_CAPACITY_UNIT,
					     true), CX_SPI_IN_LEN);
	assert_memory_equal(in, now, sizeof(now));
}

static void test_lsa(void **state)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX];
	const uint8_t get[] = { 0x00, 0x10, 0, 0, 0x00, 0x08, 0, 0 };
	const uint8_t set[] = { 0x34, 0x12, 0, 0, 0, 0, 0, 0, 'a', 'b' };

	(void)state;
	assert_int_equal(cx_pl_get_lsa(in, 0x1000, 0x800), CX_GLSA_IN_LEN);
	assert_memory_equal(in, get, sizeof(get));
	memset(in, 0xee, sizeof(in));
	assert_int_equal(cx_pl_set_lsa(in, 0x1234, "ab", 2), sizeof(set));
	assert_memory_equal(in, set, sizeof(set));
	/* no data: zeros, as zero-labels sends */
	memset(in, 0xee, sizeof(in));
	assert_int_equal(cx_pl_set_lsa(in, 0, NULL, 4), CX_SLSA_HDR_LEN + 4);
	for (size_t i = 0; i < CX_SLSA_HDR_LEN + 4; i++)
		assert_int_equal(in[i], 0);
	/* a piece is at most what fits beside the header */
	assert_int_equal(cx_pl_set_lsa(in, 0, NULL, 5000), CX_MBOX_PAYLOAD_MAX);
}

static void test_firmware(void **state)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX], data[CX_PL_FW_PART_MAX];

	(void)state;
	memset(data, 0x5a, sizeof(data));
	memset(in, 0xee, sizeof(in));
	/* a middle part: offset in 128-byte units, no slot */
	assert_int_equal(cx_pl_transfer_fw(in, CX_TFW_CONTINUE, 0, 3840, data,
					   sizeof(data)), CX_MBOX_PAYLOAD_MAX);
	assert_int_equal(in[CX_TFW_ACTION], CX_TFW_CONTINUE);
	assert_int_equal(in[CX_TFW_SLOT], 0);
	assert_int_equal(in[2], 0);
	assert_int_equal(in[3], 0);
	assert_int_equal(cx_rd_le32(in + CX_TFW_OFFSET), 30);
	for (size_t i = 8; i < CX_TFW_HDR_LEN; i++)
		assert_int_equal(in[i], 0);
	assert_memory_equal(in + CX_TFW_DATA, data, sizeof(data));
	/* the last part names the slot; abort is the header alone */
	assert_int_equal(cx_pl_transfer_fw(in, CX_TFW_END, 2, 7680, data, 10),
			 CX_TFW_HDR_LEN + 10);
	assert_int_equal(in[CX_TFW_ACTION], CX_TFW_END);
	assert_int_equal(in[CX_TFW_SLOT], 2);
	assert_int_equal(cx_rd_le32(in + CX_TFW_OFFSET), 60);
	assert_int_equal(cx_pl_transfer_fw(in, CX_TFW_ABORT, 0, 0, NULL, 0),
			 CX_TFW_HDR_LEN);
	assert_int_equal(in[CX_TFW_ACTION], CX_TFW_ABORT);

	uint8_t act[CX_AFW_IN_LEN];
	const uint8_t reset2[] = { 1, 2 }, online3[] = { 0, 3 };
	assert_int_equal(cx_pl_activate_fw(act, false, 2), CX_AFW_IN_LEN);
	assert_memory_equal(act, reset2, sizeof(reset2));
	cx_pl_activate_fw(act, true, 3);
	assert_memory_equal(act, online3, sizeof(online3));
}

static void test_alert_config(void **state)
{
	uint8_t in[CX_SAC_IN_LEN];
	struct cx_alert_config a = {
		.valid = CX_ALERT_LIFE_USED | CX_ALERT_UNDER_TEMP |
			 CX_ALERT_COR_PERSISTENT,
		.enable = CX_ALERT_LIFE_USED | CX_ALERT_UNDER_TEMP,
		.life_used = 90, .over_temp = 0, .under_temp = -5,
		.cor_vol = 0, .cor_per = 0x1234,
	};
	const uint8_t want[CX_SAC_IN_LEN] = {
		0x15, 0x05, 90, 0, 0, 0, 0xfb, 0xff, 0, 0, 0x34, 0x12,
	};

	(void)state;
	memset(in, 0xee, sizeof(in));
	assert_int_equal(cx_pl_set_alert_config(in, &a), CX_SAC_IN_LEN);
	assert_memory_equal(in, want, sizeof(want));
}

static void test_outputs(void **state)
{
	uint8_t out[CX_ID_OUT_LEN];
	struct cx_bg_status s;
	struct cx_identify id;

	(void)state;
	memset(out, 0, sizeof(out));
	out[CX_BGS_STATUS] = 50 << 1 | 1;
	cx_wr_le16(out + CX_BGS_OPCODE, 0x4400);
	cx_wr_le16(out + CX_BGS_RC, 0x0015);
	assert_int_equal(cx_pl_bg_status(out, CX_BGS_OUT_LEN, &s), 0);
	assert_true(s.running);
	assert_int_equal(s.percent, 50);
	assert_int_equal(s.opcode, 0x4400);
	assert_int_equal(s.rc, 0x15);
	assert_int_equal(cx_pl_bg_status(out, CX_BGS_OUT_LEN - 1, &s),
			 -EPROTO);

	memset(out, 0, sizeof(out));
	cx_wr_le64(out + CX_ID_TOTAL_CAP, 4);
	cx_wr_le64(out + CX_ID_VOLATILE_CAP, 1);
	cx_wr_le64(out + CX_ID_PERSISTENT_CAP, 0);
	cx_wr_le64(out + CX_ID_PARTITION_ALIGN, 1);
	cx_wr_le32(out + CX_ID_LSA_SIZE, 0x20000);
	assert_int_equal(cx_pl_identify(out, sizeof(out), &id), 0);
	assert_true(id.total == 4 * CX_CAPACITY_UNIT);
	assert_true(id.volatile_only == CX_CAPACITY_UNIT);
	assert_true(id.persistent_only == 0);
	assert_true(id.partition_align == CX_CAPACITY_UNIT);
	assert_int_equal(id.lsa_size, 0x20000);
	assert_int_equal(cx_pl_identify(out, CX_ID_OUT_LEN - 1, &id), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_partition),
		cmocka_unit_test(test_lsa),
		cmocka_unit_test(test_firmware),
		cmocka_unit_test(test_alert_config),
		cmocka_unit_test(test_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
