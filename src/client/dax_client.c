/*
 * dax_client.c - the public device-DAX calls (cxlemu/dax.h) over the
 * daemon's dax-map / dax-unmap requests and the mapping engine of
 * dax_map.c; non-coherent mappings go to the cache engine of coherency.c,
 * with the shared line states of the daemon's dax-coherency request
 * (asked once per handle, at its first non-coherent mapping).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/coherency.h"
#include "client/dax_map.h"
#include "cxlemu/dax.h"

struct cxlemu_dax {
	struct cxlemu *conn;
	struct cx_dax_layout L;
	int coherency;              /* CXLEMU_COHERENT / CXLEMU_NONCOHERENT */
	bool have_states;
	struct cx_coh_src src;      /* line states, once asked for */
};

static void states_release(struct cxlemu_dax *d)
{
	for (int i = 0; i < CX_DAX_MAX_FDS; i++) {
		if (d->src.state_fd[i] >= 0)
			close(d->src.state_fd[i]);
		d->src.state_fd[i] = -1;
	}
	if (d->src.registry_fd >= 0)
		close(d->src.registry_fd);
	d->src.registry_fd = -1;
	d->have_states = false;
}

static int to_err(struct cxlemu_err *err, int rc, const cx_err *e)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg), "%s", e->msg);
	return rc;
}

static int bad_reply(struct cxlemu_err *err, const char *what)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg),
			 "the daemon's dax-map reply is malformed (%s)", what);
	return -EPROTO;
}

static bool get_u64(struct json_object *o, const char *k, uint64_t *v)
{
	struct json_object *x;
	if (!json_object_object_get_ex(o, k, &x) ||
	    !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_uint64(x);
	return true;
}

/* An XOR window's maps and the region's HPA ("xormaps", "hpa"): a round
 * of granules goes round the slots in an order the HPA decides. */
static int get_xormaps(struct json_object *res, struct cx_ilv *v,
		       struct cxlemu_err *err)
{
	struct json_object *maps;
	if (!json_object_object_get_ex(res, "xormaps", &maps))
		return 0;
	size_t n = json_object_is_type(maps, json_type_array) ?
		   json_object_array_length(maps) : 0;
	if (!n || n > CX_MAX_XORMAPS || v->ways % (1 << n) ||
	    !get_u64(res, "hpa", &v->base))
		return bad_reply(err, "xormaps");
	for (size_t i = 0; i < n; i++)
		v->map[i] = json_object_get_uint64(
			json_object_array_get_idx(maps, i));
	v->nmaps = (int)n;
	return 0;
}

int cxlemu_dax_open(struct cxlemu *c, const char *device,
		    struct cxlemu_dax **out, struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "device", json_object_new_string(device));
	int rc = cxlemu_call(c, "dax-map", args, NULL, 0, &rep, err);
	if (rc)
		return rc;

	struct cxlemu_dax *d = cx_xcalloc(1, sizeof(*d));
	struct cx_dax_layout *L = &d->L;
	struct json_object *res = rep.result, *ents, *lens;
	uint64_t size, gran, ways, align;
	cx_err e;
	d->conn = c;
	for (int i = 0; i < CX_DAX_MAX_FDS; i++) {
		L->fds[i] = -1;
		d->src.state_fd[i] = -1;
	}
	d->src.registry_fd = -1;
	struct json_object *coh;
	if (json_object_object_get_ex(res, "coherency", &coh) &&
	    !strcmp(json_object_get_string(coh), "noncoherent"))
		d->coherency = CXLEMU_NONCOHERENT;
	snprintf(L->name, sizeof(L->name), "%s", device);
	if (!get_u64(res, "size", &size) || !get_u64(res, "granularity", &gran) ||
	    !get_u64(res, "ways", &ways) || ways < 1 || ways > CX_DAX_MAX_WAYS ||
	    !get_u64(res, "align", &align) || !cx_is_pow2(align) ||
	    gran == 0 || gran > UINT32_MAX ||
	    !json_object_object_get_ex(res, "entries", &ents) ||
	    !json_object_object_get_ex(res, "fd_len", &lens) ||
	    (int)json_object_array_length(ents) != (int)ways ||
	    (int)json_object_array_length(lens) != rep.nfds ||
	    rep.nfds > CX_DAX_MAX_FDS) {
		rc = bad_reply(err, "fields");
		goto fail;
	}
	L->size = size;
	L->align = align;
	L->ilv.gran = (uint32_t)gran;
	L->ilv.ways = (int)ways;
	if ((rc = get_xormaps(res, &L->ilv, err)))
		goto fail;
	L->nfds = rep.nfds;
	for (int i = 0; i < rep.nfds; i++) {
		L->fds[i] = rep.fds[i];
		rep.fds[i] = -1;
		L->fd_len[i] = json_object_get_uint64(
			json_object_array_get_idx(lens, (size_t)i));
	}
	int nx = 0;
	for (int j = 0; j < L->ilv.ways; j++) {
		struct json_object *o = json_object_array_get_idx(ents, (size_t)j);
		struct json_object *xs;
		L->first[j] = nx;
		if (!json_object_object_get_ex(o, "extents", &xs) ||
		    !json_object_is_type(xs, json_type_array) ||
		    nx + (int)json_object_array_length(xs) > CX_DAX_MAX_FDS) {
			rc = bad_reply(err, "entries");
			goto fail;
		}
		for (size_t k = 0; k < json_object_array_length(xs); k++) {
			struct json_object *x = json_object_array_get_idx(xs, k);
			uint64_t fdi, off, len;
			if (!get_u64(x, "fd", &fdi) || !get_u64(x, "offset", &off) ||
			    !get_u64(x, "length", &len) ||
			    fdi >= (uint64_t)L->nfds) {
				rc = bad_reply(err, "extents");
				goto fail;
			}
			L->ext[nx++] = (struct cx_dax_extent){ (int)fdi, off,
							       len };
		}
	}
	L->first[L->ilv.ways] = nx;
	struct json_object *vw;
	if (json_object_object_get_ex(res, "view", &vw)) {
		if (!json_object_is_type(vw, json_type_int) ||
		    json_object_get_int(vw) < 0 ||
		    json_object_get_int(vw) >= L->nfds) {
			rc = bad_reply(err, "view");
			goto fail;
		}
		L->view = json_object_get_int(vw);
		L->viewed = true;
	} else if (json_object_object_get_ex(res, "view_fallback", &vw)) {
		snprintf(L->view_fallback, sizeof(L->view_fallback), "%s",
			 json_object_get_string(vw));
	}
	if ((rc = cx_dax_layout_check(L, &e))) {
		to_err(err, rc, &e);
		goto fail;
	}
	cxlemu_reply_release(&rep);
	*out = d;
	return 0;
fail:
	cxlemu_reply_release(&rep);
	cx_dax_layout_release(L);
	free(d);
	return rc;
}

void cxlemu_dax_close(struct cxlemu_dax *d)
{
	if (!d)
		return;
	struct cxlemu_reply rep;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "device", json_object_new_string(d->L.name));
	if (cxlemu_call(d->conn, "dax-unmap", args, NULL, 0, &rep, NULL) == 0)
		cxlemu_reply_release(&rep);
	cxlemu_dax_forget(d);
}

void cxlemu_dax_forget(struct cxlemu_dax *d)
{
	if (!d)
		return;
	states_release(d);
	cx_dax_layout_release(&d->L);
	free(d);
}

int cxlemu_dax_coherency(const struct cxlemu_dax *d) { return d->coherency; }

int cxlemu_dax_set_coherency(struct cxlemu_dax *d, int mode,
			     struct cxlemu_err *err)
{
	if (mode != CXLEMU_COHERENT && mode != CXLEMU_NONCOHERENT) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: coherency "
				 "mode %d is neither CXLEMU_COHERENT nor "
				 "CXLEMU_NONCOHERENT", d->L.name, mode);
		return -EINVAL;
	}
	d->coherency = mode;
	return 0;
}

/* The daemon's shared line states for this device (dax-coherency). */
static int get_states(struct cxlemu_dax *d, struct cxlemu_err *err)
{
	if (d->have_states)
		return 0;
	struct cxlemu_reply rep;
	struct json_object *args = json_object_new_object(), *lens;
	json_object_object_add(args, "device", json_object_new_string(d->L.name));
	json_object_object_add(args, "pid", json_object_new_int(getpid()));
	int rc = cxlemu_call(d->conn, "dax-coherency", args, NULL, 0, &rep, err);
	if (rc)
		return rc;
	uint64_t w;
	if (!get_u64(rep.result, "writer", &w) || !w ||
	    !json_object_object_get_ex(rep.result, "state_len", &lens) ||
	    rep.nfds != d->L.nfds + 1 ||
	    (int)json_object_array_length(lens) != d->L.nfds) {
		cxlemu_reply_release(&rep);
		if (err)
			snprintf(err->msg, sizeof(err->msg), "the daemon's "
				 "dax-coherency reply is malformed");
		return -EPROTO;
	}
	d->src.writer = (unsigned)w;
	d->src.registry_fd = rep.fds[0];
	rep.fds[0] = -1;
	for (int i = 0; i < d->L.nfds; i++) {
		d->src.state_fd[i] = rep.fds[i + 1];
		rep.fds[i + 1] = -1;
		d->src.state_len[i] = json_object_get_uint64(
			json_object_array_get_idx(lens, (size_t)i));
	}
	cxlemu_reply_release(&rep);
	d->src.L = &d->L;
	d->have_states = true;
	return 0;
}

uint64_t cxlemu_dax_size(const struct cxlemu_dax *d) { return d->L.size; }
uint64_t cxlemu_dax_align(const struct cxlemu_dax *d) { return d->L.align; }
uint32_t cxlemu_dax_granularity(const struct cxlemu_dax *d) { return d->L.ilv.gran; }
int cxlemu_dax_ways(const struct cxlemu_dax *d) { return d->L.ilv.ways; }

int cxlemu_dax_view(const struct cxlemu_dax *d, const char **why)
{
	if (why)
		*why = d->L.viewed ? "" : d->L.view_fallback;
	return d->L.viewed;
}

int cxlemu_dax_map_at(struct cxlemu_dax *d, uint64_t offset, uint64_t len,
		      int prot, void *hint, int fixed, void **addr,
		      struct cxlemu_err *err)
{
	cx_err e;
	int rc;
	if (d->coherency == CXLEMU_NONCOHERENT) {
		if ((rc = get_states(d, err)))
			return rc;
		rc = cx_coh_map(&d->src, offset, len, prot, hint, fixed, addr,
				&e);
	} else {
		rc = cx_dax_map(&d->L, offset, len, prot, hint, fixed, addr, &e);
		if (!rc)   /* a flush of it finds its device offset */
			cx_dax_note(&d->L, *addr, offset, len);
	}
	return rc ? to_err(err, rc, &e) : 0;
}

int cxlemu_dax_map(struct cxlemu_dax *d, uint64_t offset, uint64_t len,
		   int prot, void **addr, struct cxlemu_err *err)
{
	return cxlemu_dax_map_at(d, offset, len, prot, NULL, 0, addr, err);
}

int cxlemu_dax_read(struct cxlemu_dax *d, uint64_t offset, void *buf,
		    uint64_t len, struct cxlemu_err *err)
{
	cx_err e;
	int rc = cx_dax_read(&d->L, offset, buf, len, &e);
	return rc ? to_err(err, rc, &e) : 0;
}

int cxlemu_dax_write(struct cxlemu_dax *d, uint64_t offset, const void *buf,
		     uint64_t len, struct cxlemu_err *err)
{
	cx_err e;
	int rc = cx_dax_write(&d->L, offset, buf, len, &e);
	return rc ? to_err(err, rc, &e) : 0;
}

int cxlemu_dax_copy(struct cxlemu_dax *d, uint64_t dst, uint64_t src,
		    uint64_t len, struct cxlemu_err *err)
{
	cx_err e;
	int rc = cx_dax_copy(&d->L, dst, src, len, &e);
	return rc ? to_err(err, rc, &e) : 0;
}

int cxlemu_dax_fill(struct cxlemu_dax *d, uint64_t offset, int byte,
		    uint64_t len, struct cxlemu_err *err)
{
	cx_err e;
	int rc = cx_dax_fill(&d->L, offset, byte, len, &e);
	return rc ? to_err(err, rc, &e) : 0;
}

int cxlemu_dax_flush(struct cxlemu_dax *d, void *addr, uint64_t len,
		     struct cxlemu_err *err)
{
	struct cxlemu_reply rep;
	uint64_t off;
	uintptr_t a = (uintptr_t)addr;

	/* a non-coherent mapping's stores reach the media when written
	 * back from this host's cache; then, as for any mapping, the daemon
	 * writes the blocks back to the device's file: the device range
	 * behind addr, or the whole device when addr is not one of this
	 * handle's (coherent) mappings */
	if (cx_coh_owns(a, a + len))
		cxlemu_flush(addr, len);
	if (cx_dax_addr_offset(&d->L, addr, &off) < 0) {
		off = 0;
		len = d->L.size;
	} else if (len > d->L.size - off) {
		len = d->L.size - off;
	}
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "device", json_object_new_string(d->L.name));
	json_object_object_add(args, "offset", json_object_new_uint64(off));
	json_object_object_add(args, "length", json_object_new_uint64(len));
	int rc = cxlemu_call(d->conn, "dax-flush", args, NULL, 0, &rep, err);
	if (rc == 0)
		cxlemu_reply_release(&rep);
	return rc;
}
