/*
 * sanitize.c - the sanitize command set (44xxh): Sanitize, Secure Erase
 * and Media Operations (discovery, sanitize and zero of DPA ranges).
 *
 * An erase of all user data is refused while the security state forbids
 * it or the media is in use: a head of the device (this host's or
 * another's) maps it with a committed decoder, or another head's sanitize
 * or ranged erase runs.  A ranged erase is refused only over ranges
 * another head maps.  Sanitize disables the media of every head until it
 * completes; durations follow QEMU's table unless a test sets them.
 */
#include "mbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- erasing the media ---- */

/* Zero a whole media object without committing memory, taking it from
 * any program that still maps it (cx_media_erase). */
static void zero_media(struct cx_media *md)
{
	if (md)
		cx_media_erase(md, NULL);
}

/* Every byte of the device's media, the LSA included, and its poison. */
void cx_mbox_erase_media(struct cx_memdev *m, struct cx_mbox_state *st)
{
	zero_media(m->vmem);
	zero_media(m->pmem);
	zero_media(m->lsa);
	cx_poison_clear_all(st);
}

/* Background completion of Sanitize (the media is enabled again only by
 * a sanitize that completes, §8.2.9.9.5.1) and of a Media Operations
 * erase (its ranges are written). */
void cx_sanitize_done(struct cx_mbox_state *st, bool aborted)
{
	st->dev->sanitizing = NULL;
	if (aborted)
		return;
	cx_mbox_erase_media(st->m, st);
	cx_events_clear_all(st);
	st->dev->media_disabled = false;
	st->sanitize_done = true;
}

void cx_media_ops_done(struct cx_mbox_state *st, bool aborted)
{
	for (uint32_t i = 0; !aborted && i < st->bg.nranges; i++)
		cx_dpa_fill(st->m, st->bg.ranges[i][0], st->bg.fill,
			    st->bg.ranges[i][1], NULL);
	free(st->bg.ranges);
	st->bg.ranges = NULL;
	st->bg.nranges = 0;
}

/* ---- 44xxh sanitize, secure erase, media operations ---- */

/* QEMU's sanitize durations by capacity in MiB. */
static uint64_t sanitize_ms(struct cx_mbox_state *st, uint64_t bytes)
{
	static const struct { uint64_t mib, secs; } t[] = {
		{ 512, 4 }, { 1024, 8 }, { 2048, 15 }, { 4096, 30 },
		{ 8192, 60 }, { 16384, 120 }, { 32768, 240 }, { 65536, 480 },
		{ 131072, 900 }, { 262144, 1800 }, { 524288, 3600 },
		{ 1048576, 7200 },
	};
	if (st->timing.sanitize_ms)
		return st->timing.sanitize_ms;
	uint64_t mib = bytes >> 20;
	for (size_t i = 0; i < CX_ARRAY_SIZE(t); i++)
		if (mib <= t[i].mib)
			return t[i].secs * 1000;
	return 14400 * 1000;
}

/* Head h, not st, has a background operation that will write the media
 * when it completes (a ranged erase): an erase through st now would be
 * overwritten by it. */
static bool other_head_writing(const struct cx_mbox_state *st,
			       const struct cx_mbox_state *h)
{
	return h != st && h->bg.running &&
	       h->bg.opcode == CX_OP_MEDIA_OPERATIONS;
}

/* The media is in use: a head of the device (this one, or another host's)
 * maps it with a committed decoder (Linux's rule for erases, which the
 * device enforces here for every head), or another head's sanitize runs. */
bool cx_mbox_media_in_use(struct cx_mbox_state *st)
{
	struct cx_mbox_device *dev = st->dev;

	if (dev->sanitizing && dev->sanitizing != st)
		return true;
	for (int i = 0; i < dev->heads.n; i++) {
		struct cx_mbox_state *h = dev->heads.v[i];
		if (cx_memdev_decoders_committed(h->m) > 0 ||
		    other_head_writing(st, h))
			return true;
	}
	return false;
}

/* Another head maps part of [dpa, dpa+len) with a committed decoder: a
 * ranged erase through this head would pull memory from under that host. */
static bool range_mapped_elsewhere(struct cx_mbox_state *st, uint64_t dpa,
				   uint64_t len)
{
	for (int i = 0; i < st->dev->heads.n; i++) {
		struct cx_mbox_state *h = st->dev->heads.v[i];
		for (int j = 0; h != st && j < CX_DECODERS_PER_PORT; j++) {
			const struct cx_decoder *d = &h->m->decoders[j];
			if (cx_hdm_committed(&d->regs) && d->dpa_size &&
			    dpa < d->dpa_base + d->dpa_size &&
			    d->dpa_base < dpa + len)
				return true;
		}
	}
	return false;
}

int cx_mbox_busy_reason(struct cx_memdev *m, uint16_t opcode, char *buf,
			size_t len)
{
	struct cx_mbox_state *st = m->mbox;
	int busy = 1;

	if (len)
		buf[0] = 0;
	if (!st)
		return 0;
	pthread_mutex_lock(st->lock);
	cx_mbox_poll_locked(st);
	struct cx_mbox_device *dev = st->dev;
	const char *op = cx_mbox_opcode_name(st->bg.opcode);
	if (st->bg.running) {
		snprintf(buf, len, "%s (%#06x) is running in the background "
			 "(%u%% done)", op ? op : "an operation",
			 st->bg.opcode, cx_mbox_bg_percent(st));
	} else if (dev->sanitizing && dev->sanitizing != st) {
		snprintf(buf, len, "host %s's %s, a head of the same device, "
			 "is sanitizing it", dev->sanitizing->m->host->name,
			 dev->sanitizing->m->qid);
	} else {
		/* a ranged erase is refused only over other heads' ranges */
		bool own = opcode != CX_OP_MEDIA_OPERATIONS;
		busy = 0;
		for (int i = 0; i < dev->heads.n && !busy; i++) {
			struct cx_mbox_state *h = dev->heads.v[i];
			struct cx_memdev *hm = h->m;
			if (other_head_writing(st, h)) {
				busy = 1;
				snprintf(buf, len, "host %s's %s, a head of the "
					 "same device, has a Media Operations "
					 "erase running that will write the "
					 "media", hm->host->name, hm->qid);
				break;
			}
			if (cx_memdev_decoders_committed(hm) == 0 ||
			    (hm == m && !own))
				continue;
			busy = 1;
			if (hm == m)
				snprintf(buf, len, "it has committed decoders "
					 "(an active region); destroy its "
					 "regions before erasing it");
			else
				snprintf(buf, len, "host %s's %s, a head of the "
					 "same device, has committed decoders "
					 "(an active region there); destroy "
					 "that region before erasing the "
					 "device", hm->host->name, hm->qid);
		}
	}
	pthread_mutex_unlock(st->lock);
	return busy;
}

/* What refuses an erase of all user data: security state, then the media
 * in use. */
static uint16_t erase_allowed(struct cx_memdev *m, struct cx_mbox_state *st)
{
	(void)m;
	if (st->sec_state & (CX_SEC_USER_SET | CX_SEC_LOCKED))
		return CX_RC_INVALID_SECURITY_STATE;
	if (cx_mbox_media_in_use(st))
		return CX_RC_BUSY;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_sanitize(struct cx_memdev *m, struct cx_mbox_state *st,
			 const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t *out_len)
{
	uint16_t r = erase_allowed(m, st);
	if (r)
		return r;
	st->dev->media_disabled = true;
	st->dev->sanitizing = st;
	cx_mbox_bg_start(st, CX_OP_SANITIZE,
			 sanitize_ms(st, cx_mbox_capacity(m)));
	return CX_RC_BG_STARTED;
}

uint16_t cx_cmd_secure_erase(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len,
			     uint8_t *out, size_t *out_len)
{
	uint16_t r = erase_allowed(m, st);
	if (r)
		return r;
	cx_mbox_erase_media(m, st);
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_media_ops(struct cx_memdev *m, struct cx_mbox_state *st,
			  const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t *out_len)
{
	static const uint8_t ops[][2] = {
		{ CX_MOP_CLASS_SANITIZE, CX_MOP_SANITIZE_SANITIZE },
		{ CX_MOP_CLASS_SANITIZE, CX_MOP_SANITIZE_ZERO },
	};
	uint8_t cls = in[CX_MOP_CLASS], sub = in[CX_MOP_SUBCLASS];
	uint32_t n = cx_rd_le32(in + CX_MOP_RANGE_COUNT);

	if (cls == CX_MOP_CLASS_GENERAL && sub == CX_MOP_GENERAL_DISCOVERY) {
		if (in_len != CX_MOP_DISC_IN_LEN)
			return CX_RC_INVALID_PAYLOAD_LENGTH;
		uint16_t start = cx_rd_le16(in + CX_MOP_DISC_START);
		uint16_t want = cx_rd_le16(in + CX_MOP_DISC_COUNT);
		if (n || start >= CX_ARRAY_SIZE(ops))
			return CX_RC_INVALID_INPUT;
		uint16_t cnt = (uint16_t)(CX_ARRAY_SIZE(ops) - start);
		if (want < cnt)
			cnt = want;
		cx_wr_le64(out + CX_MOP_DISC_GRAN, CX_CACHELINE);
		cx_wr_le16(out + CX_MOP_DISC_TOTAL, CX_ARRAY_SIZE(ops));
		cx_wr_le16(out + CX_MOP_DISC_RETURNED, cnt);
		for (uint16_t i = 0; i < cnt; i++) {
			out[CX_MOP_DISC_ENTRIES + 2 * i] = ops[start + i][0];
			out[CX_MOP_DISC_ENTRIES + 2 * i + 1] = ops[start + i][1];
		}
		*out_len = CX_MOP_DISC_ENTRIES + 2u * cnt;
		return CX_RC_SUCCESS;
	}
	if (cls != CX_MOP_CLASS_SANITIZE ||
	    (sub != CX_MOP_SANITIZE_SANITIZE && sub != CX_MOP_SANITIZE_ZERO))
		return CX_RC_UNSUPPORTED;
	if ((uint64_t)in_len != CX_MOP_HDR_LEN + (uint64_t)n * CX_MOP_RANGE_SIZE)
		return CX_RC_INVALID_PAYLOAD_LENGTH;
	uint64_t cap = cx_mbox_capacity(m), total = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = in + CX_MOP_RANGES + i * CX_MOP_RANGE_SIZE;
		uint64_t dpa = cx_rd_le64(r), len = cx_rd_le64(r + 8);
		if (dpa % CX_CACHELINE || len % CX_CACHELINE || !len ||
		    dpa > cap || len > cap - dpa)
			return CX_RC_INVALID_INPUT;
		total += len;
	}
	if (!n)
		return CX_RC_SUCCESS;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = in + CX_MOP_RANGES + i * CX_MOP_RANGE_SIZE;
		if (range_mapped_elsewhere(st, cx_rd_le64(r),
					   cx_rd_le64(r + 8)))
			return CX_RC_BUSY;
	}
	st->bg.ranges = cx_xcalloc(n, sizeof(*st->bg.ranges));
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = in + CX_MOP_RANGES + i * CX_MOP_RANGE_SIZE;
		st->bg.ranges[i][0] = cx_rd_le64(r);
		st->bg.ranges[i][1] = cx_rd_le64(r + 8);
	}
	st->bg.nranges = n;
	st->bg.fill = sub == CX_MOP_SANITIZE_ZERO ? 0 : 0x0f;
	cx_mbox_bg_start(st, CX_OP_MEDIA_OPERATIONS, sanitize_ms(st, total));
	return CX_RC_BG_STARTED;
}
