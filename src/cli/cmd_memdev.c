/*
 * cmd_memdev.c - ndctl's memdev management verbs on cxlemu memdevs, with
 * `cxl`'s options and output: set-partition, sanitize-memdev,
 * wait-sanitize, update-firmware and set-alert-config.
 *
 * Each one sends the mailbox commands the kernel would send for ndctl
 * (Identify + Set Partition Info, Sanitize or Secure Erase, Background
 * Operation Status, Get FW Info + Transfer FW + Activate FW, Set Alert
 * Configuration), then prints what ndctl prints: the memdev's JSON with
 * the matching section (partition_info, firmware, alert_config) on
 * stdout, and "cxl memdev: cmd_NAME: ..." on stderr.
 *
 * Differences from a kernel: a partition change applies when the fabric
 * restarts (`cxlemu stop`, `cxlemu start`), which is this device's cold
 * reset; update-firmware transfers the whole image before it returns
 * (there is no kernel to carry on in the background), so -w only adds
 * the wait for the last part.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/mbox.h"   /* opcode names */
#include "proto/json.h"
#include "spec/mbox.h"

/* ---- helpers ---- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Append memdev's JSON (with the sections `flags` names: a string of
 * `cxl list` letters) to arr. */
static int memdev_json(struct cxlemu *c, const char *memdev,
		       const char *letters, struct json_object *arr,
		       struct cxlemu_err *err)
{
	struct cx_list_opts o;
	struct json_object *list = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.memdevs = true;
	o.idle = true;
	o.memdev_filter = memdev;
	o.partition = strchr(letters, 'I') != NULL;
	o.firmware = strchr(letters, 'F') != NULL;
	o.alert = strchr(letters, 'A') != NULL;
	o.health = strchr(letters, 'H') != NULL;
	if ((rc = cxlemu_list(c, cx_list_opts_to_json(&o), &list, err)) < 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		json_object_array_add(arr, json_object_get(
			json_object_array_get_idx(list, i)));
	json_object_put(list);
	return 0;
}

struct bg_state {
	bool running;
	uint16_t opcode, rc;
	unsigned percent;
};

static int bg_status(struct cxlemu *c, const char *memdev, struct bg_state *s,
		     struct cxlemu_err *err)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, CX_OP_BG_OP_STATUS, NULL, 0, out, &n,
			       &rc, err)) < 0)
		return r;
	if (rc || n < CX_BGS_OUT_LEN) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s failed: %s",
			 memdev, cx_mbox_opcode_name(CX_OP_BG_OP_STATUS),
			 cx_mbox_rc_name(rc));
		return -EIO;
	}
	s->running = out[CX_BGS_STATUS] & 1;
	s->percent = out[CX_BGS_STATUS] >> 1;
	s->opcode = cx_rd_le16(out + CX_BGS_OPCODE);
	s->rc = cx_rd_le16(out + CX_BGS_RC);
	return 0;
}

/* Wait while `opcode` runs in the background (timeout_ms < 0: forever).
 * Returns 0 when it is not running (s holds the last status), -ETIMEDOUT. */
static int bg_wait(struct cxlemu *c, const char *memdev, uint16_t opcode,
		   long timeout_ms, struct bg_state *s, struct cxlemu_err *err)
{
	uint64_t t0 = now_ms();
	unsigned nap = 2;
	int r;

	for (;;) {
		if ((r = bg_status(c, memdev, s, err)) < 0)
			return r;
		if (!s->running || s->opcode != opcode)
			return 0;
		if (timeout_ms >= 0 && now_ms() - t0 >= (uint64_t)timeout_ms) {
			snprintf(err->msg, sizeof(err->msg), "%s: %s still "
				 "running after %ld ms (%u%% done)", memdev,
				 cx_mbox_opcode_name(opcode) ?
				 cx_mbox_opcode_name(opcode) : "operation",
				 timeout_ms, s->percent);
			return -ETIMEDOUT;
		}
		sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
	}
}

static void summary(const char *fn, const char *fmt, int count,
		    const char *noun)
{
	fflush(stdout);
	fprintf(stderr, "cxl memdev: %s: ", fn);
	fprintf(stderr, fmt, count);
	fprintf(stderr, " %s%s\n", noun, count > 1 ? "s" : "");
}

/* ---- set-partition ---- */

struct part_args {
	bool ram;             /* -t ram|volatile (default pmem) */
	bool have_size;
	uint64_t size;
	bool align;
};

static int set_partition_one(struct cxlemu *c, const char *memdev,
			     const struct part_args *a, struct json_object *arr,
			     struct cxlemu_err *err)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX], in[CX_SPI_IN_LEN];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out,
			       &n, &rc, err)) < 0)
		return r;
	if (rc)
		return cli_mbox_failed(memdev, CX_OP_IDENTIFY_MEMDEV, rc, err);
	uint64_t unit = CX_CAPACITY_UNIT;
	uint64_t align = cx_rd_le64(out + CX_ID_PARTITION_ALIGN) * unit;
	uint64_t total = cx_rd_le64(out + CX_ID_TOTAL_CAP) * unit;
	uint64_t vonly = cx_rd_le64(out + CX_ID_VOLATILE_CAP) * unit;
	uint64_t ponly = cx_rd_le64(out + CX_ID_PERSISTENT_CAP) * unit;
	if (!align) {
		snprintf(err->msg, sizeof(err->msg), "%s: no available "
			 "capacity: its partitions are fixed (volatile-only "
			 "%" PRIu64 ", persistent-only %" PRIu64 " bytes); "
			 "only a device with persistent media alone can be "
			 "partitioned", memdev, vonly, ponly);
		return -EINVAL;
	}
	uint64_t avail = total - vonly - ponly, vol;
	/* ndctl: the size is of the type asked for; the command takes the
	 * volatile part */
	if (!a->have_size) {
		vol = a->ram ? avail : 0;
	} else if (a->size > avail) {
		snprintf(err->msg, sizeof(err->msg), "%s: %" PRIu64 " exceeds "
			 "available capacity %" PRIu64, memdev, a->size,
			 avail);
		return -EINVAL;
	} else {
		vol = a->ram ? a->size : avail - a->size;
	}
	if (vol % align) {
		if (!a->align) {
			snprintf(err->msg, sizeof(err->msg), "%s: size %" PRIu64
				 " is not partition aligned %" PRIu64 " (use "
				 "-a to align it)", memdev, vol, align);
			return -EINVAL;
		}
		vol = a->ram ? (vol + align - 1) / align * align :
			       vol / align * align;
		if (vol > avail) {
			snprintf(err->msg, sizeof(err->msg), "%s: aligned "
				 "partition size %" PRIu64 " exceeds available "
				 "size %" PRIu64, memdev, vol, avail);
			return -EINVAL;
		}
	}
	memset(in, 0, sizeof(in));
	cx_wr_le64(in + CX_SPI_VOLATILE, vol / unit);
	in[CX_SPI_FLAGS] = 0; /* at the next reset, as ndctl asks */
	r = cx_mbox_ccall(c, memdev, CX_OP_SET_PARTITION_INFO, in, sizeof(in),
			  NULL, NULL, &rc, err);
	if (r < 0)
		return r;
	int ret = rc ? cli_mbox_failed(memdev, CX_OP_SET_PARTITION_INFO, rc,
				       err) : 0;
	struct cxlemu_err e2;
	memdev_json(c, memdev, "I", arr, &e2); /* printed either way */
	return ret;
}

static const char partition_help[] =
	"  -t, --type=pmem|ram  the partition the size is for (default: "
	"pmem)\n"
	"  -s, --size=SIZE      its size (default: all available capacity)\n"
	"  -a, --align          align the size to the device's partition "
	"alignment\n"
	"\nThe new partitions apply at the next fabric restart (cxlemu stop, "
	"cxlemu start).\n";

int cmd_set_partition(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "align", no_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct part_args a = { 0 };
	struct cxlemu *c;
	struct cxlemu_err err;
	char mbuf[32];
	int o, rc;

	while ((o = getopt_long(argc, argv, "t:s:avh", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (!strcmp(optarg, "pmem"))
				a.ram = false;
			else if (!strcmp(optarg, "ram") ||
				 !strcmp(optarg, "volatile"))
				a.ram = true;
			else
				return cli_usage("set-partition", "invalid type "
						 "'%s' (pmem or ram)", optarg);
			break;
		case 's':
			if ((rc = cli_parse_size("set-partition", "size",
						 optarg, &a.size)))
				return rc;
			a.have_size = true;
			break;
		case 'a':
			a.align = true;
			break;
		case 'v':
			break;
		case 'h':
			return cli_help("set-partition", partition_help);
		default:
			return cli_bad_option("set-partition", "t:s:avh", argv);
		}
	}
	if (optind >= argc)
		return cli_usage("set-partition", "name a memdev (memN)");
	if ((rc = cli_connect(cli, &c)))
		return rc;
	struct json_object *arr = json_object_new_array();
	int count = 0, failed = 0;
	for (int i = optind; i < argc; i++) {
		const char *m = cli_memdev_arg(argv[i], mbuf, sizeof(mbuf));
		if (set_partition_one(c, m, &a, arr, &err) < 0) {
			cli_error("set-partition: %s", err.msg);
			failed++;
		} else {
			count++;
		}
	}
	cxlemu_close(c);
	if (json_object_array_length(arr))
		cx_json_print(stdout, arr, false);
	else
		json_object_put(arr);
	summary("cmd_set_partition", "set_partition %d", count, "mem");
	return count || !failed ? CLI_OK : CLI_FAIL;
}

/* ---- sanitize-memdev, wait-sanitize ---- */

static int sanitize_one(struct cxlemu *c, const char *memdev, bool erase,
			struct cxlemu_err *err)
{
	uint16_t op = erase ? CX_OP_SECURE_ERASE : CX_OP_SANITIZE, rc = 0;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, op, NULL, 0, NULL, NULL, &rc,
			       err)) < 0)
		return r;
	if (rc == CX_RC_SUCCESS || rc == CX_RC_BG_STARTED)
		return 0;
	if (rc == CX_RC_BUSY) {
		/* the daemon says what holds the media (cx_mbox_ccall) */
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg[0] ? err->msg :
			 "the device returned Busy, and what held it has let "
			 "go since; try again");
		snprintf(err->msg, sizeof(err->msg), "%s: busy: %.*s", memdev,
			 (int)sizeof(err->msg) - 64, why);
		return -EBUSY;
	}
	return cli_mbox_failed(memdev, op, rc, err);
}

int cmd_sanitize_memdev(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "secure-erase", no_argument, NULL, 'e' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu *c;
	struct cxlemu_err err;
	bool erase = false;
	char mbuf[32];
	int o, rc;

	while ((o = getopt_long(argc, argv, "evh", opts, NULL)) != -1) {
		switch (o) {
		case 'e':
			erase = true;
			break;
		case 'v':
			break;
		case 'h':
			return cli_help("sanitize-memdev",
				"  -e, --secure-erase   Secure Erase instead of "
				"Sanitize\n"
				"\nSanitize runs in the background (see "
				"wait-sanitize); both are refused while\n"
				"the memdev has committed decoders.\n");
		default:
			return cli_bad_option("sanitize-memdev", "evh", argv);
		}
	}
	if (optind >= argc)
		return cli_usage("sanitize-memdev", "name a memdev (memN)");
	if ((rc = cli_connect(cli, &c)))
		return rc;
	int count = 0, failed = 0;
	for (int i = optind; i < argc; i++) {
		const char *m = cli_memdev_arg(argv[i], mbuf, sizeof(mbuf));
		if (sanitize_one(c, m, erase, &err) < 0) {
			cli_error("sanitize-memdev: %s", err.msg);
			failed++;
		} else {
			count++;
		}
	}
	cxlemu_close(c);
	fprintf(stderr, "cxl memdev: cmd_sanitize_memdev: sanitize %s on %d "
		"mem device%s\n", failed && !count ? "failed" :
		"completed/started", count, count > 1 ? "s" : "");
	return count || !failed ? CLI_OK : CLI_FAIL;
}

int cmd_wait_sanitize(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu *c;
	struct cxlemu_err err;
	long timeout = -1;
	char mbuf[32], *end;
	int o, rc;

	while ((o = getopt_long(argc, argv, "t:vh", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			errno = 0;
			timeout = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || timeout < -1)
				return cli_usage("wait-sanitize", "timeout '%s' "
						 "is not a number of "
						 "milliseconds", optarg);
			break;
		case 'v':
			break;
		case 'h':
			return cli_help("wait-sanitize",
				"  -t, --timeout=MS   give up after MS "
				"milliseconds (default: wait forever)\n");
		default:
			return cli_bad_option("wait-sanitize", "t:vh", argv);
		}
	}
	if (optind >= argc)
		return cli_usage("wait-sanitize", "name a memdev (memN)");
	if ((rc = cli_connect(cli, &c)))
		return rc;
	int count = 0, failed = 0;
	for (int i = optind; i < argc; i++) {
		const char *m = cli_memdev_arg(argv[i], mbuf, sizeof(mbuf));
		struct bg_state s;
		rc = bg_wait(c, m, CX_OP_SANITIZE, timeout, &s, &err);
		if (rc == 0 && s.opcode == CX_OP_SANITIZE &&
		    s.rc != CX_RC_SUCCESS) {
			snprintf(err.msg, sizeof(err.msg), "%s: the sanitize "
				 "ended with %s (return code %#x); the media "
				 "stays disabled until a sanitize completes", m,
				 cx_mbox_rc_name(s.rc), s.rc);
			rc = -EIO;
		}
		if (rc < 0) {
			cli_error("wait-sanitize: %s", err.msg);
			failed++;
		} else {
			count++;
		}
	}
	cxlemu_close(c);
	fprintf(stderr, "cxl memdev: cmd_wait_sanitize: wait sanitize %s on "
		"%d mem device%s\n", failed && !count ? "failed" : "completed",
		count, count > 1 ? "s" : "");
	return count || !failed ? CLI_OK : CLI_FAIL;
}

/* ---- update-firmware ---- */

#define FW_PART (CX_MBOX_PAYLOAD_MAX - CX_TFW_HDR_LEN) /* 1920 B */

static int fw_send(struct cxlemu *c, const char *memdev, uint8_t action,
		   uint8_t slot, uint64_t off, const uint8_t *data,
		   size_t len, struct cxlemu_err *err)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX];
	uint16_t rc = 0;
	struct bg_state s;
	int r;

	memset(in, 0, CX_TFW_HDR_LEN);
	in[CX_TFW_ACTION] = action;
	in[CX_TFW_SLOT] = slot;
	cx_wr_le32(in + CX_TFW_OFFSET, (uint32_t)(off / CX_TFW_UNIT));
	if (len)
		memcpy(in + CX_TFW_DATA, data, len);
	if ((r = cx_mbox_ccall(c, memdev, CX_OP_TRANSFER_FW, in,
			       CX_TFW_HDR_LEN + len, NULL, NULL, &rc, err)) < 0)
		return r;
	if (rc == CX_RC_SUCCESS)
		return 0;
	if (rc != CX_RC_BG_STARTED)
		return cli_mbox_failed(memdev, CX_OP_TRANSFER_FW, rc, err);
	if ((r = bg_wait(c, memdev, CX_OP_TRANSFER_FW, 60000, &s, err)) < 0)
		return r;
	if (s.opcode == CX_OP_TRANSFER_FW && s.rc)
		return cli_mbox_failed(memdev, CX_OP_TRANSFER_FW, s.rc, err);
	return 0;
}

static int update_fw_one(struct cxlemu *c, const char *memdev,
			 const uint8_t *img, size_t len,
			 struct cxlemu_err *err)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX], in[CX_AFW_IN_LEN];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, CX_OP_GET_FW_INFO, NULL, 0, out, &n,
			       &rc, err)) < 0)
		return r;
	if (rc || n < CX_FWI_OUT_LEN)
		return cli_mbox_failed(memdev, CX_OP_GET_FW_INFO, rc, err);
	int slots = out[CX_FWI_SLOTS], cur = out[CX_FWI_SLOT_INFO] & 7;
	if (slots < 2) {
		snprintf(err->msg, sizeof(err->msg), "%s has no spare firmware "
			 "slot", memdev);
		return -ENXIO;
	}
	uint8_t slot = (uint8_t)(cur % slots + 1); /* Linux: the next slot */
	if (len <= FW_PART) {
		r = fw_send(c, memdev, CX_TFW_FULL, slot, 0, img, len, err);
	} else {
		r = 0;
		for (size_t off = 0; off < len && r == 0; off += FW_PART) {
			size_t part = len - off < FW_PART ? len - off : FW_PART;
			uint8_t action = off == 0 ? CX_TFW_INIT :
					 off + part == len ? CX_TFW_END :
					 CX_TFW_CONTINUE;
			r = fw_send(c, memdev, action, slot, off, img + off,
				    part, err);
		}
		if (r < 0) { /* leave the device ready for another try */
			struct cxlemu_err e2;
			fw_send(c, memdev, CX_TFW_ABORT, 0, 0, NULL, 0, &e2);
		}
	}
	if (r < 0)
		return r;
	/* Linux activates the new slot for the next reset */
	in[CX_AFW_ACTION] = 1;
	in[CX_AFW_SLOT] = slot;
	if ((r = cx_mbox_ccall(c, memdev, CX_OP_ACTIVATE_FW, in, sizeof(in),
			       NULL, NULL, &rc, err)) < 0)
		return r;
	return rc ? cli_mbox_failed(memdev, CX_OP_ACTIVATE_FW, rc, err) : 0;
}

static int cancel_fw(struct cxlemu *c, const char *memdev,
		     struct cxlemu_err *err)
{
	uint8_t in[CX_TFW_HDR_LEN];
	uint16_t rc = 0;
	struct bg_state s;
	int r;

	if ((r = bg_status(c, memdev, &s, err)) < 0)
		return r;
	if (s.running && s.opcode == CX_OP_TRANSFER_FW) {
		if ((r = cx_mbox_ccall(c, memdev, CX_OP_BG_OP_ABORT, NULL, 0,
				       NULL, NULL, &rc, err)) < 0)
			return r;
		if (rc)
			return cli_mbox_failed(memdev, CX_OP_BG_OP_ABORT, rc,
					       err);
	}
	memset(in, 0, sizeof(in));
	in[CX_TFW_ACTION] = CX_TFW_ABORT;
	if ((r = cx_mbox_ccall(c, memdev, CX_OP_TRANSFER_FW, in, sizeof(in),
			       NULL, NULL, &rc, err)) < 0)
		return r;
	return rc ? cli_mbox_failed(memdev, CX_OP_TRANSFER_FW, rc, err) : 0;
}

int cmd_update_firmware(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "firmware-file", required_argument, NULL, 'F' },
		{ "cancel", no_argument, NULL, 'c' },
		{ "wait", no_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cxlemu *c;
	struct cxlemu_err err;
	const char *file = NULL;
	bool cancel = false;
	uint8_t *img = NULL;
	size_t len = 0;
	char mbuf[32];
	int o, rc;

	while ((o = getopt_long(argc, argv, "F:cwvh", opts, NULL)) != -1) {
		switch (o) {
		case 'F':
			file = optarg;
			break;
		case 'c':
			cancel = true;
			break;
		case 'w':
		case 'v':
			break;
		case 'h':
			return cli_help("update-firmware",
				"  -F, --firmware-file=FILE  the image to "
				"transfer\n"
				"  -c, --cancel              abort a transfer "
				"in progress\n"
				"  -w, --wait                wait for the "
				"transfer to end (it always does here)\n"
				"\nThe image goes to the slot after the active "
				"one and is activated for the\nnext reset; "
				"without -F, prints the firmware state.\n");
		default:
			return cli_bad_option("update-firmware", "F:cwvh", argv);
		}
	}
	if (optind >= argc)
		return cli_usage("update-firmware", "name a memdev (memN)");
	if (file && cancel)
		return cli_usage("update-firmware", "-F and -c do not go "
				 "together");
	if (file) {
		FILE *f = fopen(file, "rb");
		if (!f)
			return cli_error("update-firmware: cannot open %s: %s",
					 file, strerror(errno));
		if (fseek(f, 0, SEEK_END) || (len = (size_t)ftell(f),
					      fseek(f, 0, SEEK_SET))) {
			fclose(f);
			return cli_error("update-firmware: cannot size %s",
					 file);
		}
		if (!len || len > CX_FW_MAX_SIZE) {
			fclose(f);
			return cli_error("update-firmware: %s holds %zu bytes; "
					 "an image is 1 byte to %u MiB", file,
					 len, CX_FW_MAX_SIZE >> 20);
		}
		img = malloc(len);
		if (!img || fread(img, 1, len, f) != len) {
			fclose(f);
			free(img);
			return cli_error("update-firmware: cannot read %s",
					 file);
		}
		fclose(f);
	}
	if ((rc = cli_connect(cli, &c))) {
		free(img);
		return rc;
	}
	struct json_object *arr = json_object_new_array();
	int count = 0, failed = 0;
	for (int i = optind; i < argc; i++) {
		const char *m = cli_memdev_arg(argv[i], mbuf, sizeof(mbuf));
		if (cancel)
			rc = cancel_fw(c, m, &err);
		else
			rc = img ? update_fw_one(c, m, img, len, &err) : 0;
		if (rc < 0) {
			cli_error("update-firmware: %s", err.msg);
			failed++;
		} else {
			count++;
		}
		if (!cancel && memdev_json(c, m, "F", arr, &err) < 0)
			cli_error("update-firmware: %s", err.msg);
	}
	cxlemu_close(c);
	free(img);
	if (json_object_array_length(arr))
		cx_json_print(stdout, arr, false);
	else
		json_object_put(arr);
	if (cancel)
		summary("cmd_update_fw", "firmware update cancelled on %d",
			count, "mem device");
	else
		summary("cmd_update_fw", "firmware update started on %d",
			count, "mem device");
	return count || !failed ? CLI_OK : CLI_FAIL;
}

/* ---- set-alert-config ---- */

enum { AL_LIFE, AL_OVER, AL_UNDER, AL_VOL, AL_PMEM, AL_N };

static const struct {
	const char *name;        /* for messages */
	long min, max;
} alert_range[AL_N] = {
	{ "life used", 0, 100 },
	{ "device temperature", SHRT_MIN, SHRT_MAX },
	{ "device temperature", SHRT_MIN, SHRT_MAX },
	{ "corrected mem error", 0, USHRT_MAX },
	{ "corrected mem error", 0, USHRT_MAX },
};

int cmd_set_alert_config(int argc, char **argv, struct cli *cli)
{
	enum { O_LIFE_ALERT = 1000, O_OVER_ALERT, O_UNDER_ALERT, O_VOL_ALERT,
	       O_PMEM_ALERT };
	static const struct option opts[] = {
		{ "life-used-threshold", required_argument, NULL, 'L' },
		{ "life-used-alert", required_argument, NULL, O_LIFE_ALERT },
		{ "over-temperature-threshold", required_argument, NULL, 'O' },
		{ "over-temperature-alert", required_argument, NULL,
		  O_OVER_ALERT },
		{ "under-temperature-threshold", required_argument, NULL, 'U' },
		{ "under-temperature-alert", required_argument, NULL,
		  O_UNDER_ALERT },
		{ "volatile-mem-err-threshold", required_argument, NULL, 'V' },
		{ "volatile-mem-err-alert", required_argument, NULL,
		  O_VOL_ALERT },
		{ "pmem-err-threshold", required_argument, NULL, 'P' },
		{ "pmem-err-alert", required_argument, NULL, O_PMEM_ALERT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *thr[AL_N] = { 0 }, *act[AL_N] = { 0 };
	struct cxlemu *c;
	struct cxlemu_err err;
	char mbuf[32];
	int o, rc;

	while ((o = getopt_long(argc, argv, "L:O:U:V:P:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'L': thr[AL_LIFE] = optarg; break;
		case 'O': thr[AL_OVER] = optarg; break;
		case 'U': thr[AL_UNDER] = optarg; break;
		case 'V': thr[AL_VOL] = optarg; break;
		case 'P': thr[AL_PMEM] = optarg; break;
		case O_LIFE_ALERT: act[AL_LIFE] = optarg; break;
		case O_OVER_ALERT: act[AL_OVER] = optarg; break;
		case O_UNDER_ALERT: act[AL_UNDER] = optarg; break;
		case O_VOL_ALERT: act[AL_VOL] = optarg; break;
		case O_PMEM_ALERT: act[AL_PMEM] = optarg; break;
		case 'v': break;
		case 'h':
			return cli_help("set-alert-config",
				"  -L, --life-used-threshold=N          "
				"--life-used-alert=on|off\n"
				"  -O, --over-temperature-threshold=N   "
				"--over-temperature-alert=on|off\n"
				"  -U, --under-temperature-threshold=N  "
				"--under-temperature-alert=on|off\n"
				"  -V, --volatile-mem-err-threshold=N   "
				"--volatile-mem-err-alert=on|off\n"
				"  -P, --pmem-err-threshold=N           "
				"--pmem-err-alert=on|off\n"
				"\nTo enable a warning alert give its threshold "
				"and alert=on; to disable it,\nalert=off "
				"alone.\n");
		default:
			return cli_bad_option("set-alert-config", "L:O:U:V:P:vh",
					      argv);
		}
	}
	if (optind >= argc)
		return cli_usage("set-alert-config", "name a memdev (memN)");
	if (argc - optind > 1)
		return cli_usage("set-alert-config", "set-alert-config only "
				 "supports setting a single memdev");

	/* ndctl's rules: on needs a threshold, off takes none */
	uint8_t valid = 0, enable = 0;
	long val[AL_N] = { 0 };
	for (int i = 0; i < AL_N; i++) {
		if (!act[i]) {
			if (thr[i])
				return cli_error("set-alert-config: a %s "
						 "threshold was given without "
						 "its alert (on or off): action "
						 "not specified",
						 alert_range[i].name);
			continue;
		}
		if (!strcmp(act[i], "on")) {
			char *end;
			if (!thr[i])
				return cli_error("set-alert-config: %s alert "
						 "on: threshold not specified",
						 alert_range[i].name);
			errno = 0;
			val[i] = strtol(thr[i], &end, 10);
			if (errno || *end || end == thr[i])
				return cli_error("set-alert-config: invalid "
						 "threshold: %s", thr[i]);
			if (val[i] < alert_range[i].min ||
			    val[i] > alert_range[i].max)
				return cli_error("set-alert-config: invalid %s "
						 "threshold: %ld (%ld..%ld)",
						 alert_range[i].name, val[i],
						 alert_range[i].min,
						 alert_range[i].max);
			valid |= (uint8_t)(1u << i);
			enable |= (uint8_t)(1u << i);
		} else if (!strcmp(act[i], "off")) {
			if (thr[i])
				return cli_error("set-alert-config: disabling "
						 "the %s alert takes no "
						 "threshold",
						 alert_range[i].name);
			valid |= (uint8_t)(1u << i);
		} else {
			return cli_error("set-alert-config: invalid action: %s "
					 "(on or off)", act[i]);
		}
	}
	if (!valid)
		return cli_error("set-alert-config: no action specified");

	uint8_t in[CX_SAC_IN_LEN];
	memset(in, 0, sizeof(in));
	in[CX_SAC_VALID] = valid;
	in[CX_SAC_ENABLE] = enable;
	in[CX_SAC_LIFE_WARN] = (uint8_t)val[AL_LIFE];
	cx_wr_le16(in + CX_SAC_OVER_TEMP_WARN, (uint16_t)val[AL_OVER]);
	cx_wr_le16(in + CX_SAC_UNDER_TEMP_WARN, (uint16_t)val[AL_UNDER]);
	cx_wr_le16(in + CX_SAC_COR_VOL_WARN, (uint16_t)val[AL_VOL]);
	cx_wr_le16(in + CX_SAC_COR_PER_WARN, (uint16_t)val[AL_PMEM]);

	if ((rc = cli_connect(cli, &c)))
		return rc;
	const char *m = cli_memdev_arg(argv[optind], mbuf, sizeof(mbuf));
	uint16_t drc = 0;
	rc = cx_mbox_ccall(c, m, CX_OP_SET_ALERT_CONFIG, in, sizeof(in), NULL,
			   NULL, &drc, &err);
	if (rc == 0 && drc)
		rc = cli_mbox_failed(m, CX_OP_SET_ALERT_CONFIG, drc, &err);
	if (rc < 0)
		cli_error("set-alert-config: %s", err.msg);
	struct json_object *arr = json_object_new_array();
	struct cxlemu_err e2;
	memdev_json(c, m, "A", arr, &e2);
	cxlemu_close(c);
	if (json_object_array_length(arr))
		cx_json_print(stdout, arr, false);
	else
		json_object_put(arr);
	summary("cmd_set_alert_config", "set alert configuration %d",
		rc < 0 ? 0 : 1, "mem");
	return rc < 0 ? CLI_FAIL : CLI_OK;
}
