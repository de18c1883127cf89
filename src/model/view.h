/*
 * view.h - the fabric as Linux's drivers/cxl names and links it: CXL
 * ports (root0, portN for host bridges and switch upstream ports,
 * endpointN for memdevs), their "host" (uport) devices, parents and
 * dports, and the PCI addresses QEMU gives the functions.  The listing
 * (proto/json.c) and the sysfs view (src/sysfs) both read the topology
 * through these, so a name is decided in one place.
 */
#ifndef CXLEMU_VIEW_H
#define CXLEMU_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"

enum cx_vport_kind { CX_VPORT_ROOT, CX_VPORT_SWITCH, CX_VPORT_ENDPOINT };

struct cx_vport {
	enum cx_vport_kind kind;
	struct cx_host *h;
	struct cx_port *p;      /* CX_VPORT_SWITCH: HB or USP */
	struct cx_memdev *m;    /* CX_VPORT_ENDPOINT */
};

struct cx_vport cx_vport_root(struct cx_host *h);
struct cx_vport cx_vport_switch(struct cx_port *p);   /* HB or USP */
struct cx_vport cx_vport_endpoint(struct cx_memdev *m);
/* N in rootN/portN/endpointN */
int cx_vport_id(const struct cx_vport *x);
/* "root0", "portN", "endpointN" */
void cx_vport_name(const struct cx_vport *x, char *buf, size_t len);
/* the device a port's "host" key names (Linux: the port's uport) */
void cx_vport_host(const struct cx_vport *x, char *buf, size_t len);
bool cx_vport_parent(const struct cx_vport *x, struct cx_vport *out);
bool cx_vport_same(const struct cx_vport *a, const struct cx_vport *b);
/* Is x the memdev's endpoint or one of its ancestors? */
bool cx_vport_hosts_memdev(const struct cx_vport *x, struct cx_memdev *m);
/* dports in order: HBs of root0, RPs of an HB, DSPs of a USP; returns
 * the count, fills up to max */
int cx_vport_dports(const struct cx_vport *x, struct cx_port **out, int max);

/* "0000:BB:DD.0" of a root port, switch port (QEMU's numbering) */
void cx_view_pci_addr(const struct cx_port *p, char *buf, size_t len);
/* The CXL port a dport (root port or downstream port) belongs to. */
bool cx_view_port_of_dport(struct cx_port *d, struct cx_vport *out);
/* Does a dport (HB for root0, else RP/DSP) lead to the memdev? */
bool cx_view_dport_maps_memdev(struct cx_port *d, struct cx_memdev *m);
/* a dport's id: an HB's bus number (ACPI UID), a port's number */
int cx_view_dport_id(const struct cx_port *d);

/* ---- decoders as Linux shows them (start, size, ways, granularity,
 * region, target_list) ---- */
uint64_t cx_view_dec_base(const struct cx_decoder *d);
uint64_t cx_view_dec_size(const struct cx_decoder *d);
int cx_view_dec_ways(const struct cx_decoder *d);
uint32_t cx_view_dec_gran(const struct cx_decoder *d);
/* the region a switch or endpoint decoder decodes for, or NULL */
struct cx_region *cx_view_dec_region(const struct cx_decoder *d);
/* a root or switch decoder's targets in position order; returns count */
int cx_view_dec_targets(const struct cx_decoder *d, struct cx_port **out);

/*
 * ---- QoS classes (QTG ids), as Linux 6.8+ derives them ----
 * A root decoder's qos_class is its CFMWS's QTG id; QEMU's CEDT writes 0
 * for every window and has no option to change it.  A memdev partition's
 * (ram/qos_class, pmem/qos_class) is what the platform's QTG _DSM answers
 * for the performance its CDAT DSMAS/DSLBIS give: QEMU's _DSM answers
 * QTG 0 whatever it is asked.  Linux then keeps it only if some root
 * decoder of that class has the memdev's host bridge among its targets
 * (cxl_qos_class_verify); otherwise, and for a partition of size 0 (no
 * DSMAS), the memdev has no qos_class for it.
 */
#define CX_QOS_CLASS_NONE (-1)
int cx_view_window_qos_class(const struct cx_window *w);
/* mode CX_MODE_RAM or CX_MODE_PMEM; CX_QOS_CLASS_NONE when there is none */
int cx_view_memdev_qos_class(const struct cx_memdev *m, enum cx_mode mode);

#endif
