/*
 * topology.c - QEMU command lines into a validated, finalized fabric: the
 * pipeline.  For each host of the file (cfg_split gives us its words):
 *
 *   1. Options.  Leading words that are not options are the program name
 *      (`sudo /opt/.../qemu-system-x86_64`, or a wrapper such as
 *      `taskset ... numactl ... ${QEMU}` up to the first word naming QEMU).
 *      Then every word starting with '-' is an option; whether it takes a
 *      value comes from QEMU's option table (grammar.c).  A bare word where an
 *      option is expected is an error: it usually starts a second command
 *      line that belongs in its own [host NAME] section.
 *   2. Declarations, in any order as QEMU allows (declare.c): -object
 *      (memory backends are built here), -m, -M/-machine (merged; cxl=on
 *      and the cxl-fmw.N.* window keys are collected), -numa, and every
 *      -device id.
 *   3. Devices, in command-line order as QEMU creates them (devices.c):
 *      each one's bus must be an earlier device of the right kind.  Host
 *      bridges, root ports, switch ports and Type 3 devices become model
 *      objects.
 *   4. Windows (windows.c): cxl-fmw.N (and the 2021 development branch's
 *      pxb-cxl window-base[i]/memdev[i] form) become struct cx_window.
 *   5. Whole-host rules (cxl=on, bus number ranges, ...), here.
 *
 * Then rules across hosts (shared mem-paths must agree on size), then
 * cx_fabric_finalize() and rules that need addresses (window overlap,
 * windows.c).
 *
 * Rules come from QEMU (same meaning, our own words) and from what QEMU
 * misses but Linux or the model needs.  Every error reads
 * "FILE:LINE: OPTION AS WRITTEN: what is wrong (the rule)".  Input that is
 * accepted but deserves a note (legacy syntax, properties kept but not
 * modeled) is recorded in fabric->warnings as "FILE:LINE: note"
 * (messages.c).
 */
#include "topo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	x.h->noncoherent = src->noncoherent;
	for (int i = 0; i < src->n; i++)
		cx_vec_push(&x.h->words, cx_xstrdup(src->w[i].text));

	if ((rc = split_options(&x)))
		goto out;
	/* declarations, in any order (declare.c) */
	for (int i = 0; i < x.nopts && !rc; i++)
		rc = cfg_declare(&x, &x.opts[i]);
	if (rc || (rc = cfg_apply_mem(&x)))
		goto out;
	/* machine memory-backend= maps a backend as the guest's RAM */
	if (x.ram_be) {
		struct cobj *ob = find_obj(&x, x.ram_be);
		if (ob) {
			ob->user = "-machine memory-backend";
			ob->user_line = x.ram_be_o->line;
		}
	}
	/* devices, in command-line order (devices.c) */
	for (int i = 0; i < x.ndevs && !rc; i++)
		rc = cfg_build_device(&x, &x.devs[i]);
	/* windows (windows.c) */
	if (!rc)
		rc = cfg_build_windows(&x);
	if (!rc)
		rc = host_rules(&x);
out:
	hctx_free(&x);
	return rc;
}

/* ------------------------------------------------------------------ */
/* across hosts                                                          */
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
	if (!rc)
		rc = cfg_apply_headers(name, &doc, c.f, e);
	if (!rc) {
		cx_fabric_finalize(c.f);
		rc = cfg_check_windows(&c);
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
