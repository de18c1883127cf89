/*
 * fm.c - the FM-API commands of a device (CXL r3.1 §7.6.7, r3.2
 * §7.6.7.6): Identify (0001h), Get Multi-Headed Info (5500h) and the
 * dynamic capacity set, Get DCD Info (5600h), Get Host DC Region
 * Configuration (5601h), Set DC Region Configuration (5602h), Get DC
 * Region Extent Lists (5603h), Initiate Dynamic Capacity Add (5604h) and
 * Release (5605h).  Handlers decode and encode payloads; what a command
 * does to the device's capacity is dcd.c's, under the device's lock.
 *
 * The device as the FM sees it: a multi-headed single logical device
 * (MH-SLD), one LD per head, so LD i is head i and the number of LDs is
 * the number of heads.  Identify answers with QEMU's Type 3 ids.
 */
#include "fm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAR CX_MBOX_VAR
#define DCD CX_FM_F_DCD

/* QEMU's cxl-type3: Intel 8086:0d93, subsystem 1af4:1100 (QEMU's default
 * for every PCI device) */
#define FM_VID        0x8086
#define FM_DID        0x0d93
#define FM_SUBSYS_VID 0x1af4
#define FM_SUBSYS_ID  0x1100

#define say cx_dc_why

static int log2_u64(uint64_t v)
{
	int n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* ---- 0001h Identify ---- */

static uint16_t fm_identify(struct cx_mbox_device *dev, struct cx_memdev *m,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len, const struct cx_fm_hooks *hk,
			    char *w, size_t wl)
{
	cx_wr_le16(out + CX_FID_VID, FM_VID);
	cx_wr_le16(out + CX_FID_DID, FM_DID);
	cx_wr_le16(out + CX_FID_SUBSYS_VID, FM_SUBSYS_VID);
	cx_wr_le16(out + CX_FID_SUBSYS_ID, FM_SUBSYS_ID);
	cx_wr_le64(out + CX_FID_SERIAL, m->has_sn ? m->sn : UINT64_MAX);
	out[CX_FID_MAX_MSG] = (uint8_t)log2_u64(CX_FM_PAYLOAD_MAX);
	out[CX_FID_COMPONENT] = CX_FID_COMPONENT_TYPE3;
	*out_len = CX_FID_OUT_LEN;
	return CX_RC_SUCCESS;
}

/* ---- 5500h Get Multi-Headed Info ---- */

static uint16_t fm_mhd_info(struct cx_mbox_device *dev, struct cx_memdev *m,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len, const struct cx_fm_hooks *hk,
			    char *w, size_t wl)
{
	int start = in[CX_MHD_IN_START_LD], want = in[CX_MHD_IN_MAP_LEN];
	int nlds = dev->heads.n;

	if (start >= nlds)
		return say(w, wl, CX_RC_INVALID_INPUT, "Get Multi-Headed Info: "
			   "start LD %d, but the device has %d LD%s (0 to %d)",
			   start, nlds, nlds == 1 ? "" : "s", nlds - 1);
	int n = nlds - start < want ? nlds - start : want;
	out[CX_MHD_NUM_LDS] = (uint8_t)nlds;
	out[CX_MHD_NUM_HEADS] = (uint8_t)dev->heads.n;
	out[CX_MHD_START_LD] = (uint8_t)start;
	out[CX_MHD_MAP_LEN] = (uint8_t)n;
	for (int i = 0; i < n; i++)
		out[CX_MHD_MAP + i] = (uint8_t)(start + i); /* LD i: head i */
	*out_len = CX_MHD_MAP + (size_t)n;
	return CX_RC_SUCCESS;
}

/* ---- 5600h Get DCD Info ---- */

static uint16_t fm_dcd_info(struct cx_mbox_device *dev, struct cx_memdev *m,
			    const uint8_t *in, size_t in_len, uint8_t *out,
			    size_t *out_len, const struct cx_fm_hooks *hk,
			    char *w, size_t wl)
{
	out[CX_DCDI_NUM_HOSTS] = (uint8_t)dev->heads.n;
	out[CX_DCDI_NUM_REGIONS] = (uint8_t)dev->dc_nregions;
	cx_wr_le16(out + CX_DCDI_ADD_POLICIES,
		   1u << CX_FM_SEL_FREE | 1u << CX_FM_SEL_CONTIGUOUS |
		   1u << CX_FM_SEL_PRESCRIPTIVE | 1u << CX_FM_SEL_SHARED);
	cx_wr_le16(out + CX_DCDI_REL_POLICIES,
		   1u << CX_FM_REL_TAG | 1u << CX_FM_REL_PRESCRIPTIVE);
	out[CX_DCDI_SANITIZE_MASK] = (uint8_t)((1u << dev->dc_nregions) - 1);
	uint64_t total = 0;
	for (int i = 0; i < dev->dc_nregions; i++) {
		total += dev->dc_region[i].len;
		cx_wr_le64(out + CX_DCDI_BLOCK_MASKS + 8 * i,
			   CX_DC_BLOCK_SIZES);
	}
	cx_wr_le64(out + CX_DCDI_TOTAL_CAP, total / CX_CAPACITY_UNIT);
	*out_len = CX_DCDI_OUT_LEN;
	return CX_RC_SUCCESS;
}

static uint16_t check_host(struct cx_mbox_device *dev, int host,
			   const char *cmd, char *w, size_t wl)
{
	if (host < dev->heads.n)
		return CX_RC_SUCCESS;
	return say(w, wl, CX_RC_INVALID_INPUT, "%s: host ID %d: the device "
		   "has %d head%s (host IDs 0 to %d)", cmd, host, dev->heads.n,
		   dev->heads.n == 1 ? "" : "s", dev->heads.n - 1);
}

/* ---- 5601h Get Host DC Region Configuration ---- */

static uint16_t fm_host_regions(struct cx_mbox_device *dev,
				struct cx_memdev *m, const uint8_t *in,
				size_t in_len, uint8_t *out, size_t *out_len,
				const struct cx_fm_hooks *hk, char *w,
				size_t wl)
{
	static const char cmd[] = "Get Host DC Region Configuration";
	int host = cx_rd_le16(in + CX_HDRC_IN_HOST);
	int count = in[CX_HDRC_IN_COUNT], start = in[CX_HDRC_IN_START];
	uint16_t rc;

	if ((rc = check_host(dev, host, cmd, w, wl)))
		return rc;
	if (start >= dev->dc_nregions)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: starting region %d, "
			   "but the device has %d dynamic capacity regions (0 "
			   "to %d)", cmd, start, dev->dc_nregions,
			   dev->dc_nregions - 1);
	int n = dev->dc_nregions - start < count ? dev->dc_nregions - start :
						   count;
	cx_wr_le16(out + CX_HDRC_HOST, (uint16_t)host);
	out[CX_HDRC_NUM_REGIONS] = (uint8_t)dev->dc_nregions;
	out[CX_HDRC_RETURNED] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *p = out + CX_HDRC_REGIONS + (size_t)i * CX_DCR_SIZE;
		const struct cx_dc_region *r = &dev->dc_region[start + i];
		cx_dcd_put_region(p, dev, start + i);
		p[CX_HDRC_R_DSMAS_FLAGS] = CX_DSMAS_DYNAMIC_CAP |
					   (r->sharable ? CX_DSMAS_SHAREABLE :
					    0);
		p[CX_HDRC_R_SANITIZE] = r->sanitize_on_release ? 1 : 0;
	}
	size_t t = CX_HDRC_REGIONS + (size_t)n * CX_DCR_SIZE;
	cx_dcd_put_trailer(dev, out + t);
	*out_len = t + CX_GDC_TRAILER_LEN;
	return CX_RC_SUCCESS;
}

/* ---- 5602h Set DC Region Configuration ---- */

static uint16_t fm_set_region(struct cx_mbox_device *dev, struct cx_memdev *m,
			      const uint8_t *in, size_t in_len, uint8_t *out,
			      size_t *out_len, const struct cx_fm_hooks *hk,
			      char *w, size_t wl)
{
	if (in[CX_SDRC_FLAGS] & ~1u)
		return say(w, wl, CX_RC_INVALID_INPUT, "Set DC Region "
			   "Configuration: flags %#x: only bit 0 (sanitize on "
			   "release) is defined", in[CX_SDRC_FLAGS]);
	return cx_dcd_set_region(dev, in[CX_SDRC_REGION],
				 cx_rd_le64(in + CX_SDRC_BLOCK_SIZE),
				 in[CX_SDRC_FLAGS] & 1, w, wl);
}

/* ---- 5603h Get DC Region Extent Lists ---- */

static uint16_t fm_extent_lists(struct cx_mbox_device *dev,
				struct cx_memdev *m, const uint8_t *in,
				size_t in_len, uint8_t *out, size_t *out_len,
				const struct cx_fm_hooks *hk, char *w,
				size_t wl)
{
	static const char cmd[] = "Get DC Region Extent Lists";
	int host = cx_rd_le16(in + CX_GREL_IN_HOST);
	uint32_t count = cx_rd_le32(in + CX_GREL_IN_COUNT);
	uint32_t start = cx_rd_le32(in + CX_GREL_IN_START);
	uint16_t rc;

	if ((rc = check_host(dev, host, cmd, w, wl)))
		return rc;
	struct cx_mbox_state *h = dev->heads.v[host];
	const struct cx_dc_list *l = &h->dc.accepted;
	if (start > (uint32_t)l->n)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: starting extent "
			   "index %u, but host ID %d holds %d extents", cmd,
			   start, host, l->n);
	int n = cx_dcd_put_extents(l, start, count, out + CX_GREL_EXTENTS,
				   CX_FM_PAYLOAD_MAX - CX_GREL_EXTENTS);
	cx_wr_le16(out + CX_GREL_HOST, (uint16_t)host);
	cx_wr_le32(out + CX_GREL_START, start);
	cx_wr_le32(out + CX_GREL_RETURNED, (uint32_t)n);
	cx_wr_le32(out + CX_GREL_TOTAL, (uint32_t)l->n);
	cx_wr_le32(out + CX_GREL_GENERATION, h->dc.generation);
	*out_len = CX_GREL_EXTENTS + (size_t)n * CX_DCE_SIZE;
	return CX_RC_SUCCESS;
}

/* ---- 5604h / 5605h Initiate Dynamic Capacity Add / Release ---- */

/* The extent list of an Initiate Add or Release: its count must match
 * the payload. */
static uint16_t read_extents(const uint8_t *in, size_t in_len,
			     const char *cmd, struct cx_dc_extent **ext,
			     int *n, char *w, size_t wl)
{
	uint32_t cnt = cx_rd_le32(in + CX_IDC_EXT_COUNT);
	*ext = NULL;
	*n = 0;
	if (cnt > (CX_FM_PAYLOAD_MAX - CX_IDC_HDR_LEN) / CX_DCE_SIZE ||
	    in_len != CX_IDC_HDR_LEN + (size_t)cnt * CX_DCE_SIZE)
		return say(w, wl, CX_RC_INVALID_PAYLOAD_LENGTH, "%s with %u "
			   "extents must be %llu bytes long, not %zu", cmd,
			   cnt, (unsigned long long)(CX_IDC_HDR_LEN +
						     (uint64_t)cnt *
						     CX_DCE_SIZE), in_len);
	if (cnt)
		*ext = cx_xcalloc(cnt, sizeof(**ext));
	for (uint32_t i = 0; i < cnt; i++)
		cx_dc_extent_get(in + CX_IDC_EXTENTS + (size_t)i * CX_DCE_SIZE,
				 &(*ext)[i]);
	*n = (int)cnt;
	return CX_RC_SUCCESS;
}

static uint16_t fm_add(struct cx_mbox_device *dev, struct cx_memdev *m,
		       const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t *out_len, const struct cx_fm_hooks *hk, char *w,
		       size_t wl)
{
	static const char cmd[] = "Initiate Dynamic Capacity Add";
	struct cx_dc_add_req q = { 0 };
	struct cx_dc_extent *ext;
	uint16_t rc;

	if (in[CX_IDC_POLICY] & ~CX_IDC_POLICY_MASK)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: byte 2 is %#x: bits "
			   "7:4 are reserved", cmd, in[CX_IDC_POLICY]);
	if ((rc = read_extents(in, in_len, cmd, &ext, &q.n, w, wl)))
		return rc;
	q.host = cx_rd_le16(in + CX_IDC_HOST);
	q.policy = in[CX_IDC_POLICY] & CX_IDC_POLICY_MASK;
	q.region = in[CX_IDC_REGION];
	q.length = cx_rd_le64(in + CX_IDC_LENGTH);
	memcpy(q.tag, in + CX_IDC_TAG, CX_DC_TAG_LEN);
	q.ext = ext;
	rc = cx_dcd_initiate_add(dev, &q, w, wl);
	free(ext);
	return rc;
}

static uint16_t fm_release(struct cx_mbox_device *dev, struct cx_memdev *m,
			   const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t *out_len, const struct cx_fm_hooks *hk,
			   char *w, size_t wl)
{
	static const char cmd[] = "Initiate Dynamic Capacity Release";
	struct cx_dc_release_req q = { 0 };
	struct cx_dc_extent *ext;
	uint8_t flags = in[CX_IDC_POLICY];
	uint16_t rc;

	if (flags & 0xc0)
		return say(w, wl, CX_RC_INVALID_INPUT, "%s: flags %#x: bits 7:6 "
			   "are reserved", cmd, flags);
	if ((rc = read_extents(in, in_len, cmd, &ext, &q.n, w, wl)))
		return rc;
	q.host = cx_rd_le16(in + CX_IDC_HOST);
	q.policy = flags & CX_IDC_POLICY_MASK;
	q.forced = flags & CX_IDC_FORCED;
	memcpy(q.tag, in + CX_IDC_TAG, CX_DC_TAG_LEN);
	q.ext = ext;
	rc = cx_dcd_initiate_release(dev, &q, hk ? hk->in_use : NULL,
				     hk ? hk->ctx : NULL, w, wl);
	free(ext);
	return rc;
}

/* ---- the table ---- */

#define FM(op, name, in_len, in_min, flags, handler, verb) \
	{ op, name, in_len, in_min, flags, handler, verb }

static const struct cx_fm_cmd_info cmds[] = {
	FM(CX_FM_IDENTIFY, "Identify", 0, 0, 0, fm_identify, "identify"),
	FM(CX_FM_GET_MHD_INFO, "Get Multi-Headed Info", CX_MHD_IN_LEN, 0, 0,
	   fm_mhd_info, "heads"),
	FM(CX_FM_GET_DCD_INFO, "Get DCD Info", 0, 0, DCD, fm_dcd_info,
	   "dcd-info"),
	FM(CX_FM_GET_HOST_DC_REGION_CONFIG, "Get Host DC Region Configuration",
	   CX_HDRC_IN_LEN, 0, DCD, fm_host_regions, "regions"),
	FM(CX_FM_SET_DC_REGION_CONFIG, "Set DC Region Configuration",
	   CX_SDRC_IN_LEN, 0, DCD, fm_set_region, "set-region"),
	FM(CX_FM_GET_DC_REGION_EXTENT_LISTS, "Get DC Region Extent Lists",
	   CX_GREL_IN_LEN, 0, DCD, fm_extent_lists, "extents"),
	FM(CX_FM_INITIATE_DC_ADD, "Initiate Dynamic Capacity Add", VAR,
	   CX_IDC_HDR_LEN, DCD, fm_add, "add"),
	FM(CX_FM_INITIATE_DC_RELEASE, "Initiate Dynamic Capacity Release",
	   VAR, CX_IDC_HDR_LEN, DCD, fm_release, "release"),
};
#define NCMDS ((int)CX_ARRAY_SIZE(cmds))

int cx_fm_commands(const struct cx_fm_cmd_info **out)
{
	*out = cmds;
	return NCMDS;
}

static const struct cx_fm_cmd_info *find(uint16_t opcode)
{
	for (int i = 0; i < NCMDS; i++)
		if (cmds[i].opcode == opcode)
			return &cmds[i];
	return NULL;
}

const char *cx_fm_opcode_name(uint16_t opcode)
{
	const struct cx_fm_cmd_info *c = find(opcode);
	return c ? c->name : NULL;
}

int cx_fm_exec(struct cx_memdev *m, uint16_t opcode, const void *in,
	       size_t in_len, void *out, size_t *out_len, uint16_t *rc,
	       const struct cx_fm_hooks *hooks, char *w, size_t wl)
{
	struct cx_mbox_state *st = m ? m->mbox : NULL;
	const struct cx_fm_cmd_info *c = find(opcode);
	size_t cap = out_len ? *out_len : 0, produced = 0;
	uint16_t r;

	if (w && wl)
		w[0] = 0;
	if (out_len)
		*out_len = 0;
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(st->lock);
	struct cx_mbox_device *dev = st->dev;
	if (!c) {
		r = say(w, wl, CX_RC_UNSUPPORTED, "opcode %04xh is not an FM-API "
			"command of this device", opcode);
	} else if ((c->flags & DCD) && !dev->dc_nregions) {
		r = say(w, wl, CX_RC_UNSUPPORTED, "%s (%04xh): memdev %s has no "
			"dynamic capacity", c->name, opcode, m->qid);
	} else if (in_len > CX_FM_PAYLOAD_MAX || (in_len && !in) ||
		   (c->in_len != VAR && in_len != (size_t)c->in_len) ||
		   (c->in_len == VAR && in_len < (size_t)c->in_min)) {
		r = c->in_len != VAR ?
		    say(w, wl, CX_RC_INVALID_PAYLOAD_LENGTH, "%s (%04xh) takes "
			"%d bytes of input, not %zu", c->name, opcode,
			c->in_len, in_len) :
		    say(w, wl, CX_RC_INVALID_PAYLOAD_LENGTH, "%s (%04xh) takes "
			"at least %d bytes of input (at most %u), not %zu",
			c->name, opcode, c->in_min, CX_FM_PAYLOAD_MAX, in_len);
	} else {
		/* a private, zeroed copy: in and out may alias */
		static const uint8_t none[1];
		uint8_t *ibuf = in_len ? cx_xcalloc(1, in_len) : NULL;
		uint8_t *obuf = cx_xcalloc(1, CX_FM_PAYLOAD_MAX);
		if (in_len)
			memcpy(ibuf, in, in_len);
		r = c->handler(dev, m, in_len ? ibuf : none, in_len, obuf,
			       &produced, hooks, w, wl);
		if (r != CX_RC_SUCCESS)
			produced = 0;
		if (produced > CX_FM_PAYLOAD_MAX)
			produced = CX_FM_PAYLOAD_MAX;
		if (out && produced)
			memcpy(out, obuf, produced < cap ? produced : cap);
		free(ibuf);
		free(obuf);
	}
	pthread_mutex_unlock(st->lock);
	if (out_len)
		*out_len = produced;
	if (rc)
		*rc = r;
	return 0;
}

size_t cx_fm_message(struct cx_memdev *m, const uint8_t *req, size_t len,
		     uint8_t *rsp, size_t room,
		     const struct cx_fm_hooks *hooks, char *w, size_t wl)
{
	struct cx_cci_msg in, out = { .category = CX_CCI_RESPONSE };
	enum cx_cci_error err = cx_cci_decode(req, len, &in);
	uint8_t *payload = NULL;

	if (w && wl)
		w[0] = 0;
	/* echo what can be read of the request */
	if (len > CX_CCI_TAG)
		out.tag = req[CX_CCI_TAG];
	if (len >= CX_CCI_OPCODE + 2)
		out.opcode = cx_rd_le16(req + CX_CCI_OPCODE);
	if (err == CX_CCI_TRUNCATED || err == CX_CCI_BAD_LENGTH) {
		out.rc = say(w, wl, CX_RC_INVALID_PAYLOAD_LENGTH, "CCI message "
			     "of %zu bytes: %s", len, cx_cci_error_name(err));
	} else if (err == CX_CCI_BAD_CATEGORY || in.category != CX_CCI_REQUEST) {
		out.rc = say(w, wl, CX_RC_INVALID_INPUT, "CCI message category "
			     "%u: an FM-API endpoint takes requests (0)",
			     len ? req[CX_CCI_CATEGORY] : 0);
	} else {
		size_t n = CX_FM_PAYLOAD_MAX;
		payload = cx_xcalloc(1, CX_FM_PAYLOAD_MAX);
		if (cx_fm_exec(m, in.opcode, in.payload, in.len, payload, &n,
			       &out.rc, hooks, w, wl)) {
			out.rc = say(w, wl, CX_RC_INTERNAL, "the device behind "
				     "this endpoint is not running");
			n = 0;
		}
		out.payload = payload;
		out.len = (uint32_t)n;
	}
	size_t n = cx_cci_encode(&out, rsp, room);
	free(payload);
	return n;
}

int cx_fm_devices(struct cx_fabric *f, struct cx_memdev ***out)
{
	int n = 0;
	*out = NULL;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->memdevs.n; j++) {
			struct cx_memdev *m = h->memdevs.v[j];
			bool seen = false;
			for (int k = 0; k < n && !seen; k++)
				seen = (*out)[k]->mbox && m->mbox &&
				       (*out)[k]->mbox->dev == m->mbox->dev;
			if (seen || !m->mbox)
				continue;
			*out = cx_xrealloc(*out, sizeof(**out) *
					   (size_t)(n + 1));
			(*out)[n++] = m;
		}
	}
	return n;
}

/* A CCI response with no payload for a request that never reached a
 * device: its tag and opcode echoed when they are there. */
static size_t refuse_frame(const uint8_t *cci, size_t len, uint16_t rc,
			   uint8_t *rsp, size_t room)
{
	struct cx_cci_msg out = { .category = CX_CCI_RESPONSE, .rc = rc };
	if (len > CX_CCI_TAG)
		out.tag = cci[CX_CCI_TAG];
	if (len >= CX_CCI_OPCODE + 2)
		out.opcode = cx_rd_le16(cci + CX_CCI_OPCODE);
	return cx_cci_encode(&out, rsp, room);
}

size_t cx_fm_frame(struct cx_fabric *f, const uint8_t *req, size_t len,
		   uint8_t *rsp, size_t room, const struct cx_fm_hooks *hooks,
		   char *w, size_t wl)
{
	struct cx_memdev **devs;
	size_t n = 0;

	if (w && wl)
		w[0] = 0;
	if (room < CX_MCTP_PREFIX_LEN + CX_CCI_HDR_LEN)
		return 0;
	int ndev = cx_fm_devices(f, &devs);
	uint8_t eid = len > CX_MCTP_EID ? req[CX_MCTP_EID] : 0;
	uint8_t type = len > CX_MCTP_TYPE ? req[CX_MCTP_TYPE] : 0;
	const uint8_t *cci = req + CX_MCTP_PREFIX_LEN;
	size_t clen = len > CX_MCTP_PREFIX_LEN ? len - CX_MCTP_PREFIX_LEN : 0;
	uint8_t *out = rsp + CX_MCTP_PREFIX_LEN;
	size_t oroom = room - CX_MCTP_PREFIX_LEN;

	rsp[CX_MCTP_EID] = eid;
	rsp[CX_MCTP_TYPE] = CX_MCTP_TYPE_FMAPI;
	if (len < CX_MCTP_PREFIX_LEN) {
		say(w, wl, CX_RC_INVALID_PAYLOAD_LENGTH, "a frame of %zu "
		    "byte%s: the MCTP-style prefix (endpoint id, message "
		    "type) takes 2", len, len == 1 ? "" : "s");
		n = refuse_frame(cci, 0, CX_RC_INVALID_PAYLOAD_LENGTH, out,
				 oroom);
	} else if ((type & 0x7f) != CX_MCTP_TYPE_FMAPI || (type & 0x80)) {
		say(w, wl, CX_RC_UNSUPPORTED_MAILBOX, "MCTP message type %#x: "
		    "this endpoint speaks the FM-API (type 7h, integrity "
		    "check bit clear)", type);
		n = refuse_frame(cci, clen, CX_RC_UNSUPPORTED_MAILBOX, out,
				 oroom);
	} else if (eid < CX_FM_EID_BASE || eid - CX_FM_EID_BASE >= ndev) {
		say(w, wl, CX_RC_INVALID_INPUT, "endpoint id %u: the fabric's "
		    "%d device%s are endpoints %d to %d", eid, ndev,
		    ndev == 1 ? "" : "s", CX_FM_EID_BASE,
		    CX_FM_EID_BASE + ndev - 1);
		n = refuse_frame(cci, clen, CX_RC_INVALID_INPUT, out, oroom);
	} else {
		n = cx_fm_message(devs[eid - CX_FM_EID_BASE], cci, clen, out,
				  oroom, hooks, w, wl);
	}
	free(devs);
	return n ? CX_MCTP_PREFIX_LEN + n : 0;
}
