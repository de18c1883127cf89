/*
 * fabric.c - construction, naming, address layout and lookup of the
 * fabric's objects.
 *
 * cx_fabric_finalize() turns what the topology declared into what a host
 * would enumerate: port ids in Linux's order, PCI bus numbers the way QEMU
 * hands them out depth-first below each pxb-cxl, window bases from QEMU's
 * x86 memory layout, and the decoders of every port and endpoint.
 */
#include "model.h"
#include "mbox.h"
#include "region_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cx_mode_name(enum cx_mode m)
{
	switch (m) {
	case CX_MODE_RAM: return "ram";
	case CX_MODE_PMEM: return "pmem";
	case CX_MODE_MIXED: return "mixed";
	case CX_MODE_DC: return "dynamic_ram_a";
	default: return "none";
	}
}

static const struct cx_access access_unset = { -1, -1, -1 };

void cx_access_merge(struct cx_access *dst, const struct cx_access *src)
{
	if (src->owner != -1)
		dst->owner = src->owner;
	if (src->group != -1)
		dst->group = src->group;
	if (src->mode != -1)
		dst->mode = src->mode;
}

struct cx_fabric *cx_fabric_new(const char *source)
{
	struct cx_fabric *f = cx_xcalloc(1, sizeof(*f));
	f->source = cx_xstrdup(source ? source : "<topology>");
	f->admin_access = access_unset;
	return f;
}

struct cx_host *cx_host_new(struct cx_fabric *f, const char *name, int line)
{
	struct cx_host *h = cx_xcalloc(1, sizeof(*h));
	h->name = cx_xstrdup(name);
	h->line = line;
	h->ram_size = 128ULL << 20; /* QEMU's default -m */
	h->access = access_unset;
	cx_vec_push(&f->hosts, h);
	return h;
}

struct cx_backend *cx_backend_new(struct cx_host *h, const char *id, int line)
{
	struct cx_backend *b = cx_xcalloc(1, sizeof(*b));
	b->id = cx_xstrdup(id);
	b->line = line;
	cx_vec_push(&h->backends, b);
	return b;
}

struct cx_port *cx_port_new(struct cx_host *h, enum cx_port_kind kind,
			    const char *qid, int line)
{
	struct cx_port *p = cx_xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->qid = cx_xstrdup(qid);
	p->line = line;
	p->host = h;
	p->port_id = -1;
	cx_vec_push(&h->ports, p);
	if (kind == CX_PORT_HB)
		cx_vec_push(&h->hbs, p);
	return p;
}

struct cx_memdev *cx_memdev_new(struct cx_host *h, const char *qid, int line)
{
	struct cx_memdev *m = cx_xcalloc(1, sizeof(*m));
	m->qid = cx_xstrdup(qid);
	m->line = line;
	m->host = h;
	m->index = h->memdevs.n;
	/* an ASIC expander (issue 4 makes these configurable) */
	m->read_latency_ns = 250;
	m->write_latency_ns = 250;
	m->read_bw_mbs = 32000;
	m->write_bw_mbs = 32000;
	cx_vec_push(&h->memdevs, m);
	return m;
}

struct cx_window *cx_window_new(struct cx_host *h, int index, int line)
{
	struct cx_window *w = cx_xcalloc(1, sizeof(*w));
	w->index = index;
	w->line = line;
	w->gran = 256;
	cx_vec_push(&h->windows, w);
	return w;
}

void cx_port_attach(struct cx_port *parent, struct cx_port *child)
{
	child->parent = parent;
	cx_vec_push(&parent->children, child);
}

static void region_free(struct cx_region *r) { free(r); }

static void host_free(struct cx_host *h)
{
	cx_route_table_free(h->route_table);
	for (int i = 0; i < h->regions.n; i++)
		region_free(h->regions.v[i]);
	for (int i = 0; i < h->backends.n; i++) {
		struct cx_backend *b = h->backends.v[i];
		cx_media_put(b->media);
		free(b->id);
		free(b->mem_path);
		free(b);
	}
	for (int i = 0; i < h->ports.n; i++) {
		struct cx_port *p = h->ports.v[i];
		cx_vec_free(&p->children);
		free(p->decoders);
		free(p->qid);
		free(p);
	}
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		cx_media_put(m->vmem);
		cx_media_put(m->pmem);
		cx_media_put(m->lsa);
		cx_media_put(m->dc);
		free(m->qid);
		free(m);
	}
	for (int i = 0; i < h->windows.n; i++)
		free(h->windows.v[i]);
	for (int i = 0; i < h->words.n; i++)
		free(h->words.v[i]);
	cx_vec_free(&h->words);
	cx_vec_free(&h->backends);
	cx_vec_free(&h->hbs);
	cx_vec_free(&h->ports);
	cx_vec_free(&h->memdevs);
	cx_vec_free(&h->windows);
	cx_vec_free(&h->regions);
	free(h->name);
	free(h);
}

void cx_fabric_free(struct cx_fabric *f)
{
	if (!f)
		return;
	/* bytes back into the stores; what a file could not take is told
	 * on stderr, slot by slot */
	cx_fabric_views_settle(f, true, NULL);
	cx_vec_free(&f->views);
	cx_mbox_free_fabric(f); /* records a clean shutdown */
	for (int i = 0; i < f->hosts.n; i++)
		host_free(f->hosts.v[i]);
	for (int i = 0; i < f->media.n; i++)
		cx_media_put(f->media.v[i]);
	cx_vec_free(&f->hosts);
	for (int i = 0; i < f->external.n; i++)
		free(f->external.v[i]);
	cx_vec_free(&f->external);
	for (int i = 0; i < f->warnings.n; i++)
		free(f->warnings.v[i]);
	cx_vec_free(&f->warnings);
	cx_vec_free(&f->media);
	free(f->source);
	free(f);
}

/* ---- finalize ---- */

static void init_switch_decoders(struct cx_port *p)
{
	p->ndecoders = p->passthrough ? 1 : CX_DECODERS_PER_PORT;
	p->decoders = cx_xcalloc((size_t)p->ndecoders, sizeof(*p->decoders));
	for (int i = 0; i < p->ndecoders; i++) {
		struct cx_decoder *d = &p->decoders[i];
		d->kind = CX_DEC_SWITCH;
		d->port_id = p->port_id;
		d->id = i;
		d->port = p;
		d->passthrough = p->passthrough;
		d->nr_targets = p->passthrough ? 1 : CX_TARGETS_PER_DECODER;
		d->pos = -1;
		cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_TARGET_TYPE3, true);
	}
}

static void init_endpoint_decoders(struct cx_memdev *m)
{
	for (int i = 0; i < CX_DECODERS_PER_PORT; i++) {
		struct cx_decoder *d = &m->decoders[i];
		memset(d, 0, sizeof(*d));
		d->kind = CX_DEC_ENDPOINT;
		d->port_id = m->endpoint_id;
		d->id = i;
		d->memdev = m;
		d->pos = -1;
		d->nr_targets = 1;
		cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_TARGET_TYPE3, true);
	}
}

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* Where QEMU's x86 machines (hw/i386/pc.c) start the CXL area: after RAM
 * above 4 GiB and the device-memory (hotplug) area, past the 1 MiB block
 * of host bridge registers.  The first window is this rounded up to
 * 256 MiB. */
uint64_t cx_host_cxl_area_start(const struct cx_host *h)
{
	uint64_t ram = h->ram_size;
	uint64_t lowmem = ram >= 0xb0000000ULL ? 0x80000000ULL : 0xb0000000ULL;
	uint64_t below = ram < lowmem ? ram : lowmem;
	uint64_t above_end = (1ULL << 32) + (ram - below);
	uint64_t base = above_end;

	if (h->maxram_size > ram) {
		uint64_t dev = round_up(above_end, 1ULL << 30);
		base = dev + (h->maxram_size - ram) +
		       (uint64_t)h->ram_slots * (1ULL << 30);
	}
	return base + (1ULL << 20);
}

static uint64_t first_window_base(const struct cx_host *h)
{
	return round_up(cx_host_cxl_area_start(h), CX_SZ_256M);
}

static void finalize_host(struct cx_host *h)
{
	h->nports = 1; /* root0 */

	/* host bridges: ports 1..K, dports of root0.  QEMU's DSDT lists
	 * the last pxb-cxl declared first; Linux numbers the ACPI0016
	 * devices, and adds their CXL ports, in that order */
	for (int i = 0; i < h->hbs.n; i++) {
		struct cx_port *hb = h->hbs.v[i];
		hb->hb_index = h->hbs.n - 1 - i;
		hb->port_id = 1 + hb->hb_index;
		h->nports++;
		hb->depth = 1;
		hb->port_num = hb->bus_nr;
		hb->passthrough = hb->children.n == 1;
	}
	/* PCI numbering, depth first below each host bridge */
	for (int i = 0; i < h->hbs.n; i++) {
		struct cx_port *hb = h->hbs.v[i];
		int next_bus = hb->bus_nr + 1;
		for (int r = 0; r < hb->children.n; r++) {
			struct cx_port *rp = hb->children.v[r];
			rp->pci_bus = hb->bus_nr;
			rp->pci_dev = r;
			rp->bus_nr = next_bus++;
			for (int u = 0; u < rp->children.n; u++) {
				struct cx_port *usp = rp->children.v[u];
				usp->pci_bus = rp->bus_nr;
				usp->pci_dev = 0;
				usp->bus_nr = next_bus++;
				for (int d = 0; d < usp->children.n; d++) {
					struct cx_port *dsp = usp->children.v[d];
					dsp->pci_bus = usp->bus_nr;
					dsp->pci_dev = d;
					dsp->bus_nr = next_bus++;
				}
			}
		}
	}
	/* switch upstream ports get the next port ids, depth first */
	for (int i = 0; i < h->hbs.n; i++) {
		struct cx_port *hb = h->hbs.v[i];
		for (int r = 0; r < hb->children.n; r++) {
			struct cx_port *rp = hb->children.v[r];
			for (int u = 0; u < rp->children.n; u++) {
				struct cx_port *usp = rp->children.v[u];
				usp->port_id = h->nports++;
				usp->depth = 2;
			}
		}
	}
	for (int i = 0; i < h->ports.n; i++) {
		struct cx_port *p = h->ports.v[i];
		if (p->kind == CX_PORT_HB || p->kind == CX_PORT_USP)
			init_switch_decoders(p);
	}
	/* endpoints */
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		m->index = i;
		m->endpoint_id = h->nports++;
		m->pci_bus = m->parent ? m->parent->bus_nr : 0;
		m->depth = m->parent && m->parent->kind == CX_PORT_DSP ? 3 : 2;
		init_endpoint_decoders(m);
	}
	/* windows: QEMU places them in index order from the first base */
	uint64_t base = first_window_base(h);
	for (int i = 0; i < h->windows.n; i++) {
		struct cx_window *w = h->windows.v[i];
		if (!w->legacy) {
			w->base = base;
			base += w->size;
		}
		struct cx_decoder *d = &w->dec;
		memset(d, 0, sizeof(*d));
		d->kind = CX_DEC_ROOT;
		d->port_id = 0;
		d->id = w->index;
		d->window = w;
		d->pos = -1;
		d->nr_targets = w->ways;
		cx_hdm_set_base(&d->regs, w->base);
		cx_hdm_set_size(&d->regs, w->size);
		cx_hdm_set_ig_iw(&d->regs, cx_gran_to_eig(w->gran),
				 cx_ways_to_eniw(w->ways));
		cx_hdm_set_ctrl_bits(&d->regs, CX_HDM_CTRL_COMMIT |
				     CX_HDM_CTRL_COMMITTED |
				     CX_HDM_CTRL_LOCK_ON_COMMIT |
				     CX_HDM_CTRL_TARGET_TYPE3, true);
	}
}

void cx_fabric_finalize(struct cx_fabric *f)
{
	if (f->finalized)
		return;
	for (int i = 0; i < f->hosts.n; i++)
		finalize_host(f->hosts.v[i]);
	f->finalized = true;
}

/* ---- media ---- */

static struct cx_media *find_shared(struct cx_fabric *f, const char *path)
{
	char real[4096];
	const char *key = realpath(path, real) ? real : path;
	for (int i = 0; i < f->media.n; i++) {
		struct cx_media *m = f->media.v[i];
		if (m->path && !strcmp(m->path, key))
			return m;
	}
	return NULL;
}

bool cx_fabric_external(const struct cx_fabric *f, const char *path)
{
	char a[4096], b[4096];
	const char *pa = realpath(path, a) ? a : path;
	for (int i = 0; i < f->external.n; i++) {
		const char *x = f->external.v[i];
		if (!strcmp(pa, realpath(x, b) ? b : x))
			return true;
	}
	return false;
}

static int open_backend(struct cx_fabric *f, struct cx_backend *b, cx_err *e)
{
	struct cx_media *m = NULL;
	int rc;

	if (b->media)
		return 0;
	if (b->kind == CX_BACKEND_FILE && b->share) {
		m = find_shared(f, b->mem_path);
		if (m) {
			if (m->size != b->size)
				return cx_fail(e, EINVAL,
					       "backend %s: mem-path '%s' is "
					       "shared with another host at "
					       "size %llu, but this one says "
					       "%llu; heads of one device must "
					       "agree on its size", b->id,
					       b->mem_path,
					       (unsigned long long)m->size,
					       (unsigned long long)b->size);
			b->media = cx_media_get(m);
			return 0;
		}
	}
	if (b->kind == CX_BACKEND_FILE)
		rc = cx_media_new_file(b->id, b->mem_path, b->size, b->share,
				       &m, e);
	else
		rc = cx_media_new_memfd(b->id, b->size, &m, e);
	if (rc)
		return rc;
	if (b->kind == CX_BACKEND_FILE && b->share &&
	    cx_fabric_external(f, b->mem_path))
		cx_media_set_external(m);
	cx_vec_push(&f->media, m);
	b->media = cx_media_get(m);
	return 0;
}

static int attach_media(struct cx_fabric *f, struct cx_backend *b,
			uint64_t off, uint64_t size, struct cx_media **slot,
			cx_err *e)
{
	int rc;

	if (!b)
		return 0;
	if ((rc = open_backend(f, b, e)))
		return rc;
	if (off == 0 && size == b->media->size) {
		*slot = cx_media_get(b->media);
		return 0;
	}
	return cx_media_slice(b->media, off, size, b->id, slot, e);
}

int cx_fabric_start(struct cx_fabric *f, cx_err *e)
{
	int rc;

	cx_fabric_finalize(f);
	if (f->started)
		return 0;
	cx_media_guard_install();
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->memdevs.n; j++) {
			struct cx_memdev *m = h->memdevs.v[j];
			if ((rc = attach_media(f, m->vmem_be, 0, m->vmem_size,
					       &m->vmem, e)) ||
			    (rc = attach_media(f, m->pmem_be, m->legacy_offset,
					       m->pmem_size, &m->pmem, e)) ||
			    (rc = attach_media(f, m->lsa_be, 0, m->lsa_size,
					       &m->lsa, e)) ||
			    (rc = attach_media(f, m->dc_be, 0, m->dc_size,
					       &m->dc, e))) {
				cx_err_prefix(e, "host %s, %s (%s)", h->name,
					      m->qid, "cxl-type3");
				return rc;
			}
		}
	}
	/* device state behind each memdev's mailbox; applies a partition
	 * change saved by the previous run, so sizes are final after this */
	if ((rc = cx_mbox_init_fabric(f, e)))
		return rc;
	f->started = true;
	return 0;
}

/* Heads of one device hold the same backend media in the same layout:
 * the same volatile, persistent and dynamic capacity backends (or none),
 * sizes, offset and number of DC regions, at least one of them shared.
 * Memdevs that merely overlap in one file
 * (the pre-7.1 size= carve-outs, or a file that is one host's persistent
 * media behind another host's volatile capacity) put its bytes at
 * different DPAs, so they stay separate devices. */
bool cx_memdev_same_device(const struct cx_memdev *a,
			   const struct cx_memdev *b)
{
	const struct cx_media *av = a->vmem_be ? a->vmem_be->media : NULL,
			      *bv = b->vmem_be ? b->vmem_be->media : NULL,
			      *ap = a->pmem_be ? a->pmem_be->media : NULL,
			      *bp = b->pmem_be ? b->pmem_be->media : NULL,
			      *ad = a->dc_be ? a->dc_be->media : NULL,
			      *bd = b->dc_be ? b->dc_be->media : NULL;
	return (av || ap || ad) && av == bv && ap == bp && ad == bd &&
	       a->vmem_size == b->vmem_size && a->pmem_size == b->pmem_size &&
	       a->legacy_offset == b->legacy_offset &&
	       a->dc_size == b->dc_size && a->dc_regions == b->dc_regions;
}

/* ---- lookup ---- */

struct cx_host *cx_host_find(struct cx_fabric *f, const char *name)
{
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		if (!name || !strcmp(h->name, name))
			return h;
	}
	return NULL;
}

static bool parse_num_suffix(const char *s, const char *prefix, int *out)
{
	size_t n = strlen(prefix);
	char *end;
	if (strncmp(s, prefix, n) || !s[n])
		return false;
	long v = strtol(s + n, &end, 10);
	if (*end || v < 0 || v > 1000000)
		return false;
	*out = (int)v;
	return true;
}

struct cx_memdev *cx_memdev_find(struct cx_host *h, const char *name)
{
	int idx;
	if (parse_num_suffix(name, "mem", &idx) && idx < h->memdevs.n)
		return h->memdevs.v[idx];
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		if (!strcmp(m->qid, name))
			return m;
	}
	return NULL;
}

struct cx_region *cx_region_find(struct cx_host *h, const char *name)
{
	int id;
	if (!parse_num_suffix(name, "region", &id))
		return NULL;
	for (int i = 0; i < h->regions.n; i++) {
		struct cx_region *r = h->regions.v[i];
		if (r->id == id)
			return r;
	}
	return NULL;
}

struct cx_decoder *cx_decoder_find(struct cx_host *h, const char *name)
{
	int port, id;
	char *end;
	if (strncmp(name, "decoder", 7))
		return NULL;
	long p = strtol(name + 7, &end, 10);
	if (end == name + 7 || *end != '.' || p < 0)
		return NULL;
	char *end2;
	long y = strtol(end + 1, &end2, 10);
	if (end2 == end + 1 || *end2 || y < 0)
		return NULL;
	port = (int)p;
	id = (int)y;
	if (port == 0) {
		for (int i = 0; i < h->windows.n; i++) {
			struct cx_window *w = h->windows.v[i];
			if (w->index == id)
				return &w->dec;
		}
		return NULL;
	}
	for (int i = 0; i < h->ports.n; i++) {
		struct cx_port *pp = h->ports.v[i];
		if (pp->port_id == port)
			return id < pp->ndecoders ? &pp->decoders[id] : NULL;
	}
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		if (m->endpoint_id == port)
			return id < CX_DECODERS_PER_PORT ? &m->decoders[id] : NULL;
	}
	return NULL;
}

struct cx_port *cx_port_find_qid(struct cx_host *h, const char *qid)
{
	for (int i = 0; i < h->ports.n; i++) {
		struct cx_port *p = h->ports.v[i];
		if (!strcmp(p->qid, qid))
			return p;
	}
	return NULL;
}

struct cx_backend *cx_backend_find(struct cx_host *h, const char *id)
{
	for (int i = 0; i < h->backends.n; i++) {
		struct cx_backend *b = h->backends.v[i];
		if (!strcmp(b->id, id))
			return b;
	}
	return NULL;
}

void cx_decoder_name(const struct cx_decoder *d, char *buf, int len)
{
	snprintf(buf, (size_t)len, "decoder%d.%d", d->port_id, d->id);
}

struct cx_port *cx_port_hb(struct cx_port *p)
{
	while (p && p->parent)
		p = p->parent;
	return p;
}

struct cx_port *cx_memdev_hb(struct cx_memdev *m)
{
	return cx_port_hb(m->parent);
}
