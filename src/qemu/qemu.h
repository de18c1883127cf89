/*
 * qemu.h - the QEMU side of cxlemu: command lines for the QEMU that is
 * installed, the host's own CXL RAM NUMA nodes, and the lab runner.
 *
 * qemu-args: a topology host's command line (host->words, every word as
 * given) is re-emitted for a real QEMU.  The binary is probed first
 * (`-device T,help` for each CXL device type, `--version`), and each CXL
 * option is translated to what that binary has (persistent-memdev= becomes
 * memdev= before 8.1) or refused with a message naming the device, the
 * property and the QEMU release that brought it.  Before QEMU 8.0 a host
 * bridge with one root port is given a second, empty root port: Linux then
 * programs the bridge's HDM decoder instead of a pass-through one that QEMU
 * 7.2 cannot route (writes vanish, reads return zeros).
 *
 * host-nodes: the walk from /sys/bus/cxl/devices/regionN (mode ram) to its
 * dax_regionN/daxN.M devices, their target NUMA node, whether kmem has the
 * memory online as System RAM, and the node's HMAT access attributes.  A
 * different sysfs root can be given, which the tests use with fake trees.
 *
 * Library code: nothing here prints or exits.  The two cx_cmd_* functions
 * at the end are the `cxlemu` subcommands; they print and return an exit
 * status, and the CLI dispatcher calls them.
 */
#ifndef CXLEMU_QEMU_H
#define CXLEMU_QEMU_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "model/model.h"
#include "util/util.h"

/* ---- what an installed QEMU binary has (probe.c) ---- */

/* The CXL device types cxlemu emits; index into cx_qemu_caps.dev[]. */
enum cx_qdev {
	CX_QDEV_TYPE3,      /* cxl-type3 */
	CX_QDEV_PXB,        /* pxb-cxl */
	CX_QDEV_RP,         /* cxl-rp */
	CX_QDEV_USP,        /* cxl-upstream */
	CX_QDEV_DSP,        /* cxl-downstream */
	CX_QDEV_SWCCI,      /* cxl-switch-mailbox-cci */
	CX_QDEV_NR,
};
const char *cx_qdev_name(enum cx_qdev d);
/* -1 when `driver` is not one of the CXL device types above. */
int cx_qdev_from_name(const char *driver);

struct cx_qemu_dev_caps {
	bool present;       /* the binary knows the device type */
	cx_vec props;       /* char *: property names from `-device T,help` */
};

struct cx_qemu_caps {
	char *binary;       /* as probed (a path or a name looked up in PATH) */
	char *version;      /* "7.2.22" */
	int major, minor, micro;
	struct cx_qemu_dev_caps dev[CX_QDEV_NR];
	cx_vec backend_props; /* char *: memory-backend-file properties */
};

/*
 * Run `BINARY --version` and `BINARY -device T,help` for each CXL device
 * type and fill *caps.  Fails (-ENOENT) when the binary cannot be run, and
 * (-EINVAL) when its answers cannot be read.  Free with cx_qemu_caps_free.
 */
int cx_qemu_probe(const char *qemu_binary, struct cx_qemu_caps *caps,
		  cx_err *e);
void cx_qemu_caps_free(struct cx_qemu_caps *caps);
/* Parse the text of `-device T,help` into props (exposed for the tests). */
int cx_qemu_parse_props(const char *help_text, cx_vec *props);
/* Parse "QEMU emulator version 7.2.22 (...)" (exposed for the tests). */
int cx_qemu_parse_version(const char *text, struct cx_qemu_caps *caps,
			  cx_err *e);
bool cx_qemu_has_prop(const struct cx_qemu_caps *caps, enum cx_qdev d,
		      const char *prop);
/* The binary to use: $CXLEMU_QEMU, else "qemu-system-x86_64". */
const char *cx_qemu_default_binary(void);

/* ---- the host's CXL RAM NUMA nodes (hostnodes.c) ---- */

/* HMAT access attributes of a node for one access class; -1 = absent. */
struct cx_hmat {
	bool present;
	int64_t read_latency, write_latency;     /* ns */
	int64_t read_bandwidth, write_bandwidth; /* MB/s */
};

struct cx_host_dax {
	char *name;          /* dax0.0 */
	uint64_t size;
	uint64_t resource;   /* start HPA, 0 when unknown */
	int target_node;     /* where its memory goes when onlined */
	int numa_node;       /* node of the device itself, -1 = none */
	char *driver;        /* "kmem", "device_dax", or NULL (unbound) */
	int online_memblocks, total_memblocks;
};

struct cx_host_region {
	char *name;          /* region0 */
	char *mode;          /* "ram" / "pmem" */
	uint64_t size, resource;
	cx_vec daxes;        /* struct cx_host_dax * */
};

struct cx_host_node {
	int node;
	bool online;         /* listed in devices/system/node/online */
	bool has_memory;     /* listed in devices/system/node/has_memory */
	uint64_t system_ram; /* bytes of its CXL memory online as System RAM */
	cx_vec regions;      /* char * (borrowed from the regions) */
	cx_vec daxes;        /* char * (borrowed) */
	struct cx_hmat access[2]; /* access0 (any initiator), access1 (CPU) */
};

struct cx_host_cxl {
	char *sysfs_root;
	cx_vec regions;      /* struct cx_host_region *: every ram region */
	cx_vec nodes;        /* struct cx_host_node *, ascending node id */
	cx_vec notes;        /* char *: regions skipped and why */
};

/*
 * Walk SYSFS_ROOT (normally "/sys").  No CXL at all is not an error: the
 * result is empty.  A file that exists but cannot be read or parsed, or a
 * dax device without target_node, is an error naming the file.
 */
int cx_host_cxl_scan(const char *sysfs_root, struct cx_host_cxl **out,
		     cx_err *e);
void cx_host_cxl_free(struct cx_host_cxl *c);
struct json_object *cx_host_cxl_json(const struct cx_host_cxl *c);
/* Convenience: scan and return the JSON object. */
int cx_host_nodes(const char *sysfs_root, struct json_object **out,
		  cx_err *e);
/* Nodes a VM can bind to: online, with CXL memory online as System RAM. */
int cx_host_cxl_usable(const struct cx_host_cxl *c, int *nodes, int max);

/* ---- command lines (args.c) ---- */

struct cx_qemu_opts {
	bool cxl_only;       /* keep only what cxlemu models (+ -smp/-cpu..) */
	bool bind_cxl_ram;   /* bind volatile backends to host CXL nodes */
	const char *sysfs_root;  /* for bind_cxl_ram; NULL = "/sys" */
	const struct cx_host_cxl *host_cxl; /* pre-scanned; else scanned */
	const char *mem_dir; /* absolute dir for relative mem-path=, NULL=cwd */
	bool for_check;      /* acceptance run: -S, no display, stdio monitor */
};

struct cx_qemu_line {
	cx_vec argv;         /* char *: binary first, NULL-terminated on use */
	cx_vec notes;        /* char *: what was changed and why */
	cx_vec created;      /* unused by args; the check fills it */
};
void cx_qemu_line_free(struct cx_qemu_line *l);
/* One shell-quoted line ("a b 'c d'"), caller frees. */
char *cx_qemu_line_join(const struct cx_qemu_line *l);

/*
 * Build the command line of HOST (NULL: the only host) of fabric F for the
 * QEMU described by CAPS.  On refusal returns -ENOTSUP with a message that
 * names the host, the device and what it needs.
 */
int cx_qemu_line_build(struct cx_fabric *f, const char *host,
		       const struct cx_qemu_caps *caps,
		       const struct cx_qemu_opts *o, struct cx_qemu_line *out,
		       cx_err *e);
/* The same, joined into one shell-quoted string; notes are appended to
 * *notes_out (may be NULL) one per line. */
int cx_qemu_args(struct cx_fabric *f, const char *host,
		 const struct cx_qemu_caps *caps, const struct cx_qemu_opts *o,
		 char **argv_out_joined, cx_err *e);

/*
 * Acceptance check without booting: run the line with -S, no display and a
 * monitor on stdin that is fed "quit".  0 when QEMU built the machine and
 * quit; otherwise -EINVAL with QEMU's own error text.  Backing files QEMU
 * created for the check are removed again.
 */
int cx_qemu_check(const struct cx_qemu_line *l, int timeout_ms, cx_err *e);

/* ---- a guest's `cxl list` against cxlemu's (compare.c) ----
 * Rename the guest's probe-order names (memN, portN, endpointN,
 * decoderN.M) to cxlemu's through PCI bus numbers, then walk both trees;
 * one sentence per difference into DIFFS (char *, caller frees).  A
 * memdev's host (cxlemu: the id=) and UUIDs are compared by presence
 * only.  Known,
 * explained differences are marked "-- explained: why" in DIFFS and not
 * counted.  Returns the number of unexplained differences, or <0.  *renamed_out (may be NULL) gets the
 * renamed guest tree. */
int cx_compare_listing(struct cx_host *h, struct json_object *ours,
		       struct json_object *guest, cx_vec *diffs,
		       struct json_object **renamed_out, cx_err *e);

/* ---- running programs (run.c) ---- */

/* Run argv (argv[0] looked up in PATH) with STDIN_TEXT (or /dev/null) on
 * its stdin; collect stdout+stderr into *out (NUL-terminated, caller
 * frees).  *status is the exit code, or 128+signal; a run longer than
 * timeout_ms is killed and returns -ETIMEDOUT. */
int cx_run_capture(char *const argv[], const char *stdin_text,
		   int timeout_ms, char **out, int *status, cx_err *e);

/* ---- QMP (qmp.c) ----
 * Send CMD ({"execute": ..., "arguments": {...}}) to the QEMU whose QMP
 * server listens on SOCK_PATH: greeting, qmp_capabilities, the command;
 * events in between are skipped.  0 with *ret = the "return" value
 * (caller puts it); -EINVAL with QEMU's "desc" when it answers with an
 * error; -ETIMEDOUT, -EPIPE, -EPROTO when it does not answer as QMP. */
int cx_qmp_call(const char *sock_path, struct json_object *cmd,
		int timeout_ms, struct json_object **ret, cx_err *e);

/* ---- the lab (lab.c); `cxlemu lab`'s options are src/cli/cmd_lab.c ----
 * Up, demo, compare and down print their progress on stderr. */
/* The state directory: $CXLEMU_LAB_DIR, else /tmp/cxlemu-lab-UID. */
const char *cx_lab_dir(void);
/* DIR/A or DIR/A/B (B may be NULL), malloc'd. */
char *cx_lab_path(const char *dir, const char *a, const char *b);
/* A file's text, malloc'd, or NULL. */
char *cx_lab_slurp(const char *path);
/* The non-empty lines of a state file, pushed onto out (malloc'd). */
void cx_lab_read_lines(const char *path, cx_vec *out);
void cx_lab_free_lines(cx_vec *v);
/* The pid of HOST's QEMU if it runs, else 0. */
pid_t cx_lab_host_pid(const char *dir, const char *host);
/* "QEMU v (binary), Linux v, ndctl v" as up recorded them; malloc'd. */
char *cx_lab_versions(const char *dir);
/* Boot TOPOLOGY's hosts; ACCEL "kvm", "tcg" or NULL (try KVM). */
int cx_lab_up(const char *topo, const char *accel, cx_err *e);
/* Run CMD in HOST's guest: its output (malloc'd) and exit status. */
int cx_lab_exec(const char *dir, const char *host, const char *cmd,
		int timeout_ms, char **out, int *status, cx_err *e);
/* Stop every guest and remove what up made (quiet: say nothing). */
int cx_lab_down(const char *dir, bool quiet);
/* demo shared|mixed|interleave, end to end. */
int cx_lab_demo(const char *which, cx_err *e);
/* Boot TOPOLOGY and compare each guest's listing with cxlemu's: *total
 * unexplained differences, *versions what ran (malloc'd); KEEP leaves
 * the lab up, SAVE (or NULL) a directory for both listings. */
int cx_lab_compare(const char *topo, bool keep, const char *save,
		   int *total, char **versions, cx_err *e);

#endif
