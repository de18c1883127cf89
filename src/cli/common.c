/*
 * common.c - messages, usage, size arguments and the connection, shared by
 * every subcommand so that the command line behaves the same everywhere.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/util.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cxlemu: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAIL;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("cxlemu: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The command table's row for cmd, or for its first word ("lab up",
 * "dax list": a verb's usage is its command's). */
static const struct cli_cmd *cmd_of(const char *cmd)
{
	char name[32];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(cmd, " "), cmd);
	return cli_find_cmd(name);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	const struct cli_cmd *c = cmd_of(cmd);
	va_list ap;

	fprintf(stderr, "cxlemu: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		fprintf(stderr, "usage: cxlemu %s %s\n", c->name, c->usage);
	return CLI_USAGE;
}

int cli_bad_option(const char *cmd, const char *optstring, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (optopt && optopt != ':' && strchr(optstring, optopt))
		return cli_usage(cmd, "option %s needs a value", arg);
	if (optopt)
		return cli_usage(cmd, "unknown option -%c", optopt);
	return cli_usage(cmd, "unknown option %s", arg);
}

int cli_help(const char *cmd, const char *options)
{
	const struct cli_cmd *c = cmd_of(cmd);

	if (c)
		printf("usage: cxlemu %s %s\n\n%s\n", c->name, c->usage,
		       c->summary);
	if (options && *options)
		printf("\n%s", options);
	printf("\nGlobal options: --socket PATH (default $CXLEMU_SOCKET, "
	       "else /tmp/cxlemu-<uid>.sock),\n"
	       "                --host NAME (default $CXLEMU_HOST, else "
	       "the first host)\n");
	return CLI_OK;
}

int cli_help_only(const char *cmd, const char *help, const char *optstring,
		  int argc, char **argv)
{
	struct cli_args a = { .cmd = cmd, .more = help,
			      .stop_at_arg = optstring[0] == '+' };
	int o = cli_getopt(&a, argc, argv);

	return o == CLI_OPT_DONE ? -1 : a.rc;
}

int cli_slurp(int fd, uint64_t max, uint8_t **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	while (n <= max) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(buf);
			return -err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

const char *cli_socket(struct cli *cli)
{
	if (cli->socket)
		return cli->socket;
	return cx_proto_default_socket(cli->sockbuf, sizeof(cli->sockbuf));
}

int cli_connect(struct cli *cli, struct cxlemu **out)
{
	struct cxlemu_err err;

	if (cxlemu_connect(cli_socket(cli), cli->host, out, &err) < 0)
		return cli_error("%s", err.msg);
	return CLI_OK;
}

int cli_connect_admin(struct cli *cli, struct cxlemu **out)
{
	struct cxlemu_err err;

	if (cxlemu_connect_admin(cli_socket(cli), cli->host, out, &err) < 0)
		return cli_error("%s", err.msg);
	return CLI_OK;
}

int cli_parse_size(const char *cmd, const char *what, const char *s,
		   uint64_t *out)
{
	cx_err e;

	if (cx_parse_size(s, out, what, &e) < 0)
		return cli_usage(cmd, "%s", e.msg); /* malformed: exit 2 */
	return CLI_OK;
}

#define PRELOAD_NAME "libcxlemu-preload.so"

/* The preload library: $CXLEMU_PRELOAD, else beside /proc/self/exe or in
 * its parent directory (build/san/cxlemu uses build/'s library, which is
 * not built with sanitizers: it is loaded into programs that are not). */
int cli_find_preload(const char *cmd, char *out, size_t len)
{
	const char *env = getenv("CXLEMU_PRELOAD");
	if (env && *env) {
		if (!realpath(env, out) || access(out, R_OK))
			return cli_error("%s: CXLEMU_PRELOAD=%s: %s", cmd, env,
					 strerror(errno));
		return CLI_OK;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return cli_error("%s: cannot find this command's directory: "
				 "%s", cmd, strerror(errno));
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
	return cli_error("%s: %s is not beside %s/cxlemu or in its parent "
			 "directory; build it (make) or set CXLEMU_PRELOAD",
			 cmd, PRELOAD_NAME, exe);
}

int cli_program_env(const char *cmd, struct cxlemu *c)
{
	char preload[PATH_MAX], sock[PATH_MAX];
	int rc = cli_find_preload(cmd, preload, sizeof(preload));
	if (rc)
		return rc;
	const char *s = cxlemu_socket(c);
	if (s[0] == '/' || !realpath(s, sock))
		snprintf(sock, sizeof(sock), "%s", s);
	const char *old = getenv("LD_PRELOAD");
	char *ld = NULL;
	if (old && *old ? asprintf(&ld, "%s %s", preload, old) < 0
			: asprintf(&ld, "%s", preload) < 0)
		return cli_error("%s: out of memory", cmd);
	rc = setenv("LD_PRELOAD", ld, 1) || setenv("CXLEMU_SOCKET", sock, 1) ||
	     setenv("CXLEMU_HOST", cxlemu_host(c), 1);
	free(ld);
	if (rc)
		return cli_error("%s: cannot set the environment: %s", cmd,
				 strerror(errno));
	return CLI_OK;
}
