/*
 * declare.c - step 2 of a host: what its options declare, in any order as
 * QEMU allows.  -object builds memory backends (other objects are kept);
 * -m is merged into the guest's RAM size, slots and maxmem; -M/-machine
 * are merged, collecting cxl=on and the cxl-fmw.N.* keys of the windows;
 * -numa notes which backends are NUMA memory; -device registers every
 * device by id and kind, to be built in command-line order by devices.c.
 */
#include "topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ------------------------------------------------------------------ */
/* step 2: declarations                                                  */
/* ------------------------------------------------------------------ */

struct cobj *find_obj(struct hctx *x, const char *id)
{
	for (int i = 0; i < x->nobjs; i++)
		if (x->objs[i].id && !strcmp(x->objs[i].id, id))
			return &x->objs[i];
	return NULL;
}

struct cdev *find_dev(struct hctx *x, const char *id)
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

int cfg_apply_mem(struct hctx *x)
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

/* cxl-fmw.N.targets.K / .size / .interleave-granularity, and cxlemu's
 * own .interleave-arithmetic and .xormap.K (windows.c checks them) */
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
		w->max_x = -1;
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
	} else if (!strcmp(p, "interleave-arithmetic")) {
		w->arith = val;
		w->arith_o = o;
	} else if (!strncmp(p, "xormap.", 7)) {
		p += 7;
		if ((k = take_index(&p)) < 0 || *p)
			goto bad;
		if (k >= CX_MAX_XORMAPS)
			return oerr(x, o, "%s: a window has at most %d XOR maps "
				    "(one per power-of-two interleave bit: 16 "
				    "ways take %d), numbered from 0", key,
				    CX_MAX_XORMAPS, CX_MAX_XORMAPS);
		w->xmap[k] = val;
		w->xmap_o[k] = o;
		if (k > w->max_x)
			w->max_x = (int)k;
	} else {
		goto bad;
	}
	return 0;
bad:
	return oerr(x, o, "'%s' is not a window property (a window takes "
		    "cxl-fmw.N.targets.K, cxl-fmw.N.size, "
		    "cxl-fmw.N.interleave-granularity and cxlemu's own "
		    "cxl-fmw.N.interleave-arithmetic and cxl-fmw.N.xormap.K)",
		    key);
}

static int machine(struct hctx *x, struct copt *o)
{
	struct cfg_kvlist kv;
	cx_err t;
	int rc = 0;
	bool warned_split = false;

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
			if (!x->fmw_opt)
				x->fmw_opt = o;
			else if (x->fmw_opt != o && !warned_split) {
				WARN(x, o->line, "%s: QEMU takes every cxl-fmw "
				     "key from one -M option and refuses this "
				     "line (\"Parameters 'cxl-fmw.*' used "
				     "inconsistently\"); cxlemu reads it, and "
				     "`cxlemu qemu-args` joins it into the -M "
				     "of line %d", k, x->fmw_opt->line);
				warned_split = true;
			}
			rc = machine_fmw(x, o, k, v);
		} else if (!strcmp(k, "memory-backend")) {
			x->ram_be = v;
			x->ram_be_o = o;
		} else if (cfg_machine_prop_kept(k)) {
			/* kept, not modeled */
		} else if (!strncmp(k, "cxl", 3)) {
			rc = oerr(x, o, "'%s' is not a CXL machine property "
				  "(those are cxl=on|off and "
				  "cxl-fmw.N.targets.K, .size, "
				  ".interleave-granularity, and cxlemu's "
				  ".interleave-arithmetic and .xormap.K)", k);
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

/* One declaration; the devices are built later, in command-line order. */
int cfg_declare(struct hctx *x, struct copt *o)
{
	if (!strcmp(o->name, "object"))
		return add_object(x, o);
	if (!strcmp(o->name, "m"))
		return merge_mem(x, o);
	if (!strcmp(o->name, "M") || !strcmp(o->name, "machine"))
		return machine(x, o);
	if (!strcmp(o->name, "numa"))
		return note_numa(x, o);
	if (!strcmp(o->name, "device"))
		return register_device(x, o);
	return 0;
}
