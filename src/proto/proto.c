/*
 * proto.c - frames on a UNIX stream socket, shared by the daemon, the
 * client library and the tests.
 *
 * A frame is a 4-byte little-endian length and that many bytes.  The first
 * frame of a message is a JSON object; when it carries "data_len": N the
 * next frame holds N raw bytes.  File descriptors travel as SCM_RIGHTS on
 * the first byte of the JSON frame.  Blocking helpers serve clients; the
 * server reads with cx_frame_rx, which never reads past the frame it is
 * assembling, so that a request is acted on only once all of it is here.
 */
#include "proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "spec/mbox.h"   /* cx_rd_le32, cx_wr_le32 */

const char *cx_proto_default_socket(char *buf, size_t len)
{
	const char *env = getenv("CXLEMU_SOCKET");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else
		snprintf(buf, len, "/tmp/cxlemu-%u.sock", (unsigned)getuid());
	return buf;
}

const char *cx_proto_host_socket(const char *fabric, const char *host,
				 char *buf, size_t len)
{
	size_t n = strlen(fabric);
	if (n >= 5 && !strcmp(fabric + n - 5, ".sock"))
		n -= 5;
	int w = snprintf(buf, len, "%.*s.%s.sock", (int)n, fabric, host);
	return w < 0 || (size_t)w >= len ? NULL : buf;
}

/* ---- sockets ---- */

int cx_proto_sockaddr(const char *path, void *sockaddr_un, cx_err *e)
{
	struct sockaddr_un *sa = sockaddr_un;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!path || !*path)
		return cx_fail(e, EINVAL, "socket path is empty");
	if (strlen(path) >= sizeof(sa->sun_path))
		return cx_fail(e, ENAMETOOLONG,
			       "socket path '%s' is %zu bytes long; a UNIX "
			       "socket path must be shorter than %zu bytes",
			       path, strlen(path), sizeof(sa->sun_path));
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

int cx_proto_connect(const char *path, int *fd, cx_err *e)
{
	struct sockaddr_un sa;
	int rc, s;

	if ((rc = cx_proto_sockaddr(path, &sa, e)))
		return rc;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cx_fail(e, errno, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(s);
		if (err == ENOENT)
			return cx_fail(e, ENOENT,
				       "no fabric is being served on %s "
				       "(start one with: cxlemu start)", path);
		if (err == ECONNREFUSED)
			return cx_fail(e, ECONNREFUSED,
				       "no fabric answers on %s (the socket "
				       "is stale; start one with: cxlemu "
				       "start)", path);
		return cx_fail(e, err, "cannot connect to %s: %s", path,
			       strerror(err));
	}
	*fd = s;
	return 0;
}

/* ---- blocking I/O ---- */

static int send_all(int fd, const uint8_t *hdr, const uint8_t *buf,
		    size_t len, const int *fds, int nfds, cx_err *e)
{
	size_t total = 4 + len, done = 0;
	union {
		char buf[CMSG_SPACE(sizeof(int) * CX_PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;

	if (nfds < 0 || nfds > CX_PROTO_MAX_FDS)
		return cx_fail(e, EINVAL, "cannot send %d descriptors in one "
			       "message (at most %d)", nfds, CX_PROTO_MAX_FDS);
	while (done < total) {
		struct iovec iov[2];
		int n = 0;
		struct msghdr mh;

		if (done < 4) {
			iov[n].iov_base = (void *)(hdr + done);
			iov[n++].iov_len = 4 - done;
			if (len) {
				iov[n].iov_base = (void *)buf;
				iov[n++].iov_len = len;
			}
		} else {
			iov[n].iov_base = (void *)(buf + (done - 4));
			iov[n++].iov_len = total - done;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		if (done == 0 && nfds > 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
		}
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return cx_fail(e, EPIPE, "the fabric closed the "
					       "connection");
			return cx_fail(e, errno, "send: %s", strerror(errno));
		}
		done += (size_t)w;
	}
	return 0;
}

int cx_proto_send_frame(int fd, const void *buf, size_t len, const int *fds,
			int nfds, cx_err *e)
{
	uint8_t hdr[4];

	if (len > CX_PROTO_MAX_FRAME)
		return cx_fail(e, EMSGSIZE, "a frame of %zu bytes is larger "
			       "than the protocol allows (%u)", len,
			       CX_PROTO_MAX_FRAME);
	cx_wr_le32(hdr, (uint32_t)len);
	return send_all(fd, hdr, buf, len, fds, nfds, e);
}

void cx_proto_mark(struct json_object *msg, size_t data_len, int nfds)
{
	if (data_len)
		json_object_object_add(msg, "data_len",
				       json_object_new_uint64(data_len));
	if (nfds)
		json_object_object_add(msg, "nfds", json_object_new_int(nfds));
}

int cx_proto_send_msg(int fd, struct json_object *msg, const void *data,
		      size_t data_len, const int *fds, int nfds, cx_err *e)
{
	const char *text;
	size_t len;
	int rc;

	cx_proto_mark(msg, data_len, nfds);
	text = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN,
						 &len);
	if ((rc = cx_proto_send_frame(fd, text, len, fds, nfds, e)))
		return rc;
	if (data_len)
		return cx_proto_send_frame(fd, data, data_len, NULL, 0, e);
	return 0;
}

/* Read exactly `len` bytes, keeping any descriptors that arrive. */
static int recv_all(int fd, uint8_t *buf, size_t len, struct cx_proto_msg *m,
		    size_t *got_out, cx_err *e)
{
	size_t got = 0;
	union {
		char buf[CMSG_SPACE(sizeof(int) * CX_PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;

	while (got < len) {
		struct iovec iov = { buf + got, len - got };
		struct msghdr mh;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				break;
			return cx_fail(e, errno, "receive: %s",
				       strerror(errno));
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int *p = (int *)CMSG_DATA(c);
			for (int i = 0; i < n; i++) {
				int v;
				memcpy(&v, p + i, sizeof(v));
				if (m && m->nfds < CX_PROTO_MAX_FDS)
					m->fds[m->nfds++] = v;
				else
					close(v);
			}
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got_out)
		*got_out = got;
	if (got < len)
		return cx_fail(e, EPIPE, got ? "the fabric closed the "
			       "connection in the middle of a reply" :
			       "the fabric closed the connection");
	return 0;
}

static int recv_frame(int fd, uint8_t **out, size_t *len_out, size_t max,
		      struct cx_proto_msg *m, bool first, cx_err *e)
{
	uint8_t hdr[4];
	size_t got = 0;
	int rc = recv_all(fd, hdr, 4, m, &got, e);

	if (rc) {
		if (first && got == 0)
			return cx_fail(e, EPIPE, "the fabric closed the "
				       "connection");
		return rc;
	}
	uint32_t len = cx_rd_le32(hdr);
	if (len > max)
		return cx_fail(e, EMSGSIZE, "received a frame of %u bytes, "
			       "more than the %zu allowed", len, max);
	uint8_t *buf = malloc((size_t)len + 1);
	if (!buf)
		return cx_fail(e, ENOMEM, "no memory for a frame of %u bytes",
			       len);
	if ((rc = recv_all(fd, buf, len, m, NULL, e))) {
		free(buf);
		return rc;
	}
	buf[len] = 0;
	*out = buf;
	*len_out = len;
	return 0;
}

int cx_proto_parse(const uint8_t *buf, size_t len, struct json_object **out,
		   cx_err *e)
{
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return cx_fail(e, ENOMEM, "no memory for the JSON parser");
	int rc = cx_proto_parse_tok(tok, buf, len, out, e);
	json_tokener_free(tok);
	return rc;
}

int cx_proto_parse_tok(struct json_tokener *tok, const uint8_t *buf,
		       size_t len, struct json_object **out, cx_err *e)
{
	struct json_object *j;

	if (len == 0)
		return cx_fail(e, EBADMSG, "empty frame: a request must be a "
			       "JSON object");
	if (len > INT_MAX)
		return cx_fail(e, EMSGSIZE, "frame too large to parse");
	json_tokener_reset(tok);
	j = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	if (!j || jerr != json_tokener_success) {
		json_object_put(j);
		return cx_fail(e, EBADMSG, "frame is not JSON (%s)",
			       jerr == json_tokener_continue ?
			       "it ends in the middle of a value" :
			       json_tokener_error_desc(jerr));
	}
	while (used < len && (buf[used] == ' ' || buf[used] == '\n' ||
			      buf[used] == '\t' || buf[used] == '\r'))
		used++;
	if (used != len) {
		json_object_put(j);
		return cx_fail(e, EBADMSG, "frame holds bytes after its JSON "
			       "value (at byte %zu of %zu)", used, len);
	}
	if (!json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return cx_fail(e, EBADMSG, "frame is JSON but not an object");
	}
	*out = j;
	return 0;
}

int cx_proto_recv_msg(int fd, struct cx_proto_msg *m, cx_err *e)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t dlen = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = recv_frame(fd, &buf, &len, CX_PROTO_MAX_FRAME, m, true, e)))
		goto fail;
	rc = cx_proto_parse(buf, len, &m->json, e);
	free(buf);
	if (rc)
		goto fail;
	if ((rc = cx_proto_get_u64(m->json, "data_len", false, &dlen, e)))
		goto fail;
	if (dlen) {
		if ((rc = recv_frame(fd, &m->data, &m->data_len,
				     CX_PROTO_MAX_FRAME, m, false, e)))
			goto fail;
		if (m->data_len != dlen) {
			rc = cx_fail(e, EPROTO, "a data frame of %zu bytes "
				     "follows a message that announced %llu",
				     m->data_len, (unsigned long long)dlen);
			goto fail;
		}
	}
	return 0;
fail:
	cx_proto_msg_release(m);
	return rc;
}

void cx_proto_msg_release(struct cx_proto_msg *m)
{
	json_object_put(m->json);
	free(m->data);
	for (int i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	memset(m, 0, sizeof(*m));
}

/* ---- incremental reads ---- */

/* Up to `want` bytes for dst: from the stash, else (for a small want) a
 * read of a whole stash, else a read straight into dst. */
static ssize_t rx_pull(struct cx_frame_rx *rx, int fd, uint8_t *dst,
		       size_t want)
{
	if (rx->stash_off == rx->stash_len && want < CX_RX_STASH) {
		if (!rx->stash && !(rx->stash = malloc(CX_RX_STASH)))
			return read(fd, dst, want);
		ssize_t r = read(fd, rx->stash, CX_RX_STASH);
		if (r <= 0)
			return r;
		rx->stash_len = (size_t)r;
		rx->stash_off = 0;
	}
	if (rx->stash_off < rx->stash_len) {
		size_t n = rx->stash_len - rx->stash_off;
		if (n > want)
			n = want;
		memcpy(dst, rx->stash + rx->stash_off, n);
		rx->stash_off += n;
		return (ssize_t)n;
	}
	return read(fd, dst, want);
}

bool cx_frame_rx_buffered(const struct cx_frame_rx *rx)
{
	return rx->stash_off < rx->stash_len;
}

int cx_frame_rx_read(struct cx_frame_rx *rx, int fd, size_t max, cx_err *e)
{
	size_t left = rx->quota ? rx->quota : SIZE_MAX;

	for (;;) {
		uint8_t *dst;
		size_t want;

		if (rx->hdr_got < 4) {
			dst = rx->hdr + rx->hdr_got;
			want = 4 - rx->hdr_got;
		} else {
			if (rx->got == rx->len)
				return 1;
			dst = rx->buf + rx->got;
			want = rx->len - rx->got;
		}
		if (!left)
			return 0;
		if (want > left)
			want = left;
		ssize_t r = rx_pull(rx, fd, dst, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ECONNRESET)
				return cx_fail(e, EPIPE, "peer reset the "
					       "connection");
			return cx_fail(e, errno, "read: %s", strerror(errno));
		}
		if (r == 0)
			return cx_fail(e, EPIPE, "peer closed the connection%s",
				       cx_frame_rx_partial(rx) ?
				       " in the middle of a frame" : "");
		left -= (size_t)r;
		if (rx->hdr_got < 4) {
			rx->hdr_got += (size_t)r;
			if (rx->hdr_got < 4)
				continue;
			uint32_t len = cx_rd_le32(rx->hdr);
			rx->binary = len & CX_PROTO_BINARY;
			len &= ~CX_PROTO_BINARY;
			if (rx->binary && len > CX_PROTO_MAX_BINARY)
				return cx_fail(e, EMSGSIZE,
					       "binary frame of %u bytes is "
					       "larger than the %u a binary "
					       "frame may hold", len,
					       CX_PROTO_MAX_BINARY);
			if (len > max)
				return cx_fail(e, EMSGSIZE,
					       "frame of %u bytes is larger "
					       "than the %zu allowed here",
					       len, max);
			rx->len = len;
			rx->got = 0;
			rx->buf = malloc((size_t)len + 1);
			if (!rx->buf)
				return cx_fail(e, ENOMEM, "no memory for a "
					       "frame of %u bytes", len);
		} else {
			rx->got += (size_t)r;
		}
	}
}

uint8_t *cx_frame_rx_take(struct cx_frame_rx *rx, size_t *len, bool *binary)
{
	uint8_t *b = rx->buf;

	b[rx->len] = 0;
	*len = rx->len;
	if (binary)
		*binary = rx->binary;
	rx->binary = false;
	rx->buf = NULL;
	rx->hdr_got = rx->len = rx->got = 0;
	return b;
}

bool cx_frame_rx_partial(const struct cx_frame_rx *rx)
{
	return rx->hdr_got > 0;
}

void cx_frame_rx_free(struct cx_frame_rx *rx)
{
	free(rx->buf);
	free(rx->stash);
	memset(rx, 0, sizeof(*rx));
}

/* ---- request fields ---- */

int cx_proto_get_value(struct json_object *req, const char *key,
		       bool required, enum json_type type, const char *tname,
		       struct json_object **out, cx_err *e)
{
	struct json_object *v = NULL;

	*out = NULL;
	if (!req || !json_object_object_get_ex(req, key, &v) || !v) {
		if (required)
			return cx_fail(e, EINVAL, "request lacks the field "
				       "\"%s\" (%s)", key, tname);
		return 0;
	}
	if (!json_object_is_type(v, type))
		return cx_fail(e, EINVAL, "field \"%s\" must be %s, not %s",
			       key, tname,
			       json_type_to_name(json_object_get_type(v)));
	*out = v;
	return 0;
}

int cx_proto_get_str(struct json_object *req, const char *key, bool required,
		     const char **out, cx_err *e)
{
	struct json_object *v;
	int rc = cx_proto_get_value(req, key, required, json_type_string,
				    "a string", &v, e);

	if (rc == 0 && v)
		*out = json_object_get_string(v);
	return rc;
}

int cx_proto_get_u64(struct json_object *req, const char *key, bool required,
		     uint64_t *out, cx_err *e)
{
	struct json_object *v;
	int rc = cx_proto_get_value(req, key, required, json_type_int,
				    "a non-negative integer", &v, e);

	if (rc || !v)
		return rc;
	if (json_object_get_int64(v) < 0)
		return cx_fail(e, EINVAL, "field \"%s\" must be a non-negative "
			       "integer, not %lld", key,
			       (long long)json_object_get_int64(v));
	*out = json_object_get_uint64(v);
	return 0;
}

int cx_proto_get_int(struct json_object *req, const char *key, bool required,
		     int *out, cx_err *e)
{
	struct json_object *v;
	int rc = cx_proto_get_value(req, key, required, json_type_int,
				    "an integer", &v, e);

	if (rc || !v)
		return rc;
	int64_t x = json_object_get_int64(v);
	if (x < INT_MIN || x > INT_MAX)
		return cx_fail(e, ERANGE, "field \"%s\": %lld is out of range",
			       key, (long long)x);
	*out = (int)x;
	return 0;
}

int cx_proto_get_bool(struct json_object *req, const char *key, bool required,
		      bool *out, cx_err *e)
{
	struct json_object *v;
	int rc = cx_proto_get_value(req, key, required, json_type_boolean,
				    "a boolean", &v, e);

	if (rc == 0 && v)
		*out = json_object_get_boolean(v);
	return rc;
}

/* ---- replies ---- */

struct json_object *cx_proto_reply(int err, struct json_object *result,
				   const char *text)
{
	struct json_object *r = json_object_new_object();

	if (err < 0)
		err = -err;
	json_object_object_add(r, "ok", json_object_new_boolean(!err));
	if (!err) {
		json_object_object_add(r, "result", result);
		return r;
	}
	json_object_put(result);
	json_object_object_add(r, "errno", json_object_new_int(err));
	json_object_object_add(r, "error", json_object_new_string(
				       text ? text : strerror(err)));
	return r;
}

int cx_proto_reply_result(struct json_object *reply,
			  struct json_object **result, cx_err *e)
{
	struct json_object *v;
	bool ok = false;
	const char *text = NULL;
	int err = EIO;
	cx_err tmp;

	if (cx_proto_get_bool(reply, "ok", true, &ok, &tmp))
		return cx_fail(e, EPROTO, "malformed reply from the fabric: "
			       "%s", tmp.msg);
	if (!ok) {
		if (cx_proto_get_str(reply, "error", false, &text, &tmp) ||
		    cx_proto_get_int(reply, "errno", false, &err, &tmp) ||
		    err <= 0)
			return cx_fail(e, EPROTO, "malformed error reply from "
				       "the fabric");
		return cx_fail(e, err, "%s", text ? text : strerror(err));
	}
	*result = json_object_object_get_ex(reply, "result", &v) ? v : NULL;
	return 0;
}
