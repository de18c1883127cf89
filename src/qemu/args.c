/*
 * args.c - a topology host's QEMU command line, made fit for the QEMU that
 * is installed.
 *
 * The host's words are split into options ("-device" + its argument) and
 * the arguments of -device, -object, -machine/-M, -m, -smp, -numa into
 * QEMU's comma lists ("driver,key=value,..." with ",," for a literal
 * comma) by config/grammar.c, exactly as the topology parser split them.
 * Each CXL device is checked property by property against what the probed
 * binary lists; the few renames QEMU made are translated, anything else it
 * lacks is refused naming the release that brought it (config/props.c).
 * Then, in order:
 *
 *   - the pass-through trap: a pxb-cxl with one cxl-rp, on a QEMU without
 *     pxb-cxl's hdm_for_passthrough (before 8.0), gets a second, empty
 *     cxl-rp, so that Linux programs the bridge's HDM decoder, which that
 *     QEMU needs to route accesses;
 *   - file backends get absolute mem-path= (the files the fabric uses);
 *   - --bind-cxl-ram: volatile device backends get host-nodes=N,policy=bind
 *     for the host's CXL RAM nodes, the guest gets hmat=on, a node 0 with
 *     the CPUs and RAM, and per bound device a CPU-less node with
 *     `-numa hmat-lb` figures (measured on the host when HMAT has them,
 *     otherwise the device's configured ones);
 *   - --cxl-only keeps what cxlemu models; the acceptance check swaps
 *     display, daemon and accelerator options for `-S -monitor stdio`.
 */
#include "qemu.h"

#include "config/grammar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the host's options ---- */

struct qopt {
	char *name;  /* without leading dashes: "device", "M", "object" */
	char *arg;   /* NULL for a flag option */
	struct cfg_kvlist kv; /* its key=value list, when parsed */
	bool parsed, dirty;
	bool gone;   /* emptied by join_windows or drop_cxlemu_keys: not
		      * written */
};

static const char *kv_get(const struct qopt *o, const char *key)
{
	return cfg_kv_get(&o->kv, key);
}

static void kv_set(struct qopt *o, const char *key, const char *val)
{
	cfg_kv_set(&o->kv, key, val);
	o->dirty = true;
}

static void kv_del(struct qopt *o, const char *key)
{
	if (cfg_kv_del(&o->kv, key))
		o->dirty = true;
}

/* options whose value is a key=value list (-device, -object, -M, ...) */
static bool parsed_opt(const char *name)
{
	const struct cfg_optdef *d = cfg_optdef_find(name);
	return d && d->implied;
}

static bool is_machine(const struct qopt *o)
{
	return !strcmp(o->name, "M") || !strcmp(o->name, "machine");
}

static void opts_free(cx_vec *opts)
{
	for (int i = 0; i < opts->n; i++) {
		struct qopt *o = opts->v[i];
		free(o->name);
		free(o->arg);
		cfg_kvlist_free(&o->kv);
		free(o);
	}
	cx_vec_free(opts);
}

static struct qopt *opt_new(const char *name, const char *arg)
{
	struct qopt *o = cx_xcalloc(1, sizeof(*o));
	o->name = cx_xstrdup(name);
	o->arg = arg ? cx_xstrdup(arg) : NULL;
	if (arg && parsed_opt(name))
		o->parsed = cfg_kv_parse(arg, cfg_optdef_find(name)->implied,
					 &o->kv, NULL) == 0;
	return o;
}

/* The host's options, split as the topology parser split them. */
static int opts_parse(const struct cx_host *h, cx_vec *opts, cx_err *e)
{
	char *const *w = (char *const *)h->words.v;
	struct cfg_cmdline cl;
	int rc = cfg_cmdline_split(w, h->words.n, h->name, &cl, e);

	if (rc)
		cx_err_prefix(e, "host %s", h->name);
	for (int i = 0; !rc && i < cl.n; i++) {
		const struct cfg_opt *c = &cl.opt[i];
		struct qopt *o = opt_new(c->name,
					 c->value < 0 ? NULL : w[c->value]);
		cx_vec_push(opts, o);
	}
	cfg_cmdline_free(&cl);
	return rc;
}

static const char *dev_driver(const struct qopt *o)
{
	if (strcmp(o->name, "device") || !o->parsed)
		return NULL;
	return kv_get(o, "driver");
}

static bool id_used(const cx_vec *opts, const char *id)
{
	for (int i = 0; i < opts->n; i++) {
		struct qopt *o = opts->v[i];
		const char *v = o->parsed ? kv_get(o, "id") : NULL;
		if (v && !strcmp(v, id))
			return true;
	}
	return false;
}

/* ---- per-property knowledge (config/props.c): the release that brought
 * it, the development branch's dialect, what every QEMU takes ---- */

/* qdev options every device takes, whatever `-device T,help` lists */
static bool generic_prop(enum cx_qdev d, const char *k)
{
	const struct cfg_prop *p = cfg_prop_find(cx_qdev_name(d), k);
	return cfg_generic_key(k) || (p && (p->flags & CFG_PROP_ANY_QEMU));
}

struct gen {
	struct cx_host *h;
	const struct cx_qemu_caps *caps;
	const struct cx_qemu_opts *o;
	cx_vec *opts;
	struct cx_qemu_line *out;
};

static void note(struct gen *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cx_vec_vpushf(&g->out->notes, fmt, ap);
	va_end(ap);
}

static const char *qemu_desc(const struct cx_qemu_caps *c)
{
	static __thread char buf[512];
	snprintf(buf, sizeof(buf), "QEMU %s (%s)", c->version ? c->version : "?",
		 c->binary ? c->binary : "?");
	return buf;
}

static int check_device(struct gen *g, struct qopt *o, enum cx_qdev d,
			cx_err *e)
{
	const struct cx_qemu_caps *c = g->caps;
	const char *id = kv_get(o, "id");
	const char *drv = cx_qdev_name(d);
	char who[256];

	snprintf(who, sizeof(who), "host %s: -device %s%s%s", g->h->name, drv,
		 id ? ",id=" : "", id ? id : "");
	if (!c->dev[d].present)
		return cx_fail(e, ENOTSUP, "%s: %s has no %s device; it needs "
			       "QEMU >= %s", who, qemu_desc(c), drv,
			       cfg_type_find(drv)->since);

	for (int i = 0; i < o->kv.n; i++) {
		struct cfg_kv *k = &o->kv.kv[i];
		/* the driver and bare items are not properties to look up */
		if (k->implied || k->bare || generic_prop(d, k->key) ||
		    cx_qemu_has_prop(c, d, k->key))
			continue;
		/* the renames QEMU made */
		if (d == CX_QDEV_TYPE3 && !strcmp(k->key, "persistent-memdev") &&
		    cx_qemu_has_prop(c, d, "memdev")) {
			if (kv_get(o, "memdev"))
				return cx_fail(e, EINVAL, "%s: has both memdev= "
					       "and persistent-memdev=; QEMU "
					       "takes one of them", who);
			free(k->key);
			k->key = cx_xstrdup("memdev");
			o->dirty = true;
			note(g, "%s: persistent-memdev=%s written as memdev=%s: "
			     "%s names persistent memory that way "
			     "(persistent-memdev arrived in QEMU 8.1)", who,
			     k->val, k->val, qemu_desc(c));
			continue;
		}
		if (d == CX_QDEV_PXB && !strcmp(k->key, "hdm_for_passthrough")) {
			note(g, "%s: hdm_for_passthrough=%s left out: %s does "
			     "not have it (QEMU 8.0 added it); a bridge with "
			     "one root port gets a second one instead", who,
			     k->val, qemu_desc(c));
			cfg_kv_del_at(&o->kv, i--);
			o->dirty = true;
			continue;
		}
		const struct cfg_prop *p = cfg_prop_find(drv, k->key);
		/* the dialect of the pre-merge branch (seeds/002): window on
		 * the bridge, devices carved out of one backend by size= */
		if (p && (p->flags & CFG_PROP_LEGACY))
			return cx_fail(e, ENOTSUP, "%s: property %s=%s is from "
				       "the 2021 cxl-2.0v4 development branch "
				       "and never reached a QEMU release; write "
				       "the window as -M cxl-fmw.N.targets.0=HB,"
				       "cxl-fmw.N.size=SIZE and give each device "
				       "its own backend (QEMU >= 7.1)", who,
				       k->key, k->val);
		const char *since = p ? p->since : NULL;
		if (d == CX_QDEV_TYPE3 && !strcmp(k->key, "volatile-memdev"))
			return cx_fail(e, ENOTSUP, "%s: volatile-memdev=%s (volatile "
				       "CXL memory) cannot be expressed on %s: "
				       "cxl-type3 has only persistent memory "
				       "there; it needs QEMU >= %s", who,
				       k->val, qemu_desc(c), since);
		if (since)
			return cx_fail(e, ENOTSUP, "%s: property %s=%s is not "
				       "known to %s; it needs QEMU >= %s", who,
				       k->key, k->val, qemu_desc(c), since);
		return cx_fail(e, ENOTSUP, "%s: property %s=%s is not known to "
			       "%s (its %s has no such property)", who, k->key,
			       k->val, qemu_desc(c), drv);
	}
	return 0;
}

/* ---- the pass-through trap ---- */

static int dev_int(const struct qopt *o, const char *key, int dflt)
{
	const char *v = kv_get(o, key);
	uint64_t n;
	if (!v || cx_parse_u64(v, &n, key, NULL) || n > 0xffff)
		return dflt;
	return (int)n;
}

static bool slot_used(const cx_vec *opts, int chassis, int slot)
{
	for (int i = 0; i < opts->n; i++) {
		struct qopt *o = opts->v[i];
		const char *drv = dev_driver(o);
		if (!drv || !(strstr(drv, "root-port") || !strcmp(drv, "cxl-rp") ||
			      !strcmp(drv, "cxl-downstream") ||
			      !strcmp(drv, "pcie-root-port") ||
			      !strcmp(drv, "xio3130-downstream")))
			continue;
		if (dev_int(o, "chassis", 0) == chassis &&
		    dev_int(o, "slot", 0) == slot)
			return true;
	}
	return false;
}

static void fix_passthrough(struct gen *g)
{
	cx_vec *opts = g->opts;

	if (cx_qemu_has_prop(g->caps, CX_QDEV_PXB, "hdm_for_passthrough"))
		return;
	for (int i = 0; i < opts->n; i++) {
		struct qopt *hb = opts->v[i];
		const char *drv = dev_driver(hb);
		const char *hbid = hb->parsed ? kv_get(hb, "id") : NULL;
		struct qopt *only = NULL;
		int nrp = 0, only_at = -1;
		bool ports[256] = {false};

		if (!drv || strcmp(drv, "pxb-cxl") || !hbid)
			continue;
		for (int j = 0; j < opts->n; j++) {
			struct qopt *rp = opts->v[j];
			const char *rd = dev_driver(rp);
			const char *bus = rd ? kv_get(rp, "bus") : NULL;
			if (!rd || strcmp(rd, "cxl-rp") || !bus ||
			    strcmp(bus, hbid))
				continue;
			nrp++;
			only = rp;
			only_at = j;
			ports[dev_int(rp, "port", 0) & 0xff] = true;
		}
		if (nrp != 1)
			continue;
		int port = 0;
		while (port < 255 && ports[port])
			port++;
		int chassis = dev_int(only, "chassis", 0), slot = 0;
		while (slot_used(opts, chassis, slot))
			slot++;
		char *id = cx_xasprintf("%s-cxlemu-rp%d", hbid, port);
		for (int n = 2; id_used(opts, id); n++) {
			free(id);
			id = cx_xasprintf("%s-cxlemu-rp%d-%d", hbid, port, n);
		}
		char *arg = cx_xasprintf("cxl-rp,port=%d,bus=%s,id=%s,"
					 "chassis=%d,slot=%d", port, hbid, id,
					 chassis, slot);
		struct qopt *add = opt_new("device", arg);
		/* insert after the existing root port */
		cx_vec_push(opts, NULL);
		memmove(&opts->v[only_at + 2], &opts->v[only_at + 1],
			sizeof(void *) * (size_t)(opts->n - only_at - 2));
		opts->v[only_at + 1] = add;
		note(g, "host %s: host bridge %s has one root port (%s); a "
		     "second, empty root port %s was added: with one port, "
		     "Linux programs a pass-through bridge decoder that %s "
		     "cannot route (writes are dropped, reads return zeros)",
		     g->h->name, hbid, kv_get(only, "id") ? kv_get(only, "id") :
		     "?", id, qemu_desc(g->caps));
		free(arg);
		free(id);
	}
}

/* ---- backends ---- */

static int fix_backends(struct gen *g, cx_err *e)
{
	char cwd[4096];
	const char *base = g->o ? g->o->mem_dir : NULL;

	if (!base) {
		if (!getcwd(cwd, sizeof(cwd)))
			return cx_fail(e, errno, "cannot read the current "
				       "directory: %s", strerror(errno));
		base = cwd;
	}
	for (int i = 0; i < g->opts->n; i++) {
		struct qopt *o = g->opts->v[i];
		if (strcmp(o->name, "object") || !o->parsed)
			continue;
		const char *type = kv_get(o, "qom-type");
		const char *id = kv_get(o, "id");
		if (!type || strcmp(type, "memory-backend-file"))
			continue;
		const char *path = kv_get(o, "mem-path");
		struct cx_backend *b = id ? cx_backend_find(g->h, id) : NULL;
		/* the path the fabric opens, when the model knows it */
		if (b && b->mem_path)
			path = b->mem_path;
		if (!path)
			continue;
		if (path[0] != '/') {
			char *abs = cx_xasprintf("%s/%s", base, path);
			kv_set(o, "mem-path", abs);
			free(abs);
		} else if (strcmp(path, kv_get(o, "mem-path") ?
				  kv_get(o, "mem-path") : "")) {
			kv_set(o, "mem-path", path);
		}
	}
	return 0;
}

/* ---- --bind-cxl-ram ---- */

static struct qopt *find_backend_opt(cx_vec *opts, const char *id)
{
	for (int i = 0; i < opts->n; i++) {
		struct qopt *o = opts->v[i];
		if (strcmp(o->name, "object") || !o->parsed)
			continue;
		const char *oid = kv_get(o, "id");
		const char *type = kv_get(o, "qom-type");
		if (oid && type && !strncmp(type, "memory-backend-", 15) &&
		    !strcmp(oid, id))
			return o;
	}
	return NULL;
}

static int smp_cpus(const cx_vec *opts)
{
	int cpus = 1;
	for (int i = 0; i < opts->n; i++) {
		struct qopt *o = opts->v[i];
		if (strcmp(o->name, "smp") || !o->parsed)
			continue;
		const char *v = kv_get(o, "cpus");
		const char *mx = kv_get(o, "maxcpus");
		uint64_t n;
		if (mx && !cx_parse_u64(mx, &n, "maxcpus", NULL) && n)
			cpus = (int)n;
		else if (v && !cx_parse_u64(v, &n, "cpus", NULL) && n)
			cpus = (int)n;
	}
	return cpus;
}

static void lb(struct gen *g, int target, const char *type, const char *key,
	       const char *val)
{
	char *a = cx_xasprintf("hmat-lb,initiator=0,target=%d,hierarchy=memory,"
			       "data-type=%s,%s=%s", target, type, key, val);
	struct qopt *o = opt_new("numa", a);
	cx_vec_push(g->opts, o);
	free(a);
}

static int bind_cxl_ram(struct gen *g, cx_err *e)
{
	struct cx_host_cxl *own = NULL;
	const struct cx_host_cxl *hc = g->o->host_cxl;
	int nodes[256], nn, rc, bound = 0;
	struct qopt *machine = NULL;

	for (int i = 0; i < g->opts->n; i++) {
		struct qopt *o = g->opts->v[i];
		if (!strcmp(o->name, "numa"))
			return cx_fail(e, EINVAL, "host %s: --bind-cxl-ram "
				       "writes the guest's NUMA layout, but "
				       "the command line already has -numa "
				       "%s", g->h->name, o->arg);
		if (is_machine(o) && o->parsed) {
			if (kv_get(o, "memory-backend"))
				return cx_fail(e, EINVAL, "host %s: "
					       "--bind-cxl-ram puts guest RAM "
					       "in a NUMA node, which QEMU does "
					       "not allow with -machine "
					       "memory-backend=%s", g->h->name,
					       kv_get(o, "memory-backend"));
			if (!machine)
				machine = o;
		}
	}
	if (!machine)
		return cx_fail(e, EINVAL, "host %s: --bind-cxl-ram needs a "
			       "-machine option to turn hmat=on", g->h->name);
	bool has_nodes = false;
	for (int i = 0; i < g->caps->backend_props.n; i++)
		if (!strcmp(g->caps->backend_props.v[i], "host-nodes"))
			has_nodes = true;
	if (!has_nodes)
		return cx_fail(e, ENOTSUP, "host %s: --bind-cxl-ram: %s memory "
			       "backends have no host-nodes property (built "
			       "without NUMA support)", g->h->name,
			       qemu_desc(g->caps));
	if (!hc) {
		const char *root = g->o->sysfs_root ? g->o->sysfs_root : "/sys";
		if ((rc = cx_host_cxl_scan(root, &own, e))) {
			cx_err_prefix(e, "host %s: --bind-cxl-ram", g->h->name);
			return rc;
		}
		hc = own;
	}
	nn = cx_host_cxl_usable(hc, nodes, (int)CX_ARRAY_SIZE(nodes));
	if (nn == 0) {
		rc = cx_fail(e, ENODEV, "host %s: --bind-cxl-ram: this machine "
			     "has no CXL RAM NUMA node with memory online (%d "
			     "CXL ram region(s) under %s/bus/cxl/devices; see "
			     "`cxlemu host-nodes`)", g->h->name, hc->regions.n,
			     hc->sysfs_root);
		cx_host_cxl_free(own);
		return rc;
	}

	/* guest node 0: every CPU and the RAM of -m */
	char *dram = cx_xstrdup("cxlemu-dram");
	for (int n = 2; id_used(g->opts, dram); n++) {
		free(dram);
		dram = cx_xasprintf("cxlemu-dram%d", n);
	}
	kv_set(machine, "hmat", "on");
	char *a = cx_xasprintf("memory-backend-ram,id=%s,size=%llu", dram,
			       (unsigned long long)g->h->ram_size);
	cx_vec_push(g->opts, opt_new("object", a));
	free(a);
	int cpus = smp_cpus(g->opts);
	a = cpus > 1 ? cx_xasprintf("node,nodeid=0,cpus=0-%d,memdev=%s",
				    cpus - 1, dram)
		     : cx_xasprintf("node,nodeid=0,cpus=0,memdev=%s", dram);
	cx_vec_push(g->opts, opt_new("numa", a));
	free(a);
	free(dram);

	/* each volatile device: its backend bound, its figures on a node */
	for (int i = 0; i < g->opts->n; i++) {
		struct qopt *o = g->opts->v[i];
		const char *drv = dev_driver(o);
		if (!drv || strcmp(drv, "cxl-type3"))
			continue;
		const char *beid = kv_get(o, "volatile-memdev");
		if (!beid)
			continue;
		struct qopt *be = find_backend_opt(g->opts, beid);
		const char *did = kv_get(o, "id") ? kv_get(o, "id") : beid;
		if (!be) {
			rc = cx_fail(e, EINVAL, "host %s: -device cxl-type3,id=%s "
				     "names volatile-memdev=%s, but no -object "
				     "memory-backend-* has that id", g->h->name,
				     did, beid);
			goto out;
		}
		if (kv_get(be, "host-nodes") || kv_get(be, "policy")) {
			rc = cx_fail(e, EINVAL, "host %s: backend %s already has "
				     "host-nodes/policy; --bind-cxl-ram would "
				     "override them", g->h->name, beid);
			goto out;
		}
		int hn = nodes[bound % nn];
		char nb[16];
		snprintf(nb, sizeof(nb), "%d", hn);
		kv_set(be, "host-nodes", nb);
		kv_set(be, "policy", "bind");
		bound++;

		/* figures: measured on the host node, else configured */
		const struct cx_host_node *node = NULL;
		for (int k = 0; k < hc->nodes.n; k++)
			if (((struct cx_host_node *)hc->nodes.v[k])->node == hn)
				node = hc->nodes.v[k];
		const struct cx_hmat *m = NULL;
		if (node && node->access[0].present)
			m = &node->access[0];
		else if (node && node->access[1].present)
			m = &node->access[1];
		struct cx_memdev *md = cx_memdev_find(g->h, did);
		int64_t rl = m ? m->read_latency : -1, wl = m ? m->write_latency : -1;
		int64_t rb = m ? m->read_bandwidth : -1, wb = m ? m->write_bandwidth : -1;
		bool measured = m && rl > 0 && wl > 0 && rb > 0 && wb > 0;
		if (!measured) {
			rl = md ? md->read_latency_ns : 250;
			wl = md ? md->write_latency_ns : 250;
			rb = md ? (int64_t)md->read_bw_mbs : 32000;
			wb = md ? (int64_t)md->write_bw_mbs : 32000;
		}
		a = cx_xasprintf("node,nodeid=%d,initiator=0", bound);
		cx_vec_push(g->opts, opt_new("numa", a));
		free(a);
		char v[64];
		snprintf(v, sizeof(v), "%lld", (long long)rl);
		lb(g, bound, "read-latency", "latency", v);
		snprintf(v, sizeof(v), "%lld", (long long)wl);
		lb(g, bound, "write-latency", "latency", v);
		snprintf(v, sizeof(v), "%lldM", (long long)rb);
		lb(g, bound, "read-bandwidth", "bandwidth", v);
		snprintf(v, sizeof(v), "%lldM", (long long)wb);
		lb(g, bound, "write-bandwidth", "bandwidth", v);
		note(g, "host %s: %s's volatile backend %s bound to host "
		     "node %d; guest node %d carries its %s figures (read "
		     "%lld ns / %lld MB/s, write %lld ns / %lld MB/s)",
		     g->h->name, did, beid, hn, bound,
		     measured ? "measured (host HMAT)" : "configured",
		     (long long)rl, (long long)rb, (long long)wl,
		     (long long)wb);
	}
	if (!bound) {
		rc = cx_fail(e, EINVAL, "host %s: --bind-cxl-ram: no cxl-type3 "
			     "device has volatile memory (volatile-memdev=) to "
			     "bind", g->h->name);
		goto out;
	}
	rc = 0;
out:
	cx_host_cxl_free(own);
	return rc;
}

/* ---- windows ---- */

/* cxl-fmw.N.interleave-arithmetic and .xormap.K describe windows QEMU
 * cannot build (its windows use modulo arithmetic): left out, named. */
static void drop_cxlemu_keys(struct gen *g)
{
	for (int i = 0; i < g->opts->n; i++) {
		struct qopt *q = g->opts->v[i];
		if (!is_machine(q) || !q->parsed)
			continue;
		char *names = NULL;
		for (int k = 0; k < q->kv.n; k++) {
			struct cfg_kv *kv = &q->kv.kv[k];
			if (kv->implied || kv->bare ||
			    !cfg_machine_key_cxlemu_only(kv->key))
				continue;
			char *n = cx_xasprintf("%s%s%s=%s", names ? names : "",
					       names ? "," : "", kv->key,
					       kv->val);
			free(names);
			names = n;
			cfg_kv_del_at(&q->kv, k--);
			q->dirty = true;
		}
		if (names && !q->kv.n)
			q->gone = true;
		if (names)
			note(g, "host %s: -machine %s left out: cxlemu's own "
			     "window keys, which QEMU has no equivalent for; "
			     "its windows use modulo arithmetic", g->h->name,
			     names);
		free(names);
	}
}

static bool fmw_key(const char *k)
{
	return !strncmp(k, "cxl-fmw.", 8);
}

/* QEMU reads every cxl-fmw.N key from one -M option: spread over two it
 * stops with "Parameters 'cxl-fmw.*' used inconsistently".  The topology
 * may spread them (cxlemu check warns); the line QEMU gets has them all
 * in the first -M that carries one, in the order written.  A -M left
 * with nothing is not written. */
static void join_windows(struct gen *g)
{
	struct qopt *first = NULL;
	int moved = 0;

	for (int i = 0; i < g->opts->n; i++) {
		struct qopt *q = g->opts->v[i];
		if (!is_machine(q) || !q->parsed)
			continue;
		bool has = false;
		for (int k = 0; k < q->kv.n && !has; k++)
			has = fmw_key(q->kv.kv[k].key);
		if (!has)
			continue;
		if (!first) {
			first = q;
			continue;
		}
		for (int k = 0; k < q->kv.n;) {
			struct cfg_kv *kv = &q->kv.kv[k];
			if (!fmw_key(kv->key)) {
				k++;
				continue;
			}
			kv_set(first, kv->key, kv->val);
			cfg_kv_del_at(&q->kv, k);
			q->dirty = true;
		}
		if (!q->kv.n)
			q->gone = true;
		moved++;
	}
	if (moved)
		note(g, "host %s: the cxl-fmw keys of %d more -M option%s "
		     "joined into the first (QEMU takes every window from one "
		     "-M option)", g->h->name, moved, moved == 1 ? "" : "s");
}

/* ---- filtering ---- */

static bool cxl_only_keeps(const struct qopt *o)
{
	const char *n = o->name;
	if (is_machine(o) || !strcmp(n, "m") || !strcmp(n, "smp") ||
	    !strcmp(n, "numa"))
		return true;
	if (!strcmp(n, "object") && o->parsed) {
		const char *t = kv_get(o, "qom-type");
		return t && !strncmp(t, "memory-backend-", 15);
	}
	if (!strcmp(n, "device") && o->parsed) {
		const char *d = kv_get(o, "driver");
		return d && cx_qdev_from_name(d) >= 0;
	}
	return false;
}

/* what the acceptance check replaces: display, monitor, daemon and
 * accelerator options */
static bool check_drops(const struct qopt *o)
{
	const struct cfg_optdef *d = cfg_optdef_find(o->name);
	if (d && (d->flags & CFG_OPT_FRONTEND))
		return true;
	/* -cpu host needs KVM; the check runs under TCG */
	if (!strcmp(o->name, "cpu") && o->arg && !strncmp(o->arg, "host", 4))
		return true;
	return false;
}

/* ---- output ---- */

void cx_qemu_line_free(struct cx_qemu_line *l)
{
	for (int i = 0; i < l->argv.n; i++)
		free(l->argv.v[i]);
	cx_vec_free(&l->argv);
	for (int i = 0; i < l->notes.n; i++)
		free(l->notes.v[i]);
	cx_vec_free(&l->notes);
	for (int i = 0; i < l->created.n; i++)
		free(l->created.v[i]);
	cx_vec_free(&l->created);
}

static bool needs_quote(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_=,./:+@%", *s))
			return true;
	return false;
}

char *cx_qemu_line_join(const struct cx_qemu_line *l)
{
	size_t cap = 256, len = 0;
	char *buf = cx_xcalloc(1, cap);

	for (int i = 0; i < l->argv.n; i++) {
		const char *w = l->argv.v[i];
		size_t need = strlen(w) * 4 + 4;
		if (len + need >= cap) {
			cap = (len + need) * 2;
			buf = cx_xrealloc(buf, cap);
		}
		if (i)
			buf[len++] = ' ';
		if (!needs_quote(w)) {
			memcpy(buf + len, w, strlen(w));
			len += strlen(w);
			continue;
		}
		buf[len++] = '\'';
		for (; *w; w++) {
			if (*w == '\'') {
				memcpy(buf + len, "'\\''", 4);
				len += 4;
			} else {
				buf[len++] = *w;
			}
		}
		buf[len++] = '\'';
	}
	buf[len] = 0;
	return buf;
}

static void emit(struct cx_qemu_line *l, const char *w)
{
	cx_vec_push(&l->argv, cx_xstrdup(w));
}

int cx_qemu_line_build(struct cx_fabric *f, const char *host,
		       const struct cx_qemu_caps *caps,
		       const struct cx_qemu_opts *o, struct cx_qemu_line *out,
		       cx_err *e)
{
	static const struct cx_qemu_opts none;
	cx_vec opts = {0};
	struct gen g;
	struct cx_host *h;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o)
		o = &none;
	h = cx_host_find(f, host);
	if (!h) {
		if (host)
			return cx_fail(e, ENOENT, "%s has no host named '%s'",
				       f->source, host);
		return cx_fail(e, ENOENT, "%s has no host", f->source);
	}
	if (!host && f->hosts.n > 1) {
		/* cx_host_find(NULL) picks the first; say which to choose */
		return cx_fail(e, EINVAL, "%s has %d hosts; name one with "
			       "--host (the first is '%s')", f->source,
			       f->hosts.n, h->name);
	}
	if ((rc = opts_parse(h, &opts, e)))
		return rc;
	g.h = h;
	g.caps = caps;
	g.o = o;
	g.opts = &opts;
	g.out = out;

	for (int i = 0; i < opts.n; i++) {
		struct qopt *q = opts.v[i];
		const char *drv = dev_driver(q);
		int d = drv ? cx_qdev_from_name(drv) : -1;
		if (d >= 0 && (rc = check_device(&g, q, (enum cx_qdev)d, e)))
			goto fail;
	}
	fix_passthrough(&g);
	drop_cxlemu_keys(&g);   /* first: QEMU gets none of them */
	join_windows(&g);
	if ((rc = fix_backends(&g, e)))
		goto fail;
	if (o->bind_cxl_ram && (rc = bind_cxl_ram(&g, e)))
		goto fail;

	emit(out, caps->binary ? caps->binary : cx_qemu_default_binary());
	for (int i = 0; i < opts.n; i++) {
		struct qopt *q = opts.v[i];
		if (q->gone)
			continue;
		if (o->cxl_only && !cxl_only_keeps(q))
			continue;
		if (o->for_check && check_drops(q))
			continue;
		if (o->for_check && is_machine(q))
			kv_del(q, "accel");
		char *dash = cx_xasprintf("-%s", q->name);
		emit(out, dash);
		free(dash);
		if (!q->arg)
			continue;
		if (q->dirty) {
			char *j = cfg_kv_join(&q->kv);
			emit(out, j);
			free(j);
		} else {
			emit(out, q->arg);
		}
	}
	if (o->for_check) {
		static const char *const tail[] = {
			"-accel", "tcg", "-S", "-display", "none", "-monitor",
			"stdio", "-serial", "none", NULL,
		};
		for (int i = 0; tail[i]; i++)
			emit(out, tail[i]);
	}
	opts_free(&opts);
	return 0;
fail:
	opts_free(&opts);
	cx_qemu_line_free(out);
	return rc;
}

int cx_qemu_args(struct cx_fabric *f, const char *host,
		 const struct cx_qemu_caps *caps, const struct cx_qemu_opts *o,
		 char **joined, cx_err *e)
{
	struct cx_qemu_line l;
	int rc = cx_qemu_line_build(f, host, caps, o, &l, e);
	if (rc)
		return rc;
	*joined = cx_qemu_line_join(&l);
	cx_qemu_line_free(&l);
	return 0;
}

/* ---- acceptance without booting ---- */

static void collect_mem_paths(const struct cx_qemu_line *l, cx_vec *paths)
{
	for (int i = 1; i + 1 < l->argv.n; i++) {
		if (strcmp(l->argv.v[i], "-object"))
			continue;
		struct cfg_kvlist kv;
		if (cfg_kv_parse(l->argv.v[i + 1], "qom-type", &kv, NULL))
			continue;
		const char *path = cfg_kv_get(&kv, "mem-path");
		if (path)
			cx_vec_push(paths, cx_xstrdup(path));
		cfg_kvlist_free(&kv);
	}
}

int cx_qemu_check(const struct cx_qemu_line *l, int timeout_ms, cx_err *e)
{
	cx_vec paths = {0}, fresh = {0};
	char **argv = cx_xcalloc((size_t)l->argv.n + 1, sizeof(char *));
	char *out = NULL;
	int st = -1, rc;

	collect_mem_paths(l, &paths);
	for (int i = 0; i < paths.n; i++)
		if (access(paths.v[i], F_OK) != 0)
			cx_vec_push(&fresh, paths.v[i]);
	for (int i = 0; i < l->argv.n; i++)
		argv[i] = l->argv.v[i];
	rc = cx_run_capture(argv, "quit\n", timeout_ms, &out, &st, e);
	if (!rc && st != 0) {
		/* QEMU's own words, without the monitor's banner */
		const char *msg = out;
		const char *p = strstr(out, "(qemu) ");
		if (p)
			msg = p + 7;
		size_t ml = strlen(msg);
		while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
			ml--;
		rc = cx_fail(e, EINVAL, "QEMU refused the command line (exit "
			     "status %d): %.*s", st, (int)(ml > 700 ? 700 : ml),
			     msg);
	}
	for (int i = 0; i < fresh.n; i++)
		unlink(fresh.v[i]);
	cx_vec_free(&fresh);
	for (int i = 0; i < paths.n; i++)
		free(paths.v[i]);
	cx_vec_free(&paths);
	free(out);
	free(argv);
	return rc;
}
