/*
 * ops_dax.c - device-DAX requests: list devices, switch a device between
 * devdax and system-ram, and hand a device's media to a client that maps
 * it (dax-map / dax-unmap).
 *
 * dax-map replies with the device's layout (the interleave recipe of
 * model/dax.h, expressed per file descriptor) and one dup()ed descriptor
 * per distinct media.  The region counts its mapping clients: a client
 * that unmaps, closes its connection or dies releases its count, so a
 * region can be destroyed again once nobody maps it.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/dax.h"
#include "proto/json.h"

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

static void ref_release(struct map_ref *m, int n)
{
	struct cx_region *r = ref_region(m);
	if (n > m->count)
		n = m->count;
	m->count -= n;
	if (r)
		r->mapped = r->mapped > n ? r->mapped - n : 0;
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
			json_object_array_add(a, cx_json_dax_device(r,
					      human ? CX_JSON_HUMAN : 0));
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

int cx_srv_media_index(struct cx_media **seen, int n, struct cx_media *m)
{
	for (int i = 0; i < n; i++)
		if (seen[i]->fd == m->fd ||
		    (seen[i]->path && m->path && !strcmp(seen[i]->path, m->path)))
			return i;
	return -1;
}

/* Index of media m among the reply's descriptors, adding it if new. */
static int fd_index(struct cx_srv_call *c, struct cx_media **seen, int *n,
		    struct cx_media *m, cx_err *e)
{
	int i = cx_srv_media_index(seen, *n, m);
	if (i >= 0)
		return i;
	if (*n >= CX_PROTO_MAX_FDS)
		return cx_fail(e, EMFILE, "too many media for one mapping");
	int fd = dup(m->fd);
	if (fd < 0)
		return cx_fail(e, errno, "media %s: dup: %s", m->name,
			       strerror(errno));
	c->fds[c->nfds++] = fd;
	seen[*n] = m;
	return (*n)++;
}

int cx_op_dax_map(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
	struct cx_dax_recipe rc;
	struct cx_media *seen[CX_PROTO_MAX_FDS];
	int nseen = 0, err;

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
	if ((err = cx_region_dax_recipe(r, &rc, e)))
		return err;

	struct json_object *res = json_object_new_object();
	struct json_object *ents = json_object_new_array();
	for (int j = 0; j < rc.ilv.ways; j++) {
		int idx = fd_index(c, seen, &nseen, rc.ent[j].media, e);
		if (idx < 0) {
			json_object_put(res);
			json_object_put(ents);
			for (int i = 0; i < c->nfds; i++)
				close(c->fds[i]);
			c->nfds = 0;
			return idx;
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "fd", json_object_new_int(idx));
		json_object_object_add(o, "offset", json_object_new_uint64(
			rc.ent[j].media->offset + rc.ent[j].off));
		json_object_object_add(o, "memdev",
				       json_object_new_string(rc.ent[j].memdev->qid));
		json_object_array_add(ents, o);
	}
	struct json_object *lens = json_object_new_array();
	for (int i = 0; i < nseen; i++)
		json_object_array_add(lens, json_object_new_uint64(
			seen[i]->offset + seen[i]->size));
	char dev[32];
	snprintf(dev, sizeof(dev), "dax%d.0", r->id);
	json_object_object_add(res, "device", json_object_new_string(dev));
	json_object_object_add(res, "size", json_object_new_uint64(rc.size));
	json_object_object_add(res, "align", json_object_new_uint64(CX_DAX_ALIGN));
	json_object_object_add(res, "granularity",
			       json_object_new_uint64(rc.ilv.gran));
	json_object_object_add(res, "ways", json_object_new_int(rc.ilv.ways));
	if (rc.ilv.nmaps) {
		/* an XOR window: the maps reorder each round by HPA */
		struct json_object *maps = json_object_new_array();
		for (int i = 0; i < rc.ilv.nmaps; i++)
			json_object_array_add(maps, json_object_new_uint64(
				rc.ilv.map[i]));
		json_object_object_add(res, "xormaps", maps);
		json_object_object_add(res, "hpa",
				       json_object_new_uint64(rc.ilv.base));
	}
	json_object_object_add(res, "mode", json_object_new_string(
		cx_mode_name(r->mode)));
	json_object_object_add(res, "coherency", json_object_new_string(
		r->noncoherent ? "noncoherent" : "coherent"));
	json_object_object_add(res, "fd_len", lens);
	json_object_object_add(res, "entries", ents);
	c->result = res;

	struct map_ref *m = ref_get(c, r, true);
	m->count++;
	r->mapped++;
	return 0;
}

int cx_op_dax_unmap(struct cx_srv_call *c, cx_err *e)
{
	struct cx_region *r;
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
