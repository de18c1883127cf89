/*
 * device.c - a memdev's mailbox state from start to stop, and what the
 * device says about itself.
 *
 * cx_mbox_init() gives a started memdev its state; memdevs whose backends
 * hold the same media become heads of one struct cx_mbox_device (one lock,
 * the media's state).  Settings a real device keeps in flash (a pending
 * partition, the shutdown state, firmware slots) are read at init and
 * written when they change.  A conventional reset aborts a background
 * command, locks a device with a user passphrase and activates a staged
 * firmware slot.  Commands: Identify Memory Device (4000h), Get/Set
 * Partition Info (4100h/4101h), Get/Set LSA (4102h/4103h).  DPA access
 * for the other command sets is here too: writes and fills by DPA across
 * the volatile and persistent media.
 */
#include "mbox.h"
#include "model/fw_upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- DPA access ---- */

static int dpa_apply(struct cx_memdev *m, uint64_t dpa, uint64_t len,
		     const void *buf, int fill, cx_err *e)
{
	uint64_t cap = cx_mbox_capacity(m);
	if (dpa > cap || len > cap - dpa)
		return cx_fail(e, ERANGE, "memdev %s: DPA %#llx+%#llx is past "
			       "its capacity %#llx", m->qid,
			       (unsigned long long)dpa, (unsigned long long)len,
			       (unsigned long long)cap);
	const uint8_t *src = buf;
	while (len) {
		struct cx_media *md;
		uint64_t off, n;
		if (dpa < m->vmem_size) {
			md = m->vmem;
			off = dpa;
			n = m->vmem_size - dpa;
		} else {
			md = m->pmem;
			off = dpa - m->vmem_size;
			n = m->pmem_size - off;
		}
		if (n > len)
			n = len;
		int rc;
		if (!md)
			return cx_fail(e, ENXIO, "memdev %s: no media behind "
				       "DPA %#llx", m->qid,
				       (unsigned long long)dpa);
		if (fill < 0) {
			rc = cx_media_write(md, off, src, (size_t)n, e);
			src += n;
		} else if (fill == 0) {
			rc = cx_media_zero(md, off, n, e);
		} else {
			rc = cx_media_fill(md, off, fill, n, e);
		}
		if (rc)
			return rc;
		dpa += n;
		len -= n;
	}
	return 0;
}

int cx_dpa_write(struct cx_memdev *m, uint64_t dpa, const void *buf,
		 uint64_t len, cx_err *e)
{
	return dpa_apply(m, dpa, len, buf, -1, e);
}

int cx_dpa_fill(struct cx_memdev *m, uint64_t dpa, uint8_t byte,
		uint64_t len, cx_err *e)
{
	return dpa_apply(m, dpa, len, NULL, byte, e);
}

/* ---- settings a device keeps in flash (media/sidecar.c) ---- */

void cx_mbox_save_settings(struct cx_mbox_state *st)
{
	struct cx_sidecar v = { 0 };

	if (!st->sidecar)
		return;
	v.have_partition = st->partitionable != 0;
	v.partition_volatile = st->part_next_pending ? st->part_next_vol
						     : st->part_vol;
	v.shutdown_dirty = st->shutdown_dirty;
	v.dirty_shutdowns = st->health.dirty_shutdowns;
	v.fw_active = st->fw.active;
	v.fw_staged = st->fw.staged;
	for (int s = 0; s < CX_FW_SLOTS; s++) {
		v.fw_present[s] = st->fw.present[s];
		memcpy(v.fw_rev[s], st->fw.rev[s], CX_FW_REV_LEN);
	}
	/* a device whose flash cannot be written keeps running: the
	 * settings then last as long as the fabric */
	cx_sidecar_save(st->sidecar, st->m->qid, &v);
}

/* Apply a partition chosen with Set Partition Info before this start: the
 * first `vol` bytes of the persistent media become volatile capacity. */
static int apply_partition(struct cx_memdev *m, struct cx_mbox_state *st,
			   uint64_t vol, cx_err *e)
{
	struct cx_media *base = m->pmem, *v = NULL, *p = NULL;
	uint64_t total = st->partitionable;
	int rc;

	if (!vol || vol > total || vol % CX_CAPACITY_UNIT)
		return 0; /* nothing to do, or not for this topology */
	if ((rc = cx_media_slice(base, 0, vol, base->name, &v, e)))
		return rc;
	if (vol < total &&
	    (rc = cx_media_slice(base, vol, total - vol, base->name, &p, e))) {
		cx_media_put(v);
		return rc;
	}
	cx_media_put(base);
	m->vmem = v;
	m->pmem = p;
	m->vmem_size = vol;
	m->pmem_size = total - vol;
	st->part_vol = vol;
	return 0;
}

/* ---- lifecycle ---- */

static struct cx_mbox_device *device_new(void)
{
	struct cx_mbox_device *dev = cx_xcalloc(1, sizeof(*dev));
	pthread_mutex_init(&dev->lock, NULL);
	return dev;
}

/* Leave the device (under its lock: other heads may be running); the last
 * head out frees it. */
static void device_leave(struct cx_mbox_state *st)
{
	struct cx_mbox_device *dev = st->dev;

	pthread_mutex_lock(&dev->lock);
	cx_vec_remove(&dev->heads, st);
	if (dev->sanitizing == st)
		dev->sanitizing = NULL; /* the media stays disabled */
	int left = dev->heads.n;
	pthread_mutex_unlock(&dev->lock);
	if (left)
		return;
	cx_poison_dev_free(dev);
	cx_vec_free(&dev->heads);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/* A new head of `dev`, or the first head of a device of its own. */
static int mbox_init_head(struct cx_memdev *m, struct cx_mbox_device *dev,
			  cx_err *e)
{
	if (m->mbox)
		return 0;
	struct cx_mbox_state *st = cx_xcalloc(1, sizeof(*st));
	st->dev = dev ? dev : device_new();
	st->lock = &st->dev->lock;
	if (!dev)
		cx_dcd_device_init(st->dev, m);
	else /* a multi-headed device's DC regions can be shared by tag */
		for (int i = 0; i < st->dev->dc_nregions; i++)
			st->dev->dc_region[i].sharable = true;
	cx_vec_push(&st->dev->heads, st);
	st->m = m;
	st->clock = cx_mbox_monotonic_ns;
	st->sidecar = cx_sidecar_path(m->lsa, m->pmem);

	/* Capacity: a device with only persistent media is partitionable
	 * (its media can serve as volatile capacity, 256 MiB aligned);
	 * otherwise volatile and persistent capacities are fixed, as QEMU
	 * reports them. */
	if (!m->vmem && m->pmem && m->pmem_size &&
	    m->pmem_size % CX_CAPACITY_UNIT == 0)
		st->partitionable = m->pmem_size;
	else {
		st->vol_only = m->vmem_size;
		st->pers_only = m->pmem_size;
	}

	for (int i = 0; i < CX_EVLOG_COUNT; i++)
		st->logs[i].next_handle = 1;

	st->fw.active = 1;
	st->fw.present[0] = true;
	snprintf(st->fw.rev[0], CX_FW_REV_LEN, "BWFW VERSION 0");

	st->health.life_used = 0;
	st->health.temperature = 25;
	/* QEMU's alert defaults */
	st->alert.life_crit = 75;
	st->alert.life_warn = 40;
	st->alert.over_crit = 35;
	st->alert.under_crit = 10;
	st->alert.over_warn = 25;
	st->alert.under_warn = 20;

	struct cx_sidecar sv;
	bool side = cx_sidecar_load(st->sidecar, &sv);
	if (!sv.have_partition && m->saved_partition) {
		/* kept in the daemon's state file (model.h) */
		sv.have_partition = true;
		sv.partition_volatile = m->saved_partition;
	}
	if (side || sv.have_partition) {
		if (sv.have_partition && st->partitionable) {
			int rc = apply_partition(m, st, sv.partition_volatile,
						 e);
			if (rc) {
				device_leave(st);
				free(st->sidecar);
				free(st);
				return rc;
			}
		}
		st->health.dirty_shutdowns = sv.dirty_shutdowns;
		if (sv.shutdown_dirty) /* the last run did not stop cleanly */
			st->health.dirty_shutdowns++;
		for (int s = 0; s < CX_FW_SLOTS; s++)
			if (sv.fw_present[s]) {
				st->fw.present[s] = true;
				memset(st->fw.rev[s], 0, CX_FW_REV_LEN);
				memcpy(st->fw.rev[s], sv.fw_rev[s],
				       strnlen(sv.fw_rev[s], CX_FW_REV_LEN));
			}
		int act = sv.fw_staged ? sv.fw_staged : sv.fw_active;
		if (act >= 1 && act <= CX_FW_SLOTS && st->fw.present[act - 1])
			st->fw.active = act;
	}
	m->mbox = st;
	cx_mbox_save_settings(st);
	return 0;
}

int cx_mbox_init(struct cx_memdev *m, cx_err *e)
{
	return mbox_init_head(m, NULL, e);
}

void cx_mbox_free(struct cx_memdev *m)
{
	struct cx_mbox_state *st = m ? m->mbox : NULL;
	if (!st)
		return;
	cx_fwl_free(m);     /* its worker sends commands: stop it first */
	/* an orderly stop: data reached the media, the shutdown is clean */
	st->shutdown_dirty = false;
	cx_mbox_save_settings(st);
	cx_poison_state_free(st);
	cx_dcd_head_free(st);
	free(st->bg.ranges);
	free(st->sidecar);
	device_leave(st);
	free(st);
	m->mbox = NULL;
}

int cx_mbox_init_fabric(struct cx_fabric *f, cx_err *e)
{
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->memdevs.n; j++) {
			struct cx_memdev *m = h->memdevs.v[j];
			struct cx_mbox_device *dev = NULL;
			/* an earlier head of the same device, on any host */
			for (int k = 0; k <= i && !dev; k++) {
				struct cx_host *o = f->hosts.v[k];
				for (int l = 0; l < o->memdevs.n && !dev; l++) {
					struct cx_memdev *om = o->memdevs.v[l];
					if (om != m && om->mbox &&
					    cx_memdev_same_device(m, om))
						dev = om->mbox->dev;
				}
			}
			int rc = mbox_init_head(m, dev, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

void cx_mbox_free_fabric(struct cx_fabric *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->memdevs.n; j++)
			cx_mbox_free(h->memdevs.v[j]);
	}
}

void cx_mbox_reset(struct cx_memdev *m)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	if (st->bg.running)
		cx_mbox_bg_complete(st, true);
	if (st->sec_state & CX_SEC_USER_SET)
		st->sec_state |= CX_SEC_LOCKED;
	st->sec_state &= ~(CX_SEC_FROZEN | CX_SEC_USER_PLIMIT |
			   CX_SEC_MASTER_PLIMIT);
	st->user_tries = st->master_tries = 0;
	if (st->fw.staged) {
		st->fw.active = st->fw.staged;
		st->fw.staged = 0;
	}
	st->fw.transferring = false;
	st->scan_has_run = false;
	cx_mbox_save_settings(st);
	pthread_mutex_unlock(st->lock);
}


/* ---- 40xxh / 41xxh identify, partitions, LSA ---- */

static bool capacity_aligned(const struct cx_memdev *m)
{
	return m->vmem_size % CX_CAPACITY_UNIT == 0 &&
	       m->pmem_size % CX_CAPACITY_UNIT == 0;
}

uint16_t cx_cmd_identify(struct cx_memdev *m, struct cx_mbox_state *st,
			 const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t *out_len)
{
	if (!capacity_aligned(m))
		return CX_RC_INTERNAL; /* as QEMU: not expressible */
	memcpy(out + CX_ID_FW_REV, st->fw.rev[st->fw.active - 1],
	       CX_FW_REV_LEN);
	cx_wr_le64(out + CX_ID_TOTAL_CAP, cx_mbox_capacity(m) / CX_CAPACITY_UNIT);
	cx_wr_le64(out + CX_ID_VOLATILE_CAP, st->vol_only / CX_CAPACITY_UNIT);
	cx_wr_le64(out + CX_ID_PERSISTENT_CAP, st->pers_only / CX_CAPACITY_UNIT);
	cx_wr_le64(out + CX_ID_PARTITION_ALIGN, st->partitionable ? 1 : 0);
	cx_wr_le16(out + CX_ID_INFO_LOG_SIZE, CX_EVLOG_CAPACITY);
	cx_wr_le16(out + CX_ID_WARN_LOG_SIZE, CX_EVLOG_CAPACITY);
	cx_wr_le16(out + CX_ID_FAIL_LOG_SIZE, CX_EVLOG_CAPACITY);
	cx_wr_le16(out + CX_ID_FATAL_LOG_SIZE, CX_EVLOG_CAPACITY);
	cx_wr_le32(out + CX_ID_LSA_SIZE, m->lsa ? (uint32_t)m->lsa->size : 0);
	cx_wr_le24(out + CX_ID_POISON_MAX, CX_POISON_LIST_MAX);
	cx_wr_le16(out + CX_ID_INJECT_LIMIT, 0); /* bounded by the list */
	out[CX_ID_POISON_CAPS] = 0;
	out[CX_ID_QOS_CAPS] = 0;
	cx_wr_le16(out + CX_ID_DCD_LOG_SIZE, CX_EVLOG_CAPACITY);
	*out_len = CX_ID_OUT_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_get_partition(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t *out_len)
{
	if (!capacity_aligned(m))
		return CX_RC_INTERNAL;
	cx_wr_le64(out + CX_GPI_ACTIVE_VOLATILE, m->vmem_size / CX_CAPACITY_UNIT);
	cx_wr_le64(out + CX_GPI_ACTIVE_PERSISTENT,
		   m->pmem_size / CX_CAPACITY_UNIT);
	if (st->part_next_pending) {
		uint64_t v = st->vol_only + st->part_next_vol;
		uint64_t p = st->pers_only + st->partitionable -
			     st->part_next_vol;
		cx_wr_le64(out + CX_GPI_NEXT_VOLATILE, v / CX_CAPACITY_UNIT);
		cx_wr_le64(out + CX_GPI_NEXT_PERSISTENT, p / CX_CAPACITY_UNIT);
	}
	*out_len = CX_GPI_OUT_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_set_partition(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t *out_len)
{
	uint64_t units = cx_rd_le64(in + CX_SPI_VOLATILE);

	if (units > st->partitionable / CX_CAPACITY_UNIT)
		return CX_RC_INVALID_INPUT;
	/* The media layout changes only at a restart: an immediate change
	 * is refused (Linux never sends one either). */
	if (in[CX_SPI_FLAGS] & CX_SPI_FLAG_IMMEDIATE)
		return CX_RC_INVALID_INPUT;
	uint64_t vol = units * CX_CAPACITY_UNIT;
	st->part_next_pending = vol != st->part_vol;
	st->part_next_vol = vol;
	cx_mbox_save_settings(st);
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_get_lsa(struct cx_memdev *m, struct cx_mbox_state *st,
			const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *out_len)
{
	uint64_t off = cx_rd_le32(in + CX_GLSA_OFFSET);
	uint64_t len = cx_rd_le32(in + CX_GLSA_LENGTH);
	uint64_t size = m->lsa ? m->lsa->size : 0;

	if (len > CX_MBOX_PAYLOAD_MAX || off > size || len > size - off)
		return CX_RC_INVALID_INPUT;
	if (len && cx_media_read(m->lsa, off, out, (size_t)len, NULL))
		return CX_RC_INTERNAL;
	*out_len = (size_t)len;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_set_lsa(struct cx_memdev *m, struct cx_mbox_state *st,
			const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *out_len)
{
	uint64_t off = cx_rd_le32(in + CX_SLSA_OFFSET);
	uint64_t len = in_len - CX_SLSA_HDR_LEN;
	uint64_t size = m->lsa ? m->lsa->size : 0;

	if (off > size || len > size - off)
		return CX_RC_INVALID_INPUT;
	if (len && (cx_media_write(m->lsa, off, in + CX_SLSA_DATA, (size_t)len,
				   NULL) ||
		    cx_media_flush(m->lsa, off, len, NULL)))
		return CX_RC_INTERNAL;
	return CX_RC_SUCCESS;
}
