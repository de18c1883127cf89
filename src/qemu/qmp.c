/*
 * qmp.c - one command to a running QEMU over its QMP socket.
 *
 * QMP speaks one JSON object per line: the server greets ({"QMP": ...}),
 * the client leaves capabilities negotiation with qmp_capabilities, then
 * each command gets a {"return": ...} or {"error": {"class", "desc"}},
 * with asynchronous {"event": ...} lines possibly in between, which are
 * skipped.  The lab uses it for what only QEMU can do to a guest: adding
 * and releasing dynamic capacity (cxl-add-dynamic-capacity,
 * cxl-release-dynamic-capacity), poison and event injection.
 */
#include "qemu.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct qmp_conn {
	int fd;
	char *buf;
	size_t len, cap;
	long long deadline_ms;
};

static long long qmp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next line that is not an event, parsed; NULL on error (in e). */
static struct json_object *qmp_next(struct qmp_conn *q, cx_err *e)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		if (nl) {
			*nl = 0;
			struct json_object *o = json_tokener_parse(q->buf);
			size_t used = (size_t)(nl - q->buf) + 1;
			memmove(q->buf, nl + 1, q->len - used);
			q->len -= used;
			if (!o || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				cx_fail(e, EPROTO, "QMP: a line that is not a "
					"JSON object");
				return NULL;
			}
			if (json_object_object_get_ex(o, "event", NULL)) {
				json_object_put(o);
				continue;
			}
			return o;
		}
		long long left = q->deadline_ms - qmp_now_ms();
		if (left <= 0) {
			cx_fail(e, ETIMEDOUT, "QMP: no answer in time");
			return NULL;
		}
		struct pollfd pf = {.fd = q->fd, .events = POLLIN};
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		if (q->len + 4096 > q->cap) {
			q->cap = q->cap * 2 + 4096;
			q->buf = cx_xrealloc(q->buf, q->cap);
		}
		ssize_t r = read(q->fd, q->buf + q->len, q->cap - q->len - 1);
		if (r <= 0) {
			cx_fail(e, EPIPE, "QMP: QEMU closed the connection");
			return NULL;
		}
		q->len += (size_t)r;
	}
}

static int qmp_send(struct qmp_conn *q, const char *line, cx_err *e)
{
	size_t off = 0, len = strlen(line);
	while (off < len) {
		ssize_t w = write(q->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cx_fail(e, EPIPE, "QMP: cannot write to QEMU: %s",
				       strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

int cx_qmp_call(const char *sock_path, struct json_object *cmd,
		int timeout_ms, struct json_object **ret, cx_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct qmp_conn q = {.fd = -1};
	struct json_object *o = NULL, *v;
	int rc;

	*ret = NULL;
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return cx_fail(e, ENAMETOOLONG, "QMP: %s: path too long for a "
			       "socket", sock_path);
	strcpy(sa.sun_path, sock_path);
	q.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q.fd < 0 || connect(q.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = cx_fail(e, errno, "QMP: cannot connect to %s: %s",
			     sock_path, strerror(errno));
		goto out;
	}
	q.deadline_ms = qmp_now_ms() + timeout_ms;
	q.cap = 4096;
	q.buf = cx_xcalloc(1, q.cap);
	/* the greeting, then leave negotiation mode */
	if (!(o = qmp_next(&q, e))) {
		rc = -EPROTO;
		goto out;
	}
	if (!json_object_object_get_ex(o, "QMP", NULL)) {
		rc = cx_fail(e, EPROTO, "QMP: %s did not greet as QMP",
			     sock_path);
		goto out;
	}
	json_object_put(o);
	if ((rc = qmp_send(&q, "{\"execute\":\"qmp_capabilities\"}\n", e)))
		goto out;
	if (!(o = qmp_next(&q, e))) {
		rc = -EPROTO;
		goto out;
	}
	if (!json_object_object_get_ex(o, "return", NULL)) {
		rc = cx_fail(e, EPROTO, "QMP: qmp_capabilities refused: %s",
			     json_object_to_json_string(o));
		goto out;
	}
	json_object_put(o);
	char *line = cx_xasprintf("%s\n", json_object_to_json_string_ext(
					  cmd, JSON_C_TO_STRING_PLAIN));
	rc = qmp_send(&q, line, e);
	free(line);
	if (rc)
		goto out;
	if (!(o = qmp_next(&q, e))) {
		rc = -EPROTO;
		goto out;
	}
	if (json_object_object_get_ex(o, "return", &v)) {
		*ret = json_object_get(v);
		rc = 0;
	} else if (json_object_object_get_ex(o, "error", &v)) {
		struct json_object *d = NULL;
		json_object_object_get_ex(v, "desc", &d);
		struct json_object *x = NULL;
		json_object_object_get_ex(cmd, "execute", &x);
		rc = cx_fail(e, EINVAL, "QEMU refused %s: %s",
			     x ? json_object_get_string(x) : "the command",
			     d ? json_object_get_string(d) :
			     json_object_to_json_string(v));
	} else {
		rc = cx_fail(e, EPROTO, "QMP: an answer with neither return "
			     "nor error: %s", json_object_to_json_string(o));
	}
out:
	json_object_put(o);
	if (q.fd >= 0)
		close(q.fd);
	free(q.buf);
	return rc;
}
