/*
 * cmd_inject.c - `cxlemu inject MEMDEV KIND [KEY=VALUE ...]`: fault
 * injection the way QEMU's QMP commands take it, so software can be
 * tested against failing devices.
 *
 *   poison         cxl-inject-poison: start=DPA [length=64] (multiples of
 *                  64); reads of those lines fail until Clear Poison
 *   general-media  cxl-inject-general-media-event: dpa=, log=, flags=,
 *                  descriptor=, type=, transaction-type=, channel=,
 *                  rank=, device=, component-id=
 *   dram           cxl-inject-dram-event: the general-media keys (less
 *                  device and component-id) and nibble-mask=,
 *                  bank-group=, bank=, row=, column=, correction-mask=A,B,..
 *   memory-module  cxl-inject-memory-module-event: log=, flags=, type=,
 *                  health-status=, media-status=, additional-status=,
 *                  life-used=, temperature=, dirty-shutdown-count=,
 *                  corrected-volatile-error-count=,
 *                  corrected-persistent-error-count=
 *   health         the device's health without an event: the
 *                  memory-module health keys
 *
 * Keys are checked by the daemon (unknown keys and values that do not fit
 * their field are refused, naming both).  Values are decimal or 0x-hex;
 * log is informational, warning, failure or fatal (default
 * informational); omitted numbers are 0, omitted health keys keep the
 * device's current value.  Prints what was injected as JSON.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "listing/json.h"

static const char inject_help[] =
	"  KIND is poison, general-media, dram, memory-module or health;\n"
	"  KEY=VALUE pairs use QEMU's QMP parameter names:\n"
	"    poison:         start=DPA [length=BYTES]\n"
	"    general-media:  dpa= [log= flags= descriptor= type= "
	"transaction-type=\n"
	"                    channel= rank= device= component-id=]\n"
	"    dram:           dpa= [log= flags= descriptor= type= "
	"transaction-type=\n"
	"                    channel= rank= nibble-mask= bank-group= bank= "
	"row=\n"
	"                    column= correction-mask=A,B,C,D]\n"
	"    memory-module:  [log= flags= type= health-status= media-status=\n"
	"                    additional-status= life-used= temperature=\n"
	"                    dirty-shutdown-count= "
	"corrected-volatile-error-count=\n"
	"                    corrected-persistent-error-count=]\n"
	"    health:         the memory-module keys from health-status on\n";

int cmd_inject(int argc, char **argv, struct cli *cli)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	struct cxlemu_reply rep;
	char mbuf[32];
	int rc;

	if ((rc = cli_help_only("inject", inject_help, "+h", argc, argv)) >= 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage("inject", "needs MEMDEV and what to inject "
				 "(poison, general-media, dram, memory-module "
				 "or health)");
	const char *memdev = cli_memdev_arg(argv[optind], mbuf, sizeof(mbuf));
	const char *kind = argv[optind + 1];
	struct json_object *params = json_object_new_object();
	for (int i = optind + 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			json_object_put(params);
			return cli_usage("inject", "'%s' is not KEY=VALUE",
					 argv[i]);
		}
		char key[64];
		size_t klen = (size_t)(eq - argv[i]);
		if (klen >= sizeof(key)) {
			json_object_put(params);
			return cli_usage("inject", "parameter name in '%s' is "
					 "too long", argv[i]);
		}
		memcpy(key, argv[i], klen);
		key[klen] = 0;
		if (json_object_object_get_ex(params, key, NULL)) {
			json_object_put(params);
			return cli_usage("inject", "'%s' is given twice", key);
		}
		json_object_object_add(params, key,
				       json_object_new_string(eq + 1));
	}
	if ((rc = cli_connect_admin(cli, &c))) {
		json_object_put(params);
		return rc;
	}
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "memdev", json_object_new_string(memdev));
	json_object_object_add(args, "kind", json_object_new_string(kind));
	json_object_object_add(args, "params", params);
	rc = cxlemu_call(c, "inject", args, NULL, 0, &rep, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("inject: %s", err.msg);
	cx_json_print_obj(stdout, rep.result);
	cxlemu_reply_release(&rep);
	return CLI_OK;
}
