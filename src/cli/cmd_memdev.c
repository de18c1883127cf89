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
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/mbox.h"   /* opcode names */
#include "client/mbox_payload.h"
#include "listing/json.h"
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

static int bg_status(struct cxlemu *c, const char *memdev, struct cx_bg_status *s,
		     struct cxlemu_err *err)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, CX_OP_BG_OP_STATUS, NULL, 0, out, &n,
			       &rc, err)) < 0)
		return r;
	if (rc || cx_pl_bg_status(out, n, s) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s failed: %s",
			 memdev, cx_mbox_opcode_name(CX_OP_BG_OP_STATUS),
			 cx_mbox_rc_name(rc));
		return -EIO;
	}
	return 0;
}

/* Wait while `opcode` runs in the background (timeout_ms < 0: forever).
 * Returns 0 when it is not running (s holds the last status), -ETIMEDOUT. */
static int bg_wait(struct cxlemu *c, const char *memdev, uint16_t opcode,
		   long timeout_ms, struct cx_bg_status *s, struct cxlemu_err *err)
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
			     void *ctx, struct json_object *arr,
			     struct cxlemu_err *err)
{
	const struct part_args *a = ctx;
	uint8_t in[CX_SPI_IN_LEN];
	uint16_t rc = 0;
	struct cx_identify id;
	int r;

	if ((r = cli_identify(c, memdev, &id, err)) < 0)
		return r;
	uint64_t align = id.partition_align, total = id.total;
	uint64_t vonly = id.volatile_only, ponly = id.persistent_only;
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
	/* at the next reset, as ndctl asks */
	r = cx_mbox_ccall(c, memdev, CX_OP_SET_PARTITION_INFO, in,
			  cx_pl_set_partition(in, vol, false), NULL, NULL, &rc,
			  err);
	if (r < 0)
		return r;
	int ret = rc ? cli_mbox_failed(memdev, CX_OP_SET_PARTITION_INFO, rc,
				       err) : 0;
	struct cxlemu_err e2;
	cli_memdev_json(c, memdev, "I", arr, &e2); /* printed either way */
	return ret;
}

static const struct cli_opt partition_opts[] = {
	{ 't', "type", required_argument, "pmem|ram",
	  "the partition the size is for (default: pmem)" },
	{ 's', "size", required_argument, "SIZE",
	  "its size (default: all available capacity)" },
	{ 'a', "align", no_argument, NULL,
	  "align the size to the device's partition alignment" },
	CLI_OPT_NDCTL_VERBOSE,
	CLI_OPT_END,
};

static void partition_done(struct cli_memdevs *m)
{
	summary("cmd_set_partition", "set_partition %d", m->count, "mem");
}

int cmd_set_partition(int argc, char **argv, struct cli *cli)
{
	struct cli_args args = { .cmd = "set-partition",
		.opts = partition_opts,
		.more = "The new partitions apply at the next fabric restart "
			"(cxlemu stop, cxlemu start).\n" };
	struct part_args a = { 0 };
	int o, rc;

	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
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
		}
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (optind >= argc)
		return cli_usage("set-partition", "name a memdev (memN)");
	struct cli_memdevs m = { .cmd = "set-partition",
		.fn = set_partition_one, .ctx = &a, .done = partition_done };
	return cli_each_memdev(cli, &m, argc - optind, argv + optind);
}

/* ---- sanitize-memdev, wait-sanitize ---- */

static int sanitize_one(struct cxlemu *c, const char *memdev, void *ctx,
			struct json_object *arr, struct cxlemu_err *err)
{
	bool erase = *(bool *)ctx;
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

/* "cxl memdev: cmd_sanitize_memdev: sanitize completed/started on 1 mem
 * device", or "failed" when none worked */
static void bg_summary(const struct cli_memdevs *m, const char *fn,
		       const char *what, const char *ok)
{
	fprintf(stderr, "cxl memdev: %s: %s %s on %d mem device%s\n", fn,
		what, m->failed && !m->count ? "failed" : ok, m->count,
		m->count > 1 ? "s" : "");
}

static void sanitize_done(struct cli_memdevs *m)
{
	bg_summary(m, "cmd_sanitize_memdev", "sanitize", "completed/started");
}

int cmd_sanitize_memdev(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'e', "secure-erase", no_argument, NULL,
		  "Secure Erase instead of Sanitize" },
		CLI_OPT_NDCTL_VERBOSE,
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "sanitize-memdev", .opts = opts,
		.more = "Sanitize runs in the background (see wait-sanitize); "
			"both are refused while\nthe memdev has committed "
			"decoders.\n" };
	bool erase = false;
	int o;

	while ((o = cli_getopt(&args, argc, argv)) >= 0)
		if (o == 'e')
			erase = true;
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (optind >= argc)
		return cli_usage("sanitize-memdev", "name a memdev (memN)");
	struct cli_memdevs m = { .cmd = "sanitize-memdev", .fn = sanitize_one,
				 .ctx = &erase, .done = sanitize_done };
	return cli_each_memdev(cli, &m, argc - optind, argv + optind);
}

static int wait_sanitize_one(struct cxlemu *c, const char *memdev, void *ctx,
			     struct json_object *arr, struct cxlemu_err *err)
{
	struct cx_bg_status s;
	int rc = bg_wait(c, memdev, CX_OP_SANITIZE, *(long *)ctx, &s, err);

	if (rc == 0 && s.opcode == CX_OP_SANITIZE && s.rc != CX_RC_SUCCESS) {
		snprintf(err->msg, sizeof(err->msg), "%s: the sanitize ended "
			 "with %s (return code %#x); the media stays disabled "
			 "until a sanitize completes", memdev,
			 cx_mbox_rc_name(s.rc), s.rc);
		rc = -EIO;
	}
	return rc;
}

static void wait_sanitize_done(struct cli_memdevs *m)
{
	bg_summary(m, "cmd_wait_sanitize", "wait sanitize", "completed");
}

int cmd_wait_sanitize(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 't', "timeout", required_argument, "MS",
		  "give up after MS milliseconds (default: wait forever)" },
		CLI_OPT_NDCTL_VERBOSE,
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "wait-sanitize", .opts = opts };
	long timeout = -1;
	char *end;
	int o;

	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
		if (o != 't')
			continue;
		errno = 0;
		timeout = strtol(optarg, &end, 10);
		if (errno || *end || end == optarg || timeout < -1)
			return cli_usage("wait-sanitize", "timeout '%s' is not "
					 "a number of milliseconds", optarg);
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (optind >= argc)
		return cli_usage("wait-sanitize", "name a memdev (memN)");
	struct cli_memdevs m = { .cmd = "wait-sanitize",
		.fn = wait_sanitize_one, .ctx = &timeout,
		.done = wait_sanitize_done };
	return cli_each_memdev(cli, &m, argc - optind, argv + optind);
}

/* ---- update-firmware ---- */

#define FW_PART CX_PL_FW_PART_MAX /* 1920 B */

static int fw_send(struct cxlemu *c, const char *memdev, uint8_t action,
		   uint8_t slot, uint64_t off, const uint8_t *data,
		   size_t len, struct cxlemu_err *err)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX];
	uint16_t rc = 0;
	struct cx_bg_status s;
	int r;

	if ((r = cx_mbox_ccall(c, memdev, CX_OP_TRANSFER_FW, in,
			       cx_pl_transfer_fw(in, action, slot, off, data,
						 len), NULL, NULL, &rc,
			       err)) < 0)
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
	if ((r = cx_mbox_ccall(c, memdev, CX_OP_ACTIVATE_FW, in,
			       cx_pl_activate_fw(in, false, slot), NULL, NULL,
			       &rc, err)) < 0)
		return r;
	return rc ? cli_mbox_failed(memdev, CX_OP_ACTIVATE_FW, rc, err) : 0;
}

static int cancel_fw(struct cxlemu *c, const char *memdev,
		     struct cxlemu_err *err)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX];
	uint16_t rc = 0;
	struct cx_bg_status s;
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
	if ((r = cx_mbox_ccall(c, memdev, CX_OP_TRANSFER_FW, in,
			       cx_pl_transfer_fw(in, CX_TFW_ABORT, 0, 0, NULL, 0),
			       NULL, NULL, &rc, err)) < 0)
		return r;
	return rc ? cli_mbox_failed(memdev, CX_OP_TRANSFER_FW, rc, err) : 0;
}

struct fw_args {
	const uint8_t *img;       /* -F's image, or NULL */
	size_t len;
	bool cancel;              /* -c */
};

static int update_fw_each(struct cxlemu *c, const char *memdev, void *ctx,
			  struct json_object *arr, struct cxlemu_err *err)
{
	const struct fw_args *a = ctx;
	struct cxlemu_err e2;
	int rc;

	if (a->cancel)
		return cancel_fw(c, memdev, err);
	rc = a->img ? update_fw_one(c, memdev, a->img, a->len, err) : 0;
	if (cli_memdev_json(c, memdev, "F", arr, &e2) < 0)
		cli_error("update-firmware: %s", e2.msg);
	return rc;
}

static void update_fw_done(struct cli_memdevs *m)
{
	summary("cmd_update_fw", ((struct fw_args *)m->ctx)->cancel ?
		"firmware update cancelled on %d" :
		"firmware update started on %d", m->count, "mem device");
}

/* The whole of `file`, 1 byte to CX_FW_MAX_SIZE, malloc'd into *img. */
static int read_image(const char *file, uint8_t **img, size_t *len)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return cli_error("update-firmware: cannot open %s: %s", file,
				 strerror(errno));
	if (fseek(f, 0, SEEK_END) || (*len = (size_t)ftell(f),
				      fseek(f, 0, SEEK_SET))) {
		fclose(f);
		return cli_error("update-firmware: cannot size %s", file);
	}
	if (!*len || *len > CX_FW_MAX_SIZE) {
		fclose(f);
		return cli_error("update-firmware: %s holds %zu bytes; an image "
				 "is 1 byte to %u MiB", file, *len,
				 CX_FW_MAX_SIZE >> 20);
	}
	*img = malloc(*len);
	if (!*img || fread(*img, 1, *len, f) != *len) {
		fclose(f);
		free(*img);
		*img = NULL;
		return cli_error("update-firmware: cannot read %s", file);
	}
	fclose(f);
	return CLI_OK;
}

int cmd_update_firmware(int argc, char **argv, struct cli *cli)
{
	static const struct cli_opt opts[] = {
		{ 'F', "firmware-file", required_argument, "FILE",
		  "the image to transfer" },
		{ 'c', "cancel", no_argument, NULL,
		  "abort a transfer in progress" },
		{ 'w', "wait", no_argument, NULL,
		  "wait for the transfer to end (it always does here)" },
		CLI_OPT_NDCTL_VERBOSE,
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "update-firmware", .opts = opts,
		.more = "The image goes to the slot after the active one and "
			"is activated for the\nnext reset; without -F, prints "
			"the firmware state.\n" };
	struct fw_args a = { 0 };
	const char *file = NULL;
	uint8_t *img = NULL;
	int o, rc;

	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
		if (o == 'F')
			file = optarg;
		else if (o == 'c')
			a.cancel = true;
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
	if (optind >= argc)
		return cli_usage("update-firmware", "name a memdev (memN)");
	if (file && a.cancel)
		return cli_usage("update-firmware", "-F and -c do not go "
				 "together");
	if (file && (rc = read_image(file, &img, &a.len)))
		return rc;
	a.img = img;
	struct cli_memdevs m = { .cmd = "update-firmware",
		.fn = update_fw_each, .ctx = &a, .done = update_fw_done };
	rc = cli_each_memdev(cli, &m, argc - optind, argv + optind);
	free(img);
	return rc;
}

/* ---- set-alert-config ---- */

/* in the order of the alert bits (CX_ALERT_LIFE_USED is 1 << AL_LIFE) */
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

/* The Set Alert Configuration payload, sent to the one memdev named. */
static int set_alert_one(struct cxlemu *c, const char *memdev, void *ctx,
			 struct json_object *arr, struct cxlemu_err *err)
{
	const uint8_t *in = ctx;
	struct cxlemu_err e2;
	uint16_t drc = 0;
	int rc = cx_mbox_ccall(c, memdev, CX_OP_SET_ALERT_CONFIG, in,
			       CX_SAC_IN_LEN, NULL, NULL, &drc, err);

	if (rc == 0 && drc)
		rc = cli_mbox_failed(memdev, CX_OP_SET_ALERT_CONFIG, drc, err);
	cli_memdev_json(c, memdev, "A", arr, &e2); /* printed either way */
	return rc;
}

static void set_alert_done(struct cli_memdevs *m)
{
	summary("cmd_set_alert_config", "set alert configuration %d",
		m->count, "mem");
}

int cmd_set_alert_config(int argc, char **argv, struct cli *cli)
{
	enum { O_LIFE_ALERT = CLI_OPT_LONG, O_OVER_ALERT, O_UNDER_ALERT,
	       O_VOL_ALERT, O_PMEM_ALERT };
	static const struct cli_opt opts[] = {
		{ 'L', "life-used-threshold", required_argument, "N",
		  "warn at N percent of the life used (0..100)" },
		{ O_LIFE_ALERT, "life-used-alert", required_argument, "on|off",
		  "turn that warning on or off" },
		{ 'O', "over-temperature-threshold", required_argument, "N",
		  "warn above N degrees Celsius" },
		{ O_OVER_ALERT, "over-temperature-alert", required_argument,
		  "on|off", "turn that warning on or off" },
		{ 'U', "under-temperature-threshold", required_argument, "N",
		  "warn below N degrees Celsius" },
		{ O_UNDER_ALERT, "under-temperature-alert", required_argument,
		  "on|off", "turn that warning on or off" },
		{ 'V', "volatile-mem-err-threshold", required_argument, "N",
		  "warn after N corrected volatile memory errors" },
		{ O_VOL_ALERT, "volatile-mem-err-alert", required_argument,
		  "on|off", "turn that warning on or off" },
		{ 'P', "pmem-err-threshold", required_argument, "N",
		  "warn after N corrected persistent memory errors" },
		{ O_PMEM_ALERT, "pmem-err-alert", required_argument, "on|off",
		  "turn that warning on or off" },
		CLI_OPT_NDCTL_VERBOSE,
		CLI_OPT_END,
	};
	struct cli_args args = { .cmd = "set-alert-config", .opts = opts,
		.more = "To enable a warning alert give its threshold and "
			"alert=on; to disable it,\nalert=off alone.\n" };
	const char *thr[AL_N] = { 0 }, *act[AL_N] = { 0 };
	int o;

	while ((o = cli_getopt(&args, argc, argv)) >= 0) {
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
		}
	}
	if (o == CLI_OPT_EXIT)
		return args.rc;
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

	struct cx_alert_config cfg = {
		.valid = valid, .enable = enable,
		.life_used = (uint8_t)val[AL_LIFE],
		.over_temp = (int16_t)val[AL_OVER],
		.under_temp = (int16_t)val[AL_UNDER],
		.cor_vol = (uint16_t)val[AL_VOL],
		.cor_per = (uint16_t)val[AL_PMEM],
	};
	uint8_t in[CX_SAC_IN_LEN];
	cx_pl_set_alert_config(in, &cfg);

	struct cli_memdevs m = { .cmd = "set-alert-config",
		.fn = set_alert_one, .ctx = in, .done = set_alert_done };
	return cli_each_memdev(cli, &m, 1, argv + optind);
}
