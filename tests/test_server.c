/*
 * test_server.c - the daemon and the client library end to end: a server
 * forked in-process on a temporary socket, serving a small two-host
 * topology given as text, driven through the client library and through
 * raw frames (for what a well-behaved client would never send).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "cxlemu/cxlemu.h"
#include "proto/proto.h"
#include "server/server.h"
#include "daemon_fixture.h"

/* host1: one host bridge, two root ports: a volatile device on a shared
 * file and a persistent device on a private memfd, one 4 GiB window.
 * host2: the same shared file behind its own bridge. */
static const char topo_fmt[] =
	"[host host1]\n"
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-file,id=shm,mem-path=%s/shared.raw,"
	"size=256M,share=on \\\n"
	"  -object memory-backend-ram,id=pm0,size=256M \\\n"
	"  -object memory-backend-ram,id=pm1,size=256M \\\n"
	"  -object memory-backend-ram,id=lsa0,size=256K \\\n"
	"  -object memory-backend-ram,id=lsa1,size=256K \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1 \\\n"
	"  -device cxl-rp,port=2,bus=cxl.1,id=rp2,chassis=0,slot=2 \\\n"
	"  -device cxl-type3,bus=rp0,volatile-memdev=shm,id=cxl-shared \\\n"
	"  -device cxl-type3,bus=rp1,persistent-memdev=pm0,lsa=lsa0,id=cxl-pmem0 \\\n"
	"  -device cxl-type3,bus=rp2,persistent-memdev=pm1,lsa=lsa1,id=cxl-pmem1 \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n"
	"[host host2]\n"
	"qemu-system-x86_64 -machine q35,cxl=on -m 1G \\\n"
	"  -object memory-backend-file,id=shm,mem-path=%s/shared.raw,"
	"size=256M,share=on \\\n"
	"  -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1 \\\n"
	"  -device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0 \\\n"
	"  -device cxl-type3,bus=rp0,volatile-memdev=shm,id=cxl-shared2 \\\n"
	"  -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

/* Each test gets its own daemon (tests/daemon_fixture.h). */
static int srv_setup(void **state)
{
	struct fx_daemon *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	fx_daemon_dir(d, "server");
	char *text = cx_xasprintf(topo_fmt, d->dir, d->dir);
	fx_daemon_start(d, text, NULL, NULL);
	free(text);
	*state = d;
	return 0;
}

static int srv_teardown(void **state)
{
	struct fx_daemon *d = *state;
	fx_daemon_stop(d);
	fx_daemon_rmdir(d);
	free(d);
	return 0;
}

static struct cxlemu *conn(struct fx_daemon *s, const char *host)
{
	struct cxlemu *c = NULL;
	struct cxlemu_err err;
	int rc = cxlemu_connect(s->sock, host, &c, &err);

	if (rc)
		fail_msg("connect: %s", err.msg);
	return c;
}

static bool contains(struct json_object *o, const char *needle)
{
	return strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		      needle) != NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static struct json_object *create(struct cxlemu *c, const char *type,
				  const char *const *mems, int n, int gran)
{
	struct cxlemu_region_req rq = {
		.root = "decoder0.0", .type = type, .memdevs = mems,
		.nmemdevs = n, .granularity = (uint64_t)gran,
	};
	struct json_object *r = NULL;
	struct cxlemu_err err;

	if (cxlemu_create_region(c, &rq, &r, &err))
		fail_msg("create-region: %s", err.msg);
	return r;
}

/* ---- hello and hosts ---- */

static void test_hello_and_hosts(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, NULL);
	struct cxlemu_err err;

	/* no host named: the first one */
	assert_string_equal(cxlemu_host(c), "host1");
	assert_true(contains(cxlemu_hello(c), "\"hosts\":[\"host1\",\"host2\"]"));
	cxlemu_close(c);

	c = conn(s, "host2");
	assert_string_equal(cxlemu_host(c), "host2");
	cxlemu_close(c);

	c = NULL;
	assert_int_equal(cxlemu_connect(s->sock, "host9", &c, &err), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err.msg, "host9"));
	assert_non_null(strstr(err.msg, "host1, host2"));
}

/* ---- list ---- */

static void test_list(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu *c2 = conn(s, "host2");
	struct cxlemu_err err;
	struct json_object *opts, *out = NULL;

	opts = json_object_new_object();
	json_object_object_add(opts, "memdevs", json_object_new_boolean(1));
	assert_int_equal(cxlemu_list(c, opts, &out, &err), 0);
	assert_true(json_object_is_type(out, json_type_array));
	/* host1 has three memdevs, named by command-line order */
	assert_true(contains(out, "\"memdev\":\"mem2\""));
	assert_true(contains(out, "\"host\":\"cxl-pmem1\""));
	json_object_put(out);

	/* host2's view holds only its own device */
	opts = json_object_new_object();
	json_object_object_add(opts, "memdevs", json_object_new_boolean(1));
	assert_int_equal(cxlemu_list(c2, opts, &out, &err), 0);
	assert_true(contains(out, "\"host\":\"cxl-shared2\""));
	assert_false(contains(out, "mem1"));
	json_object_put(out);

	/* ill-typed options are refused */
	opts = json_object_new_object();
	json_object_object_add(opts, "memdevs", json_object_new_string("x"));
	int rc = cxlemu_list(c, opts, &out, &err);
	assert_true(rc < 0);
	cxlemu_close(c);
	cxlemu_close(c2);
}

/* ---- create / destroy ---- */

static void test_create_destroy(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	struct json_object *r, *opts, *out;
	const char *m[] = { "mem0" };
	int n = -1;

	r = create(c, "ram", m, 1, 0);
	assert_string_equal(jstr(r, "region"), "region0");
	assert_true(contains(r, "\"mappings\""));
	assert_true(contains(r, "\"memdev\":\"mem0\""));
	assert_int_equal(jint(r, "size"), 256 << 20);
	json_object_put(r);

	opts = json_object_new_object();
	json_object_object_add(opts, "regions", json_object_new_boolean(1));
	assert_int_equal(cxlemu_list(c, opts, &out, &err), 0);
	assert_true(contains(out, "region0"));
	json_object_put(out);

	/* the model's refusal reaches the client with its reason */
	struct cxlemu_region_req bad = { .root = "decoder0.7", .type = "ram" };
	assert_true(cxlemu_create_region(c, &bad, &out, &err) < 0);
	assert_non_null(strstr(err.msg, "decoder0.7"));

	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &n, &err), 0);
	assert_int_equal(n, 1);
	opts = json_object_new_object();
	json_object_object_add(opts, "regions", json_object_new_boolean(1));
	assert_int_equal(cxlemu_list(c, opts, &out, &err), 0);
	assert_false(contains(out, "region0"));
	json_object_put(out);

	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &n, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "region0"));

	/* "all" destroys every region of the host, newest first */
	const char *p0[] = { "mem1" }, *p1[] = { "mem2" };
	json_object_put(create(c, "pmem", p0, 1, 0));
	json_object_put(create(c, "pmem", p1, 1, 0));
	assert_int_equal(cxlemu_destroy_region(c, "all", false, &n, &err), 0);
	assert_int_equal(n, 2);
	cxlemu_close(c);
}

/* ---- translate ---- */

static void test_translate(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	struct json_object *r, *t = NULL;
	/* 2-way at 256 B: position order as given */
	const char *m[] = { "mem2", "mem1" };

	r = create(c, "pmem", m, 2, 256);
	int64_t base = jint(r, "resource");
	json_object_put(r);

	assert_int_equal(cxlemu_translate(c, "region0", 0, false, &t, &err), 0);
	assert_int_equal(jint(t, "position"), 0);
	assert_string_equal(jstr(t, "memdev"), "mem2");
	assert_string_equal(jstr(t, "host"), "cxl-pmem1");
	assert_int_equal(jint(t, "dpa"), 0);
	assert_int_equal(jint(t, "hpa"), base);
	assert_string_equal(jstr(t, "region"), "region0");
	assert_non_null(strstr(jstr(t, "decoder"), "decoder"));
	json_object_put(t);

	/* the next granule is the other device, same DPA */
	assert_int_equal(cxlemu_translate(c, "region0", 256 + 5, false, &t,
					  &err), 0);
	assert_int_equal(jint(t, "position"), 1);
	assert_string_equal(jstr(t, "memdev"), "mem1");
	assert_int_equal(jint(t, "dpa"), 5);
	assert_int_equal(jint(t, "offset"), 261);
	assert_int_equal(jint(t, "hpa"), base + 261);
	json_object_put(t);

	/* the third granule is back on position 0, one granule deeper */
	assert_int_equal(cxlemu_translate(c, "region0", 512, false, &t, &err), 0);
	assert_int_equal(jint(t, "position"), 0);
	assert_int_equal(jint(t, "dpa"), 256);
	json_object_put(t);

	/* past the end: refused, naming region, offset and size */
	assert_int_equal(cxlemu_translate(c, "region0", 512ULL << 20, false,
					  &t, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "region0"));
	assert_non_null(strstr(err.msg, "0x20000000"));

	int n;
	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &n, &err), 0);
	cxlemu_close(c);
}

/* ---- read / write ---- */

static void test_read_write(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	const char *m[] = { "mem1", "mem2" };
	/* more than three of the pieces the daemon moves per round */
	size_t n = 3 * CX_SRV_STEP + 300000;
	uint8_t *in = malloc(n), *out = malloc(n);
	int k;

	assert_non_null(in);
	assert_non_null(out);
	json_object_put(create(c, "pmem", m, 2, 256));
	srand(7);
	for (size_t i = 0; i < n; i++)
		in[i] = (uint8_t)rand();
	/* unaligned, spanning many granules of both devices */
	assert_int_equal(cxlemu_write(c, "region0", 1000, in, n, &err), 0);
	memset(out, 0, n);
	assert_int_equal(cxlemu_read(c, "region0", 1000, out, n, &err), 0);
	assert_memory_equal(in, out, n);
	/* what was written around the range is untouched */
	uint8_t edge[2];
	assert_int_equal(cxlemu_read(c, "region0", 999, edge, 1, &err), 0);
	assert_int_equal(edge[0], 0);
	assert_int_equal(cxlemu_read(c, "region0", 1000 + n, edge, 1, &err), 0);
	assert_int_equal(edge[0], 0);
	/* zero-length transfers are fine */
	assert_int_equal(cxlemu_write(c, "region0", 5, in, 0, &err), 0);
	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &k, &err), 0);
	free(in);
	free(out);
	cxlemu_close(c);
}

static void test_past_the_end(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	const char *m[] = { "mem1" };
	uint64_t size = 256ULL << 20;
	uint8_t buf[8];
	int k;

	json_object_put(create(c, "pmem", m, 1, 0));
	assert_int_equal(cxlemu_write(c, "region0", size - 2, "AB", 2, &err), 0);
	/* 4 bytes at size-2: refused whole, nothing written */
	assert_int_equal(cxlemu_write(c, "region0", size - 2, "wxyz", 4, &err),
			 -ERANGE);
	assert_non_null(strstr(err.msg, "region0"));
	assert_non_null(strstr(err.msg, "0xffffffe"));   /* the offset */
	assert_non_null(strstr(err.msg, "0x10000000"));  /* the size */
	assert_int_equal(cxlemu_read(c, "region0", size - 2, buf, 2, &err), 0);
	assert_memory_equal(buf, "AB", 2);
	/* entirely past the end */
	assert_int_equal(cxlemu_write(c, "region0", size, "x", 1, &err), -ERANGE);
	assert_int_equal(cxlemu_read(c, "region0", size, buf, 1, &err), -ERANGE);
	assert_int_equal(cxlemu_read(c, "region0", UINT64_MAX - 1, buf, 4, &err),
			 -ERANGE);
	/* a region that does not exist */
	assert_int_equal(cxlemu_read(c, "region5", 0, buf, 1, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "region5"));
	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &k, &err), 0);
	cxlemu_close(c);
}

/* ---- malformed frames ---- */

static int raw_connect(struct fx_daemon *s)
{
	int fd;
	cx_err e;
	assert_int_equal(cx_proto_connect(s->sock, &fd, &e), 0);
	return fd;
}

/* Receive one reply; return its errno (0 when ok). */
static int raw_reply(int fd, char *msg, size_t len)
{
	struct cx_proto_msg m;
	struct json_object *res;
	cx_err e;

	assert_int_equal(cx_proto_recv_msg(fd, &m, &e), 0);
	int rc = cx_proto_reply_result(m.json, &res, &e);
	if (msg)
		snprintf(msg, len, "%s", rc ? e.msg : "");
	cx_proto_msg_release(&m);
	return -rc;
}

static void send_text(int fd, const char *text)
{
	cx_err e;
	assert_int_equal(cx_proto_send_frame(fd, text, strlen(text), NULL, 0,
					     &e), 0);
}

static void assert_serving(struct fx_daemon *s)
{
	struct cxlemu *c = conn(s, "host2");
	assert_string_equal(cxlemu_host(c), "host2");
	cxlemu_close(c);
}

static void test_malformed(void **state)
{
	struct fx_daemon *s = *state;
	char msg[CX_ERR_MAX];
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	const char *m[] = { "mem1" };
	json_object_put(create(c, "pmem", m, 1, 0));
	int fd = raw_connect(s);

	send_text(fd, "this is not json");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EBADMSG);
	send_text(fd, "[1,2,3]");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EBADMSG);
	send_text(fd, "{\"op\":\"hello\"} trailing");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EBADMSG);
	send_text(fd, "{\"op\":\"frobnicate\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EOPNOTSUPP);
	assert_non_null(strstr(msg, "frobnicate"));
	send_text(fd, "{\"host\":\"host1\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "\"op\""));
	send_text(fd, "{\"op\":42}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	send_text(fd, "{\"op\":\"hello\",\"host\":\"nowhere\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), ENOENT);
	assert_non_null(strstr(msg, "host1, host2"));
	send_text(fd, "{\"op\":\"translate\",\"region\":\"region0\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "\"offset\""));
	send_text(fd, "{\"op\":\"translate\",\"region\":\"region0\","
		      "\"offset\":\"12\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "offset"));
	send_text(fd, "{\"op\":\"read\",\"region\":7,\"offset\":0,"
		      "\"length\":1}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "region"));
	send_text(fd, "{\"op\":\"create-region\",\"root\":\"decoder0.0\","
		      "\"ways\":\"four\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	assert_non_null(strstr(msg, "ways"));
	send_text(fd, "{\"op\":\"create-region\",\"root\":\"decoder0.0\","
		      "\"memdevs\":[1]}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	send_text(fd, "{\"op\":\"hello\",\"data_len\":-4}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EINVAL);
	/* an empty frame */
	assert_int_equal(cx_proto_send_frame(fd, "", 0, NULL, 0, NULL), 0);
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EBADMSG);
	/* the same connection still works */
	send_text(fd, "{\"op\":\"hello\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), 0);

	/* a huge length: error reply, then the connection is closed */
	uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(write(fd, huge, 4), 4);
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EMSGSIZE);
	char b;
	assert_int_equal(read(fd, &b, 1), 0);
	close(fd);

	/* a data_len larger than any frame: same */
	fd = raw_connect(s);
	send_text(fd, "{\"op\":\"write\",\"data_len\":4294967295}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EMSGSIZE);
	close(fd);

	/* a raw frame whose length disagrees with data_len: not applied */
	fd = raw_connect(s);
	send_text(fd, "{\"op\":\"write\",\"region\":\"region0\",\"offset\":0,"
		      "\"data_len\":4}");
	assert_int_equal(cx_proto_send_frame(fd, "XYZ", 3, NULL, 0, NULL), 0);
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EPROTO);
	close(fd);
	uint8_t got[4];
	assert_int_equal(cxlemu_read(c, "region0", 0, got, 4, &err), 0);
	assert_memory_equal(got, "\0\0\0\0", 4);
	int k;
	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &k, &err), 0);
	cxlemu_close(c);

	assert_serving(s);
}

/* ---- clients that leave mid-request ---- */

static void test_disconnect_mid_frame(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	const char *m[] = { "mem1" };
	uint8_t got[8];
	int k;

	json_object_put(create(c, "pmem", m, 1, 0));

	/* a client that sends half a header and then idles does not block
	 * anyone */
	int idle = raw_connect(s);
	assert_int_equal(write(idle, "\x10\x00", 2), 2);

	/* a write whose raw frame is cut short: nothing is applied */
	int fd = raw_connect(s);
	send_text(fd, "{\"op\":\"write\",\"region\":\"region0\",\"offset\":0,"
		      "\"data_len\":8}");
	uint8_t hdr[4] = { 8, 0, 0, 0 };
	assert_int_equal(write(fd, hdr, 4), 4);
	assert_int_equal(write(fd, "ABCD", 4), 4);
	/* another client is served meanwhile */
	assert_int_equal(cxlemu_read(c, "region0", 0, got, 8, &err), 0);
	close(fd);
	/* a client that leaves in the middle of a JSON frame */
	fd = raw_connect(s);
	assert_int_equal(write(fd, "\x40\x00\x00\x00{\"op\":\"wr", 13), 13);
	close(fd);

	assert_int_equal(cxlemu_read(c, "region0", 0, got, 8, &err), 0);
	assert_memory_equal(got, "\0\0\0\0\0\0\0\0", 8);
	/* and whole requests still work */
	assert_int_equal(cxlemu_write(c, "region0", 0, "complete", 8, &err), 0);
	assert_int_equal(cxlemu_read(c, "region0", 0, got, 8, &err), 0);
	assert_memory_equal(got, "complete", 8);
	close(idle);
	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &k, &err), 0);
	cxlemu_close(c);
	assert_serving(s);
}

/* ---- clients that pipeline, and clients that stop reading ---- */

static void test_pipelined_and_slow_readers(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *c = conn(s, "host1");
	struct cxlemu_err err;
	const char *m[] = { "mem1" };
	char msg[CX_ERR_MAX];
	int k;

	json_object_put(create(c, "pmem", m, 1, 0));
	/* three requests in one go: three replies, in order */
	int fd = raw_connect(s);
	send_text(fd, "{\"op\":\"hello\"}");
	send_text(fd, "{\"op\":\"nope\"}");
	send_text(fd, "{\"op\":\"hello\",\"host\":\"host2\"}");
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), 0);
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), EOPNOTSUPP);
	assert_int_equal(raw_reply(fd, msg, sizeof(msg)), 0);
	close(fd);

	/* a client asks for 32 MiB and never reads the reply */
	int slow = raw_connect(s);
	send_text(slow, "{\"op\":\"read\",\"region\":\"region0\","
			"\"offset\":0,\"length\":33554432}");
	send_text(slow, "{\"op\":\"hello\"}");
	/* everyone else is still served, data and all */
	uint8_t buf[4096];
	for (int i = 0; i < 8; i++) {
		assert_int_equal(cxlemu_write(c, "region0", 4096u * (unsigned)i,
					      "slow", 4, &err), 0);
		assert_int_equal(cxlemu_read(c, "region0", 0, buf, sizeof(buf),
					     &err), 0);
		assert_memory_equal(buf, "slow", 4);
	}
	assert_serving(s);
	close(slow);
	assert_int_equal(cxlemu_destroy_region(c, "region0", false, &k, &err), 0);
	cxlemu_close(c);
}

/* ---- two hosts, one shared file-backed device ---- */

static void test_shared_device(void **state)
{
	struct fx_daemon *s = *state;
	struct cxlemu *h1 = conn(s, "host1"), *h2 = conn(s, "host2");
	struct cxlemu_err err;
	const char *m[] = { "mem0" };
	const char msg[] = "Hello from instance 1!";
	char got[sizeof(msg)];
	int k;

	json_object_put(create(h1, "ram", m, 1, 0));
	json_object_put(create(h2, "ram", m, 1, 0));
	assert_int_equal(cxlemu_write(h1, "region0", 0x1000, msg, sizeof(msg),
				      &err), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(cxlemu_read(h2, "region0", 0x1000, got, sizeof(got),
				     &err), 0);
	assert_string_equal(got, msg);
	/* and back */
	assert_int_equal(cxlemu_write(h2, "region0", 0x1000, "HELLO", 5, &err), 0);
	assert_int_equal(cxlemu_read(h1, "region0", 0x1000, got, 5, &err), 0);
	assert_memory_equal(got, "HELLO", 5);
	/* the bytes are in the shared file, at the translated DPA */
	struct json_object *t;
	assert_int_equal(cxlemu_translate(h2, "region0", 0x1000, false, &t,
					  &err), 0);
	int64_t dpa = jint(t, "dpa");
	json_object_put(t);
	char path[160];
	snprintf(path, sizeof(path), "%s/shared.raw", s->dir);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, 5, dpa), 5);
	assert_memory_equal(got, "HELLO", 5);
	close(fd);
	assert_int_equal(cxlemu_destroy_region(h1, "region0", false, &k, &err), 0);
	assert_int_equal(cxlemu_destroy_region(h2, "region0", false, &k, &err), 0);
	cxlemu_close(h1);
	cxlemu_close(h2);
}

/* ---- the socket ---- */

static void test_second_server_refused(void **state)
{
	struct fx_daemon *s = *state;
	struct cx_fabric *f = cx_fabric_new("empty");
	struct cx_server *sv = NULL;
	cx_err e;

	assert_int_equal(cx_server_probe(s->sock, &e), 1);
	assert_int_equal(cx_server_open(f, s->sock, &sv, &e), -EADDRINUSE);
	assert_non_null(strstr(e.msg, "already being served"));
	assert_non_null(strstr(e.msg, s->sock));
	cx_fabric_free(f);
	assert_serving(s);
}

static void test_stale_socket_replaced(void **state)
{
	char dir[] = "/tmp/cxlemu-test-XXXXXX", path[64], cmd[96];
	struct cx_server *sv = NULL;
	cx_err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	/* a socket file nobody listens on */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa;
	assert_int_equal(cx_proto_sockaddr(path, &sa, &e), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(cx_server_probe(path, &e), 0);
	struct cx_fabric *f = cx_fabric_new("empty");
	assert_int_equal(cx_server_open(f, path, &sv, &e), 0);
	assert_int_equal(cx_server_probe(path, &e), 1);
	cx_server_close(sv);
	assert_int_equal(access(path, F_OK), -1);

	/* a regular file is never replaced */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	f = cx_fabric_new("empty");
	assert_int_equal(cx_server_open(f, path, &sv, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "not a socket"));
	cx_fabric_free(f);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_and_hosts,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_list, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_create_destroy,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_translate, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_read_write, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_past_the_end, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_malformed, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_mid_frame,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_slow_readers,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_shared_device,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_second_server_refused,
						srv_setup, srv_teardown),
		cmocka_unit_test(test_stale_socket_replaced),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
