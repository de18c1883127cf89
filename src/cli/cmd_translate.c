/*
 * cmd_translate.c - `cxlemu translate REGION OFFSET`: where one byte of a
 * region lives, as the decoders route it (HPA, interleave position,
 * memdev and its QEMU id, endpoint decoder, DPA, and the media offset).
 */
#include "cli.h"

#include <stdio.h>

#include "listing/json.h"

int cmd_translate(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'u', "human", no_argument, NULL, "addresses as hex strings" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "translate", .opts = opts };
	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *out = NULL;
	bool human = false;
	uint64_t off;
	int o, rc;

	while ((o = cli_getopt(&args, argc, argv)) >= 0)
		human = true; /* -u */
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (argc - optind != 2)
		return cli_usage("translate", "needs REGION and OFFSET");
	if ((rc = cli_parse_size("translate", "offset", argv[optind + 1],
				 &off)))
		return rc;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = cxlemu_translate(c, argv[optind], off, human, &out, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("translate: %s", err.msg);
	cx_json_print_obj(stdout, out);
	json_object_put(out);
	return CLI_OK;
}
