/*
 * cmd_qemu.c - `cxlemu qemu-args` and `cxlemu host-nodes` (and
 * cmd_lab.c `cxlemu lab`): the QEMU lab layer's subcommands under the
 * common command line.  The
 * options, --help and the printing are here; src/qemu/ builds the line,
 * probes QEMU and scans sysfs, and prints nothing of these two.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "qemu/qemu.h"

static const char qemu_args_more[] =
	"Print a QEMU command line for one host of TOPOLOGY that the installed\n"
	"QEMU accepts: CXL options are checked against what the binary has and\n"
	"translated (persistent-memdev= becomes memdev= before QEMU 8.1), or\n"
	"refused naming the QEMU release they need.  What was changed is said\n"
	"on stderr.  --host NAME picks the host (needed when the topology has\n"
	"several).\n";

static void print_notes(const struct cx_qemu_line *l)
{
	for (int i = 0; i < l->notes.n; i++)
		fprintf(stderr, "cxlemu: note: %s\n", (char *)l->notes.v[i]);
}

int cmd_qemu_args(int argc, char **argv, struct cli *cli)
{
	enum { O_QEMU = CLI_OPT_LONG, O_CXL_ONLY, O_BIND, O_SYSFS, O_CHECK,
	       O_ARGV };
	static const struct cli_opt opts[] = {
		{ O_QEMU, "qemu", required_argument, "BINARY",
		  "QEMU to probe (default $CXLEMU_QEMU or qemu-system-x86_64)" },
		{ O_CXL_ONLY, "cxl-only", no_argument, NULL,
		  "keep only -machine, -m, -smp, -numa, memory backends and\n"
		  "CXL devices (drop disks, network...)" },
		{ O_BIND, "bind-cxl-ram", no_argument, NULL,
		  "bind volatile CXL backends to this machine's CXL RAM NUMA\n"
		  "nodes (host-nodes=N,policy=bind) and describe them to the\n"
		  "guest with -numa node / -numa hmat-lb" },
		{ O_SYSFS, "sysfs", required_argument, "ROOT",
		  "read ROOT instead of /sys (for --bind-cxl-ram)" },
		{ O_CHECK, "check", no_argument, NULL,
		  "also start the QEMU paused, without a display, and quit it:\n"
		  "exit 0 only if QEMU accepted the line" },
		{ O_ARGV, "argv", no_argument, NULL,
		  "one word per line instead of one shell line" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "qemu-args", .opts = opts,
				 .more = qemu_args_more };
	struct cx_qemu_opts o = {0};
	struct cx_qemu_caps caps;
	struct cx_fabric *f = NULL;
	struct cx_qemu_line l;
	const char *qemu = cx_qemu_default_binary(), *host = cli->host;
	bool check = false, words = false;
	cx_err e = {{0}};
	int c, rc;

	while ((c = cli_getopt(&args, argc, argv)) >= 0) {
		switch (c) {
		case O_QEMU: qemu = optarg; break;
		case O_CXL_ONLY: o.cxl_only = true; break;
		case O_BIND: o.bind_cxl_ram = true; break;
		case O_SYSFS: o.sysfs_root = optarg; break;
		case O_CHECK: check = true; break;
		case O_ARGV: words = true; break;
		}
	}
	if (c == CLI_OPT_EXIT)
		return args.rc;
	if (optind != argc - 1)
		return cli_usage("qemu-args", "%s", optind >= argc ?
				 "a TOPOLOGY file is needed" :
				 "one TOPOLOGY file only");
	if ((rc = cx_config_load_file(argv[optind], &f, &e)))
		return cli_error("%s", e.msg);
	if ((rc = cx_qemu_probe(qemu, &caps, &e))) {
		cx_fabric_free(f);
		return cli_error("%s", e.msg);
	}
	rc = cx_qemu_line_build(f, host, &caps, &o, &l, &e);
	if (rc) {
		cli_error("%s", e.msg);
		goto out;
	}
	print_notes(&l);
	if (words) {
		for (int i = 0; i < l.argv.n; i++)
			printf("%s\n", (char *)l.argv.v[i]);
	} else {
		char *j = cx_qemu_line_join(&l);
		printf("%s\n", j);
		free(j);
	}
	fflush(stdout);
	cx_qemu_line_free(&l);
	if (check) {
		o.for_check = true;
		if ((rc = cx_qemu_line_build(f, host, &caps, &o, &l, &e))) {
			cli_error("%s", e.msg);
			goto out;
		}
		rc = cx_qemu_check(&l, 60000, &e);
		cx_qemu_line_free(&l);
		if (rc) {
			cli_error("qemu-args --check: %s", e.msg);
			goto out;
		}
		fprintf(stderr, "cxlemu: QEMU %s (%s) accepted the command "
			"line\n", caps.version, caps.binary);
	}
out:
	cx_qemu_caps_free(&caps);
	cx_fabric_free(f);
	return rc ? CLI_FAIL : CLI_OK;
}

int cmd_host_nodes(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ CLI_OPT_LONG, "sysfs", required_argument, "ROOT",
		  "read ROOT instead of /sys" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "host-nodes", .opts = opts,
		.more = "List this machine's CXL RAM NUMA nodes as JSON: the "
			"CXL ram regions in\nsysfs, their DAX devices, the node "
			"each one's memory goes to, whether\nkmem has it online "
			"as System RAM, and each node's HMAT latency (ns)\nand "
			"bandwidth (MB/s) for access0 (any initiator) and "
			"access1 (CPUs).\n" };
	const char *root = "/sys";
	struct cx_host_cxl *hc = NULL;
	cx_err e = {{0}};
	int c;

	(void)cli;
	while ((c = cli_getopt(&args, argc, argv)) >= 0)
		root = optarg; /* --sysfs */
	if (c == CLI_OPT_EXIT)
		return args.rc;
	if (optind != argc)
		return cli_usage("host-nodes", "unexpected argument '%s'",
				 argv[optind]);
	if (cx_host_cxl_scan(root, &hc, &e))
		return cli_error("host-nodes: %s", e.msg);
	struct json_object *j = cx_host_cxl_json(hc);
	printf("%s\n", json_object_to_json_string_ext(
		       j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	cx_host_cxl_free(hc);
	return CLI_OK;
}
