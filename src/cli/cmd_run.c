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

#define PRELOAD_NAME "libcxlemu-preload.so"

static const char help[] =
	"Options:\n"
	"  -h, --help    this text\n\n"
	"PROGRAM runs with /dev/daxZ.M, its sysfs and `stat` answered by the\n"
	"fabric as host --host (the preload library). Put `--` before PROGRAM\n"
	"when its arguments look like cxlemu's options.\n"
	"The library is looked for in $CXLEMU_PRELOAD, then beside this\n"
	"command, then one directory up.\n";

/* The preload library: $CXLEMU_PRELOAD, else beside /proc/self/exe or in
 * its parent directory (build/san/cxlemu uses build/'s library, which is
 * not built with sanitizers: it is loaded into programs that are not). */
static int find_preload(char *out, size_t len)
{
	const char *env = getenv("CXLEMU_PRELOAD");
	if (env && *env) {
		if (!realpath(env, out) || access(out, R_OK))
			return cli_error("run: CXLEMU_PRELOAD=%s: %s", env,
					 strerror(errno));
		return CLI_OK;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return cli_error("run: cannot find this command's directory: "
				 "%s", strerror(errno));
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	const char *tries[] = { "%s/" PRELOAD_NAME, "%s/../" PRELOAD_NAME };
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		char cand[PATH_MAX + 64];
		snprintf(cand, sizeof(cand), tries[i], exe);
		if (!access(cand, R_OK) && realpath(cand, out))
			return CLI_OK;
	}
	return cli_error("run: %s is not beside %s/cxlemu or in its parent "
			 "directory; build it (make) or set CXLEMU_PRELOAD",
			 PRELOAD_NAME, exe);
}

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

	char preload[PATH_MAX], sock[PATH_MAX];
	if ((rc = find_preload(preload, sizeof(preload))))
		return rc;
	struct cxlemu *c;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	const char *s = cxlemu_socket(c);
	if (s[0] == '/' || !realpath(s, sock))
		snprintf(sock, sizeof(sock), "%s", s);
	char *host = strdup(cxlemu_host(c));
	cxlemu_close(c);
	if (!host)
		return cli_error("run: out of memory");

	const char *old = getenv("LD_PRELOAD");
	char *ld = NULL;
	if (old && *old ? asprintf(&ld, "%s %s", preload, old) < 0
			: asprintf(&ld, "%s", preload) < 0)
		return cli_error("run: out of memory");
	if (setenv("LD_PRELOAD", ld, 1) || setenv("CXLEMU_SOCKET", sock, 1) ||
	    setenv("CXLEMU_HOST", host, 1))
		return cli_error("run: cannot set the environment: %s",
				 strerror(errno));
	free(ld);
	free(host);
	fflush(NULL);
	execvp(argv[optind], argv + optind);
	cli_error("run: %s: %s", argv[optind], strerror(errno));
	return 127;
}
