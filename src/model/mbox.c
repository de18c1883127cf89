/*
 * mbox.c - a Type 3 memdev's primary mailbox: the command table (which is
 * also the Command Effects Log), dispatch with the specification's length,
 * busy and media-disabled rules, background operations on a clock, and
 * the commands about the mailbox itself: background operation status and
 * abort, timestamps, the Command Effects Log.
 *
 * The other command sets live in a file each: device.c (state, identify,
 * partitions, LSA), firmware.c, health.c (health, alerts, shutdown state),
 * sanitize.c (sanitize, secure erase, media operations), security.c,
 * events.c (event logs), poison.c (poison list, scan media).  Every
 * handler validates its whole input before it changes anything, so a
 * command that fails leaves the device as it was.
 */
#include "mbox.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* ---- the command table ---- */

#define VAR CX_MBOX_VAR
#define BLK CX_MBOX_F_BLOCK_DISABLED
#define DCD CX_MBOX_F_DCD
#define WIPE CX_MBOX_F_WIPES

#define E_CFG  CX_EFFECT_IMMEDIATE_CONFIG_CHANGE
#define E_DATA CX_EFFECT_IMMEDIATE_DATA_CHANGE
#define E_POL  CX_EFFECT_IMMEDIATE_POLICY_CHANGE
#define E_LOG  CX_EFFECT_IMMEDIATE_LOG_CHANGE
#define E_SEC  CX_EFFECT_SECURITY_STATE_CHANGE
#define E_BG   CX_EFFECT_BACKGROUND_OP
#define E_ABRT CX_EFFECT_ABORT_SUPPORTED
#define E_COLD CX_EFFECT_CONFIG_CHANGE_COLD_RESET

/* a command that ends when its handler returns */
#define CMD(op, name, in_len, in_min, effects, flags, handler) \
	{ op, name, in_len, in_min, effects, flags, handler, NULL }
/* a background command, and what ends it */
#define BG(op, name, in_len, in_min, effects, flags, handler, done) \
	{ op, name, in_len, in_min, effects, flags, handler, done }

/*
 * Every command the mailbox knows, in CEL order: opcode, name, input
 * length (exact, or VAR with the shortest valid input), CEL effects, what
 * the dispatcher checks (BLK: refused while the media is disabled; WIPE:
 * it destroys media contents, which the server holds back while an
 * earlier daemon's programs map copies), the handler and, for a background command, what completes it.  Adding a
 * command is one row here and its handler (declared in mbox.h).
 */
static const struct cx_mbox_cmd_info cmds[] = {
	CMD(CX_OP_BG_OP_STATUS, "Background Operation Status", 0, 0, 0, 0,
	    cx_cmd_bg_status),
	CMD(CX_OP_BG_OP_ABORT, "Request Abort Background Operation", 0, 0, 0, 0,
	    cx_cmd_bg_abort),
	CMD(CX_OP_GET_EVENT_RECORDS, "Get Event Records", CX_GER_IN_LEN, 0, 0,
	    BLK, cx_cmd_get_event_records),
	CMD(CX_OP_CLEAR_EVENT_RECORDS, "Clear Event Records", VAR,
	    CX_CER_HDR_LEN, E_LOG, 0, cx_cmd_clear_event_records),
	CMD(CX_OP_GET_EVENT_INT_POLICY, "Get Event Interrupt Policy", 0, 0, 0,
	    0, cx_cmd_get_event_int_policy),
	CMD(CX_OP_SET_EVENT_INT_POLICY, "Set Event Interrupt Policy", VAR,
	    CX_EIP_MIN_LEN, E_CFG, 0, cx_cmd_set_event_int_policy),
	CMD(CX_OP_GET_FW_INFO, "Get FW Info", 0, 0, 0, 0, cx_cmd_get_fw_info),
	BG(CX_OP_TRANSFER_FW, "Transfer FW", VAR, CX_TFW_HDR_LEN, E_BG | E_ABRT,
	    BLK, cx_cmd_transfer_fw, cx_fw_transfer_done),
	CMD(CX_OP_ACTIVATE_FW, "Activate FW", CX_AFW_IN_LEN, 0, E_COLD | E_CFG,
	    BLK, cx_cmd_activate_fw),
	CMD(CX_OP_GET_TIMESTAMP, "Get Timestamp", 0, 0, 0, 0,
	    cx_cmd_get_timestamp),
	CMD(CX_OP_SET_TIMESTAMP, "Set Timestamp", CX_TS_LEN, 0, E_POL, 0,
	    cx_cmd_set_timestamp),
	CMD(CX_OP_GET_SUPPORTED_LOGS, "Get Supported Logs", 0, 0, 0, 0,
	    cx_cmd_get_supported_logs),
	CMD(CX_OP_GET_LOG, "Get Log", CX_GLOG_IN_LEN, 0, 0, BLK,
	    cx_cmd_get_log),
	CMD(CX_OP_IDENTIFY_MEMDEV, "Identify Memory Device", 0, 0, 0, 0,
	    cx_cmd_identify),
	CMD(CX_OP_GET_PARTITION_INFO, "Get Partition Info", 0, 0, 0, BLK,
	    cx_cmd_get_partition),
	CMD(CX_OP_SET_PARTITION_INFO, "Set Partition Info", CX_SPI_IN_LEN, 0,
	    E_COLD, BLK, cx_cmd_set_partition),
	CMD(CX_OP_GET_LSA, "Get LSA", CX_GLSA_IN_LEN, 0, 0, BLK,
	    cx_cmd_get_lsa),
	CMD(CX_OP_SET_LSA, "Set LSA", VAR, CX_SLSA_HDR_LEN, E_CFG | E_DATA, BLK,
	    cx_cmd_set_lsa),
	CMD(CX_OP_GET_HEALTH_INFO, "Get Health Info", 0, 0, 0, 0,
	    cx_cmd_get_health),
	CMD(CX_OP_GET_ALERT_CONFIG, "Get Alert Configuration", 0, 0, 0, 0,
	    cx_cmd_get_alert),
	CMD(CX_OP_SET_ALERT_CONFIG, "Set Alert Configuration", CX_SAC_IN_LEN, 0,
	    E_POL, 0, cx_cmd_set_alert),
	CMD(CX_OP_GET_SHUTDOWN_STATE, "Get Shutdown State", 0, 0, 0, 0,
	    cx_cmd_get_shutdown),
	CMD(CX_OP_SET_SHUTDOWN_STATE, "Set Shutdown State", CX_SHUTDOWN_LEN, 0,
	    E_POL, 0, cx_cmd_set_shutdown),
	CMD(CX_OP_GET_POISON_LIST, "Get Poison List", CX_GPL_IN_LEN, 0, 0, BLK,
	    cx_cmd_get_poison_list),
	CMD(CX_OP_INJECT_POISON, "Inject Poison", CX_IP_IN_LEN, 0, E_DATA, BLK,
	    cx_cmd_inject_poison),
	CMD(CX_OP_CLEAR_POISON, "Clear Poison", CX_CP_IN_LEN, 0, E_DATA, BLK,
	    cx_cmd_clear_poison),
	CMD(CX_OP_GET_SCAN_MEDIA_CAPS, "Get Scan Media Capabilities",
	    CX_GSMC_IN_LEN, 0, 0, 0, cx_cmd_get_scan_media_caps),
	BG(CX_OP_SCAN_MEDIA, "Scan Media", CX_SM_IN_LEN, 0, E_BG | E_ABRT, BLK,
	    cx_cmd_scan_media, cx_scan_media_complete),
	CMD(CX_OP_GET_SCAN_MEDIA_RESULTS, "Get Scan Media Results", 0, 0, 0, 0,
	    cx_cmd_get_scan_media_results),
	/* allowed while the media is disabled: it enables it again */
	BG(CX_OP_SANITIZE, "Sanitize", 0, 0, E_DATA | E_SEC | E_BG | E_ABRT,
	    WIPE, cx_cmd_sanitize, cx_sanitize_done),
	CMD(CX_OP_SECURE_ERASE, "Secure Erase", 0, 0, E_DATA | E_SEC,
	    BLK | WIPE, cx_cmd_secure_erase),
	BG(CX_OP_MEDIA_OPERATIONS, "Media Operations", VAR, CX_MOP_HDR_LEN,
	    E_DATA | E_BG, BLK | WIPE, cx_cmd_media_ops, cx_media_ops_done),
	CMD(CX_OP_GET_SECURITY_STATE, "Get Security State", 0, 0, 0, 0,
	    cx_cmd_get_security),
	CMD(CX_OP_SET_PASSPHRASE, "Set Passphrase", CX_SETP_IN_LEN, 0, E_SEC, 0,
	    cx_cmd_set_passphrase),
	CMD(CX_OP_DISABLE_PASSPHRASE, "Disable Passphrase", CX_DISP_IN_LEN, 0,
	    E_SEC, 0, cx_cmd_disable_passphrase),
	CMD(CX_OP_UNLOCK, "Unlock", CX_UNLOCK_IN_LEN, 0, E_SEC, 0,
	    cx_cmd_unlock),
	CMD(CX_OP_FREEZE_SECURITY, "Freeze Security State", 0, 0, E_SEC, 0,
	    cx_cmd_freeze),
	CMD(CX_OP_PASSPHRASE_SECURE_ERASE, "Passphrase Secure Erase",
	    CX_DISP_IN_LEN, 0, E_DATA | E_SEC, BLK | WIPE,
	    cx_cmd_passphrase_erase),
	/* dynamic capacity: only on a device that has it */
	CMD(CX_OP_GET_DC_CONFIG, "Get Dynamic Capacity Configuration",
	    CX_GDC_IN_LEN, 0, 0, DCD, cx_cmd_get_dc_config),
	CMD(CX_OP_GET_DC_EXTENT_LIST, "Get Dynamic Capacity Extent List",
	    CX_GDEL_IN_LEN, 0, 0, DCD, cx_cmd_get_dc_extent_list),
	CMD(CX_OP_ADD_DC_RESPONSE, "Add Dynamic Capacity Response", VAR,
	    CX_DCU_HDR_LEN, E_CFG | E_DATA, DCD, cx_cmd_add_dc_response),
	CMD(CX_OP_RELEASE_DC, "Release Dynamic Capacity", VAR, CX_DCU_HDR_LEN,
	    E_CFG | E_DATA, DCD, cx_cmd_release_dc),
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

bool cx_mbox_wipes(uint16_t opcode)
{
	int i = cmd_index(opcode);
	return i >= 0 && (cmds[i].flags & WIPE);
}

bool cx_mbox_has_command(const struct cx_memdev *m,
			 const struct cx_mbox_cmd_info *c)
{
	return !(c->flags & DCD) || (m->dc_size && m->dc_regions > 0);
}

int cx_mbox_head_id(struct cx_memdev *m, int *nheads)
{
	struct cx_mbox_state *st = m->mbox;
	if (nheads)
		*nheads = 0;
	if (!st)
		return -1;
	pthread_mutex_lock(st->lock);
	int id = cx_dcd_head_index(st);
	if (nheads)
		*nheads = st->dev->heads.n;
	pthread_mutex_unlock(st->lock);
	return id;
}

/* ---- clock and background operations ---- */

uint64_t cx_mbox_monotonic_ns(void *ctx)
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

uint8_t cx_mbox_bg_percent(struct cx_mbox_state *st)
{
	if (!st->bg.running)
		return st->bg.percent;
	uint64_t el = cx_mbox_now(st) - st->bg.start_ns;
	if (el >= st->bg.duration_ns)
		return 99;
	return (uint8_t)(el * 100 / st->bg.duration_ns);
}

void cx_mbox_bg_complete(struct cx_mbox_state *st, bool aborted)
{
	int i = cmd_index(st->bg.opcode);

	st->bg.running = false;
	st->bg.percent = aborted ? cx_mbox_bg_percent(st) : 100;
	st->bg.rc = aborted ? CX_RC_ABORTED : CX_RC_SUCCESS;
	if (i >= 0 && cmds[i].done)
		cmds[i].done(st, aborted);
}

/* Complete what is due on every head of the device: a sanitize started
 * through one head ends for all of them. */
/* Set on a thread beside the daemon's request thread (the firmware
 * loader's worker): it may finish firmware transfers, whose completion
 * touches only the mailbox's own state, but not sanitize, erase or media
 * operations, whose completion rewrites media that the request thread
 * lends and takes back without this lock.  Those wait for the request
 * thread's next poll. */
static _Thread_local bool off_media;

void cx_mbox_thread_off_media(void)
{
	off_media = true;
}

void cx_mbox_poll_locked(struct cx_mbox_state *st)
{
	for (int i = 0; i < st->dev->heads.n; i++) {
		struct cx_mbox_state *h = st->dev->heads.v[i];
		if (off_media && h->bg.opcode != CX_OP_TRANSFER_FW &&
		    h->bg.opcode != CX_OP_ACTIVATE_FW)
			continue;
		if (h->bg.running &&
		    cx_mbox_now(h) - h->bg.start_ns >= h->bg.duration_ns)
			cx_mbox_bg_complete(h, false);
	}
}

void cx_mbox_set_clock(struct cx_memdev *m, cx_mbox_clock_fn fn, void *ctx)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	st->clock = fn ? fn : cx_mbox_monotonic_ns;
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
	cx_mbox_poll_locked(st);
	pthread_mutex_unlock(st->lock);
}

int cx_mbox_status(struct cx_memdev *m, struct cx_mbox_status *out)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(st->lock);
	cx_mbox_poll_locked(st);
	memset(out, 0, sizeof(*out));
	out->bg_running = st->bg.running;
	out->bg_opcode = st->bg.opcode;
	out->bg_percent = cx_mbox_bg_percent(st);
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
	cx_mbox_poll_locked(st);
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
	else if (st->dev->dc_nregions &&
		 dpa + len > m->vmem_size + m->pmem_size)
		rc = cx_dcd_access_check(st, dpa, len, e);
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
	cx_mbox_poll_locked(st);
	int i = cmd_index(opcode);
	const struct cx_mbox_cmd_info *c = i < 0 ? NULL : &cmds[i];
	if (c && !cx_mbox_has_command(m, c))
		c = NULL;
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

uint16_t cx_cmd_bg_status(struct cx_memdev *m, struct cx_mbox_state *st,
			  const uint8_t *in, size_t in_len, uint8_t *out,
			  size_t *out_len)
{
	out[CX_BGS_STATUS] = (uint8_t)((st->bg.running ? 1 : 0) |
				       cx_mbox_bg_percent(st) << 1);
	cx_wr_le16(out + CX_BGS_OPCODE, st->bg.opcode);
	cx_wr_le16(out + CX_BGS_RC, st->bg.running ? 0 : st->bg.rc);
	*out_len = CX_BGS_OUT_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_bg_abort(struct cx_memdev *m, struct cx_mbox_state *st,
			 const uint8_t *in, size_t in_len, uint8_t *out,
			 size_t *out_len)
{
	if (!st->bg.running)
		return CX_RC_SUCCESS;
	int i = cmd_index(st->bg.opcode);
	if (i < 0 || !(cmds[i].effects & CX_EFFECT_ABORT_SUPPORTED) ||
	    cx_mbox_bg_percent(st) >= 85)
		return CX_RC_ABORT_NOT_SUPPORTED;
	cx_mbox_bg_complete(st, true);
	return CX_RC_SUCCESS;
}

/* ---- 03xxh timestamp ---- */

uint16_t cx_cmd_get_timestamp(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t *out_len)
{
	cx_wr_le64(out, cx_mbox_timestamp(st));
	*out_len = CX_TS_LEN;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_set_timestamp(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t *out_len)
{
	st->ts_set = true;
	st->ts_host = cx_rd_le64(in);
	st->ts_set_at_ns = cx_mbox_now(st);
	return CX_RC_SUCCESS;
}

/* ---- 04xxh logs: the Command Effects Log ---- */

/* The device's CEL: the rows of the commands it has, in table order. */
static int cel_entries(const struct cx_memdev *m,
		       const struct cx_mbox_cmd_info **out)
{
	int n = 0;
	for (int i = 0; i < NCMDS; i++)
		if (cx_mbox_has_command(m, &cmds[i])) {
			if (out)
				out[n] = &cmds[i];
			n++;
		}
	return n;
}

static uint32_t cel_size(const struct cx_memdev *m)
{
	return (uint32_t)cel_entries(m, NULL) * CX_CEL_ENTRY_SIZE;
}

uint16_t cx_cmd_get_supported_logs(struct cx_memdev *m,
				   struct cx_mbox_state *st,
				   const uint8_t *in, size_t in_len,
				   uint8_t *out, size_t *out_len)
{
	cx_wr_le16(out + CX_GSL_NENTRIES, 1);
	uint8_t *e = out + CX_GSL_ENTRIES;
	memcpy(e + CX_GSL_E_UUID, cx_cel_uuid, 16);
	cx_wr_le32(e + CX_GSL_E_SIZE, cel_size(m));
	*out_len = CX_GSL_ENTRIES + CX_GSL_ENTRY_SIZE;
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_get_log(struct cx_memdev *m, struct cx_mbox_state *st,
			const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *out_len)
{
	uint64_t off = cx_rd_le32(in + CX_GLOG_OFFSET);
	uint64_t len = cx_rd_le32(in + CX_GLOG_LENGTH);

	if (memcmp(in + CX_GLOG_UUID, cx_cel_uuid, 16))
		return CX_RC_INVALID_LOG;
	const struct cx_mbox_cmd_info *cel[NCMDS];
	cel_entries(m, cel);
	if (len > CX_MBOX_PAYLOAD_MAX || off + len > cel_size(m))
		return CX_RC_INVALID_INPUT;
	for (uint64_t b = off; b < off + len; b++) {
		const struct cx_mbox_cmd_info *c = cel[b / CX_CEL_ENTRY_SIZE];
		uint8_t ent[CX_CEL_ENTRY_SIZE];
		cx_wr_le16(ent + CX_CEL_OPCODE, c->opcode);
		cx_wr_le16(ent + CX_CEL_EFFECT, c->effects);
		out[b - off] = ent[b % CX_CEL_ENTRY_SIZE];
	}
	*out_len = (size_t)len;
	return CX_RC_SUCCESS;
}
