/*
 * poison.c - the memdev's poison list and media scan (CXL r3.1
 * §8.2.9.9.4).
 *
 * Poison is kept as byte ranges of whole 64-byte lines with a source
 * (external, internal, injected).  The device reports at most
 * CX_POISON_LIST_MAX records: poison beyond that is kept in a backup list
 * (it still makes reads fail) and the list reports overflow with the time
 * it first happened, until a Scan Media brings the hidden records back
 * and finds nothing left behind.  Clear Poison writes the given 64 bytes
 * and removes that line, splitting the record it was in.
 *
 * Get Poison List and Get Scan Media Results return at most what fits in
 * one payload and set MORE; the next call with the same arguments
 * continues where the last one stopped.
 */
#include "mbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECS ((CX_MBOX_PAYLOAD_MAX - CX_GPL_RECORDS) / CX_MER_SIZE)

/* ---- range lists ---- */

static void list_insert(struct cx_poison_list *l, struct cx_poison_rec r)
{
	int i;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cx_xrealloc(l->v, (size_t)l->cap * sizeof(*l->v));
	}
	for (i = l->n; i > 0 && l->v[i - 1].start > r.start; i--)
		l->v[i] = l->v[i - 1];
	l->v[i] = r;
	l->n++;
}

static void list_del(struct cx_poison_list *l, int i)
{
	memmove(&l->v[i], &l->v[i + 1], (size_t)(l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

static void list_free(struct cx_poison_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool overlaps(const struct cx_poison_rec *r, uint64_t s, uint64_t len)
{
	return r->start < s + len && s < r->start + r->len;
}

static void set_overflow(struct cx_mbox_state *st)
{
	if (!st->dev->poison_overflow) {
		st->dev->poison_overflow = true;
		st->dev->poison_overflow_ts = cx_mbox_timestamp(st);
	}
}

/* Add a record: to the list while it has room, else aside (overflow). */
static void poison_add(struct cx_mbox_state *st, struct cx_poison_rec r)
{
	if (st->dev->poison.n < CX_POISON_LIST_MAX) {
		list_insert(&st->dev->poison, r);
	} else if (st->dev->poison_bkp.n < CX_POISON_BACKUP_MAX) {
		list_insert(&st->dev->poison_bkp, r);
		set_overflow(st);
	} else {
		set_overflow(st);
	}
	st->gpl.active = false;
}

/* Remove [s, s+len) from every record of a list, splitting records; the
 * pieces go back through poison_add() for the reported list, so a split
 * that does not fit is kept aside with overflow. */
static void list_cut(struct cx_mbox_state *st, struct cx_poison_list *l,
		     bool is_main, uint64_t s, uint64_t len)
{
	struct cx_poison_rec *frag = NULL;
	int nfrag = 0;

	for (int i = 0; i < l->n; i++) {
		struct cx_poison_rec r = l->v[i];
		if (!overlaps(&r, s, len))
			continue;
		frag = cx_xrealloc(frag, (size_t)(nfrag + 2) * sizeof(*frag));
		if (r.start < s)
			frag[nfrag++] = (struct cx_poison_rec){ r.start,
								s - r.start,
								r.source };
		if (r.start + r.len > s + len)
			frag[nfrag++] = (struct cx_poison_rec){
				s + len, r.start + r.len - s - len, r.source };
		list_del(l, i--);
	}
	for (int i = 0; i < nfrag; i++) {
		if (is_main)
			poison_add(st, frag[i]);
		else
			list_insert(l, frag[i]);
	}
	free(frag);
	st->gpl.active = false;
}

int cx_poison_find(struct cx_mbox_state *st, uint64_t dpa, uint64_t len,
		   uint64_t *first_bad)
{
	const struct cx_poison_list *ls[] = { &st->dev->poison, &st->dev->poison_bkp };
	bool found = false;
	uint64_t best = 0;

	if (!len)
		return 0;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < ls[k]->n; i++) {
			const struct cx_poison_rec *r = &ls[k]->v[i];
			if (!overlaps(r, dpa, len))
				continue;
			uint64_t b = r->start > dpa ? r->start : dpa;
			if (!found || b < best)
				best = b;
			found = true;
		}
	if (found && first_bad)
		*first_bad = best;
	return found;
}

void cx_poison_clear_all(struct cx_mbox_state *st)
{
	struct cx_mbox_device *dev = st->dev;

	dev->poison.n = 0;
	dev->poison_bkp.n = 0;
	dev->poison_overflow = false;
	dev->poison_overflow_ts = 0;
	/* what every head scanned or was listing is gone with it */
	for (int i = 0; i < dev->heads.n; i++) {
		struct cx_mbox_state *h = dev->heads.v[i];
		h->scan_results.n = 0;
		h->gpl.active = false;
		h->smr.next = 0;
	}
}

void cx_poison_state_free(struct cx_mbox_state *st)
{
	list_free(&st->scan_results);
}

void cx_poison_dev_free(struct cx_mbox_device *dev)
{
	list_free(&dev->poison);
	list_free(&dev->poison_bkp);
}

/* Common checks of a DPA range given as address + 64-byte units. */
static uint16_t check_range(struct cx_memdev *m, uint64_t dpa, uint64_t units,
			    uint64_t *len)
{
	uint64_t cap = cx_mbox_capacity(m);
	if (dpa % CX_CACHELINE)
		return CX_RC_INVALID_INPUT;
	if (dpa > cap || units > (cap - dpa) / CX_CACHELINE)
		return CX_RC_INVALID_PA;
	*len = units * CX_CACHELINE;
	return CX_RC_SUCCESS;
}

static void write_record(uint8_t *p, const struct cx_poison_rec *r,
			 uint64_t s, uint64_t len)
{
	uint64_t a = r->start > s ? r->start : s;
	uint64_t b = r->start + r->len < s + len ? r->start + r->len : s + len;
	cx_wr_le64(p + CX_MER_ADDRESS, a | (r->source & 7));
	cx_wr_le32(p + CX_MER_LENGTH, (uint32_t)((b - a) / CX_CACHELINE));
}

static bool scan_running(struct cx_mbox_state *st)
{
	return st->bg.running && st->bg.opcode == CX_OP_SCAN_MEDIA;
}

/* The poison list is the device's: a scan through any head freezes it. */
static bool device_scanning(struct cx_mbox_state *st)
{
	for (int i = 0; i < st->dev->heads.n; i++)
		if (scan_running(st->dev->heads.v[i]))
			return true;
	return false;
}

/* 4300h Get Poison List */
uint16_t cx_cmd_get_poison_list(struct cx_memdev *m, struct cx_mbox_state *st,
				const uint8_t *in, size_t in_len,
				uint8_t *out, size_t *out_len)
{
	uint64_t dpa = cx_rd_le64(in + CX_GPL_DPA), len;
	uint16_t r = check_range(m, dpa, cx_rd_le64(in + CX_GPL_LENGTH), &len);
	if (r)
		return r;

	int skip = 0, n = 0, total = 0;
	if (st->gpl.active && st->gpl.dpa == dpa && st->gpl.len == len)
		skip = st->gpl.next;
	for (int i = 0; i < st->dev->poison.n; i++) {
		const struct cx_poison_rec *rec = &st->dev->poison.v[i];
		if (!overlaps(rec, dpa, len))
			continue;
		if (total++ < skip || n == MAX_RECS)
			continue;
		write_record(out + CX_GPL_RECORDS + n * CX_MER_SIZE, rec, dpa,
			     len);
		n++;
	}
	uint8_t flags = 0;
	if (skip + n < total) {
		flags |= CX_GPL_FLAG_MORE;
		st->gpl.active = true;
		st->gpl.dpa = dpa;
		st->gpl.len = len;
		st->gpl.next = skip + n;
	} else {
		st->gpl.active = false;
	}
	if (st->dev->poison_overflow) {
		flags |= CX_GPL_FLAG_OVERFLOW;
		cx_wr_le64(out + CX_GPL_OVERFLOW_TS, st->dev->poison_overflow_ts);
	}
	if (device_scanning(st))
		flags |= CX_GPL_FLAG_SCANNING;
	out[CX_GPL_FLAGS] = flags;
	cx_wr_le16(out + CX_GPL_COUNT, (uint16_t)n);
	*out_len = CX_GPL_RECORDS + (size_t)n * CX_MER_SIZE;
	return CX_RC_SUCCESS;
}

/* 4301h Inject Poison */
uint16_t cx_cmd_inject_poison(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t *out_len)
{
	uint64_t dpa = cx_rd_le64(in + CX_IP_DPA), len;
	uint16_t r = check_range(m, dpa, 1, &len);
	if (r)
		return r;
	if (cx_poison_find(st, dpa, CX_CACHELINE, NULL))
		return CX_RC_SUCCESS; /* already poisoned */
	if (device_scanning(st))
		return CX_RC_SUCCESS; /* the list is frozen while scanning */
	if (st->dev->poison.n >= CX_POISON_LIST_MAX)
		return CX_RC_INJECT_POISON_LIMIT;
	struct cx_poison_rec rec = { dpa, CX_CACHELINE, CX_POISON_INJECTED };
	poison_add(st, rec);
	return CX_RC_SUCCESS;
}

/* 4302h Clear Poison: write the 64 bytes, then forget that line */
uint16_t cx_cmd_clear_poison(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len,
			     uint8_t *out, size_t *out_len)
{
	uint64_t dpa = cx_rd_le64(in + CX_CP_DPA), len;
	uint16_t r = check_range(m, dpa, 1, &len);
	if (r)
		return r;
	if (cx_dpa_write(m, dpa, in + CX_CP_DATA, CX_CACHELINE, NULL))
		return CX_RC_INTERNAL;
	if (device_scanning(st))
		return CX_RC_SUCCESS; /* the list is frozen while scanning */
	list_cut(st, &st->dev->poison, true, dpa, CX_CACHELINE);
	list_cut(st, &st->dev->poison_bkp, false, dpa, CX_CACHELINE);
	return CX_RC_SUCCESS;
}

static uint64_t scan_estimate_ms(struct cx_mbox_state *st, uint64_t len)
{
	if (st->timing.scan_ms)
		return st->timing.scan_ms;
	uint64_t ms = len / 128000; /* 500 ns per 64-byte line */
	return ms ? ms : 1;
}

/* 4303h Get Scan Media Capabilities */
uint16_t cx_cmd_get_scan_media_caps(struct cx_memdev *m,
				    struct cx_mbox_state *st,
				    const uint8_t *in, size_t in_len,
				    uint8_t *out, size_t *out_len)
{
	uint64_t dpa = cx_rd_le64(in + CX_GSMC_DPA), len;
	uint16_t r = check_range(m, dpa, cx_rd_le64(in + CX_GSMC_LENGTH), &len);
	if (r)
		return r;
	uint64_t ms = scan_estimate_ms(st, len);
	cx_wr_le32(out + CX_GSMC_ESTIMATE_MS,
		   ms > 0xffffffffu ? 0xffffffffu : (uint32_t)ms);
	*out_len = CX_GSMC_OUT_LEN;
	return CX_RC_SUCCESS;
}

/* 4304h Scan Media: results are what is poisoned in the range now; the
 * records kept aside come back into the list while it has room. */
uint16_t cx_cmd_scan_media(struct cx_memdev *m, struct cx_mbox_state *st,
			   const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t *out_len)
{
	uint64_t dpa = cx_rd_le64(in + CX_SM_DPA), len;
	uint16_t r = check_range(m, dpa, cx_rd_le64(in + CX_SM_LENGTH), &len);
	if (r)
		return r;

	st->scan_results.n = 0;
	st->smr.next = 0;
	const struct cx_poison_list *ls[] = { &st->dev->poison, &st->dev->poison_bkp };
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < ls[k]->n; i++) {
			struct cx_poison_rec rec = ls[k]->v[i];
			if (!overlaps(&rec, dpa, len))
				continue;
			uint64_t a = rec.start > dpa ? rec.start : dpa;
			uint64_t b = rec.start + rec.len < dpa + len ?
				     rec.start + rec.len : dpa + len;
			struct cx_poison_rec clip = { a, b - a, rec.source };
			list_insert(&st->scan_results, clip);
		}
	for (int i = 0; i < st->dev->poison_bkp.n; i++) {
		if (st->dev->poison.n >= CX_POISON_LIST_MAX)
			break;
		if (!overlaps(&st->dev->poison_bkp.v[i], dpa, len))
			continue;
		list_insert(&st->dev->poison, st->dev->poison_bkp.v[i]);
		list_del(&st->dev->poison_bkp, i--);
	}
	st->gpl.active = false;
	st->scan_dpa = dpa;
	st->scan_len = len;
	st->scan_no_event_log = in[CX_SM_FLAGS] & CX_SM_FLAG_NO_EVENT_LOG;
	st->scan_has_run = false;
	cx_mbox_bg_start(st, CX_OP_SCAN_MEDIA, scan_estimate_ms(st, len));
	return CX_RC_BG_STARTED;
}

void cx_scan_media_complete(struct cx_mbox_state *st, bool aborted)
{
	st->scan_has_run = true;
	st->scan_stopped = aborted;
	if (aborted)
		return;
	/* only a scan clears the overflow: once nothing is left aside */
	if (st->dev->poison_overflow && st->dev->poison_bkp.n == 0) {
		st->dev->poison_overflow = false;
		st->dev->poison_overflow_ts = 0;
	}
	if (st->scan_no_event_log)
		return;
	for (int i = 0; i < st->scan_results.n; i++) {
		const struct cx_poison_rec *r = &st->scan_results.v[i];
		uint8_t rec[CX_EVENT_RECORD_SIZE] = { 0 };
		cx_event_header(rec, cx_event_uuid_general_media, CX_EVR_SEV_FAILURE);
		cx_wr_le64(rec + CX_MEV_DPA, r->start);
		rec[CX_MEV_DESCRIPTOR] = CX_GME_DESC_UNCORRECTABLE;
		rec[CX_MEV_TYPE] = 0; /* media ECC error */
		rec[CX_MEV_TRANSACTION] = CX_GME_TRANS_SCAN_MEDIA;
		cx_events_add(st, CX_EVLOG_FAIL, rec);
	}
}

/* 4305h Get Scan Media Results */
uint16_t cx_cmd_get_scan_media_results(struct cx_memdev *m,
				       struct cx_mbox_state *st,
				       const uint8_t *in, size_t in_len,
				       uint8_t *out, size_t *out_len)
{
	if (scan_running(st))
		return CX_RC_BUSY;
	if (!st->scan_has_run)
		return CX_RC_UNSUPPORTED; /* as QEMU: no scan since reset */
	int n = 0;
	while (n < (int)MAX_RECS && st->smr.next < st->scan_results.n) {
		const struct cx_poison_rec *r =
			&st->scan_results.v[st->smr.next++];
		write_record(out + CX_SMR_RECORDS + n * CX_MER_SIZE, r,
			     r->start, r->len);
		n++;
	}
	uint8_t flags = 0;
	if (st->smr.next < st->scan_results.n)
		flags |= CX_SMR_FLAG_MORE;
	if (st->scan_stopped) {
		flags |= CX_SMR_FLAG_STOPPED;
		cx_wr_le64(out + CX_SMR_RESTART_DPA, st->scan_dpa);
		cx_wr_le64(out + CX_SMR_RESTART_LEN, st->scan_len);
	}
	out[CX_SMR_FLAGS] = flags;
	cx_wr_le16(out + CX_SMR_COUNT, (uint16_t)n);
	*out_len = CX_SMR_RECORDS + (size_t)n * CX_MER_SIZE;
	return CX_RC_SUCCESS;
}

/* ---- cxl-inject-poison ---- */

int cx_inject_poison(struct cx_memdev *m, uint64_t start, uint64_t len,
		     cx_err *e)
{
	struct cx_mbox_state *st = m->mbox;
	uint64_t cap = cx_mbox_capacity(m);

	if (!st)
		return cx_fail(e, EINVAL, "memdev %s has no mailbox", m->qid);
	if (start % CX_CACHELINE || len % CX_CACHELINE || !len)
		return cx_fail(e, EINVAL, "memdev %s: poison start %#llx and "
			       "length %#llx must be non-zero multiples of 64",
			       m->qid, (unsigned long long)start,
			       (unsigned long long)len);
	if (start > cap || len > cap - start)
		return cx_fail(e, ERANGE, "memdev %s: poison %#llx+%#llx is "
			       "past its capacity %#llx", m->qid,
			       (unsigned long long)start,
			       (unsigned long long)len, (unsigned long long)cap);
	pthread_mutex_lock(st->lock);
	int rc = 0;
	if (cx_poison_find(st, start, len, NULL)) {
		rc = cx_fail(e, EBUSY, "memdev %s: poison %#llx+%#llx overlaps "
			     "existing poison", m->qid,
			     (unsigned long long)start, (unsigned long long)len);
	} else {
		struct cx_poison_rec r = { start, len, CX_POISON_INTERNAL };
		poison_add(st, r);
	}
	pthread_mutex_unlock(st->lock);
	return rc;
}
