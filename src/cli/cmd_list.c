/*
 * cmd_list.c - `cxlemu list`: the host's view of the fabric with
 * `cxl list`'s option letters, filters and JSON.  -v, -vv and -vvv widen
 * the listing as ndctl's do; the daemon applies the remaining defaults.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "listing/json.h"

static const struct cli_opt list_opts[] = {
	{ 'M', "memdevs", no_argument, NULL, "memory devices" },
	{ 'B', "buses", no_argument, NULL, "CXL buses (root0)" },
	{ 'P', "ports", no_argument, NULL,
	  "switch ports (host bridges, switches)" },
	{ 'E', "endpoints", no_argument, NULL, "endpoint ports" },
	{ 'D', "decoders", no_argument, NULL, "HDM decoders" },
	{ 'R', "regions", no_argument, NULL, "regions" },
	{ 'T', "targets", no_argument, NULL,
	  "decoder targets, dports, region mappings" },
	{ 'X', "dax", no_argument, NULL, "DAX regions and devices" },
	{ 'i', "idle", no_argument, NULL,
	  "include disabled and idle objects" },
	{ 'u', "human", no_argument, NULL, "sizes and addresses for humans" },
	{ 'H', "health", no_argument, NULL, "memdev health" },
	{ 'I', "partition", no_argument, NULL, "memdev partition info" },
	{ 'F', "firmware", no_argument, NULL, "memdev firmware info" },
	{ 'A', "alert-config", no_argument, NULL,
	  "memdev alert configuration" },
	{ 'L', "media-errors", no_argument, NULL, "media errors" },
	{ 'N', "extents", no_argument, NULL, "dynamic capacity extents" },
	{ 'S', "single", no_argument, NULL,
	  "only the named port, not its descendants" },
	{ 'v', "verbose", no_argument, NULL,
	  "-v: -BPEDTRN, -vv: also -i, -vvv: also -HIFAXL" },
	{ 'm', "memdev", required_argument, "NAME",
	  "filter: memdev name, id or host" },
	{ 's', "serial", required_argument, "SERIAL", "filter: memdev serial" },
	{ 'b', "bus", required_argument, "NAME", "filter: bus" },
	{ 'p', "port", required_argument, "NAME", "filter: port" },
	{ 'e', "endpoint", required_argument, "NAME", "filter: endpoint" },
	{ 'd', "decoder", required_argument, "NAME", "filter: decoder" },
	{ 'r', "region", required_argument, "NAME", "filter: region" },
	CLI_OPT_END,
};

int cmd_list(int argc, char **argv, struct cli *cli)
{
	struct cli_args args = { .cmd = "list", .opts = list_opts };
	struct cx_list_opts o;
	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *arr = NULL;
	int opt, rc, verbose = 0;

	memset(&o, 0, sizeof(o));
	while ((opt = cli_getopt(&args, argc, argv)) >= 0) {
		switch (opt) {
		case 'M': o.memdevs = true; break;
		case 'B': o.buses = true; break;
		case 'P': o.ports = true; break;
		case 'E': o.endpoints = true; break;
		case 'D': o.decoders = true; break;
		case 'R': o.regions = true; break;
		case 'T': o.targets = true; break;
		case 'X': o.dax = true; break;
		case 'i': o.idle = true; break;
		case 'u': o.human = true; break;
		case 'H': o.health = true; break;
		case 'I': o.partition = true; break;
		case 'F': o.firmware = true; break;
		case 'A': o.alert = true; break;
		case 'L': o.media_errors = true; break;
		case 'N': o.extents = true; break;
		case 'S': o.single = true; break;
		case 'v': verbose++; break;
		case 'm': o.memdev_filter = optarg; break;
		case 's': o.serial_filter = optarg; break;
		case 'b': o.bus_filter = optarg; break;
		case 'p': o.port_filter = optarg; break;
		case 'e': o.endpoint_filter = optarg; break;
		case 'd': o.decoder_filter = optarg; break;
		case 'r': o.region_filter = optarg; break;
		}
	}
	if (opt == CLI_OPT_EXIT)
		return args.rc;
	if (optind < argc)
		return cli_usage("list", "unexpected argument '%s'",
				 argv[optind]);
	/* as ndctl: the defaults (-R -M when nothing is selected) first,
	 * then what each verbosity level adds, so -v keeps the memdevs */
	cx_list_opts_defaults(&o);
	cx_list_opts_verbose(&o, verbose);
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = cxlemu_list(c, cx_list_opts_to_json(&o), &arr, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("list: %s", err.msg);
	cx_json_print(stdout, arr, o.human);
	return CLI_OK;
}
