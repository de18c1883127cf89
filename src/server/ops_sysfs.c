/*
 * ops_sysfs.c - a host's sysfs view (sysfs/sysfs.h) over the socket, for
 * the preload library and anything else that serves sysfs paths to
 * programs:
 *
 *   sysfs-stat  {path, nofollow}  -> {type, mode, ino, size, path, major,
 *                                     minor (chr), link (links, nofollow)}
 *   sysfs-read  {path}            -> {data}: an attribute's text
 *   sysfs-list  {path}            -> {entries: [{name, type, ino}]}
 *   sysfs-write {path, data}      -> {}: what the attribute's store did
 *   sysfs-write {path, offset} + raw bytes -> {}: the same for bytes
 *                                    written at an offset (binary
 *                                    attributes: firmware/memN/data)
 *
 * The view is the fabric's state at that moment: it is rebuilt after any
 * request that changes the fabric, and device-only values render on read.  Errors carry the errno a kernel would give
 * (ENOENT, ENOTDIR, EISDIR, ELOOP, EACCES).
 */
#include "server.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sysfs/sysfs.h"

static const char *type_name(enum cx_sysfs_type t)
{
	switch (t) {
	case CX_SYSFS_DIR:
		return "dir";
	case CX_SYSFS_LINK:
		return "link";
	case CX_SYSFS_CHR:
		return "chr";
	case CX_SYSFS_ATTR:
	default:
		return "attr";
	}
}

/*
 * Views are kept per host until a request changes the fabric (the
 * server's generation moves on): `cxl list` makes hundreds of lookups,
 * and the view is the same for all of them.  Attributes that the device
 * alone knows are rendered when read, so they are never stale.
 */
struct cx_srv_sysfs_cache {
	int n;
	struct {
		struct cx_host *host;
		uint64_t gen;
		struct cx_sysfs *t;
	} v[];
};

void cx_srv_sysfs_cache_free(struct cx_srv_sysfs_cache *c)
{
	for (int i = 0; c && i < c->n; i++)
		cx_sysfs_free(c->v[i].t);
	free(c);
}

static struct cx_sysfs *view(struct cx_srv_call *c)
{
	struct cx_srv_sysfs_cache **slot = cx_server_sysfs_cache(c->server);
	uint64_t gen = cx_server_generation(c->server);
	struct cx_srv_sysfs_cache *cache = *slot;
	if (!cache) {
		int n = c->fabric->hosts.n;
		cache = cx_xcalloc(1, sizeof(*cache) +
				   (size_t)n * sizeof(cache->v[0]));
		cache->n = n;
		for (int i = 0; i < n; i++)
			cache->v[i].host = c->fabric->hosts.v[i];
		*slot = cache;
	}
	for (int i = 0; i < cache->n; i++) {
		if (cache->v[i].host != c->host)
			continue;
		if (!cache->v[i].t || cache->v[i].gen != gen) {
			cx_sysfs_free(cache->v[i].t);
			cache->v[i].t = cx_sysfs_build(c->host);
			cache->v[i].gen = gen;
		}
		return cache->v[i].t;
	}
	return NULL;
}

/* Find the request's "path" in the host's view. */
static int find(struct cx_srv_call *c, bool nofollow, struct cx_sysfs **t,
		struct cx_sysfs_node **n, char *canon, size_t len, cx_err *e)
{
	const char *path;
	int rc = cx_proto_get_str(c->req, "path", true, &path, e);
	if (rc)
		return rc;
	*t = view(c);
	if (!*t)
		return cx_fail(e, ENOENT, "host %s has no sysfs view",
			       c->host->name);
	return cx_sysfs_lookup(*t, path, nofollow, n, canon, len, e);
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

int cx_op_sysfs_stat(struct cx_srv_call *c, cx_err *e)
{
	bool nofollow = false;
	struct cx_sysfs *t;
	struct cx_sysfs_node *n;
	char canon[CX_SYSFS_PATH_MAX];
	int rc = cx_proto_get_bool(c->req, "nofollow", false, &nofollow, e);
	if (rc || (rc = find(c, nofollow, &t, &n, canon, sizeof(canon), e)))
		return rc;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "type", json_object_new_string(
		type_name(n->type)));
	add_u64(r, "mode", cx_sysfs_st_mode(n));
	add_u64(r, "ino", cx_sysfs_ino(n));
	json_object_object_add(r, "path", json_object_new_string(canon));
	uint64_t size = 0;
	if (n->type == CX_SYSFS_ATTR)
		size = CX_SYSFS_ATTR_MAX;  /* what sysfs reports */
	if (n->type == CX_SYSFS_LINK) {
		char target[CX_SYSFS_PATH_MAX];
		cx_sysfs_readlink(n, target, sizeof(target));
		json_object_object_add(r, "link",
				       json_object_new_string(target));
		size = strlen(target);
	}
	if (n->type == CX_SYSFS_CHR) {
		add_u64(r, "major", n->major);
		add_u64(r, "minor", n->minor);
	}
	add_u64(r, "size", size);
	c->result = r;
	return 0;
}

int cx_op_sysfs_read(struct cx_srv_call *c, cx_err *e)
{
	struct cx_sysfs *t;
	struct cx_sysfs_node *n;
	int rc = find(c, false, &t, &n, NULL, 0, e);
	if (rc)
		return rc;
	char buf[CX_SYSFS_ATTR_MAX];
	int len = cx_sysfs_read(n, buf, sizeof(buf), e);
	if (len < 0)
		return len;
	c->result = json_object_new_object();
	json_object_object_add(c->result, "data",
			       json_object_new_string_len(buf, len));
	return 0;
}

/* "port10" after "port9": digits compare as numbers */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			char *ea, *eb;
			unsigned long long x = strtoull(a, &ea, 10);
			unsigned long long y = strtoull(b, &eb, 10);
			if (x != y)
				return x < y ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int by_name_desc(const void *x, const void *y)
{
	const struct cx_sysfs_node *a = *(struct cx_sysfs_node *const *)x;
	const struct cx_sysfs_node *b = *(struct cx_sysfs_node *const *)y;
	return natural_cmp(b->name, a->name);
}

/*
 * Entries go out in descending natural order.  Linux's kernfs lists a
 * directory by name hash, an order no program may rely on; libcxl puts
 * each device it finds at the head of its lists, so with this order `cxl
 * list` prints port1 before port2 and mem0 before mem1, as `cxlemu list`
 * and the captured real outputs do.
 */
int cx_op_sysfs_list(struct cx_srv_call *c, cx_err *e)
{
	struct cx_sysfs *t;
	struct cx_sysfs_node *n;
	char canon[CX_SYSFS_PATH_MAX];
	int rc = find(c, false, &t, &n, canon, sizeof(canon), e);
	if (rc)
		return rc;
	if (n->type != CX_SYSFS_DIR) {
			return cx_fail(e, ENOTDIR, "%s is not a directory", canon);
	}
	struct json_object *a = json_object_new_array();
	qsort(n->children.v, (size_t)n->children.n, sizeof(*n->children.v),
	      by_name_desc);
	for (int i = 0; i < n->children.n; i++) {
		struct cx_sysfs_node *k = n->children.v[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(k->name));
		json_object_object_add(o, "type", json_object_new_string(
			type_name(k->type)));
		add_u64(o, "ino", cx_sysfs_ino(k));
		json_object_array_add(a, o);
	}
	c->result = json_object_new_object();
	json_object_object_add(c->result, "entries", a);
	return 0;
}

int cx_op_sysfs_write(struct cx_srv_call *c, cx_err *e)
{
	struct cx_sysfs *t;
	struct cx_sysfs_node *n;
	const char *data = NULL;
	uint64_t off = 0;
	int rc = cx_proto_get_str(c->req, "data", false, &data, e);
	if (rc || (!data && (rc = cx_proto_get_u64(c->req, "offset", false,
						   &off, e))))
		return rc;
	if ((rc = find(c, false, &t, &n, NULL, 0, e)))
		return rc;
	/* destructive stores wait for an earlier daemon's mappers */
	if (cx_sysfs_destroys(n) && (rc = cx_srv_stale_check(c, n->name, e)))
		return rc;
	/* text in "data", or the frame's bytes at "offset" */
	rc = data ? cx_sysfs_write_at(n, (const uint8_t *)data, strlen(data),
				      0, e)
		  : cx_sysfs_write_at(n, c->data, c->data_len, off, e);
	if (rc < 0)
		return rc;
	c->result = json_object_new_object();
	return 0;
}
