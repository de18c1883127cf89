/*
 * sysfs_client.c - the sysfs-stat/read/list requests (sysfs_client.h).
 */
#include "client/sysfs_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static int bad_reply(struct cxlemu_err *err, const char *op)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg),
			 "the daemon's %s reply is malformed", op);
	return -EPROTO;
}

static struct json_object *path_args(const char *path)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "path", json_object_new_string(path));
	return a;
}

static enum cx_sysfs_ctype ctype(const char *s)
{
	if (!strcmp(s, "dir"))
		return CX_SC_DIR;
	if (!strcmp(s, "link"))
		return CX_SC_LINK;
	if (!strcmp(s, "chr"))
		return CX_SC_CHR;
	return CX_SC_ATTR;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static uint64_t get_u64(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_get_uint64(v);
}

int cx_sysfs_cstat(struct cxlemu *c, const char *path, bool nofollow,
		   struct cx_sysfs_cstat *st, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	struct json_object *a = path_args(path);
	if (nofollow)
		json_object_object_add(a, "nofollow",
				       json_object_new_boolean(true));
	int rc = cxlemu_call(c, "sysfs-stat", a, NULL, 0, &rep, err);
	if (rc)
		return rc;
	const char *type = get_str(rep.result, "type");
	const char *canon = get_str(rep.result, "path");
	const char *link = get_str(rep.result, "link");
	if (!type || !canon) {
		cxlemu_reply_release(&rep);
		return bad_reply(err, "sysfs-stat");
	}
	memset(st, 0, sizeof(*st));
	st->type = ctype(type);
	st->mode = (unsigned)get_u64(rep.result, "mode");
	st->ino = get_u64(rep.result, "ino");
	st->size = get_u64(rep.result, "size");
	st->major = (unsigned)get_u64(rep.result, "major");
	st->minor = (unsigned)get_u64(rep.result, "minor");
	snprintf(st->path, sizeof(st->path), "%s", canon);
	if (link)
		snprintf(st->link, sizeof(st->link), "%s", link);
	cxlemu_reply_release(&rep);
	return 0;
}

int cx_sysfs_cread(struct cxlemu *c, const char *path, char **data,
		   size_t *len, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	int rc = cxlemu_call(c, "sysfs-read", path_args(path), NULL, 0, &rep,
			     err);
	if (rc)
		return rc;
	struct json_object *v;
	if (!json_object_object_get_ex(rep.result, "data", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		cxlemu_reply_release(&rep);
		return bad_reply(err, "sysfs-read");
	}
	size_t l = (size_t)json_object_get_string_len(v);
	char *d = cx_xcalloc(1, l + 1);
	memcpy(d, json_object_get_string(v), l);
	*data = d;
	*len = l;
	cxlemu_reply_release(&rep);
	return 0;
}

int cx_sysfs_clist(struct cxlemu *c, const char *path,
		   struct cx_sysfs_centry **ents, int *n,
		   struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	int rc = cxlemu_call(c, "sysfs-list", path_args(path), NULL, 0, &rep,
			     err);
	if (rc)
		return rc;
	struct json_object *a;
	if (!json_object_object_get_ex(rep.result, "entries", &a) ||
	    !json_object_is_type(a, json_type_array)) {
		cxlemu_reply_release(&rep);
		return bad_reply(err, "sysfs-list");
	}
	int cnt = (int)json_object_array_length(a);
	struct cx_sysfs_centry *v = cx_xcalloc((size_t)cnt + 1, sizeof(*v));
	for (int i = 0; i < cnt; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		const char *name = get_str(o, "name");
		const char *type = get_str(o, "type");
		if (!name || !type) {
			free(v);
			cxlemu_reply_release(&rep);
			return bad_reply(err, "sysfs-list");
		}
		snprintf(v[i].name, sizeof(v[i].name), "%s", name);
		v[i].type = ctype(type);
		v[i].ino = get_u64(o, "ino");
	}
	*ents = v;
	*n = cnt;
	cxlemu_reply_release(&rep);
	return 0;
}

int cx_sysfs_cwrite_at(struct cxlemu *c, const char *path, const void *data,
		       size_t len, uint64_t off, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	struct json_object *a = path_args(path);
	json_object_object_add(a, "offset", json_object_new_uint64(off));
	int rc = cxlemu_call(c, "sysfs-write", a, data, len, &rep, err);
	if (rc)
		return rc;
	cxlemu_reply_release(&rep);
	return 0;
}

int cx_sysfs_cwrite(struct cxlemu *c, const char *path, const char *data,
		    struct cxlemu_err *err)
{
	return cx_sysfs_cwrite_at(c, path, data, strlen(data), 0, err);
}
