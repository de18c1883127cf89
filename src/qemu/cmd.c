/*
 * cmd.c - the `cxlemu qemu-args` and `cxlemu host-nodes` subcommands.
 *
 * These two are the only functions under src/qemu that print: they parse
 * their options, call the library, print the answer on stdout and what
 * was changed (notes) or went wrong on stderr, and return the exit status
 * (0 done, 1 refused or failed, 2 usage), like the other subcommands.
 * argv[0] is the subcommand's name.
 */
#include "qemu.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define QA_USAGE \
	"usage: cxlemu qemu-args TOPOLOGY [--host NAME] [--qemu BINARY]\n" \
	"                        [--cxl-only] [--bind-cxl-ram [--sysfs ROOT]]\n" \
	"                        [--check] [--argv]\n"

#define QA_HELP \
	QA_USAGE "\n" \
	"Print a QEMU command line for one host of TOPOLOGY that the installed\n" \
	"QEMU accepts: CXL options are checked against what the binary has and\n" \
	"translated (persistent-memdev= becomes memdev= before QEMU 8.1), or\n" \
	"refused naming the QEMU release they need.  What was changed is said\n" \
	"on stderr.\n\n" \
	"  --host NAME      the host (needed when the topology has several)\n" \
	"  --qemu BINARY    QEMU to probe (default $CXLEMU_QEMU or\n" \
	"                   qemu-system-x86_64)\n" \
	"  --cxl-only       keep only -machine, -m, -smp, -numa, memory\n" \
	"                   backends and CXL devices (drop disks, network...)\n" \
	"  --bind-cxl-ram   bind volatile CXL backends to this machine's CXL RAM\n" \
	"                   NUMA nodes (host-nodes=N,policy=bind) and describe\n" \
	"                   them to the guest with -numa node / -numa hmat-lb\n" \
	"  --sysfs ROOT     read ROOT instead of /sys (for --bind-cxl-ram)\n" \
	"  --check          also start the QEMU paused, without a display, and\n" \
	"                   quit it: exit 0 only if QEMU accepted the line\n" \
	"  --argv           one word per line instead of one shell line\n"

#define HN_USAGE "usage: cxlemu host-nodes [--sysfs ROOT]\n"
#define HN_HELP \
	HN_USAGE "\n" \
	"List this machine's CXL RAM NUMA nodes as JSON: the CXL ram regions in\n" \
	"sysfs, their DAX devices, the node each one's memory goes to, whether\n" \
	"kmem has it online as System RAM, and each node's HMAT latency (ns)\n" \
	"and bandwidth (MB/s) for access0 (any initiator) and access1 (CPUs).\n"

static void print_notes(const struct cx_qemu_line *l)
{
	for (int i = 0; i < l->notes.n; i++)
		fprintf(stderr, "cxlemu: note: %s\n", (char *)l->notes.v[i]);
}

int cx_cmd_qemu_args(int argc, char **argv, const char *host)
{
	static const struct option lo[] = {
		{"host", required_argument, NULL, 'H'},
		{"qemu", required_argument, NULL, 'q'},
		{"cxl-only", no_argument, NULL, 'c'},
		{"bind-cxl-ram", no_argument, NULL, 'b'},
		{"sysfs", required_argument, NULL, 's'},
		{"check", no_argument, NULL, 'k'},
		{"argv", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cx_qemu_opts o = {0};
	struct cx_qemu_caps caps;
	struct cx_fabric *f = NULL;
	struct cx_qemu_line l;
	const char *qemu = cx_qemu_default_binary();
	bool check = false, words = false;
	cx_err e = {{0}};
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'q': qemu = optarg; break;
		case 'c': o.cxl_only = true; break;
		case 'b': o.bind_cxl_ram = true; break;
		case 's': o.sysfs_root = optarg; break;
		case 'k': check = true; break;
		case 'a': words = true; break;
		case 'h': fputs(QA_HELP, stdout); return 0;
		default:
			fprintf(stderr, "cxlemu: qemu-args: unknown or incomplete "
				"option '%s'\n" QA_USAGE, argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "cxlemu: qemu-args: %s\n" QA_USAGE,
			optind >= argc ? "a TOPOLOGY file is needed"
				       : "one TOPOLOGY file only");
		return 2;
	}
	if ((rc = cx_config_load_file(argv[optind], &f, &e))) {
		fprintf(stderr, "cxlemu: %s\n", e.msg);
		return 1;
	}
	if ((rc = cx_qemu_probe(qemu, &caps, &e))) {
		fprintf(stderr, "cxlemu: %s\n", e.msg);
		cx_fabric_free(f);
		return 1;
	}
	rc = cx_qemu_line_build(f, host, &caps, &o, &l, &e);
	if (rc) {
		fprintf(stderr, "cxlemu: %s\n", e.msg);
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
			fprintf(stderr, "cxlemu: %s\n", e.msg);
			goto out;
		}
		rc = cx_qemu_check(&l, 60000, &e);
		cx_qemu_line_free(&l);
		if (rc) {
			fprintf(stderr, "cxlemu: qemu-args --check: %s\n", e.msg);
			goto out;
		}
		fprintf(stderr, "cxlemu: QEMU %s (%s) accepted the command "
			"line\n", caps.version, caps.binary);
	}
out:
	cx_qemu_caps_free(&caps);
	cx_fabric_free(f);
	return rc ? 1 : 0;
}

int cx_cmd_host_nodes(int argc, char **argv)
{
	static const struct option lo[] = {
		{"sysfs", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *root = "/sys";
	struct json_object *j = NULL;
	struct cx_host_cxl *hc = NULL;
	cx_err e = {{0}};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': root = optarg; break;
		case 'h': fputs(HN_HELP, stdout); return 0;
		default:
			fprintf(stderr, "cxlemu: host-nodes: unknown or "
				"incomplete option '%s'\n" HN_USAGE,
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cxlemu: host-nodes: unexpected argument "
			"'%s'\n" HN_USAGE, argv[optind]);
		return 2;
	}
	if (cx_host_cxl_scan(root, &hc, &e)) {
		fprintf(stderr, "cxlemu: host-nodes: %s\n", e.msg);
		return 1;
	}
	j = cx_host_cxl_json(hc);
	printf("%s\n", json_object_to_json_string_ext(
		       j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	cx_host_cxl_free(hc);
	return 0;
}
