/*
 * dcd.c - dynamic capacity (CXL r3.1 §8.2.9.9.9, §9.13.3): a device's DC
 * regions, the extents each head (host) holds, and the host's commands
 * Get Dynamic Capacity Configuration (4800h), Get Dynamic Capacity Extent
 * List (4801h), Add Dynamic Capacity Response (4802h) and Release Dynamic
 * Capacity (4803h); and the device side of what a fabric manager asks
 * (fm.c): offering capacity to a head, taking it back, changing a
 * region's block size.
 *
 * The regions are QEMU's: num-dc-regions equal regions after the static
 * capacity, 2 MiB blocks by default.  The device-wide state (regions) is
 * in struct cx_mbox_device, a head's (its extent list, the Add Capacity
 * chains waiting for its answer, the generation number) in its struct
 * cx_mbox_state.  Everything runs under the device's lock.
 *
 * The rules that keep capacity safe, checked before anything changes:
 * a block is held (accepted, or offered and not yet answered) by at most
 * one head, unless its region is sharable and the extents carry a tag
 * (then every head given the tag holds the same blocks); a host accepts
 * only what is offered to it, in the oldest unanswered chain, and
 * releases only what it holds; a block that no head holds any more is
 * zeroed at once, so its data never reaches the next owner.
 */
#include "mbox.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- extent lists ---- */

static void list_push(struct cx_dc_list *l, const struct cx_dc_extent *x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = cx_xrealloc(l->v, sizeof(*l->v) * (size_t)l->cap);
	}
	l->v[l->n++] = *x;
}

static void list_free(struct cx_dc_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool list_overlaps(const struct cx_dc_list *l, uint64_t dpa,
			  uint64_t len)
{
	for (int i = 0; i < l->n; i++)
		if (overlaps(l->v[i].dpa, l->v[i].len, dpa, len))
			return true;
	return false;
}

/* The extent that holds all of [dpa, dpa+len), or NULL. */
static const struct cx_dc_extent *list_container(const struct cx_dc_list *l,
						 uint64_t dpa, uint64_t len)
{
	for (int i = 0; i < l->n; i++)
		if (dpa >= l->v[i].dpa &&
		    dpa + len <= l->v[i].dpa + l->v[i].len)
			return &l->v[i];
	return NULL;
}

/* Do the list's extents together cover [dpa, dpa+len)? */
static bool list_covers(const struct cx_dc_list *l, uint64_t dpa,
			uint64_t len)
{
	uint64_t pos = dpa, end = dpa + len;
	while (pos < end) {
		const struct cx_dc_extent *x = list_container(l, pos, 1);
		if (!x)
			return false;
		pos = x->dpa + x->len;
	}
	return true;
}

/* Take [dpa, dpa+len) out of the list: extents shrink or split; the
 * pieces keep their tag and sequence number, in list order. */
static void list_subtract(struct cx_dc_list *l, uint64_t dpa, uint64_t len)
{
	struct cx_dc_list out = { 0 };
	uint64_t end = dpa + len;

	for (int i = 0; i < l->n; i++) {
		struct cx_dc_extent x = l->v[i];
		uint64_t xend = x.dpa + x.len;
		if (!overlaps(x.dpa, x.len, dpa, len)) {
			list_push(&out, &x);
			continue;
		}
		if (x.dpa < dpa) {
			struct cx_dc_extent left = x;
			left.len = dpa - x.dpa;
			list_push(&out, &left);
		}
		if (xend > end) {
			struct cx_dc_extent right = x;
			right.dpa = end;
			right.len = xend - end;
			list_push(&out, &right);
		}
	}
	free(l->v);
	*l = out;
}

static bool tag_is_zero(const uint8_t *tag)
{
	for (int i = 0; i < CX_DC_TAG_LEN; i++)
		if (tag[i])
			return false;
	return true;
}

void cx_dc_tag_format(const uint8_t *tag, char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", tag[0], tag[1], tag[2], tag[3],
		 tag[4], tag[5], tag[6], tag[7], tag[8], tag[9], tag[10],
		 tag[11], tag[12], tag[13], tag[14], tag[15]);
}

void cx_dc_extent_put(uint8_t *p, const struct cx_dc_extent *x)
{
	memset(p, 0, CX_DCE_SIZE);
	cx_wr_le64(p + CX_DCE_DPA, x->dpa);
	cx_wr_le64(p + CX_DCE_LEN, x->len);
	memcpy(p + CX_DCE_TAG, x->tag, CX_DC_TAG_LEN);
	cx_wr_le16(p + CX_DCE_SHARED_SEQ, x->seq);
}

void cx_dc_extent_get(const uint8_t *p, struct cx_dc_extent *x)
{
	x->dpa = cx_rd_le64(p + CX_DCE_DPA);
	x->len = cx_rd_le64(p + CX_DCE_LEN);
	memcpy(x->tag, p + CX_DCE_TAG, CX_DC_TAG_LEN);
	x->seq = cx_rd_le16(p + CX_DCE_SHARED_SEQ);
}

/* ---- the device's regions and who holds what ---- */

void cx_dcd_device_init(struct cx_mbox_device *dev, struct cx_memdev *m)
{
	if (m->dc_regions <= 0 || !m->dc_size)
		return;
	uint64_t len = m->dc_size / (uint64_t)m->dc_regions;
	dev->dc_nregions = m->dc_regions > CX_DC_MAX_REGIONS ?
			   CX_DC_MAX_REGIONS : m->dc_regions;
	dev->dc_base = m->vmem_size + m->pmem_size;
	for (int i = 0; i < dev->dc_nregions; i++) {
		struct cx_dc_region *r = &dev->dc_region[i];
		r->base = dev->dc_base + (uint64_t)i * len;
		r->len = len;
		r->block_size = CX_DC_BLOCK_DEFAULT;
		r->sanitize_on_release = false;
		r->sharable = false;  /* set when a second head joins */
	}
}

void cx_dcd_head_free(struct cx_mbox_state *st)
{
	list_free(&st->dc.accepted);
	for (int i = 0; i < st->dc.pending.n; i++) {
		struct cx_dc_list *g = st->dc.pending.v[i];
		list_free(g);
		free(g);
	}
	cx_vec_free(&st->dc.pending);
}

int cx_dcd_head_index(const struct cx_mbox_state *st)
{
	for (int i = 0; i < st->dev->heads.n; i++)
		if (st->dev->heads.v[i] == st)
			return i;
	return -1;
}

/* The region that holds all of [dpa, dpa+len) (extents never cross
 * regions, §9.13.3), or NULL. */
static struct cx_dc_region *region_of(struct cx_mbox_device *dev,
				      uint64_t dpa, uint64_t len)
{
	for (int i = 0; i < dev->dc_nregions; i++) {
		struct cx_dc_region *r = &dev->dc_region[i];
		if (dpa >= r->base && len <= r->len &&
		    dpa - r->base <= r->len - len)
			return r;
	}
	return NULL;
}

static int region_index(const struct cx_mbox_device *dev,
			const struct cx_dc_region *r)
{
	return (int)(r - dev->dc_region);
}

static bool head_holds(const struct cx_mbox_state *h, uint64_t dpa,
		       uint64_t len)
{
	if (list_overlaps(&h->dc.accepted, dpa, len))
		return true;
	for (int i = 0; i < h->dc.pending.n; i++)
		if (list_overlaps(h->dc.pending.v[i], dpa, len))
			return true;
	return false;
}

/* The first head other than `except` that holds part of the range. */
static struct cx_mbox_state *holder(struct cx_mbox_device *dev, uint64_t dpa,
				    uint64_t len,
				    const struct cx_mbox_state *except)
{
	for (int i = 0; i < dev->heads.n; i++) {
		struct cx_mbox_state *h = dev->heads.v[i];
		if (h != except && head_holds(h, dpa, len))
			return h;
	}
	return NULL;
}

typedef void extent_fn(void *ctx, const struct cx_dc_extent *x);

/* Every extent every head holds, accepted and pending. */
static void each_extent(struct cx_mbox_device *dev, extent_fn *fn, void *ctx)
{
	for (int i = 0; i < dev->heads.n; i++) {
		struct cx_mbox_state *h = dev->heads.v[i];
		for (int j = 0; j < h->dc.accepted.n; j++)
			fn(ctx, &h->dc.accepted.v[j]);
		for (int g = 0; g < h->dc.pending.n; g++) {
			struct cx_dc_list *l = h->dc.pending.v[g];
			for (int j = 0; j < l->n; j++)
				fn(ctx, &l->v[j]);
		}
	}
}

static void count_one(void *ctx, const struct cx_dc_extent *x)
{
	(*(int *)ctx)++;
}

int cx_dcd_used_extents(struct cx_mbox_device *dev)
{
	int n = 0;
	each_extent(dev, count_one, &n);
	return n;
}

struct tagset {
	uint8_t tags[CX_DC_MAX_EXTENTS][CX_DC_TAG_LEN];
	int n;
};

static void collect_tag(void *ctx, const struct cx_dc_extent *x)
{
	struct tagset *t = ctx;
	if (tag_is_zero(x->tag))
		return;
	for (int i = 0; i < t->n; i++)
		if (!memcmp(t->tags[i], x->tag, CX_DC_TAG_LEN))
			return;
	if (t->n < CX_DC_MAX_EXTENTS)
		memcpy(t->tags[t->n++], x->tag, CX_DC_TAG_LEN);
}

int cx_dcd_used_tags(struct cx_mbox_device *dev)
{
	struct tagset *t = cx_xcalloc(1, sizeof(*t));
	each_extent(dev, collect_tag, t);
	int n = t->n;
	free(t);
	return n;
}

static bool tag_in_use(struct cx_mbox_device *dev, const uint8_t *tag)
{
	struct tagset *t = cx_xcalloc(1, sizeof(*t));
	each_extent(dev, collect_tag, t);
	bool found = false;
	for (int i = 0; i < t->n && !found; i++)
		found = !memcmp(t->tags[i], tag, CX_DC_TAG_LEN);
	free(t);
	return found;
}

static uint32_t extents_available(struct cx_mbox_device *dev)
{
	int used = cx_dcd_used_extents(dev);
	return used >= CX_DC_MAX_EXTENTS ? 0 :
	       (uint32_t)(CX_DC_MAX_EXTENTS - used);
}

static uint32_t tags_available(struct cx_mbox_device *dev)
{
	int used = cx_dcd_used_tags(dev);
	return used >= CX_DC_MAX_TAGS ? 0 : (uint32_t)(CX_DC_MAX_TAGS - used);
}

/* Zero the blocks of [dpa, dpa+len) that no head holds any more. */
static void zero_unheld(struct cx_mbox_device *dev, uint64_t dpa,
			uint64_t len)
{
	struct cx_dc_region *r = region_of(dev, dpa, len);
	struct cx_mbox_state *any = dev->heads.n ? dev->heads.v[0] : NULL;
	if (!r || !any || !any->m->dc)
		return;
	for (uint64_t b = dpa; b < dpa + len; b += r->block_size)
		if (!holder(dev, b, r->block_size, NULL))
			/* a fault here leaves the media as it was; nothing
			 * else can be done about it from inside the device */
			cx_media_zero(any->m->dc, b - dev->dc_base,
				      r->block_size, NULL);
}

/* ---- refusals, records ---- */

uint16_t cx_dc_why(char *buf, size_t len, uint16_t rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return rc;
}

#define say cx_dc_why
#define HFAIL(st, rc, ...) cx_dc_why((st)->dc.why, sizeof((st)->dc.why), \
				     rc, __VA_ARGS__)

static bool log_room(const struct cx_mbox_state *st, int n)
{
	return st->logs[CX_EVLOG_DCD].n + n <= CX_EVLOG_CAPACITY;
}

/* One Dynamic Capacity Event Record into the head's DC event log. */
static void dc_event(struct cx_mbox_state *st, uint8_t type,
		     const struct cx_dc_extent *x, bool more, int region)
{
	uint8_t rec[CX_EVENT_RECORD_SIZE] = { 0 };

	cx_event_header(rec, cx_event_uuid_dynamic_capacity, CX_EVR_SEV_INFO);
	rec[CX_DCEV_TYPE] = type;
	rec[CX_DCEV_VALIDITY] = CX_DCEV_VALID_AVAILABLE;
	cx_wr_le16(rec + CX_DCEV_HOST_ID, (uint16_t)cx_dcd_head_index(st));
	rec[CX_DCEV_REGION_ID] = (uint8_t)region;
	rec[CX_DCEV_FLAGS] = more ? CX_DCEV_FLAG_MORE : 0;
	if (x)
		cx_dc_extent_put(rec + CX_DCEV_EXTENT, x);
	cx_wr_le32(rec + CX_DCEV_EXTENTS_AVAIL, extents_available(st->dev));
	cx_wr_le32(rec + CX_DCEV_TAGS_AVAIL, tags_available(st->dev));
	cx_events_add(st, CX_EVLOG_DCD, rec);
}

static void dpa_text(char *buf, size_t len, uint64_t dpa, uint64_t n)
{
	snprintf(buf, len, "DPA %#llx+%#llx", (unsigned long long)dpa,
		 (unsigned long long)n);
}

static const char *host_of(const struct cx_mbox_state *h)
{
	return h->m && h->m->host ? h->m->host->name : "?";
}

/* Room for n records of `kind` in the head's DC event log, or the
 * refusal: a chain is never cut. */
static uint16_t log_fits(const struct cx_mbox_state *st, int n,
			 const char *cmd, const char *kind, char *w, size_t wl)
{
	if (log_room(st, n))
		return CX_RC_SUCCESS;
	return cx_dc_why(w, wl, CX_RC_RESOURCES_EXHAUSTED, "%s: host %s's "
			 "dynamic capacity event log holds %d of %d records; "
			 "%d %s records do not fit until the host clears its "
			 "log", cmd, host_of(st),
			 st->logs[CX_EVLOG_DCD].n, CX_EVLOG_CAPACITY, n,
			 kind);
}

/* ---- 4800h Get Dynamic Capacity Configuration ---- */

/* The region configuration both 4800h and the FM's 5601h start with:
 * base, decode length, length, block size (they differ from 20h on). */
void cx_dcd_put_region(uint8_t *p, const struct cx_mbox_device *dev, int i)
{
	const struct cx_dc_region *r = &dev->dc_region[i];
	cx_wr_le64(p + CX_DCR_BASE, r->base);
	cx_wr_le64(p + CX_DCR_DECODE_LEN, r->len / CX_CAPACITY_UNIT);
	cx_wr_le64(p + CX_DCR_LEN, r->len);
	cx_wr_le64(p + CX_DCR_BLOCK_SIZE, r->block_size);
}

static void put_region(uint8_t *p, const struct cx_memdev *m,
		       const struct cx_mbox_device *dev, int i)
{
	cx_dcd_put_region(p, dev, i);
	cx_wr_le32(p + CX_DCR_DSMAD_HANDLE, cx_cdat_dc_handle(m, i));
	p[CX_DCR_FLAGS] = dev->dc_region[i].sanitize_on_release ?
			  CX_DCR_FLAG_SANITIZE_ON_RELEASE : 0;
}

void cx_dcd_put_trailer(struct cx_mbox_device *dev, uint8_t *p)
{
	cx_wr_le32(p + CX_GDC_T_EXTENTS_SUPPORTED, CX_DC_MAX_EXTENTS);
	cx_wr_le32(p + CX_GDC_T_EXTENTS_AVAILABLE, extents_available(dev));
	cx_wr_le32(p + CX_GDC_T_TAGS_SUPPORTED, CX_DC_MAX_TAGS);
	cx_wr_le32(p + CX_GDC_T_TAGS_AVAILABLE, tags_available(dev));
}

uint16_t cx_cmd_get_dc_config(struct cx_memdev *m, struct cx_mbox_state *st,
			      const uint8_t *in, size_t in_len, uint8_t *out,
			      size_t *out_len)
{
	struct cx_mbox_device *dev = st->dev;
	int count = in[CX_GDC_REGION_COUNT], start = in[CX_GDC_START_REGION];

	st->dc.why[0] = 0;
	if (start >= dev->dc_nregions)
		return HFAIL(st, CX_RC_INVALID_INPUT, "memdev %s: starting "
			     "region %d, but the device has %d dynamic "
			     "capacity regions (0 to %d)", m->qid, start,
			     dev->dc_nregions, dev->dc_nregions - 1);
	int n = dev->dc_nregions - start;
	if (count < n)
		n = count;
	out[CX_GDC_NUM_REGIONS] = (uint8_t)dev->dc_nregions;
	out[CX_GDC_RETURNED] = (uint8_t)n;
	for (int i = 0; i < n; i++)
		put_region(out + CX_GDC_REGIONS + (size_t)i * CX_DCR_SIZE, m,
			   dev, start + i);
	size_t t = CX_GDC_REGIONS + (size_t)n * CX_DCR_SIZE;
	cx_dcd_put_trailer(dev, out + t);
	*out_len = t + CX_GDC_TRAILER_LEN;
	return CX_RC_SUCCESS;
}

/* ---- 4801h Get Dynamic Capacity Extent List ---- */

/* Extents [start, start+count) of a list, as many as fit the payload,
 * at `p`; returns how many. */
int cx_dcd_put_extents(const struct cx_dc_list *l, uint32_t start,
		       uint32_t count, uint8_t *p, size_t room)
{
	uint32_t n = (uint32_t)l->n - start;
	if (count < n)
		n = count;
	if (n > room / CX_DCE_SIZE)
		n = (uint32_t)(room / CX_DCE_SIZE);
	for (uint32_t i = 0; i < n; i++)
		cx_dc_extent_put(p + (size_t)i * CX_DCE_SIZE,
				 &l->v[start + i]);
	return (int)n;
}

uint16_t cx_cmd_get_dc_extent_list(struct cx_memdev *m,
				   struct cx_mbox_state *st,
				   const uint8_t *in, size_t in_len,
				   uint8_t *out, size_t *out_len)
{
	uint32_t count = cx_rd_le32(in + CX_GDEL_COUNT);
	uint32_t start = cx_rd_le32(in + CX_GDEL_START);
	const struct cx_dc_list *l = &st->dc.accepted;

	st->dc.why[0] = 0;
	if (start > (uint32_t)l->n)
		return HFAIL(st, CX_RC_INVALID_INPUT, "memdev %s: starting "
			     "extent index %u, but host %s holds %d extents",
			     m->qid, start, host_of(st), l->n);
	int n = cx_dcd_put_extents(l, start, count, out + CX_GDEL_EXTENTS,
				   CX_MBOX_PAYLOAD_MAX - CX_GDEL_EXTENTS);
	cx_wr_le32(out + CX_GDEL_RETURNED, (uint32_t)n);
	cx_wr_le32(out + CX_GDEL_TOTAL, (uint32_t)l->n);
	cx_wr_le32(out + CX_GDEL_GENERATION, st->dc.generation);
	*out_len = CX_GDEL_EXTENTS + (size_t)n * CX_DCE_SIZE;
	return CX_RC_SUCCESS;
}

/* ---- 4802h / 4803h: the host's updated extent lists ---- */

/* One extent of a list a command names: inside one region (`want` when
 * not NULL), aligned to that region's block size, not overlapping the
 * extents before it.  `outside` is the return code for an extent outside
 * (Invalid Physical Address from a host, Invalid Extent List from the
 * FM); `who` starts the sentence. */
static uint16_t check_extent(struct cx_mbox_device *dev,
			     const struct cx_dc_region *want,
			     const struct cx_dc_extent *x, int i,
			     const struct cx_dc_list *before, uint16_t outside,
			     const char *who, char *w, size_t wl)
{
	char r[64];
	dpa_text(r, sizeof(r), x->dpa, x->len);
	const struct cx_dc_region *reg = x->len && x->dpa + x->len > x->dpa ?
					 region_of(dev, x->dpa, x->len) : NULL;
	if (!reg || (want && reg != want)) {
		if (want)
			return say(w, wl, outside, "%s: extent %d (%s) is not "
				   "inside region %d (%#llx+%#llx)", who, i, r,
				   region_index(dev, want),
				   (unsigned long long)want->base,
				   (unsigned long long)want->len);
		return say(w, wl, outside, "%s: extent %d (%s) is not inside "
			   "one dynamic capacity region", who, i, r);
	}
	if (x->dpa % reg->block_size || x->len % reg->block_size)
		return say(w, wl, CX_RC_INVALID_EXTENT_LIST,
			   "%s: extent %d (%s) "
			   "is not aligned to region %d's block size %#llx",
			   who, i, r, region_index(dev, reg),
			   (unsigned long long)reg->block_size);
	if (list_overlaps(before, x->dpa, x->len))
		return say(w, wl, CX_RC_INVALID_EXTENT_LIST,
			   "%s: extent %d (%s) "
			   "overlaps an earlier extent of the list", who, i, r);
	return CX_RC_SUCCESS;
}

/* Check an updated extent list (Add Response or Release): its length,
 * then each extent (check_extent).  Fills `list`. */
static uint16_t read_updates(struct cx_memdev *m, struct cx_mbox_state *st,
			     const uint8_t *in, size_t in_len,
			     const char *cmd, struct cx_dc_list *list)
{
	uint32_t n = cx_rd_le32(in + CX_DCU_COUNT);
	char who[160];
	uint16_t rc;

	snprintf(who, sizeof(who), "memdev %s: %s", m->qid, cmd);
	if (n > (CX_MBOX_PAYLOAD_MAX - CX_DCU_HDR_LEN) / CX_DCU_E_SIZE ||
	    in_len != CX_DCU_HDR_LEN + (size_t)n * CX_DCU_E_SIZE)
		return HFAIL(st, CX_RC_INVALID_PAYLOAD_LENGTH, "%s of %u "
			     "extents must be %llu bytes long, not %zu", who,
			     n, (unsigned long long)(CX_DCU_HDR_LEN +
			     (uint64_t)n * CX_DCU_E_SIZE), in_len);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = in + CX_DCU_EXTENTS + (size_t)i *
				   CX_DCU_E_SIZE;
		struct cx_dc_extent x = { 0 };
		x.dpa = cx_rd_le64(p + CX_DCU_E_DPA);
		x.len = cx_rd_le64(p + CX_DCU_E_LEN);
		if ((rc = check_extent(st->dev, NULL, &x, (int)i, list,
				       CX_RC_INVALID_PA, who, st->dc.why,
				       sizeof(st->dc.why))))
			return rc;
		list_push(list, &x);
	}
	return CX_RC_SUCCESS;
}

uint16_t cx_cmd_add_dc_response(struct cx_memdev *m, struct cx_mbox_state *st,
				const uint8_t *in, size_t in_len,
				uint8_t *out, size_t *out_len)
{
	static const char cmd[] = "Add Dynamic Capacity Response";
	struct cx_dc_list upd = { 0 };
	bool more = in[CX_DCU_FLAGS] & CX_DCU_FLAG_MORE;
	char r[64];
	uint16_t rc;

	st->dc.why[0] = 0;
	if ((rc = read_updates(m, st, in, in_len, cmd, &upd)))
		goto out;
	if (!st->dc.pending.n) {
		rc = HFAIL(st, CX_RC_INVALID_INPUT, "memdev %s: %s: no Add "
			   "Capacity event is waiting for host %s's answer",
			   m->qid, cmd, host_of(st));
		goto out;
	}
	struct cx_dc_list *group = st->dc.pending.v[0];
	for (int i = 0; i < upd.n; i++) {
		dpa_text(r, sizeof(r), upd.v[i].dpa, upd.v[i].len);
		if (!list_container(group, upd.v[i].dpa, upd.v[i].len)) {
			rc = HFAIL(st, CX_RC_INVALID_PA, "memdev %s: %s: "
				   "extent %d (%s) was not offered to host %s "
				   "in the oldest Add Capacity event chain",
				   m->qid, cmd, i, r, host_of(st));
			goto out;
		}
		if (list_overlaps(&st->dc.accepted, upd.v[i].dpa,
				  upd.v[i].len)) {
			rc = HFAIL(st, CX_RC_INVALID_PA, "memdev %s: %s: "
				   "extent %d (%s) is already accepted", m->qid,
				   cmd, i, r);
			goto out;
		}
	}
	/* accepted extents keep the tag and sequence number offered */
	for (int i = 0; i < upd.n; i++) {
		const struct cx_dc_extent *o = list_container(
			group, upd.v[i].dpa, upd.v[i].len);
		struct cx_dc_extent x = *o;
		x.dpa = upd.v[i].dpa;
		x.len = upd.v[i].len;
		list_push(&st->dc.accepted, &x);
	}
	if (upd.n)
		st->dc.generation++;
	for (int i = 0; i < upd.n; i++)
		list_subtract(group, upd.v[i].dpa, upd.v[i].len);
	if (!more) {
		/* the chain is answered: what was not accepted is free again
		 * (never reachable, so nothing to zero) */
		cx_vec_remove(&st->dc.pending, group);
		list_free(group);
		free(group);
	}
	rc = CX_RC_SUCCESS;
out:
	list_free(&upd);
	return rc;
}

/* Give [dpa, dpa+len) of the head's accepted capacity back: its list
 * shrinks, the generation moves on, blocks nobody holds are zeroed. */
static void head_release(struct cx_mbox_state *st, uint64_t dpa,
			 uint64_t len)
{
	list_subtract(&st->dc.accepted, dpa, len);
	st->dc.generation++;
	zero_unheld(st->dev, dpa, len);
}

uint16_t cx_cmd_release_dc(struct cx_memdev *m, struct cx_mbox_state *st,
			   const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t *out_len)
{
	static const char cmd[] = "Release Dynamic Capacity";
	struct cx_dc_list upd = { 0 };
	char r[64];
	uint16_t rc;

	st->dc.why[0] = 0;
	if ((rc = read_updates(m, st, in, in_len, cmd, &upd)))
		goto out;
	if (!upd.n) {
		rc = HFAIL(st, CX_RC_INVALID_INPUT, "memdev %s: %s names no "
			   "extent", m->qid, cmd);
		goto out;
	}
	for (int i = 0; i < upd.n; i++) {
		dpa_text(r, sizeof(r), upd.v[i].dpa, upd.v[i].len);
		if (!list_covers(&st->dc.accepted, upd.v[i].dpa,
				 upd.v[i].len)) {
			rc = HFAIL(st, CX_RC_INVALID_PA, "memdev %s: %s: "
				   "extent %d (%s) is not all capacity host %s "
				   "holds", m->qid, cmd, i, r, host_of(st));
			goto out;
		}
	}
	for (int i = 0; i < upd.n; i++)
		head_release(st, upd.v[i].dpa, upd.v[i].len);
	rc = CX_RC_SUCCESS;
out:
	list_free(&upd);
	return rc;
}

/* ---- what the data path and the listings ask ---- */

int cx_dcd_access_check(struct cx_mbox_state *st, uint64_t dpa, uint64_t len,
			cx_err *e)
{
	struct cx_mbox_device *dev = st->dev;
	uint64_t end = dev->dc_base + st->m->dc_size;

	if (!dev->dc_nregions || !len || !overlaps(dpa, len, dev->dc_base,
						   end - dev->dc_base))
		return 0;
	if (list_covers(&st->dc.accepted, dpa, len))
		return 0;
	return cx_fail(e, ENXIO, "memdev %s: DPA %#llx+%#llx is dynamic "
		       "capacity that host %s has not accepted", st->m->qid,
		       (unsigned long long)dpa, (unsigned long long)len,
		       host_of(st));
}

static int copy_list(const struct cx_dc_list *l, struct cx_dc_extent **out,
		     int *n, int have)
{
	if (!l->n)
		return have;
	*out = cx_xrealloc(*out, sizeof(**out) * (size_t)(have + l->n));
	memcpy(*out + have, l->v, sizeof(**out) * (size_t)l->n);
	*n = have + l->n;
	return *n;
}

int cx_dcd_extents(struct cx_memdev *m, struct cx_dc_extent **out, int *n,
		   uint32_t *gen)
{
	struct cx_mbox_state *st = m->mbox;
	*out = NULL;
	*n = 0;
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(st->lock);
	int rc = st->dev->dc_nregions ? 0 : -EINVAL;
	if (!rc) {
		copy_list(&st->dc.accepted, out, n, 0);
		if (gen)
			*gen = st->dc.generation;
	}
	pthread_mutex_unlock(st->lock);
	return rc;
}

int cx_dcd_pending(struct cx_memdev *m, struct cx_dc_extent **out, int *n)
{
	struct cx_mbox_state *st = m->mbox;
	*out = NULL;
	*n = 0;
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(st->lock);
	int rc = st->dev->dc_nregions ? 0 : -EINVAL;
	for (int g = 0; !rc && g < st->dc.pending.n; g++)
		copy_list(st->dc.pending.v[g], out, n, *n);
	pthread_mutex_unlock(st->lock);
	return rc;
}

void cx_dcd_last_error(struct cx_memdev *m, char *buf, size_t len)
{
	struct cx_mbox_state *st = m->mbox;
	if (!len)
		return;
	buf[0] = 0;
	if (!st)
		return;
	pthread_mutex_lock(st->lock);
	snprintf(buf, len, "%s", st->dc.why);
	pthread_mutex_unlock(st->lock);
}

int cx_dcd_regions(struct cx_memdev *m, struct cx_dc_region_info *out,
		   int max)
{
	struct cx_mbox_state *st = m->mbox;
	if (!st)
		return 0;
	pthread_mutex_lock(st->lock);
	int n = st->dev->dc_nregions;
	for (int i = 0; i < n && i < max; i++) {
		const struct cx_dc_region *r = &st->dev->dc_region[i];
		out[i] = (struct cx_dc_region_info){
			.base = r->base, .len = r->len,
			.block_size = r->block_size,
			.sanitize_on_release = r->sanitize_on_release,
			.sharable = r->sharable,
		};
	}
	pthread_mutex_unlock(st->lock);
	return n;
}

/* ---- what a fabric manager asks (fm.c calls these, locked) ---- */

/* The head an FM command names, on a device with dynamic capacity. */
static struct cx_mbox_state *fm_target(struct cx_mbox_device *dev, int host,
				       const char *cmd, char *w, size_t wl,
				       uint16_t *rc)
{
	if (!dev->dc_nregions) {
		*rc = say(w, wl, CX_RC_UNSUPPORTED, "%s: the device has no "
			  "dynamic capacity", cmd);
		return NULL;
	}
	if (host < 0 || host >= dev->heads.n) {
		*rc = say(w, wl, CX_RC_INVALID_INPUT, "%s: host ID %d: the "
			  "device has %d head%s (host IDs 0 to %d)", cmd, host,
			  dev->heads.n, dev->heads.n == 1 ? "" : "s",
			  dev->heads.n - 1);
		return NULL;
	}
	return dev->heads.v[host];
}

/* Free runs of a region (blocks no head holds), lowest first, into
 * `out`, up to `want` bytes in all (contiguous: one run of `want`). */
static uint64_t find_free(struct cx_mbox_device *dev,
			  const struct cx_dc_region *r, uint64_t want,
			  bool contiguous, struct cx_dc_list *out)
{
	uint64_t got = 0, bs = r->block_size, end = r->base + r->len;
	uint64_t run = 0, run_len = 0;

	for (uint64_t b = r->base; b < end && got < want; b += bs) {
		bool free_blk = !holder(dev, b, bs, NULL);
		if (free_blk) {
			if (!run_len)
				run = b;
			run_len += bs;
		}
		if (contiguous) {
			if (run_len >= want) {
				struct cx_dc_extent x = { .dpa = run,
							  .len = want };
				list_push(out, &x);
				return want;
			}
			if (!free_blk)
				run_len = 0;
		} else if (run_len && (!free_blk || b + bs >= end ||
				       got + run_len >= want)) {
			struct cx_dc_extent x = { .dpa = run, .len = run_len };
			if (got + x.len > want)
				x.len = want - got;
			list_push(out, &x);
			got += x.len;
			run_len = 0;
		}
	}
	return got;
}

static uint64_t region_free(struct cx_mbox_device *dev,
			    const struct cx_dc_region *r)
{
	uint64_t n = 0;
	for (uint64_t b = r->base; b < r->base + r->len; b += r->block_size)
		if (!holder(dev, b, r->block_size, NULL))
			n += r->block_size;
	return n;
}

static void push_tagged(struct cx_dc_list *out, const struct cx_dc_list *l,
			const uint8_t *tag)
{
	for (int j = 0; j < l->n; j++)
		if (!memcmp(l->v[j].tag, tag, CX_DC_TAG_LEN) &&
		    !list_overlaps(out, l->v[j].dpa, l->v[j].len))
			list_push(out, &l->v[j]);
}

/* The extents of a tag, from the first head that holds it (every holder
 * holds the same ones), in sequence order. */
static void tag_extents(struct cx_mbox_device *dev, const uint8_t *tag,
			struct cx_dc_list *out)
{
	for (int i = 0; i < dev->heads.n && !out->n; i++) {
		struct cx_mbox_state *h = dev->heads.v[i];
		push_tagged(out, &h->dc.accepted, tag);
		for (int g = 0; g < h->dc.pending.n; g++)
			push_tagged(out, h->dc.pending.v[g], tag);
	}
	for (int i = 1; i < out->n; i++)
		for (int j = i; j > 0 && out->v[j].seq < out->v[j - 1].seq;
		     j--) {
			struct cx_dc_extent t = out->v[j];
			out->v[j] = out->v[j - 1];
			out->v[j - 1] = t;
		}
}

static const char *policy_name(uint8_t p)
{
	switch (p) {
	case CX_FM_SEL_FREE: return "free";
	case CX_FM_SEL_CONTIGUOUS: return "contiguous";
	case CX_FM_SEL_PRESCRIPTIVE: return "prescriptive";
	case CX_FM_SEL_SHARED: return "enable shared access";
	default: return "?";
	}
}

static const char add_cmd[] = "Initiate Dynamic Capacity Add";

/* Prescriptive: the FM's extents, in the region, held by nobody. */
static uint16_t pick_listed(struct cx_mbox_device *dev,
			    const struct cx_dc_region *reg,
			    const struct cx_dc_add_req *q,
			    struct cx_dc_list *add, char *w, size_t wl)
{
	char r[64];
	uint16_t rc;

	if (!q->n)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: the prescriptive "
			   "policy needs an extent list", add_cmd);
	for (int i = 0; i < q->n; i++) {
		struct cx_dc_extent x = q->ext[i];
		if ((rc = check_extent(dev, reg, &x, i, add,
				       CX_RC_INVALID_EXTENT_LIST, add_cmd, w,
				       wl)))
			return rc;
		struct cx_mbox_state *h = holder(dev, x.dpa, x.len, NULL);
		if (h) {
			dpa_text(r, sizeof(r), x.dpa, x.len);
			return say(w, wl, CX_RC_INVALID_EXTENT_LIST, "%s: "
				   "extent %d (%s) is already allocated to "
				   "host %s (host ID %d); a block goes to one "
				   "host unless it is shared by tag (policy 3)",
				   add_cmd, i, r, host_of(h),
				   cx_dcd_head_index(h));
		}
		if (tag_is_zero(x.tag))
			memcpy(x.tag, q->tag, CX_DC_TAG_LEN);
		list_push(add, &x);
	}
	return CX_RC_SUCCESS;
}

/* Free or contiguous: `length` of the region's free blocks. */
static uint16_t pick_free(struct cx_mbox_device *dev,
			  const struct cx_dc_region *reg,
			  const struct cx_dc_add_req *q,
			  struct cx_dc_list *add, char *w, size_t wl)
{
	bool contig = q->policy == CX_FM_SEL_CONTIGUOUS;
	uint64_t bs = reg->block_size;

	if (!q->length || q->length % bs)
		return say(w, wl, CX_RC_INVALID_INPUT,
			   "%s: length %#llx is not "
			   "a non-zero multiple of region %d's block size "
			   "%#llx", add_cmd, (unsigned long long)q->length,
			   q->region, (unsigned long long)bs);
	if (find_free(dev, reg, q->length, contig, add) < q->length)
		return say(w, wl, CX_RC_RESOURCES_EXHAUSTED,
			   "%s: region %d has "
			   "%#llx bytes free%s; %#llx asked for", add_cmd,
			   q->region, (unsigned long long)region_free(dev, reg),
			   contig ? ", not that much in one piece" : "",
			   (unsigned long long)q->length);
	for (int i = 0; i < add->n; i++)
		memcpy(add->v[i].tag, q->tag, CX_DC_TAG_LEN);
	return CX_RC_SUCCESS;
}

/* Enable shared access: the capacity of an existing tag, for a host that
 * does not hold it yet. */
static uint16_t pick_shared(struct cx_mbox_device *dev,
			    const struct cx_dc_region *reg,
			    struct cx_mbox_state *st,
			    const struct cx_dc_add_req *q,
			    struct cx_dc_list *add, char *w, size_t wl)
{
	char r[64], t[40];

	cx_dc_tag_format(q->tag, t, sizeof(t));
	if (tag_is_zero(q->tag))
		return say(w, wl, CX_RC_INVALID_INPUT,
			   "%s: shared access names "
			   "capacity by its tag; the tag is zero", add_cmd);
	if (!reg->sharable)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: region %d is not "
			   "sharable (only a multi-headed device's regions "
			   "are)", add_cmd, q->region);
	tag_extents(dev, q->tag, add);
	if (!add->n)
		return say(w, wl, CX_RC_INVALID_INPUT,
			   "%s: tag %s does not exist "
			   "(no host holds capacity with it)", add_cmd, t);
	for (int i = 0; i < add->n; i++) {
		dpa_text(r, sizeof(r), add->v[i].dpa, add->v[i].len);
		if (region_of(dev, add->v[i].dpa, add->v[i].len) != reg)
			return say(w, wl, CX_RC_INVALID_INPUT, "%s: tag %s is "
				   "capacity of another region (%s), not "
				   "region %d", add_cmd, t, r, q->region);
		if (head_holds(st, add->v[i].dpa, add->v[i].len))
			return say(w, wl, CX_RC_INVALID_INPUT, "%s: host %s "
				   "already holds tag %s (%s)", add_cmd,
				   host_of(st), t, r);
	}
	return CX_RC_SUCCESS;
}

/* A new allocation's tags are new (tags are unique) and get sequence
 * numbers in extent order; within what the device and the host's event
 * log can track. */
static uint16_t check_new(struct cx_mbox_device *dev,
			  struct cx_mbox_state *st,
			  const struct cx_dc_add_req *q,
			  struct cx_dc_list *add, char *w, size_t wl)
{
	char t[40];
	uint16_t seq = 0;

	if (q->policy != CX_FM_SEL_SHARED) {
		for (int i = 0; i < add->n; i++) {
			if (tag_is_zero(add->v[i].tag))
				continue;
			add->v[i].seq = seq++;
			if (!tag_in_use(dev, add->v[i].tag))
				continue;
			cx_dc_tag_format(add->v[i].tag, t, sizeof(t));
			return say(w, wl, CX_RC_INVALID_INPUT, "%s: tag %s is "
				   "already in use; to give its capacity to "
				   "another host use policy 3 (enable shared "
				   "access)", add_cmd, t);
		}
		if (seq && cx_dcd_used_tags(dev) >= CX_DC_MAX_TAGS)
			return say(w, wl, CX_RC_RESOURCES_EXHAUSTED, "%s: the "
				   "device tracks %d tags, all in use", add_cmd,
				   CX_DC_MAX_TAGS);
	}
	int used = cx_dcd_used_extents(dev);
	if (used + add->n > CX_DC_MAX_EXTENTS)
		return say(w, wl, CX_RC_RESOURCES_EXHAUSTED, "%s: %d more "
			   "extents would pass the %d the device tracks (%d in "
			   "use)", add_cmd, add->n, CX_DC_MAX_EXTENTS, used);
	return log_fits(st, add->n, add_cmd, "Add Capacity", w, wl);
}

uint16_t cx_dcd_initiate_add(struct cx_mbox_device *dev,
			     const struct cx_dc_add_req *q, char *w,
			     size_t wl)
{
	struct cx_dc_list add = { 0 };
	uint16_t rc = CX_RC_SUCCESS;
	struct cx_mbox_state *st = fm_target(dev, q->host, add_cmd, w, wl,
					     &rc);

	if (!st)
		return rc;
	if (q->region < 0 || q->region >= dev->dc_nregions)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: region %d: the "
			   "device has %d dynamic capacity regions (0 to %d)",
			   add_cmd, q->region, dev->dc_nregions,
			   dev->dc_nregions - 1);
	const struct cx_dc_region *reg = &dev->dc_region[q->region];
	switch (q->policy) {
	case CX_FM_SEL_PRESCRIPTIVE:
		rc = pick_listed(dev, reg, q, &add, w, wl);
		break;
	case CX_FM_SEL_FREE:
	case CX_FM_SEL_CONTIGUOUS:
		rc = pick_free(dev, reg, q, &add, w, wl);
		break;
	case CX_FM_SEL_SHARED:
		rc = pick_shared(dev, reg, st, q, &add, w, wl);
		break;
	default:
		rc = say(w, wl, CX_RC_INVALID_INPUT, "%s: selection policy %u "
			 "is not one of 0 free, 1 contiguous, 2 prescriptive, "
			 "3 enable shared access", add_cmd, q->policy);
	}
	if (!rc)
		rc = check_new(dev, st, q, &add, w, wl);
	if (!rc) {
		/* offer: one chain of Add Capacity records, the More flag
		 * on all but the last */
		struct cx_dc_list *group = cx_xcalloc(1, sizeof(*group));
		for (int i = 0; i < add.n; i++)
			list_push(group, &add.v[i]);
		cx_vec_push(&st->dc.pending, group);
		for (int i = 0; i < add.n; i++)
			dc_event(st, CX_DCEV_ADD_CAPACITY, &add.v[i],
				 i + 1 < add.n, 0);
		say(w, wl, CX_RC_SUCCESS, "%s: %d extent%s (%s policy) offered "
		    "to host %s", add_cmd, add.n, add.n == 1 ? "" : "s",
		    policy_name(q->policy), host_of(st));
	}
	list_free(&add);
	return rc;
}

static const char rel_cmd[] = "Initiate Dynamic Capacity Release";

/* What a release names: every extent of a tag the host holds, or the
 * FM's extents, all capacity the host has accepted. */
static uint16_t pick_release(struct cx_mbox_device *dev,
			     struct cx_mbox_state *st,
			     const struct cx_dc_release_req *q,
			     struct cx_dc_list *rel, char *w, size_t wl)
{
	char r[64], t[40];
	uint16_t rc;

	cx_dc_tag_format(q->tag, t, sizeof(t));
	if (q->policy == CX_FM_REL_TAG) {
		if (tag_is_zero(q->tag))
			return say(w, wl, CX_RC_INVALID_INPUT, "%s: tag-based "
				   "removal needs a tag; the tag is zero",
				   rel_cmd);
		push_tagged(rel, &st->dc.accepted, q->tag);
		if (!rel->n)
			return say(w, wl, CX_RC_INVALID_INPUT, "%s: host %s "
				   "holds no extent with tag %s", rel_cmd,
				   host_of(st), t);
		return CX_RC_SUCCESS;
	}
	if (q->policy != CX_FM_REL_PRESCRIPTIVE)
		return say(w, wl, CX_RC_INVALID_INPUT,
			   "%s: removal policy %u is "
			   "not one of 0 tag-based, 1 prescriptive", rel_cmd,
			   q->policy);
	if (!q->n)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: the prescriptive "
			   "policy needs an extent list", rel_cmd);
	for (int i = 0; i < q->n; i++) {
		const struct cx_dc_extent *x = &q->ext[i];
		if ((rc = check_extent(dev, NULL, x, i, rel,
				       CX_RC_INVALID_EXTENT_LIST, rel_cmd, w,
				       wl)))
			return rc;
		if (!list_covers(&st->dc.accepted, x->dpa, x->len)) {
			dpa_text(r, sizeof(r), x->dpa, x->len);
			return say(w, wl, CX_RC_INVALID_PA,
				   "%s: extent %d (%s) "
				   "%s", rel_cmd, i, r,
				   head_holds(st, x->dpa, x->len) ?
				   "is offered to the host and not yet "
				   "accepted: it cannot be released until the "
				   "host answers" :
				   "is not all capacity the host holds");
		}
		list_push(rel, x);
	}
	return CX_RC_SUCCESS;
}

/* Ask the host to give the capacity back, unless it is in use. */
static uint16_t ask_release(struct cx_mbox_state *st,
			    const struct cx_dc_list *rel,
			    cx_dcd_in_use_fn *in_use, void *ctx, char *w,
			    size_t wl)
{
	char r[64], u[200];

	for (int i = 0; i < rel->n; i++) {
		dpa_text(r, sizeof(r), rel->v[i].dpa, rel->v[i].len);
		if (in_use && in_use(ctx, st->m, rel->v[i].dpa, rel->v[i].len,
				     u, sizeof(u)))
			return say(w, wl, CX_RC_BUSY, "%s: %s on host %s is in "
				   "use (%s); release it when it is not, or "
				   "force the removal", rel_cmd, r, host_of(st),
				   u);
	}
	uint16_t rc = log_fits(st, rel->n, rel_cmd, "Release Capacity", w, wl);
	if (rc)
		return rc;
	for (int i = 0; i < rel->n; i++)
		dc_event(st, CX_DCEV_RELEASE_CAPACITY, &rel->v[i],
			 i + 1 < rel->n, 0);
	return say(w, wl, CX_RC_SUCCESS, "%s: host %s asked to release %d "
		   "extent%s", rel_cmd, host_of(st), rel->n,
		   rel->n == 1 ? "" : "s");
}

uint16_t cx_dcd_initiate_release(struct cx_mbox_device *dev,
				 const struct cx_dc_release_req *q,
				 cx_dcd_in_use_fn *in_use, void *ctx,
				 char *w, size_t wl)
{
	struct cx_dc_list rel = { 0 };
	uint16_t rc = CX_RC_SUCCESS;
	struct cx_mbox_state *st = fm_target(dev, q->host, rel_cmd, w, wl,
					     &rc);

	if (!st)
		return rc;
	if ((rc = pick_release(dev, st, q, &rel, w, wl)))
		goto out;
	if (!q->forced) {
		rc = ask_release(st, &rel, in_use, ctx, w, wl);
		goto out;
	}
	/* forced: taken at once, the host told after the fact */
	for (int i = 0; i < rel.n; i++) {
		head_release(st, rel.v[i].dpa, rel.v[i].len);
		dc_event(st, CX_DCEV_FORCED_RELEASE, &rel.v[i], i + 1 < rel.n,
			 0);
	}
	say(w, wl, CX_RC_SUCCESS, "%s: %d extent%s taken from host %s "
	    "(forced)", rel_cmd, rel.n, rel.n == 1 ? "" : "s", host_of(st));
out:
	list_free(&rel);
	return rc;
}

uint16_t cx_dcd_set_region(struct cx_mbox_device *dev, int region,
			   uint64_t block_size, bool sanitize, char *w,
			   size_t wl)
{
	static const char cmd[] = "Set DC Region Configuration";

	if (!dev->dc_nregions)
		return say(w, wl, CX_RC_UNSUPPORTED, "%s: the device has no "
			   "dynamic capacity", cmd);
	if (region < 0 || region >= dev->dc_nregions)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: region %d: the "
			   "device has %d dynamic capacity regions (0 to %d)",
			   cmd, region, dev->dc_nregions, dev->dc_nregions - 1);
	struct cx_dc_region *r = &dev->dc_region[region];
	if (!block_size || (block_size & (block_size - 1)) ||
	    !(block_size & CX_DC_BLOCK_SIZES))
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: block size %#llx "
			   "is not one the device supports (powers of two from "
			   "2 MiB to 256 MiB)", cmd,
			   (unsigned long long)block_size);
	if (block_size != r->block_size && holder(dev, r->base, r->len, NULL))
		return say(w, wl, CX_RC_UNSUPPORTED, "%s: region %d has "
			   "capacity allocated to a host; its block size "
			   "changes only while it has none", cmd, region);
	if (block_size == r->block_size && sanitize == r->sanitize_on_release)
		return CX_RC_SUCCESS;
	r->block_size = block_size;
	r->sanitize_on_release = sanitize;
	for (int i = 0; i < dev->heads.n; i++) {
		struct cx_mbox_state *h = dev->heads.v[i];
		if (log_room(h, 1))
			dc_event(h, CX_DCEV_REGION_CONFIG_UPDATED, NULL, false,
				 region);
	}
	return CX_RC_SUCCESS;
}
