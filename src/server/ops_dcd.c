/*
 * ops_dcd.c - a host's dynamic capacity over the socket: "dcd" runs the
 * host's driver on one of its memdevs (model/dcd_host.c) or reads and
 * writes the capacity the host holds.
 *
 * dcd: {memdev, action}
 *   accept | reject: answer every complete Add Capacity chain (whole),
 *     give back what the FM asked for, note forced releases
 *     -> {memdev, added, rejected, released, forced, extents, generation}
 *     (lists of extents as `cxlemu list -N` shows them)
 *   read {offset (DPA), length} -> the bytes as the reply's raw frame
 *   write {offset (DPA)} with the bytes as the request's raw frame
 * Bytes the host has not accepted are refused, naming the memdev and
 * the range: released capacity is gone from the host at once.
 */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/mbox.h"
#include "proto/json.h"

#define DCD_IO_MAX (64u << 20)

static int dcd_answer(struct cx_srv_call *c, struct cx_memdev *m,
		      bool accept, cx_err *e)
{
	struct cx_dcd_host_result res;
	struct cx_dc_extent *v = NULL;
	uint32_t gen = 0;
	int n = 0, rc;

	if ((rc = cx_dcd_host_service(m, accept, NULL, NULL, &res, e)))
		return rc;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "memdev", json_object_new_string(m->qid));
	json_object_object_add(r, "added",
			       cx_json_dc_extents(res.added, res.nadded, false));
	json_object_object_add(r, "rejected", cx_json_dc_extents(
				       res.rejected, res.nrejected, false));
	json_object_object_add(r, "released", cx_json_dc_extents(
				       res.released, res.nreleased, false));
	json_object_object_add(r, "forced", cx_json_dc_extents(
				       res.forced, res.nforced, false));
	cx_dcd_host_result_free(&res);
	cx_dcd_extents(m, &v, &n, &gen);
	json_object_object_add(r, "extents", cx_json_dc_extents(v, n, false));
	json_object_object_add(r, "generation", json_object_new_int64(gen));
	free(v);
	c->result = r;
	return 0;
}

int cx_op_dcd(struct cx_srv_call *c, cx_err *e)
{
	struct cx_memdev *m;
	const char *action = NULL;
	uint64_t off = 0, len = 0;
	int rc;

	if ((rc = cx_srv_memdev(c, "memdev", &m, e)) ||
	    (rc = cx_proto_get_str(c->req, "action", true, &action, e)))
		return rc;
	if (!strcmp(action, "accept") || !strcmp(action, "reject"))
		return dcd_answer(c, m, action[0] == 'a', e);
	bool rd = !strcmp(action, "read"), wr = !strcmp(action, "write");
	if (!rd && !wr)
		return cx_fail(e, EINVAL, "dcd: action '%s' is not one of "
			       "accept, reject, read, write", action);
	if ((rc = cx_proto_get_u64(c->req, "offset", true, &off, e)) ||
	    (rd && (rc = cx_proto_get_u64(c->req, "length", true, &len, e))))
		return rc;
	if (wr)
		len = c->data_len;
	if (!len || len > DCD_IO_MAX)
		return cx_fail(e, EINVAL, "dcd %s: %llu bytes: from 1 to %u at "
			       "a time", action, (unsigned long long)len,
			       DCD_IO_MAX);
	if (wr) {
		if ((rc = cx_dcd_write(m, off, c->data, (size_t)len, e)))
			return rc;
		c->result = json_object_new_object();
		json_object_object_add(c->result, "written",
				       json_object_new_uint64(len));
		return 0;
	}
	uint8_t *buf = cx_xcalloc(1, (size_t)len);
	if ((rc = cx_dcd_read(m, off, buf, (size_t)len, e))) {
		free(buf);
		return rc;
	}
	c->result = json_object_new_object();
	json_object_object_add(c->result, "read", json_object_new_uint64(len));
	c->out_data = buf;
	c->out_len = (size_t)len;
	return 0;
}
