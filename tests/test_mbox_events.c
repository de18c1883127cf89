/*
 * test_mbox_events.c - event logs (records, handles, MORE, overflow,
 * clearing from the head), interrupt policy, the injected record layouts,
 * the poison list (inject, list with MORE and overflow, clear with split,
 * reads failing on a poisoned line), scan media, and the CDAT table.
 */
#include "test_mbox_fixture.h"

#include <errno.h>

#define U (256 * MX_MiB)

static uint8_t out[CX_MBOX_PAYLOAD_MAX];
static size_t olen;

static uint16_t get_events(struct mx *x, uint8_t log)
{
	return mx_run(x, CX_OP_GET_EVENT_RECORDS, &log, 1, out, &olen);
}

static uint16_t clear_events(struct mx *x, uint8_t log, uint8_t flags,
			     const uint16_t *h, int n)
{
	uint8_t in[6 + 2 * 255] = { log, flags, (uint8_t)n };
	for (int i = 0; i < n; i++)
		cx_wr_le16(in + 6 + 2 * i, h[i]);
	return mx_run(x, CX_OP_CLEAR_EVENT_RECORDS, in, 6 + 2 * (size_t)n, out,
		      &olen);
}

static void gm(struct mx *x, enum cx_event_log log, uint64_t dpa)
{
	struct cx_gm_event ev = {
		.media = { .log = log, .dpa = dpa, .flags = 2 },
	};
	assert_int_equal(cx_inject_general_media(x->m, &ev, &x->err), 0);
}

static uint16_t rec_handle(int i)
{
	return cx_rd_le16(out + 0x20 + 0x80 * i + 0x14);
}

/* ---- event logs ---- */

static void test_event_records_and_handles(void **state)
{
	struct mx *x = mx_new(U, U, 0, NULL);
	uint8_t ts[8];
	cx_wr_le64(ts, 5000);
	assert_int_equal(mx_run(x, CX_OP_SET_TIMESTAMP, ts, 8, out, &olen), 0);

	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_int_equal(olen, 0x20);
	assert_int_equal(out[0], 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 0);

	gm(x, CX_EVLOG_INFO, 0x1000);
	x->now += 10;
	gm(x, CX_EVLOG_INFO, 0x2000);
	gm(x, CX_EVLOG_WARN, 0x3000);
	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_int_equal(olen, 0x20 + 2 * 0x80);
	assert_int_equal(out[0], 0); /* no overflow, no more */
	assert_int_equal(cx_rd_le16(out + 0x14), 2);
	const uint8_t *r = out + 0x20;
	assert_memory_equal(r, cx_event_uuid_general_media, 16);
	assert_int_equal(r[0x10], 0x80);
	assert_int_equal(r[0x11], 2);
	assert_int_equal(rec_handle(0), 1);
	assert_int_equal(rec_handle(1), 2);
	assert_int_equal(cx_rd_le64(r + 0x18), 5000);
	assert_int_equal(cx_rd_le64(r + 0x80 + 0x18), 5010);
	assert_int_equal(cx_rd_le64(r + 0x30), 0x1000);
	assert_int_equal(cx_rd_le64(r + 0x80 + 0x30), 0x2000);
	/* each log has its own handles */
	assert_int_equal(get_events(x, CX_EVLOG_WARN), 0);
	assert_int_equal(rec_handle(0), 1);
	struct cx_mbox_status s;
	assert_int_equal(cx_mbox_status(x->m, &s), 0);
	assert_int_equal(s.event_status, 0x3);

	/* clearing must name handles from the head, in order */
	uint16_t h2 = 2, h0 = 0, h12[2] = { 1, 2 }, h21[2] = { 2, 1 },
		 h123[3] = { 1, 2, 3 };
	assert_int_equal(clear_events(x, CX_EVLOG_INFO, 0, &h2, 1),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(clear_events(x, CX_EVLOG_INFO, 0, &h0, 1),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(clear_events(x, CX_EVLOG_INFO, 0, h21, 2),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(clear_events(x, CX_EVLOG_INFO, 0, h123, 3),
			 CX_RC_INVALID_INPUT);
	assert_int_equal(clear_events(x, 5, 0, h12, 2), CX_RC_INVALID_INPUT);
	/* clear-all only after an overflow */
	assert_int_equal(clear_events(x, CX_EVLOG_INFO, CX_CER_FLAG_CLEAR_ALL,
				      NULL, 0), CX_RC_INVALID_INPUT);
	/* a count that disagrees with the payload length */
	uint8_t bad[8] = { 0, 0, 2 };
	assert_int_equal(mx_run(x, CX_OP_CLEAR_EVENT_RECORDS, bad, 8, out,
				&olen), CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 2);

	assert_int_equal(clear_events(x, CX_EVLOG_INFO, 0, h12, 1), 0);
	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 1);
	assert_int_equal(rec_handle(0), 2);
	assert_int_equal(clear_events(x, CX_EVLOG_INFO, 0, &h2, 1), 0);
	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 0);
	gm(x, CX_EVLOG_INFO, 0);
	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_int_equal(rec_handle(0), 3); /* handles are not reused */

	/* invalid log */
	assert_int_equal(get_events(x, 5), CX_RC_INVALID_INPUT);
	assert_int_equal(get_events(x, 0xff), CX_RC_INVALID_INPUT);
	mx_free(x);
}

static void test_event_more_and_overflow(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	uint8_t ts[8];
	cx_wr_le64(ts, 1000);
	assert_int_equal(mx_run(x, CX_OP_SET_TIMESTAMP, ts, 8, out, &olen), 0);

	for (int i = 0; i < CX_EVLOG_CAPACITY + 8; i++) {
		gm(x, CX_EVLOG_FAIL, (uint64_t)i << 12);
		x->now += 100;
	}
	/* 15 records fit a 2048-byte payload */
	assert_int_equal(get_events(x, CX_EVLOG_FAIL), 0);
	assert_int_equal(olen, 0x20 + 15 * 0x80);
	assert_int_equal(out[0], CX_GER_FLAG_OVERFLOW | CX_GER_FLAG_MORE);
	assert_int_equal(cx_rd_le16(out + 2), 8);
	assert_int_equal(cx_rd_le64(out + 4), 1000 + 100 * CX_EVLOG_CAPACITY);
	assert_int_equal(cx_rd_le64(out + 12),
			 1000 + 100 * (CX_EVLOG_CAPACITY + 7));
	assert_int_equal(cx_rd_le16(out + 0x14), 15);
	/* the dropped events are the newest ones */
	assert_int_equal(cx_rd_le64(out + 0x20 + 0x30), 0);

	uint16_t h[15];
	for (int i = 0; i < 15; i++)
		h[i] = rec_handle(i);
	assert_int_equal(h[14], 15);
	assert_int_equal(clear_events(x, CX_EVLOG_FAIL, 0, h, 15), 0);
	assert_int_equal(get_events(x, CX_EVLOG_FAIL), 0);
	assert_int_equal(out[0], CX_GER_FLAG_MORE); /* overflow consumed */
	assert_int_equal(cx_rd_le16(out + 2), 0);
	assert_int_equal(rec_handle(0), 16);

	/* overflow again, then clear all */
	for (int i = 0; i < 20; i++)
		gm(x, CX_EVLOG_FAIL, 0);
	assert_int_equal(get_events(x, CX_EVLOG_FAIL), 0);
	assert_true(out[0] & CX_GER_FLAG_OVERFLOW);
	uint16_t one = 1;
	assert_int_equal(clear_events(x, CX_EVLOG_FAIL, CX_CER_FLAG_CLEAR_ALL,
				      &one, 1), CX_RC_INVALID_INPUT);
	assert_int_equal(clear_events(x, CX_EVLOG_FAIL, CX_CER_FLAG_CLEAR_ALL,
				      NULL, 0), 0);
	assert_int_equal(get_events(x, CX_EVLOG_FAIL), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 0);

	/* handles wrap around without ever being 0 */
	x->m->mbox->logs[CX_EVLOG_FATAL].next_handle = 0xffff;
	gm(x, CX_EVLOG_FATAL, 0);
	gm(x, CX_EVLOG_FATAL, 0);
	assert_int_equal(get_events(x, CX_EVLOG_FATAL), 0);
	assert_int_equal(rec_handle(0), 0xffff);
	assert_int_equal(rec_handle(1), 1);
	mx_free(x);
}

static void test_event_interrupt_policy(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_INT_POLICY, NULL, 0, out,
				&olen), 0);
	assert_int_equal(olen, 5);
	assert_memory_equal(out, "\0\0\0\0\0", 5);
	uint8_t in[5] = { 0x01, 0x21, 0x31, 0x02, 0x41 };
	assert_int_equal(mx_run(x, CX_OP_SET_EVENT_INT_POLICY, in, 5, out,
				&olen), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_INT_POLICY, NULL, 0, out,
				&olen), 0);
	assert_memory_equal(out, in, 5);
	/* four bytes leave the dynamic capacity setting alone */
	uint8_t four[4] = { 0, 0, 0, 0 };
	assert_int_equal(mx_run(x, CX_OP_SET_EVENT_INT_POLICY, four, 4, out,
				&olen), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_INT_POLICY, NULL, 0, out,
				&olen), 0);
	assert_memory_equal(out, "\0\0\0\0\x41", 5);
	/* mode 3 is reserved */
	uint8_t bad[5] = { 0x01, 0x03, 0, 0, 0 };
	assert_int_equal(mx_run(x, CX_OP_SET_EVENT_INT_POLICY, bad, 5, out,
				&olen), CX_RC_INVALID_INPUT);
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_INT_POLICY, NULL, 0, out,
				&olen), 0);
	assert_memory_equal(out, "\0\0\0\0\x41", 5);
	mx_free(x);
}

static void test_injected_record_layouts(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	struct cx_gm_event g = {
		.media = {
			.log = CX_EVLOG_WARN, .flags = 1, .dpa = 0x1234000 | 1,
			.descriptor = 2, .type = 1, .transaction_type = 4,
			.has_channel = true, .channel = 3,
			.has_rank = true, .rank = 4,
		},
		.has_device = true, .device = 0xabcdef,
		.has_component_id = true, .component_id = "component-0123",
	};
	assert_int_equal(cx_inject_general_media(x->m, &g, &x->err), 0);
	assert_int_equal(get_events(x, CX_EVLOG_WARN), 0);
	const uint8_t *r = out + 0x20;
	assert_int_equal(r[0x11], 1);
	assert_int_equal(cx_rd_le64(r + 0x30), 0x1234001);
	assert_int_equal(r[0x38], 2);
	assert_int_equal(r[0x39], 1);
	assert_int_equal(r[0x3a], 4);
	assert_int_equal(cx_rd_le16(r + 0x3b), 0xf);
	assert_int_equal(r[0x3d], 3);
	assert_int_equal(r[0x3e], 4);
	assert_int_equal(cx_rd_le24(r + 0x3f), 0xabcdef);
	assert_memory_equal(r + 0x42, "component-0123", 14);

	struct cx_dram_event d = {
		.media = {
			.log = CX_EVLOG_FATAL, .dpa = 0x8000, .descriptor = 1,
			.type = 2, .transaction_type = 1,
			.has_rank = true, .rank = 9,
		},
		.has_row = true, .row = 0x12345, .has_column = true,
		.column = 0x321, .has_correction_mask = true,
		.correction_mask = { 1, 2, 3, 4 },
	};
	assert_int_equal(cx_inject_dram(x->m, &d, &x->err), 0);
	assert_int_equal(get_events(x, CX_EVLOG_FATAL), 0);
	assert_memory_equal(r, cx_event_uuid_dram, 16);
	assert_int_equal(cx_rd_le64(r + 0x30), 0x8000);
	assert_int_equal(cx_rd_le16(r + 0x3b),
			 CX_MEV_VALID_RANK | CX_DRAM_VALID_ROW |
			 CX_DRAM_VALID_COLUMN | CX_DRAM_VALID_CORRECTION);
	assert_int_equal(r[0x3e], 9);
	assert_int_equal(cx_rd_le24(r + 0x44), 0x12345);
	assert_int_equal(cx_rd_le16(r + 0x47), 0x321);
	assert_int_equal(cx_rd_le64(r + 0x49), 1);
	assert_int_equal(cx_rd_le64(r + 0x49 + 24), 4);

	struct cx_mm_event mm = {
		.log = CX_EVLOG_INFO, .type = 3, .additional_status = 0x5,
		.health = { .health_status = 4, .media_status = 2,
			    .life_used = 33, .temperature = 41,
			    .dirty_shutdowns = 2, .cor_volatile = 5,
			    .cor_persistent = 6 },
	};
	assert_int_equal(cx_inject_memory_module(x->m, &mm, &x->err), 0);
	assert_int_equal(get_events(x, CX_EVLOG_INFO), 0);
	assert_memory_equal(r, cx_event_uuid_memory_module, 16);
	assert_int_equal(r[0x30], 3);
	assert_int_equal(r[0x31], 4);
	assert_int_equal(r[0x32], 2);
	assert_int_equal(r[0x33], 5);
	assert_int_equal(r[0x34], 33);
	assert_int_equal(cx_rd_le16(r + 0x35), 41);
	assert_int_equal(cx_rd_le32(r + 0x37), 2);
	/* and the device's health followed */
	assert_int_equal(mx_run(x, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &olen),
			 0);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[3], 33);
	assert_int_equal(cx_rd_le16(out + 4), 41);

	/* bad log names and numbers */
	enum cx_event_log lg;
	assert_int_equal(cx_event_log_parse("failure", &lg), 0);
	assert_int_equal(lg, CX_EVLOG_FAIL);
	assert_int_equal(cx_event_log_parse("informational", &lg), 0);
	assert_int_equal(lg, CX_EVLOG_INFO);
	assert_int_equal(cx_event_log_parse("bogus", &lg), -EINVAL);
	g.media.log = CX_EVLOG_DCD;
	assert_int_equal(cx_inject_general_media(x->m, &g, &x->err), -EINVAL);
	mx_free(x);
}

/* ---- poison ---- */

static uint16_t get_poison(struct mx *x, uint64_t dpa, uint64_t units)
{
	uint8_t in[16];
	cx_wr_le64(in, dpa);
	cx_wr_le64(in + 8, units);
	return mx_run(x, CX_OP_GET_POISON_LIST, in, 16, out, &olen);
}

static uint16_t inject(struct mx *x, uint64_t dpa)
{
	uint8_t in[8];
	cx_wr_le64(in, dpa);
	return mx_run(x, CX_OP_INJECT_POISON, in, 8, out, &olen);
}

static uint16_t clear(struct mx *x, uint64_t dpa, uint8_t fill)
{
	uint8_t in[72];
	cx_wr_le64(in, dpa);
	memset(in + 8, fill, 64);
	return mx_run(x, CX_OP_CLEAR_POISON, in, 72, out, &olen);
}

static uint64_t whole(struct mx *x) { return cx_mbox_capacity(x->m) / 64; }

static void test_poison_inject_list_clear(void **state)
{
	struct mx *x = mx_new(U, U, 0, NULL);
	uint64_t bad = 0;
	cx_err e;

	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(olen, 0x20);
	assert_int_equal(cx_rd_le16(out + 0x0a), 0);

	/* one injected line in pmem */
	assert_int_equal(inject(x, U + 0x1000), 0);
	assert_int_equal(inject(x, U + 0x1000), 0); /* again: no change */
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(olen, 0x20 + 16);
	assert_int_equal(out[0], 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 1);
	assert_int_equal(cx_rd_le64(out + 0x20), (U + 0x1000) | 3);
	assert_int_equal(cx_rd_le32(out + 0x28), 1);

	/* a read of that exact line fails, its neighbours do not */
	assert_int_equal(cx_mbox_access_check(x->m, U + 0x1000 + 8, 8, false,
					      &bad, &e), -EIO);
	assert_int_equal(bad, U + 0x1008);
	assert_int_equal(cx_mbox_access_check(x->m, U + 0xfc0, 128, false,
					      &bad, &e), -EIO);
	assert_int_equal(bad, U + 0x1000);
	assert_int_equal(cx_mbox_access_check(x->m, U + 0xfc0, 64, false,
					      &bad, &e), 0);
	assert_int_equal(cx_mbox_access_check(x->m, U + 0x1040, 64, false,
					      &bad, &e), 0);
	assert_int_equal(cx_mbox_access_check(x->m, U + 0x1000, 64, true,
					      &bad, &e), 0);
	assert_int_equal(cx_poison_check(x->m, U + 0x1000, 1, &bad), 1);

	/* clear writes the data and makes the line readable */
	assert_int_equal(clear(x, U + 0x1000, 0xab), 0);
	assert_int_equal(cx_poison_check(x->m, U + 0x1000, 64, &bad), 0);
	uint8_t line[64];
	assert_int_equal(cx_media_read(x->m->pmem, 0x1000, line, 64, &e), 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(line[i], 0xab);
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 0);
	assert_int_equal(clear(x, U + 0x1000, 0), 0); /* clean line: fine */

	/* QMP-style range injection, then clearing its middle splits it */
	assert_int_equal(cx_inject_poison(x->m, 0x2000, 4 * 64, &x->err), 0);
	assert_int_equal(cx_inject_poison(x->m, 0x2040, 64, &x->err), -EBUSY);
	assert_int_equal(cx_inject_poison(x->m, 0x2001, 64, &x->err), -EINVAL);
	assert_int_equal(cx_inject_poison(x->m, 2 * U - 64, 128, &x->err),
			 -ERANGE);
	assert_int_equal(clear(x, 0x2080, 0), 0);
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 2);
	assert_int_equal(cx_rd_le64(out + 0x20), 0x2000 | 2);
	assert_int_equal(cx_rd_le32(out + 0x28), 2);
	assert_int_equal(cx_rd_le64(out + 0x30), 0x20c0 | 2);
	assert_int_equal(cx_rd_le32(out + 0x38), 1);
	/* a query window clips records */
	assert_int_equal(get_poison(x, 0x2040, 1), 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 1);
	assert_int_equal(cx_rd_le64(out + 0x20), 0x2040 | 2);
	assert_int_equal(cx_rd_le32(out + 0x28), 1);

	/* errors */
	assert_int_equal(inject(x, 0x20), CX_RC_INVALID_INPUT);
	assert_int_equal(inject(x, 2 * U), CX_RC_INVALID_PA);
	assert_int_equal(inject(x, ~0ULL & ~63ULL), CX_RC_INVALID_PA);
	assert_int_equal(clear(x, 0x2001, 0), CX_RC_INVALID_INPUT);
	assert_int_equal(clear(x, 2 * U, 0), CX_RC_INVALID_PA);
	assert_int_equal(get_poison(x, 8, 1), CX_RC_INVALID_INPUT);
	assert_int_equal(get_poison(x, 0, whole(x) + 1), CX_RC_INVALID_PA);
	assert_int_equal(get_poison(x, 64, ~0ULL), CX_RC_INVALID_PA);
	mx_free(x);
}

static void test_poison_limit_more_overflow_and_scan(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	uint8_t ts[8];
	cx_wr_le64(ts, 777);
	assert_int_equal(mx_run(x, CX_OP_SET_TIMESTAMP, ts, 8, out, &olen), 0);

	/* the mailbox refuses past the list limit */
	for (int i = 0; i < CX_POISON_LIST_MAX; i++)
		assert_int_equal(inject(x, (uint64_t)i * 128), 0);
	assert_int_equal(inject(x, 1ULL << 20), CX_RC_INJECT_POISON_LIMIT);
	/* injection from outside keeps going, with overflow */
	for (int i = 0; i < 44; i++)
		assert_int_equal(cx_inject_poison(x->m, (2ULL << 20) + i * 128,
						  64, &x->err), 0);
	assert_int_equal(cx_poison_check(x->m, (2ULL << 20) + 43 * 128, 64,
					 NULL), 1);

	/* 126 records per payload, MORE until all 256 listed */
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 126);
	assert_int_equal(out[0], CX_GPL_FLAG_MORE | CX_GPL_FLAG_OVERFLOW);
	assert_int_equal(cx_rd_le64(out + 2), 777);
	assert_int_equal(cx_rd_le64(out + 0x20), 0 | 3);
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 126);
	assert_int_equal(cx_rd_le64(out + 0x20), 126 * 128 | 3);
	assert_true(out[0] & CX_GPL_FLAG_MORE);
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(cx_rd_le16(out + 0x0a), 4);
	assert_false(out[0] & CX_GPL_FLAG_MORE);
	assert_true(out[0] & CX_GPL_FLAG_OVERFLOW);
	/* a new query starts over */
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(cx_rd_le64(out + 0x20), 0 | 3);

	/* scan capabilities */
	uint8_t caps[16] = { 0 };
	cx_wr_le64(caps + 8, whole(x));
	assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_CAPS, caps, 16, out,
				&olen), 0);
	assert_int_equal(olen, 4);
	assert_int_equal(cx_rd_le32(out), U / 128000);
	cx_wr_le64(caps, 32);
	assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_CAPS, caps, 16, out,
				&olen), CX_RC_INVALID_INPUT);
	cx_wr_le64(caps, 64);
	assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_CAPS, caps, 16, out,
				&olen), CX_RC_INVALID_PA);

	/* no results before a scan */
	assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_RESULTS, NULL, 0, out,
				&olen), CX_RC_UNSUPPORTED);
	/* a scan while the list is full cannot bring the hidden ones back */
	uint8_t sm[17] = { 0 };
	cx_wr_le64(sm + 8, whole(x));
	sm[16] = CX_SM_FLAG_NO_EVENT_LOG;
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_BG_STARTED);
	assert_int_equal(get_poison(x, 0, 1), 0);
	assert_true(out[0] & CX_GPL_FLAG_SCANNING);
	assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_RESULTS, NULL, 0, out,
				&olen), CX_RC_BUSY);
	mx_finish_bg(x);
	assert_int_equal(get_poison(x, 0, 1), 0);
	assert_int_equal(out[0], CX_GPL_FLAG_OVERFLOW);
	/* its results hold all 300 lines */
	int total = 0;
	do {
		assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_RESULTS, NULL,
					0, out, &olen), 0);
		total += cx_rd_le16(out + 0x12);
		assert_int_equal(olen, 0x20 + 16u * cx_rd_le16(out + 0x12));
	} while (out[0x10] & CX_SMR_FLAG_MORE);
	assert_int_equal(total, 300);

	/* clear 50 listed lines, scan again: the rest fits, no overflow */
	for (int i = 0; i < 50; i++)
		assert_int_equal(clear(x, (uint64_t)i * 128, 0), 0);
	sm[16] = 0; /* with event records this time */
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_BG_STARTED);
	mx_finish_bg(x);
	assert_int_equal(get_poison(x, 0, whole(x)), 0);
	assert_int_equal(out[0], CX_GPL_FLAG_MORE);
	uint8_t log = CX_EVLOG_FAIL;
	assert_int_equal(mx_run(x, CX_OP_GET_EVENT_RECORDS, &log, 1, out,
				&olen), 0);
	assert_int_equal(cx_rd_le16(out + 0x14), 15);
	assert_int_equal(out[0x20 + 0x3a], CX_GME_TRANS_SCAN_MEDIA);
	assert_int_equal(out[0x20 + 0x38], CX_GME_DESC_UNCORRECTABLE);

	/* scan errors */
	cx_wr_le64(sm, 16);
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_INVALID_INPUT);
	cx_wr_le64(sm, 64);
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_INVALID_PA);
	mx_free(x);
}

static void test_scan_abort_reports_stopped(void **state)
{
	struct mx *x = mx_new(U, 0, 0, NULL);
	struct cx_mbox_timing t = { .scan_ms = 1000 };
	cx_mbox_set_timing(x->m, &t);
	assert_int_equal(inject(x, 0x4000), 0);
	uint8_t sm[17] = { 0 };
	cx_wr_le64(sm, 0x1000);
	cx_wr_le64(sm + 8, 0x100);
	assert_int_equal(mx_run(x, CX_OP_SCAN_MEDIA, sm, 17, out, &olen),
			 CX_RC_BG_STARTED);
	/* while scanning, the list is frozen */
	assert_int_equal(inject(x, 0x8000), 0);
	assert_int_equal(cx_poison_check(x->m, 0x8000, 64, NULL), 0);
	x->now += 100 * 1000000ULL;
	assert_int_equal(mx_run(x, CX_OP_BG_OP_ABORT, NULL, 0, out, &olen), 0);
	assert_int_equal(mx_run(x, CX_OP_GET_SCAN_MEDIA_RESULTS, NULL, 0, out,
				&olen), 0);
	assert_int_equal(out[0x10], CX_SMR_FLAG_STOPPED);
	assert_int_equal(cx_rd_le64(out), 0x1000);
	assert_int_equal(cx_rd_le64(out + 8), 0x100 * 64);
	assert_int_equal(cx_rd_le16(out + 0x12), 1);
	assert_int_equal(cx_rd_le64(out + 0x20), 0x4000 | 3);
	mx_free(x);
}

/* ---- CDAT ---- */

static void test_cdat_structures(void **state)
{
	struct mx *x = mx_new(U, 2 * U, 0, NULL);
	x->m->read_latency_ns = 250;
	x->m->write_latency_ns = 300;
	x->m->read_bw_mbs = 32000;
	x->m->write_bw_mbs = 16500;
	uint8_t buf[512];
	size_t len = 0;

	assert_int_equal(cx_cdat_size(x->m), 16 + 2 * 144);
	assert_int_equal(cx_cdat_build(x->m, buf, 100, &len, &x->err), -ENOSPC);
	assert_int_equal(cx_cdat_build(x->m, buf, sizeof(buf), &len, &x->err),
			 0);
	assert_int_equal(len, 304);
	assert_int_equal(cx_rd_le32(buf), 304);
	assert_int_equal(buf[4], 1);
	assert_int_equal(cx_cdat_sum(buf, len), 0);

	/* walk the structures: lengths add up, types in order */
	static const uint8_t types[] = { 0, 1, 1, 1, 1, 4, 0, 1, 1, 1, 1, 4 };
	size_t off = 16;
	for (size_t i = 0; i < sizeof(types); i++) {
		assert_int_equal(buf[off], types[i]);
		assert_int_equal(cx_rd_le16(buf + off + 2), 24);
		off += 24;
	}
	assert_int_equal(off, len);

	const uint8_t *v = buf + 16, *p = buf + 16 + 144;
	assert_int_equal(v[4], 0);                     /* DSMAS handle */
	assert_int_equal(v[5], 0);                     /* volatile */
	assert_int_equal(cx_rd_le64(v + 8), 0);
	assert_int_equal(cx_rd_le64(v + 16), U);
	assert_int_equal(p[4], 1);
	assert_int_equal(p[5], CX_DSMAS_NONVOLATILE);
	assert_int_equal(cx_rd_le64(p + 8), U);
	assert_int_equal(cx_rd_le64(p + 16), 2 * U);
	/* DSLBIS: read/write latency (ps), read/write bandwidth (MB/s) */
	static const uint8_t dt[] = { 1, 2, 4, 5 };
	static const uint64_t want[] = { 250000, 300000, 32000, 16500 };
	for (int i = 0; i < 4; i++) {
		const uint8_t *s = p + 24 + 24 * i;
		assert_int_equal(s[4], 1);
		assert_int_equal(s[6], dt[i]);
		assert_int_equal(cx_rd_le64(s + 8) * cx_rd_le16(s + 16),
				 want[i]);
	}
	assert_int_equal(cx_rd_le64(v + 24 + 8), 1000);  /* ns units */
	assert_int_equal(cx_rd_le16(v + 24 + 16), 250);
	/* DSEMTS */
	assert_int_equal(v[120 + 4], 0);
	assert_int_equal(v[120 + 5], 1);
	assert_int_equal(cx_rd_le64(v + 120 + 16), U);
	assert_int_equal(p[120 + 5], 2);
	assert_int_equal(cx_rd_le64(p + 120 + 16), 2 * U);

	/* one partition only */
	mx_free(x);
	x = mx_new(0, U, 0, NULL);
	assert_int_equal(cx_cdat_build(x->m, buf, sizeof(buf), &len, &x->err),
			 0);
	assert_int_equal(len, 160);
	assert_int_equal(buf[16 + 4], 1);
	assert_int_equal(cx_rd_le64(buf + 16 + 8), 0);
	assert_int_equal(cx_cdat_sum(buf, len), 0);
	mx_free(x);
}

/* ---- robustness: random inputs change nothing they should not ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random_payloads_stay_in_bounds(void **state)
{
	struct mx *x = mx_new(U, U, 4096, NULL);
	const struct cx_mbox_cmd_info *t;
	int n = cx_mbox_commands(&t);
	static uint8_t in[CX_MBOX_PAYLOAD_MAX];

	for (int iter = 0; iter < 20000; iter++) {
		const struct cx_mbox_cmd_info *c = &t[next_rand() % (uint64_t)n];
		size_t len = c->in_len >= 0 ? (size_t)c->in_len :
			     (size_t)(next_rand() % 300);
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)next_rand();
		/* keep addresses mostly inside the device */
		if (len >= 8 && (next_rand() & 1))
			cx_wr_le64(in, next_rand() % (2 * U) & ~63ULL);
		uint16_t rc = mx_run(x, c->opcode, in, len, out, &olen);
		assert_true(rc <= CX_RC_ABORT_NOT_SUPPORTED);
		assert_true(olen <= CX_MBOX_PAYLOAD_MAX);
		if (rc != CX_RC_SUCCESS && rc != CX_RC_BG_STARTED)
			assert_int_equal(olen, 0);
		if (next_rand() % 64 == 0)
			mx_finish_bg(x);
	}
	mx_finish_bg(x);
	/* the device still answers sensibly */
	assert_int_equal(mx_run(x, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &olen),
			 0);
	assert_int_equal(cx_rd_le64(out + 0x10), 2);
	mx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_records_and_handles),
		cmocka_unit_test(test_event_more_and_overflow),
		cmocka_unit_test(test_event_interrupt_policy),
		cmocka_unit_test(test_injected_record_layouts),
		cmocka_unit_test(test_poison_inject_list_clear),
		cmocka_unit_test(test_poison_limit_more_overflow_and_scan),
		cmocka_unit_test(test_scan_abort_reports_stopped),
		cmocka_unit_test(test_cdat_structures),
		cmocka_unit_test(test_random_payloads_stay_in_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
