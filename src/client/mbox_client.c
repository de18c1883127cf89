/*
 * mbox_client.c - the "mbox" request from the client side (mbox_client.h):
 * the input goes as the request's raw frame, the output comes back as hex
 * in the reply with the CXL return code.  A memdev named memN on a host's
 * socket goes as a binary frame instead (cx_client_mbox, client.c).
 */
#include "client/mbox_client.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "spec/mbox.h"
#include "util/util.h"

/* N of "memN", N a plain decimal that fits a binary frame's 16 bits. */
static bool memdev_index(const char *name, unsigned *idx)
{
	if (strncmp(name, "mem", 3) || !isdigit((unsigned char)name[3]))
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(name + 3, &end, 10);
	if (*end || errno || v > 0xffff)
		return false;
	*idx = (unsigned)v;
	return true;
}

int cx_mbox_ccall(struct cxlemu *c, const char *memdev, uint16_t opcode,
		  const void *in, size_t in_len, uint8_t *out,
		  size_t *out_len, uint16_t *rc, struct cxlemu_err *err)
{
	struct json_object *args, *jv = NULL;
	struct cxlemu_reply rep;
	size_t cap = out_len ? *out_len : 0;
	unsigned idx;
	int r;

	/* memN on a host's socket: the binary frame, no JSON either way;
	 * any other name goes as JSON, which explains what it does not know */
	if (cx_client_binary(c) && memdev_index(memdev, &idx)) {
		cx_err e;
		char busy[sizeof(err->msg)];
		r = cx_client_mbox(c, idx, opcode, in, in_len, out, out_len, rc,
				   busy, sizeof(busy), &e);
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s",
				 r ? e.msg : busy);
		return r;
	}
	args = json_object_new_object();
	json_object_object_add(args, "memdev", json_object_new_string(memdev));
	json_object_object_add(args, "opcode", json_object_new_int(opcode));
	if ((r = cxlemu_call(c, "mbox", args, in, in_len, &rep, err)) < 0)
		return r;
	const char *hex = "";
	if (json_object_object_get_ex(rep.result, "rc", &jv))
		*rc = (uint16_t)json_object_get_int(jv);
	if (json_object_object_get_ex(rep.result, "payload_out", &jv))
		hex = json_object_get_string(jv);
	if (err)
		err->msg[0] = 0;
	if (err && json_object_object_get_ex(rep.result, "busy_reason", &jv))
		snprintf(err->msg, sizeof(err->msg), "%s",
			 json_object_get_string(jv));
	size_t n = 0;
	uint8_t tmp[CX_MBOX_PAYLOAD_MAX];
	r = cx_hex_decode(hex, tmp, sizeof(tmp), &n, NULL);
	cxlemu_reply_release(&rep);
	if (r < 0) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "the daemon sent "
				 "an output payload that is not hex");
		return -EPROTO;
	}
	if (out)
		memcpy(out, tmp, n < cap ? n : cap);
	if (out_len)
		*out_len = n;
	return 0;
}
