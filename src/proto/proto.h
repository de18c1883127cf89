/*
 * proto.h - the daemon's wire protocol over a UNIX stream socket.
 *
 * A message is a frame: 4-byte little-endian length, then that many bytes
 * of JSON.  A request is {"op": NAME, "host": HOST, ...}; a reply is
 * {"ok": true, "result": ...} or {"ok": false, "errno": N, "error": TEXT}.
 * Bulk bytes follow a JSON frame as one raw frame when the JSON says
 * "data_len": N.  File descriptors (media handed to a mapping client) ride
 * on the reply's JSON frame as SCM_RIGHTS, counted by "nfds".
 */
#ifndef CXLEMU_PROTO_H
#define CXLEMU_PROTO_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define CX_PROTO_MAX_FRAME (256u << 20)   /* refuse larger frames */
#define CX_PROTO_MAX_FDS 64

/* Default socket: $CXLEMU_SOCKET, else /tmp/cxlemu-<uid>.sock */
const char *cx_proto_default_socket(char *buf, size_t len);

#endif
