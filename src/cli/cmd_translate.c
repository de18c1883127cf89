/*
 * cmd_translate.c - `cxlemu translate REGION OFFSET`: where one byte of a
 * region lives, as the decoders route it (HPA, interleave position,
 * memdev and its QEMU id, endpoint decoder, DPA, and the media offset).
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>

#include "proto/json.h"

int cmd_translate(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu *c;
	struct cxlemu_err err;
	struct json_object *out = NULL;
	bool human = false;
	uint64_t off;
	int o, rc;

	while ((o = getopt_long(argc, argv, "uh", opts, NULL)) != -1) {
		switch (o) {
		case 'u':
			human = true;
			break;
		case 'h':
			return cli_help("translate",
				"  -u, --human   addresses as hex strings\n");
		default:
			return cli_bad_option("translate", "uh", argv);
		}
	}
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
