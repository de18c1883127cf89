/*
 * devices.c - step 3 of a host: the -device options, in command-line
 * order as QEMU creates them.  Each device's bus must be an earlier device
 * of the right kind (pxb-cxl on pcie.0, cxl-rp on a pxb-cxl, cxl-upstream
 * on a root port, cxl-downstream on an upstream port, cxl-type3 on a root
 * or downstream port, one device per port); each one's properties are
 * checked against config/props.c.  Host bridges, ports and Type 3 devices
 * become model objects; a Type 3 device takes its memory backends for
 * itself, as QEMU maps a backend once.  Devices cxlemu does not model are
 * kept, checked only for what they do to modeled ones.
 */
#include "topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* step 3: devices                                                       */
/* ------------------------------------------------------------------ */

static const char *kind_word(enum dev_kind k)
{
	switch (k) {
	case DEV_RP: return "root port";
	case DEV_DSP: return "downstream port";
	default: return "port";
	}
}

/* The device whose bus `d` names, checked against the kinds allowed. */
static int lookup_bus(struct hctx *x, struct cdev *d, enum dev_kind k1,
		      enum dev_kind k2, const char *rule, struct cdev **out)
{
	const char *bus = cfg_kv_get(&d->kv, "bus");
	if (!bus)
		return oerr(x, d->o, "bus= is missing (%s)", rule);
	struct cdev *p = find_dev(x, bus);
	if (!p) {
		if (!strcmp(bus, "pcie.0") || !strcmp(bus, "pci.0"))
			return oerr(x, d->o, "bus '%s' is the machine's root "
				    "bus (%s)", bus, rule);
		return oerr(x, d->o, "bus '%s' does not exist (%s)", bus,
			    rule);
	}
	if (p->index > d->index)
		return oerr(x, d->o, "bus '%s' is declared later, at line %d; "
			    "QEMU creates devices in command-line order, so a "
			    "device must follow the device that provides its "
			    "bus", bus, p->o->line);
	if (p->kind != k1 && p->kind != k2)
		return oerr(x, d->o, "bus '%s' is a %s (line %d), but %s", bus,
			    p->driver, p->o->line, rule);
	*out = p;
	return 0;
}

/* A root or downstream port holds one device. */
static int occupy(struct hctx *x, struct cdev *port, struct cdev *d)
{
	if (port->below)
		return oerr(x, d->o, "%s %s already has %s %s (line %d) on "
			    "its bus; a %s holds one device", kind_word(
				    port->kind), port->id,
			    port->below->driver, port->below->id,
			    port->below->o->line, kind_word(port->kind));
	port->below = d;
	return 0;
}

/* chassis/slot pairs are unique among PCIe slots (QEMU refuses) */
static int take_slot(struct hctx *x, struct cdev *d, unsigned chassis,
		     unsigned slot)
{
	for (int i = 0; i < x->nslots; i++) {
		struct slotuse *s = &x->slots[i];
		if (s->chassis == chassis && s->slot == slot)
			return oerr(x, d->o, "chassis %u slot %u is already "
				    "taken by %s (line %d); every PCIe port "
				    "needs its own chassis/slot pair",
				    chassis, slot, s->id, s->line);
	}
	x->slots = cx_xrealloc(x->slots, sizeof(*x->slots) *
			       (size_t)(x->nslots + 1));
	x->slots[x->nslots++] = (struct slotuse){ chassis, slot, d->id,
						  d->o->line };
	return 0;
}

static int slot_props_of(struct hctx *x, struct cdev *d, unsigned *chassis,
			 unsigned *slot, unsigned *port)
{
	uint64_t c, s, p;
	int rc;
	if ((rc = get_uint(x, d->o, &d->kv, d->driver, "chassis", 0xff, 0,
			   &c)) ||
	    (rc = get_uint(x, d->o, &d->kv, d->driver, "slot", 0xffff, 0,
			   &s)) ||
	    (rc = get_uint(x, d->o, &d->kv, d->driver, "port", 0xff, 0, &p)))
		return rc;
	*chassis = (unsigned)c;
	*slot = (unsigned)s;
	*port = (unsigned)p;
	return 0;
}

/* Resolve a backend reference `prop=id` of device d. */
static int resolve_backend(struct hctx *x, struct cdev *d, const char *prop,
			   const char *id, struct cobj **out)
{
	struct cobj *ob = find_obj(x, id);
	if (!ob)
		return oerr(x, d->o, "%s=%s: memory backend '%s' does not "
			    "exist (no -object memory-backend-...,id=%s on "
			    "this host)", prop, id, id, id);
	if (!ob->be) {
		if (!strncmp(ob->type, "memory-backend-", 15))
			return oerr(x, d->o, "%s=%s: '%s' is a %s (line %d), "
				    "which cxlemu does not model; use "
				    "memory-backend-ram, -file or -memfd",
				    prop, id, id, ob->type, ob->o->line);
		return oerr(x, d->o, "%s=%s: '%s' is a %s (line %d), not a "
			    "memory backend", prop, id, id, ob->type,
			    ob->o->line);
	}
	*out = ob;
	return 0;
}

static int used_twice(struct hctx *x, struct cdev *d, const char *prop,
		      struct cobj *ob, const char *by, int line)
{
	return oerr(x, d->o, "%s=%s: memory backend %s can't be used "
		    "multiple times: %s (line %d) already uses it", prop,
		    ob->id, ob->id, by, line);
}

static int build_hb(struct hctx *x, struct cdev *d)
{
	int rc, nhb = 0;
	uint64_t bus_nr;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)))
		return rc;
	const char *bus = cfg_kv_get(&d->kv, "bus");
	if (bus && strcmp(bus, "pcie.0")) {
		struct cdev *p = find_dev(x, bus);
		if (!strcmp(bus, "pci.0"))
			return oerr(x, d->o, "pxb-cxl cannot sit on a "
				    "conventional PCI bus; it goes on the "
				    "PCIe root bus, bus=pcie.0");
		if (p)
			return oerr(x, d->o, "bus '%s' is a %s; a pxb-cxl host "
				    "bridge can only sit on the root bus "
				    "pcie.0", bus, p->driver);
		return oerr(x, d->o, "bus '%s' does not exist (a pxb-cxl host "
			    "bridge sits on the root bus pcie.0)", bus);
	}
	if ((rc = get_uint(x, d->o, &d->kv, d->driver, "bus_nr", 0xff, 0,
			   &bus_nr)))
		return rc;
	if (!cfg_kv_get(&d->kv, "bus_nr") || bus_nr == 0)
		return oerr(x, d->o, "bus_nr= must be set to 1..255: bus 0 "
			    "is the root bus pcie.0");
	for (int i = 0; i < d->index; i++) {
		struct cdev *q = &x->devs[i];
		uint64_t other;
		if (strcmp(q->driver, "pxb-cxl") && strcmp(q->driver, "pxb") &&
		    strcmp(q->driver, "pxb-pcie"))
			continue;
		if (q->kind == DEV_HB)
			nhb++;
		const char *s = cfg_kv_get(&q->kv, "bus_nr");
		if (s && cx_parse_u64(s, &other, "bus_nr", NULL) == 0 &&
		    other == bus_nr)
			return oerr(x, d->o, "bus %llu is already in use by "
				    "%s (line %d); every expander bridge "
				    "needs its own bus_nr",
				    (unsigned long long)bus_nr, q->id,
				    q->o->line);
	}
	if (nhb >= MAX_HBS)
		return oerr(x, d->o, "a host bridge beyond the %dth: the 1 MiB "
			    "CXL host register block has room for %d host "
			    "bridges of 64 KiB", MAX_HBS, MAX_HBS);

	/* 2021 development branch: window-base[i] + memdev[i] */
	bool have_base[MAX_LEGACY] = { 0 }, have_mem[MAX_LEGACY] = { 0 };
	int maxi = -1;
	for (int i = 0; i < d->kv.n; i++) {
		const struct cfg_kv *k = &d->kv.kv[i];
		int idx;
		bool isbase = cfg_indexed_key(k->key, "window-base", &idx);
		if (!isbase && !cfg_indexed_key(k->key, "memdev", &idx))
			continue;
		if (idx >= MAX_LEGACY)
			return oerr(x, d->o, "%s: cxlemu reads window-base[0] "
				    "to window-base[%d]", k->key,
				    MAX_LEGACY - 1);
		if (isbase) {
			cx_err t;
			if (cx_parse_u64(k->val, &d->lbase[idx], k->key, &t))
				return perr(x, d->o, &t);
			have_base[idx] = true;
		} else {
			d->lmem[idx] = k->val;
			have_mem[idx] = true;
		}
		if (idx > maxi)
			maxi = idx;
	}
	for (int i = 0; i <= maxi; i++) {
		if (!have_base[i] || !have_mem[i])
			return oerr(x, d->o, "window %d of the pre-7.1 form "
				    "needs both window-base[%d] and "
				    "memdev[%d]", i, i, i);
	}
	d->nlegacy = maxi + 1;
	/* the window's memory is taken now, in command-line order */
	for (int i = 0; i < d->nlegacy; i++) {
		struct cobj *ob;
		char prop[32];
		snprintf(prop, sizeof(prop), "memdev[%d]", i);
		if ((rc = resolve_backend(x, d, prop, d->lmem[i], &ob)))
			return rc;
		if (ob->user)
			return used_twice(x, d, prop, ob, ob->user,
					  ob->user_line);
		if (!ob->lwin) {
			ob->lwin = d->id;
			ob->lwin_line = d->o->line;
		}
	}
	const char *lw = cfg_kv_get(&d->kv, "len-window-base");
	if (lw) {
		uint64_t len;
		cx_err t;
		if (cx_parse_u64(lw, &len, "len-window-base", &t))
			return perr(x, d->o, &t);
		if ((int)len != d->nlegacy)
			return oerr(x, d->o, "len-window-base=%s but %d "
				    "window-base[i]/memdev[i] pairs are given",
				    lw, d->nlegacy);
	}
	const char *uid = cfg_kv_get(&d->kv, "uid");
	if (uid)
		WARN(x, d->o->line, "pxb-cxl %s: uid=%s (pre-7.1 syntax) is "
		     "ignored: a host bridge's UID is its bus_nr, %llu", d->id,
		     uid, (unsigned long long)bus_nr);

	d->port = cx_port_new(x->h, CX_PORT_HB, d->id, d->o->line);
	d->port->bus_nr = (int)bus_nr;
	return 0;
}

/*
 * A port with a PCIe slot below `parent` (a root port below a host bridge,
 * a downstream port below a switch): its port number is unique below the
 * parent, its chassis/slot pair unique on the host.
 */
static int build_slot_port(struct hctx *x, struct cdev *d,
			   struct cdev *parent, enum cx_port_kind kind,
			   const char *parent_word, const char *why)
{
	const char *word = kind_word(d->kind);
	unsigned chassis, slot, port;
	int rc;

	if ((rc = slot_props_of(x, d, &chassis, &slot, &port)))
		return rc;
	for (int i = 0; i < parent->port->children.n; i++) {
		struct cx_port *o = parent->port->children.v[i];
		if (o->port_num == (int)port)
			return oerr(x, d->o, "port %u is already used by %s %s "
				    "(line %d) %s %s %s; each %s of a %s needs "
				    "its own port number%s", port, word, o->qid,
				    o->line, kind == CX_PORT_RP ? "on" : "of",
				    parent_word, parent->id, word, parent_word,
				    why);
	}
	if ((rc = take_slot(x, d, chassis, slot)))
		return rc;
	struct cx_port *p = cx_port_new(x->h, kind, d->id, d->o->line);
	p->port_num = (int)port;
	p->chassis = (int)chassis;
	p->slot = (int)slot;
	cx_port_attach(parent->port, p);
	d->port = p;
	return 0;
}

static int build_rp(struct hctx *x, struct cdev *d)
{
	struct cdev *hb;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_HB, DEV_HB, "a cxl-rp must sit on a "
			     "pxb-cxl host bridge", &hb)))
		return rc;
	return build_slot_port(x, d, hb, CX_PORT_RP, "host bridge",
			       " (it is the HDM decoder's target id)");
}

static int get_sn(struct hctx *x, struct cdev *d, uint64_t *sn, bool *has)
{
	uint64_t v;
	int rc = get_uint(x, d->o, &d->kv, d->driver, "sn", UINT64_MAX,
			  UINT64_MAX, &v);
	if (rc)
		return rc;
	*sn = v;
	*has = v != UINT64_MAX; /* QEMU: all-ones means no serial number */
	return 0;
}

static int build_usp(struct hctx *x, struct cdev *d)
{
	struct cdev *rp;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_RP, DEV_RP, "a cxl-upstream must sit "
			     "on a cxl-rp root port", &rp)) ||
	    (rc = occupy(x, rp, d)))
		return rc;
	struct cx_port *p = cx_port_new(x->h, CX_PORT_USP, d->id, d->o->line);
	if ((rc = get_sn(x, d, &p->sn, &p->has_sn)))
		return rc;
	cx_port_attach(rp->port, p);
	d->port = p;
	return 0;
}

static int build_dsp(struct hctx *x, struct cdev *d)
{
	struct cdev *usp;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_USP, DEV_USP, "a cxl-downstream must "
			     "sit on a cxl-upstream switch port", &usp)))
		return rc;
	return build_slot_port(x, d, usp, CX_PORT_DSP, "switch", "");
}

/* Take a backend for exclusive use by device d (QEMU maps it once). */
static int take_backend(struct hctx *x, struct cdev *d, const char *prop,
			const char *id, struct cobj **out)
{
	struct cobj *ob;
	int rc = resolve_backend(x, d, prop, id, &ob);
	if (rc)
		return rc;
	if (ob->user)
		return used_twice(x, d, prop, ob, ob->user, ob->user_line);
	if (ob->carver)
		return used_twice(x, d, prop, ob, ob->carver,
				  ob->carver_line);
	if (ob->lwin)
		return used_twice(x, d, prop, ob, ob->lwin, ob->lwin_line);
	ob->user = d->id;
	ob->user_line = d->o->line;
	ob->user_is_device = true;
	*out = ob;
	return 0;
}

static void numa_overlap_warning(struct hctx *x, struct cdev *d,
				 struct cobj *ob)
{
	for (int i = 0; i < x->nnuma; i++)
		if (!strcmp(x->numa_mem[i], ob->id))
			WARN(x, d->o->line, "memory backend %s is both the "
			     "memory of a NUMA node (-numa at line %d) and of "
			     "cxl-type3 %s; recent QEMU refuses a backend "
			     "mapped twice, and cxlemu models only the CXL "
			     "device", ob->id, x->numa_line[i], d->id);
}

static void align_warning(struct hctx *x, struct cdev *d, const char *what,
			  struct cobj *ob)
{
	char a[32];
	if (ob->be->size % CX_SZ_256M)
		WARN(x, d->o->line, "cxl-type3 %s: %s backend %s is %s, not a "
		     "multiple of 256 MiB; QEMU accepts it but its Identify "
		     "command then fails, so Linux does not bind the device",
		     d->id, what, ob->id, fmt_size(a, sizeof(a),
						   ob->be->size));
}

static int build_t3(struct hctx *x, struct cdev *d)
{
	struct cdev *port;
	struct cobj *vob = NULL, *pob = NULL, *lob = NULL, *dob = NULL;
	uint64_t ndc, legacy_size = 0, legacy_off = 0;
	char a[32], b[32];
	cx_err t;
	int rc;

	if ((rc = check_props(x, d->o, &d->kv, d->driver, d->id)) ||
	    (rc = lookup_bus(x, d, DEV_RP, DEV_DSP, "a cxl-type3 must sit on "
			     "a cxl-rp root port or a cxl-downstream switch "
			     "port", &port)) ||
	    (rc = occupy(x, port, d)) ||
	    (rc = get_uint(x, d->o, &d->kv, d->driver, "num-dc-regions", 0xff,
			   0, &ndc)))
		return rc;

	const char *vol = cfg_kv_get(&d->kv, "volatile-memdev");
	const char *per = cfg_kv_get(&d->kv, "persistent-memdev");
	const char *mem = cfg_kv_get(&d->kv, "memdev");
	const char *lsa = cfg_kv_get(&d->kv, "lsa");
	const char *dc = cfg_kv_get(&d->kv, "volatile-dc-memdev");
	const char *size = cfg_kv_get(&d->kv, "size");

	if (!vol && !per && !mem && ndc == 0)
		return oerr(x, d->o, "cxl-type3 needs at least one memory "
			    "backend: volatile-memdev=, persistent-memdev= "
			    "(or the deprecated memdev=)");
	if (mem && per)
		return oerr(x, d->o, "memdev= cannot be used together with "
			    "persistent-memdev=: memdev is the deprecated "
			    "spelling of persistent-memdev");
	if (size && !mem)
		return oerr(x, d->o, "size= is the pre-7.1 form that carves "
			    "the device out of memdev=; it does not go with "
			    "%s", vol ? "volatile-memdev=" :
			    "persistent-memdev=");
	if ((mem || per) && !lsa)
		return oerr(x, d->o, "persistent memory needs a label storage "
			    "area: lsa property must be set for persistent "
			    "devices (lsa=<backend id>)");
	if (ndc > MAX_DC_REGIONS)
		return oerr(x, d->o, "num-dc-regions=%llu: a device has at "
			    "most %d dynamic capacity regions",
			    (unsigned long long)ndc, MAX_DC_REGIONS);
	if (ndc && !dc)
		return oerr(x, d->o, "num-dc-regions=%llu: dynamic capacity "
			    "must have a backing device "
			    "(volatile-dc-memdev=)", (unsigned long long)ndc);

	if (vol) {
		if ((rc = take_backend(x, d, "volatile-memdev", vol, &vob)))
			return rc;
		align_warning(x, d, "volatile", vob);
	}
	if (mem && size) {
		/* 2021 branch: a slice of memdev=, `size` bytes long */
		if ((rc = resolve_backend(x, d, "memdev", mem, &pob)))
			return rc;
		if (pob->user)
			return used_twice(x, d, "memdev", pob, pob->user,
					  pob->user_line);
		if (cx_parse_size(size, &legacy_size, "size", &t))
			return perr(x, d->o, &t);
		if (legacy_size == 0 || legacy_size % CX_SZ_256M)
			return oerr(x, d->o, "size=%s: a device's capacity "
				    "must be a non-zero multiple of 256 MiB",
				    size);
		legacy_off = pob->carved;
		if (legacy_size > pob->be->size ||
		    legacy_off > pob->be->size - legacy_size)
			return oerr(x, d->o, "size=%s: backend %s (%s) has "
				    "%s left after the slices taken before "
				    "this device; the pre-7.1 carve-out must "
				    "fit in the backend", size, mem,
				    fmt_size(a, sizeof(a), pob->be->size),
				    fmt_size(b, sizeof(b),
					     pob->be->size - legacy_off));
		pob->carved += legacy_size;
		if (!pob->carver) {
			pob->carver = d->id;
			pob->carver_line = d->o->line;
		}
		WARN(x, d->o->line, "cxl-type3 %s: memdev=%s,size=%s "
		     "(pre-7.1 syntax) is read as %s of persistent memory at "
		     "offset %s of backend %s", d->id, mem, size,
		     fmt_size(a, sizeof(a), legacy_size),
		     fmt_size(b, sizeof(b), legacy_off), mem);
	} else if (mem || per) {
		const char *prop = mem ? "memdev" : "persistent-memdev";
		if ((rc = take_backend(x, d, prop, mem ? mem : per, &pob)))
			return rc;
		align_warning(x, d, "persistent", pob);
		if (mem)
			WARN(x, d->o->line, "cxl-type3 %s: memdev= is "
			     "deprecated; it is read as persistent-memdev=%s",
			     d->id, mem);
	}
	if (lsa && (rc = take_backend(x, d, "lsa", lsa, &lob)))
		return rc;
	if (dc) {
		if ((rc = take_backend(x, d, "volatile-dc-memdev", dc, &dob)))
			return rc;
		if (!ndc) {
			WARN(x, d->o->line, "cxl-type3 %s: volatile-dc-memdev "
			     "is ignored without num-dc-regions", d->id);
			dob = NULL;
		} else if (dob->be->size == 0 ||
			   dob->be->size % (ndc * CX_SZ_256M)) {
			return oerr(x, d->o, "volatile-dc-memdev=%s: its size "
				    "(%s) must be a non-zero multiple of "
				    "num-dc-regions x 256 MiB (%llu x 256 MiB; "
				    "QEMU: backend size is not multiple of "
				    "region len)", dc,
				    fmt_size(a, sizeof(a), dob->be->size),
				    (unsigned long long)ndc);
		}
	}
	if (dob) {
		/* the DC regions follow the static capacity (QEMU: DC region
		 * base not aligned) */
		uint64_t base = (vob ? vob->be->size : 0) +
				(pob ? (legacy_size ? legacy_size :
					pob->be->size) : 0);
		if (base % CX_SZ_256M)
			return oerr(x, d->o, "num-dc-regions=%llu: the dynamic "
				    "capacity regions start after the static "
				    "capacity, at DPA %s, which is not a "
				    "multiple of 256 MiB (QEMU: DC region base "
				    "not aligned)", (unsigned long long)ndc,
				    fmt_size(b, sizeof(b), base));
	}
	if (vob)
		numa_overlap_warning(x, d, vob);
	if (pob)
		numa_overlap_warning(x, d, pob);

	struct cx_memdev *m = cx_memdev_new(x->h, d->id, d->o->line);
	m->parent = port->port;
	port->port->memdev = m;
	if (vob) {
		m->vmem_be = vob->be;
		m->vmem_size = vob->be->size;
		vob->be->used_by = m->qid;
	}
	if (pob) {
		m->pmem_be = pob->be;
		m->pmem_size = legacy_size ? legacy_size : pob->be->size;
		m->legacy_offset = legacy_off;
		if (!pob->be->used_by)
			pob->be->used_by = m->qid;
	}
	if (lob) {
		m->lsa_be = lob->be;
		m->lsa_size = lob->be->size;
		lob->be->used_by = m->qid;
	}
	if (dob) {
		m->dc_be = dob->be;
		m->dc_size = dob->be->size;
		m->dc_regions = (int)ndc;
		dob->be->used_by = m->qid;
	}
	return get_sn(x, d, &m->sn, &m->has_sn);
}

/* Devices cxlemu does not model: only what they do to modeled ones. */
static int build_other(struct hctx *x, struct cdev *d)
{
	static const char *const pcie_slots[] = {
		"pcie-root-port", "ioh3420", "xio3130-downstream",
	};
	const char *bus = cfg_kv_get(&d->kv, "bus");
	const char *mem = cfg_kv_get(&d->kv, "memdev");
	int rc;

	if (bus) {
		struct cdev *p = find_dev(x, bus);
		if (p && p->index < d->index && p->kind != DEV_OTHER) {
			if (p->kind == DEV_RP || p->kind == DEV_DSP) {
				if ((rc = occupy(x, p, d)))
					return rc;
			}
			WARN(x, d->o->line, "%s %s sits on CXL bus %s; it is "
			     "kept, but cxlemu models only CXL devices below "
			     "CXL ports", d->driver, d->id, bus);
		}
	}
	if (in_list(pcie_slots, CX_ARRAY_SIZE(pcie_slots), d->driver)) {
		uint64_t c, s;
		if (get_uint(x, d->o, &d->kv, d->driver, "chassis", 0xff, 0,
			     &c) == 0 &&
		    get_uint(x, d->o, &d->kv, d->driver, "slot", 0xffff, 0,
			     &s) == 0 &&
		    (rc = take_slot(x, d, (unsigned)c, (unsigned)s)))
			return rc;
	}
	if (mem) {
		struct cobj *ob = find_obj(x, mem);
		if (ob && ob->be) {
			if (ob->user || ob->carver || ob->lwin)
				return used_twice(x, d, "memdev", ob,
						  ob->user ? ob->user :
						  ob->carver ? ob->carver :
						  ob->lwin,
						  ob->user ? ob->user_line :
						  ob->carver ? ob->carver_line :
						  ob->lwin_line);
			ob->user = d->id;
			ob->user_line = d->o->line;
		}
	}
	return 0;
}

/* Build one device, after every device before it on the command line. */
int cfg_build_device(struct hctx *x, struct cdev *d)
{
	switch (d->kind) {
	case DEV_HB: return build_hb(x, d);
	case DEV_RP: return build_rp(x, d);
	case DEV_USP: return build_usp(x, d);
	case DEV_DSP: return build_dsp(x, d);
	case DEV_T3: return build_t3(x, d);
	default: return build_other(x, d);
	}
}
