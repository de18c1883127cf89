/*
 * cmd_run.c - `cxlemu run [--host H] -- PROGRAM ARGS...`: run an unmodified
 * program as one host of the fabric.
 *
 * It checks that the fabric answers and has the host, then replaces itself
 * with PROGRAM, with LD_PRELOAD naming the preload library by its absolute
 * path (so programs that change directory or re-exec keep it),
 * CXLEMU_SOCKET the socket by its absolute path, and CXLEMU_HOST the
 * host.  An LD_PRELOAD already set is kept after ours.  The exit status
 * is the program's; 127 when it cannot be run.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"Options:\n"
	"  -h, --help    this text\n\n"
	"PROGRAM runs with /dev/daxZ.M, its sysfs and `stat` answered by the\n"
	"fabric as host --host (the preload library). Put `--` before PROGRAM\n"
	"when its arguments look like cxlemu's options.\n"
	"The library is looked for in $CXLEMU_PRELOAD, then beside this\n"
	"command, then one directory up.\n";

int cmd_run(int argc, char **argv, struct cli *cli)
{
	int o, rc;
	if ((o = cli_help_only("run", help, "+h", argc, argv)) >= 0)
		return o;
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc)
		return cli_usage("run", "which program? (cxlemu run -- PROGRAM "
				 "ARGS...)");

	struct cxlemu *c;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = cli_program_env("run", c);
	cxlemu_close(c);
	if (rc)
		return rc;
	fflush(NULL);
	execvp(argv[optind], argv + optind);
	cli_error("run: %s: %s", argv[optind], strerror(errno));
	return 127;
}
