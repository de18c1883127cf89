/*
 * ops_mbox.c - device management over the socket: "mbox" sends one raw
 * command to a memdev's primary mailbox, "inject" adds poison, events and
 * health changes the way QEMU's QMP commands do, and the loop hook
 * completes background operations whose time is up.
 *
 * mbox: {memdev, opcode, payload: hex} (or the payload as the raw frame)
 * -> {memdev, opcode: "0x4000", name, rc, rc_name, payload_in_len,
 *     payload_out: hex, out_len}.  A refused command is still a reply:
 * the CXL return code says why; only a request that cannot reach a
 * mailbox (no such memdev, bad hex) is an error.
 *
 * inject: {memdev, kind, params: {KEY: VALUE}} where kind is poison,
 * general-media, dram, memory-module or health and the keys are QMP's
 * (start, length, log, flags, dpa, descriptor, type, transaction-type,
 * ...).  Values are JSON numbers or strings (decimal, 0x-hex, or a log
 * name).  Every key is checked against its kind and its field width
 * before anything is injected; an unknown key or a value that does not
 * fit is refused with the key, the value and the rule.
 */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mbox.h"
#include "proto/mbox_frame.h"

/* ---- background operations ---- */

void cx_srv_poll_devices(struct cx_fabric *f)
{
	for (int i = 0; f && i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->memdevs.n; j++)
			cx_mbox_poll(h->memdevs.v[j]);
	}
}

/* ---- helpers ---- */

/* The memdev a request asked for by `name` (found: m, else NULL), with a
 * mailbox; the same words for the JSON request and binary frames. */
static int memdev_found(struct cx_srv_call *c, struct cx_memdev *m,
			const char *name, struct cx_memdev **out, cx_err *e)
{
	struct cx_srv_names list = { .used = 0 };

	*out = m;
	if (m && m->mbox)
		return 0;
	if (m)
		return cx_fail(e, ENXIO, "memdev %s has no mailbox (the fabric "
			       "was not started)", name);
	for (int i = 0; i < c->host->memdevs.n; i++) {
		struct cx_memdev *d = c->host->memdevs.v[i];
		cx_srv_names_add(&list, "mem%d (%s)", d->index, d->qid);
	}
	return cx_fail(e, ENOENT, "host %s has no memdev '%s' (%s%s)",
		       c->host->name, name,
		       c->host->memdevs.n ? "memdevs: " : "it has no memdevs",
		       list.buf);
}

int cx_srv_memdev(struct cx_srv_call *c, const char *key,
		  struct cx_memdev **out, cx_err *e)
{
	const char *name = NULL;
	int rc;

	if ((rc = cx_proto_get_str(c->req, key, true, &name, e)))
		return rc;
	return memdev_found(c, cx_memdev_find(c->host, name), name, out, e);
}

/* ---- mbox ---- */

/* A memdev of the call's host by its N of memN, with a mailbox. */
static int memdev_by_index(struct cx_srv_call *c, unsigned n,
			   struct cx_memdev **out, cx_err *e)
{
	struct cx_memdev *m = NULL;
	char name[16];

	for (int i = 0; i < c->host->memdevs.n && !m; i++) {
		struct cx_memdev *d = c->host->memdevs.v[i];
		if ((unsigned)d->index == n)
			m = d;
	}
	snprintf(name, sizeof(name), "mem%u", n);
	return memdev_found(c, m, name, out, e);
}

int cx_srv_mbox_run(struct cx_srv_call *c, struct cx_memdev *m,
		    uint16_t opcode, const uint8_t *in, size_t in_len,
		    uint8_t *out, size_t *out_len, uint16_t *rc16,
		    char *busy, size_t busy_len, cx_err *e)
{
	int rc;

	if (cx_mbox_wipes(opcode) &&
	    (rc = cx_srv_stale_check(c, cx_mbox_opcode_name(opcode), e)))
		return rc;
	rc = cx_mbox_exec(m, opcode, in, in_len, out, out_len, rc16);
	/* a partition for the next start is the fabric's state too */
	c->restate = opcode == CX_OP_SET_PARTITION_INFO;
	if (rc)
		return cx_fail(e, -rc, "memdev %s: the mailbox did not take the "
			       "command", m->qid);
	if (*rc16 != CX_RC_BUSY ||
	    !cx_mbox_busy_reason(m, opcode, busy, busy_len))
		busy[0] = 0;
	return 0;
}

int cx_srv_mbox_binary(struct cx_srv_call *c, const struct cx_mbf_req *rq,
		       struct cx_mbf_rep *rp, uint8_t *out, size_t out_cap,
		       char *text, size_t text_len, cx_err *e)
{
	struct cx_memdev *m;
	size_t out_len = out_cap;
	int rc;

	if ((rc = memdev_by_index(c, rq->memdev, &m, e)) ||
	    (rc = cx_srv_mbox_run(c, m, rq->opcode, rq->in, rq->in_len, out,
				  &out_len, &rp->rc, text, text_len, e)))
		return rc;
	rp->status = CX_MBF_RAN;
	rp->out = out;
	rp->out_len = out_len;
	rp->text = text[0] ? text : NULL;
	return 0;
}

int cx_op_mbox(struct cx_srv_call *c, cx_err *e)
{
	struct cx_memdev *m;
	const char *hex = NULL;
	uint64_t opcode = 0;
	uint8_t *in = NULL, out[CX_MBOX_PAYLOAD_MAX];
	size_t in_len = 0, out_len = sizeof(out);
	uint16_t rc16 = 0;
	char buf[32], why[256];
	int rc;

	if ((rc = cx_srv_memdev(c, "memdev", &m, e)) ||
	    (rc = cx_proto_get_u64(c->req, "opcode", true, &opcode, e)) ||
	    (rc = cx_proto_get_str(c->req, "payload", false, &hex, e)))
		return rc;
	if (opcode > 0xffff)
		return cx_fail(e, EINVAL, "opcode %#" PRIx64 " does not fit in "
			       "16 bits (command set << 8 | command)", opcode);
	if (hex && c->data_len)
		return cx_fail(e, EINVAL, "give the payload as hex or as the "
			       "raw frame, not both");
	if (hex) {
		if ((rc = cx_hex_decode(hex, NULL, SIZE_MAX, &in_len, e))) {
			cx_err_prefix(e, "payload");
			return rc;
		}
		in = cx_xcalloc(1, in_len + 1);
		cx_hex_decode(hex, in, in_len, &in_len, NULL);
	}
	const uint8_t *src = hex ? in : c->data;
	if (!hex)
		in_len = c->data_len;
	rc = cx_srv_mbox_run(c, m, (uint16_t)opcode, src, in_len, out,
			     &out_len, &rc16, why, sizeof(why), e);
	free(in);
	if (rc)
		return rc;

	struct json_object *r = json_object_new_object();
	const char *name = cx_mbox_opcode_name((uint16_t)opcode);
	snprintf(buf, sizeof(buf), "mem%d", m->index);
	json_object_object_add(r, "memdev", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "0x%04x", (unsigned)opcode);
	json_object_object_add(r, "opcode", json_object_new_string(buf));
	json_object_object_add(r, "name", json_object_new_string(
				       name ? name : "unknown"));
	json_object_object_add(r, "rc", json_object_new_int(rc16));
	json_object_object_add(r, "rc_name", json_object_new_string(
				       cx_mbox_rc_name(rc16)));
	if (why[0])
		json_object_object_add(r, "busy_reason",
				       json_object_new_string(why));
	/* a dynamic capacity command says why it was refused */
	if (rc16 != CX_RC_SUCCESS && (opcode >> 8) == 0x48) {
		cx_dcd_last_error(m, why, sizeof(why));
		if (why[0])
			json_object_object_add(r, "reason",
					       json_object_new_string(why));
	}
	json_object_object_add(r, "payload_in_len",
			       json_object_new_uint64(in_len));
	char *ohex = cx_hex_encode(out, out_len);
	json_object_object_add(r, "payload_out", json_object_new_string(ohex));
	free(ohex);
	json_object_object_add(r, "out_len", json_object_new_uint64(out_len));
	c->result = r;
	return 0;
}

/* ---- inject ---- */

enum ptype {
	P_U8, P_U16, P_U24, P_U32, P_U64, P_S16,
	P_LOG,       /* event log name or number */
	P_STR16,     /* up to 16 bytes of text */
	P_LIST4,     /* up to 4 u64, comma separated or a JSON array */
};

struct pspec {
	const char *key;
	enum ptype type;
	bool required;
};

struct pval {
	bool set;
	uint64_t u;
	int64_t s;
	const char *str;
	uint64_t list[4];
	int nlist;
};

#define MAXP 16

struct kind {
	const char *name;
	const struct pspec p[MAXP];   /* ended by a NULL key */
};

static const struct kind kinds[] = {
	{ "poison", {
		{ "start", P_U64, true }, { "length", P_U64, false },
		{ NULL, 0, 0 } } },
	{ "general-media", {
		{ "log", P_LOG, false }, { "flags", P_U8, false },
		{ "dpa", P_U64, true }, { "descriptor", P_U8, false },
		{ "type", P_U8, false }, { "transaction-type", P_U8, false },
		{ "channel", P_U8, false }, { "rank", P_U8, false },
		{ "device", P_U24, false }, { "component-id", P_STR16, false },
		{ NULL, 0, 0 } } },
	{ "dram", {
		{ "log", P_LOG, false }, { "flags", P_U8, false },
		{ "dpa", P_U64, true }, { "descriptor", P_U8, false },
		{ "type", P_U8, false }, { "transaction-type", P_U8, false },
		{ "channel", P_U8, false }, { "rank", P_U8, false },
		{ "nibble-mask", P_U24, false }, { "bank-group", P_U8, false },
		{ "bank", P_U8, false }, { "row", P_U24, false },
		{ "column", P_U16, false }, { "correction-mask", P_LIST4, false },
		{ NULL, 0, 0 } } },
	{ "memory-module", {
		{ "log", P_LOG, false }, { "flags", P_U8, false },
		{ "type", P_U8, false }, { "health-status", P_U8, false },
		{ "media-status", P_U8, false },
		{ "additional-status", P_U8, false },
		{ "life-used", P_U8, false }, { "temperature", P_S16, false },
		{ "dirty-shutdown-count", P_U32, false },
		{ "corrected-volatile-error-count", P_U32, false },
		{ "corrected-persistent-error-count", P_U32, false },
		{ NULL, 0, 0 } } },
	{ "health", {
		{ "health-status", P_U8, false },
		{ "media-status", P_U8, false },
		{ "life-used", P_U8, false }, { "temperature", P_S16, false },
		{ "dirty-shutdown-count", P_U32, false },
		{ "corrected-volatile-error-count", P_U32, false },
		{ "corrected-persistent-error-count", P_U32, false },
		{ NULL, 0, 0 } } },
};

static int parse_signed(const char *key, const char *s, int64_t *out,
			cx_err *e)
{
	uint64_t mag;
	bool neg = *s == '-';

	if (cx_parse_u64(neg ? s + 1 : s, &mag, key, e))
		return cx_fail(e, EINVAL, "%s=%s is not a number", key, s);
	if (mag > (uint64_t)INT64_MAX)
		return cx_fail(e, ERANGE, "%s=%s is out of range", key, s);
	*out = neg ? -(int64_t)mag : (int64_t)mag;
	return 0;
}

static int parse_list(const char *key, const char *s, struct pval *v,
		      cx_err *e)
{
	char *copy = cx_xstrdup(s), *save = NULL;
	int rc = 0;

	v->nlist = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (v->nlist == 4) {
			rc = cx_fail(e, EINVAL, "%s=%s: at most 4 values", key,
				     s);
			break;
		}
		if (cx_parse_u64(tok, &v->list[v->nlist], key, e)) {
			rc = cx_fail(e, EINVAL, "%s=%s: '%s' is not a number",
				     key, s, tok);
			break;
		}
		v->nlist++;
	}
	free(copy);
	return rc;
}

static int parse_value(const struct pspec *ps, struct json_object *jv,
		       struct pval *v, cx_err *e)
{
	static const uint64_t max[] = {
		[P_U8] = 0xff, [P_U16] = 0xffff, [P_U24] = 0xffffff,
		[P_U32] = 0xffffffff, [P_U64] = UINT64_MAX,
	};
	const char *key = ps->key;
	char num[32];
	const char *s;

	if (json_object_is_type(jv, json_type_array) && ps->type == P_LIST4) {
		size_t n = json_object_array_length(jv);
		if (n > 4)
			return cx_fail(e, EINVAL, "%s: at most 4 values, not "
				       "%zu", key, n);
		for (size_t i = 0; i < n; i++) {
			struct json_object *x = json_object_array_get_idx(jv, i);
			if (!json_object_is_type(x, json_type_int))
				return cx_fail(e, EINVAL, "%s[%zu] must be a "
					       "number", key, i);
			v->list[i] = json_object_get_uint64(x);
		}
		v->nlist = (int)n;
		v->set = true;
		return 0;
	}
	if (json_object_is_type(jv, json_type_int)) {
		int64_t i = json_object_get_int64(jv);
		if (i < 0)
			snprintf(num, sizeof(num), "%" PRId64, i);
		else
			snprintf(num, sizeof(num), "%" PRIu64,
				 json_object_get_uint64(jv));
		s = num;
	} else if (json_object_is_type(jv, json_type_string)) {
		s = json_object_get_string(jv);
	} else {
		return cx_fail(e, EINVAL, "%s must be a number or a string", key);
	}
	if (!*s)
		return cx_fail(e, EINVAL, "%s has an empty value", key);

	switch (ps->type) {
	case P_LOG: {
		enum cx_event_log log;
		uint64_t n;
		if (cx_event_log_parse(s, &log) == 0) {
			v->u = log;
		} else if (cx_parse_u64(s, &n, key, NULL) == 0 &&
			   n < CX_EVLOG_DCD) {
			v->u = n;
		} else {
			return cx_fail(e, EINVAL, "log=%s is not an event log "
				       "(informational, warning, failure, "
				       "fatal, or 0..3)", s);
		}
		break;
	}
	case P_STR16:
		if (strlen(s) > 16)
			return cx_fail(e, EINVAL, "%s=%s is longer than 16 "
				       "bytes", key, s);
		v->str = s;
		break;
	case P_LIST4:
		if (parse_list(key, s, v, e))
			return -EINVAL;
		break;
	case P_S16:
		if (parse_signed(key, s, &v->s, e))
			return -EINVAL;
		if (v->s < INT16_MIN || v->s > INT16_MAX)
			return cx_fail(e, ERANGE, "%s=%s does not fit in a "
				       "signed 16-bit field (-32768..32767)",
				       key, s);
		break;
	default:
		if (*s == '-' || cx_parse_u64(s, &v->u, key, NULL))
			return cx_fail(e, EINVAL, "%s=%s is not an unsigned "
				       "number (decimal or 0x-hex)", key, s);
		if (v->u > max[ps->type])
			return cx_fail(e, ERANGE, "%s=%s does not fit in its "
				       "%s-bit field (at most %#" PRIx64 ")",
				       key, s,
				       ps->type == P_U8 ? "8" :
				       ps->type == P_U16 ? "16" :
				       ps->type == P_U24 ? "24" : "32",
				       max[ps->type]);
		break;
	}
	v->set = true;
	return 0;
}

static int find_param(const struct kind *k, const char *key)
{
	for (int i = 0; k->p[i].key; i++)
		if (!strcmp(k->p[i].key, key))
			return i;
	return -1;
}

/* Value of key `name` of kind k (which must declare it). */
static const struct pval *pv(const struct kind *k, const struct pval *vals,
			     const char *name)
{
	return &vals[find_param(k, name)];
}

static uint64_t pu(const struct kind *k, const struct pval *vals,
		   const char *name, uint64_t dflt)
{
	const struct pval *v = pv(k, vals, name);
	return v->set ? v->u : dflt;
}

static void health_from(const struct kind *k, const struct pval *vals,
			struct cx_health *h)
{
	const struct pval *t = pv(k, vals, "temperature");

	h->health_status = (uint8_t)pu(k, vals, "health-status",
				       h->health_status);
	h->media_status = (uint8_t)pu(k, vals, "media-status", h->media_status);
	h->life_used = (uint8_t)pu(k, vals, "life-used", h->life_used);
	if (t->set)
		h->temperature = (int16_t)t->s;
	h->dirty_shutdowns = (uint32_t)pu(k, vals, "dirty-shutdown-count",
					  h->dirty_shutdowns);
	h->cor_volatile = (uint32_t)pu(k, vals,
				       "corrected-volatile-error-count",
				       h->cor_volatile);
	h->cor_persistent = (uint32_t)pu(k, vals,
					 "corrected-persistent-error-count",
					 h->cor_persistent);
}

/* The fields general-media and dram injections share. */
static void media_from(const struct kind *k, const struct pval *vals,
		       struct cx_media_event *c)
{
	c->log = (enum cx_event_log)pu(k, vals, "log", CX_EVLOG_INFO);
	c->flags = (uint8_t)pu(k, vals, "flags", 0);
	c->dpa = pu(k, vals, "dpa", 0);
	c->descriptor = (uint8_t)pu(k, vals, "descriptor", 0);
	c->type = (uint8_t)pu(k, vals, "type", 0);
	c->transaction_type = (uint8_t)pu(k, vals, "transaction-type", 0);
	c->has_channel = pv(k, vals, "channel")->set;
	c->channel = (uint8_t)pu(k, vals, "channel", 0);
	c->has_rank = pv(k, vals, "rank")->set;
	c->rank = (uint8_t)pu(k, vals, "rank", 0);
}

static int do_inject(struct cx_memdev *m, const struct kind *k,
		     const struct pval *vals, struct json_object *r, cx_err *e)
{
	int rc;

	if (!strcmp(k->name, "poison")) {
		uint64_t start = pu(k, vals, "start", 0);
		uint64_t len = pu(k, vals, "length", CX_CACHELINE);
		if ((rc = cx_inject_poison(m, start, len, e)))
			return rc;
		json_object_object_add(r, "dpa", json_object_new_uint64(start));
		json_object_object_add(r, "length",
				       json_object_new_uint64(len));
		return 0;
	}
	if (!strcmp(k->name, "general-media")) {
		struct cx_gm_event ev;
		memset(&ev, 0, sizeof(ev));
		media_from(k, vals, &ev.media);
		ev.has_device = pv(k, vals, "device")->set;
		ev.device = (uint32_t)pu(k, vals, "device", 0);
		const struct pval *cid = pv(k, vals, "component-id");
		if ((ev.has_component_id = cid->set))
			memcpy(ev.component_id, cid->str, strlen(cid->str));
		if ((rc = cx_inject_general_media(m, &ev, e)))
			return rc;
		json_object_object_add(r, "dpa", json_object_new_uint64(ev.media.dpa));
		return 0;
	}
	if (!strcmp(k->name, "dram")) {
		struct cx_dram_event ev;
		memset(&ev, 0, sizeof(ev));
		media_from(k, vals, &ev.media);
		ev.has_nibble_mask = pv(k, vals, "nibble-mask")->set;
		ev.nibble_mask = (uint32_t)pu(k, vals, "nibble-mask", 0);
		ev.has_bank_group = pv(k, vals, "bank-group")->set;
		ev.bank_group = (uint8_t)pu(k, vals, "bank-group", 0);
		ev.has_bank = pv(k, vals, "bank")->set;
		ev.bank = (uint8_t)pu(k, vals, "bank", 0);
		ev.has_row = pv(k, vals, "row")->set;
		ev.row = (uint32_t)pu(k, vals, "row", 0);
		ev.has_column = pv(k, vals, "column")->set;
		ev.column = (uint16_t)pu(k, vals, "column", 0);
		const struct pval *cm = pv(k, vals, "correction-mask");
		if ((ev.has_correction_mask = cm->set))
			for (int i = 0; i < cm->nlist; i++)
				ev.correction_mask[i] = cm->list[i];
		if ((rc = cx_inject_dram(m, &ev, e)))
			return rc;
		json_object_object_add(r, "dpa", json_object_new_uint64(ev.media.dpa));
		return 0;
	}
	struct cx_health h;
	if (cx_get_health(m, &h))
		return cx_fail(e, ENXIO, "memdev %s has no mailbox", m->qid);
	health_from(k, vals, &h);
	if (!strcmp(k->name, "memory-module")) {
		struct cx_mm_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.log = (enum cx_event_log)pu(k, vals, "log", CX_EVLOG_INFO);
		ev.flags = (uint8_t)pu(k, vals, "flags", 0);
		ev.type = (uint8_t)pu(k, vals, "type", 0);
		ev.health = h;
		ev.additional_status = (uint8_t)pu(k, vals, "additional-status",
						   0);
		rc = cx_inject_memory_module(m, &ev, e);
	} else {
		rc = cx_inject_health(m, &h, e);
	}
	return rc;
}

int cx_op_inject(struct cx_srv_call *c, cx_err *e)
{
	struct cx_memdev *m;
	const char *kname = NULL;
	struct json_object *params = NULL;
	const struct kind *k = NULL;
	struct pval vals[MAXP];
	struct cx_srv_names list = { .used = 0 };
	int rc;

	if ((rc = cx_srv_memdev(c, "memdev", &m, e)) ||
	    (rc = cx_proto_get_str(c->req, "kind", true, &kname, e)))
		return rc;
	for (size_t i = 0; i < CX_ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i].name, kname))
			k = &kinds[i];
	if (!k) {
		for (size_t i = 0; i < CX_ARRAY_SIZE(kinds); i++)
			cx_srv_names_add(&list, "%s", kinds[i].name);
		return cx_fail(e, EINVAL, "nothing to inject called '%s' (kinds: "
			       "%s)", kname, list.buf);
	}
	json_object_object_get_ex(c->req, "params", &params); /* an object */
	memset(vals, 0, sizeof(vals));
	if (params) {
		json_object_object_foreach(params, key, val) {
			int i = find_param(k, key);
			if (i < 0) {
				for (int j = 0; k->p[j].key; j++)
					cx_srv_names_add(&list, "%s",
							 k->p[j].key);
				return cx_fail(e, EINVAL, "%s: unknown "
					       "parameter '%s' (it takes: %s)",
					       k->name, key, list.buf);
			}
			if ((rc = parse_value(&k->p[i], val, &vals[i], e))) {
				cx_err_prefix(e, "%s", k->name);
				return rc;
			}
		}
	}
	for (int i = 0; k->p[i].key; i++)
		if (k->p[i].required && !vals[i].set)
			return cx_fail(e, EINVAL, "%s: parameter '%s' is "
				       "required", k->name, k->p[i].key);

	struct json_object *r = json_object_new_object();
	char buf[32];
	snprintf(buf, sizeof(buf), "mem%d", m->index);
	json_object_object_add(r, "memdev", json_object_new_string(buf));
	json_object_object_add(r, "injected", json_object_new_string(k->name));
	if ((rc = do_inject(m, k, vals, r, e))) {
		json_object_put(r);
		return rc;
	}
	c->result = r;
	return 0;
}
