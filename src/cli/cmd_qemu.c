/*
 * cmd_qemu.c - `cxlemu qemu-args`, `cxlemu host-nodes` and `cxlemu lab`: the QEMU lab
 * layer's subcommands (src/qemu/cmd.c) under the common command line, so
 * that --host, wherever it was written, reaches qemu-args.
 */
#include "cli.h"

#include "qemu/qemu.h"

int cmd_qemu_args(int argc, char **argv, struct cli *cli)
{
	return cx_cmd_qemu_args(argc, argv, cli->host);
}

int cmd_host_nodes(int argc, char **argv, struct cli *cli)
{
	(void)cli;
	return cx_cmd_host_nodes(argc, argv);
}

int cmd_lab(int argc, char **argv, struct cli *cli)
{
	return cx_cmd_lab(argc, argv, cli->host);
}
