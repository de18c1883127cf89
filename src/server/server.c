/*
 * server.c - the daemon's socket, its poll() loop and its connections.
 *
 * Every connection is non-blocking and owns an incremental frame reader
 * and a queue of outgoing segments.  A connection is read only while it
 * has no reply waiting to go out, so a client that stops reading cannot
 * make the daemon buffer without bound, and one request at a time is
 * dispatched per wake-up so no client starves the others.  A request whose
 * JSON announces "data_len" is parked until its raw frame is complete;
 * if the client leaves first, the parked request is dropped unapplied.
 * A frame header that announces too much gets an error reply and the
 * connection is closed once that reply is out: its stream cannot be
 * resynchronised.  Everything else that is wrong gets an error reply and
 * the connection stays usable.
 */
#include "server.h"
#include "model/grant.h"
#include "proto/mbox_frame.h"
#include "util/spin.h"
#include "spec/mbox.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct out_seg {
	uint8_t hdr[4];
	uint8_t *buf;              /* owned */
	size_t len;                /* payload bytes */
	size_t off;                /* bytes of hdr+payload sent */
	int fds[CX_PROTO_MAX_FDS]; /* sent with the first byte, then closed */
	int nfds;
	struct out_seg *next;
};

/* A listening socket: the administrative one, or a host's own. */
struct listener {
	int fd;
	struct cx_host *host;         /* NULL: the administrative socket */
	char *path;
	dev_t dev;                    /* to remove only what is still ours */
	ino_t ino;
};

/* A request whose handler left work for later (cx_srv_call.more). */
struct pending {
	struct cx_srv_call call;
	const struct cx_op *op;
	struct json_object *req;      /* owned until the reply */
	uint8_t *data;
};

struct client {
	int id;
	int fd;
	struct pending *pend;         /* its request still being worked on */
	const struct listener *via;   /* the socket it came through */
	const char *host;             /* named by its last request (logs) */
	struct cx_frame_rx rx;
	struct json_tokener *tok;     /* its JSON parser, kept between frames */
	struct json_object *parked;   /* request waiting for its raw frame */
	uint64_t parked_len;
	struct out_seg *out, *out_tail;
	bool close_when_flushed;
	bool dead;
};

struct hook {
	int client;
	void (*fn)(void *arg);
	void *arg;
};

struct cx_server {
	struct cx_fabric *fabric;
	char *path;                   /* the administrative socket */
	struct listener *ls;          /* [0] administrative, then per host */
	int nls;
	int spare;                    /* held back to shed clients at EMFILE */
	bool accept_paused;           /* out of descriptors: wait for a close */
	struct timespec retry_at;     /* ... or until then (limits can rise) */
	cx_vec clients;               /* struct client * */
	cx_vec hooks;                 /* struct hook * */
	int next_id;
	int stop_client;              /* id that asked to stop, or -1 */
	bool stopping;
	cx_server_log_fn log;         /* cx_server_set_log */
	void *log_ctx;
	struct cx_srv_sysfs_cache *sysfs; /* ops_sysfs.c */
	uint64_t generation;          /* bumped by every changing request */
	char *state_path;             /* cx_server_set_state */
	struct cx_state_saved state_last; /* what the file holds */
	uint64_t digest;              /* of the regions and decoders, after
					the last changing request */
	char fabric_id[16];           /* mappers.c: this fabric, */
	char tag[48];                 /* ... and this daemon of it */
	int stale[64];                /* an earlier daemon's mappers */
	int nstale;
};

#define CX_STALE_MAX 64

struct cx_srv_sysfs_cache **cx_server_sysfs_cache(struct cx_server *s)
{
	return &s->sysfs;
}

uint64_t cx_server_generation(const struct cx_server *s)
{
	return s->generation;
}

void cx_server_set_log(struct cx_server *s, cx_server_log_fn fn, void *ctx)
{
	s->log = fn;
	s->log_ctx = ctx;
}

#define CX_LOG_LINE_MAX 600

static void slog(struct cx_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void slog(struct cx_server *s, const char *fmt, ...)
{
	char line[CX_LOG_LINE_MAX];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line)) /* say that it was cut */
		memcpy(line + sizeof(line) - 4, "...", 4);
	s->log(s->log_ctx, line);
}

/* The request as logged: its JSON without the host (logged apart). */
static const char *req_text(struct json_object *req)
{
	json_object_object_del(req, "host");
	return json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
}

const char *cx_server_path(const struct cx_server *s) { return s->path; }
struct cx_fabric *cx_server_fabric(struct cx_server *s) { return s->fabric; }

/* ---- the socket ---- */

int cx_server_probe(const char *path, cx_err *e)
{
	struct stat st;
	cx_err tmp;
	int fd, rc;

	rc = cx_proto_connect(path, &fd, &tmp);
	if (rc == 0) {
		close(fd);
		return 1;
	}
	if (rc == -ENOENT && lstat(path, &st) < 0)
		return 0;
	if (rc == -ENAMETOOLONG || rc == -EINVAL)
		return cx_fail(e, -rc, "%s", tmp.msg);
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return cx_fail(e, EEXIST, "%s exists and is not a socket; "
			       "refusing to replace it", path);
	if (rc == -ECONNREFUSED || rc == -ENOENT)
		return 0; /* stale */
	return cx_fail(e, -rc, "%s", tmp.msg);
}

/* Give a socket file its owner, group and mode. */
static int apply_access(const char *path, const char *whose,
			const struct cx_access *a, cx_err *e)
{
	if ((a->owner != -1 || a->group != -1) &&
	    chown(path, (uid_t)a->owner, (gid_t)a->group) < 0)
		return cx_fail(e, errno, "cannot give %s (%s) to owner %ld, "
			       "group %ld: %s (only root may give a file to "
			       "another user; other users may choose a group "
			       "they belong to)", path, whose, a->owner,
			       a->group, strerror(errno));
	int mode = a->mode != -1 ? a->mode : CX_ACCESS_DEFAULT_MODE;
	if (chmod(path, (mode_t)mode) < 0)
		return cx_fail(e, errno, "cannot set the mode of %s (%s) to "
			       "%04o: %s", path, whose, mode, strerror(errno));
	return 0;
}

static void listener_close(struct listener *l)
{
	struct stat st;

	if (l->fd < 0)
		return;
	/* remove the socket only if it is still ours */
	if (stat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->path);
	close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

/* Bind and listen on `path` for `host` (NULL: administrative).  The file
 * is owner-only from the moment it exists (the socket's mode before bind
 * is what bind gives the file), then gets the access it was given. */
static int listener_open(struct listener *l, const char *path,
			 struct cx_host *host, const struct cx_access *a,
			 cx_err *e)
{
	struct sockaddr_un sa;
	struct stat st;
	char whose[160];
	int rc, fd;

	l->fd = -1;
	if (host)
		snprintf(whose, sizeof(whose), "host %s's socket", host->name);
	else
		snprintf(whose, sizeof(whose), "the administrative socket");
	if ((rc = cx_proto_sockaddr(path, &sa, e))) {
		cx_err_prefix(e, "%s", whose);
		return rc;
	}
	rc = cx_server_probe(path, e);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return cx_fail(e, EADDRINUSE, "a fabric is already being "
			       "served on %s", path);
	if (lstat(path, &st) == 0 && unlink(path) < 0)
		return cx_fail(e, errno, "cannot remove the stale socket %s: "
			       "%s", path, strerror(errno));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cx_fail(e, errno, "socket: %s", strerror(errno));
	if (fchmod(fd, CX_ACCESS_DEFAULT_MODE) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		if (err == EADDRINUSE)
			return cx_fail(e, EADDRINUSE, "a fabric is already "
				       "being served on %s", path);
		return cx_fail(e, err, "cannot bind %s: %s", path,
			       strerror(err));
	}
	if ((rc = apply_access(path, whose, a, e))) {
		close(fd);
		unlink(path);
		return rc;
	}
	if (listen(fd, 64) < 0 || stat(path, &st) < 0) {
		int err = errno;
		close(fd);
		unlink(path);
		return cx_fail(e, err, "cannot listen on %s: %s", path,
			       strerror(err));
	}
	l->fd = fd;
	l->host = host;
	l->path = cx_xstrdup(path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
}

int cx_server_open(struct cx_fabric *f, const char *path,
		   struct cx_server **out, cx_err *e)
{
	struct cx_server *s = cx_xcalloc(1, sizeof(*s));
	char hp[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	int rc;

	s->ls = cx_xcalloc((size_t)f->hosts.n + 1, sizeof(*s->ls));
	for (int i = 0; i <= f->hosts.n; i++)
		s->ls[i].fd = -1;
	rc = listener_open(&s->ls[0], path, NULL, &f->admin_access, e);
	for (int i = 0; !rc && i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		s->nls++;
		if (!cx_proto_host_socket(path, h->name, hp, sizeof(hp)))
			rc = cx_fail(e, ENAMETOOLONG, "host %s's socket beside "
				     "%s would be too long a path", h->name,
				     path);
		else
			rc = listener_open(&s->ls[s->nls], hp, h, &h->access,
					   e);
	}
	if (rc) {
		for (int i = 0; i <= s->nls; i++)
			listener_close(&s->ls[i]);
		free(s->ls);
		free(s);
		return rc;
	}
	s->nls++;
	s->fabric = f;
	s->path = cx_xstrdup(path);
	/* name the blocks this daemon lends, and find who still maps an
	 * earlier one's */
	cx_srv_mappers_tag(path, s->fabric_id, sizeof(s->fabric_id), s->tag,
			   sizeof(s->tag));
	cx_media_set_tag(s->tag);
	s->nstale = cx_srv_mappers_scan(s->fabric_id, s->tag, s->stale,
					CX_STALE_MAX);
	s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->stop_client = -1;
	*out = s;
	return 0;
}

int cx_server_set_state(struct cx_server *s, const char *path, cx_err *e)
{
	free(s->state_path);
	s->state_path = cx_xstrdup(path);
	return cx_state_save(path, s->fabric, &s->state_last, e);
}

/* After a changing request: the state file follows. */
static void save_state(struct cx_server *s)
{
	cx_err e;
	if (s->state_path &&
	    cx_state_save(s->state_path, s->fabric, &s->state_last, &e))
		slog(s, "%s", e.msg);
}

int cx_server_stale_mappers(struct cx_server *s, char *buf, size_t len)
{
	/* those that ended are forgotten */
	s->nstale = s->nstale ? cx_srv_mappers_scan(s->fabric_id, s->tag,
						    s->stale, CX_STALE_MAX) : 0;
	cx_srv_mappers_describe(s->stale, s->nstale, buf, len);
	return s->nstale;
}

int cx_srv_stale_check(struct cx_srv_call *c, const char *what, cx_err *e)
{
	char who[256];
	int n = cx_server_stale_mappers(c->server, who, sizeof(who));
	if (!n)
		return 0;
	return cx_fail(e, EBUSY, "%s is refused while %d program%s of an "
		       "earlier daemon of this fabric still map%s its media "
		       "(%s): they hold copies the fabric no longer owns, "
		       "and would not see the change; end them first", what,
		       n, n == 1 ? "" : "s", n == 1 ? "s" : "", who);
}

/* ---- hooks ---- */

void cx_server_on_close(struct cx_server *s, int client,
			void (*fn)(void *arg), void *arg)
{
	struct hook *h = cx_xcalloc(1, sizeof(*h));

	h->client = client;
	h->fn = fn;
	h->arg = arg;
	cx_vec_push(&s->hooks, h);
}

/* Run the hooks of one client (or all of them with client < 0), newest
 * first so that later state is undone before what it was built on. */
static void run_hooks(struct cx_server *s, int client)
{
	for (int i = s->hooks.n - 1; i >= 0; i--) {
		struct hook *h = s->hooks.v[i];
		if (client >= 0 && h->client != client)
			continue;
		cx_vec_remove(&s->hooks, h);
		h->fn(h->arg);
		free(h);
	}
}

/* ---- connections ---- */

static void seg_free(struct out_seg *g)
{
	for (int i = 0; i < g->nfds; i++)
		close(g->fds[i]);
	free(g->buf);
	free(g);
}

static void client_free(struct cx_server *s, struct client *c)
{
	run_hooks(s, c->id);
	close(c->fd);
	cx_frame_rx_free(&c->rx);
	if (c->tok)
		json_tokener_free(c->tok);
	json_object_put(c->parked);
	if (c->pend) {
		/* the daemon is closing mid-way: what was done stays done */
		struct cx_srv_call *k = &c->pend->call;
		json_object_put(k->result);
		free(k->out_data);
		for (int i = 0; i < k->nfds; i++)
			close(k->fds[i]);
		free(k->more_arg);
		json_object_put(c->pend->req);
		free(c->pend->data);
		free(c->pend);
	}
	while (c->out) {
		struct out_seg *g = c->out;
		c->out = g->next;
		seg_free(g);
	}
	free(c);
}

static void queue_seg(struct client *c, uint8_t *buf, size_t len,
		      const int *fds, int nfds)
{
	struct out_seg *g = cx_xcalloc(1, sizeof(*g));

	g->hdr[0] = (uint8_t)len;
	g->hdr[1] = (uint8_t)(len >> 8);
	g->hdr[2] = (uint8_t)(len >> 16);
	g->hdr[3] = (uint8_t)(len >> 24);
	g->buf = buf;
	g->len = len;
	if (nfds > 0)
		memcpy(g->fds, fds, sizeof(int) * (size_t)nfds);
	g->nfds = nfds;
	if (c->out_tail)
		c->out_tail->next = g;
	else
		c->out = g;
	c->out_tail = g;
}

/* Queue a reply (consumed) with optional raw bytes (taken) and fds
 * (taken: closed once sent or when the client goes). */
static void queue_reply(struct client *c, struct json_object *reply,
			uint8_t *data, size_t data_len, const int *fds,
			int nfds)
{
	size_t len;
	const char *text;

	cx_proto_mark(reply, data_len, nfds);
	text = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN,
						 &len);
	uint8_t *copy = cx_xcalloc(1, len + 1);
	memcpy(copy, text, len);
	json_object_put(reply);
	queue_seg(c, copy, len, fds, nfds);
	if (data_len)
		queue_seg(c, data, data_len, NULL, 0);
	else
		free(data);
}

static void reply_error(struct client *c, int err, const char *msg)
{
	queue_reply(c, cx_proto_reply(err ? err : -EIO, NULL, msg), NULL, 0,
		    NULL, 0);
}

/* Send what the socket takes; drop the client on a hard error. */
static void client_flush(struct client *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CX_PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;

	while (c->out && !c->dead) {
		struct out_seg *g = c->out;
		struct iovec iov[2];
		int n = 0;
		struct msghdr mh;

		if (g->off < 4) {
			iov[n].iov_base = g->hdr + g->off;
			iov[n++].iov_len = 4 - g->off;
			if (g->len) {
				iov[n].iov_base = g->buf;
				iov[n++].iov_len = g->len;
			}
		} else {
			iov[n].iov_base = g->buf + (g->off - 4);
			iov[n++].iov_len = g->len + 4 - g->off;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		if (g->off == 0 && g->nfds > 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen =
				CMSG_SPACE(sizeof(int) * (size_t)g->nfds);
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)g->nfds);
			memcpy(CMSG_DATA(cm), g->fds,
			       sizeof(int) * (size_t)g->nfds);
		}
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			c->dead = true;
			return;
		}
		if (g->off == 0 && g->nfds > 0) {
			for (int i = 0; i < g->nfds; i++)
				close(g->fds[i]);
			g->nfds = 0;
		}
		g->off += (size_t)w;
		if (g->off == g->len + 4) {
			c->out = g->next;
			if (!c->out)
				c->out_tail = NULL;
			seg_free(g);
		}
	}
	if (!c->out && c->close_when_flushed)
		c->dead = true;
}

/* ---- dispatch ---- */

static void host_names(struct cx_fabric *f, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < f->hosts.n && used < len; i++) {
		struct cx_host *h = f->hosts.v[i];
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 h->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void op_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (const struct cx_op *op = cx_server_ops; op->name && used < len;
	     op++) {
		int n = snprintf(buf + used, len - used, "%s%s",
				 op == cx_server_ops ? "" : ", ", op->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Whatever a changing request did, no program keeps blocks that no grant
 * covers any more (model/grant.h). */
static void reclaim(struct cx_server *s)
{
	cx_err e;
	cx_srv_dcd_revoke(s->fabric);   /* DC devices of regions gone */
	int n = cx_fabric_reclaim(s->fabric, &e);
	if (n < 0)
		slog(s, "taking back media blocks: %s", e.msg);
	else if (n > 0)
		slog(s, "took back %d media block%s that no grant covers any "
		     "more", n, n == 1 ? "" : "s");
}

/* Grants and the state file follow the regions and decoders: only when
 * those changed is there anything to do. */
static void follow_state(struct cx_server *s)
{
	uint64_t d = cx_state_digest(s->fabric);
	if (d != s->digest) {
		s->digest = d;
		reclaim(s);
		save_state(s);
	}
}

/* The end of a request: after a changing one, take back what no grant
 * covers and save the state; then the reply (or the refusal), the log. */
static void finish(struct cx_server *s, struct client *c,
		   const struct cx_op *op, struct cx_srv_call *call,
		   struct json_object *req, uint8_t *data, int rc, cx_err *e)
{
	if (op && (op->flags & CX_OP_CHANGES))
		s->generation++;  /* a refusal changes nothing, but be safe */
	if (op && ((op->flags & CX_OP_STATE) || (call && call->restate)))
		follow_state(s);
	if (op && (op->flags & CX_OP_RECLAIM) && rc >= 0)
		reclaim(s);
	if (call && rc < 0) {
		json_object_put(call->result);
		free(call->out_data);
		for (int i = 0; i < call->nfds; i++)
			close(call->fds[i]);
	}
	if (rc < 0) {
		if (s->log)
			slog(s, "client %d host %s: refused %s: %s", c->id,
			     c->host ? c->host : "-", req_text(req), e->msg);
		reply_error(c, rc, e->msg);
	} else {
		if ((op->flags & CX_OP_CHANGES) && s->log)
			slog(s, "client %d host %s: %s", c->id,
			     call->host->name, req_text(req));
		if (call->stop) {
			s->stopping = true;
			s->stop_client = c->id;
		}
		queue_reply(c, cx_proto_reply(0, call->result, NULL),
			    call->out_data, call->out_len, call->fds,
			    call->nfds);
	}
	json_object_put(req);
	free(data);
}

static void dispatch(struct cx_server *s, struct client *c,
		     struct json_object *req, uint8_t *data, size_t data_len)
{
	struct cx_srv_call call;
	const struct cx_op *op;
	const char *name = NULL, *host = NULL;
	cx_err e;
	int rc;
	char list[512];

	memset(&call, 0, sizeof(call));
	if ((rc = cx_proto_get_str(req, "op", true, &name, &e)))
		goto fail;
	if (!(op = cx_server_find_op(name))) {
		op_names(list, sizeof(list));
		rc = cx_fail(&e, EOPNOTSUPP, "unknown op '%s' (this fabric "
			     "knows: %s)", name, list);
		goto fail;
	}
	if ((rc = cx_proto_get_str(req, "host", false, &host, &e)))
		goto fail;
	if (c->via->host) {
		/* a host's socket: that host, whatever the request says */
		struct cx_host *own = c->via->host;
		if (host && strcmp(host, own->name)) {
			rc = cx_fail(&e, EACCES, "this connection came through "
				     "host %s's socket (%s) and acts as %s "
				     "only; it may not act as host '%s' (each "
				     "host has its own socket)", own->name,
				     c->via->path, own->name, host);
			goto fail;
		}
		if (op->flags & CX_OP_ADMIN) {
			rc = cx_fail(&e, EPERM, "'%s' acts on the whole fabric: "
				     "only its administrative socket (%s) may "
				     "ask for it, not host %s's socket",
				     name, s->path, own->name);
			goto fail;
		}
		host = own->name;
	}
	call.host = cx_host_find(s->fabric, host);
	if (!call.host) {
		host_names(s->fabric, list, sizeof(list));
		if (host)
			rc = cx_fail(&e, ENOENT, "no host '%s' in this fabric "
				     "(hosts: %s)", host, list);
		else
			rc = cx_fail(&e, ENOENT, "this fabric has no hosts");
		goto fail;
	}
	call.server = s;
	call.fabric = s->fabric;
	call.admin = !c->via->host;
	call.client = c->id;
	call.req = req;
	call.data = data;
	call.data_len = data_len;
	c->host = call.host->name;
	rc = cx_server_run_op(op, &call, &e);
	if (rc == 0 && call.more) {
		/* long work: the rest goes piece by piece between other
		 * clients' requests (run_pending) */
		struct pending *p = cx_xcalloc(1, sizeof(*p));
		p->call = call;
		p->op = op;
		p->req = req;
		p->data = data;
		c->pend = p;
		return;
	}
	finish(s, c, op, &call, req, data, rc, &e);
	return;
fail:
	finish(s, c, NULL, NULL, req, data, rc, &e);
}

/* Run one piece of each client's long work; true when some is left. */
static bool run_pending(struct cx_server *s)
{
	bool left = false;
	for (int i = 0; i < s->clients.n; i++) {
		struct client *c = s->clients.v[i];
		struct pending *p = c->pend;
		cx_err e;
		if (!p)
			continue;
		e.msg[0] = 0;
		int rc = p->call.more(&p->call, &e);
		if (rc > 0) {
			left = true;
			continue;
		}
		c->pend = NULL;
		finish(s, c, p->op, &p->call, p->req, p->data, rc, &e);
		free(p->call.more_arg);
		free(p);
		client_flush(c);
	}
	return left;
}

/* A frame that is not a request: say why, in the reply and the log. */
static void proto_error(struct cx_server *s, struct client *c, int rc,
			const char *msg)
{
	slog(s, "client %d: bad frame: %s", c->id, msg);
	reply_error(c, rc, msg);
}

/* A complete frame arrived. */
static void on_frame(struct cx_server *s, struct client *c, uint8_t *buf,
		     size_t len)
{
	struct json_object *req;
	uint64_t dlen = 0;
	cx_err e;
	int rc;

	if (c->parked) {
		req = c->parked;
		c->parked = NULL;
		if (len != c->parked_len) {
			json_object_put(req);
			free(buf);
			rc = cx_fail(&e, EPROTO, "the raw frame holds %zu bytes "
				     "but the request announced data_len %llu; "
				     "nothing was done", len,
				     (unsigned long long)c->parked_len);
			proto_error(s, c, rc, e.msg);
			return;
		}
		dispatch(s, c, req, buf, len);
		return;
	}
	if (!c->tok)
		c->tok = json_tokener_new();
	rc = c->tok ? cx_proto_parse_tok(c->tok, buf, len, &req, &e) :
		cx_proto_parse(buf, len, &req, &e);
	free(buf);
	if (rc) {
		proto_error(s, c, rc, e.msg);
		return;
	}
	if ((rc = cx_proto_get_u64(req, "data_len", false, &dlen, &e))) {
		json_object_put(req);
		proto_error(s, c, rc, e.msg);
		return;
	}
	if (dlen > CX_PROTO_MAX_FRAME) {
		json_object_put(req);
		rc = cx_fail(&e, EMSGSIZE, "data_len %llu is larger than the "
			     "%u bytes a frame may hold",
			     (unsigned long long)dlen, CX_PROTO_MAX_FRAME);
		proto_error(s, c, rc, e.msg);
		c->close_when_flushed = true;
		return;
	}
	if (dlen) {
		c->parked = req;
		c->parked_len = dlen;
		return;
	}
	dispatch(s, c, req, NULL, 0);
}

/* A request waits for its raw frame and a binary frame came: the
 * request is dropped, unapplied, and the connection closed, since what
 * the client sends next cannot be placed. */
static void binary_in_place_of_data(struct cx_server *s, struct client *c,
				    uint8_t *buf)
{
	cx_err e;
	int rc = cx_fail(&e, EPROTO, "a binary frame came where the raw frame "
			 "of the request's data_len %llu was due; the request "
			 "was not applied", (unsigned long long)c->parked_len);
	json_object_put(c->parked);
	c->parked = NULL;
	free(buf);
	proto_error(s, c, rc, e.msg);
	c->close_when_flushed = true;
}

/* A binary mailbox frame (proto/mbox_frame.h): the command runs as the
 * socket's host and the answer is one binary frame.  Every refusal keeps
 * the connection: the frame's length was good, so the next one starts
 * where this one ended. */
static void on_binary(struct cx_server *s, struct client *c, uint8_t *buf,
		      size_t len)
{
	struct cx_mbf_req rq;
	struct cx_mbf_rep rp = { .status = CX_MBF_RAN };
	struct cx_srv_call call;
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	char text[256];
	cx_err e;
	int rc;

	memset(&call, 0, sizeof(call));
	text[0] = 0;
	if ((rc = cx_mbf_req_parse(buf, len, &rq, &e)) == 0 && !c->via->host)
		rc = cx_fail(&e, EPERM, "a binary mailbox frame acts as the "
			     "host whose socket it came through; the "
			     "administrative socket (%s) is no host's: send "
			     "it on the host's own socket, or use the JSON "
			     "mbox request", s->path);
	if (rc == 0) {
		call.server = s;
		call.fabric = s->fabric;
		call.host = c->via->host;
		call.client = c->id;
		c->host = call.host->name;
		s->generation++;
		rc = cx_srv_mbox_binary(&call, &rq, &rp, out, sizeof(out),
					text, sizeof(text), &e);
		if (call.restate)
			follow_state(s);
	}
	if (rc < 0) {
		rp = (struct cx_mbf_rep){ .status = CX_MBF_REFUSED,
					  .err = -rc, .text = e.msg };
		slog(s, "client %d host %s: refused a binary mailbox frame: "
		     "%s", c->id, c->host ? c->host : "-", e.msg);
	} else if (s->log) {
		slog(s, "client %d host %s: mbox mem%u opcode 0x%04x (binary) "
		     "rc %u", c->id, c->host, rq.memdev, rq.opcode, rp.rc);
	}
	size_t n;
	uint8_t *reply = cx_mbf_rep_build(&rp, &n);
	free(buf);
	queue_seg(c, reply, n, NULL, 0);
	c->out_tail->hdr[3] |= CX_PROTO_BINARY >> 24;
}

/* The client's next frame is (partly) read already and it may be served:
 * the socket may be dry, so poll() would not say so. */
static bool read_ahead(const struct cx_server *s, const struct client *c)
{
	return !s->stopping && !c->out && !c->pend && !c->dead &&
	       !c->close_when_flushed && cx_frame_rx_buffered(&c->rx);
}

/* Read until one frame completes (then handle it) or the socket is dry. */
static void client_read(struct cx_server *s, struct client *c)
{
	cx_err e;

	/* a client sending a big frame gets a share of a round, not the
	 * daemon: the rest is read on the next ones */
	c->rx.quota = CX_SRV_STEP;
	while (!c->dead && !c->out && !c->pend && !c->close_when_flushed) {
		size_t max = c->parked ? CX_PROTO_MAX_FRAME : CX_PROTO_MAX_JSON;
		int rc = cx_frame_rx_read(&c->rx, c->fd, max, &e);
		if (rc == 0)
			return;
		if (rc == -EMSGSIZE) {
			proto_error(s, c, rc, e.msg);
			c->close_when_flushed = true;
			return;
		}
		if (rc < 0) {
			c->dead = true; /* gone, maybe mid-request: drop it */
			return;
		}
		size_t len;
		bool binary;
		uint8_t *buf = cx_frame_rx_take(&c->rx, &len, &binary);
		if (binary && !c->parked)
			on_binary(s, c, buf, len);
		else if (binary)
			binary_in_place_of_data(s, c, buf);
		else
			on_frame(s, c, buf, len);
		if (s->stopping)
			return;
	}
}

/* Tell a connection we cannot serve why, and hang up. */
static void shed(struct cx_server *s, int fd, const char *why)
{
	slog(s, "turned a connection away: %s", why);
	struct json_object *r = cx_proto_reply(EMFILE, NULL, why);
	cx_proto_send_msg(fd, r, NULL, 0, NULL, 0, NULL);
	json_object_put(r);
	close(fd);
}

/* Out of descriptors even with the spare given back: stop polling the
 * listening socket, or poll() would return at once forever.  Newcomers
 * wait in the listen backlog.  A client leaving lifts the pause; so does
 * the clock, since descriptors can come back without one leaving (the
 * limit raised, another descriptor closed) and a daemon with no clients
 * must not stay deaf. */
#define CX_ACCEPT_RETRY_MS 500

static void pause_accept(struct cx_server *s)
{
	s->accept_paused = true;
	clock_gettime(CLOCK_MONOTONIC, &s->retry_at);
	s->retry_at.tv_nsec += CX_ACCEPT_RETRY_MS * 1000000L;
	if (s->retry_at.tv_nsec >= 1000000000L) {
		s->retry_at.tv_sec++;
		s->retry_at.tv_nsec -= 1000000000L;
	}
}

static void resume_accept(struct cx_server *s)
{
	s->accept_paused = false;
	if (s->spare < 0) /* take the spare back while there is room */
		s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static bool accept_retry_due(const struct cx_server *s)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > s->retry_at.tv_sec ||
	       (now.tv_sec == s->retry_at.tv_sec &&
		now.tv_nsec >= s->retry_at.tv_nsec);
}

static void log_peer(struct cx_server *s, struct client *c)
{
	struct ucred who;
	socklen_t wl = sizeof(who);
	char via[128];

	if (c->via->host)
		snprintf(via, sizeof(via), "host %s's socket",
			 c->via->host->name);
	else
		snprintf(via, sizeof(via), "the administrative socket");
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &who, &wl) == 0)
		slog(s, "client %d connected to %s (pid %d, uid %u, gid %u)",
		     c->id, via, (int)who.pid, (unsigned)who.uid,
		     (unsigned)who.gid);
	else
		slog(s, "client %d connected to %s", c->id, via);
}

static void accept_clients(struct cx_server *s, const struct listener *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    s->spare >= 0) {
			/* Out of descriptors: the pending connection would
			 * keep the listening socket readable and poll() would
			 * spin.  Use the spare descriptor to take it and hang
			 * up, then hold a spare again. */
			close(s->spare);
			fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				shed(s, fd, "the fabric daemon is out of file "
				     "descriptors; try again when other "
				     "clients have gone");
			s->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				continue;
		}
		if (fd < 0) {
			/* Still out of descriptors: the spare did not make
			 * room (or is gone). */
			if (errno == EMFILE || errno == ENFILE)
				pause_accept(s);
			return; /* EAGAIN, or a client that vanished */
		}
		if (s->clients.n >= CX_SERVER_MAX_CLIENTS) {
			char why[128];
			snprintf(why, sizeof(why), "the fabric daemon serves at "
				 "most %d connections at once; try again when "
				 "one has closed", CX_SERVER_MAX_CLIENTS);
			shed(s, fd, why);
			continue;
		}
		struct client *c = cx_xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->id = ++s->next_id;
		c->via = l;
		cx_vec_push(&s->clients, c);
		if (s->log)
			log_peer(s, c);
	}
}

static bool client_alive(struct cx_server *s, int id)
{
	for (int i = 0; i < s->clients.n; i++) {
		struct client *c = s->clients.v[i];
		if (c->id == id)
			return !c->dead;
	}
	return false;
}

int cx_server_run(struct cx_server *s, volatile sig_atomic_t *quit,
		  cx_err *e)
{
	struct pollfd *pfd = NULL;
	int cap = 0;
	bool busy = false;            /* long work left: do not sleep */
	uint64_t served = 0;          /* when a request was last read */

	while (!(quit && *quit)) {
		/* stopping: finish sending the reply to "stop", then leave */
		if (s->stopping) {
			bool pending = false;
			for (int i = 0; i < s->clients.n; i++) {
				struct client *c = s->clients.v[i];
				if (c->id == s->stop_client && !c->dead &&
				    c->out)
					pending = true;
			}
			if (!pending || !client_alive(s, s->stop_client))
				break;
		}
		int nl = s->nls, n = s->clients.n + nl;
		if (n > cap) {
			cap = n * 2;
			pfd = cx_xrealloc(pfd, sizeof(*pfd) * (size_t)cap);
		}
		for (int i = 0; i < nl; i++) {
			pfd[i].fd = s->stopping || s->accept_paused ? -1 :
				    s->ls[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		for (int i = 0; i < s->clients.n; i++) {
			struct client *c = s->clients.v[i];
			pfd[i + nl].fd = c->fd;
			pfd[i + nl].events = c->out ? POLLOUT :
					     (s->stopping || c->pend ? 0 :
					      POLLIN);
			pfd[i + nl].revents = 0;
		}
		/* just after a request, the client's next one is likely
		 * microseconds away: poll awake a while (util/spin.h) */
		bool awake = served && cx_now_us() - served < cx_spin_us();
		int r = poll(pfd, (nfds_t)n, busy || awake ? 0 :
			     s->accept_paused ? CX_ACCEPT_RETRY_MS : 1000);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			free(pfd);
			return cx_fail(e, err, "poll: %s", strerror(err));
		}
		if (r == 0 && awake && !busy)
			sched_yield(); /* awake, not in the clients' way */
		cx_srv_poll_devices(s->fabric); /* background operations */
		int nclients = s->clients.n; /* accept appends after these */
		if (s->accept_paused && !s->stopping && accept_retry_due(s)) {
			resume_accept(s);
			for (int i = 0; i < nl; i++) /* backlogs may hold some */
				accept_clients(s, &s->ls[i]);
		}
		for (int i = 0; i < nl; i++)
			if (pfd[i].revents & POLLIN)
				accept_clients(s, &s->ls[i]);
		for (int i = 0; i < nclients; i++) {
			struct client *c = s->clients.v[i];
			short ev = pfd[i + nl].revents;
			bool stashed = read_ahead(s, c);
			if (!ev && !stashed)
				continue;
			if (c->out) {
				if (ev & (POLLOUT | POLLERR | POLLHUP))
					client_flush(c);
			} else if ((ev & (POLLIN | POLLERR | POLLHUP)) ||
				   stashed) {
				client_read(s, c);
				client_flush(c); /* most replies go at once */
				served = cx_now_us();
			}
		}
		busy = run_pending(s);
		/* a frame already read ahead waits for no poll() */
		for (int i = 0; i < s->clients.n && !busy; i++)
			busy = read_ahead(s, s->clients.v[i]);
		for (int i = s->clients.n - 1; i >= 0; i--) {
			struct client *c = s->clients.v[i];
			if (c->dead && !c->pend && c->id != s->stop_client) {
				slog(s, "client %d closed", c->id);
				cx_vec_remove(&s->clients, c);
				client_free(s, c);
				/* a descriptor is free: it is for the next
				 * newcomer, not for the spare (the timed
				 * retry takes the spare back) */
				s->accept_paused = false;
			}
		}
	}
	free(pfd);
	return 0;
}

void cx_server_close(struct cx_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nls; i++)
		listener_close(&s->ls[i]);
	free(s->ls);
	if (s->spare >= 0)
		close(s->spare);
	run_hooks(s, -1);
	cx_srv_sysfs_cache_free(s->sysfs);
	cx_srv_coherency_release();
	cx_fabric_free(s->fabric);
	free(s->state_path);
	cx_state_saved_free(&s->state_last);
	for (int i = 0; i < s->clients.n; i++)
		client_free(s, s->clients.v[i]);
	cx_vec_free(&s->clients);
	cx_vec_free(&s->hooks);
	free(s->path);
	free(s);
}
