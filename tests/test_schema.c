/*
 * test_schema.c - the request schema (proto/ops.def, proto/schema.h)
 * walked row by row: for every op, a key it does not take, a required
 * key missing and a value of the wrong type are refused, by the check
 * itself and by the daemon (which then leaves the fabric as it was); the
 * client library refuses them before sending; and the client's calls,
 * with every option they have, send only keys their rows hold.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/mbox_client.h"
#include "client/sysfs_client.h"
#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "cxlemu/dax.h"
#include "proto/proto.h"
#include "proto/schema.h"
#include "server/server.h"
#include "spec/mbox.h"
#include "daemon_fixture.h"

/* one host (host0): a volatile device under one window */
static const char topo[] =
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-ram,id=vm0,size=256M \\\n"
	"  -object memory-backend-ram,id=lsa0,size=256K \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-type3,bus=rp0,volatile-memdev=vm0,lsa=lsa0,"
	"id=cxl-vmem0 \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

/* A value of the key's type that would let the request act, so that a
 * refusal is the schema's and not the fabric's. */
static struct json_object *good_value(const struct cx_key *k)
{
	static const struct { const char *key, *val; } words[] = {
		{ "root", "decoder0.0" }, { "type", "ram" },
		{ "name", "all" }, { "region", "region0" },
		{ "device", "dax0.0" }, { "mode", "devdax" },
		{ "coherency", "coherent" }, { "memdev", "mem0" },
		{ "kind", "poison" }, { "action", "accept" },
		{ "path", "/sys/bus/cxl/devices" }, { "data", "0" },
	};
	struct json_object *a;

	switch (k->type) {
	case CX_KEY_STR:
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(words[i].key, k->name))
				return json_object_new_string(words[i].val);
		return json_object_new_string("");
	case CX_KEY_INT:
		return json_object_new_int(1);
	case CX_KEY_U64:
		return json_object_new_uint64(0);
	case CX_KEY_BOOL:
		return json_object_new_boolean(1);
	case CX_KEY_NAMES:
		a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("mem0"));
		return a;
	case CX_KEY_MAP:
		return json_object_new_object();
	}
	fail_msg("key %s has no type", k->name);
	return NULL;
}

/* A value of another JSON type than the key's. */
static struct json_object *bad_value(const struct cx_key *k)
{
	switch (k->type) {
	case CX_KEY_STR:
		return json_object_new_int(7);
	case CX_KEY_INT:
	case CX_KEY_U64:
		return json_object_new_string("7");
	case CX_KEY_BOOL:
		return json_object_new_string("yes");
	case CX_KEY_NAMES:
		return json_object_new_string("mem0");
	case CX_KEY_MAP:
		return json_object_new_array();
	}
	fail_msg("key %s has no type", k->name);
	return NULL;
}

/* {"op": NAME, every key of the row with a good value} but `skip`
 * left out, `bad` of the wrong type, and `extra` (not NULL) added. */
static struct json_object *request(const struct cx_op_schema *op,
				   const char *skip, const char *bad,
				   const char *extra)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "op", json_object_new_string(op->name));
	for (int i = 0; i < op->nkeys; i++) {
		const struct cx_key *k = &op->keys[i];
		if (skip && !strcmp(skip, k->name))
			continue;
		json_object_object_add(r, k->name, bad && !strcmp(bad, k->name)
				       ? bad_value(k) : good_value(k));
	}
	if (extra)
		json_object_object_add(r, extra, json_object_new_int(1));
	return r;
}

static void assert_has(const char *msg, const char *want, const char *op)
{
	if (!strstr(msg, want))
		fail_msg("%s: \"%s\" does not say \"%s\"", op, msg, want);
}

/* How a request is made not to fit its row, and who judges it: the check
 * alone, or a daemon (both consume the request). */
enum misfit { UNKNOWN_KEY, WRONG_TYPE, MISSING_KEY };
typedef int (*judge_fn)(void *ctx, const struct cx_op_schema *op,
			struct json_object *req, cx_err *e);

/* For every op (and with WRONG_TYPE every key, with MISSING_KEY every
 * required one) a request that does not fit: refused, -EINVAL, saying
 * why; a key it does not take named with the keys it does. */
static void walk(enum misfit how, judge_fn judge, void *ctx)
{
	char want[128];
	cx_err e;

	for (int i = 0; i < CX_OP_COUNT; i++) {
		const struct cx_op_schema *op = &cx_op_schemas[i];
		if (how == UNKNOWN_KEY) {
			assert_int_equal(judge(ctx, op, request(op, NULL, NULL,
								"grain"), &e),
					 -EINVAL);
			snprintf(want, sizeof(want), "op \"%s\" has no key "
				 "\"grain\"; it takes ", op->name);
			assert_has(e.msg, want, op->name);
			for (int j = 0; j < op->nkeys; j++)
				assert_has(e.msg, op->keys[j].name, op->name);
			if (!op->nkeys)
				assert_has(e.msg, "it takes none", op->name);
			continue;
		}
		for (int j = 0; j < op->nkeys; j++) {
			const struct cx_key *k = &op->keys[j];
			if (how == MISSING_KEY && !k->required)
				continue;
			bool wrong = how == WRONG_TYPE;
			struct json_object *r = request(op, wrong ? NULL :
							k->name, wrong ?
							k->name : NULL, NULL);
			assert_int_equal(judge(ctx, op, r, &e), -EINVAL);
			snprintf(want, sizeof(want), wrong ? "field \"%s\" must "
				 "be " : "request lacks the field \"%s\"",
				 k->name);
			assert_has(e.msg, want, op->name);
		}
	}
}

static int by_check(void *ctx, const struct cx_op_schema *op,
		    struct json_object *req, cx_err *e)
{
	(void)ctx;
	int rc = cx_schema_check(op, req, e);
	json_object_put(req);
	return rc;
}

/* ---- the check itself ---- */

static void test_rows(void **state)
{
	(void)state;
	assert_true(CX_OP_COUNT > 0);
	for (int i = 0; i < CX_OP_COUNT; i++) {
		const struct cx_op_schema *op = &cx_op_schemas[i];
		assert_ptr_equal(cx_schema_op(op->name), op);
		/* no key twice, none that is the envelope's */
		for (int j = 0; j < op->nkeys; j++) {
			assert_false(cx_schema_envelope_key(op->keys[j].name));
			assert_ptr_equal(cx_schema_key(op, op->keys[j].name),
					 &op->keys[j]);
		}
	}
	/* the daemon binds every row, in order, and nothing else */
	int n = 0;
	for (const struct cx_op *op = cx_server_ops; op->name; op++, n++) {
		assert_ptr_equal(op->schema, &cx_op_schemas[n]);
		assert_string_equal(op->name, op->schema->name);
		assert_int_equal(op->flags, op->schema->flags);
		assert_non_null(op->fn);
	}
	assert_int_equal(n, CX_OP_COUNT);
	assert_null(cx_schema_op("no-such-op"));
}

static void test_check(void **state)
{
	cx_err e;

	(void)state;
	for (int i = 0; i < CX_OP_COUNT; i++) {
		const struct cx_op_schema *op = &cx_op_schemas[i];
		struct json_object *r = request(op, NULL, NULL, NULL);
		/* the whole row, and the envelope, pass: the host, and
		 * whatever cx_proto_mark() puts on a message for what
		 * follows it (a raw frame, descriptors) */
		json_object_object_add(r, "host", json_object_new_string("h"));
		cx_proto_mark(r, 4, 1);
		if (cx_schema_check(op, r, &e))
			fail_msg("%s: a good request is refused: %s", op->name,
				 e.msg);
		json_object_put(r);
		/* an optional key may be missing, or null */
		for (int j = 0; j < op->nkeys; j++) {
			const struct cx_key *k = &op->keys[j];
			if (k->required)
				continue;
			r = request(op, k->name, NULL, NULL);
			assert_int_equal(cx_schema_check(op, r, &e), 0);
			json_object_object_add(r, k->name, NULL);
			assert_int_equal(cx_schema_check(op, r, &e), 0);
			json_object_put(r);
		}
	}
	walk(UNKNOWN_KEY, by_check, NULL);
	walk(WRONG_TYPE, by_check, NULL);
	walk(MISSING_KEY, by_check, NULL);
	/* what each type is and is not */
	const struct cx_op_schema *op = cx_schema_op("create-region");
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "root", json_object_new_string("decoder0.0"));
	json_object_object_add(r, "ways", json_object_new_int64(1LL << 40));
	assert_int_equal(cx_schema_check(op, r, &e), -ERANGE);
	json_object_object_add(r, "ways", json_object_new_int(-2));
	json_object_object_add(r, "size", json_object_new_int(-1));
	assert_int_equal(cx_schema_check(op, r, &e), -EINVAL);
	assert_has(e.msg, "field \"size\" must be a non-negative integer, not "
		   "-1", "size");
	json_object_object_del(r, "size");
	struct json_object *m = json_object_new_array();
	json_object_array_add(m, json_object_new_string("mem0"));
	json_object_array_add(m, json_object_new_int(1));
	json_object_object_add(r, "memdevs", m);
	assert_int_equal(cx_schema_check(op, r, &e), -EINVAL);
	assert_has(e.msg, "field \"memdevs\" must be an array of strings, but "
		   "its element 1 is int", "memdevs");
	json_object_put(r);
}

/* ---- the daemon ---- */

struct fx {
	struct fx_daemon d;
	struct cxlemu *c;     /* the administrative socket, as host0 */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cxlemu_err err;
	static const char *const mems[] = { "mem0" };
	struct cxlemu_region_req rq = {
		.root = "decoder0.0", .memdevs = mems, .nmemdevs = 1,
	};

	assert_non_null(f);
	f->c = fx_daemon_open(&f->d, "schema", topo, true);
	/* something to lose: region0 */
	if (cxlemu_create_region(f->c, &rq, NULL, &err))
		fail_msg("create-region: %s", err.msg);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	fx_daemon_finish(&f->d, f->c, f);
	return 0;
}

/* Send `req` (consumed) as it is, past the client's check; the reply's
 * negative errno (0 when ok) and its message. */
static int raw_call(struct fx *f, struct json_object *req, cx_err *msg)
{
	struct cx_proto_msg m;
	struct json_object *res;
	cx_err e;
	int fd;

	assert_int_equal(cx_proto_connect(f->d.sock, &fd, &e), 0);
	assert_int_equal(cx_proto_send_msg(fd, req, NULL, 0, NULL, 0, &e), 0);
	json_object_put(req);
	assert_int_equal(cx_proto_recv_msg(fd, &m, &e), 0);
	int rc = cx_proto_reply_result(m.json, &res, msg);
	cx_proto_msg_release(&m);
	close(fd);
	return rc;
}

static int by_daemon(void *ctx, const struct cx_op_schema *op,
		     struct json_object *req, cx_err *e)
{
	(void)op;
	return raw_call(ctx, req, e);
}

/* The fabric is as fx_setup left it: serving, region0 alone. */
static void assert_untouched(struct fx *f)
{
	struct cxlemu_err err;
	struct json_object *opts = json_object_new_object(), *l = NULL;
	uint8_t buf[8];

	json_object_object_add(opts, "regions", json_object_new_boolean(1));
	if (cxlemu_list(f->c, opts, &l, &err))
		fail_msg("list: %s", err.msg);
	const char *text = json_object_to_json_string(l);
	if (json_object_array_length(l) != 1 || !strstr(text, "region0"))
		fail_msg("the fabric changed: %s", text);
	json_object_put(l);
	assert_int_equal(cxlemu_read(f->c, "region0", 0, buf, sizeof(buf),
				     &err), 0);
}

static void test_daemon_unknown_key(void **state)
{
	walk(UNKNOWN_KEY, by_daemon, *state);
	assert_untouched(*state);
}

static void test_daemon_wrong_type(void **state)
{
	walk(WRONG_TYPE, by_daemon, *state);
	assert_untouched(*state);
}

static void test_daemon_missing(void **state)
{
	walk(MISSING_KEY, by_daemon, *state);
	assert_untouched(*state);
}

/* ---- the client ---- */

/* cxlemu_call holds what it sends to the row: refused before sending,
 * and said so. */
static void test_client_refuses(void **state)
{
	struct fx *f = *state;
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "regoin", json_object_new_string("region0"));
	json_object_object_add(a, "offset", json_object_new_int(0));
	assert_int_equal(cxlemu_call(f->c, "translate", a, NULL, 0, &rep,
				     &err), -EINVAL);
	assert_has(err.msg, "request not sent: op \"translate\" has no key "
		   "\"regoin\"; it takes region, offset, human", "translate");
	a = json_object_new_object();
	json_object_object_add(a, "region", json_object_new_int(0));
	json_object_object_add(a, "offset", json_object_new_int(0));
	assert_int_equal(cxlemu_call(f->c, "translate", a, NULL, 0, &rep,
				     &err), -EINVAL);
	assert_has(err.msg, "request not sent: field \"region\" must be a "
		   "string, not int", "translate");
	/* an op it does not know goes out: the daemon names the ones it
	 * knows */
	assert_int_equal(cxlemu_call(f->c, "no-such-op", NULL, NULL, 0, &rep,
				     &err), -EOPNOTSUPP);
	assert_has(err.msg, "unknown op 'no-such-op'", "no-such-op");
	assert_untouched(f);
}

/* The client's calls, each with every option it has, are taken: no key
 * outside their rows (the daemon would refuse it). */
static void test_client_calls(void **state)
{
	struct fx *f = *state;
	struct cxlemu_err err;
	struct json_object *o = NULL;
	static const char *const mems[] = { "mem0" };
	struct cxlemu_region_req rq = {
		.root = "decoder0.0", .type = "ram", .ways = 1,
		.granularity = 256, .size = 256ULL << 20, .memdevs = mems,
		.nmemdevs = 1, .human = true,
	};
	uint8_t buf[64], out[256];
	size_t n = sizeof(out);
	uint16_t rc16;
	int k;

	memset(buf, 0x5a, sizeof(buf));
#define OK(call)                                                          \
	do {                                                              \
		if ((call))                                               \
			fail_msg("%s: %s", #call, err.msg);               \
	} while (0)
	/* taken: whatever the fabric then says, not a refusal of the request
	 * (the client's, "request not sent", or the daemon's) */
#define TAKEN(call)                                                       \
	do {                                                              \
		if ((call) && (strstr(err.msg, "request not sent") ||     \
			       strstr(err.msg, "has no key") ||           \
			       strstr(err.msg, "lacks the field") ||      \
			       strstr(err.msg, "must be")))               \
			fail_msg("%s: %s", #call, err.msg);               \
	} while (0)
	OK(cxlemu_destroy_region(f->c, "region0", true, &k, &err));
	OK(cxlemu_create_region(f->c, &rq, &o, &err)); /* region1 */
	json_object_put(o);
	OK(cxlemu_translate(f->c, "region1", 64, true, &o, &err));
	json_object_put(o);
	OK(cxlemu_write(f->c, "region1", 0, buf, sizeof(buf), &err));
	OK(cxlemu_read(f->c, "region1", 0, buf, sizeof(buf), &err));
	struct json_object *opts = json_object_new_object();
	json_object_object_add(opts, "human", json_object_new_boolean(1));
	OK(cxlemu_list(f->c, opts, &o, &err));
	json_object_put(o);
	struct cx_sysfs_cstat st;
	struct cx_sysfs_centry *ents = NULL;
	char *data = NULL;
	size_t len;
	int nents;
	OK(cx_sysfs_cstat(f->c, "/sys/bus/cxl/devices/mem0", true, &st,
			  &err));
	OK(cx_sysfs_clist(f->c, "/sys/bus/cxl/devices", &ents, &nents,
			  &err));
	free(ents);
	OK(cx_sysfs_cread(f->c, "/sys/bus/cxl/devices/mem0/serial", &data,
			  &len, &err));
	free(data);
	TAKEN(cx_sysfs_cwrite(f->c, "/sys/bus/cxl/devices/decoder0.0/"
			      "delete_region", "region9", &err));
	TAKEN(cx_sysfs_cwrite_at(f->c, "/sys/bus/cxl/devices/decoder0.0/"
				 "delete_region", "region9", 7, 0, &err));
	OK(cx_mbox_ccall(f->c, "mem0", CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &n,
			 &rc16, &err));
	struct cxlemu_dax *d = NULL;
	TAKEN(cxlemu_dax_open(f->c, "dax1.0", &d, &err));
	if (d)
		cxlemu_dax_close(d);
	OK(cxlemu_destroy_region(f->c, "all", true, &k, &err));
#undef OK
#undef TAKEN
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_check),
		cmocka_unit_test_setup_teardown(test_daemon_unknown_key,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_wrong_type,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_missing,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_calls,
						fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
