/*
 * schema.c - the table proto/ops.def describes, and the check a request
 * passes against its row (schema.h).
 */
#include "schema.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"

#define CX_KEY_REQUIRED true
#define CX_KEY_OPTIONAL false
#define CX_KEY(name, type, req) { name, CX_KEY_##type, CX_KEY_##req },
#define CX_NO_KEYS

/* each op's keys, ended by a row with a NULL name */
#define CX_OP(id, name, flags, keys) \
	static const struct cx_key keys_##id[] = { keys { NULL, 0, false } };
#include "proto/ops.def"
#undef CX_OP

#define CX_OP(id, name, flags, keys)                                     \
	[CX_OPI_##id] = { name, flags, keys_##id,                        \
			  (int)(sizeof(keys_##id) / sizeof(keys_##id[0])) - 1 },
const struct cx_op_schema cx_op_schemas[CX_OP_COUNT] = {
#include "proto/ops.def"
};
#undef CX_OP

/* what every request may carry: the op, the host it acts as (the
 * administrative socket's choice), and the marks cx_proto_mark() puts on
 * any message for what follows it (a raw frame's length, descriptors) */
const char *const cx_envelope_keys[] = { "op", "host", "data_len", "nfds",
					 NULL };

const struct cx_op_schema *cx_schema_op(const char *name)
{
	for (int i = 0; name && i < CX_OP_COUNT; i++)
		if (!strcmp(cx_op_schemas[i].name, name))
			return &cx_op_schemas[i];
	return NULL;
}

const struct cx_key *cx_schema_key(const struct cx_op_schema *op,
				   const char *name)
{
	for (int i = 0; i < op->nkeys; i++)
		if (!strcmp(op->keys[i].name, name))
			return &op->keys[i];
	return NULL;
}

bool cx_schema_envelope_key(const char *name)
{
	for (int i = 0; cx_envelope_keys[i]; i++)
		if (!strcmp(cx_envelope_keys[i], name))
			return true;
	return false;
}

static int unknown_key(const struct cx_op_schema *op, const char *key,
		       cx_err *e)
{
	char list[512];
	size_t used = 0;

	list[0] = 0;
	for (int i = 0; i < op->nkeys && used < sizeof(list); i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
				 i ? ", " : "", op->keys[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return cx_fail(e, EINVAL, "op \"%s\" has no key \"%s\"; it takes %s",
		       op->name, key, op->nkeys ? list : "none");
}

/* One key of the row: present when required, of its type. */
static int check_key(struct json_object *req, const struct cx_key *k,
		     cx_err *e)
{
	const char *s;
	uint64_t u;
	int i;
	bool b;
	struct json_object *v;
	int rc;

	switch (k->type) {
	case CX_KEY_STR:
		return cx_proto_get_str(req, k->name, k->required, &s, e);
	case CX_KEY_INT:
		return cx_proto_get_int(req, k->name, k->required, &i, e);
	case CX_KEY_U64:
		return cx_proto_get_u64(req, k->name, k->required, &u, e);
	case CX_KEY_BOOL:
		return cx_proto_get_bool(req, k->name, k->required, &b, e);
	case CX_KEY_MAP:
		return cx_proto_get_value(req, k->name, k->required,
					  json_type_object,
					  "an object of KEY: VALUE", &v, e);
	case CX_KEY_NAMES:
		rc = cx_proto_get_value(req, k->name, k->required,
					json_type_array, "an array of strings",
					&v, e);
		for (size_t j = 0; !rc && v && j < json_object_array_length(v);
		     j++) {
			struct json_object *x = json_object_array_get_idx(v, j);
			if (!json_object_is_type(x, json_type_string))
				rc = cx_fail(e, EINVAL, "field \"%s\" must be "
					     "an array of strings, but its "
					     "element %zu is %s", k->name, j,
					     json_type_to_name(
						     json_object_get_type(x)));
		}
		return rc;
	}
	return cx_fail(e, EINVAL, "op key \"%s\" has no type", k->name);
}

int cx_schema_check(const struct cx_op_schema *op, struct json_object *req,
		    cx_err *e)
{
	int rc;

	if (!json_object_is_type(req, json_type_object))
		return cx_fail(e, EINVAL, "a request is a JSON object");
	json_object_object_foreach(req, key, val) {
		(void)val;
		if (!cx_schema_envelope_key(key) && !cx_schema_key(op, key))
			return unknown_key(op, key, e);
	}
	for (int i = 0; i < op->nkeys; i++)
		if ((rc = check_key(req, &op->keys[i], e)))
			return rc;
	return 0;
}
