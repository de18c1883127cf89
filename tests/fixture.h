/*
 * fixture.h - build fabrics for the model's unit tests with the model's
 * own constructors (no topology parser), and check regions end to end.
 *
 *   struct fx *x = fx_new();
 *   fx_tree(x, 2, 2, 0, 0, 256 << 20);          2 HBs x 2 RPs, pmem devices
 *   fx_win_all(x, 4ULL << 30, 8192);            one window over both HBs
 *   fx_start(x);                                finalize + memfd media
 *   struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0,mem2,mem1,mem3",
 *                                      CX_MODE_NONE, 0);
 *   fx_check_map(x, r);                         bijective, inside DPA bounds
 *   fx_free(x);
 *
 * Host bridges are named cxl.1, cxl.2, ... with bus_nr 12, 28, 44, ...
 * unless given; root ports rpN, switches uspN/dspN, memdevs cxl-memN in
 * creation order (memN).  Everything here asserts with cmocka.
 */
#ifndef CXLEMU_TESTS_FIXTURE_H
#define CXLEMU_TESTS_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/model.h"

#define FX_FN static __attribute__((unused))
#define FX_MiB (1ULL << 20)
#define FX_GiB (1ULL << 30)

struct fx {
	struct cx_fabric *f;
	struct cx_host *h;
	cx_err err;
	int nhb, nrp, nusp, ndsp, nmem, nbe;
	char buf[512];          /* memdev list storage for fx_create */
	const char *mems[CX_MAX_WAYS];
};

FX_FN struct fx *fx_new(void)
{
	struct fx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->f = cx_fabric_new("fixture");
	x->h = cx_host_new(x->f, "host0", 0);
	x->h->cxl_on = true;
	return x;
}

FX_FN void fx_free(struct fx *x)
{
	cx_fabric_free(x->f);
	free(x);
}

FX_FN struct cx_port *fx_hb_nr(struct fx *x, int bus_nr)
{
	char id[32];
	snprintf(id, sizeof(id), "cxl.%d", ++x->nhb);
	struct cx_port *p = cx_port_new(x->h, CX_PORT_HB, id, 0);
	p->bus_nr = bus_nr;
	return p;
}

FX_FN struct cx_port *fx_hb(struct fx *x)
{
	return fx_hb_nr(x, 12 + 16 * x->nhb);
}

FX_FN struct cx_port *fx_rp(struct fx *x, struct cx_port *hb, int port)
{
	char id[32];
	snprintf(id, sizeof(id), "rp%d", x->nrp++);
	struct cx_port *p = cx_port_new(x->h, CX_PORT_RP, id, 0);
	p->port_num = port;
	cx_port_attach(hb, p);
	return p;
}

FX_FN struct cx_port *fx_usp(struct fx *x, struct cx_port *rp)
{
	char id[32];
	snprintf(id, sizeof(id), "usp%d", x->nusp++);
	struct cx_port *p = cx_port_new(x->h, CX_PORT_USP, id, 0);
	cx_port_attach(rp, p);
	return p;
}

FX_FN struct cx_port *fx_dsp(struct fx *x, struct cx_port *usp, int port)
{
	char id[32];
	snprintf(id, sizeof(id), "dsp%d", x->ndsp++);
	struct cx_port *p = cx_port_new(x->h, CX_PORT_DSP, id, 0);
	p->port_num = port;
	cx_port_attach(usp, p);
	return p;
}

FX_FN struct cx_backend *fx_backend(struct fx *x, uint64_t size,
				    const char *user)
{
	char id[32];
	snprintf(id, sizeof(id), "be%d", x->nbe++);
	struct cx_backend *b = cx_backend_new(x->h, id, 0);
	b->kind = CX_BACKEND_MEMFD;
	b->size = size;
	b->share = true;
	b->used_by = user;
	return b;
}

/* A Type 3 device below a root port or switch downstream port. */
FX_FN struct cx_memdev *fx_mem(struct fx *x, struct cx_port *parent,
			       uint64_t vmem, uint64_t pmem)
{
	char id[32];
	snprintf(id, sizeof(id), "cxl-mem%d", x->nmem++);
	struct cx_memdev *m = cx_memdev_new(x->h, id, 0);
	m->parent = parent;
	parent->memdev = m;
	if (vmem) {
		m->vmem_be = fx_backend(x, vmem, m->qid);
		m->vmem_size = vmem;
	}
	if (pmem) {
		m->pmem_be = fx_backend(x, pmem, m->qid);
		m->pmem_size = pmem;
	}
	return m;
}

/*
 * nhb host bridges x nrp root ports; with ndsp > 0 each root port leads
 * to a switch with ndsp downstream ports.  A memdev at every leaf, depth
 * first, so under 2 x 2 without switches mem0, mem1 are below cxl.1.
 */
FX_FN void fx_tree(struct fx *x, int nhb, int nrp, int ndsp, uint64_t vmem,
		   uint64_t pmem)
{
	for (int i = 0; i < nhb; i++) {
		struct cx_port *hb = fx_hb(x);
		for (int r = 0; r < nrp; r++) {
			struct cx_port *rp = fx_rp(x, hb, r);
			if (!ndsp) {
				fx_mem(x, rp, vmem, pmem);
				continue;
			}
			struct cx_port *usp = fx_usp(x, rp);
			for (int d = 0; d < ndsp; d++)
				fx_mem(x, fx_dsp(x, usp, d), vmem, pmem);
		}
	}
}

FX_FN struct cx_port *fx_hb_at(struct fx *x, int i)
{
	assert_true(i < x->h->hbs.n);
	return x->h->hbs.v[i];
}

/*
 * Linux's position order for fx_tree(R host bridges, H root ports, S
 * switch ports): position p sits at host bridge p mod R, root port
 * (p / R) mod H, downstream port p / (R H) - the root index is the least
 * significant digit.  Returns the memdev list for fx_create.
 */
FX_FN const char *fx_linux_order(char *buf, size_t len, int R, int H, int S)
{
	int ways = R * H * (S ? S : 1);
	size_t o = 0;
	for (int p = 0; p < ways; p++) {
		int hb = p % R, rp = (p / R) % H, dsp = p / (R * H);
		int idx = (hb * H + rp) * (S ? S : 1) + dsp;
		o += (size_t)snprintf(buf + o, len - o, "%smem%d", p ? "," : "",
				      idx);
	}
	return buf;
}

/* A window over the given host bridges (indexes into the host's list). */
FX_FN struct cx_window *fx_win(struct fx *x, uint64_t size, uint32_t gran,
			       int ways, const int *hbs)
{
	struct cx_window *w = cx_window_new(x->h, x->h->windows.n, 0);
	w->size = size;
	w->gran = gran;
	w->ways = ways;
	for (int i = 0; i < ways; i++)
		w->targets[i] = fx_hb_at(x, hbs[i]);
	return w;
}

/* A window over every host bridge, in order. */
FX_FN struct cx_window *fx_win_all(struct fx *x, uint64_t size, uint32_t gran)
{
	int hbs[CX_MAX_WAYS];
	for (int i = 0; i < x->h->hbs.n; i++)
		hbs[i] = i;
	return fx_win(x, size, gran, x->h->hbs.n, hbs);
}

FX_FN void fx_start(struct fx *x)
{
	cx_fabric_finalize(x->f);
	int rc = cx_fabric_start(x->f, &x->err);
	if (rc)
		fail_msg("cx_fabric_start: %s", x->err.msg);
}

FX_FN struct cx_memdev *fx_m(struct fx *x, int i)
{
	assert_true(i < x->h->memdevs.n);
	return x->h->memdevs.v[i];
}

/* Fill a request; `mems` is a comma-separated memdev list or NULL. */
FX_FN struct cx_region_req fx_req(struct fx *x, const char *root,
				  const char *mems, enum cx_mode mode,
				  uint64_t size)
{
	struct cx_region_req q;
	memset(&q, 0, sizeof(q));
	q.root = root;
	q.mode = mode;
	q.size = size;
	if (mems && *mems) {
		snprintf(x->buf, sizeof(x->buf), "%s", mems);
		char *save = NULL;
		for (char *t = strtok_r(x->buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			q.memdevs[q.nmemdevs++] = t;
	}
	return q;
}

/* Create and expect an error; returns the code, message in x->err. */
FX_FN int fx_create(struct fx *x, const char *root, const char *mems,
		    enum cx_mode mode, uint64_t size, struct cx_region **out)
{
	struct cx_region_req q = fx_req(x, root, mems, mode, size);
	memset(&x->err, 0, sizeof(x->err));
	return cx_region_create(x->h, &q, out, &x->err);
}

FX_FN struct cx_region *fx_create_ok(struct fx *x, const char *root,
				     const char *mems, enum cx_mode mode,
				     uint64_t size)
{
	struct cx_region *r = NULL;
	int rc = fx_create(x, root, mems, mode, size, &r);
	if (rc)
		fail_msg("cx_region_create(%s, %s): %d %s", root,
			 mems ? mems : "(default)", rc, x->err.msg);
	assert_non_null(r);
	return r;
}

FX_FN void fx_destroy_ok(struct fx *x, struct cx_region *r)
{
	int rc = cx_region_destroy(r, false, &x->err);
	if (rc)
		fail_msg("cx_region_destroy: %d %s", rc, x->err.msg);
}

/* Expect `rc` to be `want` and the message to contain `needle`. */
#define fx_expect(x, rc, want, needle)                                        \
	do {                                                                  \
		int _rc = (rc);                                               \
		if (_rc != (want) || !strstr((x)->err.msg, (needle)))         \
			fail_msg("got %d \"%s\", want %d containing \"%s\"",  \
				 _rc, (x)->err.msg, (want), (needle));        \
	} while (0)

/* ---- whole-fabric snapshots: "nothing changed" ---- */

struct fx_snap {
	int n;
	struct cx_decoder *d[1024];
	struct cx_decoder saved[1024];
	int nregions, next_region_id;
};

FX_FN void fx_snap_take(struct fx *x, struct fx_snap *s)
{
	s->n = 0;
	for (int i = 0; i < x->h->memdevs.n; i++)
		for (int j = 0; j < CX_DECODERS_PER_PORT; j++) {
			s->d[s->n] = &fx_m(x, i)->decoders[j];
			s->saved[s->n] = *s->d[s->n];
			s->n++;
		}
	for (int i = 0; i < x->h->ports.n; i++) {
		struct cx_port *p = x->h->ports.v[i];
		for (int j = 0; j < p->ndecoders; j++) {
			assert_true(s->n < 1024);
			s->d[s->n] = &p->decoders[j];
			s->saved[s->n] = *s->d[s->n];
			s->n++;
		}
	}
	s->nregions = x->h->regions.n;
	s->next_region_id = x->h->next_region_id;
}

FX_FN void fx_snap_same(struct fx *x, const struct fx_snap *s)
{
	for (int i = 0; i < s->n; i++) {
		if (memcmp(s->d[i], &s->saved[i], sizeof(s->saved[i]))) {
			char n[32];
			cx_decoder_name(s->d[i], n, sizeof(n));
			fail_msg("%s changed", n);
		}
	}
	assert_int_equal(x->h->regions.n, s->nregions);
	assert_int_equal(x->h->next_region_id, s->next_region_id);
}

/* ---- region properties ---- */

/*
 * Route every granule of r: each lands on one of r's endpoint decoders
 * at a DPA inside that decoder's allocation, the route agrees with the
 * decoder's position, the media and offset match the DPA's partition,
 * and no two granules share a (memdev, DPA).  Returns granules checked.
 */
FX_FN uint64_t fx_check_map(struct fx *x, struct cx_region *r)
{
	uint64_t g = r->gran, n = r->size / g;
	uint64_t per = r->size / (uint64_t)r->ways / g;
	uint8_t *seen[CX_MAX_WAYS];

	for (int p = 0; p < r->ways; p++) {
		assert_non_null(r->targets[p]);
		assert_int_equal(r->targets[p]->dpa_size * (uint64_t)r->ways,
				 r->size);
		seen[p] = calloc(per / 8 + 1, 1);
		assert_non_null(seen[p]);
	}
	for (uint64_t k = 0; k < n; k++) {
		struct cx_route rt;
		uint64_t hpa = r->base + k * g;
		int rc = cx_route_hpa(r->host, hpa, &rt, &x->err);
		if (rc)
			fail_msg("granule %llu: %s", (unsigned long long)k,
				 x->err.msg);
		assert_ptr_equal(rt.region, r);
		assert_true(rt.position >= 0 && rt.position < r->ways);
		struct cx_decoder *d = r->targets[rt.position];
		assert_ptr_equal(rt.decoder, d);
		assert_ptr_equal(rt.memdev, d->memdev);
		assert_true(rt.contig >= g);
		assert_true(rt.dpa >= d->dpa_base);
		assert_true(rt.dpa + g <= d->dpa_base + d->dpa_size);
		assert_int_equal((rt.dpa - d->dpa_base) % g, 0);
		struct cx_memdev *m = d->memdev;
		if (rt.dpa < m->vmem_size) {
			assert_ptr_equal(rt.media, m->vmem);
			assert_int_equal(rt.media_off, rt.dpa);
		} else {
			assert_ptr_equal(rt.media, m->pmem);
			assert_int_equal(rt.media_off, rt.dpa - m->vmem_size);
		}
		uint64_t idx = (rt.dpa - d->dpa_base) / g;
		uint8_t bit = (uint8_t)(1u << (idx % 8));
		if (seen[rt.position][idx / 8] & bit)
			fail_msg("granule %llu lands on mem%d DPA %#llx twice",
				 (unsigned long long)k, m->index,
				 (unsigned long long)rt.dpa);
		seen[rt.position][idx / 8] |= bit;
	}
	/* every granule of every device's allocation is used exactly once */
	for (int p = 0; p < r->ways; p++) {
		for (uint64_t i = 0; i < per; i++)
			if (!(seen[p][i / 8] & (1u << (i % 8))))
				fail_msg("position %d: DPA granule %llu unused",
					 p, (unsigned long long)i);
		free(seen[p]);
	}
	return n;
}

/* A byte pattern that differs per region offset. */
static inline uint8_t fx_pat(uint64_t off, unsigned seed)
{
	uint64_t v = (off / 8 + 1) * 0x9e3779b97f4a7c15ull + seed;
	return (uint8_t)(v >> (8 * (off % 8)));
}

/*
 * Write a pattern over [off, off+len) of r with cx_region_write, check it
 * granule by granule in each device's media at the DPA the route gives,
 * then read it back with cx_region_read.
 */
FX_FN void fx_roundtrip(struct fx *x, struct cx_region *r, uint64_t off,
			uint64_t len, unsigned seed)
{
	uint8_t *buf = malloc(len), *back = malloc(len);
	assert_non_null(buf);
	assert_non_null(back);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = fx_pat(off + i, seed);
	if (cx_region_write(r, off, buf, len, &x->err))
		fail_msg("write: %s", x->err.msg);
	for (uint64_t o = off; o < off + len;) {
		struct cx_route rt;
		if (cx_route_hpa(r->host, r->base + o, &rt, &x->err))
			fail_msg("route: %s", x->err.msg);
		uint64_t n = rt.contig < off + len - o ? rt.contig :
			     off + len - o;
		for (uint64_t i = 0; i < n; i++)
			if (rt.media->map[rt.media_off + i] != buf[o - off + i])
				fail_msg("offset %#llx: media %s[%#llx] holds "
					 "%#x, wrote %#x",
					 (unsigned long long)(o + i),
					 rt.media->name,
					 (unsigned long long)(rt.media_off + i),
					 rt.media->map[rt.media_off + i],
					 buf[o - off + i]);
		o += n;
	}
	memset(back, 0, len);
	if (cx_region_read(r, off, back, len, &x->err))
		fail_msg("read: %s", x->err.msg);
	assert_memory_equal(back, buf, len);
	free(buf);
	free(back);
}

#endif
