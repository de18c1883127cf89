/*
 * topology.c - QEMU command lines into a validated, finalized fabric.
 *
 * For each host of the file (cfg_split gives us its words):
 *
 *   1. Options.  Leading words that are not options are the program name
 *      (`sudo /opt/.../qemu-system-x86_64`, or a wrapper such as
 *      `taskset ... numactl ... ${QEMU}` up to the first word naming QEMU).
 *      Then every word starting with '-' is an option; whether it takes a
 *      value comes from tables of QEMU's options.  A bare word where an
 *      option is expected is an error: it usually starts a second command
 *      line that belongs in its own [host NAME] section.
 *   2. Declarations, in any order as QEMU allows: -object (memory backends
 *      are built here), -m, -M/-machine (merged; cxl=on and the cxl-fmw.N.*
 *      window keys are collected), -numa, and every -device id.
 *   3. Devices, in command-line order as QEMU creates them: each one's bus
 *      must be an earlier device of the right kind.  Host bridges, root
 *      ports, switch ports and Type 3 devices become model objects.
 *   4. Windows: cxl-fmw.N (and the 2021 development branch's pxb-cxl
 *      window-base[i]/memdev[i] form) become struct cx_window.
 *   5. Whole-host rules (cxl=on, bus number ranges, ...).
 *
 * Then rules across hosts (shared mem-paths must agree on size), then
 * cx_fabric_finalize() and rules that need addresses (window overlap).
 *
 * Rules come from QEMU (same meaning, our own words) and from what QEMU
 * misses but Linux or the model needs.  Every error reads
 * "FILE:LINE: OPTION AS WRITTEN: what is wrong (the rule)".  Input that is
 * accepted but deserves a note (legacy syntax, properties kept but not
 * modeled) is recorded in fabric->warnings as "FILE:LINE: note".
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "grammar.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define MAX_HBS 16            /* 1 MiB host register block / 64 KiB */
#define MAX_WINDOWS 64        /* cxl-fmw.0 .. cxl-fmw.63 */
#define MAX_TARGET_SLOTS 64   /* targets.K parsed up to K = 63 */
#define MAX_LEGACY 16         /* window-base[0..15] per pxb-cxl */
#define MAX_DC_REGIONS 8      /* QEMU's DCD_MAX_NUM_REGION */
#define MAX_RAM_SLOTS 256     /* QEMU x86: ACPI_MAX_RAM_SLOTS */
#define OPT_SHOWN 400         /* longest option text quoted in a message */

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* parsing state                                                         */
/* ------------------------------------------------------------------ */

struct copt {                 /* one option of a command line */
	const char *name;     /* without dashes */
	const char *value;    /* NULL for flags */
	int line;
	char *text;           /* as written, for messages */
};

enum dev_kind { DEV_OTHER, DEV_HB, DEV_RP, DEV_USP, DEV_DSP, DEV_T3 };

struct cdev {                 /* one -device */
	struct copt *o;
	struct cfg_kvlist kv;
	const char *driver;
	const char *id;       /* id= or a generated "device[N]" */
	char *gen_id;
	bool anonymous;
	int index;            /* order on the command line */
	enum dev_kind kind;
	struct cx_port *port;
	struct cdev *below;   /* RP/DSP: the one device on its bus */
	/* pxb-cxl legacy windows: window-base[i] + memdev[i] */
	uint64_t lbase[MAX_LEGACY];
	const char *lmem[MAX_LEGACY];
	int nlegacy;
};

struct cobj {                 /* one -object */
	struct copt *o;
	struct cfg_kvlist kv;
	const char *type;
	const char *id;
	struct cx_backend *be;
	/* who maps it (QEMU: a backend is mapped once) */
	const char *user;     /* device or option that took it */
	int user_line;
	bool user_is_device;
	uint64_t carved;      /* legacy size= slices handed out */
	const char *carver;   /* first legacy slice's device */
	int carver_line;
	const char *lwin;     /* pxb-cxl whose legacy window it is */
	int lwin_line;
};

struct fmw {                  /* cxl-fmw.N as collected from -M */
	struct copt *first;
	const char *size;
	struct copt *size_o;
	const char *gran;
	struct copt *gran_o;
	const char *tgt[MAX_TARGET_SLOTS];
	struct copt *tgt_o[MAX_TARGET_SLOTS];
	int max_t;
};

struct slotuse {              /* chassis/slot of a PCIe port */
	unsigned chassis, slot;
	const char *id;
	int line;
};

struct winsrc {               /* where a window was declared */
	struct cx_window *w;
	struct cx_host *h;
	char *text;           /* the option, as written */
};

struct ctx {
	const char *file;
	struct cx_fabric *f;
	cx_err *e;
	bool sections;
	struct winsrc *ws;
	int nws;
};

struct hctx {
	struct ctx *c;
	struct cfg_hostsrc *src;
	struct cx_host *h;
	struct copt *opts;
	int nopts;
	struct cobj *objs;
	int nobjs;
	struct cdev *devs;
	int ndevs;
	int nanon;
	/* -m, merged */
	const char *m_size, *m_slots, *m_maxmem;
	struct copt *m_o;
	struct cfg_kvlist *mkv;
	int nmkv;
	/* -M/-machine, merged */
	const char *mtype;
	struct copt *mtype_o;
	const char *ram_be;   /* machine memory-backend= */
	struct copt *ram_be_o;
	bool cxl;
	struct fmw fmw[MAX_WINDOWS];
	int max_fmw;
	/* -numa node,memdev= */
	const char *numa_mem[64];
	int numa_line[64];
	int nnuma;
	struct slotuse *slots;
	int nslots;
};

/* ------------------------------------------------------------------ */
/* messages                                                              */
/* ------------------------------------------------------------------ */

static int verr(struct hctx *x, int line, const struct copt *o,
		const char *fmt, va_list ap)
{
	char msg[CX_ERR_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!o)
		return cx_fail(x->c->e, EINVAL, "%s:%d: %s", x->c->file, line,
			       msg);
	size_t tl = strlen(o->text);
	return cx_fail(x->c->e, EINVAL, "%s:%d: %.*s%s: %s", x->c->file,
		       o->line, OPT_SHOWN, o->text,
		       tl > OPT_SHOWN ? "..." : "", msg);
}

/* error about option o: "file:line: -opt value: message" */
static int oerr(struct hctx *x, const struct copt *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int oerr(struct hctx *x, const struct copt *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(x, o->line, o, fmt, ap);
	va_end(ap);
	return rc;
}

/* error at a line, not about one option */
static int lerr(struct hctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lerr(struct hctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(x, line, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* an error from a util parser, placed at option o */
static int perr(struct hctx *x, const struct copt *o, const cx_err *t)
{
	return oerr(x, o, "%s", t->msg);
}

static void cwarn(struct ctx *c, const char *host, int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cwarn(struct ctx *c, const char *host, int line,
		  const char *fmt, ...)
{
	char msg[CX_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->sections && host)
		cx_vec_push(&c->f->warnings,
			    cx_xasprintf("%s:%d: host %s: %s", c->file, line,
					 host, msg));
	else
		cx_vec_push(&c->f->warnings,
			    cx_xasprintf("%s:%d: %s", c->file, line, msg));
}

#define WARN(x, line, ...) cwarn((x)->c, (x)->h->name, (line), __VA_ARGS__)

static void note_window(struct hctx *x, struct cx_window *w,
			const struct copt *o);

static const char *fmt_size(char *buf, size_t n, uint64_t v)
{
	cx_fmt_size(buf, n, v);
	return buf;
}

/* ------------------------------------------------------------------ */
/* small parsers                                                         */
/* ------------------------------------------------------------------ */

/* QEMU ids: a letter, then letters, digits, '-', '.', '_' */
static bool id_wellformed(const char *id)
{
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
		return false;
	for (const char *p = id + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		      *p == '_'))
			return false;
	return true;
}

/* a decimal index at *p, advancing it; -1 if none */
static long take_index(const char **p)
{
	const char *s = *p;
	long v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (v > 100000)
			return -1;
		s++;
	}
	*p = s;
	return v;
}

/* an unsigned property with a default */
static int get_uint(struct hctx *x, const struct copt *o,
		    const struct cfg_kvlist *kv, const char *owner,
		    const char *key, uint64_t max, uint64_t def,
		    uint64_t *out)
{
	const char *s = cfg_kv_get(kv, key);
	cx_err t;
	char what[160];

	*out = def;
	if (!s)
		return 0;
	snprintf(what, sizeof(what), "%s property '%s'", owner, key);
	if (cx_parse_u64(s, out, what, &t))
		return perr(x, o, &t);
	if (*out > max)
		return oerr(x, o, "%s: %s is out of range (0 to %llu)", what, s,
			    (unsigned long long)max);
	return 0;
}

/* the current properties of a table, for a message */
static void list_props(char *buf, size_t n, const struct cfg_prop *t)
{
	size_t used = 0;
	buf[0] = 0;
	for (; t && t->name && used + 2 < n; t++) {
		if (t->flags & CFG_PROP_INDEXED)
			continue;
		int k = snprintf(buf + used, n - used, "%s%s",
				 used ? ", " : "", t->name);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/*
 * Check every key of a modeled device or object against its type's
 * properties (config/props.c): unknown keys are errors, values must have
 * the property's type, kept properties that change QEMU's behaviour get
 * a warning.
 */
static int check_props(struct hctx *x, const struct copt *o,
		       const struct cfg_kvlist *kv, const char *owner,
		       const char *id)
{
	const struct cfg_type *type = cfg_type_find(owner);

	for (int i = 0; i < kv->n; i++) {
		const struct cfg_kv *k = &kv->kv[i];
		const struct cfg_prop *p;
		cx_err t;

		for (int j = i + 1; j < kv->n; j++)
			if (!strcmp(kv->kv[j].key, k->key))
				return oerr(x, o, "'%s' is given twice",
					    k->key);
		if (k->implied || cfg_generic_key(k->key))
			continue;
		if (!(p = cfg_prop_find(owner, k->key))) {
			char known[600];
			list_props(known, sizeof(known), type->tables[0]);
			return oerr(x, o, "%s has no property '%s' (its "
				    "properties include %s)", owner, k->key,
				    known);
		}
		if (cfg_prop_check(p, owner, k->val, &t))
			return perr(x, o, &t);
		if (p->note)
			WARN(x, o->line, "%s %s: %s=%s is kept but not "
			     "modeled: %s", owner, id, k->key, k->val,
			     p->note);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* step 1: options                                                       */
/* ------------------------------------------------------------------ */

static struct copt *add_opt(struct hctx *x, const char *name,
			    const char *word, const char *value, int line)
{
	x->opts = cx_xrealloc(x->opts, sizeof(*x->opts) *
			      (size_t)(x->nopts + 1));
	struct copt *o = &x->opts[x->nopts++];
	o->name = name;
	o->value = value;
	o->line = line;
	o->text = value ? cx_xasprintf("%s %s", word, value)
			: cx_xstrdup(word);
	return o;
}

/* The words become options as QEMU's grammar says (config/grammar.c). */
static int split_options(struct hctx *x)
{
	struct cfg_word *w = x->src->w;
	struct cfg_cmdline cl;
	cx_err t;
	int rc;

	rc = cfg_cmdline_split((char *const *)x->h->words.v, x->src->n,
			       x->h->name, &cl, &t);
	for (int i = 0; i < cl.nnote; i++)
		WARN(x, w[cl.note[i].word].line, "%s", cl.note[i].msg);
	if (rc) {
		rc = lerr(x, w[cl.err_word].line, "%s", t.msg);
		cfg_cmdline_free(&cl);
		return rc;
	}
	for (int i = 0; i < cl.n; i++) {
		const struct cfg_opt *o = &cl.opt[i];
		add_opt(x, o->name, w[o->word].text,
			o->value < 0 ? NULL : w[o->value].text,
			w[o->word].line);
	}
	cfg_cmdline_free(&cl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* step 2: declarations                                                  */
/* ------------------------------------------------------------------ */

static struct cobj *find_obj(struct hctx *x, const char *id)
{
	for (int i = 0; i < x->nobjs; i++)
		if (x->objs[i].id && !strcmp(x->objs[i].id, id))
			return &x->objs[i];
	return NULL;
}

static struct cdev *find_dev(struct hctx *x, const char *id)
{
	for (int i = 0; i < x->ndevs; i++)
		if (!x->devs[i].anonymous && !strcmp(x->devs[i].id, id))
			return &x->devs[i];
	return NULL;
}

static int add_object(struct hctx *x, struct copt *o)
{
	struct cfg_kvlist kv;
	cx_err t;
	int rc;

	if ((rc = cfg_kv_parse(o->value, "qom-type", &kv, &t)))
		return perr(x, o, &t);
	x->objs = cx_xrealloc(x->objs, sizeof(*x->objs) *
			      (size_t)(x->nobjs + 1));
	struct cobj *ob = &x->objs[x->nobjs++];
	memset(ob, 0, sizeof(*ob));
	ob->o = o;
	ob->kv = kv;
	ob->type = cfg_kv_get(&ob->kv, "qom-type");
	ob->id = cfg_kv_get(&ob->kv, "id");

	if (!ob->type)
		return oerr(x, o, "-object needs a type first, e.g. -object "
			    "memory-backend-ram,id=...,size=...");
	if (!ob->id)
		return oerr(x, o, "the %s has no id= (QEMU requires an id "
			    "for every -object)", ob->type);
	if (!id_wellformed(ob->id))
		return oerr(x, o, "id '%s' is not an identifier (a letter, "
			    "then letters, digits, '-', '.' or '_')", ob->id);
	for (int i = 0; i < x->nobjs - 1; i++)
		if (x->objs[i].id && !strcmp(x->objs[i].id, ob->id))
			return oerr(x, o, "duplicate object id '%s': line %d "
				    "already declares it", ob->id,
				    x->objs[i].o->line);

	enum cx_backend_kind kind;
	if (!strcmp(ob->type, "memory-backend-ram"))
		kind = CX_BACKEND_RAM;
	else if (!strcmp(ob->type, "memory-backend-file"))
		kind = CX_BACKEND_FILE;
	else if (!strcmp(ob->type, "memory-backend-memfd"))
		kind = CX_BACKEND_MEMFD;
	else
		return 0; /* kept, not modeled */

	if ((rc = check_props(x, o, &ob->kv, ob->type, ob->id)))
		return rc;

	const char *size = cfg_kv_get(&ob->kv, "size");
	const char *path = cfg_kv_get(&ob->kv, "mem-path");
	const char *share = cfg_kv_get(&ob->kv, "share");
	const char *off = cfg_kv_get(&ob->kv, "offset");
	uint64_t sz = 0, offv = 0;

	if (!size)
		return oerr(x, o, "%s %s has no size= (a memory backend "
			    "needs its size)", ob->type, ob->id);
	if (cx_parse_size(size, &sz, "size", &t))
		return perr(x, o, &t);
	if (sz == 0)
		return oerr(x, o, "size=%s: a memory backend cannot have "
			    "size 0", size);
	if (kind == CX_BACKEND_FILE && (!path || !*path))
		return oerr(x, o, "memory-backend-file %s needs mem-path= "
			    "(the file that holds its bytes)", ob->id);
	if (off && (cx_parse_size(off, &offv, "offset", &t) == 0) && offv)
		return oerr(x, o, "offset=%s: cxlemu maps a backing file from "
			    "its start; use a file of its own instead of an "
			    "offset", off);

	struct cx_backend *b = cx_backend_new(x->h, ob->id, o->line);
	b->kind = kind;
	b->size = sz;
	b->share = kind == CX_BACKEND_MEMFD; /* QEMU's defaults */
	if (share) {
		bool v;
		if (cx_parse_bool(share, &v, "share", &t))
			return perr(x, o, &t);
		b->share = v;
	}
	if (path)
		b->mem_path = cx_xstrdup(path);
	ob->be = b;
	if (path && path[0] != '/')
		WARN(x, o->line, "%s %s: mem-path '%s' is relative; it is "
		     "resolved against the daemon's working directory",
		     ob->type, ob->id, path);
	return 0;
}

static int merge_mem(struct hctx *x, struct copt *o)
{
	struct cfg_kvlist kv;
	cx_err t;

	if (cfg_kv_parse(o->value, "size", &kv, &t))
		return perr(x, o, &t);
	x->mkv = cx_xrealloc(x->mkv, sizeof(*x->mkv) * (size_t)(x->nmkv + 1));
	x->mkv[x->nmkv++] = kv;
	for (int i = 0; i < kv.n; i++) {
		const char *k = kv.kv[i].key;
		if (!strcmp(k, "size"))
			x->m_size = kv.kv[i].val;
		else if (!strcmp(k, "slots"))
			x->m_slots = kv.kv[i].val;
		else if (!strcmp(k, "maxmem"))
			x->m_maxmem = kv.kv[i].val;
		else
			return oerr(x, o, "-m has no property '%s' (it takes "
				    "size, slots and maxmem)", k);
	}
	x->m_o = o;
	return 0;
}

static int apply_mem(struct hctx *x)
{
	struct copt *o = x->m_o;
	struct cx_host *h = x->h;
	uint64_t size = 128 * MIB, maxmem = 0, slots = 0;
	cx_err t;
	char a[32], b[32];

	if (!o) {
		h->maxram_size = h->ram_size;
		return 0;
	}
	if (x->m_size) {
		const char *s = x->m_size;
		size_t n = strlen(s);
		if (!n)
			return oerr(x, o, "-m needs a size");
		/* QEMU: a size without a suffix is in MiB */
		char *withm = (s[n - 1] >= '0' && s[n - 1] <= '9')
				      ? cx_xasprintf("%sM", s)
				      : cx_xstrdup(s);
		int rc = cx_parse_size(withm, &size, "-m size", &t);
		free(withm);
		if (rc)
			return perr(x, o, &t);
		if (size == 0)
			size = 128 * MIB; /* QEMU: -m 0 means the default */
		size = (size + 8191) / 8192 * 8192;
	}
	if (x->m_slots && cx_parse_u64(x->m_slots, &slots, "-m slots", &t))
		return perr(x, o, &t);
	if (x->m_maxmem) {
		if (cx_parse_size(x->m_maxmem, &maxmem, "-m maxmem", &t))
			return perr(x, o, &t);
		if (maxmem < size)
			return oerr(x, o, "maxmem=%s (%s) is less than the RAM "
				    "size (%s): maxmem must be at least the "
				    "initial memory size", x->m_maxmem,
				    fmt_size(a, sizeof(a), maxmem),
				    fmt_size(b, sizeof(b), size));
		if (slots && maxmem == size)
			return oerr(x, o, "slots=%s but maxmem equals the RAM "
				    "size (%s): memory slots need maxmem above "
				    "the initial memory size", x->m_slots,
				    fmt_size(a, sizeof(a), size));
	} else if (x->m_slots) {
		return oerr(x, o, "slots=%s without maxmem=: memory slots "
			    "need a maximum memory size", x->m_slots);
	}
	if (slots > MAX_RAM_SLOTS)
		return oerr(x, o, "slots=%s: QEMU's x86 machines support at "
			    "most %d memory slots", x->m_slots, MAX_RAM_SLOTS);
	h->ram_size = size;
	h->maxram_size = x->m_maxmem ? maxmem : size;
	h->ram_slots = (int)slots;
	return 0;
}

/* cxl-fmw.N.targets.K / .size / .interleave-granularity */
static int machine_fmw(struct hctx *x, struct copt *o, const char *key,
		       const char *val)
{
	const char *p = key + strlen("cxl-fmw");
	long n, k;

	if (*p != '.')
		goto bad;
	p++;
	if ((n = take_index(&p)) < 0 || *p != '.')
		goto bad;
	p++;
	if (n >= MAX_WINDOWS)
		return oerr(x, o, "%s: cxlemu supports windows cxl-fmw.0 to "
			    "cxl-fmw.%d", key, MAX_WINDOWS - 1);
	struct fmw *w = &x->fmw[n];
	if (!w->first) {
		w->first = o;
		w->max_t = -1;
	}
	if ((int)n > x->max_fmw)
		x->max_fmw = (int)n;
	if (!strcmp(p, "size")) {
		w->size = val;
		w->size_o = o;
	} else if (!strcmp(p, "interleave-granularity")) {
		w->gran = val;
		w->gran_o = o;
	} else if (!strncmp(p, "targets.", 8)) {
		p += 8;
		if ((k = take_index(&p)) < 0 || *p)
			goto bad;
		if (k >= MAX_TARGET_SLOTS)
			return oerr(x, o, "%s: interleave ways: %ld is not "
				    "supported (a window has 1, 2, 3, 4, 6, 8, "
				    "12 or 16 targets)", key, k + 1);
		w->tgt[k] = val;
		w->tgt_o[k] = o;
		if (k > w->max_t)
			w->max_t = (int)k;
	} else {
		goto bad;
	}
	return 0;
bad:
	return oerr(x, o, "'%s' is not a window property (a window takes "
		    "cxl-fmw.N.targets.K, cxl-fmw.N.size and "
		    "cxl-fmw.N.interleave-granularity)", key);
}

static int machine(struct hctx *x, struct copt *o)
{
	struct cfg_kvlist kv;
	cx_err t;
	int rc = 0;

	if (cfg_kv_parse(o->value, "type", &kv, &t))
		return perr(x, o, &t);
	x->mkv = cx_xrealloc(x->mkv, sizeof(*x->mkv) * (size_t)(x->nmkv + 1));
	x->mkv[x->nmkv++] = kv;
	for (int i = 0; i < kv.n && !rc; i++) {
		const char *k = kv.kv[i].key, *v = kv.kv[i].val;
		if (!strcmp(k, "type")) {
			x->mtype = v;
			x->mtype_o = o;
		} else if (!strcmp(k, "cxl")) {
			bool b;
			if (cx_parse_bool(v, &b, "machine property 'cxl'", &t))
				return perr(x, o, &t);
			x->cxl = b;
		} else if (!strncmp(k, "cxl-fmw", 7)) {
			rc = machine_fmw(x, o, k, v);
		} else if (!strcmp(k, "memory-backend")) {
			x->ram_be = v;
			x->ram_be_o = o;
		} else if (cfg_machine_prop_kept(k)) {
			/* kept, not modeled */
		} else if (!strncmp(k, "cxl", 3)) {
			rc = oerr(x, o, "'%s' is not a CXL machine property "
				  "(those are cxl=on|off and "
				  "cxl-fmw.N.targets.K, .size and "
				  ".interleave-granularity)", k);
		} else {
			WARN(x, o->line, "machine property '%s' is not one "
			     "cxlemu knows; it is kept, not modeled", k);
		}
	}
	return rc;
}

static int note_numa(struct hctx *x, struct copt *o)
{
	struct cfg_kvlist kv;
	cx_err t;

	if (!o->value || cfg_kv_parse(o->value, "type", &kv, &t))
		return 0; /* not modeled: QEMU will judge it */
	const char *m = cfg_kv_get(&kv, "memdev");
	if (m && x->nnuma < (int)CX_ARRAY_SIZE(x->numa_mem)) {
		x->mkv = cx_xrealloc(x->mkv, sizeof(*x->mkv) *
				     (size_t)(x->nmkv + 1));
		x->mkv[x->nmkv++] = kv;
		x->numa_mem[x->nnuma] = m;
		x->numa_line[x->nnuma++] = o->line;
	} else {
		cfg_kvlist_free(&kv);
	}
	return 0;
}

static enum dev_kind driver_kind(const char *d)
{
	if (!strcmp(d, "pxb-cxl")) return DEV_HB;
	if (!strcmp(d, "cxl-rp")) return DEV_RP;
	if (!strcmp(d, "cxl-upstream")) return DEV_USP;
	if (!strcmp(d, "cxl-downstream")) return DEV_DSP;
	if (!strcmp(d, "cxl-type3")) return DEV_T3;
	return DEV_OTHER;
}

static int register_device(struct hctx *x, struct copt *o)
{
	struct cfg_kvlist kv;
	cx_err t;

	if (cfg_kv_parse(o->value, "driver", &kv, &t))
		return perr(x, o, &t);
	x->devs = cx_xrealloc(x->devs, sizeof(*x->devs) *
			      (size_t)(x->ndevs + 1));
	struct cdev *d = &x->devs[x->ndevs];
	memset(d, 0, sizeof(*d));
	d->index = x->ndevs++;
	d->o = o;
	d->kv = kv;
	d->driver = cfg_kv_get(&d->kv, "driver");
	d->id = cfg_kv_get(&d->kv, "id");
	if (!d->driver)
		return oerr(x, o, "-device needs a driver first, e.g. -device "
			    "cxl-type3,...");
	d->kind = driver_kind(d->driver);
	if (!d->id) {
		/* QEMU names anonymous devices peripheral-anon/device[N] */
		d->gen_id = cx_xasprintf("device[%d]", x->nanon++);
		d->id = d->gen_id;
		d->anonymous = true;
		if (d->kind != DEV_OTHER)
			WARN(x, o->line, "%s has no id=; it is called %s, and "
			     "nothing can name it as a bus or window target",
			     d->driver, d->id);
	} else {
		if (!id_wellformed(d->id))
			return oerr(x, o, "id '%s' is not an identifier (a "
				    "letter, then letters, digits, '-', '.' "
				    "or '_')", d->id);
		struct cdev *prev = find_dev(x, d->id);
		if (prev && prev != d)
			return oerr(x, o, "duplicate device id '%s': line %d "
				    "already declares a %s with it", d->id,
				    prev->o->line, prev->driver);
	}
	if (d->kind == DEV_OTHER && !strncmp(d->driver, "cxl", 3))
		WARN(x, o->line, "%s %s is kept but not modeled: cxlemu "
		     "models pxb-cxl, cxl-rp, cxl-upstream, cxl-downstream "
		     "and cxl-type3", d->driver, d->id);
	return 0;
}

/* ------------------------------------------------------------------ */
/* step 3: devices                                                       */
/* ------------------------------------------------------------------ */

static const char *kind_word(enum dev_kind k)
{
	switch (k) {
	case DEV_RP: return "root port";
	case DEV_DSP: return "downstream port";
	default: return "port";
	}
}

/* The device whose bus `d` names, checked against the kinds allowed. */
static int lookup_bus(struct hctx *x, struct cdev *d, enum dev_kind k1,
		      enum dev_kind k2, const char *rule, struct cdev **out)
{
	const char *bus = cfg_kv_get(&d->kv, "bus");
	if (!bus)
		return oerr(x, d->o, "bus= is missing (%s)", rule);
	struct cdev *p = find_dev(x, bus);
	if (!p) {
		if (!strcmp(bus, "pcie.0") || !strcmp(bus, "pci.0"))
			return oerr(x, d->o, "bus '%s' is the machine's root "
				    "bus (%s)", bus, rule);
		return oerr(x, d->o, "bus '%s' does not exist (%s)", bus,
			    rule);
	}
	if (p->index > d->index)
		return oerr(x, d->o, "bus '%s' is declared later, at line %d; "
			    "QEMU creates devices in command-line order, so a "
			    "device must follow the device that provides its "
			    "bus", bus, p->o->line);
	if (p->kind != k1 && p->kind != k2)
		return oerr(x, d->o, "bus '%s' is a %s (line %d), but %s", bus,
			    p->driver, p->o->line, rule);
	*out = p;
	return 0;
}

/* A root or downstream port holds one device. */
static int occupy(struct hctx *x, struct cdev *port, struct cdev *d)
{
	if (port->below)
		return oerr(x, d->o, "%s %s already has %s %s (line %d) on "
			    "its bus; a %s holds one device", kind_word(
				    port->kind), port->id,
			    port->below->driver, port->below->id,
			    port->below->o->line, kind_word(port->kind));
	port->below = d;
	return 0;
}

/* chassis/slot pairs are unique among PCIe slots (QEMU refuses) */
static int take_slot(struct hctx *x, struct cdev *d, unsigned chassis,
		     unsigned slot)
{
	for (int i = 0; i < x->nslots; i++) {
		struct slotuse *s = &x->slots[i];
		if (s->chassis == chassis && s->slot == slot)
			return oerr(x, d->o, "chassis %u slot %u is already "
				    "taken by %s (line %d); every PCIe port "
				    "needs its own chassis/slot pair",
				    chassis, slot, s->id, s->line);
	}
	x->slots = cx_xrealloc(x->slots, sizeof(*x->slots) *
			       (size_t)(x->nslots + 1));
	x->slots[x->nslots++] = (struct slotuse){ chassis, slot, d->id,
						  d->o->line };
	return 0;
}

static int slot_props_of(struct hctx *x, struct cdev *d, unsigned *chassis,
			 unsigned *slot, unsigned *port)
{
	uint64_t c, s, p;
	int rc;
	if ((rc = get_uint(x, d->o, &d->kv, d->driver, "chassis", 0xff, 0,
			   &c)) ||
	    (rc = get_uint(x, d->o, &d->kv, d->driver, "slot", 0xffff, 0,
			   &s)) ||
	    (rc = get_uint(x, d->o, &d->kv, d->driver, "port", 0xff, 0, &p)))
		return rc;
	*chassis = (unsigned)c;
	*slot = (unsigned)s;
	*port = (unsigned)p;
	return 0;
}

static int resolve_backend(struct hctx *x, struct cdev *d, const char *prop,
			   const char *id, struct cobj **out);
static int used_twice(struct hctx *x, struct cdev *d, const char *prop,
		      struct cobj *ob, const char *by, int line);

static int build_hb(struct hctx *x, struct cdev *d)
{
	int rc, nhb = 0;
	uint64_t bus_nr;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)))
		return rc;
	const char *bus = cfg_kv_get(&d->kv, "bus");
	if (bus && strcmp(bus, "pcie.0")) {
		struct cdev *p = find_dev(x, bus);
		if (!strcmp(bus, "pci.0"))
			return oerr(x, d->o, "pxb-cxl cannot sit on a "
				    "conventional PCI bus; it goes on the "
				    "PCIe root bus, bus=pcie.0");
		if (p)
			return oerr(x, d->o, "bus '%s' is a %s; a pxb-cxl host "
				    "bridge can only sit on the root bus "
				    "pcie.0", bus, p->driver);
		return oerr(x, d->o, "bus '%s' does not exist (a pxb-cxl host "
			    "bridge sits on the root bus pcie.0)", bus);
	}
	if ((rc = get_uint(x, d->o, &d->kv, d->driver, "bus_nr", 0xff, 0,
			   &bus_nr)))
		return rc;
	if (!cfg_kv_get(&d->kv, "bus_nr") || bus_nr == 0)
		return oerr(x, d->o, "bus_nr= must be set to 1..255: bus 0 "
			    "is the root bus pcie.0");
	for (int i = 0; i < d->index; i++) {
		struct cdev *q = &x->devs[i];
		uint64_t other;
		if (strcmp(q->driver, "pxb-cxl") && strcmp(q->driver, "pxb") &&
		    strcmp(q->driver, "pxb-pcie"))
			continue;
		if (q->kind == DEV_HB)
			nhb++;
		const char *s = cfg_kv_get(&q->kv, "bus_nr");
		if (s && cx_parse_u64(s, &other, "bus_nr", NULL) == 0 &&
		    other == bus_nr)
			return oerr(x, d->o, "bus %llu is already in use by "
				    "%s (line %d); every expander bridge "
				    "needs its own bus_nr",
				    (unsigned long long)bus_nr, q->id,
				    q->o->line);
	}
	if (nhb >= MAX_HBS)
		return oerr(x, d->o, "a host bridge beyond the %dth: the 1 MiB "
			    "CXL host register block has room for %d host "
			    "bridges of 64 KiB", MAX_HBS, MAX_HBS);

	/* 2021 development branch: window-base[i] + memdev[i] */
	bool have_base[MAX_LEGACY] = { 0 }, have_mem[MAX_LEGACY] = { 0 };
	int maxi = -1;
	for (int i = 0; i < d->kv.n; i++) {
		const struct cfg_kv *k = &d->kv.kv[i];
		int idx;
		bool isbase = cfg_indexed_key(k->key, "window-base", &idx);
		if (!isbase && !cfg_indexed_key(k->key, "memdev", &idx))
			continue;
		if (idx >= MAX_LEGACY)
			return oerr(x, d->o, "%s: cxlemu reads window-base[0] "
				    "to window-base[%d]", k->key,
				    MAX_LEGACY - 1);
		if (isbase) {
			cx_err t;
			if (cx_parse_u64(k->val, &d->lbase[idx], k->key, &t))
				return perr(x, d->o, &t);
			have_base[idx] = true;
		} else {
			d->lmem[idx] = k->val;
			have_mem[idx] = true;
		}
		if (idx > maxi)
			maxi = idx;
	}
	for (int i = 0; i <= maxi; i++) {
		if (!have_base[i] || !have_mem[i])
			return oerr(x, d->o, "window %d of the pre-7.1 form "
				    "needs both window-base[%d] and "
				    "memdev[%d]", i, i, i);
	}
	d->nlegacy = maxi + 1;
	/* the window's memory is taken now, in command-line order */
	for (int i = 0; i < d->nlegacy; i++) {
		struct cobj *ob;
		char prop[32];
		snprintf(prop, sizeof(prop), "memdev[%d]", i);
		if ((rc = resolve_backend(x, d, prop, d->lmem[i], &ob)))
			return rc;
		if (ob->user)
			return used_twice(x, d, prop, ob, ob->user,
					  ob->user_line);
		if (!ob->lwin) {
			ob->lwin = d->id;
			ob->lwin_line = d->o->line;
		}
	}
	const char *lw = cfg_kv_get(&d->kv, "len-window-base");
	if (lw) {
		uint64_t len;
		cx_err t;
		if (cx_parse_u64(lw, &len, "len-window-base", &t))
			return perr(x, d->o, &t);
		if ((int)len != d->nlegacy)
			return oerr(x, d->o, "len-window-base=%s but %d "
				    "window-base[i]/memdev[i] pairs are given",
				    lw, d->nlegacy);
	}
	const char *uid = cfg_kv_get(&d->kv, "uid");
	if (uid)
		WARN(x, d->o->line, "pxb-cxl %s: uid=%s (pre-7.1 syntax) is "
		     "ignored: a host bridge's UID is its bus_nr, %llu", d->id,
		     uid, (unsigned long long)bus_nr);

	d->port = cx_port_new(x->h, CX_PORT_HB, d->id, d->o->line);
	d->port->bus_nr = (int)bus_nr;
	return 0;
}

static int build_rp(struct hctx *x, struct cdev *d)
{
	struct cdev *hb;
	unsigned chassis, slot, port;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_HB, DEV_HB, "a cxl-rp must sit on a "
			     "pxb-cxl host bridge", &hb)) ||
	    (rc = slot_props_of(x, d, &chassis, &slot, &port)))
		return rc;
	for (int i = 0; i < hb->port->children.n; i++) {
		struct cx_port *o = hb->port->children.v[i];
		if (o->port_num == (int)port)
			return oerr(x, d->o, "port %u is already used by root "
				    "port %s (line %d) on host bridge %s; each "
				    "root port of a host bridge needs its own "
				    "port number (it is the HDM decoder's "
				    "target id)", port, o->qid, o->line,
				    hb->id);
	}
	if ((rc = take_slot(x, d, chassis, slot)))
		return rc;
	struct cx_port *p = cx_port_new(x->h, CX_PORT_RP, d->id, d->o->line);
	p->port_num = (int)port;
	p->chassis = (int)chassis;
	p->slot = (int)slot;
	cx_port_attach(hb->port, p);
	d->port = p;
	return 0;
}

static int get_sn(struct hctx *x, struct cdev *d, uint64_t *sn, bool *has)
{
	uint64_t v;
	int rc = get_uint(x, d->o, &d->kv, d->driver, "sn", UINT64_MAX,
			  UINT64_MAX, &v);
	if (rc)
		return rc;
	*sn = v;
	*has = v != UINT64_MAX; /* QEMU: all-ones means no serial number */
	return 0;
}

static int build_usp(struct hctx *x, struct cdev *d)
{
	struct cdev *rp;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_RP, DEV_RP, "a cxl-upstream must sit "
			     "on a cxl-rp root port", &rp)) ||
	    (rc = occupy(x, rp, d)))
		return rc;
	struct cx_port *p = cx_port_new(x->h, CX_PORT_USP, d->id, d->o->line);
	if ((rc = get_sn(x, d, &p->sn, &p->has_sn)))
		return rc;
	cx_port_attach(rp->port, p);
	d->port = p;
	return 0;
}

static int build_dsp(struct hctx *x, struct cdev *d)
{
	struct cdev *usp;
	unsigned chassis, slot, port;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_USP, DEV_USP, "a cxl-downstream must "
			     "sit on a cxl-upstream switch port", &usp)) ||
	    (rc = slot_props_of(x, d, &chassis, &slot, &port)))
		return rc;
	for (int i = 0; i < usp->port->children.n; i++) {
		struct cx_port *o = usp->port->children.v[i];
		if (o->port_num == (int)port)
			return oerr(x, d->o, "port %u is already used by "
				    "downstream port %s (line %d) of switch "
				    "%s; each downstream port of a switch "
				    "needs its own port number", port, o->qid,
				    o->line, usp->id);
	}
	if ((rc = take_slot(x, d, chassis, slot)))
		return rc;
	struct cx_port *p = cx_port_new(x->h, CX_PORT_DSP, d->id, d->o->line);
	p->port_num = (int)port;
	p->chassis = (int)chassis;
	p->slot = (int)slot;
	cx_port_attach(usp->port, p);
	d->port = p;
	return 0;
}

/* Resolve a backend reference `prop=id` of device d. */
static int resolve_backend(struct hctx *x, struct cdev *d, const char *prop,
			   const char *id, struct cobj **out)
{
	struct cobj *ob = find_obj(x, id);
	if (!ob)
		return oerr(x, d->o, "%s=%s: memory backend '%s' does not "
			    "exist (no -object memory-backend-...,id=%s on "
			    "this host)", prop, id, id, id);
	if (!ob->be) {
		if (!strncmp(ob->type, "memory-backend-", 15))
			return oerr(x, d->o, "%s=%s: '%s' is a %s (line %d), "
				    "which cxlemu does not model; use "
				    "memory-backend-ram, -file or -memfd",
				    prop, id, id, ob->type, ob->o->line);
		return oerr(x, d->o, "%s=%s: '%s' is a %s (line %d), not a "
			    "memory backend", prop, id, id, ob->type,
			    ob->o->line);
	}
	*out = ob;
	return 0;
}

static int used_twice(struct hctx *x, struct cdev *d, const char *prop,
		      struct cobj *ob, const char *by, int line)
{
	return oerr(x, d->o, "%s=%s: memory backend %s can't be used "
		    "multiple times: %s (line %d) already uses it", prop,
		    ob->id, ob->id, by, line);
}

/* Take a backend for exclusive use by device d (QEMU maps it once). */
static int take_backend(struct hctx *x, struct cdev *d, const char *prop,
			const char *id, struct cobj **out)
{
	struct cobj *ob;
	int rc = resolve_backend(x, d, prop, id, &ob);
	if (rc)
		return rc;
	if (ob->user)
		return used_twice(x, d, prop, ob, ob->user, ob->user_line);
	if (ob->carver)
		return used_twice(x, d, prop, ob, ob->carver,
				  ob->carver_line);
	if (ob->lwin)
		return used_twice(x, d, prop, ob, ob->lwin, ob->lwin_line);
	ob->user = d->id;
	ob->user_line = d->o->line;
	ob->user_is_device = true;
	*out = ob;
	return 0;
}

static void numa_overlap_warning(struct hctx *x, struct cdev *d,
				 struct cobj *ob)
{
	for (int i = 0; i < x->nnuma; i++)
		if (!strcmp(x->numa_mem[i], ob->id))
			WARN(x, d->o->line, "memory backend %s is both the "
			     "memory of a NUMA node (-numa at line %d) and of "
			     "cxl-type3 %s; recent QEMU refuses a backend "
			     "mapped twice, and cxlemu models only the CXL "
			     "device", ob->id, x->numa_line[i], d->id);
}

static void align_warning(struct hctx *x, struct cdev *d, const char *what,
			  struct cobj *ob)
{
	char a[32];
	if (ob->be->size % CX_SZ_256M)
		WARN(x, d->o->line, "cxl-type3 %s: %s backend %s is %s, not a "
		     "multiple of 256 MiB; QEMU accepts it but its Identify "
		     "command then fails, so Linux does not bind the device",
		     d->id, what, ob->id, fmt_size(a, sizeof(a),
						   ob->be->size));
}

static int build_t3(struct hctx *x, struct cdev *d)
{
	struct cdev *port;
	struct cobj *vob = NULL, *pob = NULL, *lob = NULL, *dob = NULL;
	uint64_t ndc, legacy_size = 0, legacy_off = 0;
	char a[32], b[32];
	cx_err t;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_RP, DEV_DSP, "a cxl-type3 must sit on "
			     "a cxl-rp root port or a cxl-downstream switch "
			     "port", &port)) ||
	    (rc = occupy(x, port, d)) ||
	    (rc = get_uint(x, d->o, &d->kv, d->driver, "num-dc-regions", 0xff,
			   0, &ndc)))
		return rc;

	const char *vol = cfg_kv_get(&d->kv, "volatile-memdev");
	const char *per = cfg_kv_get(&d->kv, "persistent-memdev");
	const char *mem = cfg_kv_get(&d->kv, "memdev");
	const char *lsa = cfg_kv_get(&d->kv, "lsa");
	const char *dc = cfg_kv_get(&d->kv, "volatile-dc-memdev");
	const char *size = cfg_kv_get(&d->kv, "size");

	if (!vol && !per && !mem && ndc == 0)
		return oerr(x, d->o, "cxl-type3 needs at least one memory "
			    "backend: volatile-memdev=, persistent-memdev= "
			    "(or the deprecated memdev=)");
	if (mem && per)
		return oerr(x, d->o, "memdev= cannot be used together with "
			    "persistent-memdev=: memdev is the deprecated "
			    "spelling of persistent-memdev");
	if (size && !mem)
		return oerr(x, d->o, "size= is the pre-7.1 form that carves "
			    "the device out of memdev=; it does not go with "
			    "%s", vol ? "volatile-memdev=" :
			    "persistent-memdev=");
	if ((mem || per) && !lsa)
		return oerr(x, d->o, "persistent memory needs a label storage "
			    "area: lsa property must be set for persistent "
			    "devices (lsa=<backend id>)");
	if (ndc > MAX_DC_REGIONS)
		return oerr(x, d->o, "num-dc-regions=%llu: a device has at "
			    "most %d dynamic capacity regions",
			    (unsigned long long)ndc, MAX_DC_REGIONS);
	if (ndc && !dc)
		return oerr(x, d->o, "num-dc-regions=%llu: dynamic capacity "
			    "must have a backing device "
			    "(volatile-dc-memdev=)", (unsigned long long)ndc);

	if (vol) {
		if ((rc = take_backend(x, d, "volatile-memdev", vol, &vob)))
			return rc;
		align_warning(x, d, "volatile", vob);
	}
	if (mem && size) {
		/* 2021 branch: a slice of memdev=, `size` bytes long */
		if ((rc = resolve_backend(x, d, "memdev", mem, &pob)))
			return rc;
		if (pob->user)
			return used_twice(x, d, "memdev", pob, pob->user,
					  pob->user_line);
		if (cx_parse_size(size, &legacy_size, "size", &t))
			return perr(x, d->o, &t);
		if (legacy_size == 0 || legacy_size % CX_SZ_256M)
			return oerr(x, d->o, "size=%s: a device's capacity "
				    "must be a non-zero multiple of 256 MiB",
				    size);
		legacy_off = pob->carved;
		if (legacy_size > pob->be->size ||
		    legacy_off > pob->be->size - legacy_size)
			return oerr(x, d->o, "size=%s: backend %s (%s) has "
				    "%s left after the slices taken before "
				    "this device; the pre-7.1 carve-out must "
				    "fit in the backend", size, mem,
				    fmt_size(a, sizeof(a), pob->be->size),
				    fmt_size(b, sizeof(b),
					     pob->be->size - legacy_off));
		pob->carved += legacy_size;
		if (!pob->carver) {
			pob->carver = d->id;
			pob->carver_line = d->o->line;
		}
		WARN(x, d->o->line, "cxl-type3 %s: memdev=%s,size=%s "
		     "(pre-7.1 syntax) is read as %s of persistent memory at "
		     "offset %s of backend %s", d->id, mem, size,
		     fmt_size(a, sizeof(a), legacy_size),
		     fmt_size(b, sizeof(b), legacy_off), mem);
	} else if (mem || per) {
		const char *prop = mem ? "memdev" : "persistent-memdev";
		if ((rc = take_backend(x, d, prop, mem ? mem : per, &pob)))
			return rc;
		align_warning(x, d, "persistent", pob);
		if (mem)
			WARN(x, d->o->line, "cxl-type3 %s: memdev= is "
			     "deprecated; it is read as persistent-memdev=%s",
			     d->id, mem);
	}
	if (lsa && (rc = take_backend(x, d, "lsa", lsa, &lob)))
		return rc;
	if (dc) {
		if ((rc = take_backend(x, d, "volatile-dc-memdev", dc, &dob)))
			return rc;
		if (!ndc) {
			WARN(x, d->o->line, "cxl-type3 %s: volatile-dc-memdev "
			     "is ignored without num-dc-regions", d->id);
		} else {
			uint64_t len = dob->be->size / ndc;
			if (dob->be->size % (ndc * CX_SZ_256M))
				return oerr(x, d->o, "volatile-dc-memdev=%s: "
					    "its size (%s) must be a multiple "
					    "of num-dc-regions x 256 MiB "
					    "(backend size is not multiple of "
					    "region len)", dc,
					    fmt_size(a, sizeof(a),
						     dob->be->size));
			WARN(x, d->o->line, "cxl-type3 %s: num-dc-regions=%llu "
			     "(%llu regions of %s) is kept but not modeled: "
			     "cxlemu has no dynamic capacity yet, so the "
			     "device shows only its static capacity", d->id,
			     (unsigned long long)ndc, (unsigned long long)ndc,
			     fmt_size(b, sizeof(b), len));
		}
	}
	if (vob)
		numa_overlap_warning(x, d, vob);
	if (pob)
		numa_overlap_warning(x, d, pob);

	struct cx_memdev *m = cx_memdev_new(x->h, d->id, d->o->line);
	m->parent = port->port;
	port->port->memdev = m;
	if (vob) {
		m->vmem_be = vob->be;
		m->vmem_size = vob->be->size;
		vob->be->used_by = m->qid;
	}
	if (pob) {
		m->pmem_be = pob->be;
		m->pmem_size = legacy_size ? legacy_size : pob->be->size;
		m->legacy_offset = legacy_off;
		if (!pob->be->used_by)
			pob->be->used_by = m->qid;
	}
	if (lob) {
		m->lsa_be = lob->be;
		m->lsa_size = lob->be->size;
		lob->be->used_by = m->qid;
	}
	if (dob)
		dob->be->used_by = m->qid;
	return get_sn(x, d, &m->sn, &m->has_sn);
}

/* Devices cxlemu does not model: only what they do to modeled ones. */
static int build_other(struct hctx *x, struct cdev *d)
{
	static const char *const pcie_slots[] = {
		"pcie-root-port", "ioh3420", "xio3130-downstream",
	};
	const char *bus = cfg_kv_get(&d->kv, "bus");
	const char *mem = cfg_kv_get(&d->kv, "memdev");
	int rc;

	if (bus) {
		struct cdev *p = find_dev(x, bus);
		if (p && p->index < d->index && p->kind != DEV_OTHER) {
			if (p->kind == DEV_RP || p->kind == DEV_DSP) {
				if ((rc = occupy(x, p, d)))
					return rc;
			}
			WARN(x, d->o->line, "%s %s sits on CXL bus %s; it is "
			     "kept, but cxlemu models only CXL devices below "
			     "CXL ports", d->driver, d->id, bus);
		}
	}
	if (in_list(pcie_slots, CX_ARRAY_SIZE(pcie_slots), d->driver)) {
		uint64_t c, s;
		if (get_uint(x, d->o, &d->kv, d->driver, "chassis", 0xff, 0,
			     &c) == 0 &&
		    get_uint(x, d->o, &d->kv, d->driver, "slot", 0xffff, 0,
			     &s) == 0 &&
		    (rc = take_slot(x, d, (unsigned)c, (unsigned)s)))
			return rc;
	}
	if (mem) {
		struct cobj *ob = find_obj(x, mem);
		if (ob && ob->be) {
			if (ob->user || ob->carver || ob->lwin)
				return used_twice(x, d, "memdev", ob,
						  ob->user ? ob->user :
						  ob->carver ? ob->carver :
						  ob->lwin,
						  ob->user ? ob->user_line :
						  ob->carver ? ob->carver_line :
						  ob->lwin_line);
			ob->user = d->id;
			ob->user_line = d->o->line;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* step 4: windows                                                       */
/* ------------------------------------------------------------------ */

static void note_window(struct hctx *x, struct cx_window *w,
			const struct copt *o)
{
	struct ctx *c = x->c;
	c->ws = cx_xrealloc(c->ws, sizeof(*c->ws) * (size_t)(c->nws + 1));
	c->ws[c->nws].w = w;
	c->ws[c->nws].h = x->h;
	c->ws[c->nws].text = cx_xstrdup(o->text);
	c->nws++;
}

static int build_fmw(struct hctx *x, int n)
{
	struct fmw *w = &x->fmw[n];
	uint64_t size, gran = 256;
	struct cx_port *tg[CX_MAX_WAYS];
	cx_err t;
	char a[32];

	if (!w->first) {
		for (int k = n + 1; k <= x->max_fmw; k++)
			if (x->fmw[k].first)
				return oerr(x, x->fmw[k].first, "cxl-fmw.%d is "
					    "given but cxl-fmw.%d is not: "
					    "windows are numbered from 0 "
					    "without gaps", k, n);
		return 0;
	}
	for (int k = 0; k <= w->max_t; k++)
		if (!w->tgt[k])
			return oerr(x, w->tgt_o[w->max_t], "cxl-fmw.%d.targets."
				    "%d is given but cxl-fmw.%d.targets.%d is "
				    "not: targets are numbered from 0 without "
				    "gaps", n, w->max_t, n, k);
	int ways = w->max_t + 1;
	if (ways == 0)
		return oerr(x, w->first, "cxl-fmw.%d has no targets "
			    "(cxl-fmw.%d.targets.0=<pxb-cxl id> is required)",
			    n, n);
	if (!cx_ways_valid(ways))
		return oerr(x, w->tgt_o[w->max_t], "cxl-fmw.%d has %d targets: "
			    "interleave ways %d is not supported (1, 2, 3, 4, "
			    "6, 8, 12 or 16)", n, ways, ways);
	if (!w->size)
		return oerr(x, w->first, "cxl-fmw.%d has no size "
			    "(cxl-fmw.%d.size= is required)", n, n);
	if (cx_parse_size(w->size, &size, "cxl-fmw size", &t))
		return perr(x, w->size_o, &t);
	if (size == 0)
		return oerr(x, w->size_o, "cxl-fmw.%d.size=%s: a window cannot "
			    "be empty", n, w->size);
	if (size % CX_SZ_256M)
		return oerr(x, w->size_o, "cxl-fmw.%d.size=%s (%s): the size "
			    "of a CXL fixed memory window must be a multiple "
			    "of 256 MiB", n, w->size,
			    fmt_size(a, sizeof(a), size));
	if (w->gran) {
		if (cx_parse_size(w->gran, &gran, "interleave-granularity",
				  &t))
			return perr(x, w->gran_o, &t);
		if (!cx_gran_valid(gran))
			return oerr(x, w->gran_o, "cxl-fmw.%d.interleave-"
				    "granularity=%s: interleave granularity "
				    "must be 256, 512, 1k, 2k, 4k, 8k or 16k",
				    n, w->gran);
	}
	for (int k = 0; k < ways; k++) {
		const char *id = w->tgt[k];
		struct cdev *d = find_dev(x, id);
		if (!d)
			return oerr(x, w->tgt_o[k], "cxl-fmw.%d.targets.%d=%s: "
				    "could not resolve window target '%s' (no "
				    "pxb-cxl host bridge has that id)", n, k,
				    id, id);
		if (d->kind != DEV_HB)
			return oerr(x, w->tgt_o[k], "cxl-fmw.%d.targets.%d=%s: "
				    "'%s' is a %s (line %d), not a pxb-cxl "
				    "host bridge; a window routes to host "
				    "bridges", n, k, id, id, d->driver,
				    d->o->line);
		for (int j = 0; j < k; j++)
			if (tg[j] == d->port)
				return oerr(x, w->tgt_o[k], "cxl-fmw.%d.targets."
					    "%d=%s: host bridge %s is already "
					    "target %d of this window; a host "
					    "bridge appears once in a window's "
					    "targets", n, k, id, id, j);
		tg[k] = d->port;
	}
	struct cx_window *cw = cx_window_new(x->h, n, w->first->line);
	note_window(x, cw, w->first);
	cw->size = size;
	cw->ways = ways;
	cw->gran = (uint32_t)gran;
	for (int k = 0; k < ways; k++)
		cw->targets[k] = tg[k];
	return 0;
}

static int build_legacy_windows(struct hctx *x)
{
	int index = x->h->windows.n;
	char a[32], b[32];

	for (int i = 0; i < x->ndevs; i++) {
		struct cdev *d = &x->devs[i];
		for (int k = 0; k < d->nlegacy; k++) {
			struct cobj *ob = find_obj(x, d->lmem[k]);
			uint64_t base = d->lbase[k], size = ob->be->size;
			if (!base || base % CX_SZ_256M)
				return oerr(x, d->o, "window-base[%d]=0x%llx: a "
					    "window's base must be a non-zero "
					    "multiple of 256 MiB", k,
					    (unsigned long long)base);
			if (size % CX_SZ_256M)
				return oerr(x, d->o, "memdev[%d]=%s: the window "
					    "takes its size from backend %s "
					    "(%s), which must be a multiple of "
					    "256 MiB", k, ob->id, ob->id,
					    fmt_size(a, sizeof(a), size));
			if (base + size < base)
				return oerr(x, d->o, "window-base[%d] + the "
					    "size of %s runs past 2^64", k,
					    ob->id);
			struct cx_window *w = cx_window_new(x->h, index,
							    d->o->line);
			note_window(x, w, d->o);
			w->legacy = true;
			w->base = base;
			w->size = size;
			w->ways = 1;
			w->gran = 256;
			w->targets[0] = d->port;
			if (!ob->be->used_by)
				ob->be->used_by = d->port->qid;
			WARN(x, d->o->line, "pxb-cxl %s: window-base[%d]=0x%llx,"
			     "memdev[%d]=%s (pre-7.1 syntax) is read as CXL "
			     "window %d (decoder0.%d): base 0x%llx, %s, one "
			     "way to %s, granularity 256", d->id, k,
			     (unsigned long long)base, k, ob->id, index,
			     index, (unsigned long long)base,
			     fmt_size(b, sizeof(b), size), d->id);
			index++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* step 5: whole-host rules                                              */
/* ------------------------------------------------------------------ */

static int count_below(struct cx_port *p)
{
	int n = 0;
	for (int i = 0; i < p->children.n; i++)
		n += 1 + count_below(p->children.v[i]);
	return n;
}

static int host_rules(struct hctx *x)
{
	struct cx_host *h = x->h;
	struct cdev *first_hb = NULL;

	for (int i = 0; i < x->ndevs && !first_hb; i++)
		if (x->devs[i].kind == DEV_HB)
			first_hb = &x->devs[i];
	h->cxl_on = x->cxl;
	if (first_hb && !x->cxl)
		return oerr(x, first_hb->o, "CXL host bridges present, but "
			    "cxl=off: add cxl=on to -machine (or -M)");

	/* PCI bus numbers below each host bridge must stay apart */
	for (int i = 0; i < h->hbs.n; i++) {
		struct cx_port *a = h->hbs.v[i];
		int alast = a->bus_nr + count_below(a);
		if (alast > 255) {
			struct cdev *ad = NULL;
			for (int j = 0; j < x->ndevs && !ad; j++)
				if (x->devs[j].port == a)
					ad = &x->devs[j];
			return oerr(x, ad->o, "bus_nr=%d with %d ports below "
				    "needs buses %d-%d, past the last PCI bus, "
				    "255", a->bus_nr, count_below(a),
				    a->bus_nr, alast);
		}
		for (int j = 0; j < x->ndevs; j++) {
			struct cdev *q = &x->devs[j];
			uint64_t bn;
			const char *s;
			if (q->port == a || (strcmp(q->driver, "pxb-cxl") &&
					     strcmp(q->driver, "pxb") &&
					     strcmp(q->driver, "pxb-pcie")))
				continue;
			s = cfg_kv_get(&q->kv, "bus_nr");
			if (!s || cx_parse_u64(s, &bn, "bus_nr", NULL))
				continue;
			if ((int)bn > a->bus_nr && (int)bn <= alast)
				return oerr(x, q->o, "bus_nr=%llu falls inside "
					    "buses %d-%d that host bridge %s "
					    "(line %d) needs for its %d ports; "
					    "pick a bus_nr above %d",
					    (unsigned long long)bn, a->bus_nr,
					    alast, a->qid, a->line,
					    count_below(a), alast);
		}
		if (a->children.n == 0)
			WARN(x, a->line, "pxb-cxl %s has no root ports",
			     a->qid);
	}

	/* machine type: QEMU has CXL on q35 (x86) and virt (arm) */
	if (x->mtype && strncmp(x->mtype, "q35", 3) &&
	    strncmp(x->mtype, "pc-q35", 6) && strcmp(x->mtype, "virt") &&
	    strncmp(x->mtype, "virt-", 5))
		WARN(x, x->mtype_o->line, "machine type '%s': QEMU offers CXL "
		     "on q35 (x86) and virt (arm); cxlemu lays memory out as "
		     "q35 does", x->mtype);
	if (x->mtype && (!strcmp(x->mtype, "virt") ||
			 !strncmp(x->mtype, "virt-", 5)))
		WARN(x, x->mtype_o->line, "machine type '%s': cxlemu places "
		     "windows as QEMU's x86 q35 machine does, not as arm "
		     "virt does", x->mtype);

	if (h->memdevs.n && !h->windows.n)
		WARN(x, ((struct cx_memdev *)h->memdevs.v[0])->line, "host %s has CXL memory devices but no CXL "
		     "fixed memory window (-M cxl-fmw.0.targets.0=...,"
		     "cxl-fmw.0.size=...): no region can map them", h->name);
	for (int i = 0; i < h->hbs.n; i++) {
		struct cx_port *hb = h->hbs.v[i];
		bool targeted = false;
		for (int j = 0; j < h->windows.n && !targeted; j++) {
			struct cx_window *w = h->windows.v[j];
			for (int k = 0; k < w->ways; k++)
				if (w->targets[k] == hb)
					targeted = true;
		}
		if (!targeted && h->windows.n)
			WARN(x, hb->line, "no window targets host bridge %s: "
			     "the devices below it cannot be in a region",
			     hb->qid);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* one host                                                              */
/* ------------------------------------------------------------------ */

static void hctx_free(struct hctx *x)
{
	for (int i = 0; i < x->nopts; i++)
		free(x->opts[i].text);
	free(x->opts);
	for (int i = 0; i < x->nobjs; i++)
		cfg_kvlist_free(&x->objs[i].kv);
	free(x->objs);
	for (int i = 0; i < x->ndevs; i++) {
		cfg_kvlist_free(&x->devs[i].kv);
		free(x->devs[i].gen_id);
	}
	free(x->devs);
	for (int i = 0; i < x->nmkv; i++)
		cfg_kvlist_free(&x->mkv[i]);
	free(x->mkv);
	free(x->slots);
}

static int build_host(struct ctx *c, struct cfg_hostsrc *src)
{
	struct hctx x;
	int rc = 0;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.src = src;
	x.max_fmw = -1;
	x.h = cx_host_new(c->f, src->name, src->line);
	for (int i = 0; i < src->n; i++)
		cx_vec_push(&x.h->words, cx_xstrdup(src->w[i].text));

	if ((rc = split_options(&x)))
		goto out;
	/* declarations, in any order */
	for (int i = 0; i < x.nopts && !rc; i++) {
		struct copt *o = &x.opts[i];
		if (!strcmp(o->name, "object"))
			rc = add_object(&x, o);
		else if (!strcmp(o->name, "m"))
			rc = merge_mem(&x, o);
		else if (!strcmp(o->name, "M") || !strcmp(o->name, "machine"))
			rc = machine(&x, o);
		else if (!strcmp(o->name, "numa"))
			rc = note_numa(&x, o);
		else if (!strcmp(o->name, "device"))
			rc = register_device(&x, o);
	}
	if (rc || (rc = apply_mem(&x)))
		goto out;
	/* machine memory-backend= maps a backend as the guest's RAM */
	if (x.ram_be) {
		struct cobj *ob = find_obj(&x, x.ram_be);
		if (ob) {
			ob->user = "-machine memory-backend";
			ob->user_line = x.ram_be_o->line;
		}
	}
	/* devices, in command-line order */
	for (int i = 0; i < x.ndevs && !rc; i++) {
		struct cdev *d = &x.devs[i];
		switch (d->kind) {
		case DEV_HB: rc = build_hb(&x, d); break;
		case DEV_RP: rc = build_rp(&x, d); break;
		case DEV_USP: rc = build_usp(&x, d); break;
		case DEV_DSP: rc = build_dsp(&x, d); break;
		case DEV_T3: rc = build_t3(&x, d); break;
		default: rc = build_other(&x, d); break;
		}
	}
	/* windows */
	for (int n = 0; n <= x.max_fmw && !rc; n++)
		rc = build_fmw(&x, n);
	if (!rc)
		rc = build_legacy_windows(&x);
	if (!rc)
		rc = host_rules(&x);
out:
	hctx_free(&x);
	return rc;
}

/* ------------------------------------------------------------------ */
/* across hosts, and after finalize                                      */
/* ------------------------------------------------------------------ */

static char *path_key(const char *p)
{
	char real[PATH_MAX];
	return cx_xstrdup(realpath(p, real) ? real : p);
}

static int shared_paths(struct ctx *c)
{
	struct item {
		struct cx_host *h;
		struct cx_backend *b;
		char *key;
	} *it = NULL;
	int n = 0, rc = 0;
	char a[32], b2[32];

	for (int i = 0; i < c->f->hosts.n; i++) {
		struct cx_host *h = c->f->hosts.v[i];
		for (int j = 0; j < h->backends.n; j++) {
			struct cx_backend *b = h->backends.v[j];
			if (b->kind != CX_BACKEND_FILE || !b->mem_path)
				continue;
			it = cx_xrealloc(it, sizeof(*it) * (size_t)(n + 1));
			it[n].h = h;
			it[n].b = b;
			it[n].key = path_key(b->mem_path);
			n++;
		}
	}
	for (int i = 0; i < n && !rc; i++) {
		for (int j = 0; j < i; j++) {
			struct item *p = &it[j], *q = &it[i];
			if (strcmp(p->key, q->key))
				continue;
			if (p->b->share && q->b->share) {
				if (p->b->size != q->b->size) {
					rc = cx_fail(c->e, EINVAL,
						     "%s:%d: memory-backend-file "
						     "%s (host %s): mem-path '%s' "
						     "is shared with backend %s "
						     "of host %s (line %d), which "
						     "says %s, but this one says "
						     "%s; every user of a shared "
						     "file must agree on its size",
						     c->file, q->b->line,
						     q->b->id, q->h->name,
						     q->b->mem_path, p->b->id,
						     p->h->name, p->b->line,
						     fmt_size(a, sizeof(a),
							      p->b->size),
						     fmt_size(b2, sizeof(b2),
							      q->b->size));
					break;
				}
				if (p->h == q->h)
					cwarn(c, q->h->name, q->b->line,
					      "backends %s and %s both map "
					      "'%s' with share=on: they are "
					      "the same bytes", p->b->id,
					      q->b->id, q->b->mem_path);
			} else if (p->h != q->h) {
				cwarn(c, q->h->name, q->b->line,
				      "mem-path '%s' of backend %s is also "
				      "used by host %s (line %d), but without "
				      "share=on on both, each host gets a "
				      "private copy: they share no memory",
				      q->b->mem_path, q->b->id, p->h->name,
				      p->b->line);
			}
			break;
		}
	}
	for (int i = 0; i < n; i++)
		free(it[i].key);
	free(it);
	return rc;
}

/* QEMU's default guest physical address width (TCG, 40 bits) */
#define DEFAULT_PHYS_LIMIT (1ULL << 40)


static const struct winsrc *winsrc_of(struct ctx *c, const struct cx_window *w)
{
	for (int i = 0; i < c->nws; i++)
		if (c->ws[i].w == w)
			return &c->ws[i];
	return NULL;
}

static int werr(struct ctx *c, const struct cx_window *w, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));
static int werr(struct ctx *c, const struct cx_window *w, const char *fmt,
		...)
{
	const struct winsrc *s = winsrc_of(c, w);
	char msg[CX_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cx_fail(c->e, EINVAL, "%s:%d: %.*s%s: %s", c->file, w->line,
		       OPT_SHOWN, s ? s->text : "",
		       s && strlen(s->text) > OPT_SHOWN ? "..." : "", msg);
}

static int after_finalize(struct ctx *c)
{
	for (int i = 0; i < c->f->hosts.n; i++) {
		struct cx_host *h = c->f->hosts.v[i];
		uint64_t start = cx_host_cxl_area_start(h);
		for (int j = 0; j < h->windows.n; j++) {
			struct cx_window *w = h->windows.v[j];
			/* the layout is computed in 64 bits: a huge -m or
			 * window size wraps it, which must not pass */
			if (start < (1ULL << 32) ||
			    w->size > UINT64_MAX - w->base ||
			    (!w->legacy && w->base < start))
				return werr(c, w, "window %d (size 0x%llx) does "
					    "not fit below 2^64 after the guest's "
					    "RAM and hotplug area (-m size, "
					    "maxmem, slots); shrink them or the "
					    "window", w->index,
					    (unsigned long long)w->size);
			if (w->legacy && w->base < start)
				return werr(c, w, "window %d at 0x%llx lies "
					    "below 0x%llx, inside the guest's "
					    "RAM, memory hotplug area or CXL "
					    "host registers (QEMU's x86 "
					    "layout for -m); put its "
					    "window-base higher", w->index,
					    (unsigned long long)w->base,
					    (unsigned long long)start);
			for (int k = 0; k < j; k++) {
				struct cx_window *v = h->windows.v[k];
				if (w->base < v->base + v->size &&
				    v->base < w->base + w->size)
					return werr(c, w, "window %d (0x%llx-"
						    "0x%llx) overlaps window %d "
						    "(0x%llx-0x%llx, line %d); "
						    "windows need address "
						    "ranges of their own",
						    w->index,
						    (unsigned long long)w->base,
						    (unsigned long long)(w->base + w->size - 1),
						    v->index,
						    (unsigned long long)v->base,
						    (unsigned long long)(v->base + v->size - 1),
						    v->line);
			}
			if (w->base + w->size > DEFAULT_PHYS_LIMIT)
				cwarn(c, h->name, w->line, "window %d ends at "
				      "0x%llx, above 1 TiB: QEMU leaves a "
				      "window unmapped when it crosses the "
				      "guest's physical address width (40 bits "
				      "unless -cpu sets phys-bits)", w->index,
				      (unsigned long long)(w->base + w->size));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* entry points                                                          */
/* ------------------------------------------------------------------ */

int cx_config_load_text(const char *name, const char *text,
			struct cx_fabric **out, cx_err *e)
{
	struct cfg_doc doc;
	struct ctx c;
	int rc;

	*out = NULL;
	if (!name)
		name = "<topology>";
	if (!text)
		return cx_fail(e, EINVAL, "%s: no topology text", name);
	if ((rc = cfg_split(name, text, &doc, e)))
		return rc;
	memset(&c, 0, sizeof(c));
	c.file = name;
	c.e = e;
	c.sections = doc.sections;
	c.f = cx_fabric_new(name);
	for (int i = 0; i < doc.n && !rc; i++)
		rc = build_host(&c, &doc.hosts[i]);
	if (!rc)
		rc = shared_paths(&c);
	if (!rc) {
		cx_fabric_finalize(c.f);
		rc = after_finalize(&c);
	}
	cfg_doc_free(&doc);
	for (int i = 0; i < c.nws; i++)
		free(c.ws[i].text);
	free(c.ws);
	if (rc) {
		cx_fabric_free(c.f);
		return rc;
	}
	*out = c.f;
	return 0;
}

#define MAX_TOPOLOGY_BYTES (16u << 20)

int cx_config_load_file(const char *path, struct cx_fabric **out, cx_err *e)
{
	FILE *fp;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	if (!(fp = fopen(path, "rb")))
		return cx_fail(e, errno, "%s: cannot open the topology file: "
			       "%s", path, strerror(errno));
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 16384;
			buf = cx_xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (n > MAX_TOPOLOGY_BYTES) {
			rc = cx_fail(e, EFBIG, "%s: a topology file is at most "
				     "%u MiB", path, MAX_TOPOLOGY_BYTES >> 20);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		rc = cx_fail(e, EIO, "%s: cannot read the topology file",
			     path);
		goto out;
	}
	if (memchr(buf, 0, n)) {
		rc = cx_fail(e, EINVAL, "%s: contains a NUL byte; a topology "
			     "file is text", path);
		goto out;
	}
	buf[n] = 0;
	rc = cx_config_load_text(path, buf, out, e);
out:
	fclose(fp);
	free(buf);
	return rc;
}
