/*
 * ops.c - the table of requests the daemon answers, and the ones about the
 * daemon itself: hello (who am I talking to), list (`cxl list`) and stop.
 *
 * The ops are the rows of proto/ops.def, each bound here to its handler
 * cx_op_<ident>.  To add an op: its row there (name, flags, keys), its
 * handler in an ops_*.c file; nothing else lists it.  A handler runs
 * once the request has passed its row (cx_server_run_op): the keys it
 * reads are of their types, required ones are there, no others are.
 * Handlers never print; they return 0 with c->result set, or a negative
 * errno with *e saying what was wrong.
 */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cxlemu/cxlemu.h"
#include "listing/json.h"

#define CX_OP(id, name, flags, keys) \
	{ name, cx_op_##id, flags, &cx_op_schemas[CX_OPI_##id] },
const struct cx_op cx_server_ops[] = {
#include "proto/ops.def"
	{ NULL, NULL, 0, NULL },
};
#undef CX_OP

const struct cx_op *cx_server_find_op(const char *name)
{
	for (const struct cx_op *op = cx_server_ops; op->name; op++)
		if (!strcmp(op->name, name))
			return op;
	return NULL;
}

int cx_server_run_op(const struct cx_op *op, struct cx_srv_call *c,
		     cx_err *e)
{
	int rc = cx_schema_check(op->schema, c->req, e);
	return rc ? rc : op->fn(c, e);
}

int cx_op_hello(struct cx_srv_call *c, cx_err *e)
{
	struct json_object *r = json_object_new_object();
	struct json_object *hosts = json_object_new_array();

	/* a host's socket shows that host only */
	for (int i = 0; i < c->fabric->hosts.n; i++) {
		struct cx_host *h = c->fabric->hosts.v[i];
		if (c->admin || h == c->host)
			json_object_array_add(hosts,
					      json_object_new_string(h->name));
	}
	json_object_object_add(r, "version",
			       json_object_new_string(CXLEMU_VERSION));
	json_object_object_add(r, "protocol",
			       json_object_new_int(CX_PROTO_VERSION));
	json_object_object_add(r, "topology",
			       json_object_new_string(c->fabric->source));
	json_object_object_add(r, "host", json_object_new_string(c->host->name));
	json_object_object_add(r, "socket", json_object_new_string(
		c->admin ? "admin" : "host"));
	json_object_object_add(r, "hosts", hosts);
	c->result = r;
	return 0;
}

int cx_op_list(struct cx_srv_call *c, cx_err *e)
{
	struct cx_list_opts o;
	struct json_object *jo = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	if (json_object_object_get_ex(c->req, "opts", &jo) && jo &&
	    (rc = cx_list_opts_from_json(jo, &o, e)))
		return rc;
	cx_list_opts_defaults(&o);
	c->result = cx_json_list(c->host, &o, e);
	if (!c->result)
		return cx_fail(e, EINVAL, "%s", e->msg[0] ? e->msg :
			       "cannot list the fabric");
	return 0;
}

int cx_op_stop(struct cx_srv_call *c, cx_err *e)
{
	c->stop = true;
	c->result = json_object_new_object();
	json_object_object_add(c->result, "stopping",
			       json_object_new_boolean(1));
	return 0;
}

/* ---- helpers shared by handlers ---- */

void cx_srv_names_add(struct cx_srv_names *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->used && l->used < sizeof(l->buf)) {
		n = snprintf(l->buf + l->used, sizeof(l->buf) - l->used, ", ");
		if (n > 0)
			l->used += (size_t)n;
	}
	if (l->used >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->used, sizeof(l->buf) - l->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->used += (size_t)n;
}

int cx_srv_region(struct cx_srv_call *c, const char *key,
		  struct cx_region **out, cx_err *e)
{
	const char *name = NULL;
	struct cx_srv_names list = { .used = 0 };
	int rc;

	if ((rc = cx_proto_get_str(c->req, key, true, &name, e)))
		return rc;
	*out = cx_region_find(c->host, name);
	if (*out)
		return 0;
	for (int i = 0; i < c->host->regions.n; i++) {
		struct cx_region *r = c->host->regions.v[i];
		cx_srv_names_add(&list, "region%d", r->id);
	}
	return cx_fail(e, ENOENT, "host %s has no region '%s' (%s%s)",
		       c->host->name, name,
		       c->host->regions.n ? "regions: " : "it has no regions",
		       list.buf);
}

int cx_srv_check_range(struct cx_region *r, uint64_t off, uint64_t len,
		       cx_err *e)
{
	char sz[64];

	if (off < r->size && len <= r->size - off)
		return 0;
	cx_fmt_size(sz, sizeof(sz), r->size);
	if (len <= 1 || off >= r->size)
		return cx_fail(e, ERANGE, "region%d: offset %#" PRIx64 " is "
			       "past the end of the region (its size is %#"
			       PRIx64 ", %s)", r->id, off, r->size, sz);
	return cx_fail(e, ERANGE, "region%d: %" PRIu64 " bytes at offset %#"
		       PRIx64 " run past the end of the region (its size is %#"
		       PRIx64 ", %s)", r->id, len, off, r->size, sz);
}
