/*
 * main.c - the `cxlemu` command: take the global options out of argv
 * (they may come before or after the subcommand), then hand the rest to
 * the subcommand's file.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_cmd cli_cmds[] = {
	{ "start", cmd_start, "[TOPOLOGY] [--foreground] [--log FILE] [--access WHO:SPEC]... [--state FILE] [--fresh]",
	  "Serve a topology's fabric (default: the two-host lab)." },
	{ "stop", cmd_stop, "",
	  "Ask the daemon to exit; it removes its socket." },
	{ "check", cmd_check, "FILE",
	  "Validate a topology file without starting anything." },
	{ "list", cmd_list, "[-MBPEDRTXuiHIFALNSv] [-m MEMDEV] [-s SERIAL] "
	  "[-b BUS] [-p PORT] [-e ENDPOINT] [-d DECODER] [-r REGION]",
	  "The host's view of the fabric, as `cxl list` shows it." },
	{ "create-region", cmd_create_region,
	  "-d ROOT [-w WAYS] [-g GRAN] [-t pmem|ram] [-s SIZE] [-u] "
	  "[-m] MEMDEV...",
	  "Create a region, memdevs in position order." },
	{ "destroy-region", cmd_destroy_region, "REGION... | all [-f]",
	  "Reset and delete regions (cxl destroy-region)." },
	{ "translate", cmd_translate, "REGION OFFSET [-u]",
	  "Where a region offset lives: HPA, memdev, decoder, DPA." },
	{ "read", cmd_read, "REGION OFFSET LENGTH [--hex]",
	  "Copy region memory to stdout (--hex for a dump)." },
	{ "write", cmd_write, "REGION OFFSET [--data STRING]",
	  "Store --data STRING (or stdin) into region memory." },
	{ "qemu-args", cmd_qemu_args, "TOPOLOGY [--qemu BINARY] [--cxl-only] "
	  "[--bind-cxl-ram [--sysfs ROOT]] [--check] [--argv]",
	  "A QEMU command line for one host, for the installed QEMU." },
	{ "host-nodes", cmd_host_nodes, "[--sysfs ROOT]",
	  "This machine's CXL RAM NUMA nodes, found through sysfs." },
	{ "lab", cmd_lab, "up TOPOLOGY | exec HOST CMD | console HOST | "
	  "qmp HOST JSON | status | down | demo shared|mixed|interleave | "
	  "compare TOPOLOGY",
	  "Boot the topology as QEMU guests with the real kernel stack." },
	{ "dax", cmd_dax, "list [-u] [-d DEVICE]",
	  "DAX devices of committed regions, as daxctl lists them." },
	{ "reconfigure-device", cmd_reconfigure_device,
	  "DEVICE [-m devdax|system-ram] [--coherency noncoherent|coherent] [-u]",
	  "Switch a DAX device between device-DAX and system-ram, or how "
	  "this host maps it." },
	{ "run", cmd_run, "[--host NAME] [--] PROGRAM [ARGS...]",
	  "Run an unmodified program as a host (the preload library)." },
	{ "shell", cmd_shell, "[--host NAME] [--] [CMD [ARGS...]]",
	  "A shell where /sys and /dev show the host (ndctl works in it)." },
	{ "mbox", cmd_mbox, "MEMDEV OPCODE [HEX-PAYLOAD]",
	  "Send one raw command to a memdev's mailbox." },
	{ "fm", cmd_fm, "list | VERB ENDPOINT [OPTIONS] (fm --help)",
	  "Drive the FM-API endpoint: capacity to hosts, as JSON." },
	{ "dcd", cmd_dcd, "MEMDEV accept|reject | read DPA LENGTH | write DPA "
	  "[--data S]",
	  "A host's dynamic capacity: answer offers, use extents." },
	{ "inject", cmd_inject, "MEMDEV KIND [KEY=VALUE...]",
	  "Inject poison, events or health changes (QMP's keys)." },
	{ "read-labels", cmd_read_labels, "MEMDEV... [-o FILE] [-s SIZE] "
	  "[-O OFFSET]",
	  "Copy label storage area bytes out (cxl read-labels)." },
	{ "write-labels", cmd_write_labels, "MEMDEV [-i FILE] [-s SIZE] "
	  "[-O OFFSET]",
	  "Store bytes into the label storage area." },
	{ "zero-labels", cmd_zero_labels, "MEMDEV... [-s SIZE] [-O OFFSET]",
	  "Zero the label storage area." },
	{ "set-partition", cmd_set_partition, "MEMDEV... -t pmem|ram "
	  "[-s SIZE] [-a]",
	  "Repartition a memdev, applied at the next restart." },
	{ "sanitize-memdev", cmd_sanitize_memdev, "MEMDEV... [-e]",
	  "Sanitize (or -e secure erase) an idle memdev." },
	{ "wait-sanitize", cmd_wait_sanitize, "MEMDEV... [-t TIMEOUT_MS]",
	  "Wait for a sanitize to finish." },
	{ "update-firmware", cmd_update_firmware, "MEMDEV... [-F FILE] [-w] "
	  "[-c]",
	  "Transfer a firmware image to the next slot." },
	{ "set-alert-config", cmd_set_alert_config, "MEMDEV [-L|-O|-U|-V|-P "
	  "N] [--*-alert on|off]",
	  "Program health warning thresholds." },
	{ "help", NULL, "[COMMAND]", "The commands, or one command's usage." },
	{ "version", NULL, "", "Print the version." },
	{ NULL, NULL, NULL, NULL },
};

const struct cli_cmd *cli_find_cmd(const char *name)
{
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void overview(FILE *f)
{
	fprintf(f, "usage: cxlemu [--socket PATH] [--host NAME] COMMAND "
		   "[ARGS]\n\n"
		   "cxlemu emulates a CXL memory fabric: hosts, host bridges, "
		   "switches,\nType 3 memory devices, HDM decoders and "
		   "regions, served by a daemon.\n\nCommands:\n");
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		fprintf(f, "  %-18s %s\n", c->name, c->summary);
	fprintf(f, "\nOFFSET, LENGTH and SIZE take decimal, 0x-hex and QEMU "
		   "suffixes (4K, 1M, 2G).\n"
		   "See 'cxlemu help COMMAND' or 'cxlemu COMMAND --help'.\n");
}

/* Take --socket/--host (either spelling) out of argv, up to "--". */
static int take_globals(int *argc, char **argv, struct cli *cli)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		const char *val = NULL;
		const char *name = NULL;

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--socket") || !strncmp(a, "--socket=", 9)) {
			slot = &cli->socket;
			name = "--socket";
		} else if (!strcmp(a, "--host") || !strncmp(a, "--host=", 7)) {
			slot = &cli->host;
			name = "--host";
		}
		if (!slot) {
			argv[out++] = argv[i];
			continue;
		}
		const char *eq = strchr(a, '=');
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < *argc) {
			val = argv[++i];
		}
		if (!val || !*val) {
			fprintf(stderr, "cxlemu: %s needs a value\n", name);
			return CLI_USAGE;
		}
		*slot = val;
	}
	argv[out] = NULL;
	*argc = out;
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct cli cli;
	const struct cli_cmd *c;
	int rc;

	memset(&cli, 0, sizeof(cli));
	opterr = 0; /* subcommands report bad options themselves */
	if ((rc = take_globals(&argc, argv, &cli)))
		return rc;
	if (!cli.host) {
		const char *env = getenv("CXLEMU_HOST");
		if (env && *env)
			cli.host = env;
	}
	if (argc < 2) {
		overview(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
	    !strcmp(name, "help")) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			c = cli_find_cmd(argv[2]);
			if (!c) {
				fprintf(stderr, "cxlemu: '%s' is not a cxlemu "
					"command. See 'cxlemu --help'.\n",
					argv[2]);
				return CLI_USAGE;
			}
			return cli_help(c->name, NULL);
		}
		overview(stdout);
		return CLI_OK;
	}
	if (!strcmp(name, "version") || !strcmp(name, "--version")) {
		printf("%s\n", CXLEMU_VERSION);
		return CLI_OK;
	}
	c = cli_find_cmd(name);
	if (!c || !c->fn) {
		fprintf(stderr, "cxlemu: '%s' is not a cxlemu command. See "
			"'cxlemu --help'.\n", name);
		return CLI_USAGE;
	}
	return c->fn(argc - 1, argv + 1, &cli);
}
