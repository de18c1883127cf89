/*
 * json.c - the fabric as ndctl's `cxl list` and daxctl print it.
 *
 * Every object is built with the keys in the order ndctl emits them, and
 * the listing is walked the way ndctl's cxl/filter.c walks sysfs: the bus
 * (root0), its root decoders and their regions, then each host bridge and
 * switch port depth first with its endpoints, memdevs and decoders.  When a
 * parent object is listed its children go into "<type>:<parent>" arrays
 * ("ports:root0", "decoders:port1", "regions:decoder0.0"); otherwise they go
 * to top-level containers ("ports", "root decoders", ...), which are spliced
 * into a plain array when only one kind is present, or wrapped as
 * single-key objects when several are.
 *
 * The target is what Linux 6.1 with ndctl 76 prints on QEMU (the captures
 * in shared/reference/real-outputs), with one newer key: regions carry
 * "type" ("pmem"/"ram"), as ndctl 77+ prints it on kernels with a region
 * mode attribute and as the seed lab's listing shows.  Ports print neither
 * "parent_dport" nor "decoders_committed" (not in the 6.1/76 captures).
 *
 * Device management (-H health, -A alert_config, -I partition_info, -F
 * firmware, -L media_errors) comes from the memdev's mailbox: the same
 * commands ndctl sends (Get Health Info, Get Alert Configuration, Identify
 * and Get Partition Info, Get FW Info, Get Poison List), decoded from their
 * payloads.  media_errors offsets are DPAs for a memdev and region-relative
 * HPA offsets for a region; an empty list leaves the key out.
 *
 * Numbers: without -u every value is a JSON integer; with -u sizes of at
 * least 5000 KiB become "256.00 MiB (268.44 MB)" strings and addresses and
 * ids become "%#llx" strings.  The strings are built here (rather than by a
 * json-c serializer, as ndctl does) so that a listing survives a trip over
 * the daemon's socket unchanged.
 *
 * Linux view of the model (see model.h for names): a "CXL port" is root0,
 * a host bridge or a switch upstream port (with decoders), or an endpoint
 * (a memdev).  Root ports and switch downstream ports are dports.
 */
#include "listing/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model/dax.h"
#include "model/view.h"
#include "model/fw_upload.h"
#include "model/mbox.h"

/* Linux's memory block size on x86-64 below 64 GiB of RAM (daxctl's
 * total_memblocks for system-ram devices). */

/* ---- numbers ---- */

static struct json_object *j_u64(uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return json_object_new_uint64(v);
	return json_object_new_int64((int64_t)v);
}

/*
 * ndctl's human size: below 5000 KiB the plain number; else centi-units
 * rounded half up, binary (MiB below 2 GiB, GiB below 2 TiB, then TiB)
 * with the decimal equivalent in parentheses.
 */
static void fmt_human_size(char *buf, size_t len, uint64_t bytes)
{
	static const struct { const char *bin, *dec; int shift; uint64_t div; }
	u[] = {
		{ "MiB", "MB", 20, 1000000ULL },
		{ "GiB", "GB", 30, 1000000000ULL },
		{ "TiB", "TB", 40, 1000000000000ULL },
	};
	int k;

	if (bytes < 5000ULL * 1024) {
		snprintf(buf, len, "%" PRIu64, bytes);
		return;
	}
	if (bytes < (2ULL << 30))
		k = 0;
	else if (bytes < (2ULL << 40))
		k = 1;
	else
		k = 2;
	unsigned __int128 cb = ((unsigned __int128)bytes * 200 >> u[k].shift);
	uint64_t cbin = (uint64_t)((cb + 1) / 2);
	uint64_t cdec = (bytes / (u[k].div / 200) + 1) / 2;
	snprintf(buf, len, "%" PRIu64 ".%02" PRIu64 " %s (%" PRIu64 ".%02" PRIu64
		 " %s)", cbin / 100, cbin % 100, u[k].bin, cdec / 100,
		 cdec % 100, u[k].dec);
}

static struct json_object *j_size(uint64_t v, bool human)
{
	char buf[96];

	if (!human || v < 5000ULL * 1024)
		return j_u64(v);
	fmt_human_size(buf, sizeof(buf), v);
	return json_object_new_string(buf);
}

static struct json_object *j_hex(uint64_t v, bool human)
{
	char buf[32];

	if (!human)
		return j_u64(v);
	snprintf(buf, sizeof(buf), "%#" PRIx64, v); /* "0" for zero */
	return json_object_new_string(buf);
}

struct json_object *cx_json_size(uint64_t v, bool human)
{
	return j_size(v, human);
}

struct json_object *cx_json_hex(uint64_t v, bool human)
{
	return j_hex(v, human);
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	add(o, key, json_object_new_string(s));
}

static void add_int(struct json_object *o, const char *key, int v)
{
	add(o, key, json_object_new_int(v));
}

/* ndctl's cond_add_put_array_suffix: attach "key:suffix" when non-empty. */
static void add_child_array(struct json_object *parent, const char *key,
			    const char *suffix, struct json_object *arr)
{
	char name[128];

	if (parent && arr && json_object_array_length(arr) > 0) {
		snprintf(name, sizeof(name), "%s:%s", key, suffix);
		add(parent, name, arr);
	} else {
		json_object_put(arr);
	}
}

static struct json_object *pick(struct json_object *child,
				struct json_object *container)
{
	return child ? child : container;
}

/* ---- filter tokens ---- */

/*
 * ndctl splits a filter on spaces (or commas) and ORs the items; we accept
 * either separator anywhere.  `fn` is asked about each item.
 */
typedef bool (*tok_fn)(const char *tok, const void *ctx);

static bool any_token(const char *filter, tok_fn fn, const void *ctx)
{
	const char *s = filter;
	char tok[512];

	while (*s) {
		size_t n;
		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		if (!*s)
			break;
		n = strcspn(s, " ,\t");
		if (n < sizeof(tok)) {
			memcpy(tok, s, n);
			tok[n] = 0;
			if (fn(tok, ctx))
				return true;
		}
		s += n;
	}
	return false;
}

/* A whole-token decimal number, optionally after `prefix`. */
static bool tok_num(const char *tok, const char *prefix, long *out)
{
	size_t pl = prefix ? strlen(prefix) : 0;
	char *end;

	if (pl && strncmp(tok, prefix, pl))
		return false;
	tok += pl;
	if (*tok < '0' || *tok > '9')
		return false;
	long v = strtol(tok, &end, 10);
	if (*end)
		return false;
	*out = v;
	return true;
}

static bool tok_id(const char *tok, const char *prefix, int id)
{
	long v;
	return (tok_num(tok, NULL, &v) || tok_num(tok, prefix, &v)) && v == id;
}

/* memdev: "all", N, memN, or the device's id= */
static bool memdev_tok(const char *tok, const void *ctx)
{
	const struct cx_memdev *m = ctx;
	return !strcmp(tok, "all") || tok_id(tok, "mem", m->index) ||
	       !strcmp(tok, m->qid);
}

static uint64_t memdev_serial(const struct cx_memdev *m)
{
	return m->has_sn ? m->sn : 0;
}

static bool serial_tok(const char *tok, const void *ctx)
{
	const struct cx_memdev *m = ctx;
	char *end;
	unsigned long long v = strtoull(tok, &end, 0);
	return *tok && !*end && v == memdev_serial(m);
}

static bool memdev_match(const struct cx_memdev *m, const char *ident,
			 const char *serials)
{
	if (ident && !any_token(ident, memdev_tok, m))
		return false;
	if (serials && !any_token(serials, serial_tok, m))
		return false;
	return true;
}

/* bus: "all", N, rootN, "root0", "ACPI.CXL" (one bus per host) */
static bool bus_tok(const char *tok, const void *ctx)
{
	(void)ctx;
	return !strcmp(tok, "all") || tok_id(tok, "root", 0) ||
	       !strcmp(tok, "ACPI.CXL");
}

static bool bus_match(const char *ident)
{
	return !ident || any_token(ident, bus_tok, NULL);
}

/* port: "all", "root", "switch", "endpoint", N, portN, name, host */
static bool port_tok(const char *tok, const void *ctx)
{
	const struct cx_vport *x = ctx;
	char name[64], host[64];

	if (!strcmp(tok, "all"))
		return true;
	if (!strcmp(tok, "root"))
		return x->kind == CX_VPORT_ROOT;
	if (!strcmp(tok, "switch"))
		return x->kind == CX_VPORT_SWITCH;
	if (!strcmp(tok, "endpoint"))
		return x->kind == CX_VPORT_ENDPOINT;
	if (tok_id(tok, "port", cx_vport_id(x)))
		return true;
	cx_vport_name(x, name, sizeof(name));
	cx_vport_host(x, host, sizeof(host));
	return !strcmp(tok, name) || !strcmp(tok, host);
}

/* ndctl's port filter: the port itself, or (ancestry mode, without -S)
 * any of its ancestors. */
static bool port_filter(const struct cx_vport *x, const char *ident, bool single)
{
	struct cx_vport it = *x;

	if (!ident)
		return true;
	for (;;) {
		if (any_token(ident, port_tok, &it))
			return true;
		if (single)
			return false;
		struct cx_vport up;
		if (!cx_vport_parent(&it, &up))
			return false;
		it = up;
	}
}

static bool endpoint_tok(const char *tok, const void *ctx)
{
	const struct cx_memdev *m = ctx;
	char name[32];

	snprintf(name, sizeof(name), "endpoint%d", m->endpoint_id);
	return !strcmp(tok, "all") || tok_id(tok, "endpoint", m->endpoint_id) ||
	       !strcmp(tok, name);
}

static bool region_tok(const char *tok, const void *ctx)
{
	const struct cx_region *r = ctx;
	return !strcmp(tok, "all") || tok_id(tok, "region", r->id);
}

static bool region_match(const struct cx_region *r, const char *ident)
{
	return !ident || any_token(ident, region_tok, r);
}

/* ---- decoders ---- */

static bool dec_maps_memdev(const struct cx_decoder *d, struct cx_memdev *m)
{
	struct cx_port *t[CX_MAX_WAYS];

	if (d->kind == CX_DEC_ENDPOINT)
		return d->memdev == m;
	int n = cx_view_dec_targets(d, t);
	for (int i = 0; i < n; i++)
		if (t[i] && cx_view_dport_maps_memdev(t[i], m))
			return true;
	return false;
}

struct dec_tok_ctx {
	const struct cx_decoder *d;
};

static bool decoder_tok(const char *tok, const void *ctx)
{
	const struct cx_decoder *d = ((const struct dec_tok_ctx *)ctx)->d;
	char name[48];
	int px, dy;
	char tail;

	if (!strcmp(tok, "all"))
		return true;
	if (!strcmp(tok, "root"))
		return d->kind == CX_DEC_ROOT;
	if (!strcmp(tok, "switch"))
		return d->kind == CX_DEC_SWITCH;
	if (!strcmp(tok, "endpoint"))
		return d->kind == CX_DEC_ENDPOINT;
	if ((sscanf(tok, "%d.%d%c", &px, &dy, &tail) == 2 ||
	     sscanf(tok, "decoder%d.%d%c", &px, &dy, &tail) == 2) &&
	    px == d->port_id && dy == d->id)
		return true;
	cx_decoder_name(d, name, sizeof(name));
	return !strcmp(tok, name);
}

static bool decoder_match(const struct cx_decoder *d, const char *ident)
{
	struct dec_tok_ctx c = { d };
	return !ident || any_token(ident, decoder_tok, &c);
}

/* ---- objects ---- */

/* ---- memdev device-management objects, from the mailbox as ndctl reads
 * them (cxl/json.c): each is built from the command's output payload; a
 * command that fails leaves its key out, as ndctl does. ---- */

static bool mbox_cmd(struct cx_memdev *m, uint16_t opcode, const void *in,
		     size_t in_len, uint8_t *out, size_t *out_len)
{
	uint16_t rc = 0;

	*out_len = CX_MBOX_PAYLOAD_MAX;
	return m->mbox && cx_mbox_exec(m, opcode, in, in_len, out, out_len,
				       &rc) == 0 && rc == CX_RC_SUCCESS;
}

static void add_bool(struct json_object *o, const char *key, bool v)
{
	add(o, key, json_object_new_boolean(v));
}

static const char *ext_level(unsigned v, bool has_critical)
{
	if (v == CX_HA_NORMAL)
		return "normal";
	if (v == CX_HA_WARNING)
		return "warning";
	if (v == CX_HA_CRITICAL && has_critical)
		return "critical";
	return "unknown";
}

/* -H: Get Health Info */
static struct json_object *health_json(struct cx_memdev *m)
{
	static const char *const media[] = {
		"media_normal", "media_not_ready", "media_persistence_lost",
		"media_data_lost", "media_powerloss_persistence_loss",
		"media_shutdown_persistence_loss",
		"media_persistence_loss_imminent", "media_powerloss_data_loss",
		"media_shutdown_data_loss", "media_data_loss_imminent",
	};
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n;

	if (!mbox_cmd(m, CX_OP_GET_HEALTH_INFO, NULL, 0, out, &n) ||
	    n < CX_HI_OUT_LEN)
		return NULL;
	struct json_object *j = json_object_new_object();
	uint8_t hs = out[CX_HI_HEALTH_STATUS], ms = out[CX_HI_MEDIA_STATUS];
	uint8_t ad = out[CX_HI_ADDITIONAL];
	add_bool(j, "maintenance_needed", hs & CX_HS_MAINT_NEEDED);
	add_bool(j, "performance_degraded", hs & CX_HS_PERF_DEGRADED);
	add_bool(j, "hw_replacement_needed", hs & CX_HS_HW_REPLACE);
	for (unsigned i = 0; i < CX_ARRAY_SIZE(media); i++)
		add_bool(j, media[i], ms == i);
	add_str(j, "ext_life_used",
		ext_level(ad >> CX_HA_LIFE_SHIFT & 3, true));
	add_str(j, "ext_temperature",
		ext_level(ad >> CX_HA_TEMP_SHIFT & 3, true));
	add_str(j, "ext_corrected_volatile",
		ext_level(ad & CX_HA_COR_VOLATILE ? CX_HA_WARNING :
			  CX_HA_NORMAL, false));
	add_str(j, "ext_corrected_persistent",
		ext_level(ad & CX_HA_COR_PERSISTENT ? CX_HA_WARNING :
			  CX_HA_NORMAL, false));
	if (out[CX_HI_LIFE_USED] != 0xff)
		add_int(j, "life_used_percent", out[CX_HI_LIFE_USED]);
	add_int(j, "temperature",
		(int16_t)cx_rd_le16(out + CX_HI_TEMPERATURE));
	add(j, "dirty_shutdowns", j_u64(cx_rd_le32(out + CX_HI_DIRTY_SHUTDOWNS)));
	add(j, "volatile_errors", j_u64(cx_rd_le32(out + CX_HI_COR_VOLATILE)));
	add(j, "pmem_errors", j_u64(cx_rd_le32(out + CX_HI_COR_PERSISTENT)));
	return j;
}

/* -A: Get Alert Configuration */
static struct json_object *alert_json(struct cx_memdev *m)
{
	static const char *const what[] = {
		"life_used", "dev_over_temperature", "dev_under_temperature",
		"corrected_volatile_mem_err", "corrected_pmem_err",
	};
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	char key[96];
	size_t n;

	if (!mbox_cmd(m, CX_OP_GET_ALERT_CONFIG, NULL, 0, out, &n) ||
	    n < CX_GAC_OUT_LEN)
		return NULL;
	struct json_object *j = json_object_new_object();
	for (unsigned i = 0; i < CX_ARRAY_SIZE(what); i++) {
		snprintf(key, sizeof(key), "%s_prog_warn_threshold_valid",
			 what[i]);
		add_bool(j, key, out[CX_GAC_VALID] & (1u << i));
	}
	for (unsigned i = 0; i < CX_ARRAY_SIZE(what); i++) {
		snprintf(key, sizeof(key), "%s_prog_warn_threshold_writable",
			 what[i]);
		add_bool(j, key, out[CX_GAC_PROGRAMMABLE] & (1u << i));
	}
	add_int(j, "life_used_crit_alert_threshold", out[CX_GAC_LIFE_CRIT]);
	add_int(j, "life_used_prog_warn_threshold", out[CX_GAC_LIFE_WARN]);
	add_int(j, "dev_over_temperature_crit_alert_threshold",
		(int16_t)cx_rd_le16(out + CX_GAC_OVER_TEMP_CRIT));
	add_int(j, "dev_under_temperature_crit_alert_threshold",
		(int16_t)cx_rd_le16(out + CX_GAC_UNDER_TEMP_CRIT));
	add_int(j, "dev_over_temperature_prog_warn_threshold",
		(int16_t)cx_rd_le16(out + CX_GAC_OVER_TEMP_WARN));
	add_int(j, "dev_under_temperature_prog_warn_threshold",
		(int16_t)cx_rd_le16(out + CX_GAC_UNDER_TEMP_WARN));
	add_int(j, "corrected_volatile_mem_err_prog_warn_threshold",
		cx_rd_le16(out + CX_GAC_COR_VOL_WARN));
	add_int(j, "corrected_pmem_err_prog_warn_threshold",
		cx_rd_le16(out + CX_GAC_COR_PER_WARN));
	return j;
}

/* -I: Identify, then Get Partition Info when the device is partitionable
 * (a non-zero alignment), as ndctl asks them. */
static struct json_object *partition_json(struct cx_memdev *m, bool human)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n;

	if (!m->mbox) {
		/* no mailbox (a fabric that was never started): what Identify
		 * would say of fixed partitions */
		struct json_object *p = json_object_new_object();
		add(p, "total_size", j_size(m->vmem_size + m->pmem_size, human));
		add(p, "volatile_only_size", j_size(m->vmem_size, human));
		add(p, "persistent_only_size", j_size(m->pmem_size, human));
		add(p, "partition_alignment_size", j_size(0, human));
		return p;
	}
	if (!mbox_cmd(m, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &n) ||
	    n < CX_ID_OUT_LEN)
		return NULL;
	struct json_object *p = json_object_new_object();
	uint64_t align = cx_rd_le64(out + CX_ID_PARTITION_ALIGN);
	add(p, "total_size", j_size(cx_rd_le64(out + CX_ID_TOTAL_CAP) *
				    CX_CAPACITY_UNIT, human));
	add(p, "volatile_only_size", j_size(cx_rd_le64(out +
		CX_ID_VOLATILE_CAP) * CX_CAPACITY_UNIT, human));
	add(p, "persistent_only_size", j_size(cx_rd_le64(out +
		CX_ID_PERSISTENT_CAP) * CX_CAPACITY_UNIT, human));
	add(p, "partition_alignment_size", j_size(align * CX_CAPACITY_UNIT,
						  human));
	if (!align || !mbox_cmd(m, CX_OP_GET_PARTITION_INFO, NULL, 0, out,
				&n) || n < CX_GPI_OUT_LEN)
		return p;
	static const struct { const char *key; size_t off; } f[] = {
		{ "active_volatile_size", CX_GPI_ACTIVE_VOLATILE },
		{ "active_persistent_size", CX_GPI_ACTIVE_PERSISTENT },
		{ "next_volatile_size", CX_GPI_NEXT_VOLATILE },
		{ "next_persistent_size", CX_GPI_NEXT_PERSISTENT },
	};
	for (unsigned i = 0; i < CX_ARRAY_SIZE(f); i++)
		add(p, f[i].key, j_size(cx_rd_le64(out + f[i].off) *
					CX_CAPACITY_UNIT, human));
	return p;
}

/* -F: Get FW Info, plus whether a transfer is running */
static struct json_object *firmware_json(struct cx_memdev *m, bool human)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	struct cx_mbox_status ms;
	char key[32], rev[CX_FW_REV_LEN + 1];
	size_t n;

	if (!mbox_cmd(m, CX_OP_GET_FW_INFO, NULL, 0, out, &n) ||
	    n < CX_FWI_OUT_LEN)
		return NULL;
	struct json_object *j = json_object_new_object();
	int slots = out[CX_FWI_SLOTS];
	int active = out[CX_FWI_SLOT_INFO] & 7;
	int staged = out[CX_FWI_SLOT_INFO] >> 3 & 7;
	add_int(j, "num_slots", slots);
	add_int(j, "active_slot", active);
	if (staged > 0 && staged <= slots)
		add_int(j, "staged_slot", staged);
	add_bool(j, "online_activate_capable",
		 out[CX_FWI_ACTIVATION_CAPS] & 1);
	for (int s = 1; s <= slots && s <= 4; s++) {
		memcpy(rev, out + CX_FWI_REV(s), CX_FW_REV_LEN);
		rev[CX_FW_REV_LEN] = 0;
		if (!rev[0])
			continue;
		snprintf(key, sizeof(key), "slot_%d_version", s);
		add_str(j, key, rev);
	}
	/* an upload through /sys/class/firmware (what ndctl reads), or a
	 * transfer part the device is busy with */
	struct cx_fwl_state fs;
	cx_fwl_state(m, &fs);
	bool busy = fs.progress != CX_FWL_IDLE ||
		    (cx_mbox_status(m, &ms) == 0 && ms.bg_running &&
		     ms.bg_opcode == CX_OP_TRANSFER_FW);
	add_bool(j, "fw_update_in_progress", busy);
	if (busy)
		add(j, "remaining_size", j_size(fs.remaining, human));
	return j;
}

static const char *poison_source_name(unsigned s)
{
	static const char *const names[] = {
		"Unknown", "External", "Internal", "Injected", "Reserved",
		"Reserved", "Reserved", "Vendor Specific",
	};
	return names[s & 7];
}

/*
 * Call fn for every record Get Poison List reports in [dpa, dpa+len),
 * following MORE, with the flags of the payload that carried it.
 */
typedef void (*poison_fn)(void *ctx, uint64_t dpa, uint64_t len,
			  unsigned source, uint8_t flags, uint64_t ovf_ts);
static void poison_walk(struct cx_memdev *m, uint64_t dpa, uint64_t len,
			poison_fn fn, void *ctx)
{
	uint8_t in[CX_GPL_IN_LEN], out[CX_MBOX_PAYLOAD_MAX];
	size_t n;

	cx_wr_le64(in + CX_GPL_DPA, dpa);
	cx_wr_le64(in + CX_GPL_LENGTH, len / CX_CACHELINE);
	for (int round = 0; round < 4096; round++) {
		if (!mbox_cmd(m, CX_OP_GET_POISON_LIST, in, sizeof(in), out,
			      &n) || n < CX_GPL_RECORDS)
			return;
		uint8_t flags = out[CX_GPL_FLAGS];
		uint64_t ts = cx_rd_le64(out + CX_GPL_OVERFLOW_TS);
		unsigned cnt = cx_rd_le16(out + CX_GPL_COUNT);
		for (unsigned i = 0; i < cnt; i++) {
			const uint8_t *rec = out + CX_GPL_RECORDS +
					     i * CX_MER_SIZE;
			if (CX_GPL_RECORDS + (i + 1) * CX_MER_SIZE > n)
				break;
			uint64_t a = cx_rd_le64(rec + CX_MER_ADDRESS);
			fn(ctx, a & ~(CX_CACHELINE - 1),
			   (uint64_t)cx_rd_le32(rec + CX_MER_LENGTH) *
			   CX_CACHELINE, (unsigned)(a & 7), flags, ts);
		}
		if (!(flags & CX_GPL_FLAG_MORE))
			return;
	}
}

/* One media_errors[] entry, as ndctl renders a cxl_poison trace record. */
static struct json_object *media_error_json(uint64_t offset, uint64_t len,
					    unsigned source, uint8_t flags,
					    uint64_t ts, bool human)
{
	struct json_object *j = json_object_new_object();
	char fl[40] = "";

	add(j, "offset", j_hex(offset, human));
	add(j, "length", j_size(len, human));
	add_str(j, "source", poison_source_name(source));
	if (flags) {
		if (flags & CX_GPL_FLAG_MORE)
			strcat(fl, "More,");
		if (flags & CX_GPL_FLAG_SCANNING)
			strcat(fl, "Scanning,");
		if (flags & CX_GPL_FLAG_OVERFLOW)
			strcat(fl, "Overflow,");
		add_str(j, "flags", fl);
	}
	if (flags & CX_GPL_FLAG_OVERFLOW)
		add(j, "overflow_t", j_hex(ts, human));
	return j;
}

struct memdev_poison_ctx {
	struct json_object *arr;
	bool human;
};

static void memdev_poison_rec(void *ctx, uint64_t dpa, uint64_t len,
			      unsigned source, uint8_t flags, uint64_t ts)
{
	struct memdev_poison_ctx *c = ctx;
	json_object_array_add(c->arr, media_error_json(dpa, len, source, flags,
						       ts, c->human));
}

/* -L for a memdev: its whole capacity, offsets are DPAs. */
static struct json_object *memdev_media_errors(struct cx_memdev *m, bool human)
{
	struct memdev_poison_ctx c = { json_object_new_array(), human };
	uint64_t cap = m->vmem_size + m->pmem_size;

	if (cap)
		poison_walk(m, 0, cap, memdev_poison_rec, &c);
	if (json_object_array_length(c.arr) == 0) {
		json_object_put(c.arr);
		return NULL;
	}
	return c.arr;
}

struct region_poison_ctx {
	struct json_object *arr;
	struct cx_region *r;
	struct cx_decoder *d;
	bool human;
};

static void region_poison_rec(void *ctx, uint64_t dpa, uint64_t len,
			      unsigned source, uint8_t flags, uint64_t ts)
{
	struct region_poison_ctx *c = ctx;
	const struct cx_decoder *d = c->d;
	uint64_t off;
	/* where the decoders put that DPA (XOR windows and 3/6/12-way
	 * regions included); the modulo formula when there is no table */
	if (cx_route_region_offset(c->r, d, dpa, &off))
		off = cx_hdm_base(&d->regs) - c->r->base +
		      cx_ep_hpa_offset(dpa - d->dpa_base, d->pos,
				       cx_hdm_ig(&d->regs),
				       cx_hdm_iw(&d->regs));
	json_object_array_add(c->arr, media_error_json(off, len, source, flags,
						       ts, c->human));
}

/* -L for a region: what lies in each member's DPA range, offsets are
 * relative to the region's start (HPA - resource). */
static struct json_object *region_media_errors(struct cx_region *r, bool human)
{
	struct region_poison_ctx c = { json_object_new_array(), r, NULL,
				       human };

	for (int pos = 0; r->committed && pos < r->ways; pos++) {
		struct cx_decoder *d = r->targets[pos];
		if (!d || !d->dpa_size || !d->memdev)
			continue;
		c.d = d;
		poison_walk(d->memdev, d->dpa_base, d->dpa_size,
			    region_poison_rec, &c);
	}
	if (json_object_array_length(c.arr) == 0) {
		json_object_put(c.arr);
		return NULL;
	}
	return c.arr;
}

static void add_opt(struct json_object *o, const char *key,
		    struct json_object *v)
{
	if (v)
		add(o, key, v);
}

/* ---- dynamic capacity ---- */

struct json_object *cx_json_dc_extents(const struct cx_dc_extent *v, int n,
				       bool human)
{
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();
		char tag[40];
		add(x, "offset", j_hex(v[i].dpa, human));
		add(x, "length", j_size(v[i].len, human));
		cx_dc_tag_format(v[i].tag, tag, sizeof(tag));
		add_str(x, "uuid", tag);
		if (v[i].seq)
			add_int(x, "shared_sequence", v[i].seq);
		json_object_array_add(a, x);
	}
	return a;
}

struct json_object *cx_json_dcd_dax(struct cx_memdev *m, bool human)
{
	struct cx_dcd_dax *v;
	int n = cx_dcd_dax_devices(m, &v);
	struct json_object *a = json_object_new_array();
	char name[32], tag[40];
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		snprintf(name, sizeof(name), "dcd%d.%d", m->index, i);
		add_str(o, "device", name);
		add(o, "size", j_size(v[i].size, human));
		if (v[i].tagged) {
			cx_dc_tag_format(v[i].tag, tag, sizeof(tag));
			add_str(o, "uuid", tag);
		}
		add(o, "extents", cx_json_dc_extents(v[i].ext, v[i].n, human));
		json_object_array_add(a, o);
	}
	cx_dcd_dax_free(v, n);
	return a;
}

/* cxlemu's own (-N on a memdev): the device's DC regions, the extents
 * this head holds and those offered to it, the generation number, the
 * head's LD id.  Linux keeps these in its driver and ndctl shows extents
 * only under a region; a fabric emulator has them to show. */
static struct json_object *dc_json(struct cx_memdev *m, bool human)
{
	struct cx_dc_region_info r[CX_DC_MAX_REGIONS];
	int nr = cx_dcd_regions(m, r, CX_DC_MAX_REGIONS), nheads, n;
	struct cx_dc_extent *v;
	uint32_t gen = 0;

	if (nr <= 0)
		return NULL;
	struct json_object *j = json_object_new_object();
	add_int(j, "head", cx_mbox_head_id(m, &nheads));
	add_int(j, "heads", nheads);
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < nr; i++) {
		struct json_object *x = json_object_new_object();
		add_int(x, "region", i);
		add(x, "base", j_hex(r[i].base, human));
		add(x, "size", j_size(r[i].len, human));
		add(x, "block_size", j_size(r[i].block_size, human));
		add_bool(x, "sharable", r[i].sharable);
		add_bool(x, "sanitize_on_release", r[i].sanitize_on_release);
		json_object_array_add(a, x);
	}
	add(j, "regions", a);
	if (cx_dcd_extents(m, &v, &n, &gen) == 0) {
		add_int(j, "generation", (int)gen);
		add(j, "extents", cx_json_dc_extents(v, n, human));
		free(v);
	}
	if (cx_dcd_pending(m, &v, &n) == 0) {
		if (n)
			add(j, "pending", cx_json_dc_extents(v, n, human));
		free(v);
	}
	add(j, "dax_devices", cx_json_dcd_dax(m, human));
	return j;
}

static struct json_object *memdev_json(struct cx_memdev *m,
				       const struct cx_list_opts *o)
{
	struct json_object *j = json_object_new_object();
	bool human = o->human;
	char name[32];

	snprintf(name, sizeof(name), "mem%d", m->index);
	add_str(j, "memdev", name);
	/* qos classes as ndctl >= 79 prints them (model/view.h) */
	int qos;
	if (m->pmem_size) {
		add(j, "pmem_size", j_size(m->pmem_size, human));
		if ((qos = cx_view_memdev_qos_class(m, CX_MODE_PMEM)) !=
		    CX_QOS_CLASS_NONE)
			add_int(j, "pmem_qos_class", qos);
	}
	if (m->vmem_size) {
		add(j, "ram_size", j_size(m->vmem_size, human));
		if ((qos = cx_view_memdev_qos_class(m, CX_MODE_RAM)) !=
		    CX_QOS_CLASS_NONE)
			add_int(j, "ram_qos_class", qos);
	}
	/* Linux's first dynamic RAM partition is DC region 0 */
	struct cx_dc_region_info dr;
	if (cx_dcd_regions(m, &dr, 1) > 0)
		add(j, "dynamic_ram_a_size", j_size(dr.len, human));
	if (o->health)
		add_opt(j, "health", health_json(m));
	if (o->alert)
		add_opt(j, "alert_config", alert_json(m));
	add(j, "serial", j_hex(memdev_serial(m), human));
	add_str(j, "host", m->qid);
	/* cxlemu's own: programs outside the fabric map its file too, so
	 * what a host maps of it is not scoped (README, "Scoped media") */
	if ((m->vmem && m->vmem->external) || (m->pmem && m->pmem->external))
		json_object_object_add(j, "externally_shared",
				       json_object_new_boolean(1));
	if (!cx_memdev_enabled(m))
		add_str(j, "state", "disabled");
	if (o->partition)
		add_opt(j, "partition_info", partition_json(m, human));
	if (o->firmware)
		add_opt(j, "firmware", firmware_json(m, human));
	if (o->media_errors)
		add_opt(j, "media_errors", memdev_media_errors(m, human));
	if (o->extents)
		add_opt(j, "dynamic_capacity", dc_json(m, human));
	return j;
}

static void dports_append(struct json_object *j, const struct cx_vport *x,
			  const struct cx_list_opts *o)
{
	struct cx_port *d[64];
	int n = cx_vport_dports(x, d, 64);
	char buf[64];

	if (!n || !o->targets)
		return;
	add_int(j, "nr_dports", n);
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < n && i < 64; i++) {
		bool keep = !o->memdev_filter && !o->serial_filter;
		for (int k = 0; !keep && k < x->h->memdevs.n; k++) {
			struct cx_memdev *m = x->h->memdevs.v[k];
			keep = memdev_match(m, o->memdev_filter,
					    o->serial_filter) &&
			       cx_view_dport_maps_memdev(d[i], m);
		}
		if (!keep)
			continue;
		struct json_object *jd = json_object_new_object();
		if (d[i]->kind == CX_PORT_HB) {
			snprintf(buf, sizeof(buf), "ACPI0016:%02x",
				 d[i]->hb_index);
			add_str(jd, "dport", buf);
			snprintf(buf, sizeof(buf), "pci0000:%02x",
				 d[i]->bus_nr & 0xff);
			add_str(jd, "alias", buf);
		} else {
			cx_view_pci_addr(d[i], buf, sizeof(buf));
			add_str(jd, "dport", buf);
		}
		add(jd, "id", j_hex((uint64_t)cx_view_dport_id(d[i]), o->human));
		json_object_array_add(arr, jd);
	}
	add(j, "dports", arr);
}

static struct json_object *bus_json(const struct cx_vport *root,
				    const struct cx_list_opts *o)
{
	struct json_object *j = json_object_new_object();

	add_str(j, "bus", "root0");
	add_str(j, "provider", "ACPI.CXL");
	dports_append(j, root, o);
	return j;
}

static struct json_object *port_json(const struct cx_vport *x,
				     const struct cx_list_opts *o)
{
	struct json_object *j = json_object_new_object();
	char buf[64];

	cx_vport_name(x, buf, sizeof(buf));
	add_str(j, x->kind == CX_VPORT_ENDPOINT ? "endpoint" : "port", buf);
	cx_vport_host(x, buf, sizeof(buf));
	add_str(j, "host", buf);
	add_int(j, "depth", x->kind == CX_VPORT_ENDPOINT ? x->m->depth : x->p->depth);
	if (x->kind == CX_VPORT_SWITCH && !cx_port_enabled(x->p))
		add_str(j, "state", "disabled");
	if (x->kind != CX_VPORT_ENDPOINT)
		dports_append(j, x, o);
	return j;
}

static struct json_object *decoder_json(struct cx_decoder *d,
					struct cx_host *h,
					const struct cx_list_opts *o)
{
	struct json_object *j = json_object_new_object();
	bool human = o->human;
	uint64_t size = cx_view_dec_size(d);
	int ways = cx_view_dec_ways(d);
	char buf[64];

	cx_decoder_name(d, buf, sizeof(buf));
	add_str(j, "decoder", buf);
	if (size) {
		add(j, "resource", j_hex(cx_view_dec_base(d), human));
		add(j, "size", j_size(size, human));
	}
	add_int(j, "interleave_ways", ways);
	if (ways > 1)
		add_int(j, "interleave_granularity", (int)cx_view_dec_gran(d));
	struct cx_region *r = cx_view_dec_region(d);
	if (r) {
		snprintf(buf, sizeof(buf), "region%d", r->id);
		add_str(j, "region", buf);
	}
	if (!size)
		add_str(j, "state", "disabled");
	if (d->kind == CX_DEC_ENDPOINT) {
		if (d->dpa_size) {
			add(j, "dpa_resource", j_hex(d->dpa_base, human));
			add(j, "dpa_size", j_size(d->dpa_size, human));
		}
		if (d->mode != CX_MODE_NONE)
			add_str(j, "mode", cx_mode_name(d->mode));
	}
	if (d->kind == CX_DEC_ROOT) {
		/* QEMU's CFMWs allow every kind of memory (restrictions
		 * default to all), as the captures show. */
		add(j, "max_available_extent",
		    j_size(cx_window_max_extent(d->window), human));
		add(j, "pmem_capable", json_object_new_boolean(true));
		add(j, "volatile_capable", json_object_new_boolean(true));
		add(j, "accelmem_capable", json_object_new_boolean(true));
		add_int(j, "qos_class", cx_view_window_qos_class(d->window));
		/* cxlemu's own keys, for XOR windows only: Linux keeps the
		 * arithmetic to itself, so modulo windows list as ndctl's */
		const struct cx_window *w = d->window;
		if (w->arith == CX_ARITH_XOR)
			add_str(j, "interleave_arithmetic", "xor");
		if (w->nxormaps) {
			struct json_object *maps = json_object_new_array();
			for (int i = 0; i < w->nxormaps; i++) {
				snprintf(buf, sizeof(buf), "%#llx",
					 (unsigned long long)w->xormap[i]);
				json_object_array_add(maps,
					json_object_new_string(buf));
			}
			add(j, "xormaps", maps);
		}
	}
	if (d->kind == CX_DEC_ENDPOINT)
		return j;

	/* targets: nr_targets always, the list with -T, highest position
	 * first as libcxl keeps them */
	struct cx_port *t[CX_MAX_WAYS];
	int n = cx_view_dec_targets(d, t);
	add_int(j, "nr_targets", n);
	if (!o->targets || !n)
		return j;
	struct json_object *arr = json_object_new_array();
	for (int i = n - 1; i >= 0; i--) {
		if (!t[i])
			continue;
		bool keep = !o->memdev_filter && !o->serial_filter;
		for (int k = 0; !keep && k < h->memdevs.n; k++) {
			struct cx_memdev *m = h->memdevs.v[k];
			keep = memdev_match(m, o->memdev_filter,
					    o->serial_filter) &&
			       cx_view_dport_maps_memdev(t[i], m);
		}
		if (!keep)
			continue;
		struct json_object *jt = json_object_new_object();
		if (t[i]->kind == CX_PORT_HB) {
			snprintf(buf, sizeof(buf), "ACPI0016:%02x",
				 t[i]->hb_index);
			add_str(jt, "target", buf);
			snprintf(buf, sizeof(buf), "pci0000:%02x",
				 t[i]->bus_nr & 0xff);
			add_str(jt, "alias", buf);
		} else {
			cx_view_pci_addr(t[i], buf, sizeof(buf));
			add_str(jt, "target", buf);
		}
		add_int(jt, "position", i);
		add(jt, "id", j_hex((uint64_t)cx_view_dport_id(t[i]), human));
		json_object_array_add(arr, jt);
	}
	add(j, "targets", arr);
	return j;
}

/* ---- DAX ---- */

/*
 * One device, daxZ.0, over the whole region, 2 MiB aligned.  Linux does
 * this for ram regions; for pmem regions it goes through an nvdimm
 * namespace whose metadata takes a few MiB (250 of 256 MiB in the
 * captures).  cxlemu has no namespace layer: a persistent region's device
 * spans all of it, too.  system-ram is what Linux picks for ram regions
 * (kmem); daxctl then reports the memory blocks (128 MiB each), onlined
 * movable as `cxl create-region` does.
 */
struct json_object *cx_json_dax_device(struct cx_region *r, unsigned flags)
{
	bool human = flags & CX_JSON_HUMAN;
	struct json_object *j = json_object_new_object();
	char name[32];

	snprintf(name, sizeof(name), "dax%d.0", r->id);
	add_str(j, "chardev", name);
	add(j, "size", j_size(r->size, human));
	add_int(j, "target_node", cx_region_target_node(r));
	add(j, "align", j_size(2ULL << 20, human));
	add_str(j, "mode", r->dax_system_ram ? "system-ram" : "devdax");
	/* not daxctl's: a device hosts map as non-coherent caches
	 * (cxlemu/coherency.h); absent for coherent ones, as daxctl */
	if (r->noncoherent)
		add_str(j, "coherency", "noncoherent");
	if (r->dax_system_ram && !r->dax_unbound) {
		add_int(j, "online_memblocks", cx_dax_online_blocks(r));
		add_int(j, "total_memblocks", cx_dax_blocks(r));
		add(j, "movable", json_object_new_boolean(true));
	}
	if (r->dax_unbound)
		add_str(j, "state", "disabled");
	return j;
}

/* The devices of a dynamic_ram_a region, daxR.K, as daxctl prints a
 * device (and the tag a tagged one carries, as "uuid"). */
static void dc_region_devices(struct cx_region *r, unsigned flags,
			      struct json_object *arr)
{
	bool human = flags & CX_JSON_HUMAN;
	struct cx_dcd_dax *v;
	int n = cx_region_dc_dax(r, &v);
	char name[32], tag[40];

	for (int i = 0; i < n; i++) {
		struct json_object *j = json_object_new_object();
		snprintf(name, sizeof(name), "dax%d.%d", r->id, i);
		add_str(j, "chardev", name);
		add(j, "size", j_size(v[i].size, human));
		add_int(j, "target_node", cx_region_target_node(r));
		add(j, "align", j_size(2ULL << 20, human));
		add_str(j, "mode", "devdax");
		if (v[i].tagged) {
			cx_dc_tag_format(v[i].tag, tag, sizeof(tag));
			add_str(j, "uuid", tag);
		}
		json_object_array_add(arr, j);
	}
	cx_dcd_dax_free(v, n);
}

void cx_json_dax_devices(struct cx_region *r, unsigned flags,
			 struct json_object *arr)
{
	if (r->mode == CX_MODE_DC)
		dc_region_devices(r, flags, arr);
	else
		json_object_array_add(arr, cx_json_dax_device(r, flags));
}

/* The extents a dynamic_ram_a region reaches, as ndctl's DCD series
 * lists them under the region: offset (in the region), length, uuid
 * (the tag). */
static struct json_object *region_extents(struct cx_region *r, bool human)
{
	struct cx_decoder *d = cx_region_dc_decoder(r);
	struct cx_dc_extent *x;
	int n;
	struct json_object *a = json_object_new_array();
	char tag[40];

	cx_region_dc_extents(r, &x, &n);
	for (int i = 0; d && i < n; i++) {
		struct json_object *o = json_object_new_object();
		add(o, "offset", j_hex(x[i].dpa - d->dpa_base, human));
		add(o, "length", j_size(x[i].len, human));
		cx_dc_tag_format(x[i].tag, tag, sizeof(tag));
		add_str(o, "uuid", tag);
		json_object_array_add(a, o);
	}
	free(x);
	return a;
}

/* daxctl's region object as `cxl list -X` nests it (no "path"). */
static struct json_object *dax_region_json(struct cx_region *r, unsigned flags)
{
	bool human = flags & CX_JSON_HUMAN;
	struct json_object *j = json_object_new_object();

	add_int(j, "id", r->id);
	add(j, "size", j_size(r->size, human));
	/* available_size is printed only when non-zero: the one device
	 * takes everything (a dynamic_ram_a region's devices take the
	 * accepted extents; the rest is not reachable, so not available) */
	add(j, "align", j_u64(2ULL << 20));
	struct json_object *devs = json_object_new_array();
	cx_json_dax_devices(r, flags, devs);
	add(j, "devices", devs);
	return j;
}

/* ---- regions ---- */

struct json_object *cx_json_region(struct cx_region *r, unsigned flags)
{
	bool human = flags & CX_JSON_HUMAN;
	struct json_object *j = json_object_new_object();
	char buf[48];

	snprintf(buf, sizeof(buf), "region%d", r->id);
	add_str(j, "region", buf);
	if (r->size) {
		add(j, "resource", j_hex(r->base, human));
		add(j, "size", j_size(r->size, human));
	}
	/* ndctl >= 77 prints the region mode as "type" (ndctl 76 on Linux
	 * 6.1 had no region mode to read); the seed lab shows it. */
	if (r->mode == CX_MODE_RAM || r->mode == CX_MODE_PMEM ||
	    r->mode == CX_MODE_DC)
		add_str(j, "type", cx_mode_name(r->mode));
	add_int(j, "interleave_ways", r->ways);
	add_int(j, "interleave_granularity", (int)r->gran);
	add_str(j, "decode_state", r->committed ? "commit" : "reset");
	if (!cx_region_serves(r))
		add_str(j, "state", "disabled");
	if (flags & CX_JSON_MEDIA_ERRORS)
		add_opt(j, "media_errors", region_media_errors(r, human));
	if ((flags & CX_JSON_MAPPINGS) && r->ways > 0) {
		struct json_object *arr = json_object_new_array();
		for (int pos = r->ways - 1; pos >= 0; pos--) {
			struct cx_decoder *d = r->targets[pos];
			if (!d)
				continue;
			struct json_object *jm = json_object_new_object();
			add_int(jm, "position", pos);
			snprintf(buf, sizeof(buf), "mem%d", d->memdev->index);
			add_str(jm, "memdev", buf);
			cx_decoder_name(d, buf, sizeof(buf));
			add_str(jm, "decoder", buf);
			json_object_array_add(arr, jm);
		}
		add(j, "mappings", arr);
	}
	if ((flags & CX_JSON_EXTENTS) && r->mode == CX_MODE_DC)
		add(j, "extents", region_extents(r, human));
	if ((flags & CX_JSON_DAX) && cx_region_serves(r))
		add(j, "daxregion", dax_region_json(r, flags));
	/* ndctl >= 79: a target whose memdev's class for the region's mode
	 * is not the root decoder's (create-region -Q refuses those) */
	bool mismatch = false;
	/* (a DC partition has no QoS class Linux 6.x reads yet) */
	for (int pos = 0; pos < r->ways && r->mode != CX_MODE_DC; pos++)
		mismatch |= r->targets[pos] &&
			    cx_view_memdev_qos_class(r->targets[pos]->memdev,
						     r->mode) !=
			    cx_view_window_qos_class(r->win);
	if (mismatch)
		add(j, "qos_class_mismatch", json_object_new_boolean(true));
	return j;
}

/* ---- the walk (ndctl cxl/filter.c) ---- */

struct walk {
	struct cx_host *h;
	const struct cx_list_opts *o;
	bool single;       /* port filter without ancestry */
	unsigned rflags;   /* cx_json_region flags */
};

static bool any_memdev_filter(const struct walk *w)
{
	return w->o->memdev_filter || w->o->serial_filter;
}

static bool memdev_pass(const struct walk *w, const struct cx_memdev *m)
{
	return memdev_match(m, w->o->memdev_filter, w->o->serial_filter);
}

static bool port_filter_by_memdev(const struct walk *w, const struct cx_vport *x)
{
	if (!any_memdev_filter(w))
		return true;
	for (int i = 0; i < w->h->memdevs.n; i++) {
		struct cx_memdev *m = w->h->memdevs.v[i];
		if (memdev_pass(w, m) && cx_vport_hosts_memdev(x, m))
			return true;
	}
	return false;
}

static bool decoder_filter_by_memdev(const struct walk *w,
				     const struct cx_decoder *d)
{
	if (!any_memdev_filter(w))
		return true;
	for (int i = 0; i < w->h->memdevs.n; i++) {
		struct cx_memdev *m = w->h->memdevs.v[i];
		if (memdev_pass(w, m) && dec_maps_memdev(d, m))
			return true;
	}
	return false;
}

static bool decoder_filter_by_region(const struct walk *w,
				     const struct cx_decoder *d)
{
	const char *ident = w->o->region_filter;

	if (!ident)
		return true;
	if (d->kind == CX_DEC_ROOT) {
		for (int i = 0; i < w->h->regions.n; i++) {
			struct cx_region *r = w->h->regions.v[i];
			if (r->win == d->window && region_match(r, ident))
				return true;
		}
		return false;
	}
	struct cx_region *r = cx_view_dec_region(d);
	return r && region_match(r, ident);
}

/* Every decoder of the host, for the memdev-by-decoder filter. */
static bool memdev_filter_by_decoder(const struct walk *w, struct cx_memdev *m)
{
	const char *ident = w->o->decoder_filter;
	struct cx_host *h = w->h;

	if (!ident)
		return true;
	for (int i = 0; i < h->windows.n; i++) {
		struct cx_window *win = h->windows.v[i];
		if (decoder_match(&win->dec, ident) &&
		    dec_maps_memdev(&win->dec, m))
			return true;
	}
	for (int i = 0; i < h->ports.n; i++) {
		struct cx_port *p = h->ports.v[i];
		for (int k = 0; k < p->ndecoders; k++)
			if (decoder_match(&p->decoders[k], ident) &&
			    dec_maps_memdev(&p->decoders[k], m))
				return true;
	}
	for (int k = 0; k < CX_DECODERS_PER_PORT; k++)
		if (decoder_match(&m->decoders[k], ident))
			return true;
	return false;
}

/* ndctl: a memdev passes the bus/port filter when a matching port (single
 * mode) has a dport leading to it; a matching bus counts as its root. */
static bool memdev_filter_by_port(const struct walk *w, struct cx_memdev *m)
{
	const char *bus = w->o->bus_filter, *port = w->o->port_filter;
	struct cx_host *h = w->h;

	if (!bus && !port)
		return true;
	if (bus_match(bus))
		return true; /* root0 matches itself and leads to every memdev */
	struct cx_vport root = cx_vport_root(h);
	if (port_filter(&root, port, true))
		return true;
	for (int i = 0; i < h->ports.n; i++) {
		struct cx_port *p = h->ports.v[i];
		if (p->kind != CX_PORT_HB && p->kind != CX_PORT_USP)
			continue;
		struct cx_vport x = cx_vport_switch(p);
		if (!port_filter(&x, port, true))
			continue;
		for (int c = 0; c < p->children.n; c++)
			if (cx_view_dport_maps_memdev(p->children.v[c], m))
				return true;
	}
	return false;
}

static void walk_regions(struct walk *w, struct cx_window *win,
			 struct json_object *jregions)
{
	const struct cx_list_opts *o = w->o;
	struct cx_vport root = cx_vport_root(w->h);

	for (int i = 0; i < w->h->regions.n; i++) {
		struct cx_region *r = w->h->regions.v[i];
		if (r->win != win)
			continue;
		if (!region_match(r, o->region_filter))
			continue;
		if (!bus_match(o->bus_filter))
			continue;
		if (!port_filter(&root, o->port_filter, false))
			continue;
		if (!decoder_match(&win->dec, o->decoder_filter))
			continue;
		if (!o->idle && !cx_region_serves(r))
			continue;
		json_object_array_add(jregions, cx_json_region(r, w->rflags));
	}
}

static void walk_one_decoder(struct walk *w, const struct cx_vport *x,
			     struct cx_decoder *d, struct json_object *jdecoders,
			     struct json_object *jregions)
{
	const struct cx_list_opts *o = w->o;
	struct json_object *jdecoder = NULL, *jchildregions = NULL;
	char name[48];

	cx_decoder_name(d, name, sizeof(name));
	if (o->decoders && decoder_match(d, o->decoder_filter) &&
	    bus_match(o->bus_filter) &&
	    port_filter(x, o->port_filter, w->single) &&
	    decoder_filter_by_memdev(w, d) && decoder_filter_by_region(w, d)) {
		if (!o->idle && cx_view_dec_size(d) == 0)
			return;
		jdecoder = decoder_json(d, w->h, o);
		if (o->regions && x->kind == CX_VPORT_ROOT)
			jchildregions = json_object_new_array();
		json_object_array_add(jdecoders, jdecoder);
	}
	if (!o->regions || x->kind != CX_VPORT_ROOT)
		return;
	walk_regions(w, d->window, pick(jchildregions, jregions));
	add_child_array(jdecoder, "regions", name, jchildregions);
}

static void walk_decoders(struct walk *w, const struct cx_vport *x,
			  struct json_object *jdecoders,
			  struct json_object *jregions)
{
	switch (x->kind) {
	case CX_VPORT_ROOT:
		for (int i = 0; i < w->h->windows.n; i++) {
			struct cx_window *win = w->h->windows.v[i];
			walk_one_decoder(w, x, &win->dec, jdecoders, jregions);
		}
		break;
	case CX_VPORT_SWITCH:
		for (int i = 0; i < x->p->ndecoders; i++)
			walk_one_decoder(w, x, &x->p->decoders[i], jdecoders,
					 jregions);
		break;
	default:
		for (int i = 0; i < CX_DECODERS_PER_PORT; i++)
			walk_one_decoder(w, x, &x->m->decoders[i], jdecoders,
					 jregions);
		break;
	}
}

static void walk_endpoints(struct walk *w, const struct cx_vport *parent,
			   struct json_object *jeps, struct json_object *jdevs,
			   struct json_object *jdecoders)
{
	const struct cx_list_opts *o = w->o;

	for (int i = 0; i < w->h->memdevs.n; i++) {
		struct cx_memdev *m = w->h->memdevs.v[i];
		struct json_object *jep = NULL, *jchilddecoders = NULL;
		struct cx_vport ep, up;
		char name[32];

		if (!cx_memdev_enabled(m))
			continue;
		ep = cx_vport_endpoint(m);
		if (!cx_vport_parent(&ep, &up) || !cx_vport_same(&up, parent))
			continue;
		cx_vport_name(&ep, name, sizeof(name));
		if (o->endpoint_filter &&
		    !any_token(o->endpoint_filter, endpoint_tok, m))
			continue;
		if (!bus_match(o->bus_filter))
			continue;
		if (!port_filter(&ep, o->port_filter, true) &&
		    !port_filter(&up, o->port_filter, w->single))
			continue;
		if (!memdev_pass(w, m))
			continue;
		if (o->endpoints) {
			jep = port_json(&ep, o);
			json_object_array_add(jeps, jep);
		}
		if (o->memdevs) {
			if (!memdev_filter_by_decoder(w, m) ||
			    !memdev_filter_by_port(w, m))
				continue;
			struct json_object *jm =
				memdev_json(m, o);
			if (o->endpoints)
				add(jep, "memdev", jm);
			else
				json_object_array_add(jdevs, jm);
		}
		if (!o->decoders)
			continue;
		if (o->endpoints)
			jchilddecoders = json_object_new_array();
		walk_decoders(w, &ep, pick(jchilddecoders, jdecoders), NULL);
		add_child_array(jep, "decoders", name, jchilddecoders);
	}
}

/* Switch ports whose parent CXL port is `parent`, in topology order. */
static int child_ports(const struct cx_vport *parent, struct cx_port **out,
		       int max)
{
	struct cx_host *h = parent->h;
	int n = 0;

	/* bridges in port order: the last declared is port1 */
	if (parent->kind == CX_VPORT_ROOT) {
		for (int i = h->hbs.n - 1; i >= 0 && n < max; i--)
			out[n++] = h->hbs.v[i];
		return n;
	}
	if (parent->kind != CX_VPORT_SWITCH)
		return 0;
	for (int d = 0; d < parent->p->children.n; d++) {
		struct cx_port *dp = parent->p->children.v[d];
		for (int c = 0; c < dp->children.n && n < max; c++) {
			struct cx_port *u = dp->children.v[c];
			/* a switch port is there while an enabled memdev
			 * is below it (model/driver.c) */
			if (u->kind == CX_PORT_USP && cx_port_enabled(u))
				out[n++] = u;
		}
	}
	return n;
}

static void walk_child_ports(struct walk *w, const struct cx_vport *parent,
			     struct json_object *jports,
			     struct json_object *jportdecoders,
			     struct json_object *jeps,
			     struct json_object *jepdecoders,
			     struct json_object *jdevs)
{
	const struct cx_list_opts *o = w->o;
	struct cx_port *kids[256];
	int n = child_ports(parent, kids, 256);

	for (int i = 0; i < n; i++) {
		struct cx_vport x = cx_vport_switch(kids[i]);
		struct json_object *jport = NULL, *jchildports = NULL,
				   *jchilddevs = NULL, *jchildeps = NULL,
				   *jchilddecoders = NULL;
		char name[32];

		cx_vport_name(&x, name, sizeof(name));
		if (!port_filter_by_memdev(w, &x))
			continue;
		bool match = port_filter(&x, o->port_filter, w->single) &&
			     bus_match(o->bus_filter);
		/* as ndctl: a disabled port (and what is below it) only
		 * with -i, unless the filter passes it by */
		if (match && !o->idle && !cx_port_enabled(kids[i]))
			continue;
		if (match && o->ports) {
			jport = port_json(&x, o);
			json_object_array_add(jports, jport);
			jchildports = json_object_new_array();
			if (o->memdevs)
				jchilddevs = json_object_new_array();
			if (o->endpoints)
				jchildeps = json_object_new_array();
			if (o->decoders)
				jchilddecoders = json_object_new_array();
		}
		if (o->endpoints || o->memdevs || o->decoders)
			walk_endpoints(w, &x, pick(jchildeps, jeps),
				       pick(jchilddevs, jdevs),
				       pick(jchilddecoders, jepdecoders));
		walk_decoders(w, &x, pick(jchilddecoders, jportdecoders), NULL);
		walk_child_ports(w, &x, pick(jchildports, jports),
				 pick(jchilddecoders, jportdecoders),
				 pick(jchildeps, jeps),
				 pick(jchilddecoders, jepdecoders),
				 pick(jchilddevs, jdevs));
		add_child_array(jport, "ports", name, jchildports);
		add_child_array(jport, "endpoints", name, jchildeps);
		add_child_array(jport, "decoders", name, jchilddecoders);
		add_child_array(jport, "memdevs", name, jchilddevs);
	}
}

/* Move a container's elements into the result, or wrap it as
 * {"name": [...]} when several kinds of objects are listed. */
static void splice(struct json_object *out, struct json_object *arr,
		   const char *name, bool wrap)
{
	size_t n = json_object_array_length(arr);

	if (!n) {
		json_object_put(arr);
		return;
	}
	if (wrap) {
		struct json_object *c = json_object_new_object();
		add(c, name, arr);
		json_object_array_add(out, c);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_object_array_add(out,
			json_object_get(json_object_array_get_idx(arr, i)));
	json_object_put(arr);
}

struct json_object *cx_json_list(struct cx_host *h,
				 const struct cx_list_opts *o, cx_err *e)
{
	struct walk w = { .h = h, .o = o, .single = o->single };
	enum { ANON, BUSES, PORTS, EPS, DEVS, BUSDEC, PORTDEC, EPDEC, REGIONS,
	       NTOP };
	static const char *const names[NTOP] = {
		"anon memdevs", "buses", "ports", "endpoints", "memdevs",
		"root decoders", "port decoders", "endpoint decoders",
		"regions",
	};
	struct json_object *top[NTOP];
	struct cx_vport root;

	if (!h) {
		cx_fail(e, EINVAL, "listing: no host to list");
		return NULL;
	}
	root = cx_vport_root(h);
	w.rflags = (o->human ? CX_JSON_HUMAN : 0) |
		   (o->targets ? CX_JSON_MAPPINGS : 0) |
		   (o->dax ? CX_JSON_DAX : 0) |
		   (o->media_errors ? CX_JSON_MEDIA_ERRORS : 0) |
		   (o->extents ? CX_JSON_EXTENTS : 0);
	for (int i = 0; i < NTOP; i++)
		top[i] = json_object_new_array();

	/* memdevs that are not enabled (no endpoint): only with -i */
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		if (cx_memdev_enabled(m) || !memdev_pass(&w, m) || !o->idle ||
		    !o->memdevs)
			continue;
		json_object_array_add(top[ANON],
				      memdev_json(m, o));
	}

	/* the bus: one per host with CXL host bridges (with none, Linux
	 * 6.12 on QEMU 10 has no CXL root: `cxl list` finds nothing) */
	bool on_bus = h->hbs.n && !any_memdev_filter(&w);
	for (int i = 0; !on_bus && i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		on_bus = cx_memdev_enabled(m) && memdev_pass(&w, m);
	}
	if (on_bus) {
		struct json_object *jbus = NULL, *jchildports = NULL,
				   *jchildeps = NULL, *jchilddevs = NULL,
				   *jchilddecoders = NULL,
				   *jchildregions = NULL;
		if (bus_match(o->bus_filter) &&
		    port_filter(&root, o->port_filter, w.single) &&
		    o->buses) {
			jbus = bus_json(&root, o);
			json_object_array_add(top[BUSES], jbus);
			if (o->ports)
				jchildports = json_object_new_array();
			if (o->endpoints)
				jchildeps = json_object_new_array();
			if (o->memdevs)
				jchilddevs = json_object_new_array();
			if (o->decoders)
				jchilddecoders = json_object_new_array();
			if (o->regions)
				jchildregions = json_object_new_array();
		}
		walk_decoders(&w, &root, pick(jchilddecoders, top[BUSDEC]),
			      pick(jchildregions, top[REGIONS]));
		walk_child_ports(&w, &root, pick(jchildports, top[PORTS]),
				 pick(jchilddecoders, top[PORTDEC]),
				 pick(jchildeps, top[EPS]),
				 pick(jchilddecoders, top[EPDEC]),
				 pick(jchilddevs, top[DEVS]));
		add_child_array(jbus, "ports", "root0", jchildports);
		add_child_array(jbus, "endpoints", "root0", jchildeps);
		add_child_array(jbus, "decoders", "root0", jchilddecoders);
		add_child_array(jbus, "regions", "root0", jchildregions);
		add_child_array(jbus, "memdevs", "root0", jchilddevs);
	}

	int kinds = 0;
	for (int i = 0; i < NTOP; i++)
		if (json_object_array_length(top[i]))
			kinds++;
	struct json_object *out = json_object_new_array();
	for (int i = 0; i < NTOP; i++)
		splice(out, top[i], names[i], kinds > 1);
	return out;
}
