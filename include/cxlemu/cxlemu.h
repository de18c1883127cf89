/*
 * cxlemu.h - attach to a cxlemu fabric as one of its hosts.
 *
 * A program connects to the daemon's UNIX socket (`cxlemu start`) and
 * names the host whose view it wants; every call then acts as that host:
 * list the fabric as `cxl list` would, create and destroy regions, ask
 * where a region offset lives, read and write region memory.
 *
 *     struct cxlemu *c;
 *     struct cxlemu_err err;
 *     if (cxlemu_connect(NULL, "host1", &c, &err) < 0)
 *             die(err.msg);
 *     cxlemu_write(c, "region0", 0, "hi", 2, &err);
 *     cxlemu_close(c);
 *
 * Calls return 0 or a negative errno; on failure `err` (may be NULL) holds
 * the fabric's sentence explaining why.  JSON results are json-c objects
 * the caller owns (json_object_put).  A handle carries one request at a
 * time: use one handle per thread.
 *
 * cxlemu_call() is the general form every convenience call is built on: it
 * sends any op and returns the reply's result, raw bytes and file
 * descriptors, so new ops (DAX mappings, mailbox) need no new plumbing.
 */
#ifndef CXLEMU_CXLEMU_H
#define CXLEMU_CXLEMU_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CXLEMU_VERSION "0.1.0"
#define CXLEMU_ERR_MAX 1024
#define CXLEMU_MAX_FDS 64

struct cxlemu_err {
	char msg[CXLEMU_ERR_MAX];
};

struct cxlemu;

/* The socket used when none is given: $CXLEMU_SOCKET, else
 * /tmp/cxlemu-<uid>.sock.  Returns buf. */
const char *cxlemu_default_socket(char *buf, size_t len);

/*
 * Connect to the fabric on `socket_path` (NULL: the default) as `host`
 * (NULL: the first host).  A named host is reached through its own socket
 * beside the fabric's (`<path without .sock>.<host>.sock`), which acts as
 * that host only; without a name, `socket_path` itself is used (the
 * fabric's administrative socket, or a host's socket given directly).
 * Fails with -ENOENT when no fabric is served there or the fabric has no
 * such host (the message lists its hosts), -EACCES when the socket's
 * owner, group and mode do not let this user in.
 */
int cxlemu_connect(const char *socket_path, const char *host,
		   struct cxlemu **out, struct cxlemu_err *err);
/* Connect through the administrative socket, `socket_path` itself, acting
 * as `host` (NULL: the first): fabric-wide acts (stop, inject) need it. */
int cxlemu_connect_admin(const char *socket_path, const char *host,
			 struct cxlemu **out, struct cxlemu_err *err);
void cxlemu_close(struct cxlemu *c);
const char *cxlemu_host(const struct cxlemu *c);     /* resolved name */
const char *cxlemu_socket(const struct cxlemu *c);
/* The hello reply: version, protocol, topology, host, hosts[] (borrowed). */
struct json_object *cxlemu_hello(const struct cxlemu *c);

/* ---- the general call ---- */
struct cxlemu_reply {
	struct json_object *result;  /* owned by the reply */
	uint8_t *data;               /* raw bytes that came with it */
	size_t data_len;
	int fds[CXLEMU_MAX_FDS];     /* descriptors that came with it; take
					one by setting its slot to -1 */
	int nfds;
};
/*
 * Send {"op": op, "host": <this host>, ...args} (args consumed, may be
 * NULL) with optional raw bytes, and wait for the reply.  On success the
 * reply must be released with cxlemu_reply_release().  A request that does
 * not fit its op's row of the daemon's schema (a key the op does not take,
 * a required one missing, a value of the wrong type) is not sent: -EINVAL,
 * and err says "request not sent: " and why, as the daemon would.
 */
int cxlemu_call(struct cxlemu *c, const char *op, struct json_object *args,
		const void *data, size_t data_len, struct cxlemu_reply *reply,
		struct cxlemu_err *err);
void cxlemu_reply_release(struct cxlemu_reply *reply);

/* ---- convenience calls ---- */

/* `cxl list`: opts is the listing options object (consumed; NULL for the
 * defaults); *out is the array as ndctl would print it. */
int cxlemu_list(struct cxlemu *c, struct json_object *opts,
		struct json_object **out, struct cxlemu_err *err);

struct cxlemu_region_req {
	const char *root;             /* root decoder, "decoder0.N" */
	const char *type;             /* "ram", "pmem" or NULL (default) */
	int ways;                     /* 0: number of memdevs */
	uint64_t granularity;         /* 0: the root's */
	uint64_t size;                /* 0: the default */
	const char *const *memdevs;   /* in position order; may be NULL */
	int nmemdevs;
	bool human;                   /* -u style JSON */
};
/* `cxl create-region`: *region is its JSON (with mappings). */
int cxlemu_create_region(struct cxlemu *c, const struct cxlemu_region_req *rq,
			 struct json_object **region, struct cxlemu_err *err);
/* `cxl destroy-region`: name is "regionZ" or "all". */
int cxlemu_destroy_region(struct cxlemu *c, const char *name, bool force,
			  int *destroyed, struct cxlemu_err *err);

/* Where a region offset lives: region, offset, hpa, position, memdev,
 * host, decoder, dpa, window, mode, media, media_offset. */
int cxlemu_translate(struct cxlemu *c, const char *region, uint64_t offset,
		     bool human, struct json_object **out,
		     struct cxlemu_err *err);

/* Exact reads and writes by region offset, any length (sent in pieces);
 * a range past the region's end is refused before anything is done. */
int cxlemu_read(struct cxlemu *c, const char *region, uint64_t offset,
		void *buf, size_t len, struct cxlemu_err *err);
int cxlemu_write(struct cxlemu *c, const char *region, uint64_t offset,
		 const void *buf, size_t len, struct cxlemu_err *err);

/* Ask the daemon to exit; returns once it has (its socket is gone). */
int cxlemu_stop(struct cxlemu *c, struct cxlemu_err *err);
/*
 * One mailbox command to memdev memN (memdev = N) of the connection's
 * host, as a binary frame: no JSON either way, one write and (usually)
 * one read.  The connection must be a host's own socket (cxlemu_connect
 * with a host).  in_len bytes of input (the mailbox takes at most 2048;
 * more is the device's "invalid payload length").  *rc gets the CXL
 * return code; the output goes to out, up to *out_len bytes (pass its
 * capacity; *out_len becomes the length the device returned); out and
 * out_len may be NULL.  Returns 0 when the mailbox took the command,
 * whatever its return code, or a negative errno with err saying why (no
 * such memdev, not a host's socket, the fabric gone).
 */
int cxlemu_mbox(struct cxlemu *c, unsigned memdev, uint16_t opcode,
		const void *in, size_t in_len, void *out, size_t *out_len,
		uint16_t *rc, struct cxlemu_err *err);

#ifdef __cplusplus
}
#endif

#endif
