/*
 * ops_fm.c - the fabric manager's endpoint on the daemon's socket: "fm"
 * carries one FM-API frame (README "The fabric manager endpoint": endpoint
 * id, MCTP message type 7h, then a CCI message) as the request's raw
 * frame and answers with the response frame as the reply's raw frame;
 * "fm-endpoints" says which endpoint id is which device.
 *
 * fm: raw frame in -> {endpoint, device, opcode: "0x5604", name, rc,
 *     rc_name, reason (refusals), out_len} and the response frame.  A
 *     refused or malformed message is still a reply (its CCI return code
 *     says why); only a request without a frame is an error.
 * fm-endpoints -> {endpoints: [{endpoint, device, serial, dc_regions,
 *     heads: [{host_id, host, memdev}]}]}
 *
 * The device side of every command is model/fm.c's and dcd.c's; the
 * daemon adds what only it knows: whether a host still uses capacity.
 */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fm.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

int cx_op_fm_endpoints(struct cx_srv_call *c, cx_err *e)
{
	struct cx_memdev **devs;
	int n = cx_fm_devices(c->fabric, &devs);
	struct json_object *list = json_object_new_array();
	char buf[32];

	for (int i = 0; i < n; i++) {
		struct cx_memdev *m = devs[i];
		struct cx_mbox_device *dev = m->mbox->dev;
		struct json_object *o = json_object_new_object();
		struct json_object *heads = json_object_new_array();
		json_object_object_add(o, "endpoint",
				       json_object_new_int(CX_FM_EID_BASE + i));
		add_str(o, "device", m->qid);
		if (m->has_sn) {
			snprintf(buf, sizeof(buf), "%#" PRIx64, m->sn);
			add_str(o, "serial", buf);
		}
		json_object_object_add(o, "dc_regions",
				       json_object_new_int(dev->dc_nregions));
		for (int h = 0; h < dev->heads.n; h++) {
			struct cx_mbox_state *st = dev->heads.v[h];
			struct json_object *ho = json_object_new_object();
			json_object_object_add(ho, "host_id",
					       json_object_new_int(h));
			add_str(ho, "host", st->m->host->name);
			snprintf(buf, sizeof(buf), "mem%d", st->m->index);
			add_str(ho, "memdev", buf);
			json_object_array_add(heads, ho);
		}
		json_object_object_add(o, "heads", heads);
		json_object_array_add(list, o);
	}
	free(devs);
	c->result = json_object_new_object();
	json_object_object_add(c->result, "endpoints", list);
	return 0;
}

int cx_op_fm(struct cx_srv_call *c, cx_err *e)
{
	char why[CX_FM_WHY_MAX], buf[32];
	uint8_t *rsp = cx_xcalloc(1, CX_FM_FRAME_MAX);

	if (!c->data_len) {
		free(rsp);
		return cx_fail(e, EINVAL, "an \"fm\" request carries its FM-API "
			       "frame (endpoint id, message type 7h, CCI "
			       "message) as its raw frame; this one has none");
	}
	/* a release of capacity a program maps is refused unless forced */
	const struct cx_fm_hooks hooks = { cx_srv_dcd_in_use, NULL };
	size_t n = cx_fm_frame(c->fabric, c->data, c->data_len, rsp,
			       CX_FM_FRAME_MAX, &hooks, why, sizeof(why));
	cx_srv_dcd_revoke(c->fabric);  /* mappings of capacity now gone */
	struct json_object *r = json_object_new_object();
	const uint8_t *cci = rsp + CX_MCTP_PREFIX_LEN;
	uint16_t opcode = cx_rd_le16(cci + CX_CCI_OPCODE);
	uint16_t rc = cx_rd_le16(cci + CX_CCI_RC);
	int eid = rsp[CX_MCTP_EID];
	struct cx_memdev **devs;
	int ndev = cx_fm_devices(c->fabric, &devs);

	json_object_object_add(r, "endpoint", json_object_new_int(eid));
	if (eid >= CX_FM_EID_BASE && eid - CX_FM_EID_BASE < ndev)
		add_str(r, "device", devs[eid - CX_FM_EID_BASE]->qid);
	free(devs);
	snprintf(buf, sizeof(buf), "0x%04x", opcode);
	add_str(r, "opcode", buf);
	const char *name = cx_fm_opcode_name(opcode);
	add_str(r, "name", name ? name : "unknown");
	json_object_object_add(r, "rc", json_object_new_int(rc));
	add_str(r, "rc_name", cx_mbox_rc_name(rc));
	if (why[0])   /* what the device did, or why it refused */
		add_str(r, rc ? "reason" : "message", why);
	json_object_object_add(r, "out_len", json_object_new_uint64(
		n >= CX_MCTP_PREFIX_LEN + CX_CCI_HDR_LEN ?
		n - CX_MCTP_PREFIX_LEN - CX_CCI_HDR_LEN : 0));
	c->result = r;
	c->out_data = rsp;
	c->out_len = n;
	return 0;
}
