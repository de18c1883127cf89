/*
 * test_mbox_binary.c - binary mailbox frames (proto/mbox_frame.h): the
 * layout byte by byte, the same answers as the JSON "mbox" request from a
 * forked daemon, and every bad frame (short, unknown kind, memdev out of
 * range, payload over the mailbox size, oversized, on the administrative
 * socket, in place of a raw data frame, cut off by a hang-up) answered as
 * the issue asks: a refusal with the JSON path's errno and sentence, the
 * connection kept unless the length cannot be trusted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/mbox_client.h"
#include "proto/mbox_frame.h"
#include "proto/proto.h"
#include "spec/mbox.h"
#include "daemon_fixture.h"

static const char topo[] =
	"-machine q35,cxl=on -m 1G\n"
	"-object memory-backend-ram,id=vm0,size=256M\n"
	"-object memory-backend-ram,id=pm1,size=256M\n"
	"-object memory-backend-ram,id=lsa1,size=128K\n"
	"-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=0\n"
	"-device cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=1\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=vm0,id=dev0\n"
	"-device cxl-type3,bus=rp1,persistent-memdev=pm1,lsa=lsa1,id=dev1\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G\n";

/* ---- the layout ---- */

static void test_request_layout(void **state)
{
	(void)state;
	uint8_t f[CX_MBF_REQ_HDR + 3];
	struct cx_mbf_req r;
	cx_err e;

	cx_mbf_req_header(f, 0x0102, 0x4000, 3);
	memcpy(f + CX_MBF_REQ_HDR, "abc", 3);
	static const uint8_t want[CX_MBF_REQ_HDR] = {
		1, 0, 0x02, 0x01, 0x00, 0x40, 0, 0, 3, 0, 0, 0 };
	assert_memory_equal(f, want, sizeof(want));
	assert_int_equal(cx_mbf_req_parse(f, sizeof(f), &r, &e), 0);
	assert_int_equal(r.memdev, 0x0102);
	assert_int_equal(r.opcode, 0x4000);
	assert_int_equal(r.in_len, 3);
	assert_memory_equal(r.in, "abc", 3);

	/* short, wrong kind, flags, reserved, length disagreeing */
	assert_int_equal(cx_mbf_req_parse(f, CX_MBF_REQ_HDR - 1, &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "shorter"));
	f[CX_MBF_REQ_KIND] = 2;
	assert_int_equal(cx_mbf_req_parse(f, sizeof(f), &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "kind 2"));
	f[CX_MBF_REQ_KIND] = 1;
	f[CX_MBF_REQ_FLAGS] = 1;
	assert_int_equal(cx_mbf_req_parse(f, sizeof(f), &r, &e), -EINVAL);
	f[CX_MBF_REQ_FLAGS] = 0;
	f[CX_MBF_REQ_RSVD + 1] = 1;
	assert_int_equal(cx_mbf_req_parse(f, sizeof(f), &r, &e), -EINVAL);
	f[CX_MBF_REQ_RSVD + 1] = 0;
	assert_int_equal(cx_mbf_req_parse(f, sizeof(f) - 1, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "announces 3"));
}

static void test_reply_layout(void **state)
{
	(void)state;
	static const uint8_t out[5] = { 9, 8, 7, 6, 5 };
	struct cx_mbf_rep in = { .status = CX_MBF_RAN, .rc = 0x0006,
				 .out = out, .out_len = 5, .text = "busy" };
	struct cx_mbf_rep r;
	size_t n;
	cx_err e;

	uint8_t *f = cx_mbf_rep_build(&in, &n);
	assert_int_equal(n, CX_MBF_REP_HDR + 5 + 4);
	static const uint8_t want[CX_MBF_REP_HDR] = {
		1, 0, 6, 0, 0, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0 };
	assert_memory_equal(f, want, sizeof(want));
	assert_int_equal(cx_mbf_rep_parse(f, n, &r, &e), 0);
	assert_int_equal(r.status, CX_MBF_RAN);
	assert_int_equal(r.rc, 6);
	assert_int_equal(r.out_len, 5);
	assert_memory_equal(r.out, out, 5);
	assert_int_equal(r.text_len, 4);
	assert_memory_equal(r.text, "busy", 4);

	/* shorter than the header, lengths disagreeing, unknown status */
	assert_int_equal(cx_mbf_rep_parse(f, CX_MBF_REP_HDR - 1, &r, &e),
			 -EPROTO);
	assert_int_equal(cx_mbf_rep_parse(f, n - 1, &r, &e), -EPROTO);
	f[CX_MBF_REP_STATUS] = 7;
	assert_int_equal(cx_mbf_rep_parse(f, n, &r, &e), -EPROTO);
	/* a refusal must carry an errno */
	f[CX_MBF_REP_STATUS] = CX_MBF_REFUSED;
	assert_int_equal(cx_mbf_rep_parse(f, n, &r, &e), -EPROTO);
	cx_wr_le32(f + CX_MBF_REP_ERRNO, ENOENT);
	assert_int_equal(cx_mbf_rep_parse(f, n, &r, &e), 0);
	assert_int_equal(r.err, ENOENT);
	free(f);

	/* text is cut at CX_MBF_TEXT_MAX */
	char big[CX_MBF_TEXT_MAX + 50];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	in = (struct cx_mbf_rep){ .status = CX_MBF_REFUSED, .err = EINVAL,
				  .text = big };
	f = cx_mbf_rep_build(&in, &n);
	assert_int_equal(n, CX_MBF_REP_HDR + CX_MBF_TEXT_MAX);
	assert_int_equal(cx_mbf_rep_parse(f, n, &r, &e), 0);
	assert_int_equal(r.text_len, CX_MBF_TEXT_MAX);
	free(f);
}

/* ---- against a daemon ---- */

struct srv {
	struct fx_daemon d;
	char host[64];
	char hostsock[256];
	struct cxlemu *c;              /* on the host's own socket */
};

static int srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct cxlemu *a;
	struct cxlemu_err err;

	assert_non_null(s);
	fx_daemon_dir(&s->d, "mbbin");
	fx_daemon_start(&s->d, topo, NULL, NULL);
	if (cxlemu_connect_admin(s->d.sock, NULL, &a, &err))
		fail_msg("connect admin: %s", err.msg);
	snprintf(s->host, sizeof(s->host), "%s", cxlemu_host(a));
	cxlemu_close(a);
	assert_non_null(cx_proto_host_socket(s->d.sock, s->host, s->hostsock,
					     sizeof(s->hostsock)));
	if (cxlemu_connect(s->d.sock, s->host, &s->c, &err))
		fail_msg("connect %s: %s", s->host, err.msg);
	assert_true(cx_client_binary(s->c));
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;

	fx_daemon_finish(&s->d, s->c, s);
	return 0;
}

/* The JSON path's answer: rc, output bytes. */
static int json_mbox(struct cxlemu *c, const char *memdev, int opcode,
		     const void *in, size_t in_len, uint8_t *out, size_t *n)
{
	struct json_object *a = json_object_new_object();
	struct json_object *v;
	struct cxlemu_reply rep;
	struct cxlemu_err err;

	json_object_object_add(a, "memdev", json_object_new_string(memdev));
	json_object_object_add(a, "opcode", json_object_new_int(opcode));
	if (cxlemu_call(c, "mbox", a, in, in_len, &rep, &err))
		fail_msg("JSON mbox %#x: %s", opcode, err.msg);
	assert_true(json_object_object_get_ex(rep.result, "rc", &v));
	int rc = json_object_get_int(v);
	assert_true(json_object_object_get_ex(rep.result, "payload_out", &v));
	const char *hex = json_object_get_string(v);
	assert_int_equal(cx_hex_decode(hex, out, CX_MBOX_PAYLOAD_MAX, n, NULL),
			 0);
	cxlemu_reply_release(&rep);
	return rc;
}

static void test_same_answers_as_json(void **state)
{
	struct srv *s = *state;
	static const uint16_t ops[] = { 0x4000, 0x4100, 0x4200, 0x0400,
					0x0401, 0x0100, 0xfeed };
	uint8_t jout[CX_MBOX_PAYLOAD_MAX], bout[CX_MBOX_PAYLOAD_MAX];
	uint8_t getlog[0x18];
	struct cxlemu_err err;

	for (unsigned m = 0; m < 2; m++) {
		char name[16];
		snprintf(name, sizeof(name), "mem%u", m);
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			const void *in = NULL;
			size_t in_len = 0, jn = 0, bn = sizeof(bout);
			uint16_t rc = 0xffff;
			if (ops[i] == 0x0401) { /* Get Log: the CEL */
				memset(getlog, 0, sizeof(getlog));
				/* the CEL, from offset 0, 256 bytes */
				memcpy(getlog, cx_cel_uuid, 16);
				cx_wr_le32(getlog + 0x14, 256);
				in = getlog;
				in_len = sizeof(getlog);
			}
			int jrc = json_mbox(s->c, name, ops[i], in, in_len,
					    jout, &jn);
			assert_int_equal(cxlemu_mbox(s->c, m, ops[i], in,
						     in_len, bout, &bn, &rc,
						     &err), 0);
			assert_int_equal(rc, jrc);
			assert_int_equal(bn, jn);
			/* Get Health Info's life fields may move; the rest
			 * is fixed between two calls */
			if (ops[i] != 0x4200)
				assert_memory_equal(bout, jout, jn);
		}
	}

	/* the output buffer's capacity bounds the copy, not the length */
	uint8_t small[8];
	size_t n = sizeof(small);
	uint16_t rc;
	memset(bout, 0, sizeof(bout));
	assert_int_equal(cxlemu_mbox(s->c, 0, 0x4000, NULL, 0, small, &n, &rc,
				     &err), 0);
	assert_int_equal(rc, 0);
	assert_true(n > sizeof(small));
	/* a name that is not memN goes as JSON, which says what it lacks */
	assert_int_equal(cx_mbox_ccall(s->c, "mem-1", 0x4000, NULL, 0, bout,
				       &n, &rc, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no memdev 'mem-1'"));
	/* and the memN form of the internal call goes the same way */
	n = sizeof(bout);
	assert_int_equal(cx_mbox_ccall(s->c, "mem0", 0x4000, NULL, 0, bout,
				       &n, &rc, &err), 0);
	assert_memory_equal(bout, small, sizeof(small));
}

static void test_refusals_keep_connection(void **state)
{
	struct srv *s = *state;
	struct cxlemu_err err;
	uint8_t big[CX_MBOX_PAYLOAD_MAX * 2], out[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(out), jn;
	uint16_t rc = 0;

	/* a memdev index out of range: the JSON path's errno and words */
	assert_int_equal(cxlemu_mbox(s->c, 9, 0x4000, NULL, 0, out, &n, &rc,
				     &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no memdev 'mem9'"));
	assert_non_null(strstr(err.msg, "mem0 (dev0)"));
	n = sizeof(out);
	assert_int_equal(cxlemu_mbox(s->c, 0, 0x4000, NULL, 0, out, &n, &rc,
				     &err), 0);
	assert_int_equal(rc, CX_RC_SUCCESS);

	/* a payload over the mailbox size: the device's own return code, as
	 * on the JSON path */
	memset(big, 0, sizeof(big));
	n = sizeof(out);
	assert_int_equal(cxlemu_mbox(s->c, 0, 0x4000, big, sizeof(big), out,
				     &n, &rc, &err), 0);
	assert_int_equal(rc, CX_RC_INVALID_PAYLOAD_LENGTH);
	assert_int_equal(json_mbox(s->c, "mem0", 0x4000, big, sizeof(big),
				   out, &jn), CX_RC_INVALID_PAYLOAD_LENGTH);

	/* larger than any binary frame: refused before sending */
	uint8_t *huge = calloc(1, CX_PROTO_MAX_BINARY);
	assert_non_null(huge);
	assert_int_equal(cxlemu_mbox(s->c, 0, 0x4000, huge,
				     CX_PROTO_MAX_BINARY, out, &n, &rc, &err),
			 -EMSGSIZE);
	free(huge);
	n = sizeof(out);
	assert_int_equal(cxlemu_mbox(s->c, 1, 0x4000, NULL, 0, out, &n, &rc,
				     &err), 0);
}

/* ---- raw frames ---- */

static int raw_connect(const char *path)
{
	int fd;
	cx_err e;
	if (cx_proto_connect(path, &fd, &e))
		fail_msg("connect %s: %s", path, e.msg);
	/* an answer that never comes fails the test instead of hanging it
	 * (generous: the machines are shared) */
	struct timeval tv = { .tv_sec = 60 };
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv)), 0);
	return fd;
}

static void raw_send(int fd, uint32_t hdr, const void *p, size_t n)
{
	uint8_t h[4];
	cx_wr_le32(h, hdr);
	assert_int_equal(write(fd, h, 4), 4);
	if (n)
		assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One answer: its header word and payload (malloc'd, NUL-ended); NULL
 * when the daemon hung up. */
static uint8_t *raw_recv(int fd, uint32_t *hdr, size_t *len)
{
	uint8_t h[4];
	if (read_all(fd, h, 4))
		return NULL;
	*hdr = cx_rd_le32(h);
	*len = *hdr & ~CX_PROTO_BINARY;
	uint8_t *p = calloc(1, *len + 1);
	assert_non_null(p);
	assert_int_equal(read_all(fd, p, *len), 0);
	return p;
}

/* Send a binary frame, expect a binary refusal with `err`. */
static void expect_refusal(int fd, const void *f, size_t n, int err,
			   const char *words)
{
	struct cx_mbf_rep r;
	uint32_t hdr;
	size_t len;
	cx_err e;

	raw_send(fd, (uint32_t)n | CX_PROTO_BINARY, f, n);
	uint8_t *p = raw_recv(fd, &hdr, &len);
	assert_non_null(p);
	assert_true(hdr & CX_PROTO_BINARY);
	assert_int_equal(cx_mbf_rep_parse(p, len, &r, &e), 0);
	assert_int_equal(r.status, CX_MBF_REFUSED);
	assert_int_equal(r.err, err);
	if (!memmem(r.text, r.text_len, words, strlen(words)))
		fail_msg("refusal '%.*s' does not say '%s'", (int)r.text_len,
			 r.text, words);
	free(p);
}

static void expect_identify(int fd)
{
	uint8_t f[CX_MBF_REQ_HDR];
	struct cx_mbf_rep r;
	uint32_t hdr;
	size_t len;
	cx_err e;

	cx_mbf_req_header(f, 0, 0x4000, 0);
	raw_send(fd, sizeof(f) | CX_PROTO_BINARY, f, sizeof(f));
	uint8_t *p = raw_recv(fd, &hdr, &len);
	assert_non_null(p);
	assert_int_equal(cx_mbf_rep_parse(p, len, &r, &e), 0);
	assert_int_equal(r.status, CX_MBF_RAN);
	assert_int_equal(r.rc, CX_RC_SUCCESS);
	assert_true(r.out_len >= 0x43); /* Identify Memory Device */
	free(p);
}

static void test_bad_frames(void **state)
{
	struct srv *s = *state;
	int fd = raw_connect(s->hostsock);
	uint8_t f[CX_MBF_REQ_HDR + 4];

	/* short: refused, the connection goes on */
	memset(f, 0, sizeof(f));
	f[0] = CX_MBF_KIND_MBOX;
	expect_refusal(fd, f, 5, EINVAL, "shorter");
	expect_identify(fd);
	/* unknown kind */
	cx_mbf_req_header(f, 0, 0x4000, 0);
	f[CX_MBF_REQ_KIND] = 9;
	expect_refusal(fd, f, CX_MBF_REQ_HDR, EINVAL, "kind 9");
	/* a length field that disagrees with the frame */
	cx_mbf_req_header(f, 0, 0x4000, 2);
	expect_refusal(fd, f, CX_MBF_REQ_HDR + 4, EINVAL, "announces 2");
	/* a memdev out of range */
	cx_mbf_req_header(f, 40000, 0x4000, 0);
	expect_refusal(fd, f, CX_MBF_REQ_HDR, ENOENT, "no memdev 'mem40000'");
	expect_identify(fd);

	/* a header announcing more than a binary frame may hold: the
	 * length cannot be trusted, so a JSON refusal and a hang-up */
	uint32_t hdr;
	size_t len;
	raw_send(fd, (CX_PROTO_MAX_BINARY + 1) | CX_PROTO_BINARY, NULL, 0);
	uint8_t *p = raw_recv(fd, &hdr, &len);
	assert_non_null(p);
	assert_false(hdr & CX_PROTO_BINARY);
	assert_non_null(strstr((char *)p, "\"errno\":90")); /* EMSGSIZE */
	assert_non_null(strstr((char *)p, "binary frame"));
	free(p);
	assert_null(raw_recv(fd, &hdr, &len));
	close(fd);

	/* a binary frame where a request's raw data frame was due */
	fd = raw_connect(s->hostsock);
	static const char req[] =
		"{\"op\":\"mbox\",\"memdev\":\"mem0\",\"opcode\":16384,"
		"\"data_len\":4}";
	raw_send(fd, sizeof(req) - 1, req, sizeof(req) - 1);
	cx_mbf_req_header(f, 0, 0x4000, 0);
	raw_send(fd, CX_MBF_REQ_HDR | CX_PROTO_BINARY, f, CX_MBF_REQ_HDR);
	p = raw_recv(fd, &hdr, &len);
	assert_non_null(p);
	assert_non_null(strstr((char *)p, "raw frame"));
	free(p);
	assert_null(raw_recv(fd, &hdr, &len));
	close(fd);

	/* cut off by a hang-up in the middle of a frame: the daemon drops
	 * it and serves the next client */
	fd = raw_connect(s->hostsock);
	cx_mbf_req_header(f, 0, 0x4000, 4);
	raw_send(fd, (CX_MBF_REQ_HDR + 4) | CX_PROTO_BINARY, f, 6);
	close(fd);
	fd = raw_connect(s->hostsock);
	expect_identify(fd);
	close(fd);
}

/* Several frames in one write: the daemon reads ahead (a header and a
 * small frame come in one read), so the later frames wait in its stash,
 * not in the socket; each must still be answered, in order, with no more
 * bytes coming to wake poll(). */
static void test_pipelined_frames(void **state)
{
	struct srv *s = *state;
	int fd = raw_connect(s->hostsock);
	uint8_t buf[4 * (4 + CX_MBF_REQ_HDR) + 64];
	static const char hello[] = "{\"op\":\"hello\"}";
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		cx_wr_le32(buf + n, CX_MBF_REQ_HDR | CX_PROTO_BINARY);
		cx_mbf_req_header(buf + n + 4, (unsigned)i % 2, 0x4000, 0);
		n += 4 + CX_MBF_REQ_HDR;
	}
	cx_wr_le32(buf + n, sizeof(hello) - 1);
	memcpy(buf + n + 4, hello, sizeof(hello) - 1);
	n += 4 + sizeof(hello) - 1;
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	for (int i = 0; i < 3; i++) {
		struct cx_mbf_rep r;
		uint32_t hdr;
		size_t len;
		cx_err e;
		uint8_t *p = raw_recv(fd, &hdr, &len);
		assert_non_null(p);
		assert_true(hdr & CX_PROTO_BINARY);
		assert_int_equal(cx_mbf_rep_parse(p, len, &r, &e), 0);
		assert_int_equal(r.status, CX_MBF_RAN);
		assert_int_equal(r.rc, CX_RC_SUCCESS);
		free(p);
	}
	uint32_t hdr;
	size_t len;
	uint8_t *p = raw_recv(fd, &hdr, &len);
	assert_non_null(p);
	assert_false(hdr & CX_PROTO_BINARY);
	assert_non_null(strstr((char *)p, "\"ok\":true"));
	free(p);
	close(fd);
}

static void test_admin_socket(void **state)
{
	struct srv *s = *state;
	struct cxlemu *a;
	struct cxlemu_err err;
	uint8_t out[64], f[CX_MBF_REQ_HDR];
	size_t n = sizeof(out);
	uint16_t rc;

	if (cxlemu_connect_admin(s->d.sock, s->host, &a, &err))
		fail_msg("connect admin: %s", err.msg);
	assert_false(cx_client_binary(a));
	assert_int_equal(cxlemu_mbox(a, 0, 0x4000, NULL, 0, out, &n, &rc,
				     &err), -EPROTONOSUPPORT);
	assert_non_null(strstr(err.msg, "host's own socket"));
	/* cx_mbox_ccall falls back to the JSON request there */
	n = sizeof(out);
	assert_int_equal(cx_mbox_ccall(a, "mem0", 0x4000, NULL, 0, out, &n,
				       &rc, &err), 0);
	assert_int_equal(rc, CX_RC_SUCCESS);
	cxlemu_close(a);

	/* a frame sent there anyway names the rule */
	int fd = raw_connect(s->d.sock);
	cx_mbf_req_header(f, 0, 0x4000, 0);
	expect_refusal(fd, f, sizeof(f), EPERM, "administrative socket");
	close(fd);
}

/* ---- a peer that answers in pieces ---- */

/* Read one frame (header and payload) from fd into buf. */
static size_t peer_read_frame(int fd, uint8_t *buf, size_t cap)
{
	uint8_t h[4];
	if (read_all(fd, h, 4))
		_exit(10);
	size_t n = cx_rd_le32(h) & ~CX_PROTO_BINARY;
	if (n > cap || read_all(fd, buf, n))
		_exit(11);
	return n;
}

static void peer_write(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(12);
}

/* Serve one client: a hello that says "a host's socket, protocol 2",
 * then answer one binary frame with `reply` (a whole frame, header
 * included), sent as its first `split` bytes, a pause, and the rest. */
static pid_t piecewise_peer(const char *path, const uint8_t *reply,
			    size_t len, size_t split)
{
	int ls;
	cx_err e;
	struct sockaddr_un sa;
	assert_int_equal(cx_proto_sockaddr(path, &sa, &e), 0);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid) {
		close(ls);
		return pid;
	}
	uint8_t buf[4096];
	int fd = accept(ls, NULL, NULL);
	if (fd < 0)
		_exit(13);
	peer_read_frame(fd, buf, sizeof(buf));
	static const char hello[] = "{\"ok\":true,\"result\":{\"host\":"
				    "\"h\",\"socket\":\"host\","
				    "\"protocol\":2}}";
	uint8_t h[4];
	cx_wr_le32(h, sizeof(hello) - 1);
	peer_write(fd, h, 4);
	peer_write(fd, hello, sizeof(hello) - 1);
	peer_read_frame(fd, buf, sizeof(buf));
	peer_write(fd, reply, split);
	usleep(100000);
	peer_write(fd, reply + split, len - split);
	usleep(100000);
	_exit(0);
}

static void piecewise_case(const uint8_t *reply, size_t len, size_t split,
			   int want, uint16_t want_rc, const char *words)
{
	char dir[] = "/tmp/cxlemu-test-mbpiece-XXXXXX", path[128];
	struct cxlemu *c;
	struct cxlemu_err err;
	uint8_t out[64];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	pid_t pid = piecewise_peer(path, reply, len, split);
	if (cxlemu_connect(path, "h", &c, &err))
		fail_msg("connect to the peer: %s", err.msg);
	assert_true(cx_client_binary(c));
	int r = cxlemu_mbox(c, 0, 0x4000, NULL, 0, out, &n, &rc, &err);
	if (r != want)
		fail_msg("split at %zu: %d (%s), want %d", split, r, err.msg,
			 want);
	if (want == 0) {
		assert_int_equal(rc, want_rc);
		assert_int_equal(n, 3);
		assert_memory_equal(out, "abc", 3);
	} else {
		assert_non_null(strstr(err.msg, words));
		/* the stream's place is lost: the connection says so */
		assert_int_equal(cxlemu_mbox(c, 0, 0x4000, NULL, 0, out, &n,
					     &rc, &err), -EPROTO);
		assert_non_null(strstr(err.msg, "connect again"));
	}
	cxlemu_close(c);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	unlink(path);
	rmdir(dir);
}

/* Answers that arrive in pieces, the first shorter than a header: the
 * client keeps count of what it has (it once lost it: a hang on a binary
 * answer, a read past its buffer on a JSON one). */
static void test_answer_in_pieces(void **state)
{
	(void)state;
	struct cx_mbf_rep rp = { .status = CX_MBF_RAN, .rc = 0x0003,
				 .out = (const uint8_t *)"abc", .out_len = 3 };
	size_t n;
	uint8_t *p = cx_mbf_rep_build(&rp, &n);
	uint8_t frame[4 + 64];
	cx_wr_le32(frame, (uint32_t)n | CX_PROTO_BINARY);
	memcpy(frame + 4, p, n);
	free(p);
	for (size_t split = 1; split <= 6; split++)
		piecewise_case(frame, 4 + n, split, 0, 0x0003, NULL);

	static const char j[] = "{\"ok\":false,\"errno\":90,\"error\":"
				"\"too big to take\"}";
	uint8_t jf[4 + sizeof(j)];
	cx_wr_le32(jf, sizeof(j) - 1);
	memcpy(jf + 4, j, sizeof(j) - 1);
	for (size_t split = 1; split <= 6; split++)
		piecewise_case(jf, 4 + sizeof(j) - 1, split, -EMSGSIZE, 0,
			       "too big to take");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_layout),
		cmocka_unit_test(test_reply_layout),
		cmocka_unit_test(test_answer_in_pieces),
		cmocka_unit_test_setup_teardown(test_same_answers_as_json,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_keep_connection,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_bad_frames, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_frames,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_admin_socket, srv_setup,
						srv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
