/*
 * test_mbox_server.c - device management through the daemon: the "mbox"
 * and "inject" ops driven through the client library against a forked
 * server (payloads as hex and as raw frames, JSON values of every type,
 * every refusal before anything is injected), and `cxl list -L` offsets
 * for an interleaved region checked against `translate`.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "server/server.h"
#include "spec/mbox.h"
#include "daemon_fixture.h"

/* two persistent devices with labels under one bridge, one 4 GiB window */
static const char topo[] =
	"-machine q35,cxl=on -m 1G\n"
	"-object memory-backend-ram,id=pm0,size=256M\n"
	"-object memory-backend-ram,id=pm1,size=256M\n"
	"-object memory-backend-ram,id=lsa0,size=128K\n"
	"-object memory-backend-ram,id=lsa1,size=128K\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1\n"
	"-device cxl-type3,bus=rp0,persistent-memdev=pm0,lsa=lsa0,id=dev0\n"
	"-device cxl-type3,bus=rp1,persistent-memdev=pm1,lsa=lsa1,id=dev1\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

struct srv {
	struct fx_daemon d;
	struct cxlemu *c;
};

static int srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->c = fx_daemon_open(&s->d, "mbsrv", topo, false);
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;

	fx_daemon_finish(&s->d, s->c, s);
	return 0;
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t *n)
{
	size_t len = strlen(hex);
	assert_int_equal(len % 2, 0);
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
}

/* A mailbox command; returns the device rc, output in out and *n. */
static int mbox(struct srv *s, const char *memdev, int opcode,
		const char *hex, const void *raw, size_t raw_len, uint8_t *out,
		size_t *n)
{
	struct json_object *a = json_object_new_object();
	struct cxlemu_reply rep;
	struct cxlemu_err err;

	json_object_object_add(a, "memdev", json_object_new_string(memdev));
	json_object_object_add(a, "opcode", json_object_new_int(opcode));
	if (hex)
		json_object_object_add(a, "payload",
				       json_object_new_string(hex));
	if (cxlemu_call(s->c, "mbox", a, raw, raw_len, &rep, &err))
		fail_msg("mbox %#x: %s", opcode, err.msg);
	int rc = json_object_get_int(jget(rep.result, "rc"));
	if (out) {
		hex_to_bytes(json_object_get_string(jget(rep.result,
							 "payload_out")),
			     out, n);
		assert_int_equal(json_object_get_int(jget(rep.result,
							  "out_len")), *n);
	}
	cxlemu_reply_release(&rep);
	return rc;
}

/* A call that must fail: its errno, the message in err. */
static int call_err(struct srv *s, const char *op, struct json_object *a,
		    const void *raw, size_t raw_len, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	int rc = cxlemu_call(s->c, op, a, raw, raw_len, &rep, err);
	if (rc == 0) {
		cxlemu_reply_release(&rep);
		fail_msg("%s succeeded", op);
	}
	return rc;
}

static void test_mbox_payloads(void **state)
{
	struct srv *s = *state;
	uint8_t out[CX_MBOX_PAYLOAD_MAX], in[CX_SLSA_HDR_LEN + 300];
	size_t n = 0;

	/* Set LSA with its payload as a raw frame, Get LSA in hex */
	memset(in, 0, sizeof(in));
	cx_wr_le32(in + CX_SLSA_OFFSET, 1000);
	for (int i = 0; i < 300; i++)
		in[CX_SLSA_DATA + i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(mbox(s, "mem1", CX_OP_SET_LSA, NULL, in, sizeof(in),
			      NULL, NULL), CX_RC_SUCCESS);
	/* offset 1000 = e8 03 00 00, length 300 = 2c 01 00 00 */
	assert_int_equal(mbox(s, "dev1", CX_OP_GET_LSA, "e8030000 2c010000",
			      NULL, 0, out, &n), CX_RC_SUCCESS);
	assert_int_equal(n, 300);
	assert_memory_equal(out, in + CX_SLSA_DATA, 300);
	/* the other device's labels are untouched */
	assert_int_equal(mbox(s, "mem0", CX_OP_GET_LSA, "e8030000 2c010000",
			      NULL, 0, out, &n), CX_RC_SUCCESS);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], 0);

	/* more than a payload register holds is the device's refusal */
	static uint8_t big[CX_MBOX_PAYLOAD_MAX + 1];
	assert_int_equal(mbox(s, "mem0", CX_OP_SET_LSA, NULL, big, sizeof(big),
			      out, &n), CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(n, 0);
	assert_int_equal(mbox(s, "mem0", 0xabcd, NULL, NULL, 0, out, &n),
			 CX_RC_UNSUPPORTED);

	/* refusals before the mailbox: errors, not return codes */
	struct cxlemu_err err;
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string("mem0"));
	json_object_object_add(a, "opcode", json_object_new_int(0x14000));
	assert_int_equal(call_err(s, "mbox", a, NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "16 bits"));
	a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string("mem0"));
	json_object_object_add(a, "opcode", json_object_new_int(0x4102));
	json_object_object_add(a, "payload", json_object_new_string("00"));
	assert_int_equal(call_err(s, "mbox", a, "x", 1, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not both"));
	a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string("mem0"));
	json_object_object_add(a, "opcode", json_object_new_int(0x4000));
	json_object_object_add(a, "payload", json_object_new_string("0q"));
	assert_int_equal(call_err(s, "mbox", a, NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'q'"));
	a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string("mem7"));
	json_object_object_add(a, "opcode", json_object_new_int(0x4000));
	assert_int_equal(call_err(s, "mbox", a, NULL, 0, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "mem0 (dev0), mem1 (dev1)"));
	a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string("mem0"));
	assert_int_equal(call_err(s, "mbox", a, NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "opcode"));
}

static struct json_object *inject_args(const char *memdev, const char *kind,
				       struct json_object *params)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string(memdev));
	json_object_object_add(a, "kind", json_object_new_string(kind));
	if (params)
		json_object_object_add(a, "params", params);
	return a;
}

static int records_in_log(struct srv *s, const char *memdev, int log,
			  uint8_t *out)
{
	char hex[4];
	size_t n = 0;
	snprintf(hex, sizeof(hex), "%02x", log);
	assert_int_equal(mbox(s, memdev, CX_OP_GET_EVENT_RECORDS, hex, NULL, 0,
			      out, &n), CX_RC_SUCCESS);
	return cx_rd_le16(out + CX_GER_RECORD_COUNT);
}

static void test_inject_values(void **state)
{
	struct srv *s = *state;
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n;

	/* JSON numbers, a log by number, a correction mask as an array */
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "dpa", json_object_new_int64(0x12340));
	json_object_object_add(p, "log", json_object_new_int(2));
	json_object_object_add(p, "bank", json_object_new_int(5));
	json_object_object_add(p, "nibble-mask",
			       json_object_new_string("0xabcdef"));
	struct json_object *cm = json_object_new_array();
	json_object_array_add(cm, json_object_new_int64(0x1111));
	json_object_array_add(cm, json_object_new_int64(0x2222));
	json_object_array_add(cm, json_object_new_int64(0x3333));
	json_object_object_add(p, "correction-mask", cm);
	assert_int_equal(cxlemu_call(s->c, "inject",
				     inject_args("mem0", "dram", p), NULL, 0,
				     &rep, &err), 0);
	assert_int_equal(json_object_get_int64(jget(rep.result, "dpa")),
			 0x12340);
	cxlemu_reply_release(&rep);
	assert_int_equal(records_in_log(s, "mem0", CX_EVLOG_FAIL, out), 1);
	const uint8_t *r = out + CX_GER_RECORDS;
	assert_memory_equal(r + CX_EVR_UUID, cx_event_uuid_dram, 16);
	assert_int_equal(cx_rd_le64(r + CX_MEV_DPA), 0x12340);
	assert_int_equal(r[CX_DRAM_BANK], 5);
	assert_int_equal(cx_rd_le24(r + CX_DRAM_NIBBLE_MASK), 0xabcdef);
	assert_int_equal(cx_rd_le64(r + CX_DRAM_CORRECTION + 16), 0x3333);
	assert_int_equal(cx_rd_le64(r + CX_DRAM_CORRECTION + 24), 0);
	uint16_t valid = cx_rd_le16(r + CX_MEV_VALIDITY);
	assert_true(valid & CX_DRAM_VALID_BANK);
	assert_true(valid & CX_DRAM_VALID_NIBBLE);
	assert_true(valid & CX_DRAM_VALID_CORRECTION);
	assert_false(valid & CX_DRAM_VALID_ROW);
	assert_false(valid & CX_MEV_VALID_CHANNEL);
	assert_int_equal(records_in_log(s, "mem1", CX_EVLOG_FAIL, out), 0);

	/* health: a negative JSON temperature; the rest keeps its value */
	p = json_object_new_object();
	json_object_object_add(p, "temperature", json_object_new_int(-12));
	json_object_object_add(p, "life-used", json_object_new_string("33"));
	assert_int_equal(cxlemu_call(s->c, "inject",
				     inject_args("mem1", "health", p), NULL, 0,
				     &rep, &err), 0);
	cxlemu_reply_release(&rep);
	assert_int_equal(mbox(s, "mem1", CX_OP_GET_HEALTH_INFO, NULL, NULL, 0,
			      out, &n), CX_RC_SUCCESS);
	assert_int_equal((int16_t)cx_rd_le16(out + CX_HI_TEMPERATURE), -12);
	assert_int_equal(out[CX_HI_LIFE_USED], 33);
	assert_int_equal(out[CX_HI_MEDIA_STATUS], 0);
	p = json_object_new_object();
	json_object_object_add(p, "media-status", json_object_new_int(1));
	assert_int_equal(cxlemu_call(s->c, "inject",
				     inject_args("mem1", "health", p), NULL, 0,
				     &rep, &err), 0);
	cxlemu_reply_release(&rep);
	assert_int_equal(mbox(s, "mem1", CX_OP_GET_HEALTH_INFO, NULL, NULL, 0,
			      out, &n), CX_RC_SUCCESS);
	assert_int_equal((int16_t)cx_rd_le16(out + CX_HI_TEMPERATURE), -12);
	assert_int_equal(out[CX_HI_MEDIA_STATUS], 1);

	/* refusals: each names its key; none injects anything */
	static const struct {
		const char *kind, *key;
		const char *sval;     /* string value, or NULL: */
		int type;             /* 0 bool, 1 array of 5, 2 int */
		int64_t ival;
		const char *needle;
	} bad[] = {
		{ "dram", "correction-mask", NULL, 1, 0, "at most 4" },
		{ "dram", "correction-mask", "1,2,x", 0, 0, "'x'" },
		{ "dram", "bank", NULL, 0, 0, "number or a string" },
		{ "dram", "column", NULL, 2, 65536, "16-bit" },
		{ "dram", "bank", NULL, 2, -1, "unsigned" },
		{ "dram", "device", "1", 0, 0, "unknown parameter 'device'" },
		{ "general-media", "component-id",
		  "seventeen-bytes!!", 0, 0, "16 bytes" },
		{ "memory-module", "log", "dynamic-capacity", 0, 0,
		  "informational, warning, failure or fatal" },
		{ "memory-module", "temperature", NULL, 2, -40000, "16-bit" },
		{ "health", "life-used", "101", 0, 0, "over 100" },
		{ "poison", "length", "0", 0, 0, "multiples of 64" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = json_object_new_object();
		struct json_object *v;
		if (bad[i].sval) {
			v = json_object_new_string(bad[i].sval);
		} else if (bad[i].type == 0) {
			v = json_object_new_boolean(1);
		} else if (bad[i].type == 1) {
			v = json_object_new_array();
			for (int k = 0; k < 5; k++)
				json_object_array_add(v, json_object_new_int(k));
		} else {
			v = json_object_new_int64(bad[i].ival);
		}
		json_object_object_add(p, bad[i].key, v);
		if (strcmp(bad[i].kind, "dram") == 0 ||
		    strcmp(bad[i].kind, "general-media") == 0)
			json_object_object_add(p, "dpa", json_object_new_int(0));
		if (strcmp(bad[i].kind, "poison") == 0)
			json_object_object_add(p, "start",
					       json_object_new_int(0));
		int rc = call_err(s, "inject", inject_args("mem0", bad[i].kind,
							  p), NULL, 0, &err);
		assert_true(rc < 0);
		if (!strstr(err.msg, bad[i].needle))
			fail_msg("%s %s: \"%s\" lacks \"%s\"", bad[i].kind,
				 bad[i].key, err.msg, bad[i].needle);
	}
	assert_int_equal(records_in_log(s, "mem0", CX_EVLOG_FAIL, out), 1);
	assert_int_equal(records_in_log(s, "mem0", CX_EVLOG_INFO, out), 0);
	assert_int_equal(records_in_log(s, "mem0", CX_EVLOG_FATAL, out), 0);
	assert_int_equal(mbox(s, "mem0", CX_OP_GET_HEALTH_INFO, NULL, NULL, 0,
			      out, &n), CX_RC_SUCCESS);
	assert_int_equal(out[CX_HI_LIFE_USED], 0);
	assert_int_equal(cx_rd_le16(out + CX_HI_TEMPERATURE), 25);
	/* params must be an object */
	struct json_object *a = inject_args("mem0", "health", NULL);
	json_object_object_add(a, "params", json_object_new_string("x=1"));
	assert_int_equal(call_err(s, "inject", a, NULL, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "KEY: VALUE"));
}

/* Every media error a region lists sits where translate says the
 * poisoned DPA is. */
static void test_region_media_errors(void **state)
{
	struct srv *s = *state;
	static const char *const mems[] = { "mem0", "mem1" };
	struct cxlemu_region_req rq = {
		.root = "decoder0.0", .type = "pmem", .memdevs = mems,
		.nmemdevs = 2, .granularity = 1024,
	};
	static const struct { const char *mem; uint64_t dpa, len; } poison[] = {
		{ "mem0", 0x0, 64 },
		{ "mem1", 0x440, 128 },
		{ "mem0", 0x123400, 64 },
		{ "mem1", 0x8000000, 64 },
	};
	struct json_object *r = NULL, *list = NULL;
	struct cxlemu_reply rep;
	struct cxlemu_err err;

	if (cxlemu_create_region(s->c, &rq, &r, &err))
		fail_msg("create-region: %s", err.msg);
	json_object_put(r);
	for (size_t i = 0; i < 4; i++) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "start",
				       json_object_new_int64((int64_t)poison[i].dpa));
		json_object_object_add(p, "length",
				       json_object_new_int64((int64_t)poison[i].len));
		if (cxlemu_call(s->c, "inject", inject_args(poison[i].mem,
							    "poison", p),
				NULL, 0, &rep, &err))
			fail_msg("inject: %s", err.msg);
		cxlemu_reply_release(&rep);
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "regions", json_object_new_boolean(1));
	json_object_object_add(o, "media_errors", json_object_new_boolean(1));
	if (cxlemu_list(s->c, o, &list, &err))
		fail_msg("list: %s", err.msg);
	assert_int_equal(json_object_array_length(list), 1);
	struct json_object *me = jget(json_object_array_get_idx(list, 0),
				      "media_errors");
	assert_int_equal(json_object_array_length(me), 4);
	int seen = 0;
	for (size_t i = 0; i < 4; i++) {
		struct json_object *e = json_object_array_get_idx(me, i);
		uint64_t off = (uint64_t)json_object_get_int64(jget(e, "offset"));
		uint64_t len = (uint64_t)json_object_get_int64(jget(e, "length"));
		assert_string_equal(json_object_get_string(jget(e, "source")),
				    "Internal");
		struct json_object *t = NULL;
		if (cxlemu_translate(s->c, "region0", off, false, &t, &err))
			fail_msg("translate %#llx: %s", (unsigned long long)off,
				 err.msg);
		const char *mem = json_object_get_string(jget(t, "memdev"));
		uint64_t dpa = (uint64_t)json_object_get_int64(jget(t, "dpa"));
		for (size_t k = 0; k < 4; k++)
			if (!strcmp(poison[k].mem, mem) &&
			    poison[k].dpa == dpa && poison[k].len == len)
				seen |= 1 << k;
		json_object_put(t);
		/* the exact path refuses that offset */
		uint8_t b;
		assert_int_equal(cxlemu_read(s->c, "region0", off, &b, 1, &err),
				 -EIO);
	}
	assert_int_equal(seen, 0xf);
	json_object_put(list);

	/* by memdev: offsets are DPAs */
	o = json_object_new_object();
	json_object_object_add(o, "memdevs", json_object_new_boolean(1));
	json_object_object_add(o, "media_errors", json_object_new_boolean(1));
	json_object_object_add(o, "memdev_filter", json_object_new_string("mem1"));
	if (cxlemu_list(s->c, o, &list, &err))
		fail_msg("list: %s", err.msg);
	me = jget(json_object_array_get_idx(list, 0), "media_errors");
	assert_int_equal(json_object_array_length(me), 2);
	assert_int_equal(json_object_get_int64(jget(json_object_array_get_idx(
		me, 0), "offset")), 0x440);
	assert_int_equal(json_object_get_int64(jget(json_object_array_get_idx(
		me, 1), "offset")), 0x8000000);
	json_object_put(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mbox_payloads, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_inject_values, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_region_media_errors,
						srv_setup, srv_teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
