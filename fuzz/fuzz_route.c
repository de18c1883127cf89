/*
 * fuzz_route.c - libFuzzer target: the compiled decode table against the
 * walk, for fabrics the input shapes.
 *
 * The first bytes choose a fabric: a window of 1, 2, 3, 4, 6, 8, 12 or
 * 16 host bridges with 1, 2 or 4 root ports each and optionally a switch
 * of 2 or 4 downstream ports below each root port (the region's ways,
 * their product, kept at most 16), the window's granularity, modulo or
 * XOR arithmetic with maps whose bits above the interleave bit come from
 * the input, the region's granularity under an x1 window, where the
 * window starts (an x1 window of 0..7 x 256 MiB before it), and the
 * devices' size.  A region over every device in Linux's position order
 * is created; then each 8-byte word of the input is an HPA to check:
 *
 *   - inside the region: the walk and the table give the same route; the
 *     host bridge reached is the window target the arithmetic names,
 *     computed here on its own; the DPA's region offset comes back
 *     (cx_route_region_offset);
 *   - anywhere else in the window: the walk refuses and the table has no
 *     answer, never a wrong one.
 *
 * A word with its top byte 0xff instead destroys the region and creates
 * it again with the devices in another valid order (the table must
 * follow the recommit).  A disagreement aborts with both routes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "fuzz_input.h"

#define FR_MiB (1ULL << 20)

/* regions built and HPAs checked so far (the smoke test reads them) */
static unsigned long fr_regions, fr_checks;

struct fr {
	struct cx_fabric *f;
	struct cx_host *h;
	struct cx_window *w;
	struct cx_region *r;
	int R, H, S;              /* bridges, root ports, switch ports (0) */
	uint64_t dev;
	uint32_t rgran;
	int rot;                  /* rotation of the order within a bridge */
};

static void die(const char *what, uint64_t hpa, const struct cx_route *a,
		const struct cx_route *b)
{
	fprintf(stderr, "fuzz_route: %s at HPA %#llx", what,
		(unsigned long long)hpa);
	if (a && a->memdev)
		fprintf(stderr, "; walk mem%d DPA %#llx contig %#llx pos %d",
			a->memdev->index, (unsigned long long)a->dpa,
			(unsigned long long)a->contig, a->position);
	if (b && b->memdev)
		fprintf(stderr, "; table mem%d DPA %#llx contig %#llx pos %d",
			b->memdev->index, (unsigned long long)b->dpa,
			(unsigned long long)b->contig, b->position);
	fprintf(stderr, "\n");
	abort();
}

static struct cx_backend *backend(struct fr *x, int i, uint64_t size)
{
	char id[32];
	snprintf(id, sizeof(id), "be%d", i);
	struct cx_backend *b = cx_backend_new(x->h, id, 0);
	b->kind = CX_BACKEND_MEMFD;
	b->size = size;
	b->share = true;
	b->used_by = "mem";
	return b;
}

static struct cx_port *port(struct fr *x, enum cx_port_kind k, int i,
			    struct cx_port *parent, int num)
{
	static const char *const pre[] = { "hb", "rp", "usp", "dsp" };
	char id[32];
	snprintf(id, sizeof(id), "%s%d", pre[k], i);
	struct cx_port *p = cx_port_new(x->h, k, id, 0);
	p->port_num = num;
	if (parent)
		cx_port_attach(parent, p);
	return p;
}

/* Bridges, root ports, switches, a memdev at every leaf (depth first). */
static void tree(struct fr *x)
{
	int np = 0, nm = 0, S = x->S ? x->S : 1;
	for (int b = 0; b < x->R; b++) {
		struct cx_port *hb = port(x, CX_PORT_HB, np++, NULL, 0);
		hb->bus_nr = 8 + 12 * b;
		for (int r = 0; r < x->H; r++) {
			struct cx_port *p = port(x, CX_PORT_RP, np++, hb, r);
			if (x->S)
				p = port(x, CX_PORT_USP, np++, p, 0);
			for (int s = 0; s < S; s++) {
				struct cx_port *leaf = x->S ?
					port(x, CX_PORT_DSP, np++, p, s) : p;
				char id[32];
				snprintf(id, sizeof(id), "mem%d", nm);
				struct cx_memdev *m = cx_memdev_new(x->h, id, 0);
				m->parent = leaf;
				leaf->memdev = m;
				m->pmem_be = backend(x, nm, x->dev);
				m->pmem_size = x->dev;
				nm++;
			}
		}
	}
}

/* Linux's position order (the root index least significant); devices
 * below one bridge rotated by x->rot, which keeps it valid. */
static int create(struct fr *x)
{
	int S = x->S ? x->S : 1, ways = x->R * x->H * S, below = x->H * S;
	static char names[CX_MAX_WAYS + 1][16];
	struct cx_region_req q;
	cx_err e;
	memset(&q, 0, sizeof(q));
	snprintf(names[0], sizeof(names[0]), "decoder0.%d", x->w->index);
	q.root = names[0];
	q.mode = CX_MODE_PMEM;
	q.gran = x->rgran;
	for (int p = 0; p < ways; p++) {
		int hb = p % x->R, rest = (p / x->R + x->rot) % below;
		int rp = rest % x->H, dsp = rest / x->H;
		int idx = (hb * x->H + rp) * S + dsp;
		snprintf(names[p + 1], sizeof(names[p + 1]), "mem%d", idx);
		q.memdevs[q.nmemdevs++] = names[p + 1];
	}
	/* shapes the decoders cannot encode are refused: another input */
	if (cx_region_create(x->h, &q, &x->r, &e))
		return -1;
	fr_regions++;
	return 0;
}

/* The window target of hpa, computed apart from spec.c. */
static int oracle_target(const struct cx_window *w, uint64_t hpa)
{
	if (w->arith == CX_ARITH_MODULO || w->ways == 1)
		return (int)((hpa / w->gran) % (uint64_t)w->ways);
	int n = w->nxormaps, t = 0;
	for (int b = 0; b < n; b++)
		t |= (__builtin_popcountll(hpa & w->xormap[b]) & 1) << b;
	if (w->ways % 3 == 0)
		t += (1 << n) * (int)((hpa / w->gran >> n) % 3);
	return t;
}

static bool same(const struct cx_route *a, const struct cx_route *b)
{
	return a->memdev == b->memdev && a->decoder == b->decoder &&
	       a->dpa == b->dpa && a->media == b->media &&
	       a->media_off == b->media_off && a->contig == b->contig &&
	       a->position == b->position && a->region == b->region &&
	       a->win == b->win;
}

static void check(struct fr *x, uint64_t word)
{
	struct cx_region *r = x->r;
	struct cx_window *w = x->w;
	struct cx_route a, b;
	cx_err e;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	bool in = word & 1;
	fr_checks++;
	uint64_t hpa = in ? r->base + (word >> 1) % r->size :
			    w->base + (word >> 1) % w->size;
	int rw = cx_route_walk(x->h, hpa, &a, &e);
	int rf = cx_route_fast(x->h, hpa, &b);
	if (hpa - r->base >= r->size) {
		if (!rw)
			die("the walk routes outside the region", hpa, &a, NULL);
		if (!rf)
			die("the table routes outside the region", hpa, NULL, &b);
		return;
	}
	if (rw)
		die(e.msg, hpa, NULL, NULL);
	if (rf)
		die("the table has no answer inside the region", hpa, &a, NULL);
	if (!same(&a, &b))
		die("walk and table disagree", hpa, &a, &b);
	if (cx_memdev_hb(a.memdev) != w->targets[oracle_target(w, hpa)])
		die("the window sent it to another host bridge", hpa, &a, NULL);
	uint64_t back;
	if (cx_route_region_offset(r, a.decoder, a.dpa, &back) ||
	    back != hpa - r->base)
		die("the DPA does not come back to its offset", hpa, &a, NULL);
}

/* ways 1..16 that are valid window ways */
static const int win_ways[8] = { 1, 2, 3, 4, 6, 8, 12, 16 };

static int setup(struct fr *x, struct fz_in *in)
{
	uint8_t a = fz_u8(in), b = fz_u8(in), c = fz_u8(in);
	x->R = win_ways[a & 7];
	x->H = 1 << ((a >> 3) & 3) % 3;               /* 1, 2, 4 */
	x->S = (a >> 5) & 1 ? 2 << ((a >> 6) & 1) : 0; /* 0, 2, 4 */
	while (x->R * x->H * (x->S ? x->S : 1) > 16) {
		if (x->S)
			x->S /= 2;
		else
			x->H /= 2;
		if (x->S == 1)
			x->S = 0;
	}
	uint32_t wgran = 256u << (b % 7);
	x->rgran = x->R == 1 ? 256u << ((b >> 3) % 7) : 0;
	bool xor = (b >> 6) & 1;
	int pad = c & 7;
	x->dev = (c >> 3) & 1 ? 512 * FR_MiB : 256 * FR_MiB;
	x->rot = (c >> 4) & 15;

	x->f = cx_fabric_new("fuzz");
	x->h = cx_host_new(x->f, "host0", 0);
	x->h->cxl_on = true;
	tree(x);
	if (pad) {
		struct cx_window *p = cx_window_new(x->h, 0, 0);
		p->size = (uint64_t)pad * 256 * FR_MiB;
		p->ways = 1;
		p->targets[0] = x->h->hbs.v[0];
	}
	x->w = cx_window_new(x->h, x->h->windows.n, 0);
	x->w->size = 64ULL << 30;
	x->w->ways = x->R;
	x->w->gran = wgran;
	for (int i = 0; i < x->R; i++)
		x->w->targets[i] = x->h->hbs.v[i];
	if (xor) {
		int eig = cx_gran_to_eig(wgran);
		x->w->arith = CX_ARITH_XOR;
		x->w->nxormaps = cx_xormaps_for_ways(x->R);
		for (int i = 0; i < x->w->nxormaps; i++) {
			int bit = cx_xormap_bit(eig, i);
			/* any bits above the one it decides, up to bit 51 */
			uint64_t above = fz_u64(in) << (bit + 1);
			x->w->xormap[i] = (1ULL << bit) |
					  (above & ((1ULL << 52) - 1));
		}
	}
	cx_fabric_finalize(x->f);
	cx_err e;
	if (cx_fabric_start(x->f, &e)) {
		fprintf(stderr, "fuzz_route: start: %s\n", e.msg);
		return -1;
	}
	return create(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fr x;
	memset(&x, 0, sizeof(x));
	if (setup(&x, &in) == 0) {
		for (uint64_t i = 0; i < 16; i++) /* region edges first */
			check(&x, ((i < 8 ? i : x.r->size - 16 + i) << 1) | 1);
		while (in.n) {
			uint64_t word = fz_u64(&in);
			if (word >> 56 != 0xff) {
				check(&x, word);
				continue;
			}
			cx_err e;
			if (cx_region_destroy(x.r, true, &e)) {
				fprintf(stderr, "fuzz_route: destroy: %s\n",
					e.msg);
				abort();
			}
			x.rot++;
			if (create(&x)) {
				fprintf(stderr, "fuzz_route: the region cannot be "
					"created again\n");
				abort();
			}
		}
	}
	cx_fabric_free(x.f);
	return 0;
}
