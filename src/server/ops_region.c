/*
 * ops_region.c - create-region and destroy-region, as `cxl create-region`
 * and `cxl destroy-region` behave: the model does the work and explains
 * refusals; this file only moves fields between the request and the model.
 */
#include "server.h"

#include <errno.h>
#include <string.h>

#include "listing/json.h"
#include "model/region_view.h"

static int parse_mode(const char *s, enum cx_mode *out, cx_err *e)
{
	if (!s)
		*out = CX_MODE_NONE;
	else if (!strcmp(s, "ram") || !strcmp(s, "volatile"))
		*out = CX_MODE_RAM;
	else if (!strcmp(s, "pmem"))
		*out = CX_MODE_PMEM;
	else if (!strcmp(s, "dynamic_ram_a"))
		*out = CX_MODE_DC;
	else
		return cx_fail(e, EINVAL, "region type '%s' is not one of "
			       "'ram', 'pmem' or 'dynamic_ram_a'", s);
	return 0;
}

int cx_op_create_region(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region_req rq;
	struct cx_region *r = NULL;
	struct json_object *mds = NULL;
	const char *type = NULL;
	uint64_t gran = 0;
	bool human = false;
	int rc;

	memset(&rq, 0, sizeof(rq));
	if ((rc = cx_proto_get_str(c->req, "root", true, &rq.root, e)) ||
	    (rc = cx_proto_get_int(c->req, "ways", false, &rq.ways, e)) ||
	    (rc = cx_proto_get_u64(c->req, "gran", false, &gran, e)) ||
	    (rc = cx_proto_get_u64(c->req, "size", false, &rq.size, e)) ||
	    (rc = cx_proto_get_str(c->req, "type", false, &type, e)) ||
	    (rc = cx_proto_get_bool(c->req, "human", false, &human, e)) ||
	    (rc = parse_mode(type, &rq.mode, e)))
		return rc;
	if (rq.ways < 0)
		return cx_fail(e, EINVAL, "interleave ways %d is negative",
			       rq.ways);
	if (gran > UINT32_MAX)
		return cx_fail(e, EINVAL, "interleave granularity %llu is too "
			       "large", (unsigned long long)gran);
	rq.gran = (uint32_t)gran;
	if (json_object_object_get_ex(c->req, "memdevs", &mds) && mds) {
		size_t n = json_object_array_length(mds);
		if (n > CX_MAX_WAYS)
			return cx_fail(e, EINVAL, "%zu memdevs given; a region "
				       "interleaves at most %d", n,
				       CX_MAX_WAYS);
		for (size_t i = 0; i < n; i++) /* strings: its row says so */
			rq.memdevs[i] = json_object_get_string(
				json_object_array_get_idx(mds, i));
		rq.nmemdevs = (int)n;
	}
	if ((rc = cx_region_create(c->host, &rq, &r, e)))
		return rc;
	c->result = cx_json_region(r, CX_JSON_MAPPINGS |
				   (human ? CX_JSON_HUMAN : 0));
	return 0;
}

/*
 * Destroying the last region of a view takes the view apart, and its
 * bytes then live only in the files.  So they are written back first,
 * every position: if a file cannot take its bytes (full, failing,
 * truncated), the region is not destroyed, forced or not - a forced
 * destroy takes mappings away, never data - and the refusal names the
 * device, the file and why; the view keeps the bytes meanwhile.
 */
static int destroy_one(struct cx_region *r, bool force, cx_err *e)
{
	int rc;
	if (r->view && cx_rview_users(r->view) == 1 &&
	    (rc = cx_region_view_write_back(r, e))) {
		cx_err_prefix(e, "region%d not destroyed%s: its view's bytes "
			      "could not all be written back", r->id,
			      force ? " (even forced: that would lose them)" :
			      "");
		return rc;
	}
	return cx_region_destroy(r, force, e);
}

int cx_op_destroy_region(struct cx_srv_call *c, cx_err *e)
{
	const char *name = NULL;
	bool force = false;
	int rc, done = 0;
	struct cx_region *r;

	if ((rc = cx_proto_get_str(c->req, "name", true, &name, e)) ||
	    (rc = cx_proto_get_bool(c->req, "force", false, &force, e)) ||
	    (rc = cx_srv_stale_check(c, "destroy-region", e)))
		return rc;
	if (!strcmp(name, "all")) {
		/* newest first: decoders are reset from the top */
		while (c->host->regions.n) {
			r = c->host->regions.v[c->host->regions.n - 1];
			int id = r->id;
			if ((rc = destroy_one(r, force, e))) {
				if (done)
					cx_err_prefix(e, "destroyed %d "
						      "region%s, then region%d",
						      done, done == 1 ? "" : "s",
						      id);
				return rc;
			}
			done++;
		}
	} else {
		if ((rc = cx_srv_region(c, "name", &r, e)))
			return rc;
		if ((rc = destroy_one(r, force, e)))
			return rc;
		done = 1;
	}
	c->result = json_object_new_object();
	json_object_object_add(c->result, "destroyed",
			       json_object_new_int(done));
	return 0;
}
