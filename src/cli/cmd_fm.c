/*
 * cmd_fm.c - `cxlemu fm VERB ...`: a fabric manager from the shell.  Each
 * verb builds one FM-API request (spec/cci.h's layouts), sends it to the
 * daemon's FM endpoint as a frame (endpoint id, MCTP type 7h, CCI
 * message: the "fm" request of server/ops_fm.c, the same a program
 * speaks) and prints the response decoded as one JSON object: endpoint,
 * device, opcode, name, rc, rc_name, a "reason" when refused, then the
 * payload's fields.  `fm list` prints the endpoints; `fm raw` sends any
 * opcode with a hex payload.  Exit 1 when the return code is not success
 * (the JSON is printed all the same).
 *
 * A device is named by its endpoint id (8, 9, ...) or its id= (the
 * first head's); heads by --host-id, the FM-API's host ID (the head's
 * LD id).
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fm.h"     /* endpoint ids, command names and verbs */
#include "model/mbox.h"   /* cx_dc_tag_format */
#include "listing/json.h"
#include "spec/cci.h"
#include "util/util.h"

static const char fm_help[] =
	"  list                                the endpoints: id, device, "
	"heads\n"
	"  identify EP                         Identify (0001h)\n"
	"  heads EP                            Get Multi-Headed Info (5500h)\n"
	"  dcd-info EP                         Get DCD Info (5600h)\n"
	"  regions EP -i HOST_ID               Get Host DC Region "
	"Configuration (5601h)\n"
	"  set-region EP -r REGION -b BLOCK [--sanitize-on-release]\n"
	"                                      Set DC Region Configuration "
	"(5602h)\n"
	"  extents EP -i HOST_ID               Get DC Region Extent Lists "
	"(5603h)\n"
	"  add EP -i HOST_ID -p POLICY [-r REGION] [-l LENGTH] [-t TAG]\n"
	"         [-e DPA:LENGTH]...           Initiate Dynamic Capacity Add "
	"(5604h);\n"
	"                                      POLICY free, contiguous, "
	"prescriptive, shared\n"
	"  release EP -i HOST_ID -p POLICY [-l LENGTH] [-t TAG] "
	"[-e DPA:LENGTH]...\n"
	"         [--forced] [--sanitize]      Initiate Dynamic Capacity "
	"Release (5605h);\n"
	"                                      POLICY tag, prescriptive\n"
	"  raw EP OPCODE [HEX-PAYLOAD]         any FM-API command\n"
	"\nEP is an endpoint id (fm list) or the device's id=.  Prints one "
	"JSON object;\nexits 1 when the return code is not 0 (success).\n";

/* ---- requests ---- */

struct fm_req {
	uint16_t opcode;
	uint8_t in[CX_FM_PAYLOAD_MAX];
	size_t in_len;
};

static int fm_usage(const char *fmt, const char *arg)
{
	return cli_usage("fm", fmt, arg);
}

/* EP: a number is the endpoint id, anything else a device's id=. */
static int resolve_ep(struct cxlemu *c, const char *arg, int *eid)
{
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	struct json_object *list = NULL, *jv;
	char *end;

	long v = strtol(arg, &end, 0);
	if (*arg && !*end) {
		*eid = (int)v;
		return 0;
	}
	if (cxlemu_call(c, "fm-endpoints", NULL, NULL, 0, &rep, &err) < 0)
		return cli_error("fm: %s", err.msg);
	json_object_object_get_ex(rep.result, "endpoints", &list);
	int n = list ? (int)json_object_array_length(list) : 0;
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		if (json_object_object_get_ex(o, "device", &jv) &&
		    !strcmp(json_object_get_string(jv), arg) &&
		    json_object_object_get_ex(o, "endpoint", &jv)) {
			*eid = json_object_get_int(jv);
			cxlemu_reply_release(&rep);
			return 0;
		}
	}
	cxlemu_reply_release(&rep);
	return cli_error("fm: no FM endpoint is device '%s' (see `cxlemu fm "
			 "list`)", arg);
}

static int parse_tag(const char *s, uint8_t *tag)
{
	char hex[64];
	size_t n = 0, len = 0;
	for (const char *p = s; *p; p++)
		if (*p != '-' && n + 1 < sizeof(hex))
			hex[n++] = *p;
	hex[n] = 0;
	if (cx_hex_decode(hex, tag, CX_DC_TAG_LEN, &len, NULL) ||
	    len != CX_DC_TAG_LEN)
		return fm_usage("tag '%s' is not a UUID (32 hex digits, "
				"dashes allowed)", s);
	return 0;
}

static int parse_extent(const char *s, struct fm_req *q)
{
	char buf[64];
	uint64_t dpa, len;
	snprintf(buf, sizeof(buf), "%s", s);
	char *colon = strchr(buf, ':');
	if (!colon)
		return fm_usage("extent '%s' is not DPA:LENGTH", s);
	*colon = 0;
	if (cli_parse_size("fm", "extent DPA", buf, &dpa) ||
	    cli_parse_size("fm", "extent length", colon + 1, &len))
		return CLI_USAGE;
	if (q->in_len + CX_DCE_SIZE > sizeof(q->in))
		return fm_usage("too many extents (%s)", s);
	uint8_t *p = q->in + q->in_len;
	cx_wr_le64(p + CX_DCE_DPA, dpa);
	cx_wr_le64(p + CX_DCE_LEN, len);
	q->in_len += CX_DCE_SIZE;
	cx_wr_le32(q->in + CX_IDC_EXT_COUNT,
		   cx_rd_le32(q->in + CX_IDC_EXT_COUNT) + 1);
	return 0;
}

static const char *const add_policies[] = {
	"free", "contiguous", "prescriptive", "shared", NULL };
static const char *const rel_policies[] = { "tag", "prescriptive", NULL };

static int policy_of(const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	char *end;
	long v = strtol(s, &end, 0);
	return *s && !*end && v >= 0 && v <= 15 ? (int)v : -1;
}

/* The options of the verbs that name a head, a region, extents. */
static int build(const char *verb, int argc, char **argv, struct fm_req *q)
{
	static const struct option opts[] = {
		{ "host-id", required_argument, NULL, 'i' },
		{ "region", required_argument, NULL, 'r' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "policy", required_argument, NULL, 'p' },
		{ "length", required_argument, NULL, 'l' },
		{ "tag", required_argument, NULL, 't' },
		{ "extent", required_argument, NULL, 'e' },
		{ "forced", no_argument, NULL, 'F' },
		{ "sanitize", no_argument, NULL, 'S' },
		{ "sanitize-on-release", no_argument, NULL, 'S' },
		{ "start", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	bool add = !strcmp(verb, "add"), rel = !strcmp(verb, "release");
	uint64_t host = 0, region = 0, block = 0, length = 0, start = 0;
	uint64_t count = 0xff;
	int policy = -1, ch, rc;
	bool forced = false, sanitize = false, have_host = false;
	uint8_t tag[CX_DC_TAG_LEN] = { 0 };

	memset(q, 0, sizeof(*q));
	if (add || rel)
		q->in_len = CX_IDC_HDR_LEN;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "i:r:b:p:l:t:e:s:n:", opts,
				 NULL)) != -1) {
		const struct { int ch; const char *what; uint64_t *v; } num[] = {
			{ 'i', "host ID", &host }, { 'r', "region", &region },
			{ 'b', "block size", &block }, { 'l', "length", &length },
			{ 's', "start", &start }, { 'n', "count", &count },
		};
		bool done = false;
		for (size_t k = 0; k < CX_ARRAY_SIZE(num) && !done; k++)
			if (ch == num[k].ch) {
				if (cli_parse_size("fm", num[k].what, optarg,
						   num[k].v))
					return CLI_USAGE;
				have_host |= ch == 'i';
				done = true;
			}
		if (done)
			continue;
		switch (ch) {
		case 'p':
			policy = policy_of(optarg, add ? add_policies :
					   rel_policies);
			if (policy < 0)
				return fm_usage("unknown policy '%s'", optarg);
			break;
		case 't':
			if ((rc = parse_tag(optarg, tag)))
				return rc;
			break;
		case 'e':
			if (!add && !rel)
				return fm_usage("--extent is for add and "
						"release, not %s", verb);
			if ((rc = parse_extent(optarg, q)))
				return rc;
			break;
		case 'F':
			forced = true;
			break;
		case 'S':
			sanitize = true;
			break;
		default:
			return cli_bad_option("fm", "i:r:b:p:l:t:e:s:n:", argv);
		}
	}
	if (optind < argc)
		return fm_usage("unexpected argument '%s'", argv[optind]);
	bool needs_host = add || rel || !strcmp(verb, "regions") ||
			  !strcmp(verb, "extents");
	if (needs_host && !have_host)
		return fm_usage("%s needs --host-id (see `cxlemu fm heads`)",
				verb);
	if ((add || rel) && policy < 0)
		return fm_usage("%s needs --policy", verb);

	if (!strcmp(verb, "identify")) {
		q->opcode = CX_FM_IDENTIFY;
	} else if (!strcmp(verb, "heads")) {
		q->opcode = CX_FM_GET_MHD_INFO;
		q->in[CX_MHD_IN_START_LD] = (uint8_t)start;
		q->in[CX_MHD_IN_MAP_LEN] = (uint8_t)count;
		q->in_len = CX_MHD_IN_LEN;
	} else if (!strcmp(verb, "dcd-info")) {
		q->opcode = CX_FM_GET_DCD_INFO;
	} else if (!strcmp(verb, "regions")) {
		q->opcode = CX_FM_GET_HOST_DC_REGION_CONFIG;
		cx_wr_le16(q->in + CX_HDRC_IN_HOST, (uint16_t)host);
		q->in[CX_HDRC_IN_COUNT] = (uint8_t)count;
		q->in[CX_HDRC_IN_START] = (uint8_t)start;
		q->in_len = CX_HDRC_IN_LEN;
	} else if (!strcmp(verb, "set-region")) {
		q->opcode = CX_FM_SET_DC_REGION_CONFIG;
		q->in[CX_SDRC_REGION] = (uint8_t)region;
		cx_wr_le64(q->in + CX_SDRC_BLOCK_SIZE, block);
		q->in[CX_SDRC_FLAGS] = sanitize ? 1 : 0;
		q->in_len = CX_SDRC_IN_LEN;
	} else if (!strcmp(verb, "extents")) {
		q->opcode = CX_FM_GET_DC_REGION_EXTENT_LISTS;
		cx_wr_le16(q->in + CX_GREL_IN_HOST, (uint16_t)host);
		cx_wr_le32(q->in + CX_GREL_IN_COUNT,
			   count == 0xff ? UINT32_MAX : (uint32_t)count);
		cx_wr_le32(q->in + CX_GREL_IN_START, (uint32_t)start);
		q->in_len = CX_GREL_IN_LEN;
	} else if (add || rel) {
		q->opcode = add ? CX_FM_INITIATE_DC_ADD :
				  CX_FM_INITIATE_DC_RELEASE;
		cx_wr_le16(q->in + CX_IDC_HOST, (uint16_t)host);
		q->in[CX_IDC_POLICY] = (uint8_t)policy |
				       (forced ? CX_IDC_FORCED : 0) |
				       (sanitize ? CX_IDC_SANITIZE : 0);
		if (add)
			q->in[CX_IDC_REGION] = (uint8_t)region;
		cx_wr_le64(q->in + CX_IDC_LENGTH, length);
		memcpy(q->in + CX_IDC_TAG, tag, CX_DC_TAG_LEN);
	} else {
		return fm_usage("unknown verb '%s' (see cxlemu fm --help)",
				verb);
	}
	return 0;
}

static int build_raw(int argc, char **argv, struct fm_req *q)
{
	if (argc < 2)
		return fm_usage("raw needs an OPCODE%s", "");
	char *end;
	errno = 0;
	unsigned long op = strtoul(argv[1], &end, 16);
	if (!isxdigit((unsigned char)argv[1][0]) || *end || errno ||
	    op > 0xffff)
		return fm_usage("opcode '%s' is not a 16-bit hex number",
				argv[1]);
	memset(q, 0, sizeof(*q));
	q->opcode = (uint16_t)op;
	for (int i = 2; i < argc; i++) {
		size_t n = 0;
		cx_err e;
		if (cx_hex_decode(argv[i], q->in + q->in_len,
				  sizeof(q->in) - q->in_len, &n, &e))
			return fm_usage("payload: %s", e.msg);
		q->in_len += n;
	}
	return 0;
}

/* ---- responses ---- */

static void put_u(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void put_hex(struct json_object *o, const char *k, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%#" PRIx64, v);
	json_object_object_add(o, k, json_object_new_string(buf));
}

static void put_names(struct json_object *o, const char *k, unsigned bits,
		      const char *const *names)
{
	struct json_object *a = json_object_new_array();
	for (int i = 0; names[i]; i++)
		if (bits & (1u << i))
			json_object_array_add(a,
					      json_object_new_string(names[i]));
	json_object_object_add(o, k, a);
}

static struct json_object *extent_json(const uint8_t *p)
{
	struct json_object *x = json_object_new_object();
	char tag[40];
	put_hex(x, "offset", cx_rd_le64(p + CX_DCE_DPA));
	put_hex(x, "length", cx_rd_le64(p + CX_DCE_LEN));
	cx_dc_tag_format(p + CX_DCE_TAG, tag, sizeof(tag));
	json_object_object_add(x, "tag", json_object_new_string(tag));
	put_u(x, "shared_seq", cx_rd_le16(p + CX_DCE_SHARED_SEQ));
	return x;
}

static void put_trailer(struct json_object *o, const uint8_t *t)
{
	put_u(o, "extents_supported", cx_rd_le32(t + CX_GDC_T_EXTENTS_SUPPORTED));
	put_u(o, "extents_available", cx_rd_le32(t + CX_GDC_T_EXTENTS_AVAILABLE));
	put_u(o, "tags_supported", cx_rd_le32(t + CX_GDC_T_TAGS_SUPPORTED));
	put_u(o, "tags_available", cx_rd_le32(t + CX_GDC_T_TAGS_AVAILABLE));
}

/* The output payload's fields, each checked to be inside `n` bytes;
 * false for an opcode this file does not decode. */
static bool decode(struct json_object *o, uint16_t opcode, const uint8_t *p,
		   size_t n)
{
	switch (opcode) {
	case CX_FM_IDENTIFY:
		if (n < CX_FID_OUT_LEN)
			break;
		put_hex(o, "vendor_id", cx_rd_le16(p + CX_FID_VID));
		put_hex(o, "device_id", cx_rd_le16(p + CX_FID_DID));
		put_hex(o, "subsystem_vendor_id",
			cx_rd_le16(p + CX_FID_SUBSYS_VID));
		put_hex(o, "subsystem_id", cx_rd_le16(p + CX_FID_SUBSYS_ID));
		put_hex(o, "serial", cx_rd_le64(p + CX_FID_SERIAL));
		put_u(o, "max_message_size", 1ull << (p[CX_FID_MAX_MSG] & 63));
		put_u(o, "component_type", p[CX_FID_COMPONENT]);
		break;
	case CX_FM_GET_MHD_INFO: {
		if (n < CX_MHD_MAP)
			break;
		put_u(o, "num_lds", p[CX_MHD_NUM_LDS]);
		put_u(o, "num_heads", p[CX_MHD_NUM_HEADS]);
		put_u(o, "start_ld", p[CX_MHD_START_LD]);
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < p[CX_MHD_MAP_LEN] &&
				   CX_MHD_MAP + i < n; i++)
			json_object_array_add(a, json_object_new_int(
						      p[CX_MHD_MAP + i]));
		json_object_object_add(o, "ld_map", a);
		break;
	}
	case CX_FM_GET_DCD_INFO: {
		if (n < CX_DCDI_OUT_LEN)
			break;
		put_u(o, "num_hosts", p[CX_DCDI_NUM_HOSTS]);
		put_u(o, "num_regions", p[CX_DCDI_NUM_REGIONS]);
		put_names(o, "add_policies",
			  cx_rd_le16(p + CX_DCDI_ADD_POLICIES), add_policies);
		put_names(o, "release_policies",
			  cx_rd_le16(p + CX_DCDI_REL_POLICIES), rel_policies);
		put_hex(o, "sanitize_on_release_mask",
			p[CX_DCDI_SANITIZE_MASK]);
		put_u(o, "total_capacity", cx_rd_le64(p + CX_DCDI_TOTAL_CAP) *
					   CX_CAPACITY_UNIT);
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < p[CX_DCDI_NUM_REGIONS] && i < 8; i++) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%#" PRIx64, cx_rd_le64(
					 p + CX_DCDI_BLOCK_MASKS + 8 * i));
			json_object_array_add(a, json_object_new_string(buf));
		}
		json_object_object_add(o, "block_size_masks", a);
		break;
	}
	case CX_FM_GET_HOST_DC_REGION_CONFIG: {
		if (n < CX_HDRC_REGIONS)
			break;
		int k = p[CX_HDRC_RETURNED];
		put_u(o, "host_id", cx_rd_le16(p + CX_HDRC_HOST));
		put_u(o, "num_regions", p[CX_HDRC_NUM_REGIONS]);
		struct json_object *a = json_object_new_array();
		size_t t = CX_HDRC_REGIONS + (size_t)k * CX_DCR_SIZE;
		for (int i = 0; i < k && t <= n; i++) {
			const uint8_t *r = p + CX_HDRC_REGIONS +
					   (size_t)i * CX_DCR_SIZE;
			struct json_object *x = json_object_new_object();
			put_hex(x, "base", cx_rd_le64(r + CX_DCR_BASE));
			put_hex(x, "decode_length",
				cx_rd_le64(r + CX_DCR_DECODE_LEN) *
				CX_CAPACITY_UNIT);
			put_hex(x, "length", cx_rd_le64(r + CX_DCR_LEN));
			put_u(x, "block_size", cx_rd_le64(r + CX_DCR_BLOCK_SIZE));
			put_u(x, "dsmad_handle",
			      cx_rd_le32(r + CX_DCR_DSMAD_HANDLE));
			json_object_object_add(x, "sharable",
				json_object_new_boolean(
					r[CX_HDRC_R_DSMAS_FLAGS] &
					CX_DSMAS_SHAREABLE));
			json_object_object_add(x, "sanitize_on_release",
				json_object_new_boolean(
					r[CX_HDRC_R_SANITIZE] & 1));
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "regions", a);
		if (t + CX_GDC_TRAILER_LEN <= n)
			put_trailer(o, p + t);
		break;
	}
	case CX_FM_GET_DC_REGION_EXTENT_LISTS: {
		if (n < CX_GREL_EXTENTS)
			break;
		uint32_t k = cx_rd_le32(p + CX_GREL_RETURNED);
		put_u(o, "host_id", cx_rd_le16(p + CX_GREL_HOST));
		put_u(o, "start", cx_rd_le32(p + CX_GREL_START));
		put_u(o, "returned", k);
		put_u(o, "total", cx_rd_le32(p + CX_GREL_TOTAL));
		put_u(o, "generation", cx_rd_le32(p + CX_GREL_GENERATION));
		struct json_object *a = json_object_new_array();
		for (uint32_t i = 0; i < k; i++) {
			size_t at = CX_GREL_EXTENTS + (size_t)i * CX_DCE_SIZE;
			if (at + CX_DCE_SIZE > n)
				break;
			json_object_array_add(a, extent_json(p + at));
		}
		json_object_object_add(o, "extents", a);
		break;
	}
	default:
		return false;
	}
	return true;
}

/* ---- the verbs ---- */

static int fm_list(struct cxlemu *c)
{
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	if (cxlemu_call(c, "fm-endpoints", NULL, NULL, 0, &rep, &err) < 0)
		return cli_error("fm: %s", err.msg);
	cx_json_print_obj(stdout, rep.result);
	cxlemu_reply_release(&rep);
	return CLI_OK;
}

static int fm_send(struct cxlemu *c, int eid, const struct fm_req *q)
{
	uint8_t frame[CX_FM_FRAME_MAX];
	struct cx_cci_msg msg = {
		.category = CX_CCI_REQUEST, .tag = 1, .opcode = q->opcode,
		.payload = q->in, .len = (uint32_t)q->in_len,
	};
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	struct cx_cci_msg rsp;
	struct json_object *jv = NULL;

	frame[CX_MCTP_EID] = (uint8_t)eid;
	frame[CX_MCTP_TYPE] = CX_MCTP_TYPE_FMAPI;
	size_t n = cx_cci_encode(&msg, frame + CX_MCTP_PREFIX_LEN,
				 sizeof(frame) - CX_MCTP_PREFIX_LEN);
	if (eid < 0 || eid > 0xff)
		return cli_error("fm: endpoint id %d does not fit in a byte",
				 eid);
	if (cxlemu_call(c, "fm", NULL, frame, CX_MCTP_PREFIX_LEN + n, &rep,
			&err) < 0)
		return cli_error("fm: %s", err.msg);
	int devrc = 0;
	if (json_object_object_get_ex(rep.result, "rc", &jv))
		devrc = json_object_get_int(jv);
	if (devrc)
		rep.data_len = 0;   /* a refusal has no payload to decode */
	bool ok = rep.data_len > CX_MCTP_PREFIX_LEN &&
		  cx_cci_decode(rep.data + CX_MCTP_PREFIX_LEN,
				rep.data_len - CX_MCTP_PREFIX_LEN, &rsp) ==
		  CX_CCI_OK;
	if (ok && rsp.len && !decode(rep.result, q->opcode, rsp.payload,
				     rsp.len)) {
		/* an opcode no verb decodes: its bytes */
		char *hex = cx_hex_encode(rsp.payload, rsp.len);
		json_object_object_add(rep.result, "payload_out",
				       json_object_new_string(hex));
		free(hex);
	}
	cx_json_print_obj(stdout, rep.result);
	cxlemu_reply_release(&rep);
	return devrc ? CLI_FAIL : CLI_OK;
}

int cmd_fm(int argc, char **argv, struct cli *cli)
{
	struct cxlemu *c;
	struct fm_req q;
	int rc, eid = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return argc < 2 ? cli_usage("fm", "needs a verb") :
				  cli_help("fm", fm_help);
	const char *verb = argv[1];
	bool list = !strcmp(verb, "list");
	if (!list && argc < 3)
		return fm_usage("%s needs an endpoint (see `cxlemu fm list`)",
				verb);
	if (!list && !strcmp(verb, "raw"))
		rc = build_raw(argc - 2, argv + 2, &q);
	else if (!list)
		rc = build(verb, argc - 2, argv + 2, &q);
	else
		rc = argc > 2 ? fm_usage("list takes no argument (%s)",
					 argv[2]) : 0;
	if (rc)
		return rc;
	/* the FM endpoint is the fabric's: the administrative socket */
	if ((rc = cli_connect_admin(cli, &c)))
		return rc;
	if (list)
		rc = fm_list(c);
	else if (!(rc = resolve_ep(c, argv[2], &eid)))
		rc = fm_send(c, eid, &q);
	cxlemu_close(c);
	return rc;
}
