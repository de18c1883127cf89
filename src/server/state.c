/*
 * state.c - the daemon's state file: regions, decoders, DAX modes and
 * pending partitions, so that `cxlemu start` brings back the fabric a
 * `stop` or a `kill -9` left.
 *
 * The file is JSON:
 *
 *   { "cxlemu_state": 1, "topology": "lab.topo", "fingerprint": "…",
 *     "hosts": { "host1": { "next_region_id": 2, "bus_disabled",
 *         "disabled": ["cxl.1", "mem0", …]     (ports and memdevs unbound)
 *         "regions": [ { "id", "window", "mode", "base", "size", "ways",
 *                        "gran", "uuid", "targets": ["decoder5.0", …],
 *                        "programmed", "committed", "disabled",
 *                        "system_ram", "dax_unbound", "noncoherent",
 *                        "dax_offline": [8 words] } ],
 *         "decoders": { "decoder1.0": { "regs": [7 words], "mode",
 *                        "dpa_base", "dpa_size", "region", "pos",
 *                        "targets": ["rp0", …] }, … } } },
 *     "partitions": { "host1/mem0": bytes } }
 *
 * Every HDM decoder below the root is recorded whole - its register image
 * and what the driver keeps beside it - and every region, however it was
 * built (create-region, or sysfs: staged, committed but not enabled), so
 * a restore puts back exactly what was there instead of replaying the
 * requests that built it (first-fit HPA and decoder order would not
 * always give the same answer again).  What is derived - grants, the DAX
 * devices, which decoders are committed per port - follows.  A restored
 * committed region must still route through its decoders (the DAX recipe
 * checks it), or the whole file is refused.
 *
 * "fingerprint" hashes what the state depends on in the topology - hosts,
 * windows, ports, memdevs and their backend sizes - so a state file is
 * never put onto a different fabric: it is refused, naming both.
 *
 * The server writes the file after every request that changed it (a
 * temporary file, fsync, rename, fsync of the directory), so a kill -9
 * finds the last change on disk, whole.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/dax.h"
#include "model/mbox.h"

#define STATE_VERSION 1
#define STATE_MAX_BYTES (64u << 20)

struct cx_state {
	char *path;
	struct json_object *root;
};

const char *cx_state_default_path(const char *socket, char *buf, size_t len)
{
	size_t n = strlen(socket);
	if (n >= 5 && !strcmp(socket + n - 5, ".sock"))
		n -= 5;
	int w = snprintf(buf, len, "%.*s.state", (int)n, socket);
	return w < 0 || (size_t)w >= len ? NULL : buf;
}

/* ---- the topology's fingerprint ---- */

static void fnv(uint64_t *h, const char *s)
{
	for (; *s; s++) {
		*h ^= (uint8_t)*s;
		*h *= 0x100000001b3ULL;
	}
	*h ^= 0xff;
	*h *= 0x100000001b3ULL;
}

static void fnvf(uint64_t *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fnvf(uint64_t *h, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fnv(h, buf);
}

static uint64_t fingerprint(struct cx_fabric *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *x = f->hosts.v[i];
		fnvf(&h, "host %s", x->name);
		for (int j = 0; j < x->windows.n; j++) {
			struct cx_window *w = x->windows.v[j];
			fnvf(&h, "window %d %" PRIx64 " %" PRIx64 " %d %u",
			     w->index, w->base, w->size, w->ways, w->gran);
		}
		for (int j = 0; j < x->ports.n; j++) {
			struct cx_port *p = x->ports.v[j];
			fnvf(&h, "port %d %s %d %d", (int)p->kind, p->qid,
			     p->port_id, p->port_num);
		}
		for (int j = 0; j < x->memdevs.n; j++) {
			struct cx_memdev *m = x->memdevs.v[j];
			fnvf(&h, "memdev %s %d %" PRIx64 " %" PRIx64 " %" PRIx64,
			     m->qid, m->index,
			     m->vmem_be ? m->vmem_be->size : 0,
			     m->pmem_be ? m->pmem_be->size : 0,
			     m->legacy_offset);
		}
	}
	return h;
}

/* ---- writing ---- */

static struct json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

/* A region's flags, written and read by one table.  Those that are not
 * `required` are what drivers make of a region: a file without them
 * gives false, as for a new region. */
static const struct {
	const char *key;
	size_t at;
	bool required;
} region_flags[] = {
	{ "programmed", offsetof(struct cx_region, programmed), false },
	{ "committed", offsetof(struct cx_region, committed), true },
	{ "disabled", offsetof(struct cx_region, disabled), true },
	{ "system_ram", offsetof(struct cx_region, dax_system_ram), true },
	{ "dax_unbound", offsetof(struct cx_region, dax_unbound), false },
	{ "noncoherent", offsetof(struct cx_region, noncoherent), false },
};

static bool *region_flag(struct cx_region *r, size_t i)
{
	return (bool *)((char *)r + region_flags[i].at);
}

static void decoder_json(struct json_object *decs, struct cx_decoder *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *regs = json_object_new_array();
	char name[32];

	for (int i = 0; i < CX_HDM_NREGS; i++)
		json_object_array_add(regs, u64(d->regs.r[i]));
	json_object_object_add(o, "regs", regs);
	json_object_object_add(o, "mode",
			       json_object_new_string(cx_mode_name(d->mode)));
	json_object_object_add(o, "dpa_base", u64(d->dpa_base));
	json_object_object_add(o, "dpa_size", u64(d->dpa_size));
	json_object_object_add(o, "region", json_object_new_int(
		d->region ? d->region->id : -1));
	json_object_object_add(o, "pos", json_object_new_int(d->pos));
	if (d->kind == CX_DEC_SWITCH) {
		struct json_object *t = json_object_new_array();
		for (int i = 0; i < d->nr_targets_set &&
				i < CX_TARGETS_PER_DECODER; i++)
			json_object_array_add(t, json_object_new_string(
				d->targets[i] ? d->targets[i]->qid : ""));
		json_object_object_add(o, "targets", t);
	}
	cx_decoder_name(d, name, sizeof(name));
	json_object_object_add(decs, name, o);
}

static struct json_object *region_json(struct cx_region *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *t = json_object_new_array();
	char name[32];

	json_object_object_add(o, "id", json_object_new_int(r->id));
	json_object_object_add(o, "window", json_object_new_int(
		r->win ? r->win->index : -1));
	json_object_object_add(o, "mode",
			       json_object_new_string(cx_mode_name(r->mode)));
	json_object_object_add(o, "base", u64(r->base));
	json_object_object_add(o, "size", u64(r->size));
	json_object_object_add(o, "ways", json_object_new_int(r->ways));
	json_object_object_add(o, "gran", u64(r->gran));
	json_object_object_add(o, "uuid", json_object_new_string(r->uuid));
	for (int i = 0; i < r->ways && i < CX_MAX_WAYS; i++) {
		if (r->targets[i]) {
			cx_decoder_name(r->targets[i], name, sizeof(name));
			json_object_array_add(t, json_object_new_string(name));
		} else {
			json_object_array_add(t, NULL);
		}
	}
	json_object_object_add(o, "targets", t);
	for (size_t i = 0; i < CX_ARRAY_SIZE(region_flags); i++)
		json_object_object_add(o, region_flags[i].key,
				       json_object_new_boolean(
					       *region_flag(r, i)));
	struct json_object *off = json_object_new_array();
	for (size_t i = 0; i < CX_ARRAY_SIZE(r->dax_offline); i++)
		json_object_array_add(off, u64(r->dax_offline[i]));
	json_object_object_add(o, "dax_offline", off);
	return o;
}

char *cx_state_text(struct cx_fabric *f)
{
	struct json_object *root = json_object_new_object();
	struct json_object *hosts = json_object_new_object();
	struct json_object *parts = json_object_new_object();
	char fp[32];

	snprintf(fp, sizeof(fp), "%016" PRIx64, fingerprint(f));
	json_object_object_add(root, "cxlemu_state",
			       json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "topology",
			       json_object_new_string(f->source));
	json_object_object_add(root, "fingerprint", json_object_new_string(fp));
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		struct json_object *ho = json_object_new_object();
		struct json_object *regs = json_object_new_array();
		struct json_object *decs = json_object_new_object();
		json_object_object_add(ho, "next_region_id",
				       json_object_new_int(h->next_region_id));
		json_object_object_add(ho, "bus_disabled",
				       json_object_new_boolean(h->bus_disabled));
		struct json_object *off = json_object_new_array();
		for (int k = 0; k < h->ports.n; k++) {
			struct cx_port *p = h->ports.v[k];
			if (p->disabled)
				json_object_array_add(off,
					json_object_new_string(p->qid));
		}
		for (int k = 0; k < h->memdevs.n; k++) {
			struct cx_memdev *m = h->memdevs.v[k];
			char mn[32];
			snprintf(mn, sizeof(mn), "mem%d", m->index);
			if (m->disabled)
				json_object_array_add(off,
					json_object_new_string(mn));
		}
		json_object_object_add(ho, "disabled", off);
		for (int k = 0; k < h->regions.n; k++)
			json_object_array_add(regs, region_json(h->regions.v[k]));
		for (int k = 0; k < h->ports.n; k++) {
			struct cx_port *p = h->ports.v[k];
			for (int j = 0; p->decoders && j < p->ndecoders; j++)
				decoder_json(decs, &p->decoders[j]);
		}
		for (int k = 0; k < h->memdevs.n; k++) {
			struct cx_memdev *m = h->memdevs.v[k];
			for (int j = 0; j < CX_DECODERS_PER_PORT; j++)
				decoder_json(decs, &m->decoders[j]);
			struct cx_mbox_state *st = m->mbox;
			if (st && st->partitionable) {
				char key[300];
				snprintf(key, sizeof(key), "%s/mem%d", h->name,
					 m->index);
				json_object_object_add(parts, key, u64(
					st->part_next_pending ?
					st->part_next_vol : st->part_vol));
			}
		}
		json_object_object_add(ho, "regions", regs);
		json_object_object_add(ho, "decoders", decs);
		json_object_object_add(hosts, h->name, ho);
	}
	json_object_object_add(root, "hosts", hosts);
	json_object_object_add(root, "partitions", parts);
	char *text = cx_xstrdup(json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(root);
	return text;
}

/* FNV-1a over raw bytes, a 64-bit word at a time (it runs after every
 * changing request: bytes at a time cost more than the request) */
static void fnvb(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (; n >= 8; b += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		*h ^= w;
		*h *= 0x100000001b3ULL;
	}
	for (; n; b++, n--) {
		*h ^= *b;
		*h *= 0x100000001b3ULL;
	}
}

/*
 * Everything the file records, as the model holds it: the decoders and
 * regions whole (any field that changes changes the digest; pointers are
 * stable while the daemon runs), the drivers' bindings and the
 * partitions.  Cheap next to
 * formatting the file, which most changing requests (writes, mailbox
 * commands) leave as it was.
 */
uint64_t cx_state_digest(struct cx_fabric *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *x = f->hosts.v[i];
		fnvb(&h, &x->next_region_id, sizeof(x->next_region_id));
		fnvb(&h, &x->bus_disabled, sizeof(x->bus_disabled));
		for (int k = 0; k < x->regions.n; k++) {
			struct cx_region r = *(struct cx_region *)x->regions.v[k];
			r.mapped = 0;     /* not recorded */
			fnvb(&h, &r, sizeof(r));
		}
		for (int k = 0; k < x->ports.n; k++) {
			struct cx_port *p = x->ports.v[k];
			fnvb(&h, &p->disabled, sizeof(p->disabled));
			if (p->decoders)
				fnvb(&h, p->decoders, sizeof(*p->decoders) *
				     (size_t)p->ndecoders);
		}
		for (int k = 0; k < x->memdevs.n; k++) {
			struct cx_memdev *m = x->memdevs.v[k];
			fnvb(&h, &m->disabled, sizeof(m->disabled));
			fnvb(&h, m->decoders, sizeof(m->decoders));
			struct cx_mbox_state *st = m->mbox;
			if (st) {
				fnvb(&h, &st->part_vol, sizeof(st->part_vol));
				fnvb(&h, &st->part_next_pending,
				     sizeof(st->part_next_pending));
				fnvb(&h, &st->part_next_vol,
				     sizeof(st->part_next_vol));
			}
		}
	}
	return h;
}

void cx_state_saved_free(struct cx_state_saved *last)
{
	free(last->text);
	memset(last, 0, sizeof(*last));
}

int cx_state_save(const char *path, struct cx_fabric *f,
		  struct cx_state_saved *last, cx_err *e)
{
	uint64_t d = cx_state_digest(f);
	if (last->text && last->digest == d)
		return 0;
	char *text = cx_state_text(f);
	if (last->text && !strcmp(last->text, text)) {
		last->digest = d;
		free(text);
		return 0;
	}
	char *tmp = cx_xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0 || cx_write_all(fd, text, strlen(text)) < 0 ||
	    cx_write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		rc = cx_fail(e, errno, "state file %s: cannot write %s: %s",
			     path, tmp, strerror(errno));
	}
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = cx_fail(e, errno, "state file %s: closing %s: %s", path,
			     tmp, strerror(errno));
	if (!rc && rename(tmp, path) < 0)
		rc = cx_fail(e, errno, "state file %s: cannot rename %s over "
			     "it: %s", path, tmp, strerror(errno));
	if (rc) {
		unlink(tmp);
	} else {
		/* the rename itself must survive a crash */
		char *dcopy = cx_xstrdup(path);
		int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY |
			       O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dcopy);
		free(last->text);
		last->text = text;
		last->digest = d;
		text = NULL;
	}
	free(text);
	free(tmp);
	return rc;
}

/* ---- reading ---- */

void cx_state_free(struct cx_state *st)
{
	if (!st)
		return;
	json_object_put(st->root);
	free(st->path);
	free(st);
}

/* "state file P: " + what is wrong + how to start anyway */
static int bad(const struct cx_state *st, cx_err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(const struct cx_state *st, cx_err *e, const char *fmt, ...)
{
	char what[CX_ERR_MAX / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cx_fail(e, EINVAL, "state file %s: %s; it is not used (start "
		       "with --fresh to discard it, or --state FILE to keep "
		       "it apart)", st->path, what);
}

static struct json_object *get(struct json_object *o, const char *key,
			       json_type type)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

static bool get_u64(struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v = get(o, key, json_type_int);
	if (!v || json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

static bool get_int(struct json_object *o, const char *key, int *out)
{
	struct json_object *v = get(o, key, json_type_int);
	int64_t n = v ? json_object_get_int64(v) : 0;
	if (!v || n < -1 || n > 1000000)
		return false;
	*out = (int)n;
	return true;
}

static bool get_bool(struct json_object *o, const char *key, bool *out)
{
	struct json_object *v = get(o, key, json_type_boolean);
	if (!v)
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

static int read_text(const char *path, char **out, cx_err *e)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return errno == ENOENT ? 1 : cx_fail(e, errno, "state file %s: "
						      "cannot open it: %s", path,
						      strerror(errno));
	size_t cap = 65536, n = 0;
	char *buf = cx_xrealloc(NULL, cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= STATE_MAX_BYTES) {
				fclose(fp);
				free(buf);
				return cx_fail(e, EFBIG, "state file %s is larger "
					       "than %u MiB; it is not one "
					       "cxlemu wrote", path,
					       STATE_MAX_BYTES >> 20);
			}
			buf = cx_xrealloc(buf, cap *= 2);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (!got)
			break;
	}
	int err = ferror(fp);
	fclose(fp);
	if (err) {
		free(buf);
		return cx_fail(e, EIO, "state file %s: cannot read it", path);
	}
	buf[n] = 0;
	*out = buf;
	return 0;
}

/* Has the file anything to bring back: a region, DPA held by a decoder,
 * a partition?  (A file with nothing is no reason to refuse a topology.) */
static bool holds_something(struct json_object *root)
{
	struct json_object *parts = get(root, "partitions", json_type_object);
	uint64_t v;
	if (parts) {
		json_object_object_foreach(parts, k, pv) {
			(void)k;
			if (json_object_get_int64(pv) != 0)
				return true;
		}
	}
	json_object_object_foreach(get(root, "hosts", json_type_object), h, ho) {
		(void)h;
		struct json_object *regs = get(ho, "regions", json_type_array);
		struct json_object *decs = get(ho, "decoders", json_type_object);
		if (!regs || !decs || json_object_array_length(regs))
			return true;
		json_object_object_foreach(decs, dn, d) {
			(void)dn;
			if (!get_u64(d, "dpa_size", &v) || v)
				return true;
		}
	}
	return false;
}

int cx_state_load(const char *path, struct cx_fabric *f,
		  struct cx_state **out, cx_err *e)
{
	char *text = NULL;
	int rc;

	*out = NULL;
	if ((rc = read_text(path, &text, e)))
		return rc > 0 ? 0 : rc;
	struct cx_state *st = cx_xcalloc(1, sizeof(*st));
	st->path = cx_xstrdup(path);
	struct json_tokener *tok = json_tokener_new();
	st->root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	free(text);
	struct json_object *ver, *fp, *topo;
	if (jerr != json_tokener_success || !st->root ||
	    !json_object_is_type(st->root, json_type_object)) {
		rc = bad(st, e, "it is not a whole JSON object (%s); it may "
			 "have been cut short",
			 jerr == json_tokener_continue ? "it ends early" :
			 json_tokener_error_desc(jerr));
	} else if (!(ver = get(st->root, "cxlemu_state", json_type_int)) ||
		   json_object_get_int(ver) != STATE_VERSION) {
		rc = bad(st, e, "it is not a cxlemu state file of version %d",
			 STATE_VERSION);
	} else if (!(fp = get(st->root, "fingerprint", json_type_string)) ||
		   !get(st->root, "hosts", json_type_object)) {
		rc = bad(st, e, "it lacks its fingerprint or hosts");
	} else if (!holds_something(st->root)) {
		/* nothing to bring back: whatever topology wrote it */
		cx_state_free(st);
		return 0;
	} else {
		char mine[32];
		snprintf(mine, sizeof(mine), "%016" PRIx64, fingerprint(f));
		topo = get(st->root, "topology", json_type_string);
		if (strcmp(json_object_get_string(fp), mine))
			rc = bad(st, e, "it was written for another topology "
				 "(%s, fingerprint %s), not for %s "
				 "(fingerprint %s): its hosts, ports, windows "
				 "or devices differ",
				 topo ? json_object_get_string(topo) : "?",
				 json_object_get_string(fp), f->source, mine);
	}
	if (rc) {
		cx_state_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void cx_state_before_start(const struct cx_state *st, struct cx_fabric *f)
{
	struct json_object *parts = st ? get(st->root, "partitions",
					     json_type_object) : NULL;
	if (!parts)
		return;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int k = 0; k < h->memdevs.n; k++) {
			struct cx_memdev *m = h->memdevs.v[k];
			char key[300];
			uint64_t v;
			snprintf(key, sizeof(key), "%s/mem%d", h->name, m->index);
			if (get_u64(parts, key, &v))
				m->saved_partition = v;
		}
	}
}

static int mode_of(const char *s, enum cx_mode *m)
{
	static const enum cx_mode all[] = { CX_MODE_NONE, CX_MODE_RAM,
					    CX_MODE_PMEM, CX_MODE_MIXED,
					    CX_MODE_DC };
	for (size_t i = 0; i < CX_ARRAY_SIZE(all); i++)
		if (!strcmp(s, cx_mode_name(all[i]))) {
			*m = all[i];
			return 0;
		}
	return -1;
}

/* The region's flags from its record: false when a required one is
 * missing. */
static bool region_flags_read(struct json_object *o, struct cx_region *r)
{
	for (size_t i = 0; i < CX_ARRAY_SIZE(region_flags); i++)
		if (!get_bool(o, region_flags[i].key, region_flag(r, i)) &&
		    region_flags[i].required)
			return false;
	return true;
}

static int restore_region(const struct cx_state *st, struct cx_host *h,
			  struct json_object *o, cx_err *e)
{
	struct cx_region *r = cx_xcalloc(1, sizeof(*r));
	struct json_object *uuid = get(o, "uuid", json_type_string);
	struct json_object *mode = get(o, "mode", json_type_string);
	uint64_t gran = 0;
	int win = -1;

	r->host = h;
	if (!get_int(o, "id", &r->id) || r->id < 0 ||
	    !get_int(o, "window", &win) || !mode ||
	    mode_of(json_object_get_string(mode), &r->mode) ||
	    !get_u64(o, "base", &r->base) || !get_u64(o, "size", &r->size) ||
	    !get_int(o, "ways", &r->ways) || r->ways < 0 ||
	    r->ways > CX_MAX_WAYS || !get_u64(o, "gran", &gran) ||
	    gran > CX_MAX_GRAN || !uuid ||
	    json_object_get_string_len(uuid) > 36 ||
	    !region_flags_read(o, r)) {
		free(r);
		return bad(st, e, "host %s: a region lacks a field or has one "
			   "out of range", h->name);
	}
	r->gran = (uint32_t)gran;
	snprintf(r->uuid, sizeof(r->uuid), "%s", json_object_get_string(uuid));
	struct json_object *off = get(o, "dax_offline", json_type_array);
	for (size_t i = 0; off && i < CX_ARRAY_SIZE(r->dax_offline) &&
			   i < json_object_array_length(off); i++) {
		struct json_object *w = json_object_array_get_idx(off, i);
		if (json_object_is_type(w, json_type_int))
			r->dax_offline[i] = json_object_get_uint64(w);
	}
	for (int i = 0; i < h->windows.n; i++) {
		struct cx_window *w = h->windows.v[i];
		if (w->index == win)
			r->win = w;
	}
	char name[32];
	snprintf(name, sizeof(name), "region%d", r->id);
	if (!r->win || cx_region_find(h, name)) {
		int id = r->id;
		free(r);
		return bad(st, e, "host %s: region%d names window %d, which "
			   "the host lacks, or is given twice", h->name, id,
			   win);
	}
	cx_vec_push(&h->regions, r);
	return 0;
}

static int restore_decoder(const struct cx_state *st, struct cx_host *h,
			   const char *name, struct json_object *o, cx_err *e)
{
	struct cx_decoder *d = cx_decoder_find(h, name);
	struct json_object *regs = get(o, "regs", json_type_array);
	struct json_object *mode = get(o, "mode", json_type_string);
	int rid = -1, pos = -1;

	if (!d || d->kind == CX_DEC_ROOT)
		return bad(st, e, "host %s has no %s below its windows",
			   h->name, name);
	if (!regs || json_object_array_length(regs) != CX_HDM_NREGS ||
	    !mode || mode_of(json_object_get_string(mode), &d->mode) ||
	    !get_u64(o, "dpa_base", &d->dpa_base) ||
	    !get_u64(o, "dpa_size", &d->dpa_size) ||
	    !get_int(o, "region", &rid) || !get_int(o, "pos", &pos) ||
	    pos >= CX_MAX_WAYS)
		return bad(st, e, "host %s: %s lacks a field or has one out "
			   "of range", h->name, name);
	for (int i = 0; i < CX_HDM_NREGS; i++) {
		struct json_object *w = json_object_array_get_idx(regs,
								  (size_t)i);
		int64_t v = json_object_is_type(w, json_type_int) ?
			    json_object_get_int64(w) : -1;
		if (v < 0 || v > UINT32_MAX)
			return bad(st, e, "host %s: %s register %d is not a "
				   "32-bit word", h->name, name, i);
		d->regs.r[i] = (uint32_t)v;
	}
	d->pos = pos;
	d->region = NULL;
	if (rid >= 0) {
		char rn[32];
		snprintf(rn, sizeof(rn), "region%d", rid);
		if (!(d->region = cx_region_find(h, rn)))
			return bad(st, e, "host %s: %s belongs to region%d, "
				   "which the file does not have", h->name,
				   name, rid);
	}
	struct json_object *t = get(o, "targets", json_type_array);
	if (d->kind == CX_DEC_SWITCH && t) {
		int n = (int)json_object_array_length(t);
		if (n > d->nr_targets || n > CX_TARGETS_PER_DECODER)
			return bad(st, e, "host %s: %s has %d targets, more "
				   "than its %d", h->name, name, n,
				   d->nr_targets);
		for (int i = 0; i < n; i++) {
			const char *q = json_object_get_string(
				json_object_array_get_idx(t, (size_t)i));
			struct cx_port *p = q ? cx_port_find_qid(h, q) : NULL;
			if (!p || p->parent != d->port)
				return bad(st, e, "host %s: %s targets '%s', "
					   "which is not one of its downstream "
					   "ports", h->name, name,
					   q ? q : "(null)");
			d->targets[i] = p;
		}
		d->nr_targets_set = n;
	}
	return 0;
}

/* A region's targets: endpoint decoders by position. */
static int restore_targets(const struct cx_state *st, struct cx_host *h,
			   struct json_object *o, cx_err *e)
{
	int id = -1;
	char rn[32];
	get_int(o, "id", &id);
	snprintf(rn, sizeof(rn), "region%d", id);
	struct cx_region *r = cx_region_find(h, rn);
	struct json_object *t = get(o, "targets", json_type_array);
	if (!t || (int)json_object_array_length(t) > r->ways)
		return bad(st, e, "host %s: region%d has more targets than its "
			   "%d ways", h->name, id, r->ways);
	for (int i = 0; i < (int)json_object_array_length(t); i++) {
		struct json_object *x = json_object_array_get_idx(t, (size_t)i);
		if (!x)
			continue;
		const char *dn = json_object_get_string(x);
		struct cx_decoder *d = cx_decoder_find(h, dn);
		if (!d || d->kind != CX_DEC_ENDPOINT || d->region != r)
			return bad(st, e, "host %s: region%d target%d is %s, "
				   "which is not an endpoint decoder of the "
				   "region", h->name, id, i, dn);
		r->targets[i] = d;
	}
	if (r->committed && !r->disabled) {
		struct cx_dax_recipe rc;
		cx_err why;
		if (cx_region_dax_recipe(r, &rc, &why))
			return bad(st, e, "host %s: region%d does not route "
				   "through its decoders as recorded (%s)",
				   h->name, id, why.msg);
	}
	return 0;
}

int cx_state_apply(const struct cx_state *st, struct cx_fabric *f,
		   cx_err *e)
{
	struct json_object *hosts;
	int rc;

	if (!st || !(hosts = get(st->root, "hosts", json_type_object)))
		return 0;
	json_object_object_foreach(hosts, hname, ho) {
		struct cx_host *h = cx_host_find(f, hname);
		struct json_object *regs = get(ho, "regions", json_type_array);
		struct json_object *decs = get(ho, "decoders", json_type_object);
		int next = 0;
		if (!h)
			return bad(st, e, "it has host %s, which the topology "
				   "does not", hname);
		if (!regs || !decs || !get_int(ho, "next_region_id", &next) ||
		    next < 0)
			return bad(st, e, "host %s lacks its regions, decoders "
				   "or next region id", hname);
		for (size_t i = 0; i < json_object_array_length(regs); i++)
			if ((rc = restore_region(st, h, json_object_array_get_idx(
						 regs, i), e)))
				return rc;
		json_object_object_foreach(decs, dname, d)
			if ((rc = restore_decoder(st, h, dname, d, e)))
				return rc;
		for (int i = 0; i < h->memdevs.n; i++) {
			cx_err why;
			if (cx_memdev_check_dpa(h->memdevs.v[i], &why))
				return bad(st, e, "host %s: %s", hname,
					   why.msg);
		}
		cx_host_decode_changed(h);  /* the compiled routes are stale */
		for (size_t i = 0; i < json_object_array_length(regs); i++)
			if ((rc = restore_targets(st, h, json_object_array_get_idx(
						  regs, i), e)))
				return rc;
		h->next_region_id = next;
		get_bool(ho, "bus_disabled", &h->bus_disabled);
		struct json_object *off = get(ho, "disabled", json_type_array);
		for (size_t i = 0; off && i < json_object_array_length(off);
		     i++) {
			const char *q = json_object_get_string(
				json_object_array_get_idx(off, i));
			struct cx_port *p = q ? cx_port_find_qid(h, q) : NULL;
			struct cx_memdev *m = q ? cx_memdev_find(h, q) : NULL;
			if (p)
				p->disabled = true;
			else if (m)
				m->disabled = true;
			else
				return bad(st, e, "host %s: '%s' is unbound, but "
					   "it is no port or memdev of the host",
					   hname, q ? q : "(null)");
		}
		for (int i = 0; i < h->regions.n; i++) {
			struct cx_region *r = h->regions.v[i];
			if (r->id >= next)
				return bad(st, e, "host %s: region%d is at or "
					   "past the next region id %d",
					   hname, r->id, next);
		}
	}
	return 0;
}
