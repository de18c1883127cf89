/*
 * mbox.h - device management of a Type 3 memdev: its primary mailbox
 * (command interface), event logs, poison list, label storage area,
 * partitions, sanitize, security, timestamps, firmware slots, health and
 * alert configuration, and its CDAT.
 *
 * Each memdev gets a struct cx_mbox_state (m->mbox) from cx_mbox_init(),
 * called after cx_fabric_start() because commands act on the media.
 * Commands are executed with cx_mbox_exec(): opcode plus input payload in,
 * CXL return code plus output payload out, byte for byte as the CXL
 * specification (r3.1, §8.2.9) lays them out (see spec/mbox.h).
 *
 * Background commands (Sanitize, Scan Media, Transfer FW, Media
 * Operations) return "background command started" and complete when the
 * mailbox clock passes their deadline; completion is checked on every
 * call (cx_mbox_poll() does only that).  The clock is CLOCK_MONOTONIC
 * unless a test injects its own with cx_mbox_set_clock().
 *
 * Persistence: the LSA is the memdev's `lsa` media, so labels live in the
 * lsa backend's file.  A few device settings that real devices keep in
 * flash (the partition that applies at the next restart, the shutdown
 * state and dirty shutdown count, firmware slots) are kept by the media
 * layer in a sidecar file beside the device's file-backed media
 * (media/sidecar.h).  Without any file-backed media they live only as
 * long as the fabric.
 *
 * Thread safety: every public function takes the device's lock (shared by
 * the heads of a multi-headed device), so the data path
 * (cx_mbox_access_check) may run beside commands.
 *
 * Files, one per command set: mbox.c (the command table, dispatch,
 * background operations, timestamps, the CEL), device.c (state from init
 * to free, identify, partitions, LSA), firmware.c, health.c (health,
 * alerts, shutdown state), sanitize.c (sanitize, secure erase, media
 * operations), security.c, events.c (event logs), poison.c (poison list,
 * scan media); cdat.c (the CDAT table).
 */
#ifndef CXLEMU_MODEL_MBOX_H
#define CXLEMU_MODEL_MBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/sidecar.h"  /* what outlives the fabric; CX_FW_SLOTS */
#include "model/model.h"
#include "spec/cci.h"
#include "spec/mbox.h"

/* ---- limits of the emulated device ---- */
#define CX_EVLOG_CAPACITY      32     /* records per event log */
#define CX_DC_MAX_EXTENTS      512    /* extents a DCD tracks (all heads,
					 accepted and pending), as QEMU */
#define CX_DC_MAX_TAGS         64     /* distinct tags it tracks */
#define CX_DC_BLOCK_DEFAULT    (2ULL << 20)   /* QEMU's block size */
#define CX_DC_BLOCK_SIZES      0x1fe00000ULL  /* supported: 2..256 MiB */
#define CX_MBOX_MAX_HEADS      32     /* heads of one device (LD ids) */
#define CX_POISON_BACKUP_MAX   65536  /* poison kept beyond the list */
#define CX_FW_MAX_SIZE         (32u << 20)
#define CX_PASS_TRY_LIMIT      3      /* wrong passphrases before limit */

/* ---- public API ---- */

/* Attach mailbox state to a started memdev (applies a pending partition
 * from the sidecar file); idempotent. */
int cx_mbox_init(struct cx_memdev *m, cx_err *e);
/* Record a clean shutdown in the sidecar and free the state; NULL-safe.
 * cx_fabric_free() calls cx_mbox_free_fabric() itself; calling it first
 * is harmless. */
void cx_mbox_free(struct cx_memdev *m);
/* cx_mbox_init / cx_mbox_free for every memdev of every host; memdevs
 * whose backends share media become heads of one device
 * (struct cx_mbox_device). */
int cx_mbox_init_fabric(struct cx_fabric *f, cx_err *e);
void cx_mbox_free_fabric(struct cx_fabric *f);

/*
 * Execute one command.  `in` holds in_len bytes (at most
 * CX_MBOX_PAYLOAD_MAX, else rc "invalid payload length").  `out` receives
 * the output payload: pass *out_len = its capacity (CX_MBOX_PAYLOAD_MAX
 * always suffices); on return *out_len is the output length (bytes past
 * the capacity are dropped).  *rc is the CXL return code.  Returns 0 when
 * the command was delivered, -EINVAL for a memdev without mailbox state.
 */
int cx_mbox_exec(struct cx_memdev *m, uint16_t opcode, const void *in,
		 size_t in_len, void *out, size_t *out_len, uint16_t *rc);

/* Monotonic nanoseconds; tests inject a fake clock. */
typedef uint64_t (*cx_mbox_clock_fn)(void *ctx);
void cx_mbox_set_clock(struct cx_memdev *m, cx_mbox_clock_fn fn, void *ctx);

/* How long background commands take (0 = the default rule). */
struct cx_mbox_timing {
	uint64_t sanitize_ms;     /* default: QEMU's table, 4 s per 512 MiB
				     .. 4 h */
	uint64_t scan_ms;         /* default: QEMU's estimate, 500 ns per 64 B
				     line, at least 1 ms */
	uint64_t fw_part_ms;      /* default 20 ms per Transfer FW part */
	uint64_t fw_full_ms;      /* default 200 ms for a full transfer */
};
void cx_mbox_set_timing(struct cx_memdev *m, const struct cx_mbox_timing *t);

/* Complete a background command whose time is up. */
void cx_mbox_poll(struct cx_memdev *m);

/* What the mailbox registers show (§8.2.8.4.6-7, §8.2.8.5). */
struct cx_mbox_status {
	bool bg_running;          /* Mailbox Status: background operation */
	uint16_t bg_opcode;       /* Background Command Status register */
	uint8_t bg_percent;
	uint16_t bg_rc;
	int media_status;         /* Memory Device Status [3:2]: 1 ready,
				     3 disabled */
	uint32_t event_status;    /* Device Status: bit n = log n not empty */
	bool sanitize_done;       /* a sanitize completed since init */
};
int cx_mbox_status(struct cx_memdev *m, struct cx_mbox_status *out);

/*
 * The data path's check before touching media: 0 when [dpa, dpa+len) may
 * be accessed; -EIO for a read that covers a poisoned 64-byte line (the
 * first bad DPA in *first_bad), -ENXIO while the media is disabled
 * (sanitize running or failed), -EACCES for persistent capacity while the
 * device is locked.  Writes do not clear poison.
 */
int cx_mbox_access_check(struct cx_memdev *m, uint64_t dpa, uint64_t len,
			 bool write, uint64_t *first_bad, cx_err *e);
/* 1 when a line of [dpa, dpa+len) is poisoned (first one in *first_bad),
 * 0 when clean or the memdev has no mailbox state. */
int cx_poison_check(struct cx_memdev *m, uint64_t dpa, uint64_t len,
		    uint64_t *first_bad);

/* Why this memdev's media cannot be erased now (what makes Sanitize,
 * Secure Erase or, for `opcode` Media Operations, a ranged erase return
 * Busy), as a sentence naming the head that holds it: a background
 * operation, a committed decoder on this or (for a ranged erase, only)
 * another head of the device, another head's sanitize or ranged erase.
 * 0 and "" when nothing does. */
int cx_mbox_busy_reason(struct cx_memdev *m, uint16_t opcode, char *buf,
			size_t len);

/* Conventional reset: abort a background command, lock the device if a
 * user passphrase is set, clear freeze and retry counts, activate a staged
 * firmware slot.  (A pending partition only applies at fabric restart.) */
void cx_mbox_reset(struct cx_memdev *m);

/*
 * The command table (mbox.c), one row per command: the Command Effects Log
 * is built from it, the dispatcher checks lengths and states by it, the
 * CLI names commands and the fuzzers pick opcodes from it.
 */
struct cx_mbox_state;
typedef uint16_t cx_mbox_handler(struct cx_memdev *m, struct cx_mbox_state *st,
				 const uint8_t *in, size_t in_len,
				 uint8_t *out, size_t *out_len);
/* A background command's end: completed, or aborted part way. */
typedef void cx_mbox_done(struct cx_mbox_state *st, bool aborted);

#define CX_MBOX_VAR (-1)           /* in_len: variable, at least in_min */
enum {
	CX_MBOX_F_BLOCK_DISABLED = 1 << 0, /* "media disabled" while the
					      media is disabled */
	CX_MBOX_F_DCD = 1 << 1,            /* only on a device with dynamic
					      capacity (else unsupported,
					      and not in its CEL) */
	CX_MBOX_F_WIPES = 1 << 2,          /* destroys media contents: held
					      back while an earlier daemon's
					      programs still map copies */
};

struct cx_mbox_cmd_info {
	uint16_t opcode;
	const char *name;          /* "Identify Memory Device" */
	int in_len;                /* exact input length, CX_MBOX_VAR */
	int in_min;                /* CX_MBOX_VAR: shortest valid input */
	uint16_t effects;          /* CEL effects */
	unsigned flags;            /* CX_MBOX_F_* */
	cx_mbox_handler *handler;
	cx_mbox_done *done;        /* background commands: their end */
};
int cx_mbox_commands(const struct cx_mbox_cmd_info **out); /* count */
const char *cx_mbox_opcode_name(uint16_t opcode); /* NULL if unknown */
/* Does the command destroy media contents (CX_MBOX_F_WIPES)? */
bool cx_mbox_wipes(uint16_t opcode);
/* Does this memdev's mailbox have the command (its CEL lists it)? */
bool cx_mbox_has_command(const struct cx_memdev *m,
			 const struct cx_mbox_cmd_info *c);

/* ---- dynamic capacity (dcd.c): what the device grants, per head ----
 *
 * A device with num-dc-regions has that many DC regions after its static
 * capacity.  Capacity reaches a head (a host) as extents: the fabric
 * manager offers them (model/fm.h: Initiate Dynamic Capacity Add), the
 * head's event log says so (Add Capacity records, one per extent, the
 * More flag chaining them), and the host accepts or rejects them with Add
 * Dynamic Capacity Response; it gives capacity back with Release Dynamic
 * Capacity, or the FM takes it (forced release).  Every block of a
 * region is held by at most one head, unless the region is sharable and
 * the extents carry a tag: then every head given that tag holds the same
 * blocks.  A block no head holds any more is zeroed, so nothing leaks to
 * the next owner. */
struct cx_dc_extent {
	uint64_t dpa, len;
	uint8_t tag[CX_DC_TAG_LEN];   /* all zero: untagged */
	uint16_t seq;                 /* shared extent sequence */
};
/* The head's accepted extents, in the order of its extent list (index,
 * as Get Dynamic Capacity Extent List gives them); -EINVAL without
 * dynamic capacity.  *gen is the extent list generation number. */
int cx_dcd_extents(struct cx_memdev *m, struct cx_dc_extent **out, int *n,
		   uint32_t *gen);
/* What is offered to the head and not yet answered: every extent of
 * every pending Add Capacity chain, oldest first. */
int cx_dcd_pending(struct cx_memdev *m, struct cx_dc_extent **out, int *n);
/* Why the head's last dynamic capacity command failed ("" if none). */
void cx_dcd_last_error(struct cx_memdev *m, char *buf, size_t len);
/* The device's DC regions as the host sees them (4800h). */
struct cx_dc_region_info {
	uint64_t base, len, block_size;
	bool sanitize_on_release, sharable;
};
int cx_dcd_regions(struct cx_memdev *m, struct cx_dc_region_info *out,
		   int max);  /* count, 0 without dynamic capacity */
/* This head's id on its device (its LD id: the order in which the
 * device's heads were declared, host by host), and the head count. */
int cx_mbox_head_id(struct cx_memdev *m, int *nheads);

/* ---- fault injection, as QEMU's QMP commands take it ---- */

/* "informational", "warning", "failure", "fatal", "dynamic-capacity" ->
 * log; also accepts info, warn, fail.  Returns -EINVAL otherwise. */
int cx_event_log_parse(const char *s, enum cx_event_log *out);

/* cxl-inject-poison: start and length multiples of 64, within capacity,
 * no overlap with existing poison; source Internal.  Past the list limit
 * the record is kept aside and the list reports overflow. */
int cx_inject_poison(struct cx_memdev *m, uint64_t start, uint64_t len,
		     cx_err *e);

/* What cxl-inject-general-media-event and cxl-inject-dram-event share:
 * the fields both records hold at the same offsets. */
struct cx_media_event {
	enum cx_event_log log;
	uint8_t flags;             /* event record flags byte 0 */
	uint64_t dpa;              /* low bits carry the record's flags */
	uint8_t descriptor, type, transaction_type;
	bool has_channel, has_rank;
	uint8_t channel, rank;
};

/* cxl-inject-general-media-event */
struct cx_gm_event {
	struct cx_media_event media;
	bool has_device, has_component_id;
	uint32_t device;           /* 24 bits */
	char component_id[16];     /* up to 16 bytes, not NUL terminated */
};
int cx_inject_general_media(struct cx_memdev *m, const struct cx_gm_event *ev,
			    cx_err *e);

/* cxl-inject-dram-event */
struct cx_dram_event {
	struct cx_media_event media;
	bool has_nibble_mask, has_bank_group, has_bank, has_row, has_column,
	     has_correction_mask;
	uint8_t bank_group, bank;
	uint32_t nibble_mask, row; /* 24 bits each */
	uint16_t column;
	uint64_t correction_mask[4];
};
int cx_inject_dram(struct cx_memdev *m, const struct cx_dram_event *ev,
		   cx_err *e);

/* Device health (what Get Health Info reports; the additional status is
 * derived from these and the alert configuration). */
struct cx_health {
	uint8_t health_status;     /* CX_HS_* bits */
	uint8_t media_status;      /* 0..9 */
	uint8_t life_used;         /* percent, 0xff = not implemented */
	int16_t temperature;       /* degrees C, 0x7fff = unknown */
	uint32_t dirty_shutdowns;
	uint32_t cor_volatile, cor_persistent;
};
/* Set the device's health (no event). */
int cx_inject_health(struct cx_memdev *m, const struct cx_health *h,
		     cx_err *e);
int cx_get_health(struct cx_memdev *m, struct cx_health *h);

/* cxl-inject-memory-module-event: logs the record and, since a memory
 * module event reports a change of the device's health, also makes the
 * given health the device's (additional_status goes into the record). */
struct cx_mm_event {
	enum cx_event_log log;
	uint8_t flags;
	uint8_t type;              /* device event type */
	struct cx_health health;
	uint8_t additional_status;
};
int cx_inject_memory_module(struct cx_memdev *m, const struct cx_mm_event *ev,
			    cx_err *e);

/* ---- CDAT ---- */
/* Bytes of the memdev's CDAT: header, then per partition (volatile, then
 * persistent) a DSMAS, four DSLBIS (read/write latency, read/write
 * bandwidth) and a DSEMTS. */
size_t cx_cdat_size(const struct cx_memdev *m);
/* The DSMAS handle of DC region i (after the static partitions'). */
uint32_t cx_cdat_dc_handle(const struct cx_memdev *m, int i);
int cx_cdat_build(const struct cx_memdev *m, uint8_t *buf, size_t cap,
		  size_t *len, cx_err *e);

/* ====================================================================
 * Internal: the state and what the model files share.  Outside the
 * mailbox files, use the functions above.
 * ==================================================================== */

struct cx_event_log_state {
	uint8_t recs[CX_EVLOG_CAPACITY][CX_EVENT_RECORD_SIZE]; /* oldest first */
	int n;
	uint16_t next_handle;      /* never 0 */
	uint16_t overflow_count;
	uint64_t first_overflow_ts, last_overflow_ts;
	uint8_t int_setting;       /* Event Interrupt Policy byte */
};

struct cx_poison_rec {
	uint64_t start, len;       /* bytes, 64 B granular */
	uint8_t source;            /* enum cx_poison_source */
};
struct cx_poison_list {
	struct cx_poison_rec *v;
	int n, cap;
};

/*
 * What the heads of one device share: the state of the media itself.
 * Hosts whose backends name one file hold heads of one device (a
 * multi-headed device); each head keeps its own mailbox state (event
 * logs, security, firmware, partitions, health), but a poisoned line is
 * poisoned for every head, a sanitize disables and clears the media under
 * all of them, and an erase is refused while any head has the media
 * mapped by a committed decoder.  One lock covers every head's state.
 */
/* Dynamic capacity: a region (device-wide) and a head's extents. */
struct cx_dc_region {
	uint64_t base, len;        /* DPA, bytes */
	uint64_t block_size;       /* CX_DC_BLOCK_SIZES has it */
	bool sanitize_on_release;
	bool sharable;             /* tagged extents may go to several
				      heads (a multi-headed device's) */
};
struct cx_dc_list {
	struct cx_dc_extent *v;
	int n, cap;
};
struct cx_dc_head {
	struct cx_dc_list accepted;   /* the extent list */
	cx_vec pending;               /* struct cx_dc_list *: Add Capacity
					 chains not yet answered, oldest
					 first */
	uint32_t generation;          /* moves on when `accepted` changes */
	char why[256];                /* the last refusal, as a sentence */
};

struct cx_mbox_device {
	pthread_mutex_t lock;
	cx_vec heads;              /* struct cx_mbox_state *, init order */
	/* dynamic capacity (dcd.c): the regions; each head's extents are
	 * in its struct cx_dc_head */
	int dc_nregions;
	struct cx_dc_region dc_region[CX_DC_MAX_REGIONS];
	uint64_t dc_base;          /* DPA of region 0 */
	/* poison */
	struct cx_poison_list poison;      /* what Get Poison List reports */
	struct cx_poison_list poison_bkp;  /* beyond the list limit */
	bool poison_overflow;
	uint64_t poison_overflow_ts;
	/* sanitize running (on `sanitizing`) or not yet successful */
	bool media_disabled;
	struct cx_mbox_state *sanitizing;
};

struct cx_mbox_state {
	pthread_mutex_t *lock;     /* the device's */
	struct cx_mbox_device *dev;
	struct cx_memdev *m;
	cx_mbox_clock_fn clock;
	void *clock_ctx;
	struct cx_mbox_timing timing;
	char *sidecar;             /* path, or NULL when nothing persists */

	/* background operation */
	struct {
		bool running;
		uint16_t opcode;
		uint64_t start_ns, duration_ns;
		uint16_t rc;           /* of the last completed one */
		uint8_t percent;
		/* what the operation does on completion */
		uint8_t fill;          /* media operations: 0 or 0xff pattern */
		uint32_t nranges;
		uint64_t (*ranges)[2]; /* media operations: dpa, length */
		uint8_t fw_action, fw_slot;
	} bg;

	bool sanitize_done;

	/* events */
	struct cx_event_log_state logs[CX_EVLOG_COUNT];

	/* poison (the list itself is the device's) */
	struct cx_poison_list scan_results;
	bool scan_has_run;
	bool scan_stopped;         /* aborted: results are partial */
	uint64_t scan_dpa, scan_len;
	bool scan_no_event_log;
	struct {                   /* Get Poison List continuation (MORE) */
		bool active;
		uint64_t dpa, len;
		int next;
	} gpl;
	struct {                   /* Get Scan Media Results continuation */
		int next;
	} smr;

	/* timestamps */
	bool ts_set;
	uint64_t ts_host, ts_set_at_ns;

	/* partitions (256 MiB granular) */
	uint64_t vol_only, pers_only, partitionable;
	uint64_t part_vol;         /* partitionable bytes now volatile */
	bool part_next_pending;
	uint64_t part_next_vol;

	/* firmware */
	struct {
		int active, staged;    /* slots 1..CX_FW_SLOTS, staged 0 = none */
		bool present[CX_FW_SLOTS];
		char rev[CX_FW_SLOTS][CX_FW_REV_LEN];
		bool transferring;
		uint64_t prev_off, prev_len, size;
		uint32_t hash;         /* FNV-1a over the transferred image */
		uint64_t last_part_ns;
	} fw;

	/* health, alerts, shutdown */
	struct cx_health health;
	struct {
		uint8_t enabled;       /* CX_ALERT_* warnings enabled */
		uint8_t life_crit, life_warn;
		int16_t over_crit, under_crit, over_warn, under_warn;
		uint16_t cor_vol_warn, cor_per_warn;
	} alert;
	bool shutdown_dirty;

	/* security */
	uint32_t sec_state;        /* CX_SEC_* bits */
	uint8_t user_pass[CX_PASSPHRASE_LEN], master_pass[CX_PASSPHRASE_LEN];
	int user_tries, master_tries;

	/* dynamic capacity granted to this head (dcd.c) */
	struct cx_dc_head dc;

	uint8_t obuf[CX_MBOX_PAYLOAD_MAX];
};

/*
 * What the mailbox files share.  Handlers (cx_mbox_handler) run with the
 * device's lock held, after the dispatcher checked the input length and
 * the busy and media-disabled rules of their table row.
 */

/* mbox.c: the table, dispatch, background operations, the clock */
cx_mbox_handler cx_cmd_bg_status, cx_cmd_bg_abort, cx_cmd_get_timestamp,
	cx_cmd_set_timestamp, cx_cmd_get_supported_logs, cx_cmd_get_log;
uint64_t cx_mbox_monotonic_ns(void *ctx);             /* the default clock */
uint64_t cx_mbox_now(struct cx_mbox_state *st);
uint64_t cx_mbox_timestamp(struct cx_mbox_state *st); /* device time, ns */
uint64_t cx_mbox_capacity(const struct cx_memdev *m);  /* vmem + pmem */
void cx_mbox_bg_start(struct cx_mbox_state *st, uint16_t opcode,
		      uint64_t duration_ms);
uint8_t cx_mbox_bg_percent(struct cx_mbox_state *st);
/* End the background command (its row's `done` runs). */
void cx_mbox_bg_complete(struct cx_mbox_state *st, bool aborted);
/* Complete what is due on every head of st's device. */
void cx_mbox_poll_locked(struct cx_mbox_state *st);
/* Called first on a thread other than the daemon's request thread: its
 * mailbox calls then finish only firmware transfers that are due, never
 * a background command whose completion rewrites media (mbox.c). */
void cx_mbox_thread_off_media(void);

/* device.c: state, settings kept in flash, identify, partitions, LSA */
cx_mbox_handler cx_cmd_identify, cx_cmd_get_partition, cx_cmd_set_partition,
	cx_cmd_get_lsa, cx_cmd_set_lsa;
/* Write the settings that outlive the fabric, when they can persist. */
void cx_mbox_save_settings(struct cx_mbox_state *st);
/* Write bytes at a DPA (split across vmem/pmem); -ERANGE past the end. */
int cx_dpa_write(struct cx_memdev *m, uint64_t dpa, const void *buf,
		 uint64_t len, cx_err *e);
int cx_dpa_fill(struct cx_memdev *m, uint64_t dpa, uint8_t byte,
		uint64_t len, cx_err *e);

/* firmware.c */
cx_mbox_handler cx_cmd_get_fw_info, cx_cmd_transfer_fw, cx_cmd_activate_fw;
cx_mbox_done cx_fw_transfer_done;

/* health.c */
cx_mbox_handler cx_cmd_get_health, cx_cmd_get_alert, cx_cmd_set_alert,
	cx_cmd_get_shutdown, cx_cmd_set_shutdown;

/* sanitize.c */
cx_mbox_handler cx_cmd_sanitize, cx_cmd_secure_erase, cx_cmd_media_ops;
cx_mbox_done cx_sanitize_done, cx_media_ops_done;
/* A head maps the media with a committed decoder, or another head's
 * sanitize or ranged erase runs. */
bool cx_mbox_media_in_use(struct cx_mbox_state *st);
/* Zero the device's media and LSA and clear its poison. */
void cx_mbox_erase_media(struct cx_memdev *m, struct cx_mbox_state *st);

/* security.c */
cx_mbox_handler cx_cmd_get_security, cx_cmd_set_passphrase,
	cx_cmd_disable_passphrase, cx_cmd_unlock, cx_cmd_freeze,
	cx_cmd_passphrase_erase;

/* events.c */
cx_mbox_handler cx_cmd_get_event_records, cx_cmd_clear_event_records,
	cx_cmd_get_event_int_policy, cx_cmd_set_event_int_policy;
/* Append a 128-byte record (handle and timestamp filled in here);
 * counts overflow when the log is full. */
void cx_events_add(struct cx_mbox_state *st, enum cx_event_log log,
		   const uint8_t *rec);
void cx_events_clear_all(struct cx_mbox_state *st);
/* Fill a record's common header. */
void cx_event_header(uint8_t *rec, const uint8_t *uuid, uint8_t flags);

/* dcd.c */
cx_mbox_handler cx_cmd_get_dc_config, cx_cmd_get_dc_extent_list,
	cx_cmd_add_dc_response, cx_cmd_release_dc;
/* A refusal (or what was done) as a sentence into buf; returns rc. */
uint16_t cx_dc_why(char *buf, size_t len, uint16_t rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Payload pieces 4800h/4801h share with the FM-API (fm.c). */
void cx_dc_extent_put(uint8_t *p, const struct cx_dc_extent *x);
void cx_dc_extent_get(const uint8_t *p, struct cx_dc_extent *x);
void cx_dc_tag_format(const uint8_t *tag, char *buf, size_t len);
void cx_dcd_put_region(uint8_t *p, const struct cx_mbox_device *dev, int i);
void cx_dcd_put_trailer(struct cx_mbox_device *dev, uint8_t *p);
int cx_dcd_put_extents(const struct cx_dc_list *l, uint32_t start,
		       uint32_t count, uint8_t *p, size_t room);
int cx_dcd_used_extents(struct cx_mbox_device *dev);
int cx_dcd_used_tags(struct cx_mbox_device *dev);
int cx_dcd_head_index(const struct cx_mbox_state *st);
/* What a fabric manager asks of the device (fm.c), under its lock.  Each
 * returns a CXL return code and, in `why`, a sentence: the reason for a
 * refusal, or what was done. */
struct cx_dc_add_req {
	int host;                  /* head (LD id) */
	uint8_t policy;            /* CX_FM_SEL_* */
	int region;
	uint64_t length;           /* free, contiguous */
	uint8_t tag[CX_DC_TAG_LEN];
	int n;                     /* prescriptive: the extents */
	const struct cx_dc_extent *ext;
};
uint16_t cx_dcd_initiate_add(struct cx_mbox_device *dev,
			     const struct cx_dc_add_req *q, char *why,
			     size_t wl);
struct cx_dc_release_req {
	int host;
	uint8_t policy;            /* CX_FM_REL_* */
	bool forced;
	uint8_t tag[CX_DC_TAG_LEN];
	int n;
	const struct cx_dc_extent *ext;
};
/* Is [dpa, dpa+len) of the memdev's capacity in use by its host (mapped
 * by a program)?  Fills `why` when it is.  A release that is not forced
 * is refused (Busy) while it is. */
typedef bool cx_dcd_in_use_fn(void *ctx, struct cx_memdev *m, uint64_t dpa,
			      uint64_t len, char *why, size_t wl);
uint16_t cx_dcd_initiate_release(struct cx_mbox_device *dev,
				 const struct cx_dc_release_req *q,
				 cx_dcd_in_use_fn *in_use, void *ctx,
				 char *why, size_t wl);
uint16_t cx_dcd_set_region(struct cx_mbox_device *dev, int region,
			   uint64_t block_size, bool sanitize, char *why,
			   size_t wl);
/* Set up the device's DC regions from its first head's memdev. */
void cx_dcd_device_init(struct cx_mbox_device *dev, struct cx_memdev *m);

/*
 * The host's side (dcd_host.c), as Linux's DCD driver does it through
 * the mailbox: every complete Add Capacity chain in the DC event log is
 * accepted whole (accept) or rejected whole (an empty response); Release
 * Capacity records are answered with Release Dynamic Capacity unless
 * in_use says a program of the host still uses the extent (the release
 * then waits, its record kept); Forced Release records are noted.
 * Handled records are cleared; an incomplete chain stays for later.
 * `res` lists what happened (free with cx_dcd_host_result_free).
 */
struct cx_dcd_host_result {
	struct cx_dc_extent *added, *rejected, *released, *forced;
	int nadded, nrejected, nreleased, nforced;
};
int cx_dcd_host_service(struct cx_memdev *m, bool accept,
			cx_dcd_in_use_fn *in_use, void *ctx,
			struct cx_dcd_host_result *res, cx_err *e);
void cx_dcd_host_result_free(struct cx_dcd_host_result *res);
/* The host's exact path to dynamic capacity by DPA: refused (ENXIO)
 * unless the host holds every byte, as the device refuses it. */
int cx_dcd_read(struct cx_memdev *m, uint64_t dpa, void *buf, size_t len,
		cx_err *e);
int cx_dcd_write(struct cx_memdev *m, uint64_t dpa, const void *buf,
		 size_t len, cx_err *e);
/*
 * The DAX devices a host's accepted capacity forms, as Linux's DCD series
 * makes them: one per tag, its extents in shared-sequence order, and one
 * per untagged extent; in the order of their first extent in the host's
 * extent list.  Returns the count; free with cx_dcd_dax_free.
 */
struct cx_dcd_dax {
	uint8_t tag[CX_DC_TAG_LEN];
	bool tagged;
	int n;
	struct cx_dc_extent *ext;
	uint64_t size;
};
int cx_dcd_dax_devices(struct cx_memdev *m, struct cx_dcd_dax **out);
/* A dynamic_ram_a region (1 way, over DC region 0): its endpoint decoder
 * (NULL for any other region); the accepted extents of its memdev that
 * lie wholly inside the decoder's DPA range, which the region reaches at
 * HPA base + (DPA - decoder DPA base) (free *out); and the DAX devices
 * they form, daxR.K in this order. */
struct cx_decoder *cx_region_dc_decoder(const struct cx_region *r);
int cx_region_dc_extents(const struct cx_region *r, struct cx_dc_extent **out,
			 int *n);
int cx_region_dc_dax(const struct cx_region *r, struct cx_dcd_dax **out);
/* The first DPA of [dpa, dpa+len) that extents v[0..n) do not cover
 * (dpa + len or more: all covered). */
uint64_t cx_dc_covered(const struct cx_dc_extent *v, int n, uint64_t dpa,
		       uint64_t len);
/* Is [off, off+len) of the region inside accepted extents?  0 (also for
 * a region that is not dynamic_ram_a), or -ENXIO naming the first byte
 * that is not. */
int cx_region_dc_check(const struct cx_region *r, uint64_t off, uint64_t len,
		       cx_err *e);
void cx_dcd_dax_free(struct cx_dcd_dax *v, int n);
void cx_dcd_head_free(struct cx_mbox_state *st);
/* A head may reach [dpa, dpa+len) of its DC capacity: 0, or -ENXIO with
 * the reason (a range that is not all accepted by this head). */
int cx_dcd_access_check(struct cx_mbox_state *st, uint64_t dpa, uint64_t len,
			cx_err *e);

/* poison.c */
cx_mbox_handler cx_cmd_get_poison_list, cx_cmd_inject_poison,
	cx_cmd_clear_poison, cx_cmd_get_scan_media_caps, cx_cmd_scan_media,
	cx_cmd_get_scan_media_results;
void cx_poison_state_free(struct cx_mbox_state *st);   /* per head */
void cx_poison_dev_free(struct cx_mbox_device *dev);   /* the list */
void cx_poison_clear_all(struct cx_mbox_state *st);   /* after sanitize */
cx_mbox_done cx_scan_media_complete;
int cx_poison_find(struct cx_mbox_state *st, uint64_t dpa, uint64_t len,
		   uint64_t *first_bad);

#endif
