/*
 * events.c - the memdev's five event logs (informational, warning,
 * failure, fatal, dynamic capacity; CXL r3.1 §8.2.9.2).
 *
 * Each log holds up to CX_EVLOG_CAPACITY 128-byte records, oldest first.
 * A record gets a handle when it is logged: a per-log counter that starts
 * at 1 and skips 0 when it wraps.  When the log is full, a new event is
 * dropped and counted instead: the overflow count and the first and last
 * overflow timestamps, reported by Get Event Records until the host clears
 * records.  Clear Event Records must name handles from the head of the log
 * in order; "clear all" is only accepted once the log has overflowed.
 */
#include "mbox.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

void cx_event_header(uint8_t *rec, const uint8_t *uuid, uint8_t flags)
{
	memcpy(rec + CX_EVR_UUID, uuid, 16);
	rec[CX_EVR_LENGTH] = CX_EVENT_RECORD_SIZE;
	rec[CX_EVR_FLAGS] = flags;
}

void cx_events_add(struct cx_mbox_state *st, enum cx_event_log log,
		   const uint8_t *rec)
{
	struct cx_event_log_state *l = &st->logs[log];
	uint64_t ts = cx_mbox_timestamp(st);

	if (l->n == CX_EVLOG_CAPACITY) {
		if (l->overflow_count == 0)
			l->first_overflow_ts = ts;
		l->last_overflow_ts = ts;
		if (l->overflow_count < 0xffff)
			l->overflow_count++;
		return;
	}
	uint8_t *r = l->recs[l->n++];
	memcpy(r, rec, CX_EVENT_RECORD_SIZE);
	cx_wr_le16(r + CX_EVR_HANDLE, l->next_handle);
	cx_wr_le64(r + CX_EVR_TIMESTAMP, ts);
	if (++l->next_handle == 0)
		l->next_handle = 1;
}

static void reset_overflow(struct cx_event_log_state *l)
{
	l->overflow_count = 0;
	l->first_overflow_ts = l->last_overflow_ts = 0;
}

void cx_events_clear_all(struct cx_mbox_state *st)
{
	for (int i = 0; i < CX_EVLOG_COUNT; i++) {
		st->logs[i].n = 0;
		reset_overflow(&st->logs[i]);
	}
}

/* 0100h Get Event Records */
uint16_t cx_cmd_get_event_records(struct cx_memdev *m, struct cx_mbox_state *st,
				  const uint8_t *in, size_t in_len,
				  uint8_t *out, size_t *out_len)
{
	uint8_t log = in[0];
	const int max = (CX_MBOX_PAYLOAD_MAX - CX_GER_RECORDS) /
			CX_EVENT_RECORD_SIZE;

	if (log >= CX_EVLOG_COUNT)
		return CX_RC_INVALID_INPUT;
	struct cx_event_log_state *l = &st->logs[log];
	int n = l->n < max ? l->n : max;
	for (int i = 0; i < n; i++)
		memcpy(out + CX_GER_RECORDS + i * CX_EVENT_RECORD_SIZE,
		       l->recs[i], CX_EVENT_RECORD_SIZE);
	uint8_t flags = 0;
	if (l->overflow_count) {
		flags |= CX_GER_FLAG_OVERFLOW;
		cx_wr_le16(out + CX_GER_OVERFLOW_COUNT, l->overflow_count);
		cx_wr_le64(out + CX_GER_FIRST_OVERFLOW, l->first_overflow_ts);
		cx_wr_le64(out + CX_GER_LAST_OVERFLOW, l->last_overflow_ts);
	}
	if (l->n > n)
		flags |= CX_GER_FLAG_MORE;
	out[CX_GER_FLAGS] = flags;
	cx_wr_le16(out + CX_GER_RECORD_COUNT, (uint16_t)n);
	*out_len = CX_GER_RECORDS + (size_t)n * CX_EVENT_RECORD_SIZE;
	return CX_RC_SUCCESS;
}

/* 0101h Clear Event Records */
uint16_t cx_cmd_clear_event_records(struct cx_memdev *m,
				    struct cx_mbox_state *st,
				    const uint8_t *in, size_t in_len,
				    uint8_t *out, size_t *out_len)
{
	uint8_t log = in[CX_CER_LOG], flags = in[CX_CER_FLAGS];
	int nh = in[CX_CER_NHANDLES];

	if (in_len != CX_CER_HDR_LEN + 2u * (size_t)nh)
		return CX_RC_INVALID_PAYLOAD_LENGTH;
	if (log >= CX_EVLOG_COUNT)
		return CX_RC_INVALID_INPUT;
	struct cx_event_log_state *l = &st->logs[log];
	if (flags & CX_CER_FLAG_CLEAR_ALL) {
		/* only allowed once the log overflowed, and names no
		 * handles */
		if (nh || !l->overflow_count)
			return CX_RC_INVALID_INPUT;
		l->n = 0;
		reset_overflow(l);
		return CX_RC_SUCCESS;
	}
	if (nh > l->n)
		return CX_RC_INVALID_INPUT;
	for (int i = 0; i < nh; i++) {
		uint16_t h = cx_rd_le16(in + CX_CER_HANDLES + 2 * i);
		if (h == 0 || h != cx_rd_le16(l->recs[i] + CX_EVR_HANDLE))
			return CX_RC_INVALID_INPUT;
	}
	if (!nh)
		return CX_RC_SUCCESS;
	memmove(l->recs[0], l->recs[nh],
		(size_t)(l->n - nh) * CX_EVENT_RECORD_SIZE);
	l->n -= nh;
	reset_overflow(l); /* the host consumed events */
	return CX_RC_SUCCESS;
}

/* 0102h Get Event Interrupt Policy */
uint16_t cx_cmd_get_event_int_policy(struct cx_memdev *m,
				     struct cx_mbox_state *st,
				     const uint8_t *in, size_t in_len,
				     uint8_t *out, size_t *out_len)
{
	for (int i = 0; i < CX_EIP_LEN; i++)
		out[i] = st->logs[i].int_setting;
	*out_len = CX_EIP_LEN;
	return CX_RC_SUCCESS;
}

/* 0103h Set Event Interrupt Policy: 4 bytes, or 5 with the DCD log */
uint16_t cx_cmd_set_event_int_policy(struct cx_memdev *m,
				     struct cx_mbox_state *st,
				     const uint8_t *in, size_t in_len,
				     uint8_t *out, size_t *out_len)
{
	if (in_len != CX_EIP_MIN_LEN && in_len != CX_EIP_LEN)
		return CX_RC_INVALID_PAYLOAD_LENGTH;
	for (size_t i = 0; i < in_len; i++)
		if ((in[i] & CX_EIP_MODE_MASK) == CX_EIP_MODE_RESERVED)
			return CX_RC_INVALID_INPUT;
	for (size_t i = 0; i < in_len; i++)
		st->logs[i].int_setting = in[i];
	return CX_RC_SUCCESS;
}

/* ---- injection ---- */

int cx_event_log_parse(const char *s, enum cx_event_log *out)
{
	static const struct { const char *name; enum cx_event_log log; } t[] = {
		{ "informational", CX_EVLOG_INFO }, { "info", CX_EVLOG_INFO },
		{ "warning", CX_EVLOG_WARN }, { "warn", CX_EVLOG_WARN },
		{ "failure", CX_EVLOG_FAIL }, { "fail", CX_EVLOG_FAIL },
		{ "fatal", CX_EVLOG_FATAL },
		{ "dynamic-capacity", CX_EVLOG_DCD },
	};
	for (size_t i = 0; i < CX_ARRAY_SIZE(t); i++)
		if (!strcasecmp(s, t[i].name)) {
			*out = t[i].log;
			return 0;
		}
	return -EINVAL;
}

static int check_log(struct cx_memdev *m, enum cx_event_log log, cx_err *e)
{
	if (!m->mbox)
		return cx_fail(e, EINVAL, "memdev %s has no mailbox", m->qid);
	if ((unsigned)log >= CX_EVLOG_DCD)
		return cx_fail(e, EINVAL, "memdev %s: event log %d is not "
			       "informational, warning, failure or fatal",
			       m->qid, (int)log);
	return 0;
}

static void log_record(struct cx_memdev *m, enum cx_event_log log,
		       const uint8_t *rec)
{
	struct cx_mbox_state *st = m->mbox;
	pthread_mutex_lock(st->lock);
	cx_events_add(st, log, rec);
	pthread_mutex_unlock(st->lock);
}

/* Writes the header and the fields General Media and DRAM records share;
 * returns their validity bits, to which the caller adds its own. */
static uint16_t media_event_fill(uint8_t *rec, const uint8_t *uuid,
				 const struct cx_media_event *c)
{
	uint16_t valid = 0;

	cx_event_header(rec, uuid, c->flags);
	cx_wr_le64(rec + CX_MEV_DPA, c->dpa);
	rec[CX_MEV_DESCRIPTOR] = c->descriptor;
	rec[CX_MEV_TYPE] = c->type;
	rec[CX_MEV_TRANSACTION] = c->transaction_type;
	if (c->has_channel) {
		valid |= CX_MEV_VALID_CHANNEL;
		rec[CX_MEV_CHANNEL] = c->channel;
	}
	if (c->has_rank) {
		valid |= CX_MEV_VALID_RANK;
		rec[CX_MEV_RANK] = c->rank;
	}
	return valid;
}

int cx_inject_general_media(struct cx_memdev *m, const struct cx_gm_event *ev,
			    cx_err *e)
{
	uint8_t rec[CX_EVENT_RECORD_SIZE] = { 0 };
	int rc = check_log(m, ev->media.log, e);

	if (rc)
		return rc;
	uint16_t valid = media_event_fill(rec, cx_event_uuid_general_media,
					  &ev->media);
	if (ev->has_device) {
		valid |= CX_GME_VALID_DEVICE;
		cx_wr_le24(rec + CX_GME_DEVICE, ev->device);
	}
	if (ev->has_component_id) {
		valid |= CX_GME_VALID_COMPONENT;
		memcpy(rec + CX_GME_COMPONENT_ID, ev->component_id, 16);
	}
	cx_wr_le16(rec + CX_MEV_VALIDITY, valid);
	log_record(m, ev->media.log, rec);
	return 0;
}

int cx_inject_dram(struct cx_memdev *m, const struct cx_dram_event *ev,
		   cx_err *e)
{
	uint8_t rec[CX_EVENT_RECORD_SIZE] = { 0 };
	int rc = check_log(m, ev->media.log, e);

	if (rc)
		return rc;
	uint16_t valid = media_event_fill(rec, cx_event_uuid_dram, &ev->media);
	if (ev->has_nibble_mask) {
		valid |= CX_DRAM_VALID_NIBBLE;
		cx_wr_le24(rec + CX_DRAM_NIBBLE_MASK, ev->nibble_mask);
	}
	if (ev->has_bank_group) {
		valid |= CX_DRAM_VALID_BANK_GROUP;
		rec[CX_DRAM_BANK_GROUP] = ev->bank_group;
	}
	if (ev->has_bank) {
		valid |= CX_DRAM_VALID_BANK;
		rec[CX_DRAM_BANK] = ev->bank;
	}
	if (ev->has_row) {
		valid |= CX_DRAM_VALID_ROW;
		cx_wr_le24(rec + CX_DRAM_ROW, ev->row);
	}
	if (ev->has_column) {
		valid |= CX_DRAM_VALID_COLUMN;
		cx_wr_le16(rec + CX_DRAM_COLUMN, ev->column);
	}
	if (ev->has_correction_mask) {
		valid |= CX_DRAM_VALID_CORRECTION;
		for (int i = 0; i < 4; i++)
			cx_wr_le64(rec + CX_DRAM_CORRECTION + 8 * i,
				   ev->correction_mask[i]);
	}
	cx_wr_le16(rec + CX_MEV_VALIDITY, valid);
	log_record(m, ev->media.log, rec);
	return 0;
}
