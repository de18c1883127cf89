/*
 * proto.h - the daemon's wire protocol over a UNIX stream socket.
 *
 * A message is a frame: 4-byte little-endian length, then that many bytes
 * of JSON.  A request is {"op": NAME, "host": HOST, ...}; a reply is
 * {"ok": true, "result": ...} or {"ok": false, "errno": N, "error": TEXT}.
 * Bulk bytes follow a JSON frame as one raw frame when the JSON says
 * "data_len": N.  File descriptors (media handed to a mapping client) ride
 * on the reply's JSON frame as SCM_RIGHTS, counted by "nfds".
 *
 * A header with its top bit set (CX_PROTO_BINARY) announces a binary
 * frame instead of JSON: a mailbox command in a fixed little-endian
 * layout (proto/mbox_frame.h), answered by one binary frame, no JSON on
 * either side.  Frames never reach 2^31 bytes, so the bit is free.
 */
#ifndef CXLEMU_PROTO_H
#define CXLEMU_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define CX_PROTO_MAX_FRAME (256u << 20)   /* refuse larger frames */
#define CX_PROTO_BINARY 0x80000000u       /* header bit: a binary frame */
#define CX_PROTO_MAX_BINARY (64u << 10)   /* a binary frame is at most this */
#define CX_PROTO_MAX_FDS 64

/* Default socket: $CXLEMU_SOCKET, else /tmp/cxlemu-<uid>.sock */
const char *cx_proto_default_socket(char *buf, size_t len);
/*
 * The fabric's socket is its administrative socket; each host has its own
 * beside it: the fabric's path without a trailing ".sock", then
 * ".HOST.sock" (/tmp/cxlemu-1000.sock -> /tmp/cxlemu-1000.host1.sock).
 * Returns buf, or NULL when the path does not fit in len bytes.
 */
const char *cx_proto_host_socket(const char *fabric, const char *host,
				 char *buf, size_t len);

/* 2: binary mailbox frames (proto/mbox_frame.h) on a host's socket. */
#define CX_PROTO_VERSION 2
#define CX_PROTO_MAX_JSON (1u << 20)      /* a JSON frame is at most 1 MiB */
#define CX_PROTO_IO_CHUNK (64u << 20)     /* read/write bytes per request */

/*
 * Sockets.  cx_proto_connect: -ENOENT when nothing is at `path`,
 * -ECONNREFUSED when a socket file is there but nobody answers (stale).
 */
int cx_proto_sockaddr(const char *path, void *sockaddr_un, cx_err *e);
int cx_proto_connect(const char *path, int *fd, cx_err *e);

/* ---- blocking I/O (clients and tests) ---- */

/* One frame: header and payload; `fds` ride on its first byte. */
int cx_proto_send_frame(int fd, const void *buf, size_t len, const int *fds,
			int nfds, cx_err *e);
/* A JSON frame, then `data` as a raw frame when data_len > 0.  Adds
 * "data_len" and "nfds" to `msg` when they are non-zero. */
int cx_proto_send_msg(int fd, struct json_object *msg, const void *data,
		      size_t data_len, const int *fds, int nfds, cx_err *e);

/* A received message: the JSON object, the raw frame it announced, and the
 * file descriptors that came with it (owned: release closes them unless
 * the caller took them, setting the slot to -1). */
struct cx_proto_msg {
	struct json_object *json;
	uint8_t *data;
	size_t data_len;
	int fds[CX_PROTO_MAX_FDS];
	int nfds;
};
/* -EPIPE when the peer closed before the first byte of the message. */
int cx_proto_recv_msg(int fd, struct cx_proto_msg *m, cx_err *e);
void cx_proto_msg_release(struct cx_proto_msg *m);

/* Parse a JSON frame: it must be exactly one JSON object. */
int cx_proto_parse(const uint8_t *buf, size_t len, struct json_object **out,
		   cx_err *e);
/* The same with a tokener kept by the caller (one per connection), reset
 * before each frame. */
int cx_proto_parse_tok(struct json_tokener *tok, const uint8_t *buf,
		       size_t len, struct json_object **out, cx_err *e);

/* ---- incremental reads (the server's non-blocking sockets) ---- */
struct cx_frame_rx {
	bool binary;        /* the frame's header had CX_PROTO_BINARY */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *buf;
	size_t len, got;
	size_t quota;       /* bytes one read call may take; 0: no limit */
	uint8_t *stash;     /* bytes read ahead (CX_RX_STASH at most) */
	size_t stash_len, stash_off;
};
/* A header and a small frame come in one read: when less than this is
 * wanted, the read asks for this much and keeps what is past the frame
 * for the next one (cx_frame_rx_buffered). */
#define CX_RX_STASH 4096
/* Read what the socket has, and no more than about rx->quota bytes; what
 * arrives past the current frame waits in the stash, so a caller that
 * polls the socket must first ask cx_frame_rx_buffered.  Returns 1 when a
 * whole frame is ready (take it),
 * 0 when more is needed (the socket is dry or the quota used), -EPIPE
 * when the peer closed, -EMSGSIZE when the header announces more than
 * `max` bytes (the frame is then unusable), other negative errnos on
 * socket errors. */
int cx_frame_rx_read(struct cx_frame_rx *rx, int fd, size_t max, cx_err *e);
/* Hand over the completed frame's payload (malloc'd, NUL-terminated);
 * *binary says whether it was a binary frame (NULL: not asked). */
uint8_t *cx_frame_rx_take(struct cx_frame_rx *rx, size_t *len, bool *binary);
bool cx_frame_rx_partial(const struct cx_frame_rx *rx); /* mid-frame? */
/* Bytes of a next frame already read (the socket may be dry). */
bool cx_frame_rx_buffered(const struct cx_frame_rx *rx);
void cx_frame_rx_free(struct cx_frame_rx *rx);

/* ---- request fields: a missing (when required) or ill-typed field is an
 * -EINVAL naming the field and the type wanted ---- */
int cx_proto_get_str(struct json_object *req, const char *key, bool required,
		     const char **out, cx_err *e);
int cx_proto_get_u64(struct json_object *req, const char *key, bool required,
		     uint64_t *out, cx_err *e);
int cx_proto_get_int(struct json_object *req, const char *key, bool required,
		     int *out, cx_err *e);
int cx_proto_get_bool(struct json_object *req, const char *key, bool required,
		      bool *out, cx_err *e);
/* Any JSON type: *out borrowed from req (NULL when absent or null);
 * `tname` says what is wanted ("an array of strings"). */
int cx_proto_get_value(struct json_object *req, const char *key,
		       bool required, enum json_type type, const char *tname,
		       struct json_object **out, cx_err *e);

/* The one reply envelope: err 0 gives {"ok":true,"result":R} (consumes
 * R, NULL gives null), else {"ok":false,"errno":N,"error":TEXT} (N the
 * positive errno; R is consumed then too). */
struct json_object *cx_proto_reply(int err, struct json_object *result,
				   const char *text);
/* Say in a message's JSON what follows it: "data_len" (a raw frame) and
 * "nfds" (descriptors), each when not zero. */
void cx_proto_mark(struct json_object *msg, size_t data_len, int nfds);
/* Decode a reply: 0 and *result borrowed from `reply`, or -errno with the
 * daemon's message in *e; -EPROTO when the reply is not shaped as one. */
int cx_proto_reply_result(struct json_object *reply,
			  struct json_object **result, cx_err *e);

#endif
