/*
 * test_views.c - region views (model/region_view.h): an interleaved
 * region's bytes in HPA order in one memfd.
 *
 * Every byte of a view must be the byte the decoders send its region
 * offset to: for 2, 3, 4, 6 and 8 ways, 256 B and 4 KiB granules, modulo
 * and XOR windows, the view's address of region offset o is where the
 * walk's (memdev, DPA) is held (cx_media_at on the walk's media), the
 * exact path (cx_region_read) reads what was stored through the view,
 * data written before the view was built is kept, and taking the view
 * apart (destroy-region, then the reclaim every changing request runs)
 * puts every byte back into the device stores at the walk's DPA.
 * Device-order accesses (DPA writes and fills of the mailbox's media
 * operations, sanitize's erase) land in the view.  Where a view is
 * impossible the reason is given.  Two hosts' regions over the same
 * share=on files share a view exactly when every granule routes alike,
 * XOR windows at other HPAs included (both ways of deciding it).
 */
#include "fixture.h"

#include <errno.h>

#include "model/mbox.h"
#include "model/region_view.h"

struct vcase {
	int hbs, per;
	uint32_t gran;
	bool xor;
};

/* the maps of ndctl's translate samples at 256 B (map i's lowest bit is
 * granule-index bit i), moved up for larger granules */
static const uint64_t xmaps[4] = { 0x2020900, 0x4041200, 0x1010400, 0x800 };

/* A region over every device of hbs x per, at gran, exposed as devdax. */
static struct cx_region *vfabric(struct fx **xp, const struct vcase *c)
{
	struct fx *x = fx_new();
	char order[256];
	fx_tree(x, c->hbs, c->per, 0, 0, 512 * FX_MiB);
	struct cx_window *w = fx_win_all(x, 16 * FX_GiB, c->gran);
	if (c->xor) {
		w->arith = CX_ARITH_XOR;
		w->nxormaps = cx_xormaps_for_ways(c->hbs);
		for (int i = 0; i < w->nxormaps; i++)
			w->xormap[i] = xmaps[i] * (c->gran / 256);
	}
	fx_start(x);
	int ways = c->hbs * c->per;
	struct cx_region *r = fx_create_ok(x, "decoder0.0",
					   fx_linux_order(order, sizeof(order),
							  c->hbs, c->per, 0),
					   CX_MODE_PMEM,
					   256 * FX_MiB * (uint64_t)ways);
	assert_int_equal(r->ways, ways);
	assert_true(cx_region_exposed(r));
	*xp = x;
	return r;
}

/* The ranges checked: the start, an odd stretch, the end. */
static void ranges(const struct cx_region *r, uint64_t o[3], uint64_t n[3])
{
	o[0] = 0;
	n[0] = 64 * 1024;
	o[1] = r->size / 3 + 777;
	n[1] = 40 * 1024 + 5;
	n[2] = 32 * 1024;
	o[2] = r->size - n[2];
}

struct where {
	struct cx_media *media;
	uint64_t off;
};

/* Region offset o: where the walk puts it. */
static struct where walk(struct fx *x, struct cx_region *r, uint64_t o)
{
	struct cx_route rt;
	if (cx_route_walk(r->host, r->base + o, &rt, &x->err))
		fail_msg("walk: %s", x->err.msg);
	return (struct where){ rt.media, rt.media_off };
}

/* The view holds pattern `seed` over [o, o+n), every byte at the address
 * the walk's (memdev, DPA) resolves to; the exact path reads it. */
static void check_view(struct fx *x, struct cx_region *r, struct cx_rview *v,
		       uint64_t o, uint64_t n, unsigned seed)
{
	uint8_t *map = cx_rview_map(v);
	for (uint64_t i = o; i < o + n; i += i % r->gran == 0 ? 1 : 61) {
		struct where w = walk(x, r, i);
		uint64_t left;
		uint8_t *p = cx_media_at(w.media, w.off, &left);
		if (p != map + i)
			fail_msg("offset %#llx: the walk's %s[%#llx] is view "
				 "byte %#llx", (unsigned long long)i,
				 w.media->name, (unsigned long long)w.off,
				 (unsigned long long)(p - map));
		if (*p != fx_pat(i, seed))
			fail_msg("offset %#llx holds %#x, not %#x",
				 (unsigned long long)i, *p, fx_pat(i, seed));
	}
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	if (cx_region_read(r, o, buf, n, &x->err))
		fail_msg("read: %s", x->err.msg);
	for (uint64_t i = 0; i < n; i++)
		if (buf[i] != fx_pat(o + i, seed))
			fail_msg("exact read at %#llx: %#x, not %#x",
				 (unsigned long long)(o + i), buf[i],
				 fx_pat(o + i, seed));
	free(buf);
}

static void write_pattern(struct fx *x, struct cx_region *r, uint64_t o,
			  uint64_t n, unsigned seed)
{
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	for (uint64_t i = 0; i < n; i++)
		buf[i] = fx_pat(o + i, seed);
	if (cx_region_write(r, o, buf, n, &x->err))
		fail_msg("write: %s", x->err.msg);
	free(buf);
}

static struct cx_rview *view_ok(struct fx *x, struct cx_region *r)
{
	struct cx_rview *v;
	char why[256];
	assert_int_equal(cx_region_view(x->f, r, &v, why, sizeof(why)), 0);
	if (!v)
		fail_msg("no view: %s", why);
	return v;
}

/* The whole life of a view over one geometry. */
static void run_case(const struct vcase *c)
{
	struct fx *x;
	struct cx_region *r = vfabric(&x, c);
	uint64_t o[3], n[3];
	ranges(r, o, n);

	/* data before the view is kept */
	for (int k = 0; k < 3; k++)
		write_pattern(x, r, o[k], n[k], 1);
	struct cx_rview *v = view_ok(x, r);
	assert_int_equal(cx_fabric_views(x->f), 1);
	assert_ptr_equal(view_ok(x, r), v);     /* built once */
	assert_int_equal(cx_rview_size(v), r->size);
	for (int k = 0; k < 3; k++)
		check_view(x, r, v, o[k], n[k], 1);

	/* stores through the view land at the decoders' DPAs */
	for (int k = 0; k < 3; k++)
		for (uint64_t i = o[k]; i < o[k] + n[k]; i++)
			cx_rview_map(v)[i] = fx_pat(i, 2);
	for (int k = 0; k < 3; k++)
		check_view(x, r, v, o[k], n[k], 2);
	/* and the exact path's writes land in the view */
	write_pattern(x, r, o[1], n[1], 3);
	for (uint64_t i = o[1]; i < o[1] + n[1]; i++)
		assert_int_equal(cx_rview_map(v)[i], fx_pat(i, 3));

	/* taken apart: every byte back in the stores at the walk's DPA */
	struct where *w = calloc(n[0] + n[1] + n[2], sizeof(*w));
	assert_non_null(w);
	uint64_t m = 0;
	for (int k = 0; k < 3; k++)
		for (uint64_t i = o[k]; i < o[k] + n[k]; i++)
			w[m++] = walk(x, r, i);
	fx_destroy_ok(x, r);
	assert_true(cx_fabric_reclaim(x->f, &x->err) >= 1);
	assert_int_equal(cx_fabric_views(x->f), 0);
	m = 0;
	for (int k = 0; k < 3; k++)
		for (uint64_t i = o[k]; i < o[k] + n[k]; i++, m++) {
			assert_false(cx_media_overlaid(w[m].media));
			uint8_t want = fx_pat(i, k == 1 ? 3 : 2);
			if (w[m].media->map[w[m].off] != want)
				fail_msg("after the view: offset %#llx: %s[%#llx]"
					 " holds %#x, not %#x",
					 (unsigned long long)i, w[m].media->name,
					 (unsigned long long)w[m].off,
					 w[m].media->map[w[m].off], want);
		}
	free(w);
	fx_free(x);
}

static void test_2way_256(void **state)
{
	run_case(&(struct vcase){ 2, 1, 256, false });
}

static void test_4way_4k(void **state)
{
	run_case(&(struct vcase){ 2, 2, 4096, false });
}

static void test_8way_256(void **state)
{
	run_case(&(struct vcase){ 4, 2, 256, false });
}

static void test_3way_and_6way(void **state)
{
	run_case(&(struct vcase){ 3, 1, 256, false });
	run_case(&(struct vcase){ 3, 2, 4096, false });
}

static void test_xor_4way_and_8way(void **state)
{
	run_case(&(struct vcase){ 4, 1, 256, true });
	run_case(&(struct vcase){ 4, 2, 256, true });
	run_case(&(struct vcase){ 2, 2, 4096, true });
}

/* The mailbox's device-order writes and fills, and sanitize's erase,
 * reach the bytes the view holds. */
static void test_device_order_access(void **state)
{
	struct fx *x;
	struct cx_region *r = vfabric(&x, &(struct vcase){ 2, 2, 256, false });
	struct cx_rview *v = view_ok(x, r);
	uint8_t *map = cx_rview_map(v);
	memset(map, 0x5a, 1 << 20);

	/* a DPA write on the device at position 2 (Clear Poison's data) */
	struct cx_decoder *d = r->targets[2];
	struct cx_memdev *m2 = NULL;
	for (int i = 0; i < x->h->memdevs.n; i++)
		for (int k = 0; k < CX_DECODERS_PER_PORT; k++)
			if (&fx_m(x, i)->decoders[k] == d)
				m2 = fx_m(x, i);
	assert_non_null(m2);
	uint8_t data[600];
	for (int i = 0; i < 600; i++)
		data[i] = (uint8_t)(i * 3 + 1);
	assert_int_equal(cx_dpa_write(m2, d->dpa_base + 1000, data, 600,
				      &x->err), 0);
	/* a ranged fill (Media Operations' zero is a fill of 0) */
	assert_int_equal(cx_dpa_fill(m2, d->dpa_base + 4096, 0xc3, 512,
				     &x->err), 0);
	uint8_t buf[1 << 16];
	assert_int_equal(cx_region_read(r, 0, buf, sizeof(buf), &x->err), 0);
	for (uint64_t i = 0; i < sizeof(buf); i++) {
		struct cx_route rt;
		assert_int_equal(cx_route_walk(r->host, r->base + i, &rt,
					       &x->err), 0);
		uint64_t dpa = rt.dpa - d->dpa_base;
		uint8_t want = 0x5a;
		if (rt.memdev == m2 && dpa >= 1000 && dpa < 1600)
			want = data[dpa - 1000];
		else if (rt.memdev == m2 && dpa >= 4096 && dpa < 4608)
			want = 0xc3;
		if (buf[i] != want || map[i] != want)
			fail_msg("offset %#llx (%s DPA %#llx): %#x / view %#x, "
				 "not %#x", (unsigned long long)i,
				 rt.memdev->qid, (unsigned long long)rt.dpa,
				 buf[i], map[i], want);
	}
	/* erasing the device (sanitize, secure erase) zeroes its bytes in
	 * the view and no other device's */
	assert_int_equal(cx_media_erase(m2->pmem, &x->err), 0);
	assert_int_equal(cx_region_read(r, 0, buf, sizeof(buf), &x->err), 0);
	for (uint64_t i = 0; i < sizeof(buf); i++) {
		struct cx_route rt;
		assert_int_equal(cx_route_walk(r->host, r->base + i, &rt,
					       &x->err), 0);
		uint8_t want = rt.memdev == m2 ? 0 : 0x5a;
		if (buf[i] != want || map[i] != want)
			fail_msg("after erase: offset %#llx: %#x, not %#x",
				 (unsigned long long)i, buf[i], want);
	}
	fx_free(x);     /* the fabric going takes the view apart */
}

/* Where a view cannot be, the reason is one line; lending bytes a view
 * holds is refused. */
static void test_fallbacks_say_why(void **state)
{
	struct fx *x;
	struct cx_rview *v;
	char why[256];

	/* one way: nothing to gain */
	x = fx_new();
	fx_tree(x, 1, 1, 0, 0, 512 * FX_MiB);
	fx_win_all(x, 4 * FX_GiB, 4096);
	fx_start(x);
	struct cx_region *r = fx_create_ok(x, "decoder0.0", "mem0",
					   CX_MODE_PMEM, 256 * FX_MiB);
	assert_int_equal(cx_region_view(x->f, r, &v, why, sizeof(why)), 0);
	assert_null(v);
	assert_non_null(strstr(why, "not interleaved"));
	fx_free(x);

	/* bytes lent as blocks before: they stay blocks */
	r = vfabric(&x, &(struct vcase){ 2, 1, 4096, false });
	struct cx_grant g;
	struct cx_media_lease ls[8];
	int n;
	assert_int_equal(cx_region_grant(r, &g, &x->err), 0);
	assert_int_equal(cx_media_lend(g.part[1].media, g.part[1].off,
				       g.part[1].len, ls, 8, &n, &x->err), 0);
	assert_int_equal(cx_region_view(x->f, r, &v, why, sizeof(why)), 0);
	assert_null(v);
	assert_non_null(strstr(why, "lent as blocks already"));
	fx_free(x);

	/* a view's bytes cannot be lent as blocks too */
	r = vfabric(&x, &(struct vcase){ 2, 1, 4096, false });
	v = view_ok(x, r);
	assert_int_equal(cx_region_grant(r, &g, &x->err), 0);
	assert_int_equal(cx_media_lend(g.part[0].media, g.part[0].off, 4096,
				       ls, 8, &n, &x->err), -EBUSY);
	assert_non_null(strstr(x->err.msg, "view"));
	/* system-ram ends the grant: the view is taken apart */
	r->dax_system_ram = true;
	assert_true(cx_fabric_reclaim(x->f, &x->err) >= 1);
	assert_int_equal(cx_fabric_views(x->f), 0);
	assert_null(r->view);
	fx_free(x);
}

/* ---- two hosts on the same share=on files ---- */

/* The host's devices, in order, on files f0.. of dir (shared with every
 * host given the same dir). */
static void on_files(struct cx_host *h, const char *dir)
{
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		char path[128];
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		m->pmem_be->kind = CX_BACKEND_FILE;
		m->pmem_be->mem_path = cx_xstrdup(path);
	}
}

static struct cx_window *xor_win(struct fx *x, const uint64_t *maps)
{
	struct cx_window *w = fx_win_all(x, 16 * FX_GiB, 256);
	w->arith = CX_ARITH_XOR;
	w->nxormaps = 2;
	w->xormap[0] = maps[0];
	w->xormap[1] = maps[1];
	return w;
}

/* Does every sampled offset of a and b route to the same device byte?
 * (the ground truth the views' sharing must follow) */
static bool routes_same(struct fx *x, struct cx_region *a, struct cx_region *b)
{
	for (uint64_t o = 0; o < a->size; o += o < (1 << 20) ? 256 : 4099 * 256) {
		struct where p = walk(x, a, o), q = walk(x, b, o);
		if (p.media->store != q.media->store ||
		    p.media->offset + p.off != q.media->offset + q.off)
			return false;
	}
	return true;
}

/*
 * A region of host2 over the DPAs of host0's region, in an XOR window
 * at another HPA: the maps read absolute HPA bits, so the two share one
 * view exactly when every granule routes alike - decided at once for
 * bases aligned past the size, granule by granule otherwise - and
 * otherwise both fall back, naming each other.
 */
static void test_xor_views_across_hosts_follow_the_hpa(void **state)
{
	/* maps with HPA bits 30, 34 and 33, and low maps (bits up to 25);
	 * a 768 MiB window first puts the next at 5 GiB, 1 GiB aligned */
	static const uint64_t hi[2] = { 0x100 | 1ULL << 30 | 1ULL << 34,
					0x200 | 1ULL << 33 };
	static const uint64_t lo[2] = { 0x2020900 & ~0x800ULL, 0x4041200 };
	static const struct { int w1, w2; bool same; } cases[] = {
		{ 1, 2, false },        /* 5 and 6 GiB: aligned, parities differ */
		{ 1, 3, true },         /* 5 and 22 GiB: aligned, parities agree */
		{ 2, 5, true },         /* 21 and 38.5 GiB: granule by granule */
		{ 1, 6, false },        /* 5 and 54.5 GiB: granule by granule */
	};
	char dir[] = "/tmp/cxlemu-test-xviews-XXXXXX";
	char order[64];
	assert_non_null(mkdtemp(dir));

	struct fx *x = fx_new();
	struct cx_host *h1 = x->h;
	fx_tree(x, 4, 1, 0, 0, 512 * FX_MiB);
	on_files(h1, dir);
	fx_win(x, 768 * FX_MiB, 256, 1, (int[]){ 0 });
	xor_win(x, hi);                              /* decoder0.1: 5 GiB */
	xor_win(x, lo);                              /* decoder0.2: 21 GiB */
	struct cx_host *h2 = cx_host_new(x->f, "host2", 0);
	h2->cxl_on = true;
	x->h = h2;
	fx_tree(x, 4, 1, 0, 0, 512 * FX_MiB);
	on_files(h2, dir);
	fx_win(x, 768 * FX_MiB, 256, 1, (int[]){ 0 });
	fx_win_all(x, FX_GiB, 256);
	xor_win(x, hi);                              /* decoder0.2: 6 GiB */
	xor_win(x, hi);                              /* decoder0.3: 22 GiB */
	fx_win(x, 512 * FX_MiB, 256, 1, (int[]){ 0 });
	xor_win(x, lo);                              /* decoder0.5 */
	xor_win(x, hi);                              /* decoder0.6 */
	fx_start(x);
	fx_linux_order(order, sizeof(order), 4, 1, 0);

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char root[32], why[256], want[64];
		struct cx_rview *v1, *v2;
		x->h = h1;
		snprintf(root, sizeof(root), "decoder0.%d", cases[k].w1);
		struct cx_region *r1 = fx_create_ok(x, root, order,
						    CX_MODE_PMEM, FX_GiB);
		v1 = view_ok(x, r1);
		x->h = h2;
		snprintf(root, sizeof(root), "decoder0.%d", cases[k].w2);
		struct cx_region *r2 = fx_create_ok(x, root, order,
						    CX_MODE_PMEM, FX_GiB);
		if (k < 2)      /* the bases the cases are about */
			assert_int_equal(r1->base % FX_GiB, 0);
		assert_int_equal(routes_same(x, r1, r2), cases[k].same);
		assert_int_equal(cx_region_view(x->f, r2, &v2, why,
						sizeof(why)), 0);
		if (cases[k].same) {
			if (v2 != v1)
				fail_msg("case %zu: no shared view: %s", k, why);
			assert_int_equal(cx_rview_users(v1), 2);
			write_pattern(x, r1, 4096, 64 * 1024, (unsigned)k);
			check_view(x, r2, v2, 4096, 64 * 1024, (unsigned)k);
		} else {
			assert_null(v2);
			snprintf(want, sizeof(want), "region%d of host host0",
				 r1->id);
			if (!strstr(why, want))
				fail_msg("case %zu: '%s' does not name %s", k,
					 why, want);
			/* nobody mapped host0's view: it gave way */
			assert_null(r1->view);
			assert_int_equal(cx_region_view(x->f, r1, &v1, why,
							sizeof(why)), 0);
			assert_null(v1);
			snprintf(want, sizeof(want), "region%d of host host2",
				 r2->id);
			assert_non_null(strstr(why, want));
		}
		fx_destroy_ok(x, r2);
		cx_fabric_reclaim(x->f, &x->err);
		if (cases[k].same)      /* host0's region keeps its view */
			assert_ptr_equal(r1->view, v1);
		fx_destroy_ok(x, r1);
		cx_fabric_reclaim(x->f, &x->err);
		assert_int_equal(cx_fabric_views(x->f), 0);
	}
	x->h = h1;
	fx_free(x);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_2way_256),
		cmocka_unit_test(test_4way_4k),
		cmocka_unit_test(test_8way_256),
		cmocka_unit_test(test_3way_and_6way),
		cmocka_unit_test(test_xor_4way_and_8way),
		cmocka_unit_test(test_device_order_access),
		cmocka_unit_test(test_fallbacks_say_why),
		cmocka_unit_test(test_xor_views_across_hosts_follow_the_hpa),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
