/*
 * cmd_stop.c - `cxlemu stop`: ask the daemon on the socket to exit, and
 * return once it has (its socket removed, its media flushed).
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>

int cmd_stop(int argc, char **argv, struct cli *cli)
{
	struct cxlemu *c;
	struct cxlemu_err err;
	int o, rc;

	if ((o = cli_help_only("stop", NULL, "h", argc, argv)) >= 0)
		return o;
	if (optind < argc)
		return cli_usage("stop", "unexpected argument '%s'",
				 argv[optind]);
	if ((rc = cli_connect_admin(cli, &c)))
		return rc;
	rc = cxlemu_stop(c, &err);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("%s", err.msg);
	return CLI_OK;
}
