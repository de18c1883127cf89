/*
 * ops_sysfs.c - a host's sysfs view (sysfs/sysfs.h) over the socket, for
 * the preload library and anything else that serves sysfs paths to
 * programs:
 *
 *   sysfs-stat  {path, nofollow}  -> {type, mode, ino, size, path, major,
 *                                     minor (chr), link (links, nofollow)}
 *   sysfs-read  {path}            -> {data}: an attribute's text
 *   sysfs-list  {path}            -> {entries: [{name, type, ino}]}
 *
 * The tree is built for each request, so every answer is the fabric's
 * state at that moment.  Errors carry the errno a kernel would give
 * (ENOENT, ENOTDIR, EISDIR, ELOOP, EACCES).
 */
#include "server.h"

#include <errno.h>
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

/* Build the view and find the request's "path". */
static int find(struct cx_srv_call *c, bool nofollow, struct cx_sysfs **t,
		struct cx_sysfs_node **n, char *canon, size_t len, cx_err *e)
{
	const char *path;
	int rc = cx_proto_get_str(c->req, "path", true, &path, e);
	if (rc)
		return rc;
	*t = cx_sysfs_build(c->host);
	rc = cx_sysfs_lookup(*t, path, nofollow, n, canon, len, e);
	if (rc) {
		cx_sysfs_free(*t);
		*t = NULL;
	}
	return rc;
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
	cx_sysfs_free(t);
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
	cx_sysfs_free(t);
	if (len < 0)
		return len;
	c->result = json_object_new_object();
	json_object_object_add(c->result, "data",
			       json_object_new_string_len(buf, len));
	return 0;
}

int cx_op_sysfs_list(struct cx_srv_call *c, cx_err *e)
{
	struct cx_sysfs *t;
	struct cx_sysfs_node *n;
	char canon[CX_SYSFS_PATH_MAX];
	int rc = find(c, false, &t, &n, canon, sizeof(canon), e);
	if (rc)
		return rc;
	if (n->type != CX_SYSFS_DIR) {
		cx_sysfs_free(t);
		return cx_fail(e, ENOTDIR, "%s is not a directory", canon);
	}
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < n->children.n; i++) {
		struct cx_sysfs_node *k = n->children.v[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(k->name));
		json_object_object_add(o, "type", json_object_new_string(
			type_name(k->type)));
		add_u64(o, "ino", cx_sysfs_ino(k));
		json_object_array_add(a, o);
	}
	cx_sysfs_free(t);
	c->result = json_object_new_object();
	json_object_object_add(c->result, "entries", a);
	return 0;
}
