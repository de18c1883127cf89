/*
 * cmd_list.c - `cxlemu list`: the host's view of the fabric with
 * `cxl list`'s option letters, filters and JSON.  -v, -vv and -vvv widen
 * the listing as ndctl's do; the daemon applies the remaining defaults.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "proto/json.h"

static const char list_help[] =
	"  -M, --memdevs        memory devices\n"
	"  -B, --buses          CXL buses (root0)\n"
	"  -P, --ports          switch ports (host bridges, switches)\n"
	"  -E, --endpoints      endpoint ports\n"
	"  -D, --decoders       HDM decoders\n"
	"  -R, --regions        regions\n"
	"  -T, --targets        decoder targets, dports, region mappings\n"
	"  -X, --dax            DAX regions and devices\n"
	"  -i, --idle           include disabled and idle objects\n"
	"  -u, --human          sizes and addresses for humans\n"
	"  -H, --health         memdev health\n"
	"  -I, --partition      memdev partition info\n"
	"  -F, --firmware       memdev firmware info\n"
	"  -A, --alert-config   memdev alert configuration\n"
	"  -L, --media-errors   media errors\n"
	"  -N, --extents        dynamic capacity extents\n"
	"  -S, --single         only the named port, not its descendants\n"
	"  -v, --verbose        -v: -BPEDTRN, -vv: also -i, -vvv: also "
	"-HIFAXL\n"
	"  -m, --memdev=NAME    filter: memdev name, id or host\n"
	"  -s, --serial=SERIAL  filter: memdev serial\n"
	"  -b, --bus=NAME       filter: bus\n"
	"  -p, --port=NAME      filter: port\n"
	"  -e, --endpoint=NAME  filter: endpoint\n"
	"  -d, --decoder=NAME   filter: decoder\n"
	"  -r, --region=NAME    filter: region\n";

int cmd_list(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "memdevs", no_argument, NULL, 'M' },
		{ "buses", no_argument, NULL, 'B' },
		{ "ports", no_argument, NULL, 'P' },
		{ "endpoints", no_argument, NULL, 'E' },
		{ "decoders", no_argument, NULL, 'D' },
		{ "regions", no_argument, NULL, 'R' },
		{ "targets", no_argument, NULL, 'T' },
		{ "dax", no_argument, NULL, 'X' },
		{ "idle", no_argument, NULL, 'i' },
		{ "human", no_argument, NULL, 'u' },
		{ "health", no_argument, NULL, 'H' },
		{ "partition", no_argument, NULL, 'I' },
		{ "firmware", no_argument, NULL, 'F' },
		{ "alert-config", no_argument, NULL, 'A' },
		{ "media-errors", no_argument, NULL, 'L' },
		{ "extents", no_argument, NULL, 'N' },
		{ "single", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "memdev", required_argument, NULL, 'm' },
		{ "serial", required_argument, NULL, 's' },
		{ "bus", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "decoder", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cx_list_opts o;
	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *arr = NULL;
	int opt, rc, verbose = 0;

	memset(&o, 0, sizeof(o));
	while ((opt = getopt_long(argc, argv,
				  "MBPEDRTXiuHIFALNSvm:s:b:p:e:d:r:h", opts,
				  NULL)) != -1) {
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
		case 'h': return cli_help("list", list_help);
		default: return cli_bad_option("list", "MBPEDRTXiuHIFALNSvm:s:b:p:e:d:r:h", argv);
		}
	}
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
