/*
 * fuzz_fm.c - libFuzzer target for the FM-API endpoint and dynamic
 * capacity: a fabric manager's frames and three hosts' answers, against
 * the rules that keep capacity safe.
 *
 * One fabric is built once: three hosts whose memdevs are heads of one
 * device with 512 MiB of dynamic capacity in two regions (memfd media,
 * shared).  Every input starts from fresh device state and runs up to 64
 * steps, each chosen by one byte:
 *
 *   0x00..0x3f  a raw frame: 16-bit length, that many bytes, to
 *               cx_fm_frame() as a client would send them
 *   0x40..0x9f  a well-formed FM-API request (endpoint id, type, CCI
 *               header right) whose payload is built from the next bytes:
 *               mostly plausible hosts, regions, lengths, extents and
 *               tags, sometimes not
 *   0xa0..0xdf  a host's answer, 4802h or 4803h on head sel % 3: extents
 *               taken from what it was offered or holds (whole, part, or
 *               off by a little), or random
 *   0xe0..0xef  head sel % 3 clears its dynamic capacity event log
 *   0xf0..0xff  head sel % 3 writes a marker into every block it holds
 *
 * After every step the invariants are checked, and a breach aborts:
 * each head's extents lie in one region, aligned to its block size, not
 * overlapping each other; two heads share a block only in a sharable
 * region and under the same non-zero tag; the device tracks at most 512
 * extents; and a block that carries a host's marker and that no head
 * holds any more reads zero (data never reaches the next owner).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fm.h"
#include "fuzz_input.h"

#define FZ_HEADS 3
#define FZ_DC (512ULL << 20)
#define FZ_BLK (2ULL << 20)
#define FZ_NBLK (FZ_DC / FZ_BLK)

static struct cx_fabric *fzf;
static struct cx_memdev *fzh[FZ_HEADS];
static uint8_t marked[FZ_NBLK];        /* blocks a host wrote a marker to */
/* what the inputs achieved, for the smoke test to see they get far */
static struct {
	unsigned accepted;      /* successful Add Dynamic Capacity Responses */
	unsigned zeroed;        /* marked blocks seen released and zero */
} fz_stats;
static const uint64_t marker = 0x6b72616d74736f68ULL; /* "hostmark" */

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_fm: %s\n", what);
	abort();
}

static struct cx_memdev *fz_host(const char *name, struct cx_memdev *share)
{
	struct cx_host *h = cx_host_new(fzf, name, 0);
	h->cxl_on = true;
	struct cx_port *hb = cx_port_new(h, CX_PORT_HB, "cxl.1", 0);
	hb->bus_nr = 12;
	struct cx_port *rp = cx_port_new(h, CX_PORT_RP, "rp0", 0);
	cx_port_attach(hb, rp);
	struct cx_memdev *m = cx_memdev_new(h, "dcd0", 0);
	m->parent = rp;
	rp->memdev = m;
	if (share) {
		m->dc_be = share->dc_be;
	} else {
		m->dc_be = cx_backend_new(h, "dc", 0);
		m->dc_be->kind = CX_BACKEND_MEMFD;
		m->dc_be->size = FZ_DC;
		m->dc_be->share = true;
		m->dc_be->used_by = "dcd0";
	}
	m->dc_size = FZ_DC;
	m->dc_regions = 2;
	struct cx_window *w = cx_window_new(h, 0, 0);
	w->size = 1ULL << 30;
	w->ways = 1;
	w->targets[0] = hb;
	return m;
}

static void fz_build(void)
{
	cx_err e;
	fzf = cx_fabric_new("fuzz-fm");
	fzh[0] = fz_host("host0", NULL);
	fzh[1] = fz_host("host1", fzh[0]);
	fzh[2] = fz_host("host2", fzh[0]);
	cx_fabric_finalize(fzf);
	if (cx_fabric_start(fzf, &e))
		fz_die(e.msg);
	for (int i = 1; i < FZ_HEADS; i++)
		if (fzh[i]->mbox->dev != fzh[0]->mbox->dev)
			fz_die("setup: the heads are not one device");
	cx_mbox_free_fabric(fzf); /* each input starts afresh */
}

/* ---- the invariants ---- */

struct fz_holding {
	int head;
	const struct cx_dc_extent *x;
};

static void fz_check_list(const struct cx_mbox_device *dev,
			  const struct cx_dc_extent *v, int n)
{
	for (int i = 0; i < n; i++) {
		const struct cx_dc_region *r = NULL;
		for (int k = 0; k < dev->dc_nregions; k++)
			if (v[i].dpa >= dev->dc_region[k].base &&
			    v[i].dpa + v[i].len <= dev->dc_region[k].base +
						   dev->dc_region[k].len)
				r = &dev->dc_region[k];
		if (!r || !v[i].len || v[i].dpa % r->block_size ||
		    v[i].len % r->block_size)
			fz_die("an extent outside a region or misaligned");
	}
}

static bool fz_tag_zero(const uint8_t *t)
{
	for (int i = 0; i < CX_DC_TAG_LEN; i++)
		if (t[i])
			return false;
	return true;
}

/* Who holds block b: every (head, extent) pair, accepted or pending. */
static int fz_holders(const struct cx_mbox_device *dev, uint64_t dpa,
		      struct fz_holding *out, int max)
{
	int n = 0;
	for (int h = 0; h < dev->heads.n; h++) {
		const struct cx_mbox_state *st = dev->heads.v[h];
		const struct cx_dc_list *ls[64];
		int nl = 0;
		ls[nl++] = &st->dc.accepted;
		for (int g = 0; g < st->dc.pending.n && nl < 64; g++)
			ls[nl++] = st->dc.pending.v[g];
		int mine = 0;
		for (int k = 0; k < nl; k++)
			for (int i = 0; i < ls[k]->n; i++) {
				const struct cx_dc_extent *x = &ls[k]->v[i];
				if (dpa < x->dpa || dpa >= x->dpa + x->len)
					continue;
				if (++mine > 1)
					fz_die("a head holds a block twice");
				if (n < max)
					out[n++] = (struct fz_holding){ h, x };
			}
	}
	return n;
}

static void fz_check(void)
{
	struct cx_mbox_device *dev = fzh[0]->mbox->dev;
	int total = 0;

	pthread_mutex_lock(&dev->lock);
	for (int h = 0; h < dev->heads.n; h++) {
		const struct cx_mbox_state *st = dev->heads.v[h];
		fz_check_list(dev, st->dc.accepted.v, st->dc.accepted.n);
		total += st->dc.accepted.n;
		for (int g = 0; g < st->dc.pending.n; g++) {
			const struct cx_dc_list *l = st->dc.pending.v[g];
			fz_check_list(dev, l->v, l->n);
			total += l->n;
		}
	}
	if (total > CX_DC_MAX_EXTENTS)
		fz_die("more extents than the device tracks");
	for (uint64_t b = 0; b < FZ_NBLK; b++) {
		struct fz_holding hd[FZ_HEADS];
		uint64_t dpa = b * FZ_BLK;
		int n = fz_holders(dev, dpa, hd, FZ_HEADS);
		for (int i = 1; i < n; i++) {
			const struct cx_dc_region *r =
				&dev->dc_region[dpa >= dev->dc_region[1].base];
			if (!r->sharable || fz_tag_zero(hd[0].x->tag) ||
			    memcmp(hd[0].x->tag, hd[i].x->tag, CX_DC_TAG_LEN))
				fz_die("a block held by two heads without a "
				       "shared tag");
		}
		if (!n && marked[b]) {
			uint64_t v = 0;
			cx_media_read(fzh[0]->dc, dpa, &v, sizeof(v), NULL);
			if (v)
				fz_die("a released block kept a host's data");
			marked[b] = 0;
			fz_stats.zeroed++;
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

/* ---- building requests ---- */

static const uint8_t fz_tags[3][16] = {
	{ 0 },
	{ 0x11, 0x22, 0x33, 0x44, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1 },
	{ 0x55, 0x66, 0x77, 0x88, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2 },
};

/* A DPA, a length: mostly block multiples inside the device. */
static void fz_extent(struct fz_in *r, uint64_t *dpa, uint64_t *len)
{
	uint8_t a = fz_u8(r), b = fz_u8(r);
	*dpa = (uint64_t)(a % (FZ_NBLK + 4)) * FZ_BLK;
	*len = (uint64_t)(b % 9) * FZ_BLK;
	if ((a ^ b) % 31 == 0)
		*dpa += 4096; /* misaligned now and then */
}

static size_t fz_fm_payload(struct fz_in *r, uint16_t op, uint8_t *p)
{
	uint8_t sel = fz_u8(r);
	switch (op) {
	case CX_FM_GET_MHD_INFO:
		p[0] = sel % 5;
		p[1] = fz_u8(r);
		return CX_MHD_IN_LEN;
	case CX_FM_GET_HOST_DC_REGION_CONFIG:
		cx_wr_le16(p, sel % 4);
		p[2] = fz_u8(r) % 10;
		p[3] = fz_u8(r) % 3;
		return CX_HDRC_IN_LEN;
	case CX_FM_SET_DC_REGION_CONFIG:
		memset(p, 0, CX_SDRC_IN_LEN);
		p[CX_SDRC_REGION] = sel % 3;
		cx_wr_le64(p + CX_SDRC_BLOCK_SIZE, 1ULL << (20 + fz_u8(r) % 10));
		p[CX_SDRC_FLAGS] = fz_u8(r) % 3;
		return CX_SDRC_IN_LEN;
	case CX_FM_GET_DC_REGION_EXTENT_LISTS:
		memset(p, 0, CX_GREL_IN_LEN);
		cx_wr_le16(p, sel % 4);
		cx_wr_le32(p + 4, fz_u8(r));
		cx_wr_le32(p + 8, fz_u8(r) % 8);
		return CX_GREL_IN_LEN;
	case CX_FM_INITIATE_DC_ADD:
	case CX_FM_INITIATE_DC_RELEASE: {
		int n = fz_u8(r) % 5;
		memset(p, 0, CX_IDC_HDR_LEN + (size_t)n * CX_DCE_SIZE);
		cx_wr_le16(p + CX_IDC_HOST, sel % 4);
		uint8_t pol = fz_u8(r);
		if (op == CX_FM_INITIATE_DC_ADD)
			p[CX_IDC_POLICY] = pol % 5;
		else  /* two reads: operands of | are unsequenced */
			p[CX_IDC_POLICY] = (uint8_t)(pol % 3 |
					   (fz_u8(r) & CX_IDC_FORCED));
		p[CX_IDC_REGION] = fz_u8(r) % 3;
		cx_wr_le64(p + CX_IDC_LENGTH, (uint64_t)(fz_u8(r) % 12) *
						  FZ_BLK);
		memcpy(p + CX_IDC_TAG, fz_tags[fz_u8(r) % 3], 16);
		cx_wr_le32(p + CX_IDC_EXT_COUNT, (uint32_t)n);
		for (int i = 0; i < n; i++) {
			uint8_t *e = p + CX_IDC_EXTENTS + (size_t)i *
				     CX_DCE_SIZE;
			uint64_t dpa, len;
			fz_extent(r, &dpa, &len);
			cx_wr_le64(e + CX_DCE_DPA, dpa);
			cx_wr_le64(e + CX_DCE_LEN, len);
		}
		return CX_IDC_HDR_LEN + (size_t)n * CX_DCE_SIZE;
	}
	default:
		return 0;
	}
}

/* CXLEMU_FUZZ_TRACE=1: say what each step got (to read a saved input) */
static int fz_trace = -1;

static void fz_say(const char *what, uint16_t rc, const char *why)
{
	if (fz_trace < 0)
		fz_trace = getenv("CXLEMU_FUZZ_TRACE") != NULL;
	if (fz_trace)
		fprintf(stderr, "fuzz_fm: %s: rc %#x %s\n", what, rc, why);
}

static void fz_send(const uint8_t *frame, size_t len)
{
	static uint8_t rsp[CX_FM_FRAME_MAX];
	char why[CX_FM_WHY_MAX];
	size_t n = cx_fm_frame(fzf, frame, len, rsp, sizeof(rsp), NULL, why,
			       sizeof(why));
	struct cx_cci_msg m;
	if (n < CX_MCTP_PREFIX_LEN + CX_CCI_HDR_LEN ||
	    cx_cci_decode(rsp + CX_MCTP_PREFIX_LEN, n - CX_MCTP_PREFIX_LEN,
			  &m) != CX_CCI_OK ||
	    m.category != CX_CCI_RESPONSE || m.rc > 0x20 ||
	    (m.rc && m.len) || m.len > CX_FM_PAYLOAD_MAX)
		fz_die("a malformed response");
	if (m.rc && !why[0])
		fz_die("a refusal without a reason");
	fz_say(cx_fm_opcode_name(m.opcode) ? cx_fm_opcode_name(m.opcode) :
	       "frame", m.rc, why);
}

static void fz_fm_request(struct fz_in *r, uint8_t sel)
{
	static const uint16_t ops[] = {
		CX_FM_IDENTIFY, CX_FM_GET_MHD_INFO, CX_FM_GET_DCD_INFO,
		CX_FM_GET_HOST_DC_REGION_CONFIG, CX_FM_SET_DC_REGION_CONFIG,
		CX_FM_GET_DC_REGION_EXTENT_LISTS, CX_FM_INITIATE_DC_ADD,
		CX_FM_INITIATE_DC_ADD, CX_FM_INITIATE_DC_ADD,
		CX_FM_INITIATE_DC_RELEASE, CX_FM_INITIATE_DC_RELEASE,
	};
	static uint8_t frame[CX_FM_FRAME_MAX], pl[CX_FM_PAYLOAD_MAX];
	uint16_t op = ops[sel % CX_ARRAY_SIZE(ops)];
	size_t n = fz_fm_payload(r, op, pl);
	struct cx_cci_msg m = { .category = CX_CCI_REQUEST, .tag = sel,
				.opcode = op, .payload = pl, .len = (uint32_t)n };
	frame[0] = CX_FM_EID_BASE;
	frame[1] = CX_MCTP_TYPE_FMAPI;
	size_t len = cx_cci_encode(&m, frame + 2, sizeof(frame) - 2);
	fz_send(frame, 2 + len);
}

/* A host's answer: an Add Response from its oldest offer, or a Release
 * of what it holds; whole extents, parts, or a little off. */
static void fz_host_answer(struct fz_in *r, uint8_t sel)
{
	struct cx_memdev *m = fzh[sel % FZ_HEADS];
	bool add = sel & 4;
	struct cx_dc_extent *v;
	int n;
	uint8_t in[CX_DCU_HDR_LEN + 11 * CX_DCU_E_SIZE]; /* room for 255 */

	if (add)
		cx_dcd_pending(m, &v, &n);
	else
		cx_dcd_extents(m, &v, &n, NULL);
	int cnt = fz_u8(r) % 5;
	memset(in, 0, sizeof(in));
	for (int i = 0; i < cnt; i++) {
		/* three bytes: how, where in the extent, how much */
		uint8_t how = fz_u8(r), at = fz_u8(r), much = fz_u8(r);
		uint64_t dpa, len;
		if (n && how % 4) {
			const struct cx_dc_extent *x = &v[how % n];
			uint64_t blocks = x->len / FZ_BLK;
			uint64_t skip = how % 4 == 3 && blocks ? at % blocks : 0;
			dpa = x->dpa + skip * FZ_BLK;
			len = how % 4 == 1 || blocks <= skip ? x->len :
			      (much % (blocks - skip) + 1) * FZ_BLK;
		} else {
			struct fz_in two = { (const uint8_t[]){ at, much }, 2 };
			fz_extent(&two, &dpa, &len);
		}
		uint8_t *e = in + CX_DCU_EXTENTS + (size_t)i * CX_DCU_E_SIZE;
		cx_wr_le64(e + CX_DCU_E_DPA, dpa);
		cx_wr_le64(e + CX_DCU_E_LEN, len);
	}
	free(v);
	cx_wr_le32(in + CX_DCU_COUNT, (uint32_t)cnt);
	in[CX_DCU_FLAGS] = fz_u8(r) % 4 == 0 ? CX_DCU_FLAG_MORE : 0;
	size_t len = CX_DCU_HDR_LEN + (size_t)cnt * CX_DCU_E_SIZE;
	if (fz_u8(r) % 16 == 0)
		len = fz_u8(r);  /* a length that lies */
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t olen = sizeof(out);
	uint16_t rc;
	if (cx_mbox_exec(m, add ? CX_OP_ADD_DC_RESPONSE : CX_OP_RELEASE_DC,
			 in, len, out, &olen, &rc) || olen)
		fz_die("a host answer misbehaved");
	if (add && !rc && cnt)
		fz_stats.accepted++;
	char why[256];
	cx_dcd_last_error(m, why, sizeof(why));
	fz_say(add ? "Add Dynamic Capacity Response" :
	       "Release Dynamic Capacity", rc, why);
}

static void fz_clear_log(struct cx_memdev *m)
{
	for (;;) {
		uint8_t log = CX_EVLOG_DCD, out[CX_MBOX_PAYLOAD_MAX];
		uint8_t in[CX_CER_HDR_LEN + 2 * 16] = { 0 };
		size_t olen = sizeof(out);
		uint16_t rc;
		cx_mbox_exec(m, CX_OP_GET_EVENT_RECORDS, &log, 1, out, &olen,
			     &rc);
		int n = rc ? 0 : cx_rd_le16(out + CX_GER_RECORD_COUNT);
		if (!n)
			return;
		in[CX_CER_LOG] = CX_EVLOG_DCD;
		in[CX_CER_NHANDLES] = (uint8_t)n;
		for (int i = 0; i < n; i++)
			cx_wr_le16(in + CX_CER_HANDLES + 2 * i,
				   cx_rd_le16(out + CX_GER_RECORDS +
					      CX_EVENT_RECORD_SIZE * i +
					      CX_EVR_HANDLE));
		olen = sizeof(out);
		cx_mbox_exec(m, CX_OP_CLEAR_EVENT_RECORDS, in,
			     CX_CER_HDR_LEN + 2 * (size_t)n, out, &olen, &rc);
		if (rc)
			fz_die("clearing the DC event log failed");
	}
}

/* A host stores into every block it holds (what the invariant then
 * watches for). */
static void fz_mark(struct cx_memdev *m)
{
	struct cx_dc_extent *v;
	int n;
	cx_dcd_extents(m, &v, &n, NULL);
	for (int i = 0; i < n; i++)
		for (uint64_t b = v[i].dpa; b < v[i].dpa + v[i].len;
		     b += FZ_BLK) {
			cx_media_write(m->dc, b, &marker, sizeof(marker),
				       NULL);
			marked[b / FZ_BLK] = 1;
		}
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[2200];
	struct fz_in r = { data, size };
	cx_err e;

	if (!fzf)
		fz_build();
	if (cx_mbox_init_fabric(fzf, &e))
		fz_die(e.msg);
	for (uint64_t b = 0; b < FZ_NBLK; b++)
		if (marked[b]) {   /* left by the last input */
			cx_media_zero(fzh[0]->dc, b * FZ_BLK, FZ_BLK, NULL);
			marked[b] = 0;
		}
	for (int steps = 0; r.n && steps < 64; steps++) {
		uint8_t sel = fz_u8(&r);
		if (sel < 0x40) {
			size_t len = fz_u16(&r) % sizeof(frame);
			if (len > r.n)
				len = r.n;
			memcpy(frame, r.p, len);
			r.p += len;
			r.n -= len;
			fz_send(frame, len);
		} else if (sel < 0xa0) {
			fz_fm_request(&r, sel);
		} else if (sel < 0xe0) {
			fz_host_answer(&r, sel);
		} else if (sel < 0xf0) {
			fz_clear_log(fzh[sel % FZ_HEADS]);
		} else {
			fz_mark(fzh[sel % FZ_HEADS]);
		}
		fz_check();
	}
	cx_mbox_free_fabric(fzf);
	return 0;
}
