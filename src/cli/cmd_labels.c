/*
 * cmd_labels.c - ndctl's label verbs on cxlemu memdevs: read-labels,
 * write-labels and zero-labels, with `cxl`'s options (-s size, -O offset,
 * -o/-i file) and its closing line on stderr ("cxl memdev:
 * cmd_read_labels: read 1 mem").
 *
 * They talk to the device as the kernel does for ndctl: Identify Memory
 * Device for the label storage size, then Get LSA / Set LSA in pieces
 * that fit the 2048-byte mailbox payload.  The LSA is the memdev's `lsa`
 * backend, so with a file-backed lsa the labels outlive the daemon.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mbox_payload.h"
#include "model/mbox.h"   /* command names */
#include "spec/mbox.h"

#define GET_CHUNK CX_PL_GET_LSA_MAX
#define SET_CHUNK CX_PL_SET_LSA_MAX

enum label_op { OP_READ, OP_WRITE, OP_ZERO };

struct label_args {
	const char *cmd;          /* "read-labels" */
	const char *file;         /* -o / -i */
	uint64_t size, offset;    /* -s, -O */
	bool have_size;
};

/* The label storage size Identify reports. */
int cli_label_size(struct cxlemu *c, const char *memdev, uint64_t *size,
		   struct cxlemu_err *err)
{
	struct cx_identify id;
	int r = cli_identify(c, memdev, &id, err);

	if (r < 0)
		return r;
	*size = id.lsa_size;
	return 0;
}

static int range_check(const char *memdev, uint64_t lsa, uint64_t off,
		       uint64_t size, struct cxlemu_err *err)
{
	if (!lsa) {
		snprintf(err->msg, sizeof(err->msg), "%s has no label storage "
			 "area (no lsa= backend)", memdev);
		return -ENXIO;
	}
	if (off > lsa || size > lsa - off) {
		snprintf(err->msg, sizeof(err->msg), "%s: %" PRIu64 " bytes at "
			 "offset %" PRIu64 " run past its label storage area "
			 "(%" PRIu64 " bytes)", memdev, size, off, lsa);
		return -EINVAL;
	}
	return 0;
}

static int lsa_read(struct cxlemu *c, const char *memdev, uint64_t off,
		    uint64_t size, FILE *f, struct cxlemu_err *err)
{
	uint8_t in[CX_GLSA_IN_LEN], out[CX_MBOX_PAYLOAD_MAX];
	uint16_t rc = 0;
	int r;

	for (uint64_t done = 0; done < size;) {
		uint64_t n = size - done < GET_CHUNK ? size - done : GET_CHUNK;
		size_t got = sizeof(out);
		if ((r = cx_mbox_ccall(c, memdev, CX_OP_GET_LSA, in,
				       cx_pl_get_lsa(in, (uint32_t)(off + done),
						     (uint32_t)n),
				       out, &got, &rc, err)) < 0 ||
		    (rc && (r = cli_mbox_failed(memdev, CX_OP_GET_LSA, rc,
						err)) < 0))
			return r;
		if (got != n) {
			snprintf(err->msg, sizeof(err->msg), "%s: %s returned "
				 "%zu bytes, not %" PRIu64, memdev,
				 cx_mbox_opcode_name(CX_OP_GET_LSA), got, n);
			return -EIO;
		}
		if (fwrite(out, 1, got, f) != got) {
			snprintf(err->msg, sizeof(err->msg), "cannot write the "
				 "labels: %s", strerror(errno));
			return -EIO;
		}
		done += n;
	}
	fflush(f);
	return 0;
}

/* Write `size` bytes of buf (zeros when buf is NULL) at `off`. */
static int lsa_write(struct cxlemu *c, const char *memdev, uint64_t off,
		     const uint8_t *buf, uint64_t size, struct cxlemu_err *err)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX];
	uint16_t rc = 0;
	int r;

	for (uint64_t done = 0; done < size;) {
		uint64_t n = size - done < SET_CHUNK ? size - done : SET_CHUNK;
		if ((r = cx_mbox_ccall(c, memdev, CX_OP_SET_LSA, in,
				       cx_pl_set_lsa(in, (uint32_t)(off + done),
						     buf ? buf + done : NULL,
						     (size_t)n), NULL, NULL,
				       &rc, err)) < 0 ||
		    (rc && (r = cli_mbox_failed(memdev, CX_OP_SET_LSA, rc,
						err)) < 0))
			return r;
		done += n;
	}
	return 0;
}

static int label_one(struct cxlemu *c, const char *memdev, enum label_op op,
		     const struct label_args *a, FILE *f,
		     struct cxlemu_err *err)
{
	uint64_t lsa = 0, size;
	uint8_t *buf = NULL;
	int r;

	if ((r = cli_label_size(c, memdev, &lsa, err)) < 0)
		return r;
	if (op == OP_WRITE) {
		size_t len = 0;
		if ((r = cli_slurp(fileno(f), a->have_size ? a->size : lsa,
				   &buf, &len))) {
			snprintf(err->msg, sizeof(err->msg), "cannot read the "
				 "labels to write: %s", strerror(-r));
			return r;
		}
		if (a->have_size && len < a->size) {
			snprintf(err->msg, sizeof(err->msg), "the input holds "
				 "%" PRIu64 " bytes, fewer than the %" PRIu64
				 " asked for", (uint64_t)len, a->size);
			free(buf);
			return -ENXIO;
		}
		if (!a->have_size && len > lsa) {
			snprintf(err->msg, sizeof(err->msg), "the input (more "
				 "than %" PRIu64 " bytes) is larger than %s's "
				 "label storage area (%" PRIu64 " bytes)",
				 (uint64_t)len - 1, memdev, lsa);
			free(buf);
			return -EINVAL;
		}
		size = a->have_size ? a->size : len;
	} else {
		size = a->have_size ? a->size : lsa;
	}
	if ((r = range_check(memdev, lsa, a->offset, size, err)) == 0) {
		if (op == OP_READ)
			r = lsa_read(c, memdev, a->offset, size, f, err);
		else
			r = lsa_write(c, memdev, a->offset,
				      op == OP_WRITE ? buf : NULL, size, err);
	}
	free(buf);
	return r;
}

/* -s and -O, which every label verb takes */
#define LABEL_AREA_OPTS \
	{ 's', "size", required_argument, "SIZE", \
	  "bytes of the label area (default: all of it)" }, \
	{ 'O', "offset", required_argument, "OFFSET", \
	  "where in the label area to start (default 0)" }, \
	CLI_OPT_NDCTL_VERBOSE

static const struct cli_opt read_opts[] = {
	LABEL_AREA_OPTS,
	{ 'o', "output", required_argument, "FILE",
	  "write the labels here (default stdout)" },
	CLI_OPT_END,
};
static const struct cli_opt write_opts[] = {
	LABEL_AREA_OPTS,
	{ 'i', "input", required_argument, "FILE",
	  "read the labels here (default stdin)" },
	CLI_OPT_END,
};
static const struct cli_opt zero_opts[] = {
	LABEL_AREA_OPTS,
	CLI_OPT_END,
};

static const struct {
	const char *name;         /* the subcommand */
	const struct cli_opt *opts;
	const char *fn, *verb;    /* ndctl's closing line */
} label_cmds[] = {
	[OP_READ] = { "read-labels", read_opts, "cmd_read_labels", "read" },
	[OP_WRITE] = { "write-labels", write_opts, "cmd_write_labels",
		       "wrote" },
	[OP_ZERO] = { "zero-labels", zero_opts, "cmd_zero_labels", "zeroed" },
};

struct label_ctx {
	enum label_op op;
	const struct label_args *a;
	FILE *f;
};

static int label_each(struct cxlemu *c, const char *memdev, void *ctx,
		      struct json_object *arr, struct cxlemu_err *err)
{
	struct label_ctx *l = ctx;

	return label_one(c, memdev, l->op, l->a, l->f, err);
}

static void label_done(struct cli_memdevs *m)
{
	enum label_op op = ((struct label_ctx *)m->ctx)->op;

	fprintf(stderr, "cxl memdev: %s: %s %d mem%s\n", label_cmds[op].fn,
		label_cmds[op].verb, m->count, m->count > 1 ? "s" : "");
}

static int labels(int argc, char **argv, struct cli *cli, enum label_op op)
{
	const char *cmd = label_cmds[op].name;
	struct cli_args args = { .cmd = cmd, .opts = label_cmds[op].opts };
	struct label_args a = { .cmd = cmd };
	int o, rc;

	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
		switch (o) {
		case 's':
			if ((rc = cli_parse_size(cmd, "size", optarg, &a.size)))
				return rc;
			a.have_size = true;
			break;
		case 'O':
			if ((rc = cli_parse_size(cmd, "offset", optarg,
						 &a.offset)))
				return rc;
			break;
		case 'o':
		case 'i':
			a.file = optarg;
			break;
		}
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (optind >= argc)
		return cli_usage(cmd, "name a memdev (memN)");
	if (a.offset > UINT32_MAX || a.size > UINT32_MAX)
		return cli_error("%s: the label area is addressed with 32-bit "
				 "offsets and lengths", cmd);
	if (op == OP_WRITE && argc - optind > 1)
		return cli_usage(cmd, "write-labels only supports writing a "
				 "single memdev");

	FILE *f = NULL;
	if (op == OP_READ)
		f = a.file ? fopen(a.file, "w+") : stdout;
	else if (op == OP_WRITE)
		f = a.file ? fopen(a.file, "r") : stdin;
	if ((op == OP_READ || op == OP_WRITE) && !f)
		return cli_error("%s: cannot open %s: %s", cmd, a.file,
				 strerror(errno));
	struct label_ctx l = { op, &a, f };
	struct cli_memdevs m = { .cmd = cmd, .fn = label_each, .ctx = &l,
				 .done = label_done };
	rc = cli_each_memdev(cli, &m, argc - optind, argv + optind);
	if (f && f != stdout && f != stdin)
		fclose(f);
	return rc;
}

int cmd_read_labels(int argc, char **argv, struct cli *cli)
{
	return labels(argc, argv, cli, OP_READ);
}

int cmd_write_labels(int argc, char **argv, struct cli *cli)
{
	return labels(argc, argv, cli, OP_WRITE);
}

int cmd_zero_labels(int argc, char **argv, struct cli *cli)
{
	return labels(argc, argv, cli, OP_ZERO);
}
