/*
 * schema.h - the request schema: every op the daemon answers, its flags
 * and the keys it takes, from the one table in proto/ops.def.
 *
 * A request is its envelope ("op", "host", and the marks "data_len" and
 * "nfds" of what follows it: any request may carry them) and the keys of its op's row.  cx_schema_check() is what
 * both ends hold a request to: the daemon before the op's handler runs
 * (so a handler's cx_proto_get_* of a key in its row cannot meet a
 * wrong type, and a key it does not read is refused, not ignored), the
 * client library before it sends one (so a misspelt key fails where it
 * was written).
 */
#ifndef CXLEMU_SCHEMA_H
#define CXLEMU_SCHEMA_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/util.h"

enum {
	CX_OP_CHANGES = 1,           /* changes the fabric: logged when done */
	CX_OP_ADMIN = 2,             /* a fabric-wide act: only on the
					administrative socket */
	CX_OP_STATE = 4,             /* may change regions or decoders: the
					grants and the state file follow */
	CX_OP_RECLAIM = 8,           /* may end dynamic capacity grants
					(not in the state file): blocks no
					grant covers are taken back */
};

enum cx_key_type {
	CX_KEY_STR,      /* a string */
	CX_KEY_INT,      /* an integer that fits an int */
	CX_KEY_U64,      /* a non-negative integer */
	CX_KEY_BOOL,     /* true or false */
	CX_KEY_NAMES,    /* an array of strings */
	CX_KEY_MAP,      /* an object of KEY: VALUE (its handler reads it) */
};

struct cx_key {
	const char *name;
	enum cx_key_type type;
	bool required;
};

struct cx_op_schema {
	const char *name;
	unsigned flags;              /* CX_OP_* */
	const struct cx_key *keys;   /* nkeys of them, in decoding order */
	int nkeys;
};

/* CX_OPI_<ident>: an op's index in cx_op_schemas. */
enum cx_op_index {
#define CX_OP(id, name, flags, keys) CX_OPI_##id,
#include "proto/ops.def"
#undef CX_OP
	CX_OP_COUNT
};

extern const struct cx_op_schema cx_op_schemas[CX_OP_COUNT];

/* The keys every request may carry, whatever its op (NULL-ended). */
extern const char *const cx_envelope_keys[];

/* The op called `name`, or NULL. */
const struct cx_op_schema *cx_schema_op(const char *name);
/* Its key called `name`, or NULL (envelope keys are not in the row). */
const struct cx_key *cx_schema_key(const struct cx_op_schema *op,
				   const char *name);
bool cx_schema_envelope_key(const char *name);
/* "a string", "a non-negative integer", ...: what a value of the type
 * is, as error messages say it. */
const char *cx_schema_type_name(enum cx_key_type t);

/*
 * Hold the request `req` (envelope and keys) to op's row: -EINVAL for a
 * key neither in the envelope nor in the row (naming the op, the key and
 * the keys it takes), for a required key missing, for a value of the
 * wrong type; -ERANGE for an INT out of range.  The messages of the last
 * three are cx_proto_get_*'s.  A key whose value is JSON null counts as
 * absent.
 */
int cx_schema_check(const struct cx_op_schema *op, struct json_object *req,
		    cx_err *e);

#endif
