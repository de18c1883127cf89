/*
 * ops_dax.c - device-DAX requests: list devices, switch a device between
 * devdax and system-ram, hand a device's memory to a client that maps it
 * (dax-map / dax-unmap), and make what it stored durable (dax-flush).
 *
 * dax-map replies with the device's layout (the interleave recipe of
 * model/dax.h) and the blocks its region grants (model/grant.h): for each
 * position, the extents of its DPA range, each a block's descriptor and
 * offset.  The descriptors reach those blocks and nothing else, so a
 * program cannot map bytes outside the region, whatever offsets it tries.
 * An interleaved region is handed over as its view instead
 * (model/region_view.h; shared by hosts whose regions lay the devices
 * out alike): "view" names the one descriptor holding
 * the device's bytes in order, and the entries have no extents; where a
 * view is impossible, "view_fallback" says why in one line.
 * The region counts its mapping clients: a client that unmaps, closes its
 * connection or dies releases its count (its stores to persistent media
 * are then written back), so a region can be destroyed again once nobody
 * maps it.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/dax.h"
#include "model/grant.h"
#include "model/region_view.h"
#include "listing/json.h"

/* One client's hold on one region's DAX device. */
struct map_ref {
	struct map_ref *next;
	struct cx_server *server;
	int client;
	struct cx_host *host;
	int region_id;          /* ids are never reused within a host */
	int count;
};
static struct map_ref *refs;

static struct cx_region *ref_region(struct map_ref *m)
{
	char name[32];
	snprintf(name, sizeof(name), "region%d", m->region_id);
	return cx_region_find(m->host, name);
}

/* A mapper left: what it stored to persistent media reaches the file.
 * Every position is written whatever another's fails; a failure is told
 * on stderr (nobody waits for an answer: the mapper is gone), and the
 * bytes stay where they are (a view keeps them, media.h). */
static void write_back(struct cx_region *r)
{
	struct cx_grant g;
	cx_err e;
	if (cx_region_grant(r, &g, NULL))
		return;
	for (int j = 0; j < g.ilv.ways; j++)
		if (cx_media_writeback(g.part[j].media, g.part[j].off,
				       g.part[j].len, &e))
			fprintf(stderr, "cxlemu: dax%d.0 unmapped: position %d "
				"not written back: %s\n", r->id, j, e.msg);
}

static void ref_release(struct map_ref *m, int n)
{
	struct cx_region *r = ref_region(m);
	if (n > m->count)
		n = m->count;
	m->count -= n;
	if (r && n) {
		r->mapped = r->mapped > n ? r->mapped - n : 0;
		write_back(r);
	}
}

static void on_close(void *arg)
{
	struct map_ref *m = arg;
	ref_release(m, m->count);
	/* unlink and free: the server calls each hook exactly once */
	for (struct map_ref **pp = &refs; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	free(m);
}

static struct map_ref *ref_get(struct cx_srv_call *c, struct cx_region *r,
			       bool create)
{
	for (struct map_ref *m = refs; m; m = m->next)
		if (m->server == c->server && m->client == c->client &&
		    m->host == c->host && m->region_id == r->id)
			return m;
	if (!create)
		return NULL;
	struct map_ref *m = cx_xcalloc(1, sizeof(*m));
	m->server = c->server;
	m->client = c->client;
	m->host = c->host;
	m->region_id = r->id;
	m->next = refs;
	refs = m;
	cx_server_on_close(c->server, c->client, on_close, m);
	return m;
}

/* The DAX device a request names in "device" ("daxZ.0"). */
int cx_srv_dax_device(struct cx_srv_call *c, struct cx_region **out, cx_err *e)
{
	const char *name;
	int rc = cx_proto_get_str(c->req, "device", true, &name, e);
	if (rc)
		return rc;
	struct cx_region *r = cx_dax_find(c->host, name);
	if (!r || !cx_region_serves(r)) {
		struct cx_srv_names list = { .used = 0 };
		for (int i = 0; i < c->host->regions.n; i++) {
			struct cx_region *x = c->host->regions.v[i];
			if (cx_region_serves(x))
				cx_srv_names_add(&list, "dax%d.0", x->id);
		}
		return cx_fail(e, ENOENT, "host %s has no DAX device '%s' (%s%s)",
			       c->host->name, name,
			       list.used ? "it has: " : "it has none; create a "
			       "region first", list.buf);
	}
	*out = r;
	return 0;
}

int cx_op_dax_list(struct cx_srv_call *c, cx_err *e)
{
	bool human = false;
	int rc = cx_proto_get_bool(c->req, "human", false, &human, e);
	if (rc)
		return rc;
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < c->host->regions.n; i++) {
		struct cx_region *r = c->host->regions.v[i];
		if (cx_region_serves(r))
			cx_json_dax_devices(r, human ? CX_JSON_HUMAN : 0, a);
	}
	c->result = a;
	return 0;
}

/*
 * "mode": devdax | system-ram, and/or "coherency": coherent | noncoherent
 * (how hosts map the device from now on; mappings made before keep the
 * mode they were made with, so it may change while mapped).
 */
int cx_op_dax_reconfigure(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	const char *mode = NULL, *coh = NULL;
	bool human = false;
	int rc;

	if ((rc = cx_srv_dax_device(c, &r, e)) ||
	    (rc = cx_proto_get_str(c->req, "mode", false, &mode, e)) ||
	    (rc = cx_proto_get_str(c->req, "coherency", false, &coh, e)) ||
	    (rc = cx_proto_get_bool(c->req, "human", false, &human, e)))
		return rc;
	if (!mode && !coh)
		return cx_fail(e, EINVAL, "dax%d.0: say the new mode "
			       "(devdax, system-ram) or coherency (coherent, "
			       "noncoherent)", r->id);
	if (mode && strcmp(mode, "devdax") && strcmp(mode, "system-ram"))
		return cx_fail(e, EINVAL, "dax%d.0: mode '%s' is not one of "
			       "devdax, system-ram", r->id, mode);
	if (coh && strcmp(coh, "coherent") && strcmp(coh, "noncoherent"))
		return cx_fail(e, EINVAL, "dax%d.0: coherency '%s' is not one "
			       "of coherent, noncoherent", r->id, coh);
	if (mode && (rc = cx_dax_reconfigure(r, !strcmp(mode, "system-ram"),
					     e)))
		return rc;
	if (coh)
		r->noncoherent = !strcmp(coh, "noncoherent");
	c->result = json_object_new_array();
	json_object_array_add(c->result, cx_json_dax_device(r,
			      human ? CX_JSON_HUMAN : 0));
	return 0;
}

int cx_srv_blocks_add(struct cx_srv_blocks *b, struct cx_media *media,
		      uint64_t off, uint64_t len, const char *what, cx_err *e)
{
	struct cx_media_lease ls[CX_PROTO_MAX_FDS];
	int n, rc;

	if ((rc = cx_media_lend(media, off, len, ls, CX_PROTO_MAX_FDS, &n,
				e))) {
		cx_err_prefix(e, "%s", what);
		return rc;
	}
	for (int k = 0; k < n; k++) {
		int i = 0;
		while (i < b->n && b->blk[i].id != ls[k].id)
			i++;
		if (i == b->n && b->n == CX_PROTO_MAX_FDS)
			return cx_fail(e, E2BIG, "%s takes more than %d blocks, "
				       "more than one reply can carry", what,
				       CX_PROTO_MAX_FDS);
		if (i == b->n)
			b->blk[b->n++] = ls[k];
		if (b->next == CX_PROTO_MAX_FDS)
			return cx_fail(e, E2BIG, "%s takes more than %d "
				       "extents", what, CX_PROTO_MAX_FDS);
		b->ext[b->next].blk = i;
		b->ext[b->next].fd_off = ls[k].fd_off;
		b->ext[b->next].len = ls[k].len;
		b->next++;
	}
	return 0;
}

int cx_srv_region_blocks(struct cx_fabric *f, struct cx_region *r,
			 struct cx_srv_blocks *b, cx_err *e)
{
	struct cx_rview *v;
	char what[64];
	int rc;

	memset(b, 0, sizeof(*b));
	if ((rc = cx_region_grant(r, &b->g, e)))
		return rc;
	cx_region_view(f, r, &v, b->why, sizeof(b->why));
	if (v) {
		/* one block: the region's bytes in order; keyed (for line
		 * states) by no store and the view's own number */
		uint64_t size = cx_rview_size(v);
		b->view = true;
		b->blk[0] = (struct cx_media_lease){ cx_rview_fd(v), 0, size,
						     size, v, NULL,
						     cx_rview_serial(v) };
		b->n = 1;
		return 0;   /* first[] all 0: no extents */
	}
	for (int j = 0; j < b->g.ilv.ways; j++) {
		b->first[j] = b->next;
		snprintf(what, sizeof(what), "dax%d.0: position %d (%s)", r->id,
			 j, b->g.part[j].memdev->qid);
		if ((rc = cx_srv_blocks_add(b, b->g.part[j].media,
					    b->g.part[j].off, b->g.part[j].len,
					    what, e)))
			return rc;
	}
	b->first[b->g.ilv.ways] = b->next;
	return 0;
}

int cx_srv_map_reply(struct cx_srv_call *c, const struct cx_srv_blocks *b,
		     const char *dev, uint64_t size, const char *mode,
		     bool noncoherent, cx_err *e)
{
	for (int i = 0; i < b->n; i++) {
		int fd = dup(b->blk[i].fd);
		if (fd < 0) {
			int err = cx_fail(e, errno, "%s: dup: %s", dev,
					  strerror(errno));
			for (int k = 0; k < c->nfds; k++)
				close(c->fds[k]);
			c->nfds = 0;
			return err;
		}
		c->fds[c->nfds++] = fd;
	}

	struct json_object *res = json_object_new_object();
	struct json_object *ents = json_object_new_array();
	struct json_object *lens = json_object_new_array();
	for (int i = 0; i < b->n; i++)
		json_object_array_add(lens, json_object_new_uint64(
			b->blk[i].fd_len));
	for (int j = 0; j < b->g.ilv.ways; j++) {
		struct json_object *o = json_object_new_object();
		struct json_object *xs = json_object_new_array();
		for (int x = b->first[j]; x < b->first[j + 1]; x++) {
			struct json_object *t = json_object_new_object();
			json_object_object_add(t, "fd", json_object_new_int(
				b->ext[x].blk));
			json_object_object_add(t, "offset",
				json_object_new_uint64(b->ext[x].fd_off));
			json_object_object_add(t, "length",
				json_object_new_uint64(b->ext[x].len));
			json_object_array_add(xs, t);
		}
		json_object_object_add(o, "memdev", json_object_new_string(
			b->g.part[j].memdev->qid));
		json_object_object_add(o, "extents", xs);
		json_object_array_add(ents, o);
	}
	json_object_object_add(res, "device", json_object_new_string(dev));
	json_object_object_add(res, "size", json_object_new_uint64(size));
	json_object_object_add(res, "align", json_object_new_uint64(CX_DAX_ALIGN));
	json_object_object_add(res, "granularity",
			       json_object_new_uint64(b->g.ilv.gran));
	json_object_object_add(res, "ways", json_object_new_int(b->g.ilv.ways));
	if (b->g.ilv.nmaps) {
		/* an XOR window: the maps reorder each round by HPA */
		struct json_object *maps = json_object_new_array();
		for (int i = 0; i < b->g.ilv.nmaps; i++)
			json_object_array_add(maps, json_object_new_uint64(
				b->g.ilv.map[i]));
		json_object_object_add(res, "xormaps", maps);
		json_object_object_add(res, "hpa",
				       json_object_new_uint64(b->g.ilv.base));
	}
	json_object_object_add(res, "mode", json_object_new_string(mode));
	json_object_object_add(res, "coherency", json_object_new_string(
		noncoherent ? "noncoherent" : "coherent"));
	if (b->view)
		json_object_object_add(res, "view", json_object_new_int(0));
	else if (b->why[0])
		json_object_object_add(res, "view_fallback",
				       json_object_new_string(b->why));
	json_object_object_add(res, "fd_len", lens);
	json_object_object_add(res, "entries", ents);
	c->result = res;
	return 0;
}

int cx_op_dax_map(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	const char *name = NULL;
	int err;

	cx_proto_get_str(c->req, "device", false, &name, NULL);
	if (name && cx_srv_dc_name(c, name))
		return cx_srv_dcd_map(c, name, e);
	if ((err = cx_srv_dax_device(c, &r, e)))
		return err;
	if (r->dax_unbound)
		return cx_fail(e, EBUSY, "dax%d.0 is bound to no driver (it "
			       "is between kmem and device_dax); bind it to "
			       "device_dax first", r->id);
	if (r->dax_system_ram)
		return cx_fail(e, EBUSY, "dax%d.0 is in system-ram mode (its "
			       "memory is onlined for the kernel, as kmem "
			       "does); switch it to device-DAX first: cxlemu "
			       "reconfigure-device dax%d.0 -m devdax",
			       r->id, r->id);
	struct cx_srv_blocks *b = cx_xcalloc(1, sizeof(*b));
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", r->id);
	if (!(err = cx_srv_region_blocks(c->fabric, r, b, e)) &&
	    !(err = cx_srv_map_reply(c, b, dev, r->size, cx_mode_name(r->mode),
				     r->noncoherent, e))) {
		struct map_ref *m = ref_get(c, r, true);
		m->count++;
		r->mapped++;
	}
	free(b);
	return err;
}

/* Make [offset, offset+length) of the device durable: the blocks of its
 * positions that hold those bytes are written back and the files synced.
 * Volatile media have nothing to do. */
int cx_op_dax_flush(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	struct cx_grant g;
	uint64_t off, len;
	int err;

	const char *name = NULL;
	cx_proto_get_str(c->req, "device", false, &name, NULL);
	if (name && cx_srv_dc_name(c, name)) {
		/* dynamic capacity is volatile: nothing to make durable */
		c->result = json_object_new_object();
		json_object_object_add(c->result, "flushed",
				       json_object_new_uint64(0));
		return 0;
	}
	if ((err = cx_srv_dax_device(c, &r, e)) ||
	    (err = cx_proto_get_u64(c->req, "offset", true, &off, e)) ||
	    (err = cx_proto_get_u64(c->req, "length", true, &len, e)))
		return err;
	if ((err = cx_srv_check_range(r, off, len, e)) ||
	    (err = cx_region_grant(r, &g, e)))
		return err;
	if (len) {
		uint64_t a, b;
		cx_ilv_slot_span(&g.ilv, off, len, &a, &b);
		/* every position is flushed, whatever another's did; the
		 * first failure is the answer */
		for (int j = 0; j < g.ilv.ways; j++) {
			uint64_t end = b < g.part[j].len ? b : g.part[j].len;
			int rc = a < end ?
				 cx_media_flush(g.part[j].media, g.part[j].off + a,
						end - a, err ? NULL : e) : 0;
			if (rc && !err)
				err = rc;
		}
		if (err)
			return err;
	}
	c->result = json_object_new_object();
	json_object_object_add(c->result, "flushed",
			       json_object_new_uint64(len));
	return 0;
}

int cx_op_dax_unmap(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	const char *name = NULL;

	cx_proto_get_str(c->req, "device", false, &name, NULL);
	if (name && cx_srv_dc_name(c, name))
		return cx_srv_dcd_unmap(c, name, e);
	int err = cx_srv_dax_device(c, &r, e);
	if (err)
		return err;
	struct map_ref *m = ref_get(c, r, false);
	if (!m || !m->count)
		return cx_fail(e, ENOENT, "dax%d.0 is not mapped by this "
			       "client", r->id);
	ref_release(m, 1);
	c->result = json_object_new_object();
	json_object_object_add(c->result, "mapped",
			       json_object_new_int(r->mapped));
	return 0;
}
