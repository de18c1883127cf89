/*
 * client.c - the client library (include/cxlemu/cxlemu.h): one blocking
 * connection to the daemon, acting as one host.
 *
 * Every call is cxlemu_call(): build the request object, hold it to its
 * op's row of the schema (proto/schema.h), send it with its raw frame, read the reply with its raw frame and descriptors, and turn
 * {"ok":false,...} into a negative errno and the daemon's sentence.
 * The one exception is the mailbox: cxlemu_mbox() sends a binary frame
 * (proto/mbox_frame.h) in one write and reads the answer into a buffer
 * kept with the connection, in one read when the socket has it all.
 */
#include "cxlemu/cxlemu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client/mbox_client.h"
#include "proto/mbox_frame.h"
#include "util/spin.h"
#include "proto/proto.h"
#include "proto/schema.h"
#include "spec/mbox.h"

struct cxlemu {
	int fd;
	char *socket;
	char *host;
	struct json_object *hello;
	bool binary;                /* a host's socket that takes binary
				       mailbox frames (protocol >= 2) */
	uint8_t *mbf;               /* the binary reply's buffer */
	bool broken;                /* a binary answer was cut or malformed:
				       the stream's place is lost */
};

/* The largest binary mailbox reply: header, a full payload, the text. */
#define MBF_REPLY_MAX (4 + CX_MBF_REP_HDR + CX_MBOX_PAYLOAD_MAX + \
		       CX_MBF_TEXT_MAX)

_Static_assert(CXLEMU_MAX_FDS == CX_PROTO_MAX_FDS, "fd limits agree");

static int fail(struct cxlemu_err *err, int rc, const cx_err *e)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg), "%s", e->msg);
	return rc;
}

const char *cxlemu_default_socket(char *buf, size_t len)
{
	return cx_proto_default_socket(buf, len);
}

/*
 * Which socket to open.  A named host has its own socket beside the
 * fabric's (cx_proto_host_socket): that one, when it is there.  When it is
 * not, the path itself: a host socket given directly, or the fabric's
 * administrative socket, which also explains a host name it does not know.
 * A host socket that is there but refuses us is reported as it is:
 * falling back would only trade the real reason for another one.
 */
static int open_socket(const char *path, const char *host, bool admin,
		       int *fd, cx_err *e)
{
	char hp[256];
	bool tried = false;
	int rc;

	if (host && !admin && cx_proto_host_socket(path, host, hp, sizeof(hp))) {
		rc = cx_proto_connect(hp, fd, e);
		if (rc == 0 || (rc != -ENOENT && rc != -ECONNREFUSED)) {
			if (rc == -EACCES)
				cx_fail(e, EACCES, "cannot connect to host "
					"%s's socket %s: %s (the fabric's owner "
					"decides who may open it: cxlemu start "
					"--access, or the topology)", host, hp,
					strerror(EACCES));
			return rc;
		}
		tried = true;
	}
	rc = cx_proto_connect(path, fd, e);
	if (rc == -EACCES && tried)
		cx_fail(e, EACCES, "no host '%s' has a socket at %s, and the "
			"fabric's administrative socket %s is not open to this "
			"user (%s): is '%s' one of the fabric's hosts?", host,
			hp, path, strerror(EACCES), host);
	else if (rc == -EACCES)
		cx_fail(e, EACCES, "cannot connect to %s: %s (it is the "
			"fabric's administrative socket%s)", path,
			strerror(EACCES), admin ? ", which fabric-wide acts "
			"such as stop and inject need" : "; a host's user names "
			"the host, with --host or CXLEMU_HOST, to use that "
			"host's own socket");
	return rc;
}

static int connect_as(const char *socket_path, const char *host, bool admin,
		      struct cxlemu **out, struct cxlemu_err *err)
{
	char def[256];
	struct cxlemu *c;
	struct cxlemu_reply rep;
	const char *name = NULL;
	cx_err e;
	int rc, fd;

	if (!socket_path)
		socket_path = cx_proto_default_socket(def, sizeof(def));
	if ((rc = open_socket(socket_path, host, admin, &fd, &e)))
		return fail(err, rc, &e);
	c = cx_xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->socket = cx_xstrdup(socket_path);
	c->host = host ? cx_xstrdup(host) : NULL;
	if ((rc = cxlemu_call(c, "hello", NULL, NULL, 0, &rep, err))) {
		cxlemu_close(c);
		return rc;
	}
	if (cx_proto_get_str(rep.result, "host", true, &name, &e)) {
		cxlemu_reply_release(&rep);
		cxlemu_close(c);
		return fail(err, -EPROTO, &e);
	}
	free(c->host);
	c->host = cx_xstrdup(name);
	c->hello = json_object_get(rep.result);
	const char *kind = NULL;
	int version = 0;
	c->binary = !cx_proto_get_str(rep.result, "socket", false, &kind,
				      &e) && kind && !strcmp(kind, "host") &&
		!cx_proto_get_int(rep.result, "protocol", false, &version,
				  &e) && version >= 2;
	cxlemu_reply_release(&rep);
	*out = c;
	return 0;
}

int cxlemu_connect(const char *socket_path, const char *host,
		   struct cxlemu **out, struct cxlemu_err *err)
{
	return connect_as(socket_path, host, false, out, err);
}

int cxlemu_connect_admin(const char *socket_path, const char *host,
			 struct cxlemu **out, struct cxlemu_err *err)
{
	return connect_as(socket_path, host, true, out, err);
}

void cxlemu_close(struct cxlemu *c)
{
	if (!c)
		return;
	close(c->fd);
	json_object_put(c->hello);
	free(c->mbf);
	free(c->socket);
	free(c->host);
	free(c);
}

const char *cxlemu_host(const struct cxlemu *c) { return c->host; }
const char *cxlemu_socket(const struct cxlemu *c) { return c->socket; }
struct json_object *cxlemu_hello(const struct cxlemu *c) { return c->hello; }

int cxlemu_call(struct cxlemu *c, const char *op, struct json_object *args,
		const void *data, size_t data_len, struct cxlemu_reply *reply,
		struct cxlemu_err *err)
{
	struct json_object *req = json_object_new_object();
	struct json_object *result = NULL;
	struct cx_proto_msg m;
	cx_err e;
	int rc;

	memset(reply, 0, sizeof(*reply));
	json_object_object_add(req, "op", json_object_new_string(op));
	if (c->host)
		json_object_object_add(req, "host",
				       json_object_new_string(c->host));
	if (args) {
		json_object_object_foreach(args, k, v)
			json_object_object_add(req, k, json_object_get(v));
		json_object_put(args);
	}
	/* held to its op's row as the daemon will: a key it does not take,
	 * misspelt or not, fails here, where it was written (an op this
	 * library does not know goes out: the daemon names the ones it
	 * knows) */
	const struct cx_op_schema *row = cx_schema_op(op);
	if (row && (rc = cx_schema_check(row, req, &e))) {
		json_object_put(req);
		cx_err_prefix(&e, "request not sent");
		return fail(err, rc, &e);
	}
	int sent = cx_proto_send_msg(c->fd, req, data, data_len, NULL, 0, &e);
	json_object_put(req);
	if (sent && sent != -EPIPE)
		return fail(err, sent, &e);
	/* A daemon that hangs up on a newcomer (out of descriptors, too many
	 * clients) says why first: report that rather than the bare broken
	 * pipe our request ran into. */
	cx_err re;
	cx_spin_readable(c->fd); /* the answer is often microseconds away */
	if ((rc = cx_proto_recv_msg(c->fd, &m, &re)))
		return sent ? fail(err, sent, &e) : fail(err, rc, &re);
	if (sent) {
		rc = cx_proto_reply_result(m.json, &result, &re);
		cx_proto_msg_release(&m);
		return rc ? fail(err, rc, &re) : fail(err, sent, &e);
	}
	if ((rc = cx_proto_reply_result(m.json, &result, &e))) {
		cx_proto_msg_release(&m);
		return fail(err, rc, &e);
	}
	reply->result = json_object_get(result);
	reply->data = m.data;
	reply->data_len = m.data_len;
	m.data = NULL;
	memcpy(reply->fds, m.fds, sizeof(int) * (size_t)m.nfds);
	reply->nfds = m.nfds;
	m.nfds = 0;
	cx_proto_msg_release(&m);
	return 0;
}

/* ---- binary mailbox frames (proto/mbox_frame.h) ---- */

bool cx_client_binary(const struct cxlemu *c)
{
	return c->binary;
}

/* Read until buf holds n bytes; *have counts what it holds already and
 * is kept up to date, so a caller never loses track of a short read. */
static int read_full(int fd, uint8_t *buf, size_t *have, size_t n, cx_err *e)
{
	while (*have < n) {
		ssize_t r = read(fd, buf + *have, n - *have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cx_fail(e, errno, "reading the fabric's answer: "
				       "%s", strerror(errno));
		if (r == 0)
			return cx_fail(e, EPIPE, "the fabric closed the "
				       "connection%s", *have ? " in the middle "
				       "of its answer" : "");
		*have += (size_t)r;
	}
	return 0;
}

/* The daemon answered a binary frame in JSON (it hung up on a frame it
 * could not take): its reason.  `have` bytes of the frame are in buf. */
static int json_answer(struct cxlemu *c, uint32_t len, size_t have,
		       cx_err *e)
{
	if (len > CX_PROTO_MAX_JSON)
		return cx_fail(e, EPROTO, "the fabric answered a mailbox frame "
			       "with a frame of %u bytes", len);
	uint8_t *j = cx_xcalloc(1, (size_t)len + 1);
	size_t got = have > 4 ? have - 4 : 0;     /* read_full made it >= 4 */
	if (got > len)
		got = len;
	memcpy(j, c->mbf + 4, got);
	struct json_object *reply = NULL, *result;
	int rc = read_full(c->fd, j, &got, len, e);
	if (rc == 0 && (rc = cx_proto_parse(j, len, &reply, e)) == 0) {
		rc = cx_proto_reply_result(reply, &result, e);
		if (rc == 0)
			rc = cx_fail(e, EPROTO, "the fabric answered a mailbox "
				     "frame with a JSON result");
	}
	json_object_put(reply);
	free(j);
	return rc;
}

int cx_client_mbox(struct cxlemu *c, unsigned memdev, uint16_t opcode,
		   const void *in, size_t in_len, void *out, size_t *out_len,
		   uint16_t *rc, char *text, size_t text_cap, cx_err *e)
{
	uint8_t hdr[4 + CX_MBF_REQ_HDR];
	struct cx_mbf_rep rp;
	int r;

	if (text_cap)
		text[0] = 0;
	if (c->broken)
		return cx_fail(e, EPROTO, "this connection lost its place in the "
			       "fabric's answers (an earlier answer was cut or "
			       "malformed): connect again");
	if (!c->binary)
		return cx_fail(e, EPROTONOSUPPORT, "binary mailbox frames go "
			       "on a host's own socket of a fabric that speaks "
			       "protocol 2; this connection is %s",
			       c->hello ? "the administrative socket or an "
			       "older daemon" : "not set up");
	if (memdev > 0xffff)
		return cx_fail(e, EINVAL, "memdev index %u does not fit the "
			       "frame's 16 bits", memdev);
	if (in_len > CX_PROTO_MAX_BINARY - CX_MBF_REQ_HDR)
		return cx_fail(e, EMSGSIZE, "a mailbox payload of %zu bytes is "
			       "larger than a binary frame holds (%u); the "
			       "mailbox itself takes %u", in_len,
			       CX_PROTO_MAX_BINARY - CX_MBF_REQ_HDR,
			       CX_MBOX_PAYLOAD_MAX);
	cx_wr_le32(hdr, (uint32_t)(CX_MBF_REQ_HDR + in_len) | CX_PROTO_BINARY);
	cx_mbf_req_header(hdr + 4, memdev, opcode, in_len);
	struct iovec iov[2] = { { hdr, sizeof(hdr) },
				{ (void *)in, in_len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = in_len ? 2 : 1 };
	size_t total = sizeof(hdr) + in_len, sent = 0;
	while (sent < total) {
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cx_fail(e, errno == EPIPE ? EPIPE : errno,
				       "sending a mailbox frame: %s",
				       strerror(errno));
		sent += (size_t)n;
		/* a short send: step the vectors past what went */
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}

	if (!c->mbf)
		c->mbf = cx_xcalloc(1, MBF_REPLY_MAX);
	/* the answer is usually back within microseconds: wait awake
	 * (util/spin.h) */
	ssize_t n = cx_read_spin(c->fd, c->mbf, MBF_REPLY_MAX);
	if (n < 0)
		return cx_fail(e, errno, "reading the fabric's answer: %s",
			       strerror(errno));
	size_t got = (size_t)n;
	if ((r = read_full(c->fd, c->mbf, &got, 4, e)))
		return r;
	uint32_t h = cx_rd_le32(c->mbf);
	uint32_t len = h & ~CX_PROTO_BINARY;
	if (!(h & CX_PROTO_BINARY)) {
		/* the daemon's reason, then it hangs up */
		c->broken = true;
		return json_answer(c, len, got, e);
	}
	if (len > MBF_REPLY_MAX - 4 || got > 4 + len) {
		c->broken = true;
		return cx_fail(e, EPROTO, "binary mailbox reply of %u bytes "
			       "(%zu read) is not one the fabric sends", len,
			       got);
	}
	if ((r = read_full(c->fd, c->mbf, &got, 4 + len, e)) ||
	    (r = cx_mbf_rep_parse(c->mbf + 4, len, &rp, e))) {
		c->broken = true;
		return r;
	}
	if (text_cap) {
		size_t t = rp.text_len < text_cap - 1 ? rp.text_len :
			text_cap - 1;
		memcpy(text, rp.text, t);
		text[t] = 0;
	}
	if (rp.status == CX_MBF_REFUSED)
		return cx_fail(e, rp.err, "%.*s", (int)rp.text_len, rp.text);
	if (out && out_len)
		memcpy(out, rp.out, rp.out_len < *out_len ? rp.out_len :
		       *out_len);
	if (out_len)
		*out_len = rp.out_len;
	*rc = rp.rc;
	return 0;
}

int cxlemu_mbox(struct cxlemu *c, unsigned memdev, uint16_t opcode,
		const void *in, size_t in_len, void *out, size_t *out_len,
		uint16_t *rc, struct cxlemu_err *err)
{
	cx_err e;
	int r = cx_client_mbox(c, memdev, opcode, in, in_len, out, out_len,
			       rc, NULL, 0, &e);
	if (r)
		return fail(err, r, &e);
	if (err)
		err->msg[0] = 0;
	return 0;
}

void cxlemu_reply_release(struct cxlemu_reply *r)
{
	json_object_put(r->result);
	free(r->data);
	for (int i = 0; i < r->nfds; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	memset(r, 0, sizeof(*r));
}

/* Call and keep only the result object. */
static int call_result(struct cxlemu *c, const char *op,
		       struct json_object *args, struct json_object **out,
		       struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	int rc = cxlemu_call(c, op, args, NULL, 0, &rep, err);

	if (rc)
		return rc;
	if (out)
		*out = json_object_get(rep.result);
	cxlemu_reply_release(&rep);
	return 0;
}

int cxlemu_list(struct cxlemu *c, struct json_object *opts,
		struct json_object **out, struct cxlemu_err *err)
{
	struct json_object *args = json_object_new_object();

	if (opts)
		json_object_object_add(args, "opts", opts);
	return call_result(c, "list", args, out, err);
}

int cxlemu_create_region(struct cxlemu *c, const struct cxlemu_region_req *rq,
			 struct json_object **region, struct cxlemu_err *err)
{
	struct json_object *a = json_object_new_object();

	if (rq->root)
		json_object_object_add(a, "root",
				       json_object_new_string(rq->root));
	if (rq->type)
		json_object_object_add(a, "type",
				       json_object_new_string(rq->type));
	if (rq->ways)
		json_object_object_add(a, "ways", json_object_new_int(rq->ways));
	if (rq->granularity)
		json_object_object_add(a, "gran",
				       json_object_new_uint64(rq->granularity));
	if (rq->size)
		json_object_object_add(a, "size",
				       json_object_new_uint64(rq->size));
	if (rq->nmemdevs > 0) {
		struct json_object *m = json_object_new_array();
		for (int i = 0; i < rq->nmemdevs; i++)
			json_object_array_add(m, json_object_new_string(
						      rq->memdevs[i]));
		json_object_object_add(a, "memdevs", m);
	}
	if (rq->human)
		json_object_object_add(a, "human", json_object_new_boolean(1));
	return call_result(c, "create-region", a, region, err);
}

int cxlemu_destroy_region(struct cxlemu *c, const char *name, bool force,
			  int *destroyed, struct cxlemu_err *err)
{
	struct json_object *a = json_object_new_object(), *r = NULL, *n;
	int rc;

	json_object_object_add(a, "name", json_object_new_string(name));
	if (force)
		json_object_object_add(a, "force", json_object_new_boolean(1));
	if ((rc = call_result(c, "destroy-region", a, &r, err)))
		return rc;
	if (destroyed)
		*destroyed = json_object_object_get_ex(r, "destroyed", &n) ?
			     json_object_get_int(n) : 0;
	json_object_put(r);
	return 0;
}

int cxlemu_translate(struct cxlemu *c, const char *region, uint64_t offset,
		     bool human, struct json_object **out,
		     struct cxlemu_err *err)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "region", json_object_new_string(region));
	json_object_object_add(a, "offset", json_object_new_uint64(offset));
	if (human)
		json_object_object_add(a, "human", json_object_new_boolean(1));
	return call_result(c, "translate", a, out, err);
}

static struct json_object *io_args(const char *region, uint64_t off)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "region", json_object_new_string(region));
	json_object_object_add(a, "offset", json_object_new_uint64(off));
	return a;
}

/* A transfer that takes several requests is checked whole first, so that
 * a range running past the end is refused before any piece is done. */
static int check_span(struct cxlemu *c, const char *region, uint64_t off,
		      size_t len, struct cxlemu_err *err)
{
	struct cxlemu_err tmp;

	if (len <= CX_PROTO_IO_CHUNK)
		return 0;
	if (off + len < off) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: %zu bytes at "
				 "offset %#llx wrap around", region, len,
				 (unsigned long long)off);
		return -ERANGE;
	}
	int rc = cxlemu_translate(c, region, off + len - 1, false, NULL, &tmp);
	if (rc == -ERANGE && err)
		snprintf(err->msg, sizeof(err->msg), "%s: %zu bytes at offset "
			 "%#llx run past the end of the region", region, len,
			 (unsigned long long)off);
	else if (rc && err)
		*err = tmp;
	return rc;
}

int cxlemu_read(struct cxlemu *c, const char *region, uint64_t offset,
		void *buf, size_t len, struct cxlemu_err *err)
{
	size_t done = 0;
	int rc;

	if ((rc = check_span(c, region, offset, len, err)))
		return rc;
	do {
		size_t n = len - done;
		struct cxlemu_reply rep;
		struct json_object *a;

		if (n > CX_PROTO_IO_CHUNK)
			n = CX_PROTO_IO_CHUNK;
		a = io_args(region, offset + done);
		json_object_object_add(a, "length", json_object_new_uint64(n));
		if ((rc = cxlemu_call(c, "read", a, NULL, 0, &rep, err)))
			return rc;
		if (rep.data_len != n) {
			cxlemu_reply_release(&rep);
			if (err)
				snprintf(err->msg, sizeof(err->msg), "the "
					 "fabric sent %zu bytes for a read of "
					 "%zu", rep.data_len, n);
			return -EPROTO;
		}
		if (n)
			memcpy((uint8_t *)buf + done, rep.data, n);
		cxlemu_reply_release(&rep);
		done += n;
	} while (done < len);
	return 0;
}

int cxlemu_write(struct cxlemu *c, const char *region, uint64_t offset,
		 const void *buf, size_t len, struct cxlemu_err *err)
{
	size_t done = 0;
	int rc;

	if ((rc = check_span(c, region, offset, len, err)))
		return rc;
	do {
		size_t n = len - done;
		struct cxlemu_reply rep;

		if (n > CX_PROTO_IO_CHUNK)
			n = CX_PROTO_IO_CHUNK;
		rc = cxlemu_call(c, "write", io_args(region, offset + done),
				 (const uint8_t *)buf + done, n, &rep, err);
		if (rc)
			return rc;
		cxlemu_reply_release(&rep);
		done += n;
	} while (done < len);
	return 0;
}

int cxlemu_stop(struct cxlemu *c, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	char b;
	int rc = cxlemu_call(c, "stop", NULL, NULL, 0, &rep, err);

	if (rc)
		return rc;
	cxlemu_reply_release(&rep);
	/* the daemon closes its clients last: EOF means it is done */
	for (;;) {
		ssize_t r = read(c->fd, &b, 1);
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		break;
	}
	return 0;
}
