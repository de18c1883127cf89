/*
 * driver.c - which devices are bound to their Linux drivers: a memdev to
 * cxl_mem (then it has an endpoint port), a host bridge or switch port to
 * cxl_port, the root to cxl_acpi.  ndctl's disable-memdev, enable-memdev,
 * disable-port, enable-port and disable-bus unbind and bind them through
 * sysfs; a device that is not bound takes no part in regions.
 *
 * Linux's rules, as ndctl's test/cxl-topology.sh relies on them:
 *   - a switch port exists while an enabled memdev is below it: disabling
 *     its last memdev removes it, enabling one brings it back;
 *   - unbinding a port (or the root) takes the memdevs below it down;
 *   - a memdev comes up only where its host bridge (and the root) is up.
 * cxlemu refuses to take down a memdev that holds DPA or a committed
 * decoder (EBUSY: destroy the region first); Linux would tear the region
 * down under its users.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>

static bool below(const struct cx_memdev *m, const struct cx_port *p)
{
	for (struct cx_port *q = m->parent; q; q = q->parent)
		if (q == p)
			return true;
	return false;
}

static int busy(const struct cx_memdev *m, const char *what, cx_err *e)
{
	for (int i = 0; i < CX_DECODERS_PER_PORT; i++) {
		const struct cx_decoder *d = &m->decoders[i];
		if (d->dpa_size || cx_hdm_committed(&d->regs) || d->region)
			return cx_fail(e, EBUSY, "%s: mem%d holds DPA in "
				       "decoder%d.%d%s; destroy the region and "
				       "free the DPA first", what, m->index,
				       d->port_id, d->id, d->region ?
				       " for a region" : "");
	}
	return 0;
}

bool cx_memdev_enabled(const struct cx_memdev *m)
{
	return m->parent && !m->disabled && !m->host->bus_disabled;
}

bool cx_port_enabled(const struct cx_port *p)
{
	if (p->host->bus_disabled || p->disabled)
		return false;
	if (p->kind != CX_PORT_USP)
		return true;
	/* a switch port exists while an enabled memdev is below it */
	for (int i = 0; i < p->host->memdevs.n; i++) {
		struct cx_memdev *m = p->host->memdevs.v[i];
		if (below(m, p) && cx_memdev_enabled(m))
			return true;
	}
	return false;
}

int cx_memdev_set_enabled(struct cx_memdev *m, bool on, cx_err *e)
{
	char what[32];
	snprintf(what, sizeof(what), "mem%d", m->index);
	if (!on) {
		int rc = busy(m, what, e);
		if (rc)
			return rc;
		m->disabled = true;
		return 0;
	}
	if (!m->parent)
		return cx_fail(e, ENXIO, "%s is below no root port", what);
	if (m->host->bus_disabled)
		return cx_fail(e, ENXIO, "%s: the CXL root is disabled", what);
	struct cx_port *hb = cx_memdev_hb(m);
	if (hb && hb->disabled)
		return cx_fail(e, ENXIO, "%s: its host bridge %s is disabled; "
			       "enable the port first", what, hb->qid);
	/* switch ports above come back with it */
	for (struct cx_port *q = m->parent; q; q = q->parent)
		if (q->kind == CX_PORT_USP)
			q->disabled = false;
	m->disabled = false;
	return 0;
}

int cx_port_set_enabled(struct cx_port *p, bool on, cx_err *e)
{
	if (p->kind != CX_PORT_HB && p->kind != CX_PORT_USP)
		return cx_fail(e, EINVAL, "%s is not a CXL port (a host bridge "
			       "or switch upstream port)", p->qid);
	if (on) {
		if (p->host->bus_disabled)
			return cx_fail(e, ENXIO, "%s: the CXL root is disabled",
				       p->qid);
		p->disabled = false;
		return 0;
	}
	int rc;
	for (int i = 0; i < p->host->memdevs.n; i++) {
		struct cx_memdev *m = p->host->memdevs.v[i];
		if (below(m, p) && (rc = busy(m, p->qid, e)))
			return rc;
	}
	for (int i = 0; i < p->host->memdevs.n; i++) {
		struct cx_memdev *m = p->host->memdevs.v[i];
		if (below(m, p))
			m->disabled = true;
	}
	p->disabled = true;
	return 0;
}

int cx_host_set_bus_enabled(struct cx_host *h, bool on, cx_err *e)
{
	if (on) {
		h->bus_disabled = false;
		return 0;
	}
	int rc;
	for (int i = 0; i < h->memdevs.n; i++)
		if ((rc = busy(h->memdevs.v[i], "root0", e)))
			return rc;
	for (int i = 0; i < h->memdevs.n; i++)
		((struct cx_memdev *)h->memdevs.v[i])->disabled = true;
	h->bus_disabled = true;
	return 0;
}
