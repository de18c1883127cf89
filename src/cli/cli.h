/*
 * cli.h - what the `cxlemu` subcommands share: the global options, the
 * command table, messages and exit statuses, and connecting to the fabric.
 *
 * Each subcommand is one file with one entry point, cmd_NAME(argc, argv,
 * cli), where argv[0] is the subcommand's name and the global options
 * (--socket, --host) have already been taken out, wherever they were.
 * Exit statuses: 0 done, 1 the fabric or the input refused, 2 usage.
 */
#ifndef CXLEMU_CLI_H
#define CXLEMU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/mbox_client.h"
#include "cxlemu/cxlemu.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

struct cli {
	const char *socket;      /* --socket, or NULL for the default */
	const char *host;        /* --host, $CXLEMU_HOST, or NULL (first) */
	char sockbuf[256];
};

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli *cli);
	const char *usage;       /* arguments, after "cxlemu NAME " */
	const char *summary;
};
extern const struct cli_cmd cli_cmds[];
const struct cli_cmd *cli_find_cmd(const char *name);

/* "cxlemu: <message>" on stderr; return CLI_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "cxlemu: <cmd>: <message>" and the command's usage; return CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* After getopt_long returned '?': say which option was wrong and how;
 * return CLI_USAGE. */
int cli_bad_option(const char *cmd, const char *optstring, char **argv);
/* The command's usage and option list on stdout (for --help). */
int cli_help(const char *cmd, const char *options);
/* For a command whose only option is -h/--help: parse argv with getopt
 * string `optstring` ("h", or "+h" to stop at the first argument).
 * Returns -1 to go on with argv[optind..]; otherwise the exit code (help
 * printed, or the bad option reported). */
int cli_help_only(const char *cmd, const char *help, const char *optstring,
		  int argc, char **argv);

/*
 * A subcommand's options, one row each (opt.c): the getopt string, the
 * long options, the --help list and the bad-option messages all come from
 * the rows, so an option is written once.  `key` is the short letter, or
 * CLI_OPT_LONG + n for an option with only a long name; `name` the long
 * name (NULL: short only); `arg` the value's name in --help ("SIZE");
 * `help` its line(s) in --help (NULL: accepted but not listed, as ndctl's
 * -v).  A table ends with CLI_OPT_END; -h/--help is always added.
 */
#include <getopt.h>  /* no_argument, required_argument */
#include <stdio.h>

#define CLI_OPT_LONG 256
struct cli_opt {
	int key;
	const char *name;
	int has_arg;
	const char *arg;
	const char *help;
};
#define CLI_OPT_END { 0, NULL, 0, NULL, NULL }
/* ndctl's -v, accepted by the memdev verbs and not listed */
#define CLI_OPT_NDCTL_VERBOSE { 'v', "verbose", no_argument, NULL, NULL }

struct cli_args {
	const char *cmd;            /* "set-partition", for messages */
	const struct cli_opt *opts; /* its rows */
	const char *more;           /* --help text after the option list */
	bool stop_at_arg;           /* options end at the first operand */
	int rc;                     /* the exit code, after CLI_OPT_EXIT */
	/* built from opts on the first cli_getopt */
	bool built;
	char shortopts[128];
	struct option longopts[40];
};
enum { CLI_OPT_DONE = -1, CLI_OPT_EXIT = -2 };
/* The next option's key (optarg holds its value); CLI_OPT_DONE when the
 * options end (operands from argv[optind]); CLI_OPT_EXIT after --help was
 * printed or a bad option reported: return a->rc. */
int cli_getopt(struct cli_args *a, int argc, char **argv);
/* Print --help from a's rows and a->more; returns CLI_OK. */
int cli_args_help(struct cli_args *a);
/* The rows' --help lines: "  -s, --size=SIZE   help", aligned. */
void cli_opt_help(FILE *f, const struct cli_opt *opts);

const char *cli_socket(struct cli *cli);
/* Connect as the selected host, through its own socket; on failure print
 * why, return CLI_FAIL. */
int cli_connect(struct cli *cli, struct cxlemu **out);
/* The same through the fabric's administrative socket (--socket), for
 * fabric-wide acts: stop, inject. */
int cli_connect_admin(struct cli *cli, struct cxlemu **out);
/* All of file descriptor fd until end of file, or until more than `max`
 * bytes are read (so a caller can tell "too big"); *out is malloc'd.
 * Returns 0 or a negative errno. */
int cli_slurp(int fd, uint64_t max, uint8_t **out, size_t *len);
/* OFFSET/LENGTH/SIZE arguments: decimal, 0x-hex, QEMU size suffixes. */
int cli_parse_size(const char *cmd, const char *what, const char *s,
		   uint64_t *out);

/* The preload library's absolute path ($CXLEMU_PRELOAD, beside this
 * command or one directory up); on failure say why, return CLI_FAIL. */
int cli_find_preload(const char *cmd, char *out, size_t len);
/* The environment a program needs to run as c's host: LD_PRELOAD (the
 * library first, an existing value kept after it), CXLEMU_SOCKET (an
 * absolute path) and CXLEMU_HOST. */
int cli_program_env(const char *cmd, struct cxlemu *c);

/* The subcommands. */
int cmd_start(int argc, char **argv, struct cli *cli);
int cmd_stop(int argc, char **argv, struct cli *cli);
int cmd_check(int argc, char **argv, struct cli *cli);
int cmd_list(int argc, char **argv, struct cli *cli);
int cmd_create_region(int argc, char **argv, struct cli *cli);
int cmd_destroy_region(int argc, char **argv, struct cli *cli);
int cmd_translate(int argc, char **argv, struct cli *cli);
int cmd_read(int argc, char **argv, struct cli *cli);
int cmd_write(int argc, char **argv, struct cli *cli);
int cmd_qemu_args(int argc, char **argv, struct cli *cli);
int cmd_host_nodes(int argc, char **argv, struct cli *cli);
int cmd_lab(int argc, char **argv, struct cli *cli);
int cmd_dax(int argc, char **argv, struct cli *cli);
int cmd_reconfigure_device(int argc, char **argv, struct cli *cli);
int cmd_run(int argc, char **argv, struct cli *cli);
int cmd_shell(int argc, char **argv, struct cli *cli);
/* device management (cmd_mbox.c, cmd_inject.c, cmd_labels.c,
 * cmd_memdev.c) */
int cmd_mbox(int argc, char **argv, struct cli *cli);
int cmd_inject(int argc, char **argv, struct cli *cli);
int cmd_fm(int argc, char **argv, struct cli *cli);
int cmd_dcd(int argc, char **argv, struct cli *cli);
int cmd_read_labels(int argc, char **argv, struct cli *cli);
int cmd_write_labels(int argc, char **argv, struct cli *cli);
int cmd_zero_labels(int argc, char **argv, struct cli *cli);
int cmd_set_partition(int argc, char **argv, struct cli *cli);
int cmd_sanitize_memdev(int argc, char **argv, struct cli *cli);
int cmd_wait_sanitize(int argc, char **argv, struct cli *cli);
int cmd_update_firmware(int argc, char **argv, struct cli *cli);
int cmd_set_alert_config(int argc, char **argv, struct cli *cli);

/* A memdev argument as the daemon names it: ndctl's bare "N" is memN. */
const char *cli_memdev_arg(const char *arg, char *buf, size_t len);
/* "MEMDEV: COMMAND failed: WHY (return code 0xN)" into err, the command
 * named by the mailbox's table; returns -EIO. */
int cli_mbox_failed(const char *memdev, uint16_t opcode, uint16_t rc,
		    struct cxlemu_err *err);
/*
 * The ndctl-style memdev verbs' loop (memdevs.c): connect, then for each
 * memdev argument (ndctl's bare "N" is memN) call m->fn, which may add
 * JSON to `out`; a failure (fn < 0, err says why) is reported as
 * "cxlemu: CMD: why" and counted.  The JSON collected is printed after
 * the last memdev.  Returns CLI_OK when one memdev worked or none failed,
 * CLI_FAIL otherwise or when the connection failed (m->count, m->failed
 * for the verb's closing line).
 */
struct json_object;
struct cli_memdevs {
	const char *cmd;
	int (*fn)(struct cxlemu *c, const char *memdev, void *ctx,
		  struct json_object *out, struct cxlemu_err *err);
	void *ctx;
	/* after the JSON, when the connection was made: the closing line */
	void (*done)(struct cli_memdevs *m);
	int count, failed;
};
int cli_each_memdev(struct cli *cli, struct cli_memdevs *m, int argc,
		    char **argv);
/* Append memdev's `cxl list` JSON to arr, with the sections `letters`
 * names (cxl list's I, F, A, H). */
int cli_memdev_json(struct cxlemu *c, const char *memdev,
		    const char *letters, struct json_object *arr,
		    struct cxlemu_err *err);
/* Identify Memory Device's capacities and label storage size; a failure
 * is said in err (cli_mbox_failed). */
struct cx_identify;
int cli_identify(struct cxlemu *c, const char *memdev, struct cx_identify *id,
		 struct cxlemu_err *err);
/* The label storage size Identify Memory Device reports. */
int cli_label_size(struct cxlemu *c, const char *memdev, uint64_t *size,
		   struct cxlemu_err *err);

#endif
