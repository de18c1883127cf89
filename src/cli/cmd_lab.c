/*
 * cmd_lab.c - `cxlemu lab VERB ...`: the verbs' options and answers over
 * src/qemu/lab.c, which boots the guests, runs commands in them and
 * compares their listings (and prints its progress on stderr).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/qemu.h"

static const char lab_more[] =
	"  lab up TOPOLOGY [--accel kvm|tcg] [BOOT]\n"
	"  lab exec HOST COMMAND...\n"
	"  lab console HOST\n"
	"  lab qmp HOST JSON\n"
	"  lab status\n"
	"  lab down\n"
	"  lab demo shared|mixed|interleave [BOOT]\n"
	"  lab compare TOPOLOGY [--keep] [--save DIR] [BOOT]\n"
	"BOOT: --qemu BINARY (default $CXLEMU_QEMU, else qemu-system-x86_64),\n"
	"      --kernel VERSION|PATH (default the newest /boot/vmlinuz-*)\n"
	"\nBoot a topology's hosts as QEMU guests (Debian kernel, busybox "
	"initramfs\nwith cxl/ndctl/daxctl), run commands in them, stop them.  "
	"State: $CXLEMU_LAB_DIR\n(default /tmp/cxlemu-lab-UID).  HOST may "
	"also be given as --host.\n";

enum { O_ACCEL = CLI_OPT_LONG, O_QEMU, O_KERNEL, O_KEEP, O_SAVE };
#define LAB_BOOT_OPTS \
	{ O_ACCEL, "accel", required_argument, "kvm|tcg", \
	  "the accelerator (default: KVM where it boots a guest)" }, \
	{ O_QEMU, "qemu", required_argument, "BINARY", \
	  "QEMU to run (default $CXLEMU_QEMU, else qemu-system-x86_64)" }, \
	{ O_KERNEL, "kernel", required_argument, "VERSION|PATH", \
	  "the guests' kernel (default the newest /boot/vmlinuz-*)" }

static const struct cli_opt boot_opts[] = {
	LAB_BOOT_OPTS,
	CLI_OPT_END,
};
static const struct cli_opt compare_opts[] = {
	LAB_BOOT_OPTS,
	{ O_KEEP, "keep", no_argument, NULL, "leave the lab up afterwards" },
	{ O_SAVE, "save", required_argument, "DIR",
	  "keep both listings of each host in DIR" },
	CLI_OPT_END,
};

struct lab_args {
	const char *pos;     /* the one positional argument */
	const char *accel;
	const char *save;    /* compare --save DIR */
	bool keep;
};

/* up, demo and compare: their options (--qemu and --kernel go into the
 * environment the probe and scripts/lab/guest.sh read) and one operand,
 * `what` naming it in the message when it is missing.  -1 to go on, or
 * the exit code. */
static int lab_args(const char *sub, const struct cli_opt *opts,
		    const char *what, int argc, char **argv,
		    struct lab_args *a)
{
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "lab %s", sub);
	struct cli_args args = { .cmd = cmd, .opts = opts, .more = lab_more };
	int o;

	memset(a, 0, sizeof(*a));
	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
		switch (o) {
		case O_ACCEL:
			if (strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
				return cli_usage(cmd, "--accel is kvm or tcg, "
						 "not '%s'", optarg);
			a->accel = optarg;
			break;
		case O_QEMU: setenv("CXLEMU_QEMU", optarg, 1); break;
		case O_KERNEL: setenv("CXLEMU_LAB_KERNEL", optarg, 1); break;
		case O_KEEP: a->keep = true; break;
		case O_SAVE: a->save = optarg; break;
		}
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (argc - optind != 1)
		return cli_usage(cmd, "%s", argc - optind ? "one operand only" :
				 what);
	a->pos = argv[optind];
	return -1;
}

static int lab_exec_cmd(int argc, char **argv, const char *host,
			const char *dir, cx_err *e)
{
	int first = 2, rc;

	if (!host) {
		if (argc < 4)
			return cli_usage("lab exec", "HOST and COMMAND are "
					 "needed");
		host = argv[2];
		first = 3;
	} else if (argc < 3) {
		return cli_usage("lab exec", "a COMMAND is needed");
	}
	size_t len = 1;
	for (int i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *cmd = cx_xcalloc(1, len);
	for (int i = first; i < argc; i++) {
		if (i > first)
			strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	char *out = NULL;
	int st = 1;
	const char *tmo = getenv("CXLEMU_LAB_TIMEOUT");
	rc = cx_lab_exec(dir, host, cmd, (tmo ? atoi(tmo) : 300) * 1000, &out,
			 &st, e);
	free(cmd);
	if (!rc)
		fputs(out, stdout);
	free(out);
	/* the guest's exit status, as ssh gives it */
	return rc ? cli_error("lab: %s", e->msg) : st;
}

static int lab_status(const char *dir)
{
	char *hp = cx_lab_path(dir, "hosts", NULL);
	char *ap = cx_lab_path(dir, "accel", NULL);
	char *accel = cx_lab_slurp(ap);
	cx_vec hosts = {0};

	cx_lab_read_lines(hp, &hosts);
	if (!hosts.n) {
		printf("no lab is up (%s)\n", dir);
	} else {
		char *v = cx_lab_versions(dir);
		printf("%s, %s\n", v, accel ? accel : "?");
		free(v);
	}
	for (int i = 0; i < hosts.n; i++) {
		pid_t pid = cx_lab_host_pid(dir, hosts.v[i]);
		printf("%s: %s", (char *)hosts.v[i], pid ? "running" : "stopped");
		if (pid)
			printf(" (pid %d, %s)", (int)pid, accel ? accel : "?");
		putchar('\n');
	}
	cx_lab_free_lines(&hosts);
	free(hp);
	free(ap);
	free(accel);
	return CLI_OK;
}

int cmd_lab(int argc, char **argv, struct cli *cli)
{
	const char *dir = cx_lab_dir(), *host = cli->host;
	struct lab_args la;
	cx_err e = {{0}};
	int rc;

	if (argc < 2)
		return cli_usage("lab", "needs a verb: up, exec, console, qmp, "
				 "status, down, demo or compare");
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
		return cli_help("lab", lab_more);
	if (!strcmp(sub, "up")) {
		if ((rc = lab_args(sub, boot_opts, "a TOPOLOGY is needed",
				   argc - 1, argv + 1, &la)) >= 0)
			return rc;
		rc = cx_lab_up(la.pos, la.accel, &e);
	} else if (!strcmp(sub, "exec")) {
		return lab_exec_cmd(argc, argv, host, dir, &e);
	} else if (!strcmp(sub, "console")) {
		const char *h = host ? host : argc > 2 ? argv[2] : NULL;
		if (!h)
			return cli_usage("lab console", "a HOST is needed");
		char *cp = cx_lab_path(dir, h, "console.log");
		char *log = cx_lab_slurp(cp);
		if (!log) {
			cli_error("lab console: no console log for host %s "
				  "(%s)", h, cp);
			free(cp);
			return CLI_FAIL;
		}
		fputs(log, stdout);
		free(log);
		free(cp);
		return CLI_OK;
	} else if (!strcmp(sub, "status")) {
		return lab_status(dir);
	} else if (!strcmp(sub, "down")) {
		return cx_lab_down(dir, false);
	} else if (!strcmp(sub, "compare")) {
		if ((rc = lab_args(sub, compare_opts, "a TOPOLOGY is needed",
				   argc - 1, argv + 1, &la)) >= 0)
			return rc;
		int total = 0;
		char *v = NULL;
		rc = cx_lab_compare(la.pos, la.keep, la.save, &total, &v, &e);
		if (!rc)
			printf("cxlemu: lab compare: %d unexplained difference%s "
			       "in all (%s)\n", total, total == 1 ? "" : "s", v);
		free(v);
		if (!rc)
			return total ? CLI_FAIL : CLI_OK;
	} else if (!strcmp(sub, "demo")) {
		if ((rc = lab_args(sub, boot_opts, "shared, mixed or "
				   "interleave", argc - 1, argv + 1, &la)) >= 0)
			return rc;
		rc = cx_lab_demo(la.pos, &e);
	} else if (!strcmp(sub, "qmp")) {
		const char *h = host ? host : argc > 2 ? argv[2] : NULL;
		const char *cmd = argc > (host ? 2 : 3) ? argv[host ? 2 : 3] :
			NULL;
		struct json_object *c = cmd ? json_tokener_parse(cmd) : NULL;
		struct json_object *ret;
		if (!h || !c) {
			json_object_put(c);
			return cli_usage("lab qmp", "HOST and a JSON command "
					 "({\"execute\": ...}) are needed");
		}
		char *qs = cx_lab_path(dir, h, "qmp.sock");
		rc = cx_qmp_call(qs, c, 60000, &ret, &e);
		free(qs);
		json_object_put(c);
		if (!rc) {
			puts(json_object_to_json_string_ext(
				ret, JSON_C_TO_STRING_PRETTY |
				JSON_C_TO_STRING_SPACED));
			json_object_put(ret);
		}
	} else {
		return cli_usage("lab", "no verb '%s'", sub);
	}
	if (rc)
		return cli_error("lab: %s", e.msg);
	return CLI_OK;
}
