/*
 * view.c - the Linux names and links of the fabric (view.h).
 */
#include "model/view.h"

#include <stdio.h>

struct cx_vport cx_vport_root(struct cx_host *h)
{
	return (struct cx_vport){ .kind = CX_VPORT_ROOT, .h = h };
}

struct cx_vport cx_vport_switch(struct cx_port *p)
{
	return (struct cx_vport){ .kind = CX_VPORT_SWITCH, .h = p->host, .p = p };
}

struct cx_vport cx_vport_endpoint(struct cx_memdev *m)
{
	return (struct cx_vport){ .kind = CX_VPORT_ENDPOINT, .h = m->host, .m = m };
}

int cx_vport_id(const struct cx_vport *x)
{
	switch (x->kind) {
	case CX_VPORT_ROOT: return 0;
	case CX_VPORT_SWITCH: return x->p->port_id;
	default: return x->m->endpoint_id;
	}
}

void cx_vport_name(const struct cx_vport *x, char *buf, size_t len)
{
	switch (x->kind) {
	case CX_VPORT_ROOT: snprintf(buf, len, "root0"); break;
	case CX_VPORT_SWITCH: snprintf(buf, len, "port%d", x->p->port_id); break;
	default: snprintf(buf, len, "endpoint%d", x->m->endpoint_id); break;
	}
}

void cx_view_pci_addr(const struct cx_port *p, char *buf, size_t len)
{
	snprintf(buf, len, "0000:%02x:%02x.0", p->pci_bus & 0xff,
		 p->pci_dev & 0xff);
}

/* The device a port's "host" key names (Linux: the port's uport). */
void cx_vport_host(const struct cx_vport *x, char *buf, size_t len)
{
	switch (x->kind) {
	case CX_VPORT_ROOT:
		snprintf(buf, len, "ACPI0017:00");
		break;
	case CX_VPORT_SWITCH:
		if (x->p->kind == CX_PORT_HB)
			snprintf(buf, len, "ACPI0016:%02x", x->p->hb_index);
		else
			cx_view_pci_addr(x->p, buf, len);
		break;
	default:
		snprintf(buf, len, "mem%d", x->m->index);
		break;
	}
}

/* The CXL port a dport (root port or downstream port) belongs to. */
bool cx_view_port_of_dport(struct cx_port *d, struct cx_vport *out)
{
	if (!d || !d->parent)
		return false;
	if (d->kind == CX_PORT_RP || d->kind == CX_PORT_DSP) {
		*out = cx_vport_switch(d->parent);
		return true;
	}
	return false;
}

bool cx_vport_parent(const struct cx_vport *x, struct cx_vport *out)
{
	switch (x->kind) {
	case CX_VPORT_ROOT:
		return false;
	case CX_VPORT_SWITCH:
		if (x->p->kind == CX_PORT_HB) {
			*out = cx_vport_root(x->h);
			return true;
		}
		return cx_view_port_of_dport(x->p->parent, out);
	default:
		return cx_view_port_of_dport(x->m->parent, out);
	}
}

bool cx_vport_same(const struct cx_vport *a, const struct cx_vport *b)
{
	return a->kind == b->kind && a->h == b->h && a->p == b->p &&
	       a->m == b->m;
}

/* Is `x` the memdev's endpoint or one of its ancestors? */
bool cx_vport_hosts_memdev(const struct cx_vport *x, struct cx_memdev *m)
{
	struct cx_vport it;

	if (m->host != x->h || !m->parent)
		return false;
	it = cx_vport_endpoint(m);
	for (;;) {
		if (cx_vport_same(&it, x))
			return true;
		struct cx_vport up;
		if (!cx_vport_parent(&it, &up))
			return false;
		it = up;
	}
}

/* Does a dport (HB for root0, else RP/DSP) lead to the memdev? */
bool cx_view_dport_maps_memdev(struct cx_port *d, struct cx_memdev *m)
{
	if (d->host != m->host)
		return false;
	for (struct cx_port *p = m->parent; p; p = p->parent)
		if (p == d)
			return true;
	return false;
}

/* dports of a CXL port, in order: HBs of root0, RPs of an HB, DSPs of a
 * USP.  Returns the count; fills up to `max`. */
int cx_vport_dports(const struct cx_vport *x, struct cx_port **out, int max)
{
	const cx_vec *v;
	int n = 0;

	if (x->kind == CX_VPORT_ROOT)
		v = &x->h->hbs;
	else if (x->kind == CX_VPORT_SWITCH)
		v = &x->p->children;
	else
		return 0;
	for (int i = 0; i < v->n; i++) {
		if (n < max)
			out[n] = v->v[i];
		n++;
	}
	return n;
}

int cx_view_dport_id(const struct cx_port *d)
{
	return d->kind == CX_PORT_HB ? d->bus_nr : d->port_num;
}

/* ---- decoders ---- */

uint64_t cx_view_dec_base(const struct cx_decoder *d)
{
	return d->kind == CX_DEC_ROOT ? d->window->base : cx_hdm_base(&d->regs);
}

uint64_t cx_view_dec_size(const struct cx_decoder *d)
{
	return d->kind == CX_DEC_ROOT ? d->window->size : cx_hdm_size(&d->regs);
}

int cx_view_dec_ways(const struct cx_decoder *d)
{
	if (d->kind == CX_DEC_ROOT)
		return d->window->ways;
	int w = cx_eniw_to_ways(cx_hdm_iw(&d->regs));
	return w > 0 ? w : 1;
}

uint32_t cx_view_dec_gran(const struct cx_decoder *d)
{
	if (d->kind == CX_DEC_ROOT)
		return d->window->gran;
	return cx_eig_to_gran(cx_hdm_ig(&d->regs));
}

/* The region a switch or endpoint decoder belongs to.  Falls back to the
 * host's region with exactly this HPA range, in case region assembly did
 * not record it on intermediate decoders. */
struct cx_region *cx_view_dec_region(const struct cx_decoder *d)
{
	struct cx_host *h;

	if (d->kind == CX_DEC_ROOT)
		return NULL;
	if (d->region)
		return d->region;
	uint64_t size = cx_view_dec_size(d);
	if (!size)
		return NULL;
	h = d->kind == CX_DEC_SWITCH ? d->port->host : d->memdev->host;
	for (int i = 0; i < h->regions.n; i++) {
		struct cx_region *r = h->regions.v[i];
		if (r->base == cx_view_dec_base(d) && r->size == size)
			return r;
	}
	return NULL;
}

/*
 * A decoder's targets as Linux lists them (target_list): the window's host
 * bridges for a root decoder; for a switch decoder, one dport per
 * programmed way, looked up by the port number in the register's target
 * list (a passthrough decoder always targets its only root port).
 */
int cx_view_dec_targets(const struct cx_decoder *d, struct cx_port **out)
{
	int n = 0, ways = cx_view_dec_ways(d);

	if (d->kind == CX_DEC_ROOT) {
		for (int i = 0; i < ways && i < CX_MAX_WAYS; i++)
			out[n++] = d->window->targets[i];
		return n;
	}
	if (d->kind != CX_DEC_SWITCH)
		return 0;
	if (d->passthrough) {
		if (d->port->children.n > 0)
			out[n++] = d->port->children.v[0];
		return n;
	}
	for (int i = 0; i < ways && i < CX_TARGETS_PER_DECODER; i++) {
		struct cx_port *t = NULL;
		if (i < d->nr_targets_set && d->targets[i]) {
			t = d->targets[i];
		} else {
			int num = cx_hdm_target(&d->regs, i);
			for (int c = 0; c < d->port->children.n; c++) {
				struct cx_port *dp = d->port->children.v[c];
				if (dp->port_num == num) {
					t = dp;
					break;
				}
			}
		}
		if (!t)
			break;
		out[n++] = t;
	}
	return n;
}

/* ---- QoS classes (view.h) ---- */

/* the QTG id QEMU's CFMWS entries and its QTG _DSM carry */
#define QEMU_QTG_ID 0

int cx_view_window_qos_class(const struct cx_window *w)
{
	(void)w;
	return QEMU_QTG_ID;
}

int cx_view_memdev_qos_class(const struct cx_memdev *m, enum cx_mode mode)
{
	uint64_t size = mode == CX_MODE_RAM ? m->vmem_size
			: mode == CX_MODE_PMEM ? m->pmem_size : 0;
	struct cx_port *hb = m->parent ? cx_memdev_hb((struct cx_memdev *)m)
			     : NULL;
	if (!size || !hb)
		return CX_QOS_CLASS_NONE;
	int qos = QEMU_QTG_ID;   /* the _DSM's answer for the DSMAS */
	bool class_known = false, hb_decoded = false;
	for (int i = 0; i < m->host->windows.n; i++) {
		const struct cx_window *w = m->host->windows.v[i];
		class_known |= cx_view_window_qos_class(w) == qos;
		for (int t = 0; t < w->ways; t++)
			hb_decoded |= w->targets[t] == hb;
	}
	return class_known && hb_decoded ? qos : CX_QOS_CLASS_NONE;
}
