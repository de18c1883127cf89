/*
 * hostnodes.c - this machine's CXL RAM NUMA nodes, found through sysfs.
 *
 * The walk (ROOT is "/sys" unless a test gives a fake tree):
 *
 *   ROOT/bus/cxl/devices/regionN/mode            "ram" (or "pmem": skipped)
 *   ROOT/bus/cxl/devices/regionN/{size,resource}
 *   ROOT/bus/cxl/devices/regionN/dax_regionN/daxN.M/
 *        target_node, numa_node, size, resource, driver -> .../kmem
 *   ROOT/devices/system/memory/block_size_bytes, memoryK/online
 *        (the blocks of a kmem device: which are online as System RAM)
 *   ROOT/devices/system/node/{online,has_memory}
 *   ROOT/devices/system/node/nodeN/access{0,1}/initiators/
 *        {read,write}_{latency,bandwidth}   (HMAT: ns and MB/s)
 *
 * No CXL bus at all gives an empty answer.  A file that is there but empty
 * or not a number, or a dax device without target_node, is an error that
 * names the file; attributes a kernel may lack (HMAT, numa_node, resource
 * when not root) are left out of the answer.
 */
#include "qemu.h"

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATTR_MAX 4096

/* snprintf into a PATH_MAX buffer; sysfs paths are far shorter */
static void pathf(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
}

/* Read a small sysfs attribute; -ENOENT when absent. Trailing space cut. */
static int read_attr(const char *path, char *buf, size_t len, cx_err *e)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return -ENOENT;
		return cx_fail(e, errno, "%s: cannot read: %s", path,
			       strerror(errno));
	}
	n = fread(buf, 1, len - 1, f);
	if (ferror(f)) {
		int err = errno ? errno : EIO;
		fclose(f);
		return cx_fail(e, err, "%s: cannot read: %s", path,
			       strerror(err));
	}
	fclose(f);
	buf[n] = 0;
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	return 0;
}

/* Parse a whole attribute as an integer (base 0: "0x..." or decimal). */
static int parse_num(const char *path, const char *s, int base, bool sign,
		     int64_t *out, cx_err *e)
{
	char *end;
	errno = 0;
	if (!*s)
		return cx_fail(e, EINVAL, "%s: empty; expected a number", path);
	if (sign) {
		long long v = strtoll(s, &end, base);
		if (errno || *end)
			return cx_fail(e, EINVAL, "%s: '%.40s' is not a number",
				       path, s);
		*out = v;
	} else {
		if (s[0] == '-')
			return cx_fail(e, EINVAL, "%s: '%.40s' is negative; "
				       "expected a size", path, s);
		unsigned long long v = strtoull(s, &end, base);
		if (errno || *end || v > INT64_MAX)
			return cx_fail(e, EINVAL, "%s: '%.40s' is not a number",
				       path, s);
		*out = (int64_t)v;
	}
	return 0;
}

/* Number attribute: 0 found, 1 absent (optional), <0 error. */
static int read_num(const char *path, int base, bool sign, int64_t *out,
		    cx_err *e)
{
	char buf[ATTR_MAX];
	int rc = read_attr(path, buf, sizeof(buf), e);
	if (rc == -ENOENT)
		return 1;
	if (rc)
		return rc;
	return parse_num(path, buf, base, sign, out, e);
}

/* "0-2,5" -> membership of node n */
static int parse_nodelist(const char *path, const char *s, bool *set,
			  int max, cx_err *e)
{
	const char *p = s;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;
		if (end == p || a < 0 || a >= max)
			return cx_fail(e, EINVAL, "%s: '%.60s' is not a node "
				       "list like '0-1,3'", path, s);
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= max)
				return cx_fail(e, EINVAL, "%s: '%.60s' is not a "
					       "node list like '0-1,3'", path,
					       s);
			p = end;
		}
		for (long i = a; i <= b; i++)
			set[i] = true;
		if (*p == ',')
			p++;
		else if (*p)
			return cx_fail(e, EINVAL, "%s: '%.60s' is not a node "
				       "list like '0-1,3'", path, s);
	}
	return 0;
}

static bool name_num(const char *name, const char *prefix, int *n)
{
	size_t pl = strlen(prefix);
	char *end;
	if (strncmp(name, prefix, pl) || !isdigit((unsigned char)name[pl]))
		return false;
	long v = strtol(name + pl, &end, 10);
	if (*end || v < 0 || v > INT_MAX)
		return false;
	*n = (int)v;
	return true;
}

static bool dax_name(const char *name)
{
	int a, b, n = 0;
	return sscanf(name, "dax%d.%d%n", &a, &b, &n) == 2 && !name[n];
}

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	/* regionN and daxN.M: shorter numbers first, then text order */
	size_t lx = strlen(x), ly = strlen(y);
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Sorted names in dir that pass `want`; -ENOENT if dir is missing. */
static int list_dir(const char *dir, bool (*want)(const char *), cx_vec *out,
		    cx_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return -ENOENT;
		return cx_fail(e, errno, "%s: cannot list: %s", dir,
			       strerror(errno));
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && want(de->d_name))
			cx_vec_push(out, cx_xstrdup(de->d_name));
	closedir(d);
	if (out->n > 1)
		qsort(out->v, (size_t)out->n, sizeof(void *), cmp_names);
	return 0;
}

static bool want_region(const char *n)
{
	int x;
	return name_num(n, "region", &x);
}

static bool want_dax_region(const char *n)
{
	int x;
	return name_num(n, "dax_region", &x);
}

static bool want_pmem_region(const char *n)
{
	int x;
	return name_num(n, "pmem_region", &x);
}

static void free_names(cx_vec *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->v[i]);
	cx_vec_free(v);
}

/* ---- objects ---- */

static void dax_free(struct cx_host_dax *d)
{
	free(d->name);
	free(d->driver);
	free(d);
}

static void region_free(struct cx_host_region *r)
{
	for (int i = 0; i < r->daxes.n; i++)
		dax_free(r->daxes.v[i]);
	cx_vec_free(&r->daxes);
	free(r->name);
	free(r->mode);
	free(r);
}

void cx_host_cxl_free(struct cx_host_cxl *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->regions.n; i++)
		region_free(c->regions.v[i]);
	cx_vec_free(&c->regions);
	for (int i = 0; i < c->nodes.n; i++) {
		struct cx_host_node *n = c->nodes.v[i];
		cx_vec_free(&n->regions);
		cx_vec_free(&n->daxes);
		free(n);
	}
	cx_vec_free(&c->nodes);
	for (int i = 0; i < c->notes.n; i++)
		free(c->notes.v[i]);
	cx_vec_free(&c->notes);
	free(c->sysfs_root);
	free(c);
}

struct walk {
	struct cx_host_cxl *c;
	bool online[1024], has_memory[1024];
	bool have_online, have_has_memory;
	int64_t block_size;   /* 0: unknown */
};

static int scan_blocks(struct walk *w, struct cx_host_dax *d, cx_err *e)
{
	if (!w->block_size || !d->resource || !d->size)
		return 0;
	uint64_t first = d->resource / (uint64_t)w->block_size;
	uint64_t last = (d->resource + d->size - 1) / (uint64_t)w->block_size;
	for (uint64_t b = first; b <= last; b++) {
		char path[PATH_MAX];
		int64_t v;
		int rc;
		pathf(path, "%s/devices/system/memory/"
			 "memory%llu/online", w->c->sysfs_root,
			 (unsigned long long)b);
		d->total_memblocks++;
		rc = read_num(path, 10, false, &v, e);
		if (rc < 0)
			return rc;
		if (rc == 0 && v == 1)
			d->online_memblocks++;
	}
	return 0;
}

static int scan_dax(struct walk *w, const char *dir, const char *name,
		    struct cx_host_dax **out, cx_err *e)
{
	struct cx_host_dax *d = cx_xcalloc(1, sizeof(*d));
	char path[PATH_MAX], link[PATH_MAX];
	int64_t v;
	int rc;

	d->name = cx_xstrdup(name);
	d->numa_node = -1;
	pathf(path, "%s/%s/target_node", dir, name);
	rc = read_num(path, 10, true, &v, e);
	if (rc == 1)
		rc = cx_fail(e, ENOENT, "%s: missing; a dax device names the "
			     "NUMA node its memory goes to there", path);
	if (rc)
		goto fail;
	if (v < -1 || v >= 1024) {
		rc = cx_fail(e, EINVAL, "%s: node %lld is out of range", path,
			     (long long)v);
		goto fail;
	}
	d->target_node = (int)v;
	pathf(path, "%s/%s/numa_node", dir, name);
	if ((rc = read_num(path, 10, true, &v, e)) < 0)
		goto fail;
	if (rc == 0)
		d->numa_node = (int)v;
	pathf(path, "%s/%s/size", dir, name);
	rc = read_num(path, 0, false, &v, e);
	if (rc == 1)
		rc = cx_fail(e, ENOENT, "%s: missing; a dax device has a size",
			     path);
	if (rc)
		goto fail;
	d->size = (uint64_t)v;
	/* resource is readable by root only; without it no block count */
	pathf(path, "%s/%s/resource", dir, name);
	{
		char buf[ATTR_MAX];
		rc = read_attr(path, buf, sizeof(buf), e);
		if (rc == 0) {
			if ((rc = parse_num(path, buf, 16, false, &v, e)))
				goto fail;
			d->resource = (uint64_t)v;
		} else if (rc != -ENOENT && rc != -EACCES) {
			goto fail;
		}
	}
	pathf(path, "%s/%s/driver", dir, name);
	ssize_t ll = readlink(path, link, sizeof(link) - 1);
	if (ll > 0) {
		link[ll] = 0;
		const char *base = strrchr(link, '/');
		d->driver = cx_xstrdup(base ? base + 1 : link);
	}
	if (d->driver && !strcmp(d->driver, "kmem") &&
	    (rc = scan_blocks(w, d, e)))
		goto fail;
	*out = d;
	return 0;
fail:
	dax_free(d);
	return rc;
}

static struct cx_host_node *node_get(struct cx_host_cxl *c, int id)
{
	int i;
	for (i = 0; i < c->nodes.n; i++) {
		struct cx_host_node *n = c->nodes.v[i];
		if (n->node == id)
			return n;
		if (n->node > id)
			break;
	}
	struct cx_host_node *n = cx_xcalloc(1, sizeof(*n));
	n->node = id;
	cx_vec_push(&c->nodes, NULL);
	memmove(&c->nodes.v[i + 1], &c->nodes.v[i],
		sizeof(void *) * (size_t)(c->nodes.n - 1 - i));
	c->nodes.v[i] = n;
	return n;
}

static int scan_hmat(struct walk *w, struct cx_host_node *n, cx_err *e)
{
	static const char *const names[4] = {
		"read_latency", "write_latency", "read_bandwidth",
		"write_bandwidth",
	};
	for (int a = 0; a < 2; a++) {
		struct cx_hmat *h = &n->access[a];
		int64_t *slot[4] = {&h->read_latency, &h->write_latency,
				    &h->read_bandwidth, &h->write_bandwidth};
		for (int k = 0; k < 4; k++) {
			char path[PATH_MAX];
			int rc;
			*slot[k] = -1;
			pathf(path, "%s/devices/system/node/"
				 "node%d/access%d/initiators/%s",
				 w->c->sysfs_root, n->node, a, names[k]);
			rc = read_num(path, 10, false, slot[k], e);
			if (rc < 0)
				return rc;
			if (rc == 0)
				h->present = true;
			else
				*slot[k] = -1;
		}
	}
	return 0;
}

static int scan_region(struct walk *w, const char *devdir, const char *name,
		       cx_err *e)
{
	char dir[PATH_MAX], path[PATH_MAX], mode[ATTR_MAX];
	cx_vec subs = {0};
	int64_t v;
	int rc;

	pathf(dir, "%s/%s", devdir, name);
	pathf(path, "%s/mode", dir);
	rc = read_attr(path, mode, sizeof(mode), e);
	if (rc == -ENOENT) {
		/* kernels before ram regions (6.1) have no mode: a region
		 * with a dax_region is ram, with a pmem_region is pmem */
		cx_vec d = {0}, p = {0};
		if ((rc = list_dir(dir, want_dax_region, &d, e)) < 0 &&
		    rc != -ENOENT)
			return rc;
		if ((rc = list_dir(dir, want_pmem_region, &p, e)) < 0 &&
		    rc != -ENOENT) {
			free_names(&d);
			return rc;
		}
		snprintf(mode, sizeof(mode), "%s", d.n ? "ram" :
			 p.n ? "pmem" : "");
		free_names(&d);
		free_names(&p);
		if (!mode[0]) {
			cx_vec_push(&w->c->notes, cx_xasprintf(
				"%s: no mode attribute and no dax or pmem "
				"region below it; skipped", dir));
			return 0;
		}
	} else if (rc) {
		return rc;
	}
	if (!strcmp(mode, "pmem") || !strcmp(mode, "none"))
		return 0;
	if (strcmp(mode, "ram"))
		return cx_fail(e, EINVAL, "%s: '%.40s' is not a region mode "
			       "(ram, pmem or none)", path, mode);

	struct cx_host_region *r = cx_xcalloc(1, sizeof(*r));
	r->name = cx_xstrdup(name);
	r->mode = cx_xstrdup(mode);
	cx_vec_push(&w->c->regions, r);
	pathf(path, "%s/size", dir);
	rc = read_num(path, 0, false, &v, e);
	if (rc == 1)
		rc = cx_fail(e, ENOENT, "%s: missing; a region has a size",
			     path);
	if (rc)
		return rc;
	r->size = (uint64_t)v;
	pathf(path, "%s/resource", dir);
	if ((rc = read_num(path, 0, false, &v, e)) < 0)
		return rc;
	if (rc == 0)
		r->resource = (uint64_t)v;

	if ((rc = list_dir(dir, want_dax_region, &subs, e)) < 0) {
		if (rc != -ENOENT)
			return rc;
		rc = 0;
	}
	for (int i = 0; i < subs.n && !rc; i++) {
		char ddir[PATH_MAX];
		cx_vec daxes = {0};
		pathf(ddir, "%s/%s", dir, (char *)subs.v[i]);
		rc = list_dir(ddir, dax_name, &daxes, e);
		if (rc == -ENOENT)
			rc = 0;
		for (int j = 0; j < daxes.n && !rc; j++) {
			struct cx_host_dax *d = NULL;
			rc = scan_dax(w, ddir, daxes.v[j], &d, e);
			if (!rc)
				cx_vec_push(&r->daxes, d);
		}
		free_names(&daxes);
	}
	free_names(&subs);
	if (rc)
		return rc;
	if (!r->daxes.n)
		cx_vec_push(&w->c->notes, cx_xasprintf(
			"%s: ram region without a dax device (not enabled, or "
			"dax_cxl not loaded); it has no NUMA node yet", name));
	for (int i = 0; i < r->daxes.n; i++) {
		struct cx_host_dax *d = r->daxes.v[i];
		if (d->target_node < 0) {
			cx_vec_push(&w->c->notes, cx_xasprintf(
				"%s/%s: target_node -1: no NUMA node", name,
				d->name));
			continue;
		}
		struct cx_host_node *n = node_get(w->c, d->target_node);
		bool seen = false;
		for (int k = 0; k < n->regions.n; k++)
			if (n->regions.v[k] == r->name)
				seen = true;
		if (!seen)
			cx_vec_push(&n->regions, r->name);
		cx_vec_push(&n->daxes, d->name);
		if (d->driver && !strcmp(d->driver, "kmem")) {
			if (w->block_size && d->total_memblocks)
				n->system_ram += (uint64_t)d->online_memblocks *
						 (uint64_t)w->block_size;
			else
				n->system_ram += d->size; /* no block view */
		}
	}
	return 0;
}

int cx_host_cxl_scan(const char *root, struct cx_host_cxl **out, cx_err *e)
{
	struct walk *w = cx_xcalloc(1, sizeof(*w));
	char path[PATH_MAX], buf[ATTR_MAX];
	cx_vec regions = {0};
	int rc;

	*out = NULL;
	w->c = cx_xcalloc(1, sizeof(*w->c));
	w->c->sysfs_root = cx_xstrdup(root && *root ? root : "/sys");
	root = w->c->sysfs_root;

	pathf(path, "%s/devices/system/node/online", root);
	rc = read_attr(path, buf, sizeof(buf), e);
	if (rc == 0) {
		w->have_online = true;
		rc = parse_nodelist(path, buf, w->online, 1024, e);
	}
	if (rc && rc != -ENOENT)
		goto fail;
	pathf(path, "%s/devices/system/node/has_memory", root);
	rc = read_attr(path, buf, sizeof(buf), e);
	if (rc == 0) {
		w->have_has_memory = true;
		rc = parse_nodelist(path, buf, w->has_memory, 1024, e);
	}
	if (rc && rc != -ENOENT)
		goto fail;
	pathf(path, "%s/devices/system/memory/block_size_bytes",
		 root);
	rc = read_num(path, 16, false, &w->block_size, e);
	if (rc < 0)
		goto fail;
	if (rc == 1 || w->block_size <= 0)
		w->block_size = 0;

	pathf(path, "%s/bus/cxl/devices", root);
	rc = list_dir(path, want_region, &regions, e);
	if (rc == -ENOENT)
		rc = 0;
	for (int i = 0; i < regions.n && !rc; i++)
		rc = scan_region(w, path, regions.v[i], e);
	free_names(&regions);
	if (rc)
		goto fail;

	for (int i = 0; i < w->c->nodes.n; i++) {
		struct cx_host_node *n = w->c->nodes.v[i];
		char nd[PATH_MAX];
		struct stat st;
		pathf(nd, "%s/devices/system/node/node%d", root,
			 n->node);
		bool exists = stat(nd, &st) == 0;
		n->online = w->have_online ? w->online[n->node] : exists;
		n->has_memory = w->have_has_memory ? w->has_memory[n->node]
						   : n->online;
		if (!n->online)
			n->system_ram = 0;
		if ((rc = scan_hmat(w, n, e)))
			goto fail;
	}
	*out = w->c;
	free(w);
	return 0;
fail:
	cx_host_cxl_free(w->c);
	free(w);
	return rc;
}

int cx_host_cxl_usable(const struct cx_host_cxl *c, int *nodes, int max)
{
	int n = 0;
	for (int i = 0; i < c->nodes.n && n < max; i++) {
		const struct cx_host_node *nd = c->nodes.v[i];
		if (nd->online && nd->has_memory && nd->system_ram)
			nodes[n++] = nd->node;
	}
	return n;
}

/* ---- JSON ---- */

static struct json_object *hmat_json(const struct cx_hmat *h)
{
	struct json_object *o = json_object_new_object();
	if (h->read_latency >= 0)
		json_object_object_add(o, "read_latency",
				       json_object_new_int64(h->read_latency));
	if (h->write_latency >= 0)
		json_object_object_add(o, "write_latency",
				       json_object_new_int64(h->write_latency));
	if (h->read_bandwidth >= 0)
		json_object_object_add(o, "read_bandwidth",
				       json_object_new_int64(h->read_bandwidth));
	if (h->write_bandwidth >= 0)
		json_object_object_add(o, "write_bandwidth",
				       json_object_new_int64(h->write_bandwidth));
	return o;
}

static struct json_object *names_json(const cx_vec *v)
{
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_string(v->v[i]));
	return a;
}

struct json_object *cx_host_cxl_json(const struct cx_host_cxl *c)
{
	struct json_object *top = json_object_new_object();
	struct json_object *nodes = json_object_new_array();
	struct json_object *regions = json_object_new_array();

	for (int i = 0; i < c->nodes.n; i++) {
		const struct cx_host_node *n = c->nodes.v[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "node", json_object_new_int(n->node));
		json_object_object_add(o, "online",
				       json_object_new_boolean(n->online));
		json_object_object_add(o, "has_memory",
				       json_object_new_boolean(n->has_memory));
		json_object_object_add(o, "system_ram_size",
				       json_object_new_int64((int64_t)n->system_ram));
		json_object_object_add(o, "bindable", json_object_new_boolean(
			n->online && n->has_memory && n->system_ram));
		json_object_object_add(o, "regions", names_json(&n->regions));
		json_object_object_add(o, "devices", names_json(&n->daxes));
		for (int a = 0; a < 2; a++)
			if (n->access[a].present)
				json_object_object_add(o, a ? "access1" : "access0",
						       hmat_json(&n->access[a]));
		json_object_array_add(nodes, o);
	}
	for (int i = 0; i < c->regions.n; i++) {
		const struct cx_host_region *r = c->regions.v[i];
		struct json_object *o = json_object_new_object();
		struct json_object *devs = json_object_new_array();
		json_object_object_add(o, "region", json_object_new_string(r->name));
		json_object_object_add(o, "type", json_object_new_string(r->mode));
		json_object_object_add(o, "size",
				       json_object_new_int64((int64_t)r->size));
		if (r->resource)
			json_object_object_add(o, "resource",
					       json_object_new_int64((int64_t)r->resource));
		for (int j = 0; j < r->daxes.n; j++) {
			const struct cx_host_dax *d = r->daxes.v[j];
			struct json_object *x = json_object_new_object();
			bool kmem = d->driver && !strcmp(d->driver, "kmem");
			json_object_object_add(x, "chardev",
					       json_object_new_string(d->name));
			json_object_object_add(x, "size",
					       json_object_new_int64((int64_t)d->size));
			json_object_object_add(x, "target_node",
					       json_object_new_int(d->target_node));
			if (d->numa_node >= 0)
				json_object_object_add(x, "numa_node",
						       json_object_new_int(d->numa_node));
			json_object_object_add(x, "mode", json_object_new_string(
				kmem ? "system-ram" : "devdax"));
			if (d->driver)
				json_object_object_add(x, "driver",
						       json_object_new_string(d->driver));
			else
				json_object_object_add(x, "state",
						       json_object_new_string("disabled"));
			if (kmem && d->total_memblocks) {
				json_object_object_add(x, "online_memblocks",
						       json_object_new_int(d->online_memblocks));
				json_object_object_add(x, "total_memblocks",
						       json_object_new_int(d->total_memblocks));
			}
			json_object_array_add(devs, x);
		}
		json_object_object_add(o, "devices", devs);
		json_object_array_add(regions, o);
	}
	json_object_object_add(top, "sysfs", json_object_new_string(c->sysfs_root));
	json_object_object_add(top, "nodes", nodes);
	json_object_object_add(top, "regions", regions);
	if (c->notes.n)
		json_object_object_add(top, "notes", names_json(&c->notes));
	return top;
}

int cx_host_nodes(const char *sysfs_root, struct json_object **out, cx_err *e)
{
	struct cx_host_cxl *c;
	int rc = cx_host_cxl_scan(sysfs_root, &c, e);
	if (rc)
		return rc;
	*out = cx_host_cxl_json(c);
	cx_host_cxl_free(c);
	return 0;
}
