/*
 * windows.c - step 4 of a host, CXL fixed memory windows: the cxl-fmw.N
 * keys collected from -M become struct cx_window (targets, ways, size,
 * granularity), and so does the 2021 development branch's pxb-cxl
 * window-base[i]/memdev[i] form.  Once the fabric is finalized and windows
 * have addresses (QEMU's x86 layout after the guest's RAM), the rules that
 * need them: inside 64 bits, above RAM, no overlap, a note above 1 TiB.
 * Each window remembers the option that declared it, for those messages.
 */
#include "topo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* step 4: windows                                                       */
/* ------------------------------------------------------------------ */

/*
 * cxlemu's own window keys: interleave-arithmetic=modulo|xor and, for
 * xor, the CXIMS XOR maps xormap.0.. (spec.h): as many as the power-of-two
 * part of the ways has bits, each non-zero, map K having HPA bit
 * 8 + log2(granularity / 256) + K as its lowest set bit.
 */
static int build_arith(struct hctx *x, int n, const struct fmw *w, int ways,
		       uint64_t gran, struct cx_window *cw)
{
	int need = cx_xormaps_for_ways(ways);
	int eig = cx_gran_to_eig(gran);
	uint64_t map[CX_MAX_XORMAPS];

	cw->arith = CX_ARITH_MODULO;
	if (w->arith && !strcmp(w->arith, "xor"))
		cw->arith = CX_ARITH_XOR;
	else if (w->arith && strcmp(w->arith, "modulo"))
		return oerr(x, w->arith_o, "cxl-fmw.%d.interleave-arithmetic=%s: "
			    "the interleave arithmetic of a window is modulo "
			    "or xor", n, w->arith);
	if (w->max_x < 0) {
		if (cw->arith == CX_ARITH_XOR && need > 0)
			return oerr(x, w->arith_o, "cxl-fmw.%d.interleave-"
				    "arithmetic=xor: a window of %d ways needs "
				    "%d XOR map%s (cxl-fmw.%d.xormap.0=HEX%s)",
				    n, ways, need, need == 1 ? "" : "s", n,
				    need > 1 ? " and on" : "");
		return 0;
	}
	const struct copt *o0 = w->xmap_o[w->max_x];
	if (cw->arith != CX_ARITH_XOR)
		return oerr(x, o0, "cxl-fmw.%d.xormap.%d=%s: XOR maps belong to "
			    "a window with interleave-arithmetic=xor, and window "
			    "%d uses modulo arithmetic", n, w->max_x,
			    w->xmap[w->max_x], n);
	for (int k = 0; k <= w->max_x; k++)
		if (!w->xmap[k])
			return oerr(x, o0, "cxl-fmw.%d.xormap.%d is given but "
				    "cxl-fmw.%d.xormap.%d is not: XOR maps are "
				    "numbered from 0 without gaps", n, w->max_x,
				    n, k);
	if (w->max_x + 1 != need)
		return oerr(x, o0, "cxl-fmw.%d has %d XOR map%s, but a window of "
			    "%d ways takes %d: one per bit of the power-of-two "
			    "part of its ways (1 and 3 ways none, 2 and 6 one, "
			    "4 and 12 two, 8 three, 16 four)", n, w->max_x + 1,
			    w->max_x ? "s" : "", ways, need);
	for (int k = 0; k < need; k++) {
		const char *v = w->xmap[k], *d = v;
		char *end;
		if (!strncmp(d, "0x", 2) || !strncmp(d, "0X", 2))
			d += 2;
		errno = 0;
		map[k] = strtoull(d, &end, 16);
		if (!*d || *end || errno || *d == '-' || *d == '+')
			return oerr(x, w->xmap_o[k], "cxl-fmw.%d.xormap.%d=%s: "
				    "an XOR map is a 64-bit hexadecimal mask of "
				    "HPA bits (e.g. 0x404100)", n, k, v);
		if (!map[k])
			return oerr(x, w->xmap_o[k], "cxl-fmw.%d.xormap.%d=%s: "
				    "an XOR map selects HPA bits; an empty one "
				    "decides nothing", n, k, v);
		int low = __builtin_ctzll(map[k]);
		for (int j = 0; j < k; j++)
			if (__builtin_ctzll(map[j]) == low)
				return oerr(x, w->xmap_o[k], "cxl-fmw.%d.xormap."
					    "%d=%s: its lowest set bit, HPA bit "
					    "%d, is also the lowest set bit of "
					    "cxl-fmw.%d.xormap.%d=%s; each map "
					    "decides an interleave bit of its "
					    "own", n, k, v, low, n, j,
					    w->xmap[j]);
		int want = cx_xormap_bit(eig, k);
		if (low != want)
			return oerr(x, w->xmap_o[k], "cxl-fmw.%d.xormap.%d=%s: "
				    "its lowest set bit is HPA bit %d, but map "
				    "%d of a window at granularity %llu decides "
				    "interleave bit %d (8 + log2(granularity / "
				    "256) + %d) and must have it as its lowest "
				    "set bit", n, k, v, low, k,
				    (unsigned long long)gran, want, k);
	}
	cw->nxormaps = need;
	for (int k = 0; k < need; k++)
		cw->xormap[k] = map[k];
	return 0;
}

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
	return build_arith(x, n, w, ways, gran, cw);
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

/* Every window of the host: cxl-fmw.0, .1, ... then the pxb-cxl ones. */
int cfg_build_windows(struct hctx *x)
{
	int rc = 0;
	for (int n = 0; n <= x->max_fmw && !rc; n++)
		rc = build_fmw(x, n);
	return rc ? rc : build_legacy_windows(x);
}

/* ------------------------------------------------------------------ */
/* after finalize                                                        */
/* ------------------------------------------------------------------ */

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

int cfg_check_windows(struct ctx *c)
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
