/*
 * dcd_host.c - the host's side of dynamic capacity, as Linux's DCD driver
 * behaves (its series v11): it learns of capacity only from the dynamic
 * capacity event log, answers an Add Capacity chain only once the chain
 * is complete (the record without More), accepts or rejects the chain
 * whole, gives back what a Release Capacity record asks for unless a
 * program still uses it (then the release waits, as Linux defers it),
 * notes a Forced Release, and clears the records it handled.
 *
 * It speaks to the device only through the mailbox (cx_mbox_exec: Get
 * and Clear Event Records, Add Dynamic Capacity Response, Release Dynamic
 * Capacity), so the device's rules (dcd.c) judge every answer exactly as
 * they judge a guest's.  Also here: the host's exact path to the bytes of
 * its accepted extents, refused for capacity it does not hold.
 */
#include "mbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The records of the DC log, oldest first, as the mailbox gives them. */
struct dc_records {
	uint8_t (*v)[CX_EVENT_RECORD_SIZE];
	int n;
};

static int read_log(struct cx_memdev *m, struct dc_records *r, cx_err *e)
{
	uint8_t in[CX_GER_IN_LEN] = { CX_EVLOG_DCD };
	uint8_t *out = cx_xcalloc(1, CX_MBOX_PAYLOAD_MAX);
	size_t n = CX_MBOX_PAYLOAD_MAX;
	uint16_t rc = 0;

	/* Get Event Records answers from the head of the log: one call
	 * sees what fits in a payload; the rest comes after a clear. */
	if (cx_mbox_exec(m, CX_OP_GET_EVENT_RECORDS, in, sizeof(in), out, &n,
			 &rc) || rc) {
		free(out);
		return cx_fail(e, EIO, "memdev %s: Get Event Records (dynamic "
			       "capacity log) failed: %s", m->qid,
			       cx_mbox_rc_name(rc));
	}
	int k = cx_rd_le16(out + CX_GER_RECORD_COUNT);
	if ((size_t)CX_GER_RECORDS + (size_t)k * CX_EVENT_RECORD_SIZE > n)
		k = 0;
	r->v = k ? cx_xcalloc((size_t)k, sizeof(*r->v)) : NULL;
	for (int i = 0; i < k; i++)
		memcpy(r->v[i], out + CX_GER_RECORDS +
		       (size_t)i * CX_EVENT_RECORD_SIZE, CX_EVENT_RECORD_SIZE);
	r->n = k;
	free(out);
	return 0;
}

static int clear_head(struct cx_memdev *m, const struct dc_records *r,
		      int upto, cx_err *e)
{
	size_t len = CX_CER_HDR_LEN + 2 * (size_t)upto;
	uint8_t *in = cx_xcalloc(1, len);
	uint16_t rc = 0;
	size_t on = 0;

	in[CX_CER_LOG] = CX_EVLOG_DCD;
	in[CX_CER_NHANDLES] = (uint8_t)upto;
	for (int i = 0; i < upto; i++)
		cx_wr_le16(in + CX_CER_HANDLES + 2 * i,
			   cx_rd_le16(r->v[i] + CX_EVR_HANDLE));
	int x = cx_mbox_exec(m, CX_OP_CLEAR_EVENT_RECORDS, in, len, NULL, &on,
			     &rc);
	free(in);
	if (x || rc)
		return cx_fail(e, EIO, "memdev %s: Clear Event Records (dynamic "
			       "capacity log) failed: %s", m->qid,
			       cx_mbox_rc_name(rc));
	return 0;
}

/* Add Dynamic Capacity Response or Release Dynamic Capacity for the
 * extents of records [from, to) (none: an empty list). */
static int answer(struct cx_memdev *m, uint16_t opcode,
		  const struct dc_records *r, int from, int to, bool none,
		  cx_err *e)
{
	int cnt = none ? 0 : to - from;
	size_t len = CX_DCU_HDR_LEN + (size_t)cnt * CX_DCU_E_SIZE;
	uint8_t *in = cx_xcalloc(1, len);
	uint16_t rc = 0;
	size_t on = 0;

	cx_wr_le32(in + CX_DCU_COUNT, (uint32_t)cnt);
	for (int i = 0; i < cnt; i++) {
		struct cx_dc_extent x;
		uint8_t *p = in + CX_DCU_EXTENTS + (size_t)i * CX_DCU_E_SIZE;
		cx_dc_extent_get(r->v[from + i] + CX_DCEV_EXTENT, &x);
		cx_wr_le64(p + CX_DCU_E_DPA, x.dpa);
		cx_wr_le64(p + CX_DCU_E_LEN, x.len);
	}
	int err = cx_mbox_exec(m, opcode, in, len, NULL, &on, &rc);
	free(in);
	if (err || rc) {
		char why[256];
		cx_dcd_last_error(m, why, sizeof(why));
		return cx_fail(e, EIO, "memdev %s: %s refused: %s", m->qid,
			       cx_mbox_opcode_name(opcode),
			       why[0] ? why : cx_mbox_rc_name(rc));
	}
	return 0;
}

static void note(struct cx_dc_extent **v, int *n, const uint8_t *rec)
{
	*v = cx_xrealloc(*v, sizeof(**v) * (size_t)(*n + 1));
	cx_dc_extent_get(rec + CX_DCEV_EXTENT, &(*v)[(*n)++]);
}

/* One pass over what one Get Event Records returned: returns how many
 * records from the head were handled (and may be cleared). */
static int service(struct cx_memdev *m, const struct dc_records *r,
		   bool accept, cx_dcd_in_use_fn *in_use, void *ctx,
		   struct cx_dcd_host_result *res, cx_err *e)
{
	int i = 0;
	while (i < r->n) {
		const uint8_t *rec = r->v[i];
		uint8_t type = rec[CX_DCEV_TYPE];
		/* a chain: this record and the ones after it, up to the
		 * first without More */
		int end = i;
		while (end < r->n && (r->v[end][CX_DCEV_FLAGS] &
				      CX_DCEV_FLAG_MORE))
			end++;
		if (end == r->n)
			return i;   /* incomplete: wait for the rest */
		end++;
		for (int k = i; k < end; k++)
			if (r->v[k][CX_DCEV_TYPE] != type)
				end = k;  /* a chain is one kind of record */
		if (type == CX_DCEV_ADD_CAPACITY) {
			if (answer(m, CX_OP_ADD_DC_RESPONSE, r, i, end, !accept,
				   e))
				return -1;
			for (int k = i; k < end; k++)
				note(accept ? &res->added : &res->rejected,
				     accept ? &res->nadded : &res->nrejected,
				     r->v[k]);
		} else if (type == CX_DCEV_RELEASE_CAPACITY) {
			for (int k = i; k < end; k++) {
				struct cx_dc_extent x;
				char why[200];
				cx_dc_extent_get(r->v[k] + CX_DCEV_EXTENT, &x);
				if (in_use && in_use(ctx, m, x.dpa, x.len, why,
						     sizeof(why))) {
					/* deferred: the record stays */
					return i;
				}
			}
			if (answer(m, CX_OP_RELEASE_DC, r, i, end, false, e))
				return -1;
			for (int k = i; k < end; k++)
				note(&res->released, &res->nreleased, r->v[k]);
		} else if (type == CX_DCEV_FORCED_RELEASE) {
			for (int k = i; k < end; k++)
				note(&res->forced, &res->nforced, r->v[k]);
		}
		i = end;
	}
	return i;
}

int cx_dcd_host_service(struct cx_memdev *m, bool accept,
			cx_dcd_in_use_fn *in_use, void *ctx,
			struct cx_dcd_host_result *res, cx_err *e)
{
	memset(res, 0, sizeof(*res));
	if (!m->mbox || !m->dc_regions || !m->dc_size)
		return cx_fail(e, EINVAL, "memdev %s has no dynamic capacity",
			       m->qid);
	for (;;) {
		struct dc_records r = { 0 };
		int rc = read_log(m, &r, e);
		if (rc)
			return rc;
		int done = service(m, &r, accept, in_use, ctx, res, e);
		if (done > 0 && (rc = clear_head(m, &r, done, e)) == 0 &&
		    done == r.n) {
			free(r.v);
			continue;  /* the log may hold more */
		}
		free(r.v);
		if (done < 0)
			return -EIO;
		return rc;
	}
}

void cx_dcd_host_result_free(struct cx_dcd_host_result *res)
{
	free(res->added);
	free(res->rejected);
	free(res->released);
	free(res->forced);
	memset(res, 0, sizeof(*res));
}

/* ---- the host's exact path to its dynamic capacity ---- */

static int dc_io(struct cx_memdev *m, uint64_t dpa, void *buf, size_t len,
		 bool write, cx_err *e)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st || !m->dc || !m->dc_size)
		return cx_fail(e, EINVAL, "memdev %s has no dynamic capacity",
			       m->qid);
	uint64_t base = st->dev->dc_base;
	if (dpa < base || len > m->dc_size || dpa - base > m->dc_size - len)
		return cx_fail(e, ERANGE, "memdev %s: DPA %#llx+%#zx is not "
			       "inside its dynamic capacity (DPA %#llx+%#llx)",
			       m->qid, (unsigned long long)dpa, len,
			       (unsigned long long)base,
			       (unsigned long long)m->dc_size);
	/* the device's checks: accepted by this host, media enabled */
	int rc = cx_mbox_access_check(m, dpa, len, write, NULL, e);
	if (rc)
		return rc;
	return write ? cx_media_write(m->dc, dpa - base, buf, len, e) :
		       cx_media_read(m->dc, dpa - base, buf, len, e);
}

int cx_dcd_read(struct cx_memdev *m, uint64_t dpa, void *buf, size_t len,
		cx_err *e)
{
	return dc_io(m, dpa, buf, len, false, e);
}

int cx_dcd_write(struct cx_memdev *m, uint64_t dpa, const void *buf,
		 size_t len, cx_err *e)
{
	return dc_io(m, dpa, (void *)buf, len, true, e);
}

/* ---- the DAX devices over a host's dynamic capacity ---- */

static bool same_tag(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, CX_DC_TAG_LEN);
}

static bool untagged(const uint8_t *t)
{
	static const uint8_t zero[CX_DC_TAG_LEN];
	return same_tag(t, zero);
}

static int by_seq(const void *a, const void *b)
{
	const struct cx_dc_extent *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The devices extents x[0..n) form; frees x. */
static int form(struct cx_dc_extent *x, int n, struct cx_dcd_dax **out)
{
	int k = 0;

	*out = NULL;
	if (!n) {
		free(x);
		return 0;
	}
	struct cx_dcd_dax *v = cx_xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++) {
		int g = -1;
		for (int j = 0; j < k && !untagged(x[i].tag); j++)
			if (v[j].tagged && same_tag(v[j].tag, x[i].tag))
				g = j;
		if (g < 0) {
			g = k++;
			memcpy(v[g].tag, x[i].tag, CX_DC_TAG_LEN);
			v[g].tagged = !untagged(x[i].tag);
			v[g].ext = cx_xcalloc((size_t)n, sizeof(*v[g].ext));
		}
		v[g].ext[v[g].n++] = x[i];
		v[g].size += x[i].len;
	}
	for (int j = 0; j < k; j++)
		qsort(v[j].ext, (size_t)v[j].n, sizeof(*v[j].ext), by_seq);
	free(x);
	*out = v;
	return k;
}

int cx_dcd_dax_devices(struct cx_memdev *m, struct cx_dcd_dax **out)
{
	struct cx_dc_extent *x = NULL;
	int n = 0;

	if (cx_dcd_extents(m, &x, &n, NULL))
		n = 0;
	return form(x, n, out);
}

struct cx_decoder *cx_region_dc_decoder(const struct cx_region *r)
{
	struct cx_decoder *d = r->mode == CX_MODE_DC && r->ways == 1 ?
			       r->targets[0] : NULL;
	return d && d->memdev && d->dpa_size ? d : NULL;
}

int cx_region_dc_extents(const struct cx_region *r, struct cx_dc_extent **out,
			 int *n)
{
	struct cx_decoder *d = cx_region_dc_decoder(r);
	struct cx_dc_extent *x = NULL;
	int k = 0;

	*out = NULL;
	*n = 0;
	if (!d || cx_dcd_extents(d->memdev, &x, &k, NULL))
		return 0;
	int w = 0;
	for (int i = 0; i < k; i++)
		if (x[i].dpa >= d->dpa_base && x[i].len <= d->dpa_size &&
		    x[i].dpa - d->dpa_base <= d->dpa_size - x[i].len)
			x[w++] = x[i];
	*out = x;
	*n = w;
	return 0;
}

uint64_t cx_dc_covered(const struct cx_dc_extent *v, int n, uint64_t dpa,
		       uint64_t len)
{
	uint64_t pos = dpa, end = dpa + len;
	for (bool moved = true; pos < end && moved;) {
		moved = false;
		for (int i = 0; i < n; i++)
			if (v[i].dpa <= pos && pos < v[i].dpa + v[i].len) {
				pos = v[i].dpa + v[i].len;
				moved = true;
			}
	}
	return pos;
}

int cx_region_dc_check(const struct cx_region *r, uint64_t off, uint64_t len,
		       cx_err *e)
{
	struct cx_decoder *d = cx_region_dc_decoder(r);
	struct cx_dc_extent *x;
	int n;

	if (!d)
		return 0;
	cx_region_dc_extents(r, &x, &n);
	uint64_t pos = cx_dc_covered(x, n, d->dpa_base + off, len);
	free(x);
	if (pos >= d->dpa_base + off + len)
		return 0;
	return cx_fail(e, ENXIO, "region%d offset %#llx (mem%d DPA %#llx) is "
		       "in no extent host %s has accepted: a dynamic_ram_a "
		       "region reaches only its accepted extents", r->id,
		       (unsigned long long)(pos - d->dpa_base),
		       d->memdev->index, (unsigned long long)pos,
		       r->host->name);
}

int cx_region_dc_dax(const struct cx_region *r, struct cx_dcd_dax **out)
{
	struct cx_dc_extent *x;
	int n;

	cx_region_dc_extents(r, &x, &n);
	return form(x, n, out);
}

void cx_dcd_dax_free(struct cx_dcd_dax *v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i].ext);
	free(v);
}
