/*
 * server.h - the daemon: one fabric served to many clients over a UNIX
 * socket (wire format in proto/proto.h).
 *
 * The server is a single-threaded poll() loop.  A request is acted on only
 * when its JSON frame, and the raw frame it announces, have arrived whole;
 * a client that goes away in the middle of one is dropped and nothing is
 * applied.  Bad requests get an error reply; the loop keeps serving.
 *
 * Ops are rows of a table (ops.c): a name and a handler.  A handler reads
 * the request, acts on the fabric, and fills the reply part of the call:
 * a JSON result, optionally raw bytes and file descriptors.  State that
 * must die with the client (a mapping, say) registers a close hook.
 */
#ifndef CXLEMU_SERVER_H
#define CXLEMU_SERVER_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>

#include "model/grant.h"
#include "model/model.h"
#include "proto/proto.h"
#include "proto/schema.h"

struct cx_server;

/* Connections served at once; more are told so and closed.  Each may hold
 * up to CX_PROTO_MAX_FRAME bytes of a request in flight. */
#define CX_SERVER_MAX_CLIENTS 256

/*
 * Bind and listen on `path`, the administrative socket, and beside it on
 * one socket per host (cx_proto_host_socket), each with the owner, group
 * and mode the fabric gives it (f->admin_access, h->access; by default
 * the daemon's user only).  Refuses (-EADDRINUSE, "a fabric is already
 * being served on PATH") when a daemon answers on any of them, replaces a
 * stale socket file nobody answers on, and refuses to replace anything
 * that is not a socket.  On success the server owns `f` (a started
 * fabric).
 */
int cx_server_open(struct cx_fabric *f, const char *path,
		   struct cx_server **out, cx_err *e);
/* Serve until a "stop" request or until *quit becomes non-zero (a signal
 * handler's flag; may be NULL). */
int cx_server_run(struct cx_server *s, volatile sig_atomic_t *quit,
		  cx_err *e);
/* Remove the socket, free the fabric (media flushed), then drop clients:
 * a client waiting for the connection to close knows the daemon is gone. */
void cx_server_close(struct cx_server *s);
const char *cx_server_path(const struct cx_server *s);
struct cx_fabric *cx_server_fabric(struct cx_server *s);

/*
 * What the daemon did, one line at a time (no timestamp, no newline):
 * connections opened and closed (with the peer's pid and uid), every
 * request that changed the fabric and every request refused (op, host,
 * the request, the reason), newcomers turned away, and the stop.
 * Read-only requests that succeed are not logged.  Without a log
 * function nothing is formatted.
 */
typedef void (*cx_server_log_fn)(void *ctx, const char *line);
void cx_server_set_log(struct cx_server *s, cx_server_log_fn fn, void *ctx);

/*
 * Keep the fabric's state in `path` (state.h): written now, and after
 * every request that changes it.  A write that fails is logged and the
 * daemon serves on.
 */
int cx_server_set_state(struct cx_server *s, const char *path, cx_err *e);
/*
 * Programs an earlier daemon of this fabric lent media to and that still
 * map them (mappers.c), found when the server opened: how many still run,
 * and who they are ("pid N (comm), ...") in buf.
 */
int cx_server_stale_mappers(struct cx_server *s, char *buf, size_t len);

/*
 * What is at `path`: 1 when a fabric answers, 0 when nothing or a stale
 * socket is there, negative when something else is in the way.
 */
int cx_server_probe(const char *path, cx_err *e);

/* ---- ops ---- */
struct cx_srv_call {
	struct cx_server *server;
	struct cx_fabric *fabric;
	struct cx_host *host;        /* the host the request acts as: its
					connection's, or on the
					administrative socket the one it
					names */
	bool admin;                  /* came through the administrative
					socket */
	int client;                  /* connection id, for close hooks */
	struct json_object *req;     /* the request (borrowed) */
	const uint8_t *data;         /* its raw frame, if any */
	size_t data_len;
	/* the reply, filled by the handler */
	struct json_object *result;  /* owned by the call */
	uint8_t *out_data;           /* malloc'd; sent as a raw frame */
	size_t out_len;
	int fds[CX_PROTO_MAX_FDS];   /* sent with the reply, then closed by
					the server: hand over dup()s */
	int nfds;
	bool stop;                   /* exit the loop after this reply */
	bool restate;                /* set by a handler whose op is not
					CX_OP_STATE when this request changed
					what the state file records (a
					partition, through the mailbox) */
	/* Long work (a big read or write): a handler that sets `more` has
	 * done a first piece of CX_SRV_STEP bytes; the server calls more()
	 * once per round of its loop, between other clients' requests,
	 * until it returns 0 (done: the reply goes out) or a negative errno,
	 * and then frees more_arg. */
	int (*more)(struct cx_srv_call *c, cx_err *e);
	void *more_arg;
};
/* Bytes of bulk work (copying, reading a frame) one client gets per
 * round of the loop, so that small requests of others wait at most a few
 * of these: about a millisecond each. */
#define CX_SRV_STEP (1u << 20)
typedef int (*cx_op_fn)(struct cx_srv_call *c, cx_err *e);

/* An op of proto/ops.def bound to its handler: name and flags are its
 * schema's. */
struct cx_op {
	const char *name;
	cx_op_fn fn;
	unsigned flags;                      /* CX_OP_* (proto/schema.h) */
	const struct cx_op_schema *schema;   /* its row: the keys it takes */
};
/* The table, in the order of proto/ops.def, ended by a row with a NULL
 * name. */
extern const struct cx_op cx_server_ops[];
const struct cx_op *cx_server_find_op(const char *name);
/* What dispatch does once it knows the op and the host: hold the request
 * to the op's row (cx_schema_check), then run its handler. */
int cx_server_run_op(const struct cx_op *op, struct cx_srv_call *c,
		     cx_err *e);

/* Run fn(arg) when connection `client` closes (or the server does). */
void cx_server_on_close(struct cx_server *s, int client,
			void (*fn)(void *arg), void *arg);

/* The host sysfs views built for requests, kept until the fabric
 * changes (ops_sysfs.c); the server owns the slot. */
struct cx_srv_sysfs_cache;
struct cx_srv_sysfs_cache **cx_server_sysfs_cache(struct cx_server *s);
void cx_srv_sysfs_cache_free(struct cx_srv_sysfs_cache *c);
/* How many changing requests the server has run: what a cache keys on. */
uint64_t cx_server_generation(const struct cx_server *s);

/* handlers (ops_*.c): cx_op_<ident> for every row of proto/ops.def */
#define CX_OP(id, name, flags, keys) \
	int cx_op_##id(struct cx_srv_call *c, cx_err *e);
#include "proto/ops.def"
#undef CX_OP
/* device-DAX (ops_dax.c, ops_coherency.c) */
/* The line states and writer registry dax-coherency keeps, released
 * when the server closes (ops_coherency.c). */
void cx_srv_coherency_release(void);
/* The DAX device a request names in "device" ("daxZ.0"). */
struct cx_region;
int cx_srv_dax_device(struct cx_srv_call *c, struct cx_region **out,
		      cx_err *e);
/* The blocks a region grants (model/grant.h), lent, as dax-map hands them
 * over: the distinct blocks in the order positions first reach them, and
 * each position's extents over them; or, for an interleaved region over
 * memfd media, its view alone.  dax-coherency gives line states in the
 * same order. */
struct cx_srv_blocks {
	struct cx_grant g;
	int n;                               /* distinct blocks */
	struct cx_media_lease blk[CX_PROTO_MAX_FDS];
	int first[CX_MAX_WAYS + 1];          /* position j: ext[first[j]..] */
	struct {
		int blk;                     /* index in blk */
		uint64_t fd_off, len;
	} ext[CX_PROTO_MAX_FDS];
	int next;                            /* extents used */
	bool view;      /* blk[0] is the region's view (region_view.h): no
			   extents, the device's bytes in order */
	char why[256];  /* ways > 1 and no view: why (one line) */
};
int cx_srv_region_blocks(struct cx_fabric *f, struct cx_region *r,
			 struct cx_srv_blocks *b, cx_err *e);
/* Lend [off, off+len) of media as the next extents of b (errors are
 * prefixed with `what`). */
int cx_srv_blocks_add(struct cx_srv_blocks *b, struct cx_media *media,
		      uint64_t off, uint64_t len, const char *what, cx_err *e);
/* The dax-map reply for blocks b: the layout, the blocks' descriptors. */
int cx_srv_map_reply(struct cx_srv_call *c, const struct cx_srv_blocks *b,
		     const char *dev, uint64_t size, const char *mode,
		     bool noncoherent, cx_err *e);
/* DAX devices over dynamic capacity, "dcdN.K" (ops_dcd.c): dax-map and
 * dax-unmap of one, and whether a host's programs map capacity. */
int cx_srv_dcd_map(struct cx_srv_call *c, const char *name, cx_err *e);
/* Is `name` a DAX device over dynamic capacity: dcdN.K, or daxR.K of a
 * dynamic_ram_a region (that region, and K)? */
bool cx_srv_dc_name(struct cx_srv_call *c, const char *name);
struct cx_region *cx_srv_dc_region(struct cx_srv_call *c, const char *name,
				   long *k);
int cx_srv_dcd_unmap(struct cx_srv_call *c, const char *name, cx_err *e);
bool cx_srv_dcd_in_use(void *ctx, struct cx_memdev *m, uint64_t dpa,
		       uint64_t len, char *why, size_t wl);
/* After dynamic capacity changed hands: a mapping whose host no longer
 * holds all its capacity loses its blocks, from every mapper (a shared
 * block is one set of pages; the others map it again). */
void cx_srv_dcd_revoke(struct cx_fabric *f);
/* device management (ops_mbox.c) */
/* Complete every memdev's background operation whose time is up; the
 * loop calls it on every iteration (at least once a second). */
void cx_srv_poll_devices(struct cx_fabric *f);
/* The memdev a request names in `key` (memN or its id=), with a mailbox,
 * or an error naming the host and the memdevs it has. */
int cx_srv_memdev(struct cx_srv_call *c, const char *key,
		  struct cx_memdev **out, cx_err *e);

/* A short list of names for "host X has no Y 'z' (it has: ...)" errors:
 * cx_srv_names_add appends one name, after ", " when the list is not
 * empty, and stops adding once the buffer is full. */
struct cx_srv_names {
	char buf[256];
	size_t used;
};
void cx_srv_names_add(struct cx_srv_names *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Destructive acts (destroy a region, sanitize, erase) wait while
 * programs of an earlier daemon still map its media: -EBUSY naming them
 * and `what` was refused. */
int cx_srv_stale_check(struct cx_srv_call *c, const char *what, cx_err *e);
/* The mailbox, shared by the JSON "mbox" op and binary frames: refuse
 * destructive commands while an earlier daemon's mappers remain, run the
 * command, mark a partition change for the state file; `busy` gets what
 * holds a busy device (empty otherwise).  0 when the mailbox took it. */
struct cx_memdev;
int cx_srv_mbox_run(struct cx_srv_call *c, struct cx_memdev *m,
		    uint16_t opcode, const uint8_t *in, size_t in_len,
		    uint8_t *out, size_t *out_len, uint16_t *rc16,
		    char *busy, size_t busy_len, cx_err *e);
/* A binary frame's command (proto/mbox_frame.h) for the call's host:
 * fills rp (output in `out`, text in `text`), or a negative errno. */
struct cx_mbf_req;
struct cx_mbf_rep;
int cx_srv_mbox_binary(struct cx_srv_call *c, const struct cx_mbf_req *rq,
		       struct cx_mbf_rep *rp, uint8_t *out, size_t out_cap,
		       char *text, size_t text_len, cx_err *e);
/* mappers.c: this fabric's tag for lent blocks (fabric id, then the
 * instance), the programs mapping another instance's blocks, and their
 * names. */
void cx_srv_mappers_tag(const char *socket, char *fabric, size_t flen,
			char *tag, size_t tlen);
int cx_srv_mappers_scan(const char *fabric, const char *tag, int *pids,
			int max);
void cx_srv_mappers_describe(const int *pids, int n, char *buf, size_t len);

/* Shared by handlers: the region a request names in `key`, or an error
 * naming the host and the regions it has. */
int cx_srv_region(struct cx_srv_call *c, const char *key,
		  struct cx_region **out, cx_err *e);
/* The range [off, off+len) must lie inside the region. */
int cx_srv_check_range(struct cx_region *r, uint64_t off, uint64_t len,
		       cx_err *e);

#endif
