/*
 * mbox.c - a Type 3 memdev's primary mailbox: the command table (which is
 * also the Command Effects Log), dispatch with the specification's length,
 * busy and media-disabled rules, background operations on a clock, and
 * the handlers for identify, partitions, LSA, timestamps, firmware,
 * health, alerts, shutdown state, sanitize and security.  Event logs live
 * in events.c, poison and scan media in poison.c.
 *
 * Every handler validates its whole input before it changes anything, so
 * a command that fails leaves the device as it was.  Media is only touched
 * through cx_media_* with range checks.
 */
#include "mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the command table ---- */

#define VAR CX_MBOX_VAR
#define BLK CX_MBOX_F_BLOCK_DISABLED

static cx_mbox_handler cmd_bg_status, cmd_bg_abort, cmd_get_fw_info,
	cmd_transfer_fw, cmd_activate_fw, cmd_get_timestamp, cmd_set_timestamp,
	cmd_get_supported_logs, cmd_get_log, cmd_identify, cmd_get_partition,
	cmd_set_partition, cmd_get_lsa, cmd_set_lsa, cmd_get_health,
	cmd_get_alert, cmd_set_alert, cmd_get_shutdown, cmd_set_shutdown,
	cmd_sanitize, cmd_secure_erase, cmd_media_ops, cmd_get_security,
	cmd_set_passphrase, cmd_disable_passphrase, cmd_unlock, cmd_freeze,
	cmd_passphrase_erase;

#define E_CFG  CX_EFFECT_IMMEDIATE_CONFIG_CHANGE
#define E_DATA CX_EFFECT_IMMEDIATE_DATA_CHANGE
#define E_POL  CX_EFFECT_IMMEDIATE_POLICY_CHANGE
#define E_LOG  CX_EFFECT_IMMEDIATE_LOG_CHANGE
#define E_SEC  CX_EFFECT_SECURITY_STATE_CHANGE
#define E_BG   CX_EFFECT_BACKGROUND_OP
#define E_ABRT CX_EFFECT_ABORT_SUPPORTED
#define E_COLD CX_EFFECT_CONFIG_CHANGE_COLD_RESET

/*
 * Every command the mailbox knows, in CEL order: opcode, name, input
 * length (exact, or VAR with the shortest valid input), CEL effects, what
 * the dispatcher checks (BLK: refused while the media is disabled) and
 * the handler.  Adding a command is one row here and its handler.
 */
static const struct cx_mbox_cmd_info cmds[] = {
	{ CX_OP_BG_OP_STATUS, "Background Operation Status", 0, 0, 0, 0,
	  cmd_bg_status },
	{ CX_OP_BG_OP_ABORT, "Request Abort Background Operation", 0, 0, 0, 0,
	  cmd_bg_abort },
	{ CX_OP_GET_EVENT_RECORDS, "Get Event Records", CX_GER_IN_LEN, 0, 0,
	  BLK, cx_cmd_get_event_records },
	{ CX_OP_CLEAR_EVENT_RECORDS, "Clear Event Records", VAR,
	  CX_CER_HDR_LEN, E_LOG, 0, cx_cmd_clear_event_records },
	{ CX_OP_GET_EVENT_INT_POLICY, "Get Event Interrupt Policy", 0, 0, 0, 0,
	  cx_cmd_get_event_int_policy },
	{ CX_OP_SET_EVENT_INT_POLICY, "Set Event Interrupt Policy", VAR,
	  CX_EIP_MIN_LEN, E_CFG, 0, cx_cmd_set_event_int_policy },
	{ CX_OP_GET_FW_INFO, "Get FW Info", 0, 0, 0, 0, cmd_get_fw_info },
	{ CX_OP_TRANSFER_FW, "Transfer FW", VAR, CX_TFW_HDR_LEN,
	  E_BG | E_ABRT, BLK, cmd_transfer_fw },
	{ CX_OP_ACTIVATE_FW, "Activate FW", CX_AFW_IN_LEN, 0, E_COLD | E_CFG,
	  BLK, cmd_activate_fw },
	{ CX_OP_GET_TIMESTAMP, "Get Timestamp", 0, 0, 0, 0, cmd_get_timestamp },
	{ CX_OP_SET_TIMESTAMP, "Set Timestamp", CX_TS_LEN, 0, E_POL, 0,
	  cmd_set_timestamp },
	{ CX_OP_GET_SUPPORTED_LOGS, "Get Supported Logs", 0, 0, 0, 0,
	  cmd_get_supported_logs },
	{ CX_OP_GET_LOG, "Get Log", CX_GLOG_IN_LEN, 0, 0, BLK, cmd_get_log },
	{ CX_OP_IDENTIFY_MEMDEV, "Identify Memory Device", 0, 0, 0, 0,
	  cmd_identify },
	{ CX_OP_GET_PARTITION_INFO, "Get Partition Info", 0, 0, 0, BLK,
	  cmd_get_partition },
	{ CX_OP_SET_PARTITION_INFO, "Set Partition Info", CX_SPI_IN_LEN, 0,
	  E_COLD, BLK, cmd_set_partition },
	{ CX_OP_GET_LSA, "Get LSA", CX_GLSA_IN_LEN, 0, 0, BLK, cmd_get_lsa },
	{ CX_OP_SET_LSA, "Set LSA", VAR, CX_SLSA_HDR_LEN, E_CFG | E_DATA, BLK,
	  cmd_set_lsa },
	{ CX_OP_GET_HEALTH_INFO, "Get Health Info", 0, 0, 0, 0,
	  cmd_get_health },
	{ CX_OP_GET_ALERT_CONFIG, "Get Alert Configuration", 0, 0, 0, 0,
	  cmd_get_alert },
	{ CX_OP_SET_ALERT_CONFIG, "Set Alert Configuration", CX_SAC_IN_LEN, 0,
	  E_POL, 0, cmd_set_alert },
	{ CX_OP_GET_SHUTDOWN_STATE, "Get Shutdown State", 0, 0, 0, 0,
	  cmd_get_shutdown },
	{ CX_OP_SET_SHUTDOWN_STATE, "Set Shutdown State", CX_SHUTDOWN_LEN, 0,
	  E_POL, 0, cmd_set_shutdown },
	{ CX_OP_GET_POISON_LIST, "Get Poison List", CX_GPL_IN_LEN, 0, 0, BLK,
	  cx_cmd_get_poison_list },
	{ CX_OP_INJECT_POISON, "Inject Poison", CX_IP_IN_LEN, 0, E_DATA, BLK,
	  cx_cmd_inject_poison },
	{ CX_OP_CLEAR_POISON, "Clear Poison", CX_CP_IN_LEN, 0, E_DATA, BLK,
	  cx_cmd_clear_poison },
	{ CX_OP_GET_SCAN_MEDIA_CAPS, "Get Scan Media Capabilities",
	  CX_GSMC_IN_LEN, 0, 0, 0, cx_cmd_get_scan_media_caps },
	{ CX_OP_SCAN_MEDIA, "Scan Media", CX_SM_IN_LEN, 0, E_BG | E_ABRT, BLK,
	  cx_cmd_scan_media },
	{ CX_OP_GET_SCAN_MEDIA_RESULTS, "Get Scan Media Results", 0, 0, 0, 0,
	  cx_cmd_get_scan_media_results },
	/* allowed while the media is disabled: it enables it again */
	{ CX_OP_SANITIZE, "Sanitize", 0, 0, E_DATA | E_SEC | E_BG | E_ABRT, 0,
	  cmd_sanitize },
	{ CX_OP_SECURE_ERASE, "Secure Erase", 0, 0, E_DATA | E_SEC, BLK,
	  cmd_secure_erase },
	{ CX_OP_MEDIA_OPERATIONS, "Media Operations", VAR, CX_MOP_HDR_LEN,
	  E_DATA | E_BG, BLK, cmd_media_ops },
	{ CX_OP_GET_SECURITY_STATE, "Get Security State", 0, 0, 0, 0,
	  cmd_get_security },
	{ CX_OP_SET_PASSPHRASE, "Set Passphrase", CX_SETP_IN_LEN, 0, E_SEC, 0,
	  cmd_set_passphrase },
	{ CX_OP_DISABLE_PASSPHRASE, "Disable Passphrase", CX_DISP_IN_LEN, 0,
	  E_SEC, 0, cmd_disable_passphrase },
	{ CX_OP_UNLOCK, "Unlock", CX_UNLOCK_IN_LEN, 0, E_SEC, 0, cmd_unlock },
	{ CX_OP_FREEZE_SECURITY, "Freeze Security State", 0, 0, E_SEC, 0,
	  cmd_freeze },
	{ CX_OP_PASSPHRASE_SECURE_ERASE, "Passphrase Secure Erase",
	  CX_DISP_IN_LEN, 0, E_DATA | E_SEC, BLK, cmd_passphrase_erase },
};
#define NCMDS ((int)CX_ARRAY_SIZE(cmds))

int cx_mbox_commands(const struct cx_mbox_cmd_info **out)
{
	*out = cmds;
	return NCMDS;
}

static int cmd_index(uint16_t opcode)
{
	for (int i = 0; i < NCMDS; i++)
		if (cmds[i].opcode == opcode)
			return i;
	return -1;
}

const char *cx_mbox_opcode_name(uint16_t opcode)
{
	int i = cmd_index(opcode);
	return i < 0 ? NULL : cmds[i].name;
}

/* ---- clock and background operations ---- */

static uint64_t monotonic_ns(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t cx_mbox_now(struct cx_mbox_state *st)
{
	return st->clock(st->clock_ctx);
}

uint64_t cx_mbox_timestamp(struct cx_mbox_state *st)
{
	if (!st->ts_set)
		return 0;
	return st->ts_host + (cx_mbox_now(st) - st->ts_set_at_ns);
}

uint64_t cx_mbox_capacity(const struct cx_memdev *m)
{
	return m->vmem_size + m->pmem_size;
}

void cx_mbox_bg_start(struct cx_mbox_state *st, uint16_t opcode,
		      uint64_t duration_ms)
{
	st->bg.running = true;
	st->bg.opcode = opcode;
	st->bg.start_ns = cx_mbox_now(st);
	st->bg.duration_ns = (duration_ms ? duration_ms : 1) * 1000000ULL;
	st->bg.percent = 0;
	st->bg.rc = 0;
}

static uint8_t bg_percent(struct cx_mbox_state *st)
{
	if (!st->bg.running)
		return st->bg.percent;
	uint64_t el = cx_mbox_now(st) - st->bg.start_ns;
	if (el >= st->bg.duration_ns)
		return 99;
	return (uint8_t)(el * 100 / st->bg.duration_ns);
}

static void sidecar_save(struct cx_mbox_state *st);
static void zero_media(struct cx_media *md);
static void fw_transfer_complete(struct cx_mbox_state *st, bool aborted);

static void sanitize_media(struct cx_memdev *m, struct cx_mbox_state *st)
{
	zero_media(m->vmem);
	zero_media(m->pmem);
	zero_media(m->lsa);
	cx_poison_clear_all(st);
}

static void bg_complete(struct cx_mbox_state *st, bool aborted)
{
	struct cx_memdev *m = st->m;

	st->bg.running = false;
	st->bg.percent = aborted ? bg_percent(st) : 100;
	st->bg.rc = aborted ? CX_RC_ABORTED : CX_RC_SUCCESS;
	switch (st->bg.opcode) {
	case CX_OP_SANITIZE:
		st->dev->sanitizing = NULL;
		if (!aborted) {
			sanitize_media(m, st);
			cx_events_clear_all(st);
			st->dev->media_disabled = false;
			st->sanitize_done = true;
		}
		/* an interrupted sanitize leaves the media disabled until a
		 * sanitize completes (§8.2.9.9.5.1) */
		break;
	case CX_OP_SCAN_MEDIA:
		cx_scan_media_complete(st, aborted);
		break;
	case CX_OP_TRANSFER_FW:
		fw_transfer_complete(st, aborted);
		break;
	case CX_OP_MEDIA_OPERATIONS:
		for (uint32_t i = 0; !aborted && i < st->bg.nranges; i++)
			cx_dpa_fill(m, st->bg.ranges[i][0], st->bg.fill,
				    st->bg.ranges[i][1], NULL);
		free(st->bg.ranges);
		st->bg.ranges = NULL;
		st->bg.nranges = 0;
		break;
	default:
		break;
	}
}

/* Complete what is due on every head of the device: a sanitize started
 * through one head ends for all of them. */
static void poll_locked(struct cx_mbox_state *st)
{
	for (int i = 0; i < st->dev->heads.n; i++) {
		struct cx_mbox_state *h = st->dev->heads.v[i];
		if (h->bg.running &&
		    cx_mbox_now(h) - h->bg.start_ns >= h->bg.duration_ns)
			bg_complete(h, false);
	}
}

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
			rc = cx_media_write(md, off, NULL, 0, e); /* range */
			if (!rc)
				memset(md->map + off, fill, (size_t)n);
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

/* Zero a whole media object without committing memory: punch a hole in
 * its file (memfd or backing file), falling back to stores. */
static void zero_media(struct cx_media *md)
{
	if (!md || !md->size)
		return;
	if (md->fd >= 0 &&
	    fallocate(md->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)md->offset, (off_t)md->size) == 0)
		return;
	cx_media_zero(md, 0, md->size, NULL);
}

/* ---- the sidecar file: settings a device keeps in flash ---- */

struct sidecar_vals {
	bool have_part;
	uint64_t part_vol;
	bool shutdown_dirty;
	uint32_t dirty_shutdowns;
	int fw_active, fw_staged;
	bool fw_present[CX_FW_SLOTS];
	char fw_rev[CX_FW_SLOTS][CX_FW_REV_LEN + 1];
};

static char *sidecar_path(struct cx_memdev *m)
{
	struct cx_media *md = NULL;
	if (m->lsa && m->lsa->persistent && m->lsa->path)
		md = m->lsa;
	else if (m->pmem && m->pmem->persistent && m->pmem->path)
		md = m->pmem;
	if (!md)
		return NULL;
	return cx_xasprintf("%s.cxlemu", md->path);
}

static bool sidecar_load(const char *path, struct sidecar_vals *v)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	char line[256];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		char *val = eq + 1;
		val[strcspn(val, "\n")] = 0;
		unsigned long long n = strtoull(val, NULL, 0);
		if (!strcmp(line, "partition_volatile")) {
			v->have_part = true;
			v->part_vol = n;
		} else if (!strcmp(line, "shutdown_dirty")) {
			v->shutdown_dirty = n != 0;
		} else if (!strcmp(line, "dirty_shutdowns")) {
			v->dirty_shutdowns = (uint32_t)n;
		} else if (!strcmp(line, "fw_active")) {
			v->fw_active = (int)n;
		} else if (!strcmp(line, "fw_staged")) {
			v->fw_staged = (int)n;
		} else if (!strncmp(line, "fw_rev", 6) && line[6] >= '1' &&
			   line[6] < '1' + CX_FW_SLOTS && !line[7]) {
			int s = line[6] - '1';
			v->fw_present[s] = true;
			snprintf(v->fw_rev[s], sizeof(v->fw_rev[s]), "%s", val);
		}
	}
	fclose(f);
	return true;
}

static void sidecar_save(struct cx_mbox_state *st)
{
	if (!st->sidecar)
		return;
	char *tmp = cx_xasprintf("%s.tmp", st->sidecar);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		free(tmp);
		return;
	}
	fprintf(f, "# cxlemu device settings for %s (kept like device flash)\n",
		st->m->qid);
	uint64_t pv = st->part_next_pending ? st->part_next_vol : st->part_vol;
	if (st->partitionable)
		fprintf(f, "partition_volatile=%llu\n", (unsigned long long)pv);
	fprintf(f, "shutdown_dirty=%d\n", st->shutdown_dirty ? 1 : 0);
	fprintf(f, "dirty_shutdowns=%u\n", st->health.dirty_shutdowns);
	fprintf(f, "fw_active=%d\nfw_staged=%d\n", st->fw.active, st->fw.staged);
	for (int s = 0; s < CX_FW_SLOTS; s++)
		if (st->fw.present[s])
			fprintf(f, "fw_rev%d=%.16s\n", s + 1, st->fw.rev[s]);
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (ok)
		rename(tmp, st->sidecar);
	else
		unlink(tmp);
	free(tmp);
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
	cx_vec_push(&st->dev->heads, st);
	st->m = m;
	st->clock = monotonic_ns;
	st->sidecar = sidecar_path(m);

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

	struct sidecar_vals sv = { 0 };
	if (sidecar_load(st->sidecar, &sv)) {
		if (sv.have_part && st->partitionable) {
			int rc = apply_partition(m, st, sv.part_vol, e);
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
	sidecar_save(st);
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
	/* an orderly stop: data reached the media, the shutdown is clean */
	st->shutdown_dirty = false;
	sidecar_save(st);
	cx_poison_state_free(st);
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

void cx_mbox_set_clock(struct cx_memdev *m, cx_mbox_clock_fn fn, void *ctx)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	st->clock = fn ? fn : monotonic_ns;
	st->clock_ctx = fn ? ctx : NULL;
	pthread_mutex_unlock(st->lock);
}

void cx_mbox_set_timing(struct cx_memdev *m, const struct cx_mbox_timing *t)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	st->timing = *t;
	pthread_mutex_unlock(st->lock);
}

void cx_mbox_poll(struct cx_memdev *m)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	poll_locked(st);
	pthread_mutex_unlock(st->lock);
}

int cx_mbox_status(struct cx_memdev *m, struct cx_mbox_status *out)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(st->lock);
	poll_locked(st);
	memset(out, 0, sizeof(*out));
	out->bg_running = st->bg.running;
	out->bg_opcode = st->bg.opcode;
	out->bg_percent = bg_percent(st);
	out->bg_rc = st->bg.running ? 0 : st->bg.rc;
	out->media_status = st->dev->media_disabled ? 3 : 1;
	for (int i = 0; i < CX_EVLOG_COUNT; i++)
		if (st->logs[i].n)
			out->event_status |= 1u << i;
	out->sanitize_done = st->sanitize_done;
	pthread_mutex_unlock(st->lock);
	return 0;
}

int cx_mbox_access_check(struct cx_memdev *m, uint64_t dpa, uint64_t len,
			 bool write, uint64_t *first_bad, cx_err *e)
{
	struct cx_mbox_state *st = m->mbox;
	int rc = 0;
	if (!st)
		return 0;
	pthread_mutex_lock(st->lock);
	poll_locked(st);
	struct cx_mbox_state *san = st->dev->sanitizing;
	if (st->dev->media_disabled && san && san != st)
		rc = cx_fail(e, ENXIO, "memdev %s: media is disabled (sanitize "
			     "in progress through host %s's %s, a head of the "
			     "same device)", m->qid, san->m->host->name,
			     san->m->qid);
	else if (st->dev->media_disabled)
		rc = cx_fail(e, ENXIO, "memdev %s: media is disabled (sanitize "
			     "%s)", m->qid, san ? "in progress" :
			     "did not complete");
	else if ((st->sec_state & CX_SEC_LOCKED) && m->pmem_size &&
		 dpa + len > m->vmem_size)
		rc = cx_fail(e, EACCES, "memdev %s: persistent capacity is "
			     "locked until Unlock with the user passphrase",
			     m->qid);
	else if (!write && cx_poison_find(st, dpa, len, first_bad)) {
		uint64_t bad = first_bad ? *first_bad : dpa;
		rc = cx_fail(e, EIO, "memdev %s: DPA %#llx is poisoned "
			     "(64-byte line at %#llx)", m->qid,
			     (unsigned long long)bad,
			     (unsigned long long)(bad & ~(CX_CACHELINE - 1)));
	}
	pthread_mutex_unlock(st->lock);
	return rc;
}

int cx_poison_check(struct cx_memdev *m, uint64_t dpa, uint64_t len,
		    uint64_t *first_bad)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return 0;
	pthread_mutex_lock(st->lock);
	int r = cx_poison_find(st, dpa, len, first_bad);
	pthread_mutex_unlock(st->lock);
	return r;
}

void cx_mbox_reset(struct cx_memdev *m)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	if (st->bg.running)
		bg_complete(st, true);
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
	sidecar_save(st);
	pthread_mutex_unlock(st->lock);
}

/* ---- dispatch ---- */

int cx_mbox_exec(struct cx_memdev *m, uint16_t opcode, const void *in,
		 size_t in_len, void *out, size_t *out_len, uint16_t *rc)
{
	struct cx_mbox_state *st = m ? m->mbox : NULL;
	size_t cap = out_len ? *out_len : 0;
	size_t produced = 0;
	uint16_t r;

	if (!st) {
		if (out_len)
			*out_len = 0;
		return -EINVAL;
	}
	pthread_mutex_lock(st->lock);
	poll_locked(st);
	int i = cmd_index(opcode);
	const struct cx_mbox_cmd_info *c = i < 0 ? NULL : &cmds[i];
	if (!c) {
		r = CX_RC_UNSUPPORTED;
	} else if (in_len > CX_MBOX_PAYLOAD_MAX || (in_len && !in) ||
		   (c->in_len != VAR && in_len != (size_t)c->in_len) ||
		   (c->in_len == VAR && in_len < (size_t)c->in_min)) {
		r = CX_RC_INVALID_PAYLOAD_LENGTH;
	} else if ((c->effects & CX_EFFECT_BACKGROUND_OP) && st->bg.running) {
		r = CX_RC_BUSY;
	} else if ((c->flags & BLK) && st->dev->media_disabled) {
		r = CX_RC_MEDIA_DISABLED;
	} else {
		/* handlers read from a private copy, so `in` and `out` may
		 * alias, and write into a zeroed payload register */
		static const uint8_t none[1];
		uint8_t ibuf[CX_MBOX_PAYLOAD_MAX];
		if (in_len)
			memcpy(ibuf, in, in_len);
		memset(st->obuf, 0, sizeof(st->obuf));
		r = c->handler(m, st, in_len ? ibuf : none, in_len, st->obuf,
			       &produced);
		if (r != CX_RC_SUCCESS && r != CX_RC_BG_STARTED)
			produced = 0;
		if (produced > CX_MBOX_PAYLOAD_MAX)
			produced = CX_MBOX_PAYLOAD_MAX;
		if (out && produced)
			memcpy(out, st->obuf, produced < cap ? produced : cap);
	}
	pthread_mutex_unlock(st->lock);
	if (out_len)
		*out_len = produced;
	if (rc)
		*rc = r;
	return 0;
}

/* ---- 0002h / 0005h background operation status and abort ---- */

static uint16_t cmd_bg_status(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len, uint8_t *out,
			      size_t *out_len)
{
	out[CX_BGS_STATUS] = (uint8_t)((st->bg.running ? 1 : 0) |
				       bg_percent(st) << 1);
	cx_wr_le16(out + CX_BGS_OPCODE, st->bg.opcode);
	cx_wr_le16(out + CX_BGS_RC, st->bg.running ? 0 : st->bg.rc);
	*out_len = CX_BGS_OUT_LEN;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_bg_abort(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len, uint8_t *out,
			     size_t *out_len)
{
	if (!st->bg.running)
		return CX_RC_SUCCESS;
	int i = cmd_index(st->bg.opcode);
	if (i < 0 || !(cmds[i].effects & CX_EFFECT_ABORT_SUPPORTED) ||
	    bg_percent(st) >= 85)
		return CX_RC_ABORT_NOT_SUPPORTED;
	bg_complete(st, true);
	return CX_RC_SUCCESS;
}

/* ---- 02xxh firmware ---- */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}
#define FNV_INIT 2166136261u

static uint16_t cmd_get_fw_info(struct cx_memdev *m, struct cx_mbox_state *st,
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

static void fw_transfer_complete(struct cx_mbox_state *st, bool aborted)
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
		sidecar_save(st);
	}
}

static uint64_t fw_part_ms(struct cx_mbox_state *st, bool full)
{
	if (full)
		return st->timing.fw_full_ms ? st->timing.fw_full_ms : 200;
	return st->timing.fw_part_ms ? st->timing.fw_part_ms : 20;
}

static uint16_t cmd_transfer_fw(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_activate_fw(struct cx_memdev *m, struct cx_mbox_state *st,
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
	sidecar_save(st);
	return CX_RC_SUCCESS;
}

/* ---- 03xxh timestamp ---- */

static uint16_t cmd_get_timestamp(struct cx_memdev *m, struct cx_mbox_state *st,
				  const uint8_t *in, size_t in_len,
				  uint8_t *out, size_t *out_len)
{
	cx_wr_le64(out, cx_mbox_timestamp(st));
	*out_len = CX_TS_LEN;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_set_timestamp(struct cx_memdev *m, struct cx_mbox_state *st,
				  const uint8_t *in, size_t in_len,
				  uint8_t *out, size_t *out_len)
{
	st->ts_set = true;
	st->ts_host = cx_rd_le64(in);
	st->ts_set_at_ns = cx_mbox_now(st);
	return CX_RC_SUCCESS;
}

/* ---- 04xxh logs: the Command Effects Log ---- */

static uint32_t cel_size(void) { return (uint32_t)NCMDS * CX_CEL_ENTRY_SIZE; }

static uint16_t cmd_get_supported_logs(struct cx_memdev *m,
				       struct cx_mbox_state *st,
				       const uint8_t *in, size_t in_len,
				       uint8_t *out, size_t *out_len)
{
	cx_wr_le16(out + CX_GSL_NENTRIES, 1);
	uint8_t *e = out + CX_GSL_ENTRIES;
	memcpy(e + CX_GSL_E_UUID, cx_cel_uuid, 16);
	cx_wr_le32(e + CX_GSL_E_SIZE, cel_size());
	*out_len = CX_GSL_ENTRIES + CX_GSL_ENTRY_SIZE;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_get_log(struct cx_memdev *m, struct cx_mbox_state *st,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len)
{
	uint64_t off = cx_rd_le32(in + CX_GLOG_OFFSET);
	uint64_t len = cx_rd_le32(in + CX_GLOG_LENGTH);

	if (memcmp(in + CX_GLOG_UUID, cx_cel_uuid, 16))
		return CX_RC_INVALID_LOG;
	if (len > CX_MBOX_PAYLOAD_MAX || off + len > cel_size())
		return CX_RC_INVALID_INPUT;
	for (uint64_t b = off; b < off + len; b++) {
		const struct cx_mbox_cmd_info *c = &cmds[b / CX_CEL_ENTRY_SIZE];
		uint8_t ent[CX_CEL_ENTRY_SIZE];
		cx_wr_le16(ent + CX_CEL_OPCODE, c->opcode);
		cx_wr_le16(ent + CX_CEL_EFFECT, c->effects);
		out[b - off] = ent[b % CX_CEL_ENTRY_SIZE];
	}
	*out_len = (size_t)len;
	return CX_RC_SUCCESS;
}

/* ---- 40xxh / 41xxh identify, partitions, LSA ---- */

static bool capacity_aligned(const struct cx_memdev *m)
{
	return m->vmem_size % CX_CAPACITY_UNIT == 0 &&
	       m->pmem_size % CX_CAPACITY_UNIT == 0;
}

static uint16_t cmd_identify(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_get_partition(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_set_partition(struct cx_memdev *m, struct cx_mbox_state *st,
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
	sidecar_save(st);
	return CX_RC_SUCCESS;
}

static uint16_t cmd_get_lsa(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_set_lsa(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_get_health(struct cx_memdev *m, struct cx_mbox_state *st,
			       const uint8_t *in, size_t in_len, uint8_t *out,
			       size_t *out_len)
{
	health_payload(st, out, &st->health, additional_status(st));
	*out_len = CX_HI_OUT_LEN;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_get_alert(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_set_alert(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_get_shutdown(struct cx_memdev *m, struct cx_mbox_state *st,
				 const uint8_t *in, size_t in_len,
				 uint8_t *out, size_t *out_len)
{
	out[0] = st->shutdown_dirty ? CX_SHUTDOWN_DIRTY : 0;
	*out_len = CX_SHUTDOWN_LEN;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_set_shutdown(struct cx_memdev *m, struct cx_mbox_state *st,
				 const uint8_t *in, size_t in_len,
				 uint8_t *out, size_t *out_len)
{
	st->shutdown_dirty = in[0] & CX_SHUTDOWN_DIRTY;
	sidecar_save(st);
	return CX_RC_SUCCESS;
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
static bool media_in_use(struct cx_mbox_state *st)
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
	poll_locked(st);
	struct cx_mbox_device *dev = st->dev;
	const char *op = cx_mbox_opcode_name(st->bg.opcode);
	if (st->bg.running) {
		snprintf(buf, len, "%s (%#06x) is running in the background "
			 "(%u%% done)", op ? op : "an operation",
			 st->bg.opcode, bg_percent(st));
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
	if (media_in_use(st))
		return CX_RC_BUSY;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_sanitize(struct cx_memdev *m, struct cx_mbox_state *st,
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

static uint16_t cmd_secure_erase(struct cx_memdev *m, struct cx_mbox_state *st,
				 const uint8_t *in, size_t in_len,
				 uint8_t *out, size_t *out_len)
{
	uint16_t r = erase_allowed(m, st);
	if (r)
		return r;
	sanitize_media(m, st);
	return CX_RC_SUCCESS;
}

static uint16_t cmd_media_ops(struct cx_memdev *m, struct cx_mbox_state *st,
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

/* ---- 45xxh persistent memory security ---- */

static uint16_t cmd_get_security(struct cx_memdev *m, struct cx_mbox_state *st,
				 const uint8_t *in, size_t in_len,
				 uint8_t *out, size_t *out_len)
{
	cx_wr_le32(out, st->sec_state);
	*out_len = CX_SEC_STATE_LEN;
	return CX_RC_SUCCESS;
}

/* A wrong passphrase counts toward the retry limit. */
/*
 * The two passphrases (master and user) follow the same rules; a slot is
 * one of them: its bytes, its failed-try count and its two state bits.
 */
struct pass_slot {
	uint8_t *pass;
	int *tries;
	uint32_t set, plimit;
};

static struct pass_slot pass_slot(struct cx_mbox_state *st, bool master)
{
	if (master)
		return (struct pass_slot){ st->master_pass, &st->master_tries,
					   CX_SEC_MASTER_SET,
					   CX_SEC_MASTER_PLIMIT };
	return (struct pass_slot){ st->user_pass, &st->user_tries,
				   CX_SEC_USER_SET, CX_SEC_USER_PLIMIT };
}

/* Compare `given` with the slot: a match clears the try count; a mismatch
 * counts a try and, at the limit, blocks the slot. */
static uint16_t pass_check(struct cx_mbox_state *st, const struct pass_slot *ps,
			   const uint8_t *given)
{
	if (memcmp(given, ps->pass, CX_PASSPHRASE_LEN)) {
		if (++*ps->tries >= CX_PASS_TRY_LIMIT)
			st->sec_state |= ps->plimit;
		return CX_RC_INCORRECT_PASSPHRASE;
	}
	*ps->tries = 0;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_set_passphrase(struct cx_memdev *m,
				   struct cx_mbox_state *st, const uint8_t *in,
				   size_t in_len, uint8_t *out,
				   size_t *out_len)
{
	uint8_t type = in[CX_SETP_TYPE];
	const uint8_t *cur = in + CX_SETP_CURRENT, *nw = in + CX_SETP_NEW;
	uint16_t rc;

	if (type != CX_PASS_MASTER && type != CX_PASS_USER)
		return CX_RC_INVALID_INPUT;
	struct pass_slot ps = pass_slot(st, type == CX_PASS_MASTER);
	if (st->sec_state & (CX_SEC_FROZEN | CX_SEC_LOCKED | ps.plimit))
		return CX_RC_INVALID_SECURITY_STATE;
	/* the master passphrase is only set while security is disabled
	 * (no user passphrase) */
	if (type == CX_PASS_MASTER && (st->sec_state & CX_SEC_USER_SET))
		return CX_RC_INVALID_SECURITY_STATE;
	if ((st->sec_state & ps.set) && (rc = pass_check(st, &ps, cur)))
		return rc;
	memcpy(ps.pass, nw, CX_PASSPHRASE_LEN);
	*ps.tries = 0;
	st->sec_state |= ps.set;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_disable_passphrase(struct cx_memdev *m,
				       struct cx_mbox_state *st,
				       const uint8_t *in, size_t in_len,
				       uint8_t *out, size_t *out_len)
{
	uint8_t type = in[CX_DISP_TYPE];
	uint16_t rc;

	if (type != CX_PASS_MASTER && type != CX_PASS_USER)
		return CX_RC_INVALID_INPUT;
	struct pass_slot ps = pass_slot(st, type == CX_PASS_MASTER);
	if ((st->sec_state & (CX_SEC_FROZEN | ps.plimit)) ||
	    !(st->sec_state & ps.set))
		return CX_RC_INVALID_SECURITY_STATE;
	if ((rc = pass_check(st, &ps, in + CX_DISP_CURRENT)))
		return rc;
	memset(ps.pass, 0, CX_PASSPHRASE_LEN);
	/* without a user passphrase the device cannot stay locked */
	st->sec_state &= ~(ps.set | (type == CX_PASS_USER ? CX_SEC_LOCKED : 0));
	return CX_RC_SUCCESS;
}

static uint16_t cmd_unlock(struct cx_memdev *m, struct cx_mbox_state *st,
			   const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t *out_len)
{
	struct pass_slot ps = pass_slot(st, false);
	uint16_t rc;

	if ((st->sec_state & (CX_SEC_FROZEN | ps.plimit)) ||
	    !(st->sec_state & ps.set) || !(st->sec_state & CX_SEC_LOCKED))
		return CX_RC_INVALID_SECURITY_STATE;
	if ((rc = pass_check(st, &ps, in)))
		return rc;
	st->sec_state &= ~CX_SEC_LOCKED;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_freeze(struct cx_memdev *m, struct cx_mbox_state *st,
			   const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t *out_len)
{
	st->sec_state |= CX_SEC_FROZEN;
	return CX_RC_SUCCESS;
}

static uint16_t cmd_passphrase_erase(struct cx_memdev *m,
				     struct cx_mbox_state *st,
				     const uint8_t *in, size_t in_len,
				     uint8_t *out, size_t *out_len)
{
	uint8_t type = in[CX_DISP_TYPE];
	uint16_t rc;

	if (type != CX_PASS_MASTER && type != CX_PASS_USER)
		return CX_RC_INVALID_INPUT;
	struct pass_slot ps = pass_slot(st, type == CX_PASS_MASTER);
	if (st->sec_state & (CX_SEC_FROZEN | ps.plimit))
		return CX_RC_INVALID_SECURITY_STATE;
	/* with the master passphrase disabled this erase is invalid
	 * (r3.0 §8.2.9.8.6.3) */
	if (type == CX_PASS_MASTER && !(st->sec_state & ps.set))
		return CX_RC_INVALID_INPUT;
	if (media_in_use(st))
		return CX_RC_BUSY;
	/* the user erase with no user passphrase set needs none */
	if ((st->sec_state & ps.set) &&
	    (rc = pass_check(st, &ps, in + CX_DISP_CURRENT)))
		return rc;
	/* erasing removes the user passphrase and unlocks */
	memset(st->user_pass, 0, CX_PASSPHRASE_LEN);
	st->user_tries = 0;
	st->sec_state &= ~(CX_SEC_USER_SET | CX_SEC_LOCKED);
	sanitize_media(m, st);
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
