/*
 * cmd_region.c - `cxlemu create-region` and `cxlemu destroy-region`, with
 * `cxl create-region`'s options and output: the region's JSON (with its
 * mappings) on stdout, then "created 1 region" on stderr.  The memdevs are
 * the arguments, in interleave position order.
 */
#include "cli.h"

#include "util/util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "proto/json.h"

static const char create_help[] =
	"  -d, --decoder=ROOT       root decoder (decoder0.N), required\n"
	"  -w, --ways=WAYS          interleave ways (default: the number of "
	"memdevs)\n"
	"  -g, --granularity=GRAN   interleave granularity (default: the "
	"root's)\n"
	"  -t, --type=pmem|ram      capacity type (default: pmem if the root "
	"allows it)\n"
	"  -s, --size=SIZE          region size (default: as much as the "
	"memdevs give)\n"
	"  -m, --memdevs            the arguments are memdevs (they always "
	"are)\n"
	"  -u, --human              sizes and addresses for humans\n";

int cmd_create_region(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "decoder", required_argument, NULL, 'd' },
		{ "ways", required_argument, NULL, 'w' },
		{ "granularity", required_argument, NULL, 'g' },
		{ "type", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "memdevs", no_argument, NULL, 'm' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu_region_req rq;
	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *region = NULL;
	uint64_t v;
	int o, rc;

	memset(&rq, 0, sizeof(rq));
	while ((o = getopt_long(argc, argv, "d:w:g:t:s:muh", opts,
				NULL)) != -1) {
		switch (o) {
		case 'd':
			rq.root = optarg;
			break;
		case 'w': {
			cx_err e;
			/* a count, not a size: "1K" is not 1024 ways */
			if (cx_parse_u64(optarg, &v, "ways", &e) < 0)
				return cli_usage("create-region", "%s", e.msg);
			if (v == 0 || v > 1024)
				return cli_usage("create-region", "interleave "
						 "ways %s is not a number of "
						 "ways", optarg);
			rq.ways = (int)v;
			break;
		}
		case 'g':
			if ((rc = cli_parse_size("create-region",
						 "granularity", optarg,
						 &rq.granularity)))
				return rc;
			if (!rq.granularity)
				return cli_error("create-region: granularity "
						 "0 is not valid");
			break;
		case 't':
			if (strcmp(optarg, "pmem") && strcmp(optarg, "ram"))
				return cli_usage("create-region", "type '%s' "
						 "is not 'pmem' or 'ram'",
						 optarg);
			rq.type = optarg;
			break;
		case 's':
			if ((rc = cli_parse_size("create-region", "size",
						 optarg, &rq.size)))
				return rc;
			if (!rq.size)
				return cli_error("create-region: size 0 is "
						 "not valid");
			break;
		case 'm':
			break;
		case 'u':
			rq.human = true;
			break;
		case 'h':
			return cli_help("create-region", create_help);
		default:
			return cli_bad_option("create-region", "d:w:g:t:s:muh", argv);
		}
	}
	if (!rq.root)
		return cli_usage("create-region", "a root decoder is required "
				 "(-d decoder0.N)");
	rq.memdevs = (const char *const *)(argv + optind);
	rq.nmemdevs = argc - optind;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = cxlemu_create_region(c, &rq, &region, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("create-region: %s", err.msg);
	struct json_object *arr = json_object_new_array();
	json_object_array_add(arr, region);
	cx_json_print(stdout, arr, rq.human);
	fflush(stdout);
	fprintf(stderr, "cxl region: cmd_create_region: created 1 region\n");
	return CLI_OK;
}

int cmd_destroy_region(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu *c;
	struct cxlemu_err err;
	bool force = false;
	int o, rc, total = 0, failed = 0;

	while ((o = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			force = true;
			break;
		case 'h':
			return cli_help("destroy-region",
				"  -f, --force   destroy even if the region is "
				"in use\n");
		default:
			return cli_bad_option("destroy-region", "fh", argv);
		}
	}
	if (optind >= argc)
		return cli_usage("destroy-region", "name a region (regionN) "
				 "or 'all'");
	if ((rc = cli_connect(cli, &c)))
		return rc;
	for (int i = optind; i < argc; i++) {
		int n = 0;
		rc = cxlemu_destroy_region(c, argv[i], force, &n, &err);
		total += n;
		if (rc < 0) {
			cli_error("destroy-region: %s", err.msg);
			failed++;
		}
	}
	cxlemu_close(c);
	fprintf(stderr, "cxl region: cmd_destroy_region: destroyed %d "
		"region%s\n", total, total == 1 ? "" : "s");
	return failed ? CLI_FAIL : CLI_OK;
}
