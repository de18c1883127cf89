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
 *
 * The DAX devices over a host's capacity (model: cx_dcd_dax_devices) are
 * "dcdN.K": memN's K-th (0-based, in extent list order), or "dcdN.UUID"
 * for the one of a tag; those of a dynamic_ram_a region are "daxR.K"
 * (cx_region_dc_dax: the same devices, of the extents inside the
 * region), and count as the region's mappings (destroy-region refuses
 * them unless forced; a forced destroy revokes them).  dax-map lends a device's extents as the blocks
 * of a one-way layout, so the client library maps them as it maps a
 * region's; the daemon remembers who maps what (an FM release of it is
 * refused Busy unless forced), and the blocks are taken back (SIGBUS on
 * the next access) once the host no longer holds their capacity.
 */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/dax.h"
#include "model/grant.h"
#include "model/mbox.h"
#include "listing/json.h"

#define DCD_IO_MAX (64u << 20)

static int dcd_answer(struct cx_srv_call *c, struct cx_memdev *m,
		      bool accept, cx_err *e)
{
	struct cx_dcd_host_result res;
	struct cx_dc_extent *v = NULL;
	uint32_t gen = 0;
	int n = 0, rc;

	if ((rc = cx_dcd_host_service(m, accept, cx_srv_dcd_in_use, NULL,
				       &res, e)))
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
	json_object_object_add(r, "dax_devices", cx_json_dcd_dax(m, false));
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
	if (!strcmp(action, "accept") || !strcmp(action, "reject")) {
		rc = dcd_answer(c, m, action[0] == 'a', e);
		cx_srv_dcd_revoke(c->fabric);
		return rc;
	}
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

/* ---- DAX devices over dynamic capacity ---- */

/* One client's mapping of one DC DAX device: the capacity it reaches,
 * and for a device of a dynamic_ram_a region (daxR.K) the region. */
struct dc_ref {
	struct dc_ref *next;
	struct cx_server *server;
	int client;
	struct cx_memdev *m;
	char name[64];
	int n;
	struct cx_dc_extent *ext;
	int region_id;          /* -1: a dcdN.K device */
};
static struct dc_ref *dc_refs;

static struct cx_region *ref_region(const struct dc_ref *r)
{
	char name[32];
	if (r->region_id < 0)
		return NULL;
	snprintf(name, sizeof(name), "region%d", r->region_id);
	return cx_region_find(r->m->host, name);
}

static void dc_ref_free(struct dc_ref *r)
{
	struct cx_region *reg = ref_region(r);
	if (reg && reg->mapped > 0)
		reg->mapped--;
	for (struct dc_ref **pp = &dc_refs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r->ext);
	free(r);
}

static void dc_on_close(void *arg)
{
	struct dc_ref *r = arg;
	for (struct dc_ref *x = dc_refs; x; x = x->next)
		if (x == r) {
			dc_ref_free(r);
			return;
		}
}

/* Does m's host still hold all of x? */
static bool held(const struct cx_dc_extent *have, int n,
		 const struct cx_dc_extent *x)
{
	return cx_dc_covered(have, n, x->dpa, x->len) >= x->dpa + x->len;
}

void cx_srv_dcd_revoke(struct cx_fabric *f)
{
	struct dc_ref *next;
	for (struct dc_ref *r = dc_refs; r; r = next) {
		struct cx_dc_extent *have = NULL;
		int n = 0;
		bool stale = false;
		next = r->next;
		cx_dcd_extents(r->m, &have, &n, NULL);
		for (int i = 0; i < r->n && !stale; i++)
			stale = !held(have, n, &r->ext[i]);
		free(have);
		/* a region's device goes with the region's decode */
		struct cx_region *reg = ref_region(r);
		if (r->region_id >= 0 && (!reg || !cx_region_serves(reg) ||
					  cx_region_dc_decoder(reg) == NULL ||
					  cx_region_dc_decoder(reg)->memdev !=
					  r->m))
			stale = true;
		if (!stale)
			continue;
		/* its host gave the capacity up (or lost it): the blocks go,
		 * from every mapper, shared ones included */
		uint64_t base = r->m->vmem_size + r->m->pmem_size;
		for (int i = 0; i < r->n; i++)
			cx_media_revoke(r->m->dc, r->ext[i].dpa - base,
					r->ext[i].len, NULL);
		dc_ref_free(r);
	}
	(void)f;
}

bool cx_srv_dcd_in_use(void *ctx, struct cx_memdev *m, uint64_t dpa,
		       uint64_t len, char *why, size_t wl)
{
	for (struct dc_ref *r = dc_refs; r; r = r->next) {
		if (r->m != m)
			continue;
		for (int i = 0; i < r->n; i++)
			if (r->ext[i].dpa < dpa + len &&
			    dpa < r->ext[i].dpa + r->ext[i].len) {
				snprintf(why, wl, "%s is mapped by client %d of "
					 "host %s", r->name, r->client,
					 m->host->name);
				return true;
			}
	}
	return false;
}

/* "dcdN.K" or "dcdN.UUID": the host's memN and its device. */
static int dcd_device(struct cx_srv_call *c, const char *name,
		      struct cx_memdev **m, struct cx_dcd_dax **v, int *n,
		      int *which, cx_err *e)
{
	char mem[32], tag[40];
	const char *dot = strchr(name, '.');
	*v = NULL;
	*n = 0;
	if (!dot || dot - name - 3 <= 0 || dot - name - 3 > 8)
		return cx_fail(e, ENOENT, "'%s' is not a DAX device over "
			       "dynamic capacity (dcdN.K or dcdN.UUID)", name);
	snprintf(mem, sizeof(mem), "mem%.*s", (int)(dot - name - 3), name + 3);
	*m = cx_memdev_find(c->host, mem);
	if (!*m || !(*m)->dc)
		return cx_fail(e, ENOENT, "host %s has no memdev %s with "
			       "dynamic capacity (device %s)", c->host->name,
			       mem, name);
	*n = cx_dcd_dax_devices(*m, v);
	char *end;
	long k = strtol(dot + 1, &end, 10);
	*which = -1;
	if (dot[1] && !*end && k >= 0 && k < *n)
		*which = (int)k;
	for (int i = 0; i < *n && *which < 0; i++) {
		cx_dc_tag_format((*v)[i].tag, tag, sizeof(tag));
		if ((*v)[i].tagged && !strcmp(tag, dot + 1))
			*which = i;
	}
	if (*which < 0)
		return cx_fail(e, ENOENT, "host %s: %s holds %d DAX device%s "
			       "of dynamic capacity; %s is none of them",
			       c->host->name, mem, *n, *n == 1 ? "" : "s",
			       name);
	return 0;
}

/* "daxR.K" of a dynamic_ram_a region R: the region, or NULL for a name
 * that is not one (a region's daxR.0, or no such region). */
struct cx_region *cx_srv_dc_region(struct cx_srv_call *c, const char *name,
				   long *k)
{
	char rname[32], *end;
	if (strncmp(name, "dax", 3) || name[3] < '0' || name[3] > '9')
		return NULL;
	unsigned long id = strtoul(name + 3, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9' || id > 1000000)
		return NULL;
	*k = strtol(end + 1, &end, 10);
	if (*end)
		return NULL;
	snprintf(rname, sizeof(rname), "region%lu", id);
	struct cx_region *r = cx_region_find(c->host, rname);
	return r && r->mode == CX_MODE_DC ? r : NULL;
}

bool cx_srv_dc_name(struct cx_srv_call *c, const char *name)
{
	long k;
	return !strncmp(name, "dcd", 3) || cx_srv_dc_region(c, name, &k);
}

/* daxR.K: region R's K-th device, with the region's memdev. */
static int region_device(struct cx_srv_call *c, const char *name,
			 struct cx_region **r, struct cx_memdev **m,
			 struct cx_dcd_dax **v, int *n, int *which, cx_err *e)
{
	long k = -1;
	*r = cx_srv_dc_region(c, name, &k);
	*v = NULL;
	*n = 0;
	if (!*r || !cx_region_serves(*r) || !cx_region_dc_decoder(*r))
		return cx_fail(e, ENOENT, "host %s has no DAX device '%s': "
			       "its dynamic_ram_a region is not committed and "
			       "enabled", c->host->name, name);
	*m = cx_region_dc_decoder(*r)->memdev;
	*n = cx_region_dc_dax(*r, v);
	if (k < 0 || k >= *n)
		return cx_fail(e, ENOENT, "host %s: region%d has %d DAX "
			       "device%s (one per tag, one per untagged "
			       "extent the host accepted); %s is none of them",
			       c->host->name, (*r)->id, *n, *n == 1 ? "" : "s",
			       name);
	*which = (int)k;
	return 0;
}

int cx_srv_dcd_map(struct cx_srv_call *c, const char *name, cx_err *e)
{
	struct cx_memdev *m = NULL;
	struct cx_region *reg = NULL;
	struct cx_dcd_dax *v = NULL;
	int n = 0, k = 0, rc;

	if (strncmp(name, "dcd", 3))
		rc = region_device(c, name, &reg, &m, &v, &n, &k, e);
	else
		rc = dcd_device(c, name, &m, &v, &n, &k, e);
	if (rc) {
		cx_dcd_dax_free(v, n);
		return rc;
	}
	struct cx_srv_blocks *b = cx_xcalloc(1, sizeof(*b));
	uint64_t base = m->vmem_size + m->pmem_size;
	b->g.ilv.ways = 1;
	b->g.ilv.gran = CX_DAX_ALIGN;
	b->g.part[0].memdev = m;
	b->g.part[0].media = m->dc;
	for (int i = 0; i < v[k].n && !rc; i++)
		rc = cx_srv_blocks_add(b, m->dc, v[k].ext[i].dpa - base,
				       v[k].ext[i].len, name, e);
	b->first[1] = b->next;
	if (!rc)
		rc = cx_srv_map_reply(c, b, name, v[k].size, "ram", false, e);
	if (!rc) {
		struct dc_ref *r = cx_xcalloc(1, sizeof(*r));
		r->server = c->server;
		r->client = c->client;
		r->m = m;
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->n = v[k].n;
		r->region_id = reg ? reg->id : -1;
		if (reg)
			reg->mapped++;
		r->ext = cx_xcalloc((size_t)r->n, sizeof(*r->ext));
		memcpy(r->ext, v[k].ext, sizeof(*r->ext) * (size_t)r->n);
		r->next = dc_refs;
		dc_refs = r;
		cx_server_on_close(c->server, c->client, dc_on_close, r);
	}
	free(b);
	cx_dcd_dax_free(v, n);
	return rc;
}

int cx_srv_dcd_unmap(struct cx_srv_call *c, const char *name, cx_err *e)
{
	for (struct dc_ref *r = dc_refs; r; r = r->next)
		if (r->server == c->server && r->client == c->client &&
		    !strcmp(r->name, name)) {
			/* the close hook stays registered; it finds nothing */
			dc_ref_free(r);
			c->result = json_object_new_object();
			return 0;
		}
	return cx_fail(e, ENOENT, "%s is not mapped by this client", name);
}
