/*
 * tree.c - the generic part of a host's sysfs view (sysfs.h): nodes,
 * building helpers, and path resolution with the kernel's rules for
 * symbolic links and "..".
 */
#include "sysfs/sysfs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINK_HOPS 40  /* Linux's MAXSYMLINKS */

static void node_free(struct cx_sysfs_node *n);

/* A new node; one of the same name in `parent` is replaced (a link or an
 * attribute described twice, e.g. a host bridge reached as a dport and
 * as a port's uport, is one node). */
static struct cx_sysfs_node *node_new(struct cx_sysfs_node *parent,
				      const char *name,
				      enum cx_sysfs_type type, unsigned mode)
{
	for (int i = 0; parent && i < parent->children.n; i++) {
		struct cx_sysfs_node *old = parent->children.v[i];
		if (!strcmp(old->name, name)) {
			cx_vec_remove(&parent->children, old);
			node_free(old);
			break;
		}
	}
	struct cx_sysfs_node *n = cx_xcalloc(1, sizeof(*n));
	n->name = cx_xstrdup(name);
	n->type = type;
	n->mode = mode;
	n->parent = parent;
	if (parent)
		cx_vec_push(&parent->children, n);
	return n;
}

static void node_free(struct cx_sysfs_node *n)
{
	for (int i = 0; i < n->children.n; i++)
		node_free(n->children.v[i]);
	cx_vec_free(&n->children);
	free(n->name);
	free(n->target);
	free(n->text);
	free(n);
}

struct cx_sysfs_node *cx_sysfs_child(const struct cx_sysfs_node *dir,
				     const char *name)
{
	if (!dir || dir->type != CX_SYSFS_DIR)
		return NULL;
	for (int i = 0; i < dir->children.n; i++) {
		struct cx_sysfs_node *c = dir->children.v[i];
		if (!strcmp(c->name, name))
			return c;
	}
	return NULL;
}

struct cx_sysfs_node *cx_sysfs_dir(struct cx_sysfs_node *parent,
				   const char *name)
{
	struct cx_sysfs_node *n = cx_sysfs_child(parent, name);
	return n ? n : node_new(parent, name, CX_SYSFS_DIR, 0755);
}

struct cx_sysfs_node *cx_sysfs_mkdirs(struct cx_sysfs *t, const char *path)
{
	struct cx_sysfs_node *n = t->root;
	char part[CX_SYSFS_PATH_MAX];
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (!l)
			break;
		snprintf(part, sizeof(part), "%.*s", (int)l, p);
		n = cx_sysfs_dir(n, part);
		p += l;
	}
	return n;
}

struct cx_sysfs_node *cx_sysfs_attr(struct cx_sysfs_node *parent,
				    const char *name, unsigned mode,
				    cx_sysfs_show_fn show, void *obj)
{
	struct cx_sysfs_node *n = node_new(parent, name, CX_SYSFS_ATTR, mode);
	n->show = show;
	n->obj = obj;
	return n;
}

struct cx_sysfs_node *cx_sysfs_text(struct cx_sysfs_node *parent,
				    const char *name, unsigned mode,
				    const char *fmt, ...)
{
	struct cx_sysfs_node *n = node_new(parent, name, CX_SYSFS_ATTR, mode);
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&n->text, fmt, ap) < 0)
		abort();
	va_end(ap);
	return n;
}

struct cx_sysfs_node *cx_sysfs_link(struct cx_sysfs_node *parent,
				    const char *name, const char *target)
{
	struct cx_sysfs_node *n = node_new(parent, name, CX_SYSFS_LINK, 0777);
	n->target = cx_xstrdup(target);
	return n;
}

struct cx_sysfs_node *cx_sysfs_chr(struct cx_sysfs_node *parent,
				   const char *name, unsigned mode,
				   unsigned major, unsigned minor)
{
	struct cx_sysfs_node *n = node_new(parent, name, CX_SYSFS_CHR, mode);
	n->major = major;
	n->minor = minor;
	return n;
}

struct cx_sysfs *cx_sysfs_build(struct cx_host *h)
{
	struct cx_sysfs *t = cx_xcalloc(1, sizeof(*t));
	t->host = h;
	t->root = node_new(NULL, "", CX_SYSFS_DIR, 0755);
	cx_sysfs_add_cxl(t);
	cx_sysfs_add_dax(t);
	return t;
}

void cx_sysfs_free(struct cx_sysfs *t)
{
	if (!t)
		return;
	node_free(t->root);
	free(t);
}

void cx_sysfs_path(const struct cx_sysfs_node *n, char *buf, size_t len)
{
	const struct cx_sysfs_node *chain[64];
	int depth = 0;
	for (; n && n->parent && depth < 64; n = n->parent)
		chain[depth++] = n;
	size_t used = 0;
	buf[0] = 0;
	if (!depth) {
		snprintf(buf, len, "/");
		return;
	}
	while (depth-- > 0 && used < len) {
		int w = snprintf(buf + used, len - used, "/%s", chain[depth]->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/*
 * Walk `path` from the root.  Links met inside the path are followed by
 * restarting the walk on "target + rest"; `hops` counts them.
 */
static int walk(const struct cx_sysfs *t, const char *path, bool nofollow,
		int *hops, struct cx_sysfs_node **out, cx_err *e)
{
	if (path[0] != '/')
		return cx_fail(e, ENOENT, "%s: not an absolute path", path);
	if (strlen(path) >= CX_SYSFS_PATH_MAX)
		return cx_fail(e, ENAMETOOLONG, "%.64s...: path longer than %d "
			       "bytes", path, CX_SYSFS_PATH_MAX);
	struct cx_sysfs_node *n = t->root;
	const char *p = path;
	char part[CX_SYSFS_PATH_MAX];
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, "/");
		snprintf(part, sizeof(part), "%.*s", (int)l, p);
		p += l;
		if (n->type != CX_SYSFS_DIR)
			return cx_fail(e, ENOTDIR, "%s: '%s' is not a directory",
				       path, n->name);
		struct cx_sysfs_node *next;
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			if (n->parent)
				n = n->parent;
			continue;
		}
		if (!(next = cx_sysfs_child(n, part)))
			return cx_fail(e, ENOENT, "%s: no '%s' in %s%s", path,
				       part, n == t->root ? "/" : "",
				       n == t->root ? "" : n->name);
		/* a trailing slash asks for what the link points to */
		bool last = !*p;
		if (next->type == CX_SYSFS_LINK && !(last && nofollow)) {
			if (++*hops > MAX_LINK_HOPS)
				return cx_fail(e, ELOOP, "%s: more than %d "
					       "symbolic links", path,
					       MAX_LINK_HOPS);
			char rest[2 * CX_SYSFS_PATH_MAX];
			snprintf(rest, sizeof(rest), "%s%s", next->target, p);
			return walk(t, rest, nofollow, hops, out, e);
		}
		n = next;
	}
	*out = n;
	return 0;
}

int cx_sysfs_lookup(const struct cx_sysfs *t, const char *path, bool nofollow,
		    struct cx_sysfs_node **out, char *canon, size_t canon_len,
		    cx_err *e)
{
	int hops = 0;
	struct cx_sysfs_node *n;
	int rc = walk(t, path, nofollow, &hops, &n, e);
	if (rc)
		return rc;
	if (canon)
		cx_sysfs_path(n, canon, canon_len);
	*out = n;
	return 0;
}

int cx_sysfs_read(const struct cx_sysfs_node *n, char *buf, size_t len,
		  cx_err *e)
{
	char path[CX_SYSFS_PATH_MAX];
	if (n->type == CX_SYSFS_DIR) {
		cx_sysfs_path(n, path, sizeof(path));
		return cx_fail(e, EISDIR, "%s is a directory", path);
	}
	if (n->type != CX_SYSFS_ATTR) {
		cx_sysfs_path(n, path, sizeof(path));
		return cx_fail(e, EINVAL, "%s is not an attribute", path);
	}
	if (!(n->mode & 0444)) {
		cx_sysfs_path(n, path, sizeof(path));
		return cx_fail(e, EACCES, "%s is write-only", path);
	}
	if (!n->show) {
		int w = snprintf(buf, len, "%s", n->text ? n->text : "");
		return w < 0 ? 0 : (size_t)w >= len ? (int)len - 1 : w;
	}
	return n->show(n, buf, len, e);
}

void cx_sysfs_on_write(struct cx_sysfs_node *n, cx_sysfs_store_fn store,
		       void *obj, long arg)
{
	n->store = store;
	n->obj = obj;
	n->arg = arg;
}

void cx_sysfs_value(const char *buf, char *out, size_t len)
{
	snprintf(out, len, "%s", buf);
	size_t l = strlen(out);
	if (l && out[l - 1] == '\n')
		out[l - 1] = 0;
}

int cx_sysfs_write(struct cx_sysfs_node *n, const char *buf, size_t len,
		   cx_err *e)
{
	char path[CX_SYSFS_PATH_MAX];
	cx_sysfs_path(n, path, sizeof(path));
	if (n->type == CX_SYSFS_DIR)
		return cx_fail(e, EISDIR, "%s is a directory", path);
	if (n->type == CX_SYSFS_ATTR && n->bin_store && (n->mode & 0222))
		return n->bin_store(n, (const uint8_t *)buf, len, 0, e);
	if (n->type != CX_SYSFS_ATTR || !n->store || !(n->mode & 0222))
		return cx_fail(e, EACCES, "%s is read-only", path);
	return n->store(n, buf, len, e);
}

void cx_sysfs_on_write_bin(struct cx_sysfs_node *n, cx_sysfs_bin_store_fn store,
			   void *obj)
{
	n->bin_store = store;
	n->obj = obj;
}

int cx_sysfs_write_at(struct cx_sysfs_node *n, const uint8_t *buf,
		      size_t len, uint64_t off, cx_err *e)
{
	char path[CX_SYSFS_PATH_MAX];
	if (n->type == CX_SYSFS_ATTR && n->bin_store && (n->mode & 0222))
		return n->bin_store(n, buf, len, off, e);
	/* a text attribute: each write is one store, wherever the file
	 * position is (kernfs passes it; the stores ignore it) */
	cx_sysfs_path(n, path, sizeof(path));
	if (len >= CX_SYSFS_ATTR_MAX)
		return cx_fail(e, EINVAL, "%s: %zu bytes is more than a sysfs "
			       "attribute takes (%d)", path, len,
			       CX_SYSFS_ATTR_MAX - 1);
	char text[CX_SYSFS_ATTR_MAX];
	if (len) /* a store of nothing may come with no buffer */
		memcpy(text, buf, len);
	text[len] = 0;
	return cx_sysfs_write(n, text, strlen(text), e);
}

void cx_sysfs_readlink(const struct cx_sysfs_node *n, char *buf, size_t len)
{
	/* Linux writes sysfs links relative: up from the link's directory
	 * to the common ancestor, then down to the target. */
	char from[CX_SYSFS_PATH_MAX];
	cx_sysfs_path(n->parent, from, sizeof(from));
	const char *to = n->target;
	size_t common = 0, i = 0;
	/* the longest common prefix ending at a component boundary */
	for (;; i++) {
		bool fe = !from[i] || from[i] == '/';
		bool te = !to[i] || to[i] == '/';
		if (fe && te)
			common = i;
		if (!from[i] || !to[i] || from[i] != to[i])
			break;
	}
	if (!strcmp(from, "/"))
		common = 0;
	size_t used = 0;
	buf[0] = 0;
	for (const char *p = from + common; *p; p++)
		if (*p == '/' && used + 3 < len) {
			memcpy(buf + used, "../", 3);
			used += 3;
		}
	const char *down = to + common;
	while (*down == '/')
		down++;
	snprintf(buf + used, len - used, "%s", down);
	size_t l = strlen(buf);
	if (l && buf[l - 1] == '/')
		buf[l - 1] = 0;
}

uint64_t cx_sysfs_ino(const struct cx_sysfs_node *n)
{
	char path[CX_SYSFS_PATH_MAX];
	cx_sysfs_path(n, path, sizeof(path));
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (const char *p = path; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

unsigned cx_sysfs_st_mode(const struct cx_sysfs_node *n)
{
	switch (n->type) {
	case CX_SYSFS_DIR:
		return 0040000 | n->mode;
	case CX_SYSFS_LINK:
		return 0120000 | n->mode;
	case CX_SYSFS_CHR:
		return 0020000 | n->mode;
	case CX_SYSFS_ATTR:
	default:
		return 0100000 | n->mode;
	}
}
