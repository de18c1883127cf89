/*
 * cmd_region.c - `cxlemu create-region` and `cxlemu destroy-region`, with
 * `cxl create-region`'s options and output: the region's JSON (with its
 * mappings) on stdout, then "created 1 region" on stderr.  The memdevs are
 * the arguments, in interleave position order.
 */
#include "cli.h"

#include "util/util.h"

#include <stdio.h>
#include <string.h>

#include "listing/json.h"

static const struct cli_opt create_opts[] = {
	{ 'd', "decoder", required_argument, "ROOT",
	  "root decoder (decoder0.N), required" },
	{ 'w', "ways", required_argument, "WAYS",
	  "interleave ways (default: the number of memdevs)" },
	{ 'g', "granularity", required_argument, "GRAN",
	  "interleave granularity (default: the root's)" },
	{ 't', "type", required_argument, "pmem|ram|dynamic_ram_a",
	  "capacity type (default: pmem if the root allows it; "
	  "dynamic_ram_a: the memdev's dynamic capacity, 1 way)" },
	{ 's', "size", required_argument, "SIZE",
	  "region size (default: as much as the memdevs give)" },
	{ 'm', "memdevs", no_argument, NULL,
	  "the arguments are memdevs (they always are)" },
	{ 'u', "human", no_argument, NULL, "sizes and addresses for humans" },
	CLI_OPT_END,
};

int cmd_create_region(int argc, char **argv, struct cli *cli)
{
	struct cli_args args = { .cmd = "create-region", .opts = create_opts };
	struct cxlemu_region_req rq;
	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *region = NULL;
	uint64_t v;
	int o, rc;

	memset(&rq, 0, sizeof(rq));
	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
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
			if (strcmp(optarg, "pmem") && strcmp(optarg, "ram") &&
			    strcmp(optarg, "dynamic_ram_a"))
				return cli_usage("create-region", "type '%s' "
						 "is not 'pmem', 'ram' or "
						 "'dynamic_ram_a'", optarg);
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
		}
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
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
	static const struct cli_opt opts[] = {
		{ 'f', "force", no_argument, NULL,
		  "destroy even if the region is in use" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "destroy-region", .opts = opts };
	struct cxlemu *c;
	struct cxlemu_err err;
	bool force = false;
	int o, rc, total = 0, failed = 0;

	while ((o = cli_getopt(&args, argc, argv)) >= 0)
		force = true; /* -f */
	if (o == CLI_OPT_EXIT)
		return args.rc;
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
