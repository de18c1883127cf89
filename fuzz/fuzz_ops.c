/*
 * fuzz_ops.c - libFuzzer target for the daemon's request handlers.
 *
 * What it checks: no request, and no sequence of requests, makes a handler
 * crash, hang, leak memory or descriptors, break its reply contract, or put
 * bytes anywhere but where the region's layout says they go.
 *
 * Every input gets a fresh fabric and server (so inputs are independent
 * and a crash replays alone): the topology below is loaded with
 * cx_config_load_text, started, and served by cx_server_open on a socket in
 * a private directory (under /dev/shm when it exists), whose loop never
 * runs; requests are handled as dispatch() in server.c handles them.
 * After the input, cx_server_close runs the close hooks (releasing
 * dax-map holds), frees the fabric, and every file in the directory
 * (media, label areas, the mailbox sidecars, the socket) is removed.
 *
 *   host1, host2  one 256 MiB volatile device, file backed and shared:
 *                 two heads, each with its own file-backed LSA
 *   host3         two host bridges under one 2-way window (256 B
 *                 granules) and a second window over cxl.2 alone; cxl.1
 *                 has a 512 MiB persistent-only device (partitionable),
 *                 cxl.2 another and, behind a switch, a volatile one
 *
 * The mailbox clock is fake, advanced by the input, so background
 * operations start, complete and get aborted deterministically.
 *
 * Input: up to 32 requests, each
 *
 *   op      byte: < 0xf0 an op of cx_server_ops (by index, so new ops are
 *           fuzzed as they are added); 0xf0..0xf7 a binary mailbox
 *           frame (proto/mbox_frame.h) on a host's socket: a host byte,
 *           then with opsel bit 0 a valid header (memdev byte, opcode
 *           from the command table, in_len byte) and that many bytes,
 *           else a 16-bit length and raw bytes, run as on_binary() in
 *           server.c runs it; 0xf8..0xff a raw JSON frame
 *           follows (16-bit length, bytes) and goes through
 *           cx_proto_parse and the dispatch checks as sent
 *   host    byte: absent (the first host), host1..3, or a name no host has
 *   hdr     byte: bits 0-1 the client id (1..4: holds are per client),
 *           bit 2 a raw data frame follows, bit 3 clear: fill in every
 *           key of the op's row in proto/ops.def (in the row's order)
 *           before the extra keys, set: none (required keys go missing),
 *           bits 4-7 how many extra keys
 *   keys    each a key byte (< 0xd0 the op's own keys, < 0xf8 any key the
 *           table has, the envelope's "op", "host" and "data_len"
 *           included, which most ops do not take, else one of its own
 *           misspelt) and a value: a selector byte < 0xc0 picks a
 *           plausible value for that key (fz_hints: names from a
 *           dictionary, sizes and offsets near the media's edges, mailbox
 *           opcodes from the command table with hex payloads, inject
 *           params and list opts objects; a key without a hint, a value
 *           of its type in the table), else a JSON value of any type
 *           (huge and negative numbers, doubles, null, arrays, objects,
 *           raw byte strings: mostly the wrong type)
 *   data    with hdr bit 2: 16-bit length and a pattern seed byte; the
 *           request announces it as "data_len", and a "data_len" from a
 *           key or a raw frame gets its frame too, as on_frame() in
 *           server.c waits for one (up to 64 KiB; more is not sent)
 *   clock   byte: advance the mailbox clock by that many 50 ms, then
 *           poll the devices as the server loop does
 *
 * Requests go through cx_server_run_op, as dispatch() sends them: held
 * to their rows first, then handled.  "stop" is called like any op; its
 * c->stop is ignored.  The request object is serialised and parsed back
 * with cx_proto_parse, so handlers see exactly what the wire would give
 * them.  fz_seed() builds a few
 * inputs that reach deep (see "seed inputs" below).  Set
 * CXLEMU_FUZZ_TRACE=1 to print every request and its outcome on stderr
 * (to turn a crashing input into a reproducer).
 *
 * Checks (abort, besides ASan/UBSan/LeakSanitizer):
 *   - a handler returns > 0, or < 0 with an empty message, or 0 with no
 *     result, or raw bytes without a buffer, or an invalid descriptor
 *   - "read" returns a different number of bytes than asked
 *   - a write that succeeds does not land where the region's device-DAX
 *     recipe (model/dax.c) puts each granule, a refused write changes
 *     those bytes, or a read returns other bytes than are there
 *   - translate names another media or offset than that recipe
 *   - a dax-map reply names descriptors or ranges past the end of the
 *     media files it hands out
 *   - the process holds a different number of descriptors after the
 *     input than before it
 * A hang is libFuzzer's -timeout (FUZZ_TIMEOUT in Makefile.fuzz).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "model/dax.h"
#include "model/grant.h"
#include "model/mbox.h"
#include "proto/mbox_frame.h"
#include "server/server.h"
#include "spec/mbox.h"
#include "fuzz_input.h"

#define FZ_MAX_REQS 32
#define FZ_MiB (1ULL << 20)

static char fz_dir[64];
static char fz_sock[128];
static char *fz_topo;
static struct cx_server *fz_srv;
static struct cx_fabric *fz_fab;
static uint64_t fz_now;
static int fz_trace = -1;
static unsigned long fz_handled, fz_refused; /* handler calls, failures */
static unsigned long fz_unfit; /* of the failures: refused by its row */
static unsigned long fz_bin_ran, fz_bin_refused; /* binary mailbox frames */

static const char fz_topo_fmt[] =
	"[host host1]\n"
	"-machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G\n"
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"
	"-object memory-backend-file,id=mem0,mem-path=%1$s/shared.raw,"
	"size=256M,share=true\n"
	"-object memory-backend-file,id=lsa0,mem-path=%1$s/lsa1.raw,"
	"size=64K,share=true\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=mem0,lsa=lsa0,id=cxl-mem0\n"
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n"
	"\n"
	"[host host2]\n"
	"-machine type=q35,cxl=on -m 4G,slots=4,maxmem=8G\n"
	"-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52\n"
	"-device cxl-rp,id=rp0,bus=cxl.0,chassis=0,port=0,slot=0\n"
	"-object memory-backend-file,id=mem0,mem-path=%1$s/shared.raw,"
	"size=256M,share=true\n"
	"-object memory-backend-file,id=lsa0,mem-path=%1$s/lsa2.raw,"
	"size=64K,share=true\n"
	"-device cxl-type3,bus=rp0,volatile-memdev=mem0,lsa=lsa0,id=cxl-mem0\n"
	"-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G\n"
	"\n"
	"[host host3]\n"
	"-machine type=q35,cxl=on -m 4G,slots=8,maxmem=8G\n"
	"-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12\n"
	"-device pxb-cxl,id=cxl.2,bus=pcie.0,bus_nr=222\n"
	"-device cxl-rp,port=0,bus=cxl.1,id=rp1,chassis=0,slot=2\n"
	"-device cxl-rp,port=0,bus=cxl.2,id=rp2,chassis=0,slot=3\n"
	"-device cxl-rp,port=1,bus=cxl.2,id=rp3,chassis=0,slot=4\n"
	"-object memory-backend-ram,id=p1,size=512M\n"
	"-object memory-backend-ram,id=p2,size=512M\n"
	"-object memory-backend-ram,id=l1,size=64K\n"
	"-object memory-backend-ram,id=l2,size=64K\n"
	"-object memory-backend-ram,id=v3,size=256M\n"
	"-device cxl-type3,bus=rp1,persistent-memdev=p1,lsa=l1,id=cxl-pmem0\n"
	"-device cxl-type3,bus=rp2,persistent-memdev=p2,lsa=l2,id=cxl-pmem1\n"
	"-device cxl-upstream,bus=rp3,id=us0\n"
	"-device cxl-downstream,port=0,bus=us0,id=sw0,chassis=0,slot=5\n"
	"-device cxl-type3,bus=sw0,volatile-memdev=v3,id=cxl-vmem2\n"
	"-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.targets.1=cxl.2,"
	"cxl-fmw.0.size=4G,cxl-fmw.0.interleave-granularity=256,"
	"cxl-fmw.1.targets.0=cxl.2,cxl-fmw.1.size=4G\n";

/* ---- failures ---- */

static const char *fz_req_text; /* the request being handled, for reports */

static void fz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
							noreturn));
static void fz_die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fuzz_ops: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfuzz_ops: request: %s\n",
		fz_req_text ? fz_req_text : "-");
	abort();
}

/* ---- the private directory ---- */

static void fz_clean_dir(void)
{
	DIR *d = opendir(fz_dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", fz_dir, de->d_name);
		unlink(p);
	}
	closedir(d);
}

static void fz_remove_dir(void)
{
	if (!fz_dir[0])
		return;
	fz_clean_dir();
	rmdir(fz_dir);
	fz_dir[0] = 0;
}

static void fz_init(void)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
			   access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(fz_dir, sizeof(fz_dir), "%s/cxlemu-fuzz-ops-XXXXXX", base);
	if (!mkdtemp(fz_dir)) {
		fprintf(stderr, "fuzz_ops: mkdtemp %s: %s\n", fz_dir,
			strerror(errno));
		abort();
	}
	snprintf(fz_sock, sizeof(fz_sock), "%s/sock", fz_dir);
	fz_topo = cx_xasprintf(fz_topo_fmt, fz_dir);
	atexit(fz_remove_dir);
	const char *t = getenv("CXLEMU_FUZZ_TRACE");
	fz_trace = t && *t && strcmp(t, "0");
}

/* ---- the fabric and server of one input ---- */

static uint64_t fz_clock(void *ctx)
{
	(void)ctx;
	return fz_now;
}

static void fz_up(void)
{
	struct cx_fabric *f = NULL;
	cx_err e;

	fz_clean_dir();
	if (cx_config_load_text("fuzz-ops", fz_topo, &f, &e) ||
	    cx_fabric_start(f, &e) ||
	    cx_server_open(f, fz_sock, &fz_srv, &e)) {
		fprintf(stderr, "fuzz_ops setup: %s\n", e.msg);
		abort();
	}
	fz_fab = f;
	fz_now = 0;
	for (int i = 0; i < f->hosts.n; i++) {
		struct cx_host *h = f->hosts.v[i];
		for (int j = 0; j < h->memdevs.n; j++)
			cx_mbox_set_clock(h->memdevs.v[j], fz_clock, NULL);
	}
}

static void fz_down(void)
{
	cx_server_close(fz_srv); /* close hooks, then the fabric */
	fz_srv = NULL;
	fz_fab = NULL;
	fz_clean_dir();
}

static int fz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- input bytes ---- */

#define FZ_PICK(r, tab) (tab[fz_u8(r) % (sizeof(tab) / sizeof(tab[0]))])

/* ---- dictionaries ---- */

static const char *const fz_words[] = {
	"mem0", "mem1", "mem2", "mem3", "cxl-mem0", "cxl-pmem0", "cxl-pmem1",
	"cxl-vmem2", "region0", "region1", "region2", "all", "decoder0.0",
	"decoder0.1", "decoder0.2", "decoder1.0", "decoder2.0", "decoder3.0",
	"decoder4.0", "dax0.0", "dax1.0", "dax2.0", "ram", "pmem", "volatile",
	"devdax", "system-ram", "poison", "general-media", "dram",
	"memory-module", "health", "informational", "warning", "failure",
	"fatal", "dynamic-capacity", "host1", "host2", "host3", "root0",
	"port1", "endpoint2", "cxl.1", "0x40", "0x1000", "0x10000000", "-1",
	"", "0", "1", "00", "zz", "0x", "1,2,3,4,5", "region-1", "mem1000000",
	"dax99999999999.0", "decoder0.99999999999",
};

static const int64_t fz_nums[] = {
	0, 1, 2, 3, 4, 8, 16, 17, 64, 255, 256, 4096, 65535, 65536,
	0x10000000, 0x20000000, 0x40000000, 0x100000000LL, -1, -2, -32768,
	-32769, 32767, 2147483647LL, 2147483648LL, -2147483649LL, INT64_MAX,
	INT64_MIN, 0xffffff, 0x1000000,
};

/* ---- values ---- */

static int fz_count_ops(void)
{
	int n = 0;
	while (cx_server_ops[n].name)
		n++;
	return n;
}


static struct json_object *fz_word(struct fz_in *r)
{
	return json_object_new_string(FZ_PICK(r, fz_words));
}

static struct json_object *fz_fmt(const char *fmt, int n)
{
	char buf[64];
	snprintf(buf, sizeof(buf), fmt, n);
	return json_object_new_string(buf);
}

static struct json_object *fz_hex(struct fz_in *r, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = cx_xcalloc(1, 2 * n + 2);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = fz_u8(r);
		s[k++] = digits[b >> 4];
		s[k++] = digits[b & 15];
	}
	struct json_object *o = json_object_new_string(s);
	free(s);
	return o;
}

static struct json_object *fz_wild(struct fz_in *r, int depth);

static struct json_object *fz_string_array(struct fz_in *r, int n)
{
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, fz_word(r));
	return a;
}

/* Any JSON value. */
static struct json_object *fz_wild(struct fz_in *r, int depth)
{
	uint8_t t = fz_u8(r);
	switch (t % 12) {
	case 0:
		return fz_word(r);
	case 1:
		return json_object_new_int64(FZ_PICK(r, fz_nums));
	case 2:
		return json_object_new_uint64(fz_u64(r));
	case 3:
		return json_object_new_int64((int64_t)(fz_u64(r) |
						       (1ULL << 63)));
	case 4:
		return json_object_new_boolean(t & 16);
	case 5:
		return NULL; /* JSON null */
	case 6:
		return fz_string_array(r, fz_u8(r) % 5);
	case 7:
		return fz_hex(r, fz_u8(r) % 40);
	case 8: {
		struct json_object *o = json_object_new_object();
		if (depth < 3) {
			int n = fz_u8(r) % 3;
			for (int i = 0; i < n; i++) {
				/* the key first: arguments are unsequenced */
				const char *k = FZ_PICK(r, fz_words);
				json_object_object_add(o, k,
						       fz_wild(r, depth + 1));
			}
		}
		return o;
	}
	case 9: {
		static const double d[] = { 0.5, -0.0, 1e300, -1e300, 256.0,
					    4294967296.0, 1e-300 };
		return json_object_new_double(FZ_PICK(r, d));
	}
	case 10: {
		char buf[33];
		size_t n = fz_u8(r) % 33;
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)fz_u8(r);
		return json_object_new_string_len(buf, (int)n);
	}
	default: {
		struct json_object *a = json_object_new_array();
		int n = fz_u8(r) % 4;
		for (int i = 0; i < n && depth < 3; i++)
			json_object_array_add(a, fz_wild(r, depth + 1));
		return a;
	}
	}
}

/* inject params: QMP's keys (and one nobody takes) with plausible values */
static const char *const fz_param_keys[] = {
	"start", "length", "log", "flags", "dpa", "descriptor", "type",
	"transaction-type", "channel", "rank", "device", "component-id",
	"nibble-mask", "bank-group", "bank", "row", "column",
	"correction-mask", "health-status", "media-status",
	"additional-status", "life-used", "temperature",
	"dirty-shutdown-count", "corrected-volatile-error-count",
	"corrected-persistent-error-count", "bogus",
};

static struct json_object *fz_param_value(struct fz_in *r)
{
	uint8_t s = fz_u8(r);
	switch (s % 8) {
	case 0:
	case 1:
		return json_object_new_int64(FZ_PICK(r, fz_nums));
	case 2: /* a DPA: cache lines within a device, or just past it */
		return json_object_new_uint64((uint64_t)fz_u16(r) *
					      (s & 8 ? 64 : 0x10000));
	case 3:
		return fz_word(r);
	case 4: {
		static const char *const v[] = { "0x40", "0xff", "0x100",
			"-1", "-32768", "-32769", "32767", "1,2,3", "1,2,3,4",
			"1,2,3,4,5", "1,,2", "0x10000000", "18446744073709551615",
			"18446744073709551616", "informational", "fatal", "4",
			"abcdefghijklmnopq", "abc" };
		return json_object_new_string(FZ_PICK(r, v));
	}
	case 5: {
		struct json_object *a = json_object_new_array();
		int n = fz_u8(r) % 6;
		for (int i = 0; i < n; i++)
			json_object_array_add(a, s & 16 ? fz_word(r) :
					      json_object_new_int64(
						      FZ_PICK(r, fz_nums)));
		return a;
	}
	case 6:
		return json_object_new_uint64(fz_u64(r));
	default:
		return fz_wild(r, 2);
	}
}

static const char *const fz_opt_keys[] = {
	"memdevs", "buses", "ports", "endpoints", "decoders", "regions",
	"targets", "dax", "idle", "human", "health", "partition", "firmware",
	"alert", "media_errors", "single", "memdev_filter", "serial_filter",
	"bus_filter", "port_filter", "endpoint_filter", "decoder_filter",
	"region_filter", "bogus",
};

enum fz_kind {
	V_ROOT, V_WAYS, V_GRAN, V_SIZE, V_TYPE, V_BOOL, V_MEMDEVS, V_REGION,
	V_OFFSET, V_LENGTH, V_DEVICE, V_MODE, V_MEMDEV, V_OPCODE, V_PAYLOAD,
	V_KIND, V_PARAMS, V_OPTS, V_OP, V_HOST, V_ACTION, V_COHERENCY, V_PATH,
	V_PID,
};

/* Plausible values for keys the table (proto/ops.def) names, by name.
 * Which keys an op takes, their types and which are required come from
 * the table alone: a key it gains without a line here gets values of its
 * type (fz_typed). */
static const struct fz_key {
	const char *key;
	enum fz_kind kind;
} fz_hints[] = {
	{ "root", V_ROOT }, { "ways", V_WAYS }, { "gran", V_GRAN },
	{ "size", V_SIZE }, { "type", V_TYPE }, { "human", V_BOOL },
	{ "memdevs", V_MEMDEVS }, { "name", V_REGION }, { "force", V_BOOL },
	{ "region", V_REGION }, { "offset", V_OFFSET },
	{ "length", V_LENGTH }, { "device", V_DEVICE }, { "mode", V_MODE },
	{ "memdev", V_MEMDEV }, { "opcode", V_OPCODE },
	{ "payload", V_PAYLOAD }, { "kind", V_KIND }, { "params", V_PARAMS },
	{ "opts", V_OPTS }, { "op", V_OP }, { "host", V_HOST },
	{ "data_len", V_LENGTH }, { "action", V_ACTION },
	{ "coherency", V_COHERENCY }, { "path", V_PATH }, { "pid", V_PID },
	{ "nofollow", V_BOOL },
};

static const struct fz_key *fz_hint(const char *name)
{
	for (size_t i = 0; i < sizeof(fz_hints) / sizeof(fz_hints[0]); i++)
		if (!strcmp(fz_hints[i].key, name))
			return &fz_hints[i];
	return NULL;
}

/* Every key name the table has (the envelope's, then each row's, each
 * once), for keys sent to an op that does not take them. */
static const char *fz_all_keys[128];
static int fz_nall;

static void fz_all_keys_init(void)
{
	for (int i = 0; cx_envelope_keys[i]; i++)
		fz_all_keys[fz_nall++] = cx_envelope_keys[i];
	for (int i = 0; i < CX_OP_COUNT; i++)
		for (int j = 0; j < cx_op_schemas[i].nkeys; j++) {
			const char *k = cx_op_schemas[i].keys[j].name;
			int n = 0;
			while (n < fz_nall && strcmp(fz_all_keys[n], k))
				n++;
			if (n == fz_nall && fz_nall < 128)
				fz_all_keys[fz_nall++] = k;
		}
}

/* A value that suits the key. */
static struct json_object *fz_natural(struct fz_in *r, enum fz_kind k)
{
	uint8_t s = fz_u8(r);

	switch (k) {
	case V_ROOT:
		return s < 0xf0 ? fz_fmt("decoder0.%d", s % 3) : fz_word(r);
	case V_WAYS: {
		static const int64_t v[] = { 0, 1, 2, 2, 3, 4, 8, 16, 17, -1,
					     2147483648LL };
		return json_object_new_int64(v[s % 11]);
	}
	case V_GRAN: {
		static const int64_t v[] = { 0, 256, 256, 512, 1024, 4096,
					     8192, 16384, 100, 1, 4294967296LL,
					     4294967295LL };
		return json_object_new_int64(v[s % 12]);
	}
	case V_SIZE: {
		static const uint64_t v[] = { 0, 256 * FZ_MiB, 512 * FZ_MiB,
			768 * FZ_MiB, 1024 * FZ_MiB, 128 * FZ_MiB, 1,
			4096 * FZ_MiB, 1ULL << 63, UINT64_MAX, 2 * FZ_MiB };
		return json_object_new_uint64(v[s % 11]);
	}
	case V_TYPE: {
		static const char *const v[] = { "ram", "pmem", "volatile",
						 "RAM", "", "mixed" };
		return json_object_new_string(v[s % 6]);
	}
	case V_BOOL:
		return json_object_new_boolean(s & 1);
	case V_MEMDEVS: {
		int n = s == 0xff ? 17 : s % 5;
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < n; i++) {
			uint8_t m = fz_u8(r);
			json_object_array_add(a, m < 0xf0 ?
					      fz_fmt("mem%d", m % 4) :
					      fz_word(r));
		}
		return a;
	}
	case V_REGION: /* region0..2, or "all" (destroy-region) */
		if (s < 0xe0)
			return s % 4 == 3 ? json_object_new_string("all") :
			       fz_fmt("region%d", s % 4);
		return fz_word(r);
	case V_DEVICE:
		return s < 0xe0 ? fz_fmt("dax%d.0", s % 3) : fz_word(r);
	case V_OFFSET: {
		static const uint64_t v[] = { 0, 64, 4095, 4096,
			256 * FZ_MiB - 1, 256 * FZ_MiB, 512 * FZ_MiB - 1,
			512 * FZ_MiB, 1ULL << 32, 1ULL << 63, UINT64_MAX,
			256 * FZ_MiB - 4096 };
		if (s < 0x80)
			return json_object_new_uint64((uint64_t)fz_u16(r) *
						      (s & 1 ? 1 : 256));
		return json_object_new_uint64(v[s % 12]);
	}
	case V_LENGTH: {
		static const uint64_t v[] = { 0, 1, 64, 4096, 65536, FZ_MiB,
			256 * FZ_MiB, 256 * FZ_MiB + 1, UINT64_MAX,
			(256u << 20) + 1 };
		if (s < 0xa0)
			return json_object_new_uint64(fz_u16(r) % 9000);
		return json_object_new_uint64(v[s % 10]);
	}
	case V_MODE: {
		static const char *const v[] = { "devdax", "system-ram",
						 "kmem", "" };
		return json_object_new_string(v[s % 4]);
	}
	case V_MEMDEV:
		return s < 0xd0 ? fz_fmt("mem%d", s % 4) : fz_word(r);
	case V_OPCODE: {
		const struct cx_mbox_cmd_info *tab;
		int n = cx_mbox_commands(&tab);
		if (s < 0xf0 && n > 0)
			return json_object_new_int(tab[s % n].opcode);
		return json_object_new_uint64(s & 1 ? fz_u16(r) : fz_u64(r));
	}
	case V_PAYLOAD: {
		size_t n = s < 0xf0 ? s % 0x48 : fz_u16(r) % 4200;
		struct json_object *o = fz_hex(r, n);
		if (s >= 0xfe) { /* an odd digit or a non-digit at the end */
			char *t = cx_xasprintf("%s%s", json_object_get_string(o),
					       s & 1 ? "z" : "0");
			json_object_put(o);
			o = json_object_new_string(t);
			free(t);
		}
		return o;
	}
	case V_ACTION: {
		static const char *const v[] = { "accept", "reject", "read",
						 "write", "release" };
		return json_object_new_string(v[s % 5]);
	}
	case V_KIND: {
		static const char *const v[] = { "poison", "general-media",
			"dram", "memory-module", "health", "nothing" };
		return json_object_new_string(v[s % 6]);
	}
	case V_PARAMS: {
		struct json_object *o = json_object_new_object();
		int n = s % 6;
		for (int i = 0; i < n; i++) {
			const char *key = FZ_PICK(r, fz_param_keys);
			json_object_object_add(o, key, fz_param_value(r));
		}
		return o;
	}
	case V_OPTS: {
		struct json_object *o = json_object_new_object();
		int n = s % 5;
		for (int i = 0; i < n; i++) {
			uint8_t b = fz_u8(r);
			const char *key = fz_opt_keys[b % (sizeof(fz_opt_keys) /
						      sizeof(fz_opt_keys[0]))];
			json_object_object_add(o, key, strstr(key, "_filter") ?
					       fz_word(r) :
					       json_object_new_boolean(b & 0x80));
		}
		return o;
	}
	case V_COHERENCY: {
		static const char *const v[] = { "coherent", "noncoherent",
						 "incoherent", "" };
		return json_object_new_string(v[s % 4]);
	}
	case V_PATH: {
		static const char *const v[] = { "/sys/bus/cxl/devices",
			"/sys/bus/cxl/devices/mem0/serial",
			"/sys/bus/cxl/devices/decoder0.0/create_ram_region",
			"/sys/bus/cxl/devices/region0/size",
			"/sys/bus/dax/devices/dax0.0", "/sys", "", "/..",
			"/sys/bus/cxl/devices/mem0/../../../.." };
		return json_object_new_string(v[s % 9]);
	}
	case V_PID:
		return json_object_new_int64(s < 0xf0 ? s :
					     FZ_PICK(r, fz_nums));
	case V_OP:
		return json_object_new_string(s < 0xf0 ?
			cx_server_ops[s % fz_count_ops()].name : "no-such-op");
	case V_HOST:
	default:
		return fz_word(r);
	}
}

/* A value of the key's type, for keys without a hint. */
static struct json_object *fz_typed(struct fz_in *r, enum cx_key_type t)
{
	switch (t) {
	case CX_KEY_STR:
		return fz_word(r);
	case CX_KEY_INT:
		return json_object_new_int64(FZ_PICK(r, fz_nums));
	case CX_KEY_U64:
		return fz_natural(r, V_OFFSET);
	case CX_KEY_BOOL:
		return fz_natural(r, V_BOOL);
	case CX_KEY_NAMES:
		return fz_string_array(r, fz_u8(r) % 4);
	case CX_KEY_MAP:
		return json_object_new_object();
	}
	return fz_wild(r, 0);
}

/* A plausible value for `key`, a key of the table (or the envelope). */
static struct json_object *fz_natural_key(struct fz_in *r, const char *key)
{
	const struct fz_key *h = fz_hint(key);
	if (h)
		return fz_natural(r, h->kind);
	for (int i = 0; i < CX_OP_COUNT; i++) {
		const struct cx_key *k = cx_schema_key(&cx_op_schemas[i], key);
		if (k)
			return fz_typed(r, k->type);
	}
	return fz_word(r);
}

/* Mostly plausible, else any JSON value: the wrong types. */
static struct json_object *fz_value(struct fz_in *r, const char *key)
{
	uint8_t s = fz_u8(r);
	return s < 0xc0 ? fz_natural_key(r, key) : fz_wild(r, 0);
}

/* ---- oracles ---- */

/* Where a region's bytes are, by its device-DAX recipe (model/dax.c): a
 * second derivation of the interleave, checked here against the media
 * bytes the handlers read and write. */
struct fz_span {
	bool on;
	uint64_t off;
	size_t len;
	struct cx_dax_recipe rc;
	uint8_t *before;
};

/* Copy the region bytes [off, off+len) out of (dir 0) or compare them
 * with (dir 1) buf, walking the recipe; returns the first differing
 * offset + 1, or 0. */
static uint64_t fz_walk(const struct fz_span *s, uint8_t *buf, int dir)
{
	for (size_t i = 0; i < s->len;) {
		int ent;
		uint64_t moff, left;
		cx_dax_locate(&s->rc, s->off + i, &ent, &moff, &left);
		struct cx_media *m = s->rc.ent[ent].media;
		size_t n = left < s->len - i ? (size_t)left : s->len - i;
		if (!m || moff > m->size || n > m->size - moff)
			fz_die("region offset %#llx lies at media offset %#llx, "
			       "past the end of %s (%#llx bytes)",
			       (unsigned long long)(s->off + i),
			       (unsigned long long)moff, m ? m->name : "?",
			       m ? (unsigned long long)m->size : 0ULL);
		while (n) {
			/* the device's bytes wherever they are held: in
			 * the store, or in a region view (media.h) */
			uint64_t k;
			const uint8_t *p = cx_media_at(m, moff, &k);
			if (k > n)
				k = n;
			if (dir == 0)
				memcpy(buf + i, p, k);
			else if (memcmp(buf + i, p, k)) {
				for (size_t j = 0; j < k; j++)
					if (buf[i + j] != p[j])
						return s->off + i + j + 1;
			}
			i += k;
			moff += k;
			n -= k;
		}
	}
	return 0;
}

/* Before a read or write: where its bytes are, if the region and range
 * are valid (else the handler must refuse, which the region check and
 * ASan cover). */
static void fz_span_prepare(struct fz_span *s, struct cx_host *h,
			    struct json_object *req, uint64_t len)
{
	const char *name = NULL;
	uint64_t off = 0;
	cx_err e;

	memset(s, 0, sizeof(*s));
	if (len == 0 || len > 4 * FZ_MiB ||
	    cx_proto_get_str(req, "region", true, &name, &e) ||
	    cx_proto_get_u64(req, "offset", true, &off, &e))
		return;
	struct cx_region *r = cx_region_find(h, name);
	if (!r || !r->committed || off >= r->size || len > r->size - off ||
	    cx_region_dax_recipe(r, &s->rc, &e))
		return;
	for (int j = 0; j < s->rc.ilv.ways; j++)
		if (!s->rc.ent[j].media || !s->rc.ent[j].media->map)
			return;
	s->on = true;
	s->off = off;
	s->len = (size_t)len;
	s->before = cx_xcalloc(1, s->len);
	fz_walk(s, s->before, 0);
}

static void fz_check_dax_map(const struct cx_srv_call *c)
{
	struct json_object *lens, *ents, *jsize, *jways;

	if (!json_object_object_get_ex(c->result, "fd_len", &lens) ||
	    !json_object_object_get_ex(c->result, "entries", &ents) ||
	    !json_object_object_get_ex(c->result, "size", &jsize) ||
	    !json_object_object_get_ex(c->result, "ways", &jways))
		fz_die("dax-map reply lacks fd_len, entries, size or ways");
	int nl = (int)json_object_array_length(lens);
	int ways = json_object_get_int(jways);
	uint64_t size = json_object_get_uint64(jsize);
	if (nl != c->nfds || c->nfds < 1 || ways < 1 ||
	    (int)json_object_array_length(ents) != ways)
		fz_die("dax-map reply: %d fd_len for %d descriptors, %d "
		       "entries for %d ways", nl, c->nfds,
		       (int)json_object_array_length(ents), ways);
	for (int i = 0; i < nl; i++) {
		struct stat st;
		uint64_t l = json_object_get_uint64(
			json_object_array_get_idx(lens, (size_t)i));
		if (fstat(c->fds[i], &st) < 0 || (uint64_t)st.st_size < l)
			fz_die("dax-map: descriptor %d spans %#llx bytes but "
			       "its file holds %#llx", i, (unsigned long long)l,
			       (unsigned long long)st.st_size);
	}
	/* a region view: one descriptor, the device's bytes in order, and
	 * no extents; nothing more is reachable */
	struct json_object *jview;
	if (json_object_object_get_ex(c->result, "view", &jview)) {
		int v = json_object_get_int(jview);
		if (nl != 1 || v != 0 ||
		    json_object_get_uint64(json_object_array_get_idx(lens,
								     0)) != size)
			fz_die("dax-map: view %d of %d descriptors does not "
			       "span the device's %#llx bytes", v, nl,
			       (unsigned long long)size);
		for (int j = 0; j < ways; j++) {
			struct json_object *xs;
			if (!json_object_object_get_ex(json_object_array_get_idx(
				    ents, (size_t)j), "extents", &xs) ||
			    json_object_array_length(xs))
				fz_die("dax-map entry %d of a view has extents",
				       j);
		}
		return;
	}
	/* each position's extents lie inside their descriptors and hold
	 * exactly its share of the device: nothing more is reachable */
	for (int j = 0; j < ways; j++) {
		struct json_object *o = json_object_array_get_idx(ents,
								  (size_t)j);
		struct json_object *xs;
		uint64_t have = 0, span = size / (uint64_t)ways;
		if (!json_object_object_get_ex(o, "extents", &xs) ||
		    !json_object_is_type(xs, json_type_array))
			fz_die("dax-map entry %d lacks its extents", j);
		for (size_t k = 0; k < json_object_array_length(xs); k++) {
			struct json_object *x = json_object_array_get_idx(xs, k);
			struct json_object *jfd, *joff, *jlen;
			if (!json_object_object_get_ex(x, "fd", &jfd) ||
			    !json_object_object_get_ex(x, "offset", &joff) ||
			    !json_object_object_get_ex(x, "length", &jlen))
				fz_die("dax-map entry %d extent %zu lacks fd, "
				       "offset or length", j, k);
			int fd = json_object_get_int(jfd);
			uint64_t off = json_object_get_uint64(joff);
			uint64_t len = json_object_get_uint64(jlen);
			if (fd < 0 || fd >= nl)
				fz_die("dax-map entry %d names descriptor %d "
				       "of %d", j, fd, nl);
			uint64_t l = json_object_get_uint64(
				json_object_array_get_idx(lens, (size_t)fd));
			if (off > l || len > l - off)
				fz_die("dax-map entry %d: %#llx bytes at %#llx "
				       "run past fd_len %#llx", j,
				       (unsigned long long)len,
				       (unsigned long long)off,
				       (unsigned long long)l);
			have += len;
		}
		if (have != span)
			fz_die("dax-map entry %d: its extents hold %#llx bytes, "
			       "its share of the device is %#llx", j,
			       (unsigned long long)have,
			       (unsigned long long)span);
	}
}

/* translate names the media and offset of one region byte: they must be
 * where the region's device-DAX recipe puts that byte. */
static void fz_check_translate(struct cx_host *h, const struct cx_srv_call *c)
{
	struct json_object *jmedia, *jmoff, *jreg, *joff;
	struct cx_dax_recipe rc;
	cx_err e;

	if (!json_object_object_get_ex(c->result, "region", &jreg) ||
	    !json_object_object_get_ex(c->result, "offset", &joff))
		fz_die("translate reply lacks region or offset");
	struct cx_region *r = cx_region_find(h, json_object_get_string(jreg));
	if (!r)
		fz_die("translate names %s, which the host does not have",
		       json_object_get_string(jreg));
	if (!json_object_is_type(joff, json_type_int) ||
	    !json_object_object_get_ex(c->result, "media", &jmedia) ||
	    !json_object_object_get_ex(c->result, "media_offset", &jmoff) ||
	    !json_object_is_type(jmoff, json_type_int) ||
	    cx_region_dax_recipe(r, &rc, &e))
		return; /* human numbers, or no recipe to compare with */
	uint64_t off = json_object_get_uint64(joff), moff, left;
	int ent;
	if (off >= r->size)
		fz_die("translate: offset %#llx is past region%d's %#llx bytes",
		       (unsigned long long)off, r->id,
		       (unsigned long long)r->size);
	cx_dax_locate(&rc, off, &ent, &moff, &left);
	struct cx_media *m = rc.ent[ent].media;
	const char *name = m->path ? m->path : m->name;
	if (moff != json_object_get_uint64(jmoff) ||
	    strcmp(name, json_object_get_string(jmedia)))
		fz_die("translate: region%d offset %#llx is at %s %#llx by the "
		       "reply, at %s %#llx by the region's layout", r->id,
		       (unsigned long long)off, json_object_get_string(jmedia),
		       (unsigned long long)json_object_get_uint64(jmoff),
		       name, (unsigned long long)moff);
}

/* ---- one request ---- */

struct fz_req {
	struct json_object *req; /* owned, as dispatch() owns it */
	uint8_t *frame;          /* a binary mailbox frame (owned) */
	size_t frame_len;
	struct cx_host *host;    /* whose socket it came through */
	uint8_t *data;           /* owned */
	size_t data_len;
	int client;
};

/* What dispatch() in server.c does between parsing and replying, minus
 * the socket: find the op and the host, call the handler, check the
 * reply, then free it as queue_reply and the connection would. */
static void fz_dispatch(struct fz_req *q)
{
	static char text[4096];
	struct cx_srv_call call;
	const struct cx_op *op;
	const char *name = NULL, *host = NULL;
	struct fz_span span;
	uint64_t want_len = 0;
	cx_err e;
	int rc;

	snprintf(text, sizeof(text), "%s (client %d, raw frame of %zu bytes)",
		 json_object_to_json_string_ext(q->req, JSON_C_TO_STRING_PLAIN),
		 q->client, q->data_len);
	fz_req_text = text;
	if (fz_trace)
		fprintf(stderr, "fuzz_ops: %s\n", text);
	if (cx_proto_get_str(q->req, "op", true, &name, &e) ||
	    !(op = cx_server_find_op(name)) ||
	    cx_proto_get_str(q->req, "host", false, &host, &e))
		return; /* dispatch refuses these itself */
	memset(&call, 0, sizeof(call));
	call.host = cx_host_find(fz_fab, host);
	if (!call.host)
		return;
	call.server = fz_srv;
	call.fabric = fz_fab;
	call.client = q->client;
	call.req = q->req;
	call.data = q->data;
	call.data_len = q->data_len;

	bool is_read = !strcmp(op->name, "read");
	bool is_write = !strcmp(op->name, "write");
	if (is_read && cx_proto_get_u64(q->req, "length", true, &want_len, &e))
		want_len = 0;
	memset(&span, 0, sizeof(span));
	if (is_read || is_write)
		fz_span_prepare(&span, call.host, q->req,
				is_read ? want_len : q->data_len);

	e.msg[0] = 0;
	cx_err fit;
	fz_unfit += cx_schema_check(op->schema, q->req, &fit) != 0;
	rc = cx_server_run_op(op, &call, &e);
	/* long work: as the server's loop does, piece by piece */
	while (rc == 0 && call.more) {
		int more = call.more(&call, &e);
		if (more > 0)
			continue;
		rc = more;
		if (rc < 0 && !e.msg[0])
			fz_die("%s failed mid-way (%d) without saying why",
			       op->name, rc);
		free(call.more_arg);
		call.more = NULL;
		call.more_arg = NULL;
		if (rc < 0) {
			json_object_put(call.result);
			call.result = NULL;
			free(call.out_data);
			call.out_data = NULL;
			call.out_len = 0;
		}
	}
	if ((op->flags & CX_OP_STATE) || call.restate) {
		/* as dispatch does: take back what no grant covers */
		cx_err re;
		if (cx_fabric_reclaim(fz_fab, &re) < 0)
			fz_die("%s: taking back media blocks: %s", op->name,
			       re.msg);
	}
	fz_handled++;
	fz_refused += rc != 0;
	if (fz_trace)
		fprintf(stderr, "fuzz_ops:   -> %d %.300s\n", rc,
			rc ? e.msg : json_object_to_json_string_ext(
				call.result, JSON_C_TO_STRING_PLAIN));

	if (!memchr(e.msg, 0, sizeof(e.msg)))
		fz_die("%s: the error message is not terminated", op->name);
	if (rc > 0)
		fz_die("%s returned %d (handlers return 0 or -errno)",
		       op->name, rc);
	if (rc < 0 && !e.msg[0])
		fz_die("%s failed (%d) without saying why", op->name, rc);
	if (call.nfds < 0 || call.nfds > CX_PROTO_MAX_FDS)
		fz_die("%s returned %d descriptors", op->name, call.nfds);
	if (rc == 0) {
		if (!call.result)
			fz_die("%s succeeded without a result", op->name);
		if (call.out_len && !call.out_data)
			fz_die("%s returned %zu raw bytes and no buffer",
			       op->name, call.out_len);
		for (int i = 0; i < call.nfds; i++)
			if (fcntl(call.fds[i], F_GETFD) < 0)
				fz_die("%s returned descriptor %d (slot %d), "
				       "which is not open", op->name,
				       call.fds[i], i);
		size_t len;
		if (!json_object_to_json_string_length(
			    call.result, JSON_C_TO_STRING_PLAIN, &len) || !len)
			fz_die("%s: result does not serialise", op->name);
		if (is_read && call.out_len != want_len)
			fz_die("read of %llu bytes returned %zu",
			       (unsigned long long)want_len, call.out_len);
		if (!strcmp(op->name, "dax-map"))
			fz_check_dax_map(&call);
		if (!strcmp(op->name, "translate"))
			fz_check_translate(call.host, &call);
	}
	if (span.on) {
		uint64_t bad = 0;
		if (is_write)
			bad = fz_walk(&span, rc == 0 ? q->data : span.before, 1);
		else if (rc == 0)
			bad = fz_walk(&span, call.out_data, 1);
		if (bad)
			fz_die("%s%s: the byte at region offset %#llx is not "
			       "what the region's layout says is there",
			       op->name, rc ? " (refused)" : "",
			       (unsigned long long)(bad - 1));
		free(span.before);
	}
	/* the reply is sent and dropped; descriptors are closed */
	json_object_put(call.result);
	free(call.out_data);
	for (int i = 0; i < call.nfds; i++)
		close(call.fds[i]);
	fz_req_text = NULL;
}

/* The raw frame a request announces, as on_frame() in server.c waits for
 * it: none without "data_len", none for a request it refuses. */
static bool fz_frame(struct fz_req *q, uint8_t seed)
{
	uint64_t dlen = 0;
	cx_err e;

	if (cx_proto_get_u64(q->req, "data_len", false, &dlen, &e) ||
	    dlen > 65536)
		return false; /* refused, or more than we care to make */
	q->data_len = (size_t)dlen;
	if (!dlen)
		return true;
	q->data = cx_xcalloc(1, q->data_len);
	uint64_t x = 0x9e3779b97f4a7c15ULL * (seed | 1ULL);
	for (size_t i = 0; i < q->data_len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		q->data[i] = seed & 1 ? (uint8_t)x : seed;
	}
	return true;
}

/* A binary mailbox frame as on_binary() in server.c takes it: parsed,
 * then run as the socket's host.  The contract: a refusal says why, an
 * answer fits its buffers, and the reply frame built from it reads back
 * as what was put in. */
static void fz_binary(struct fz_req *q)
{
	static uint8_t out[CX_MBOX_PAYLOAD_MAX];
	static char text[256];
	struct cx_mbf_req rq;
	struct cx_mbf_rep rp = { .status = CX_MBF_RAN }, back;
	struct cx_srv_call call;
	cx_err e;

	if (fz_trace)
		fprintf(stderr, "fuzz_ops: binary frame of %zu bytes as %s\n",
			q->frame_len, q->host->name);
	e.msg[0] = 0;
	int rc = cx_mbf_req_parse(q->frame, q->frame_len, &rq, &e);
	if (rc == 0) {
		memset(&call, 0, sizeof(call));
		call.server = fz_srv;
		call.fabric = fz_fab;
		call.host = q->host;
		call.client = q->client;
		text[0] = 0;
		rc = cx_srv_mbox_binary(&call, &rq, &rp, out, sizeof(out),
					text, sizeof(text), &e);
		if (rc == 0 && (rp.out_len > sizeof(out) ||
				rp.status != CX_MBF_RAN))
			fz_die("binary mailbox: %zu output bytes in a %zu-byte "
			       "buffer, status %d", rp.out_len, sizeof(out),
			       rp.status);
	}
	if (rc > 0 || (rc < 0 && !e.msg[0]))
		fz_die("binary mailbox: returned %d%s", rc,
		       rc < 0 ? " without saying why" : "");
	fz_bin_ran += rc == 0;
	fz_bin_refused += rc != 0;
	if (rc < 0)
		rp = (struct cx_mbf_rep){ .status = CX_MBF_REFUSED,
					  .err = -rc, .text = e.msg };
	size_t n;
	uint8_t *f = cx_mbf_rep_build(&rp, &n);
	if (cx_mbf_rep_parse(f, n, &back, &e) || back.status != rp.status ||
	    back.rc != rp.rc || back.out_len != rp.out_len ||
	    (rp.out_len && memcmp(back.out, rp.out, rp.out_len)))
		fz_die("binary mailbox: the reply frame does not read back: %s",
		       e.msg);
	free(f);
}

/* The opcodes of the command table, for valid binary headers. */
static unsigned fz_table_opcode(uint8_t sel)
{
	static unsigned ops[256];
	static int n = -1;
	if (n < 0) {
		n = 0;
		for (unsigned op = 0; op <= 0xffff && n < 256; op++)
			if (cx_mbox_opcode_name((uint16_t)op))
				ops[n++] = op;
	}
	return n ? ops[sel % n] : sel;
}

/* The request the next bytes describe in q->req, or NULL. */
static void fz_next(struct fz_in *r, struct fz_req *q)
{
	static int nops;
	uint8_t opsel = fz_u8(r);
	cx_err e;

	if (!nops) {
		nops = fz_count_ops();
		fz_all_keys_init();
	}
	memset(q, 0, sizeof(*q));
	q->client = 1;
	if (opsel >= 0xf0 && opsel < 0xf8) { /* a binary mailbox frame */
		uint8_t hsel = fz_u8(r);
		q->host = fz_fab->hosts.v[hsel % fz_fab->hosts.n];
		q->client = 1 + (hsel >> 6);
		size_t n, hdr = 0;
		if (opsel & 1) {
			uint8_t md = fz_u8(r), os = fz_u8(r);
			n = fz_u8(r);
			q->frame = calloc(1, CX_MBF_REQ_HDR + n + 1);
			cx_mbf_req_header(q->frame, md % 4,
					  (uint16_t)fz_table_opcode(os), n);
			hdr = CX_MBF_REQ_HDR;
		} else {
			n = fz_u16(r) % 4096;
			q->frame = calloc(1, n + 1);
		}
		if (n > r->n)
			n = r->n;
		memcpy(q->frame + hdr, r->p, n);
		r->p += n;
		r->n -= n;
		q->frame_len = hdr + n;
		if (hdr) /* a short input: say so, as a client would */
			cx_wr_le32(q->frame + CX_MBF_REQ_LEN, (uint32_t)n);
		return;
	}
	if (opsel >= 0xf8) { /* a raw frame, as sent */
		size_t n = fz_u16(r) % 4096;
		if (n > r->n)
			n = r->n;
		int rc = cx_proto_parse(r->p, n, &q->req, &e);
		r->p += n;
		r->n -= n;
		if (rc && !e.msg[0])
			fz_die("cx_proto_parse failed without saying why");
		if (rc)
			q->req = NULL;
		else if (!fz_frame(q, opsel))
			q->req = (json_object_put(q->req), NULL);
		return;
	}
	const char *opname = cx_server_ops[opsel % nops].name;
	uint8_t hsel = fz_u8(r), hdr = fz_u8(r);
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(opname));
	if (hsel % 5)
		json_object_object_add(o, "host", hsel % 5 == 4 ?
				       json_object_new_string("host9") :
				       fz_fmt("host%d", hsel % 5));
	q->client = 1 + (hdr & 3);

	/* the op's row: its keys, in its order */
	const struct cx_op_schema *row = cx_server_ops[opsel % nops].schema;
	int nown = row->nkeys;
	if (!(hdr & 8))
		for (int i = 0; i < nown; i++)
			json_object_object_add(o, row->keys[i].name,
					       fz_natural_key(r,
							      row->keys[i].name));
	int extra = hdr >> 4;
	for (int i = 0; i < extra && r->n; i++) {
		uint8_t k = fz_u8(r);
		char odd[64];
		const char *key;
		if (nown && k < 0xd0) {        /* its own */
			key = row->keys[k % nown].name;
		} else if (k < 0xf8 || !nown) { /* any the table has */
			key = fz_all_keys[k % fz_nall];
		} else {                        /* one misspelt */
			snprintf(odd, sizeof(odd), "%s%s",
				 row->keys[k % nown].name, k & 1 ? "s" : "_");
			key = odd;
		}
		json_object_object_add(o, key, fz_value(r, key));
	}
	uint8_t seed = 0;
	if (hdr & 4) { /* a raw frame: announce it as a client does */
		uint16_t n = fz_u16(r);
		seed = fz_u8(r);
		if (n)
			json_object_object_add(o, "data_len",
					       json_object_new_int(n));
		else
			json_object_object_del(o, "data_len");
	}
	/* through the wire format and back, as the daemon receives it */
	size_t len;
	const char *text = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN, &len);
	if (cx_proto_parse((const uint8_t *)text, len, &q->req, &e))
		q->req = NULL;
	else if (!fz_frame(q, seed))
		q->req = (json_object_put(q->req), NULL);
	json_object_put(o);
}

/* ---- seed inputs ----
 *
 * A few request sequences in the input format that reach deep (a region
 * created, written, read, translated, switched to devdax, mapped by two
 * clients; mailbox commands and injections), so the fuzzer starts from
 * there: `make fuzz FUZZ_TARGET=ops` writes them into the corpus
 * (CXLEMU_FUZZ_SEED_DIR), and the smoke test runs them.  The builders
 * emit the bytes fz_next reads; a value helper names the selector that
 * picks the value wanted.
 */
struct fz_out {
	uint8_t *buf;
	size_t n, cap;
};

static void fz_put(struct fz_out *o, unsigned v)
{
	if (o->n < o->cap)
		o->buf[o->n++] = (uint8_t)v;
}

static void fz_put16(struct fz_out *o, unsigned v)
{
	fz_put(o, v & 0xff);
	fz_put(o, (v >> 8) & 0xff);
}

static int fz_op_index(const char *name)
{
	for (int i = 0; cx_server_ops[i].name; i++)
		if (!strcmp(cx_server_ops[i].name, name))
			return i;
	fz_die("no op %s in cx_server_ops", name);
}

/* A request for `op` on host<host> from `client` (1..4) with every key
 * filled in; the caller then puts the values in its row's order, then
 * fz_data() when `data`, then fz_end(). */
static void fz_begin(struct fz_out *o, const char *op, int host, int client,
		     bool data)
{
	fz_put(o, (unsigned)fz_op_index(op));
	fz_put(o, (unsigned)host);
	fz_put(o, (unsigned)((client - 1) & 3) | (data ? 4 : 0));
}

static void fz_data(struct fz_out *o, unsigned len, unsigned seed)
{
	fz_put16(o, len);
	fz_put(o, seed);
}

/* the clock byte: steps of 50 ms */
static void fz_end(struct fz_out *o, unsigned clock)
{
	fz_put(o, clock);
}

/* region<i>, dax<i>.0, mem<i>, decoder0.<i> (i < 3), a type or a mode by
 * its table index, a bool, a count: one selector byte */
static void fz_sel(struct fz_out *o, unsigned i)
{
	fz_put(o, i);
}

static void fz_off(struct fz_out *o, unsigned off) /* off < 64 KiB */
{
	fz_put(o, 1);
	fz_put16(o, off);
}

static void fz_len(struct fz_out *o, unsigned len) /* len < 9000 */
{
	fz_put(o, 0);
	fz_put16(o, len);
}

static void fz_opcode(struct fz_out *o, unsigned opcode)
{
	const struct cx_mbox_cmd_info *tab;
	int n = cx_mbox_commands(&tab);
	for (int i = 0; i < n && i < 0xf0; i++)
		if (tab[i].opcode == opcode) {
			fz_put(o, (unsigned)i);
			return;
		}
	fz_put(o, 0xf1); /* a raw 16-bit opcode */
	fz_put16(o, opcode);
}

static void fz_payload(struct fz_out *o, const uint8_t *p, unsigned n)
{
	fz_put(o, n); /* n < 0x48 */
	for (unsigned i = 0; i < n; i++)
		fz_put(o, p[i]);
}

/* create-region: root decoder0.<win>, ways, gran, size 0 (the default),
 * type (0 ram, 1 pmem), not human, and the memdevs mem<m[i]> (none: all
 * below the root).  ways/gran are selectors of fz_natural's tables. */
static void fz_create(struct fz_out *o, int host, unsigned win,
		      unsigned ways, unsigned gran, unsigned type,
		      const unsigned *m, unsigned n)
{
	fz_begin(o, "create-region", host, 1, false);
	fz_sel(o, win);
	fz_sel(o, ways);
	fz_sel(o, gran);
	fz_sel(o, 0);
	fz_sel(o, type);
	fz_sel(o, 0);
	fz_sel(o, n);
	for (unsigned i = 0; i < n; i++)
		fz_sel(o, m[i]);
	fz_end(o, 0);
}

/* one op that names a DAX device, then mode, human and coherency for
 * reconfigure */
static void fz_dax(struct fz_out *o, const char *op, int host, int client,
		   unsigned mode)
{
	fz_begin(o, op, host, client, false);
	fz_sel(o, 0);                  /* dax0.0 */
	if (!strcmp(op, "dax-reconfigure")) {
		fz_sel(o, mode);       /* 0 devdax, 1 system-ram */
		fz_sel(o, 0);
		fz_sel(o, 0);          /* coherent, as it was */
	}
	fz_end(o, 0);
}

/* write `len` bytes of pattern `seed` to region0 at `off` */
static void fz_write(struct fz_out *o, int host, unsigned off, unsigned len,
		     unsigned seed)
{
	fz_begin(o, "write", host, 1, true);
	fz_sel(o, 0);
	fz_off(o, off);
	fz_data(o, len, seed);
	fz_end(o, 0);
}

static void fz_read(struct fz_out *o, int host, unsigned off, unsigned len)
{
	fz_begin(o, "read", host, 1, false);
	fz_sel(o, 0);
	fz_off(o, off);
	fz_len(o, len);
	fz_end(o, 0);
}

/* inject into mem0: kind (a selector of fz_natural's table) and the
 * number of params; the caller puts each param's key and value bytes,
 * then fz_end() */
static void fz_inject(struct fz_out *o, int host, unsigned kind,
		      unsigned nparams)
{
	fz_begin(o, "inject", host, 1, false);
	fz_sel(o, 0);
	fz_sel(o, kind);
	fz_sel(o, nparams);
}

/* write, read back, translate, devdax, map by two clients, unmap */
static void fz_region_io(struct fz_out *o, int host, unsigned off,
			 unsigned len)
{
	fz_write(o, host, off, len, 0x33);
	fz_read(o, host, off / 2, len);
	fz_begin(o, "translate", host, 1, false);
	fz_sel(o, 0);
	fz_off(o, off + 300);
	fz_sel(o, 0);
	fz_end(o, 0);
	fz_dax(o, "dax-reconfigure", host, 1, 0);
	fz_dax(o, "dax-map", host, 1, 0);
	fz_dax(o, "dax-map", host, 2, 0);
	fz_dax(o, "dax-unmap", host, 1, 0);
}

static void fz_destroy(struct fz_out *o, int host, bool force)
{
	fz_begin(o, "destroy-region", host, 1, false);
	fz_sel(o, 0);                  /* region0 */
	fz_sel(o, force);
	fz_end(o, 0);
}

static void fz_mbox(struct fz_out *o, int host, unsigned mem,
		    unsigned opcode, const uint8_t *p, unsigned n,
		    unsigned clock)
{
	fz_begin(o, "mbox", host, 1, false);
	fz_sel(o, mem);
	fz_opcode(o, opcode);
	fz_payload(o, p, n);
	fz_end(o, clock);
}

#define FZ_NSEEDS 6

/* Seed i (0 <= i < FZ_NSEEDS) into buf; its length. */
static size_t fz_seed(int i, uint8_t *buf, size_t cap)
{
	struct fz_out o = { buf, 0, cap };
	static const unsigned pair[] = { 0, 1 }, sw[] = { 2 };

	switch (i) {
	case 0: /* host1: the shared device; destroy refused while mapped */
		fz_create(&o, 1, 0, 0, 0, 0, NULL, 0);
		fz_region_io(&o, 1, 256, 4096);
		fz_dax(&o, "dax-reconfigure", 1, 1, 1);
		fz_destroy(&o, 1, false);
		fz_destroy(&o, 1, true);
		break;
	case 1: /* host3: 2-way pmem over both host bridges, 256 B granules */
		fz_create(&o, 3, 0, 2, 1, 1, pair, 2);
		fz_region_io(&o, 3, 200, 1000);
		fz_begin(&o, "list", 3, 1, false);
		fz_sel(&o, 3);         /* opts: three keys */
		fz_put(&o, 0x80 | 21); /* key 0x95 % 24: regions; true */
		fz_put(&o, 0x80 | 22); /* key 0x96 % 24: targets; true */
		fz_put(&o, 22);        /* region_filter: */
		fz_put(&o, 8);         /* "region0" */
		fz_end(&o, 0);
		fz_destroy(&o, 3, true);
		break;
	case 2: /* host3: the volatile device behind the switch */
		fz_create(&o, 3, 1, 0, 0, 0, sw, 1);
		fz_region_io(&o, 3, 0x1000, 8000);
		break;
	case 3: { /* host3 mem0: partitions, labels, poison, events */
		static const uint8_t part[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
		static const uint8_t lsa_get[] = { 0, 0, 0, 0, 64, 0, 0, 0 };
		static const uint8_t lsa_set[] = { 0, 0, 0, 0, 0, 0, 0, 0,
						   'c', 'x', 'l', '!' };
		static const uint8_t poison[] = { 0, 0, 0, 0, 0, 0, 0, 0,
						  0, 1, 0, 0, 0, 0, 0, 0 };
		static const uint8_t log[] = { 0 };
		fz_mbox(&o, 3, 0, 0x4000, NULL, 0, 0);
		fz_mbox(&o, 3, 0, 0x4100, NULL, 0, 0);
		fz_mbox(&o, 3, 0, 0x4101, part, sizeof(part), 0);
		fz_mbox(&o, 3, 0, 0x4102, lsa_get, sizeof(lsa_get), 0);
		fz_mbox(&o, 3, 0, 0x4103, lsa_set, sizeof(lsa_set), 0);
		fz_inject(&o, 3, 0, 2); /* poison, two params */
		fz_put(&o, 0);         /* start: */
		fz_put(&o, 2 | 8);     /* a DPA in cache lines: */
		fz_put16(&o, 16);      /* 16 * 64 */
		fz_put(&o, 1);         /* length: */
		fz_put(&o, 0);         /* a number from the table: */
		fz_put(&o, 8);         /* 64 */
		fz_end(&o, 0);
		fz_mbox(&o, 3, 0, 0x4300, poison, sizeof(poison), 0);
		fz_inject(&o, 3, 1, 1); /* general-media, one param */
		fz_put(&o, 4);         /* dpa: */
		fz_put(&o, 2 | 8);
		fz_put16(&o, 32);
		fz_end(&o, 0);
		fz_mbox(&o, 3, 0, 0x0100, log, sizeof(log), 0);
		fz_inject(&o, 3, 2, 3); /* dram, three params */
		fz_put(&o, 4);         /* dpa: */
		fz_put(&o, 2 | 8);
		fz_put16(&o, 48);
		fz_put(&o, 17);        /* correction-mask: */
		fz_put(&o, 5);         /* an array, */
		fz_put(&o, 4);         /* of four numbers: */
		fz_put(&o, 1), fz_put(&o, 2), fz_put(&o, 3), fz_put(&o, 4);
		fz_put(&o, 15);        /* row: */
		fz_put(&o, 0);
		fz_put(&o, 9);         /* 255 */
		fz_end(&o, 0);
		fz_inject(&o, 3, 3, 2); /* memory-module, two params */
		fz_put(&o, 22);        /* temperature: */
		fz_put(&o, 4);         /* a string: */
		fz_put(&o, 3);         /* "-1" */
		fz_put(&o, 21);        /* life-used: */
		fz_put(&o, 0);
		fz_put(&o, 9);         /* 255 */
		fz_end(&o, 0);
		fz_inject(&o, 3, 4, 1); /* health, one param */
		fz_put(&o, 19);        /* media-status: */
		fz_put(&o, 0);
		fz_put(&o, 2);         /* 2 */
		fz_end(&o, 0);
		fz_mbox(&o, 3, 0, 0x4200, NULL, 0, 0);
		break;
	}
	case 5: { /* host1: poison inside a region; scan media */
		static const uint8_t list[] = { 0, 0, 0, 0, 0, 0, 0, 0,
						0, 0, 0x10, 0, 0, 0, 0, 0 };
		static const uint8_t scan[] = { 0, 0, 0, 0, 0, 0, 0, 0,
						0, 0x10, 0, 0, 0, 0, 0, 0, 0 };
		fz_create(&o, 1, 0, 0, 0, 0, NULL, 0);
		fz_inject(&o, 1, 0, 2); /* poison, two params */
		fz_put(&o, 0);         /* start: */
		fz_put(&o, 2 | 8);
		fz_put16(&o, 64);      /* 4096 */
		fz_put(&o, 1);         /* length: */
		fz_put(&o, 0);
		fz_put(&o, 8);         /* 64 */
		fz_end(&o, 0);
		fz_read(&o, 1, 4096, 64);
		fz_write(&o, 1, 4096, 64, 0x11);
		fz_read(&o, 1, 4000, 200);
		fz_mbox(&o, 1, 0, 0x4300, list, sizeof(list), 0);
		fz_mbox(&o, 1, 0, 0x4304, scan, sizeof(scan), 100);
		fz_mbox(&o, 1, 0, 0x4305, NULL, 0, 0);
		break;
	}
	case 4: /* host1 and host2: one device; sanitize in the background */
		fz_create(&o, 1, 0, 0, 0, 0, NULL, 0);
		fz_create(&o, 2, 0, 0, 0, 0, NULL, 0);
		fz_write(&o, 1, 0, 512, 0x5a);
		fz_read(&o, 2, 0, 512);
		fz_destroy(&o, 1, true);
		fz_destroy(&o, 2, true);
		fz_mbox(&o, 1, 0, 0x4400, NULL, 0, 100);
		fz_mbox(&o, 2, 0, 0x0002, NULL, 0, 255);
		fz_mbox(&o, 1, 0, 0x0002, NULL, 0, 0);
		break;
	default:
		return 0;
	}
	return o.n < o.cap ? o.n : o.cap;
}

/* libFuzzer calls this before it reads the corpus: with
 * CXLEMU_FUZZ_SEED_DIR set, put the seeds there. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("CXLEMU_FUZZ_SEED_DIR");
	static uint8_t buf[4096];

	(void)argc;
	(void)argv;
	for (int i = 0; dir && i < FZ_NSEEDS; i++) {
		char path[512];
		size_t n = fz_seed(i, buf, sizeof(buf));
		snprintf(path, sizeof(path), "%s/seed-%d", dir, i);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, n, f) != n || fclose(f)) {
			fprintf(stderr, "fuzz_ops: cannot write %s\n", path);
			abort();
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in r = { data, size };
	struct fz_req q;

	if (fz_trace < 0)
		fz_init();
	int fds0 = fz_count_fds();
	fz_up();
	for (int i = 0; i < FZ_MAX_REQS && r.n; i++) {
		fz_next(&r, &q);
		if (q.req)
			fz_dispatch(&q);
		else if (q.frame)
			fz_binary(&q);
		json_object_put(q.req);
		free(q.data);
		free(q.frame);
		fz_now += (uint64_t)fz_u8(&r) * 50000000ULL;
		cx_srv_poll_devices(fz_fab);
	}
	fz_down();
	int fds1 = fz_count_fds();
	if (fds0 != fds1)
		fz_die("the input left %d descriptors open (%d before, %d "
		       "after)", fds1 - fds0, fds0, fds1);
	return 0;
}
