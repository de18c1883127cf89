/*
 * cmd_dcd.c - `cxlemu dcd MEMDEV ACTION`: a host's dynamic capacity as its
 * driver handles it (the "dcd" request of server/ops_dcd.c).
 *
 *   accept   answer every complete Add Capacity chain in the device's DC
 *            event log by accepting it whole (Linux's driver accepts what
 *            it is offered), give back what the FM asked to release
 *   reject   the same, rejecting the offers (an empty response)
 *   read DPA LENGTH        the bytes of accepted capacity, to stdout
 *   write DPA [--data S]   store S (or stdin) into accepted capacity
 *
 * accept and reject print {memdev, added, rejected, released, forced,
 * extents, generation}.  Capacity the host does not hold is refused.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listing/json.h"

static const char dcd_help[] =
	"  MEMDEV accept            accept every complete offer, release "
	"what the FM asks\n"
	"  MEMDEV reject            reject every complete offer\n"
	"  MEMDEV read DPA LENGTH   accepted capacity's bytes to stdout\n"
	"  MEMDEV write DPA [-D S]  store S (default: stdin) into accepted "
	"capacity\n";

int cmd_dcd(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL;
	uint64_t off = 0, len = 0;
	uint8_t *buf = NULL;
	size_t blen = 0;
	char mbuf[32];
	int o, rc;

	while ((o = getopt_long(argc, argv, "+D:h", opts, NULL)) != -1) {
		if (o == 'D')
			data = optarg;
		else if (o == 'h')
			return cli_help("dcd", dcd_help);
		else
			return cli_bad_option("dcd", "+D:h", argv);
	}
	/* options may follow the action too */
	int nargs = 0;
	char *args[4] = { 0 };
	while (optind < argc) {
		if (argv[optind][0] == '-') {
			if ((o = getopt_long(argc, argv, "+D:h", opts,
					     NULL)) == 'D')
				data = optarg;
			else
				return cli_bad_option("dcd", "+D:h", argv);
			continue;
		}
		if (nargs == 4)
			return cli_usage("dcd", "too many arguments (%s)",
					 argv[optind]);
		args[nargs++] = argv[optind++];
	}
	if (nargs < 2)
		return cli_usage("dcd", "needs MEMDEV and an action");
	const char *memdev = cli_memdev_arg(args[0], mbuf, sizeof(mbuf));
	const char *action = args[1];
	bool rd = !strcmp(action, "read"), wr = !strcmp(action, "write");
	if (!rd && !wr && strcmp(action, "accept") && strcmp(action, "reject"))
		return cli_usage("dcd", "unknown action '%s'", action);
	if (nargs != (rd ? 4 : wr ? 3 : 2))
		return cli_usage("dcd", "%s takes %s", action,
				 rd ? "DPA LENGTH" : wr ? "DPA" :
				 "no argument");
	if ((rd || wr) &&
	    (rc = cli_parse_size("dcd", "DPA", args[2], &off)))
		return rc;
	if (rd && (rc = cli_parse_size("dcd", "length", args[3], &len)))
		return rc;
	if (wr && !data && (rc = cli_slurp(0, 64u << 20, &buf, &blen)) < 0)
		return cli_error("dcd: cannot read stdin: %s", strerror(-rc));

	struct cxlemu *c;
	struct cxlemu_err err;
	struct cxlemu_reply rep;
	if ((rc = cli_connect(cli, &c))) {
		free(buf);
		return rc;
	}
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "memdev", json_object_new_string(memdev));
	json_object_object_add(a, "action", json_object_new_string(action));
	if (rd || wr)
		json_object_object_add(a, "offset",
				       json_object_new_uint64(off));
	if (rd)
		json_object_object_add(a, "length",
				       json_object_new_uint64(len));
	const void *d = wr ? (data ? (const void *)data : buf) : NULL;
	size_t dlen = wr ? (data ? strlen(data) : blen) : 0;
	rc = cxlemu_call(c, "dcd", a, d, dlen, &rep, &err);
	cxlemu_close(c);
	free(buf);
	if (rc < 0)
		return cli_error("dcd: %s", err.msg);
	if (rd) {
		if (fwrite(rep.data, 1, rep.data_len, stdout) != rep.data_len)
			rc = cli_error("dcd: cannot write to stdout");
	} else if (!wr) {
		cx_json_print_obj(stdout, rep.result);
	}
	cxlemu_reply_release(&rep);
	return rc ? CLI_FAIL : CLI_OK;
}
