/*
 * health.c - the health command set (42xxh): Get Health Info, Get/Set
 * Alert Configuration, Get/Set Shutdown State; and the injection of
 * health and memory module events, as QEMU's QMP commands take them.
 *
 * The additional status of Get Health Info is derived from the health
 * and the alert configuration: a critical threshold always counts, a
 * warning threshold when the host enabled it.
 */
#include "mbox.h"

#include <errno.h>
#include <string.h>

/* ---- 42xxh health, alerts, shutdown state ---- */

static uint8_t additional_status(struct cx_mbox_state *st)
{
	const struct cx_health *h = &st->health;
	uint8_t life = CX_HA_NORMAL, temp = CX_HA_NORMAL, a = 0;

	if (h->life_used != 0xff) {
		if (h->life_used >= st->alert.life_crit)
			life = CX_HA_CRITICAL;
		else if ((st->alert.enabled & CX_ALERT_LIFE_USED) &&
			 h->life_used >= st->alert.life_warn)
			life = CX_HA_WARNING;
	}
	if (h->temperature != 0x7fff) {
		if (h->temperature >= st->alert.over_crit ||
		    h->temperature <= st->alert.under_crit)
			temp = CX_HA_CRITICAL;
		else if (((st->alert.enabled & CX_ALERT_OVER_TEMP) &&
			  h->temperature >= st->alert.over_warn) ||
			 ((st->alert.enabled & CX_ALERT_UNDER_TEMP) &&
			  h->temperature <= st->alert.under_warn))
			temp = CX_HA_WARNING;
	}
	a = (uint8_t)(life << CX_HA_LIFE_SHIFT | temp << CX_HA_TEMP_SHIFT);
	if ((st->alert.enabled & CX_ALERT_COR_VOLATILE) &&
	    h->cor_volatile >= st->alert.cor_vol_warn)
		a |= CX_HA_COR_VOLATILE;
	if ((st->alert.enabled & CX_ALERT_COR_PERSISTENT) &&
	    h->cor_persistent >= st->alert.cor_per_warn)
		a |= CX_HA_COR_PERSISTENT;
	return a;
}

/* The Get Health Info payload (also the body of memory module events). */
static void health_payload(struct cx_mbox_state *st, uint8_t *out,
			   const struct cx_health *h, uint8_t addl)
{
	out[CX_HI_HEALTH_STATUS] = h->health_status;
	out[CX_HI_MEDIA_STATUS] = h->media_status;
	out[CX_HI_ADDITIONAL] = addl;
	out[CX_HI_LIFE_USED] = h->life_used;
	cx_wr_le16(out + CX_HI_TEMPERATURE, (uint16_t)h->temperature);
	cx_wr_le32(out + CX_HI_DIRTY_SHUTDOWNS, h->dirty_shutdowns);
	cx_wr_le32(out + CX_HI_COR_VOLATILE, h->cor_volatile);
	cx_wr_le32(out + CX_HI_COR_PERSISTENT, h->cor_persistent);
}

uint16_t cx_cmd_get_health(struct cx_memdev *m, struct cx_mbox_state *st,
			   const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t *out_len)
{
	health_payload(st, out, &st->health, additional_status(st));
	*out_len = CX_HI_OUT_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_get_alert(struct cx_memdev *m, struct cx_mbox_state *st,
			  const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t *out_len)
{
	out[CX_GAC_VALID] = st->alert.enabled;
	out[CX_GAC_PROGRAMMABLE] = CX_ALERT_ALL;
	out[CX_GAC_LIFE_CRIT] = st->alert.life_crit;
	out[CX_GAC_LIFE_WARN] = st->alert.life_warn;
	cx_wr_le16(out + CX_GAC_OVER_TEMP_CRIT, (uint16_t)st->alert.over_crit);
	cx_wr_le16(out + CX_GAC_UNDER_TEMP_CRIT, (uint16_t)st->alert.under_crit);
	cx_wr_le16(out + CX_GAC_OVER_TEMP_WARN, (uint16_t)st->alert.over_warn);
	cx_wr_le16(out + CX_GAC_UNDER_TEMP_WARN, (uint16_t)st->alert.under_warn);
	cx_wr_le16(out + CX_GAC_COR_VOL_WARN, st->alert.cor_vol_warn);
	cx_wr_le16(out + CX_GAC_COR_PER_WARN, st->alert.cor_per_warn);
	*out_len = CX_GAC_OUT_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_set_alert(struct cx_memdev *m, struct cx_mbox_state *st,
			  const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t *out_len)
{
	uint8_t valid = in[CX_SAC_VALID], en = in[CX_SAC_ENABLE] & valid;
	uint8_t life = in[CX_SAC_LIFE_WARN];
	int16_t over = (int16_t)cx_rd_le16(in + CX_SAC_OVER_TEMP_WARN);
	int16_t under = (int16_t)cx_rd_le16(in + CX_SAC_UNDER_TEMP_WARN);

	if (valid & ~CX_ALERT_ALL)
		return CX_RC_INVALID_INPUT;
	/* warning thresholds must sit inside the critical ones (r3.2
	 * Table 8-149) */
	if ((en & CX_ALERT_LIFE_USED) && life >= st->alert.life_crit)
		return CX_RC_INVALID_INPUT;
	if ((en & CX_ALERT_OVER_TEMP) && over >= st->alert.over_crit)
		return CX_RC_INVALID_INPUT;
	if ((en & CX_ALERT_UNDER_TEMP) && under <= st->alert.under_crit)
		return CX_RC_INVALID_INPUT;
	if (en & CX_ALERT_LIFE_USED)
		st->alert.life_warn = life;
	if (en & CX_ALERT_OVER_TEMP)
		st->alert.over_warn = over;
	if (en & CX_ALERT_UNDER_TEMP)
		st->alert.under_warn = under;
	if (en & CX_ALERT_COR_VOLATILE)
		st->alert.cor_vol_warn = cx_rd_le16(in + CX_SAC_COR_VOL_WARN);
	if (en & CX_ALERT_COR_PERSISTENT)
		st->alert.cor_per_warn = cx_rd_le16(in + CX_SAC_COR_PER_WARN);
	st->alert.enabled = (uint8_t)((st->alert.enabled & ~valid) | en);
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_get_shutdown(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len,
			     uint8_t *out, size_t *out_len)
{
	out[0] = st->shutdown_dirty ? CX_SHUTDOWN_DIRTY : 0;
	*out_len = CX_SHUTDOWN_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_set_shutdown(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len,
			     uint8_t *out, size_t *out_len)
{
	st->shutdown_dirty = in[0] & CX_SHUTDOWN_DIRTY;
	cx_mbox_save_settings(st);
	return CX_RC_SUCCESS;
}

/* ---- fault injection: health ---- */

int cx_inject_health(struct cx_memdev *m, const struct cx_health *h,
		     cx_err *e)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return cx_fail(e, EINVAL, "memdev %s has no mailbox", m->qid);
	if (h->media_status > CX_MEDIA_STATUS_MAX)
		return cx_fail(e, EINVAL, "memdev %s: media status %u is not "
			       "one of 0..%u", m->qid, h->media_status,
			       CX_MEDIA_STATUS_MAX);
	if (h->life_used > 100 && h->life_used != 0xff)
		return cx_fail(e, EINVAL, "memdev %s: life used %u%% is over "
			       "100 (0xff means not implemented)", m->qid,
			       h->life_used);
	pthread_mutex_lock(st->lock);
	st->health = *h;
	pthread_mutex_unlock(st->lock);
	return 0;
}

int cx_get_health(struct cx_memdev *m, struct cx_health *h)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(st->lock);
	*h = st->health;
	pthread_mutex_unlock(st->lock);
	return 0;
}

int cx_inject_memory_module(struct cx_memdev *m, const struct cx_mm_event *ev,
			    cx_err *e)
{
	struct cx_mbox_state *st = m->mbox;
	uint8_t rec[CX_EVENT_RECORD_SIZE] = { 0 };
	int rc;

	if (!st)
		return cx_fail(e, EINVAL, "memdev %s has no mailbox", m->qid);
	if ((unsigned)ev->log >= CX_EVLOG_DCD)
		return cx_fail(e, EINVAL, "memdev %s: event log %d is not "
			       "informational, warning, failure or fatal",
			       m->qid, (int)ev->log);
	if ((rc = cx_inject_health(m, &ev->health, e)))
		return rc;
	cx_event_header(rec, cx_event_uuid_memory_module, ev->flags);
	rec[CX_MME_TYPE] = ev->type;
	pthread_mutex_lock(st->lock);
	health_payload(st, rec + CX_MME_HEALTH, &ev->health,
		       ev->additional_status);
	cx_events_add(st, ev->log, rec);
	pthread_mutex_unlock(st->lock);
	return 0;
}
