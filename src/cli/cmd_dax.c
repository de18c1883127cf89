/*
 * cmd_dax.c - daxctl's verbs on the fabric's device-DAX devices:
 * `cxlemu dax list [-u] [-d DEVICE]` prints daxctl's device JSON, and
 * `cxlemu reconfigure-device DEVICE -m devdax|system-ram` switches a
 * device between device-DAX (programs map it) and system-ram (onlined for
 * the kernel by kmem, as Linux does by default with ram regions);
 * `--coherency noncoherent|coherent` (cxlemu's own) chooses how this
 * host's programs map it: as a cached copy of the media that they flush
 * and invalidate (cxlemu/coherency.h), or coherent.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "listing/json.h"

static int dax_list(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'u', "human", no_argument, NULL, "sizes for people" },
		{ 'd', "dev", required_argument, "DEVICE",
		  "only this device (daxX.Y)" },
		CLI_OPT_END,
	};
	struct cli_args ca = { .cmd = "dax", .opts = opts,
		.more = "dax list prints the DAX devices as daxctl list "
			"prints them.\n" };
	const char *dev = NULL;
	bool human = false;
	int o, rc;

	while ((o = cli_getopt(&ca, argc, argv)) >= 0) {
		switch (o) {
		case 'u': human = true; break;
		case 'd': dev = optarg; break;
		}
	}
	if (o == CLI_OPT_EXIT)
		return ca.rc;
	if (optind != argc)
		return cli_usage("dax", "unexpected argument '%s'", argv[optind]);
	struct cxlemu *c;
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "human", json_object_new_boolean(human));
	rc = cxlemu_call(c, "dax-list", args, NULL, 0, &rep, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("dax list: %s", err.msg);
	struct json_object *out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(rep.result); i++) {
		struct json_object *d = json_object_array_get_idx(rep.result, i);
		const char *name = json_object_get_string(
			json_object_object_get(d, "chardev"));
		if (!dev || (name && !strcmp(name, dev)))
			json_object_array_add(out, json_object_get(d));
	}
	cxlemu_reply_release(&rep);
	if (dev && !json_object_array_length(out)) {
		json_object_put(out);
		return cli_error("dax list: no DAX device '%s' on this host", dev);
	}
	cx_json_print(stdout, out, human);
	return CLI_OK;
}

int cmd_dax(int argc, char **argv, struct cli *cli)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return argc < 2 ? cli_usage("dax", "needs a verb: list")
				: cli_help("dax", "  list [-u] [-d DEVICE]\n");
	if (!strcmp(argv[1], "list"))
		return dax_list(argc - 1, argv + 1, cli);
	return cli_usage("dax", "unknown verb '%s' (known: list)", argv[1]);
}

int cmd_reconfigure_device(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'm', "mode", required_argument, "devdax|system-ram",
		  "the new mode" },
		{ 'c', "coherency", required_argument, "noncoherent|coherent",
		  "how this host's programs map it" },
		{ 'u', "human", no_argument, NULL, "sizes for people" },
		/* daxctl's -f offlines online memory before leaving
		 * system-ram; here no memory is ever online, so scripts
		 * written for daxctl run as they are */
		{ 'f', "force", no_argument, NULL,
		  "accepted as daxctl takes it (nothing to offline)" },
		CLI_OPT_END,
	};
	struct cli_args ca = { .cmd = "reconfigure-device", .opts = opts };
	const char *mode = NULL, *coh = NULL;
	bool human = false;
	int o, rc;

	while ((o = cli_getopt(&ca, argc, argv)) >= 0) {
		switch (o) {
		case 'm': mode = optarg; break;
		case 'c': coh = optarg; break;
		case 'u': human = true; break;
		case 'f': break;
		}
	}
	if (o == CLI_OPT_EXIT)
		return ca.rc;
	if (argc - optind != 1)
		return cli_usage("reconfigure-device", "needs one DEVICE (daxZ.0)");
	if (!mode && !coh)
		return cli_usage("reconfigure-device", "needs -m devdax or -m "
				 "system-ram, or --coherency noncoherent or "
				 "coherent");
	struct cxlemu *c;
	struct cxlemu_reply rep;
	struct cxlemu_err err;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "device", json_object_new_string(argv[optind]));
	if (mode)
		json_object_object_add(args, "mode", json_object_new_string(mode));
	if (coh)
		json_object_object_add(args, "coherency",
				       json_object_new_string(coh));
	json_object_object_add(args, "human", json_object_new_boolean(human));
	rc = cxlemu_call(c, "dax-reconfigure", args, NULL, 0, &rep, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("reconfigure-device: %s", err.msg);
	/* daxctl prints the devices as an array, then a count */
	cx_json_print(stdout, json_object_get(rep.result), false);
	cxlemu_reply_release(&rep);
	fprintf(stderr, "reconfigured 1 device\n");
	return CLI_OK;
}
