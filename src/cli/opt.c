/*
 * opt.c - a subcommand's options written once (struct cli_opt rows), and
 * from them the getopt string, the long options, the --help list and the
 * message for a bad option, so every subcommand parses and explains its
 * command line the same way.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static const struct cli_opt help_row = {
	'h', "help", no_argument, NULL, NULL
};

static size_t count_rows(const struct cli_opt *t)
{
	size_t n = 0;

	for (; t && (t->key || t->name); t++)
		n++;
	return n;
}

static void build(struct cli_args *a)
{
	size_t n = count_rows(a->opts), s = 0, l = 0;

	if (n + 2 > CX_ARRAY_SIZE(a->longopts) ||
	    3 * n + 5 > sizeof(a->shortopts)) {
		fprintf(stderr, "cxlemu: %s: too many options for struct "
			"cli_args\n", a->cmd);
		abort(); /* a programming error, caught by every test */
	}
	if (a->stop_at_arg)
		a->shortopts[s++] = '+';
	/* the rows, then -h/--help, which every subcommand takes */
	for (size_t i = 0; i <= n; i++) {
		const struct cli_opt *o = i < n ? &a->opts[i] : &help_row;
		if (o->key > 0 && o->key < CLI_OPT_LONG) {
			a->shortopts[s++] = (char)o->key;
			if (o->has_arg == required_argument)
				a->shortopts[s++] = ':';
			else if (o->has_arg == optional_argument)
				s += (size_t)sprintf(a->shortopts + s, "::");
		}
		if (o->name)
			a->longopts[l++] = (struct option){
				o->name, o->has_arg, NULL, o->key };
	}
	a->shortopts[s] = 0;
	a->longopts[l] = (struct option){ NULL, 0, NULL, 0 };
	a->built = true;
}

/* "-s, --size=SIZE", "    --fresh", "-x" */
static int opt_label(const struct cli_opt *o, char *buf, size_t len)
{
	bool sh = o->key > 0 && o->key < CLI_OPT_LONG;
	const char *arg = o->has_arg != no_argument ?
			  (o->arg ? o->arg : "VALUE") : NULL;

	if (!o->name)
		return snprintf(buf, len, "-%c%s%s", o->key, arg ? " " : "",
				arg ? arg : "");
	return snprintf(buf, len, "%s%c%s--%s%s%s", sh ? "-" : " ",
			sh ? o->key : ' ', sh ? ", " : "  ", o->name,
			arg ? "=" : "", arg ? arg : "");
}

void cli_opt_help(FILE *f, const struct cli_opt *opts)
{
	char label[128];
	int width = 0;

	for (const struct cli_opt *o = opts; o && (o->key || o->name); o++) {
		int w = opt_label(o, label, sizeof(label));
		if (o->help && w > width && w <= 32)
			width = w;
	}
	for (const struct cli_opt *o = opts; o && (o->key || o->name); o++) {
		if (!o->help)
			continue;
		int w = opt_label(o, label, sizeof(label));
		fprintf(f, "  %s", label);
		/* a label wider than the column gets a line of its own */
		if (w > width)
			fprintf(f, "\n  %*s", width, "");
		else
			fprintf(f, "%*s", width - w, "");
		/* continuation lines of the help line up under its start */
		if (!*o->help)
			fputc('\n', f);
		for (const char *p = o->help; *p;) {
			const char *nl = strchr(p, '\n');
			size_t k = nl ? (size_t)(nl - p) : strlen(p);
			fprintf(f, "   %.*s\n", (int)k, p);
			p += k;
			if (*p == '\n' && *++p)
				fprintf(f, "  %*s", width, "");
		}
	}
}

int cli_args_help(struct cli_args *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return cli_help(a->cmd, a->more);
	cli_opt_help(f, a->opts);
	if (a->more && *a->more)
		fprintf(f, "%s%s", a->opts && (a->opts->key || a->opts->name) ?
			"\n" : "", a->more);
	fclose(f);
	int rc = cli_help(a->cmd, text);
	free(text);
	return rc;
}

static int bad_option(struct cli_args *a, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (optopt) {
		for (const struct cli_opt *o = a->opts; o && (o->key ||
							      o->name); o++)
			if (o->key == optopt && o->has_arg == required_argument)
				return cli_usage(a->cmd, "option %s needs a "
						 "value", arg);
		if (optopt < CLI_OPT_LONG && optopt != ':')
			return cli_usage(a->cmd, "unknown option -%c", optopt);
	}
	return cli_usage(a->cmd, "unknown option %s", arg);
}

int cli_getopt(struct cli_args *a, int argc, char **argv)
{
	if (!a->built)
		build(a);
	int o = getopt_long(argc, argv, a->shortopts, a->longopts, NULL);
	if (o == -1)
		return CLI_OPT_DONE;
	if (o == 'h') {
		a->rc = cli_args_help(a);
		return CLI_OPT_EXIT;
	}
	if (o == '?' || o == ':') {
		a->rc = bad_option(a, argv);
		return CLI_OPT_EXIT;
	}
	return o;
}
