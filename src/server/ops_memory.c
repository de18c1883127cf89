/*
 * ops_memory.c - region memory by offset: translate (where does this byte
 * live), read and write (exact access through the routing).
 *
 * Every access is checked against the region and its devices before
 * anything is touched, so a refused write leaves the media as it was.
 * A big one is then done CX_SRV_STEP bytes at a time, between other
 * clients' requests (cx_srv_call.more): a host streaming 64 MiB does not
 * stall the others' small ones.  Each piece is checked again as it goes,
 * so a region destroyed or a device poisoned mid-way ends the request
 * there, with an error saying how much was done.
 */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mbox.h"

static void add_num(struct json_object *o, const char *key, uint64_t v,
		    bool human)
{
	if (human) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%#" PRIx64, v);
		json_object_object_add(o, key, json_object_new_string(buf));
	} else {
		json_object_object_add(o, key, json_object_new_uint64(v));
	}
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s));
}

int cx_op_translate(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	struct cx_route rt;
	uint64_t off = 0;
	bool human = false;
	char name[64];
	int rc;

	if ((rc = cx_srv_region(c, "region", &r, e)) ||
	    (rc = cx_proto_get_u64(c->req, "offset", true, &off, e)) ||
	    (rc = cx_proto_get_bool(c->req, "human", false, &human, e)) ||
	    (rc = cx_srv_check_range(r, off, 1, e)) ||
	    (rc = cx_region_dc_check(r, off, 1, e)))
		return rc;
	memset(&rt, 0, sizeof(rt));
	if ((rc = cx_route_hpa(c->host, r->base + off, &rt, e)))
		return rc;
	if (!rt.memdev || !rt.decoder)
		return cx_fail(e, EIO, "region%d: offset %#" PRIx64 " (HPA %#"
			       PRIx64 ") does not route to a memdev", r->id,
			       off, r->base + off);

	struct json_object *o = json_object_new_object();
	snprintf(name, sizeof(name), "region%d", r->id);
	add_str(o, "region", name);
	add_num(o, "offset", off, human);
	add_num(o, "hpa", rt.hpa, human);
	json_object_object_add(o, "position", json_object_new_int(rt.position));
	snprintf(name, sizeof(name), "mem%d", rt.memdev->index);
	add_str(o, "memdev", name);
	add_str(o, "host", rt.memdev->qid);
	cx_decoder_name(rt.decoder, name, sizeof(name));
	add_str(o, "decoder", name);
	add_num(o, "dpa", rt.dpa, human);
	if (rt.win) {
		cx_decoder_name(&rt.win->dec, name, sizeof(name));
		add_str(o, "window", name);
	}
	add_str(o, "mode", cx_mode_name(rt.decoder->mode));
	if (rt.media) {
		add_str(o, "media", rt.media->path ? rt.media->path :
			rt.media->name);
		add_num(o, "media_offset", rt.media_off, human);
	}
	c->result = o;
	return 0;
}

static struct json_object *io_result(struct cx_region *r, uint64_t off,
				     uint64_t len)
{
	struct json_object *o = json_object_new_object();
	char name[32];

	snprintf(name, sizeof(name), "region%d", r->id);
	add_str(o, "region", name);
	add_num(o, "offset", off, false);
	add_num(o, "length", len, false);
	return o;
}

/* One piece of a read or write: [done, done + CX_SRV_STEP) of the
 * request, found by its region name again (it may have gone). */
struct io {
	uint64_t off, len, done;
	bool write;
};

static int io_step(struct cx_srv_call *c, cx_err *e)
{
	struct io *io = c->more_arg;
	struct cx_region *r;
	uint64_t n = io->len - io->done;
	int rc;

	if (n > CX_SRV_STEP)
		n = CX_SRV_STEP;
	if ((rc = cx_srv_region(c, "region", &r, e)))
		goto fail;
	rc = io->write ? cx_region_write(r, io->off + io->done,
					 c->data + io->done, n, e)
		       : cx_region_read(r, io->off + io->done,
					c->out_data + io->done, n, e);
	if (rc)
		goto fail;
	io->done += n;
	return io->done < io->len;
fail:
	if (io->done)
		cx_err_prefix(e, "after %llu of %llu bytes",
			      (unsigned long long)io->done,
			      (unsigned long long)io->len);
	return rc;
}

/* Check the whole range, do the first piece; the rest later. */
static int io_start(struct cx_srv_call *c, struct cx_region *r, uint64_t off,
		    uint64_t len, bool write, cx_err *e)
{
	int rc;
	if ((rc = cx_region_check_access(r, off, len, write, e)))
		return rc;
	struct io *io = cx_xcalloc(1, sizeof(*io));
	*io = (struct io){ off, len, 0, write };
	c->more_arg = io;
	if (len && (rc = io_step(c, e)) < 0) {
		free(io);
		c->more_arg = NULL;
		return rc;
	}
	if (rc > 0)
		c->more = io_step;
	else {
		free(io);
		c->more_arg = NULL;
	}
	c->result = io_result(r, off, len);
	return 0;
}

int cx_op_read(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	uint64_t off = 0, len = 0;
	int rc;

	if ((rc = cx_srv_region(c, "region", &r, e)) ||
	    (rc = cx_proto_get_u64(c->req, "offset", true, &off, e)) ||
	    (rc = cx_proto_get_u64(c->req, "length", true, &len, e)))
		return rc;
	if (len > CX_PROTO_MAX_FRAME)
		return cx_fail(e, EMSGSIZE, "a read of %" PRIu64 " bytes is "
			       "more than one request may carry (%u); read "
			       "in pieces", len, CX_PROTO_MAX_FRAME);
	if ((rc = cx_srv_check_range(r, off, len, e)))
		return rc;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return cx_fail(e, ENOMEM, "no memory for a read of %" PRIu64
			       " bytes", len);
	c->out_data = buf;
	c->out_len = len;
	if ((rc = io_start(c, r, off, len, false, e))) {
		free(buf);
		c->out_data = NULL;
		c->out_len = 0;
	}
	return rc;
}

int cx_op_write(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	uint64_t off = 0;
	int rc;

	if ((rc = cx_srv_region(c, "region", &r, e)) ||
	    (rc = cx_proto_get_u64(c->req, "offset", true, &off, e)) ||
	    (rc = cx_srv_check_range(r, off, c->data_len, e)))
		return rc;
	return io_start(c, r, off, c->data_len, true, e);
}
