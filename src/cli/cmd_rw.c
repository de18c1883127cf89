/*
 * cmd_rw.c - `cxlemu read` and `cxlemu write`: region memory by offset,
 * exact, through the fabric's routing.  read writes raw bytes to stdout
 * (or a hexdump with --hex); write takes --data STRING or all of stdin.
 * A range running past the region is refused before any byte moves.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"

/* hexdump -C style, offsets counted from the region's start */
static void hexdump(FILE *f, uint64_t base, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;
		fprintf(f, "%08" PRIx64 " ", base + i);
		for (size_t j = 0; j < 16; j++) {
			if (j == 8)
				fputc(' ', f);
			if (j < k)
				fprintf(f, " %02x", p[i + j]);
			else
				fputs("   ", f);
		}
		fputs("  |", f);
		for (size_t j = 0; j < k; j++)
			fputc(isprint(p[i + j]) ? p[i + j] : '.', f);
		fputs("|\n", f);
	}
}

int cmd_read(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'x', "hex", no_argument, NULL,
		  "a hexdump instead of raw bytes" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "read", .opts = opts };
	struct cxlemu *c;
	struct cxlemu_err err;
	bool hex = false;
	uint64_t off, len;
	int o, rc;

	while ((o = cli_getopt(&args, argc, argv)) >= 0)
		hex = true; /* -x */
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (argc - optind != 3)
		return cli_usage("read", "needs REGION, OFFSET and LENGTH");
	const char *region = argv[optind];
	if ((rc = cli_parse_size("read", "offset", argv[optind + 1], &off)) ||
	    (rc = cli_parse_size("read", "length", argv[optind + 2], &len)))
		return rc;
	if ((rc = cli_connect(cli, &c)))
		return rc;
	/* refuse a range past the end before printing anything */
	if (len > CX_PROTO_IO_CHUNK) {
		if (off + len < off)
			rc = -ERANGE;
		else
			rc = cxlemu_translate(c, region, off + len - 1, false,
					      NULL, &err);
		if (rc == -ERANGE)
			snprintf(err.msg, sizeof(err.msg), "%s: %" PRIu64
				 " bytes at offset %#" PRIx64 " run past the "
				 "end of the region", region, len, off);
		if (rc < 0) {
			cxlemu_close(c);
			return cli_error("read: %s", err.msg);
		}
	}
	size_t chunk = len < CX_PROTO_IO_CHUNK ? (size_t)len : CX_PROTO_IO_CHUNK;
	uint8_t *buf = malloc(chunk ? chunk : 1);
	if (!buf) {
		cxlemu_close(c);
		return cli_error("read: no memory for %zu bytes", chunk);
	}
	uint64_t done = 0;
	rc = 0;
	do {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		rc = cxlemu_read(c, region, off + done, buf, n, &err);
		if (rc < 0)
			break;
		if (hex)
			hexdump(stdout, off + done, buf, n);
		else if (cx_write_all(1, buf, n) < 0) {
			snprintf(err.msg, sizeof(err.msg), "cannot write to "
				 "stdout: %s", strerror(errno));
			rc = -EIO;
			break;
		}
		done += n;
	} while (done < len);
	free(buf);
	cxlemu_close(c);
	if (rc < 0)
		return cli_error("read: %s", err.msg);
	return CLI_OK;
}

int cmd_write(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'D', "data", required_argument, "STRING",
		  "the bytes to write (default: all of stdin)" },
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "write", .opts = opts };
	struct cxlemu *c;
	struct cxlemu_err err;
	const char *data = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t off;
	int o, rc;

	while ((o = cli_getopt(&args, argc, argv)) >= 0)
		data = optarg; /* -D */
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (argc - optind != 2)
		return cli_usage("write", "needs REGION and OFFSET");
	const char *region = argv[optind];
	if ((rc = cli_parse_size("write", "offset", argv[optind + 1], &off)))
		return rc;
	if (data) {
		len = strlen(data);
	} else if ((rc = cli_slurp(0, UINT64_MAX, &buf, &len)) < 0) {
		return cli_error("write: cannot read stdin: %s",
				 strerror(-rc));
	}
	if ((rc = cli_connect(cli, &c))) {
		free(buf);
		return rc;
	}
	rc = cxlemu_write(c, region, off, data ? (const void *)data : buf, len,
			  &err);
	cxlemu_close(c);
	free(buf);
	if (rc < 0)
		return cli_error("write: %s", err.msg);
	return CLI_OK;
}
