/*
 * cmd_mbox.c - `cxlemu mbox MEMDEV OPCODE [HEX-PAYLOAD]`: one raw command
 * to a memdev's primary mailbox, byte for byte as the CXL specification
 * lays it out, and the mailbox helpers the ndctl-style memdev verbs share.
 *
 * OPCODE is hexadecimal (command set << 8 | command), with or without
 * "0x": `cxlemu mbox mem0 4000` is Identify Memory Device.  The payload is
 * hex digits; spaces and colons between them are ignored, and several
 * arguments are joined.  The output is one JSON object: memdev, opcode,
 * name, rc, rc_name, payload_in_len, payload_out (hex), out_len.  The
 * exit status is 1 when the device returned anything but success (the
 * JSON is printed all the same), so scripts can test the return code.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mbox.h"   /* command names */
#include "listing/json.h"
#include "spec/mbox.h"
#include "util/util.h"

/* ---- shared helpers ---- */

const char *cli_memdev_arg(const char *arg, char *buf, size_t len)
{
	const char *p = arg;

	while (*p && isdigit((unsigned char)*p))
		p++;
	if (*arg && !*p) { /* ndctl takes a bare id for memN */
		snprintf(buf, len, "mem%s", arg);
		return buf;
	}
	return arg;
}

int cli_mbox_failed(const char *memdev, uint16_t opcode, uint16_t rc,
		    struct cxlemu_err *err)
{
	const char *name = cx_mbox_opcode_name(opcode);
	snprintf(err->msg, sizeof(err->msg), "%s: %s failed: %s (return code "
		 "%#x)", memdev, name ? name : "command", cx_mbox_rc_name(rc),
		 rc);
	return -EIO;
}

/* ---- cxlemu mbox ---- */

static const char mbox_help[] =
	"  MEMDEV        memN or the device's id=\n"
	"  OPCODE        hex: command set << 8 | command (4000 = Identify "
	"Memory Device)\n"
	"  HEX-PAYLOAD   the input payload in hex (spaces and ':' ignored)\n"
	"\nPrints {memdev, opcode, name, rc, rc_name, payload_in_len, "
	"payload_out, out_len};\nexits 1 when rc is not 0 (success).\n";

int cmd_mbox(int argc, char **argv, struct cli *cli)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	struct cxlemu_reply rep;
	char mbuf[32];
	int rc;

	if ((rc = cli_help_only("mbox", mbox_help, "+h", argc, argv)) >= 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage("mbox", "needs MEMDEV and OPCODE");
	const char *memdev = cli_memdev_arg(argv[optind], mbuf, sizeof(mbuf));
	const char *op = argv[optind + 1];
	const char *digits = op;
	char *end = NULL;
	if (!strncasecmp(digits, "0x", 2))
		digits += 2;
	errno = 0;
	unsigned long opcode = strtoul(digits, &end, 16);
	if (!*digits || *end || errno || opcode > 0xffff ||
	    !isxdigit((unsigned char)*digits))
		return cli_usage("mbox", "opcode '%s' is not a 16-bit hex "
				 "number (e.g. 4000 or 0x4000)", op);

	/* the payload: the remaining arguments, joined */
	size_t hlen = 1;
	for (int i = optind + 2; i < argc; i++)
		hlen += strlen(argv[i]) + 1;
	char *hex = calloc(1, hlen);
	if (!hex)
		return cli_error("mbox: out of memory");
	for (int i = optind + 2; i < argc; i++) {
		strcat(hex, argv[i]);
		strcat(hex, " ");
	}
	cx_err he;
	size_t nbytes;
	if (cx_hex_decode(hex, NULL, SIZE_MAX, &nbytes, &he)) {
		free(hex);
		return cli_usage("mbox", "payload: %s", he.msg);
	}

	if ((rc = cli_connect(cli, &c))) {
		free(hex);
		return rc;
	}
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "memdev", json_object_new_string(memdev));
	json_object_object_add(args, "opcode", json_object_new_int((int)opcode));
	json_object_object_add(args, "payload", json_object_new_string(hex));
	free(hex);
	rc = cxlemu_call(c, "mbox", args, NULL, 0, &rep, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("mbox: %s", err.msg);
	struct json_object *jrc = NULL;
	int devrc = 0;
	if (json_object_object_get_ex(rep.result, "rc", &jrc))
		devrc = json_object_get_int(jrc);
	cx_json_print_obj(stdout, rep.result);
	cxlemu_reply_release(&rep);
	return devrc ? CLI_FAIL : CLI_OK;
}
