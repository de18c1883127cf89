/*
 * cmd_stop.c - `cxlemu stop`: ask the daemon on the socket to exit, and
 * return once it has (its socket removed, its media flushed).
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>

int cmd_stop(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu *c;
	struct cxlemu_err err;
	int o, rc;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h')
			return cli_help("stop", NULL);
		return cli_bad_option("stop", "h", argv);
	}
	if (optind < argc)
		return cli_usage("stop", "unexpected argument '%s'",
				 argv[optind]);
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = cxlemu_stop(c, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("%s", err.msg);
	return CLI_OK;
}
