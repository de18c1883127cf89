/*
 * topo.h - private to the topology parser: the state of one file and of
 * one host while it is read, and what the files of its steps share.
 *
 *   topology.c  the pipeline: each host's steps in order (and steps 1 and
 *               5), rules across hosts, the entry points
 *   messages.c  errors and warnings, the property checks of every step
 *   declare.c   step 2: -object, -m, -M/-machine, -numa, -device ids
 *   devices.c   step 3: host bridges, ports, switches, Type 3 devices
 *   windows.c   step 4: fixed memory windows, and their rules once the
 *               fabric has addresses
 */
#ifndef CXLEMU_CONFIG_TOPO_H
#define CXLEMU_CONFIG_TOPO_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "config.h"
#include "grammar.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define MAX_HBS 16            /* 1 MiB host register block / 64 KiB */
#define MAX_WINDOWS 64        /* cxl-fmw.0 .. cxl-fmw.63 */
#define MAX_TARGET_SLOTS 64   /* targets.K parsed up to K = 63 */
#define MAX_LEGACY 16         /* window-base[0..15] per pxb-cxl */
#define MAX_DC_REGIONS 8      /* QEMU's DCD_MAX_NUM_REGION */
#define MAX_RAM_SLOTS 256     /* QEMU x86: ACPI_MAX_RAM_SLOTS */
#define OPT_SHOWN 400         /* longest option text quoted in a message */

struct copt {                 /* one option of a command line */
	const char *name;     /* without dashes */
	const char *value;    /* NULL for flags */
	int line;
	char *text;           /* as written, for messages */
};

enum dev_kind { DEV_OTHER, DEV_HB, DEV_RP, DEV_USP, DEV_DSP, DEV_T3 };

struct cdev {                 /* one -device */
	struct copt *o;
	struct cfg_kvlist kv;
	const char *driver;
	const char *id;       /* id= or a generated "device[N]" */
	char *gen_id;
	bool anonymous;
	int index;            /* order on the command line */
	enum dev_kind kind;
	struct cx_port *port;
	struct cdev *below;   /* RP/DSP: the one device on its bus */
	/* pxb-cxl legacy windows: window-base[i] + memdev[i] */
	uint64_t lbase[MAX_LEGACY];
	const char *lmem[MAX_LEGACY];
	int nlegacy;
};

struct cobj {                 /* one -object */
	struct copt *o;
	struct cfg_kvlist kv;
	const char *type;
	const char *id;
	struct cx_backend *be;
	/* who maps it (QEMU: a backend is mapped once) */
	const char *user;     /* device or option that took it */
	int user_line;
	bool user_is_device;
	uint64_t carved;      /* legacy size= slices handed out */
	const char *carver;   /* first legacy slice's device */
	int carver_line;
	const char *lwin;     /* pxb-cxl whose legacy window it is */
	int lwin_line;
};

struct fmw {                  /* cxl-fmw.N as collected from -M */
	struct copt *first;
	const char *size;
	struct copt *size_o;
	const char *gran;
	struct copt *gran_o;
	const char *tgt[MAX_TARGET_SLOTS];
	struct copt *tgt_o[MAX_TARGET_SLOTS];
	int max_t;
	/* cxlemu's own: interleave-arithmetic=modulo|xor, xormap.K=HEX */
	const char *arith;
	struct copt *arith_o;
	const char *xmap[CX_MAX_XORMAPS];
	struct copt *xmap_o[CX_MAX_XORMAPS];
	int max_x;
};

struct slotuse {              /* chassis/slot of a PCIe port */
	unsigned chassis, slot;
	const char *id;
	int line;
};

struct winsrc {               /* where a window was declared */
	struct cx_window *w;
	struct cx_host *h;
	char *text;           /* the option, as written */
};

struct ctx {
	const char *file;
	struct cx_fabric *f;
	cx_err *e;
	bool sections;
	struct winsrc *ws;
	int nws;
};

struct hctx {
	struct ctx *c;
	struct cfg_hostsrc *src;
	struct cx_host *h;
	struct copt *opts;
	int nopts;
	struct cobj *objs;
	int nobjs;
	struct cdev *devs;
	int ndevs;
	int nanon;
	/* -m, merged */
	const char *m_size, *m_slots, *m_maxmem;
	struct copt *m_o;
	struct cfg_kvlist *mkv;
	int nmkv;
	/* -M/-machine, merged */
	const char *mtype;
	struct copt *mtype_o;
	const char *ram_be;   /* machine memory-backend= */
	struct copt *ram_be_o;
	bool cxl;
	struct fmw fmw[MAX_WINDOWS];
	int max_fmw;
	const struct copt *fmw_opt; /* the first -M with cxl-fmw keys */
	/* -numa node,memdev= */
	const char *numa_mem[64];
	int numa_line[64];
	int nnuma;
	struct slotuse *slots;
	int nslots;
};

/* Nothing below leaves the library (libcxlemu-preload.so included). */
#pragma GCC visibility push(hidden)

/* ---- messages.c ---- */

/* error about option o: "file:line: -opt value: message" */
int oerr(struct hctx *x, const struct copt *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* error at a line, not about one option */
int lerr(struct hctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* an error from a util parser, placed at option o */
int perr(struct hctx *x, const struct copt *o, const cx_err *t);
/* a warning at a line of host `host` (NULL: not about one host) */
void cwarn(struct ctx *c, const char *host, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define WARN(x, line, ...) cwarn((x)->c, (x)->h->name, (line), __VA_ARGS__)

/* An unsigned property `key` of kv, at most max, def when absent. */
int get_uint(struct hctx *x, const struct copt *o,
	     const struct cfg_kvlist *kv, const char *owner,
	     const char *key, uint64_t max, uint64_t def, uint64_t *out);
/* Every key of a modeled device or object (type `owner`) checked. */
int check_props(struct hctx *x, const struct copt *o,
		const struct cfg_kvlist *kv, const char *owner,
		const char *id);

static inline const char *fmt_size(char *buf, size_t n, uint64_t v)
{
	cx_fmt_size(buf, n, v);
	return buf;
}

/* ---- declare.c ---- */

struct cobj *find_obj(struct hctx *x, const char *id);
struct cdev *find_dev(struct hctx *x, const char *id);
int cfg_declare(struct hctx *x, struct copt *o);
/* The merged -m options into the host's RAM layout. */
int cfg_apply_mem(struct hctx *x);

/* ---- devices.c ---- */

int cfg_build_device(struct hctx *x, struct cdev *d);

/* ---- windows.c ---- */

int cfg_build_windows(struct hctx *x);
/* After cx_fabric_finalize(): the rules that need window addresses. */
int cfg_check_windows(struct ctx *c);

#pragma GCC visibility pop

#endif
