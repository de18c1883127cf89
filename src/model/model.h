/*
 * model.h - the fabric's objects: hosts, windows (root decoders), ports
 * (host bridges, root ports, switch upstream/downstream ports), memdevs
 * (Type 3 devices, one head per host), HDM decoders and regions.
 *
 * The model is deterministic and does no I/O besides media access: no
 * sockets, no printing.  The config layer builds it from a topology file;
 * the server drives it; the unit tests exercise it directly.
 *
 * Naming follows Linux's drivers/cxl: per host, port ids come from one id
 * space: root0, then host bridges port1..portK in command-line order, then
 * switch upstream ports in depth-first order, then endpoints endpointN in
 * memdev order.  Decoders are decoder<port id>.<instance>.  Memdevs are memN
 * in the order their -device cxl-type3 appears on the host's command line.
 */
#ifndef CXLEMU_MODEL_H
#define CXLEMU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "media/media.h"
#include "spec/spec.h"
#include "util/util.h"

struct cx_host;
struct cx_port;
struct cx_memdev;
struct cx_region;
struct cx_window;
struct cx_mbox_state;       /* model/mbox.h: mailbox, events, poison */
struct cx_fwl;              /* model/fw_upload.h: firmware upload */

/* CX_MODE_DC: the first dynamic capacity partition, as Linux's DCD series
 * presents it ("dynamic_ram_a": DC region 0 of the device) */
enum cx_mode { CX_MODE_NONE = 0, CX_MODE_RAM, CX_MODE_PMEM, CX_MODE_MIXED,
	       CX_MODE_DC };
/* "none","ram","pmem","mixed","dynamic_ram_a" */
const char *cx_mode_name(enum cx_mode m);

/* ---- memory backends (-object memory-backend-*) ---- */
enum cx_backend_kind { CX_BACKEND_RAM, CX_BACKEND_FILE, CX_BACKEND_MEMFD };

struct cx_backend {
	char *id;
	enum cx_backend_kind kind;
	uint64_t size;
	char *mem_path;            /* file backends */
	bool share;
	int line;                  /* where it was declared */
	const char *used_by;       /* id of the device that took it, or NULL */
	struct cx_media *media;    /* opened when the fabric starts */
};

/* ---- HDM decoders ---- */
enum cx_dec_kind {
	CX_DEC_ROOT,      /* a CFMW: fixed, described by the window */
	CX_DEC_SWITCH,    /* host bridge or switch upstream port */
	CX_DEC_ENDPOINT,  /* memdev */
};

#define CX_DECODERS_PER_PORT 4  /* QEMU: 4 decoders at every level */
#define CX_TARGETS_PER_DECODER 8

struct cx_decoder {
	enum cx_dec_kind kind;
	int port_id;               /* X in decoderX.Y */
	int id;                    /* Y in decoderX.Y */
	struct cx_port *port;      /* CX_DEC_SWITCH: owning HB or USP */
	struct cx_memdev *memdev;  /* CX_DEC_ENDPOINT */
	struct cx_window *window;  /* CX_DEC_ROOT */
	int nr_targets;            /* target list capacity (switch) */
	bool passthrough;          /* software decoder of a 1-port HB */
	cx_hdm_regs regs;          /* register image (spec.h accessors) */
	/* driver state (what Linux keeps beside the registers) */
	enum cx_mode mode;         /* endpoint partition mode */
	uint64_t dpa_base;         /* endpoint: first DPA (after skip) */
	uint64_t dpa_size;         /* endpoint: DPA bytes allocated */
	struct cx_region *region;
	int pos;                   /* endpoint: position in region, -1 */
	int nr_targets_set;        /* switch: targets programmed */
	struct cx_port *targets[CX_TARGETS_PER_DECODER]; /* switch: dports */
};

/* ---- ports ---- */
enum cx_port_kind {
	CX_PORT_HB,   /* pxb-cxl */
	CX_PORT_RP,   /* cxl-rp */
	CX_PORT_USP,  /* cxl-upstream */
	CX_PORT_DSP,  /* cxl-downstream */
};

struct cx_port {
	enum cx_port_kind kind;
	char *qid;                  /* QEMU id= */
	int line;
	struct cx_host *host;
	struct cx_port *parent;     /* RP->HB, USP->RP, DSP->USP; HB: NULL */
	cx_vec children;            /* HB: RPs, RP: USP (0..1), USP: DSPs */
	struct cx_memdev *memdev;   /* device below an RP or DSP */
	int port_num;               /* RP/DSP port=; HB: bus_nr (ACPI UID) */
	int bus_nr;                 /* HB: its root bus; RP/DSP/USP: the
				       secondary bus below it */
	int pci_bus, pci_dev;       /* where this function sits (RP/USP/DSP) */
	int chassis, slot;
	uint64_t sn;
	bool has_sn;
	/* Linux view: HBs and USPs are cxl ports with decoders */
	int port_id;                /* portN; -1 for RP and DSP (dports) */
	int hb_index;               /* HB: N in ACPI0016:NN */
	bool passthrough;           /* HB with exactly one root port */
	struct cx_decoder *decoders;
	int ndecoders;
	int depth;                  /* HB 1, USP 2 */
	bool disabled;              /* unbound from cxl_port (driver.c) */
};

/* ---- memdevs: one head of a Type 3 device on one host ---- */
struct cx_memdev {
	char *qid;                  /* -device cxl-type3,id= (JSON "host") */
	int line;
	int index;                  /* memN */
	struct cx_host *host;
	struct cx_port *parent;     /* RP or DSP */
	struct cx_backend *vmem_be, *pmem_be, *lsa_be;
	struct cx_media *vmem, *pmem, *lsa;   /* opened at start */
	uint64_t vmem_size, pmem_size, lsa_size;
	/* dynamic capacity (num-dc-regions, volatile-dc-memdev): dc_regions
	 * equal regions of dc_size / dc_regions bytes each, at DPA
	 * vmem_size + pmem_size, after the static capacity (model/mbox.h
	 * holds what is granted of it) */
	struct cx_backend *dc_be;
	struct cx_media *dc;
	uint64_t dc_size;
	int dc_regions;
	uint64_t legacy_offset;     /* pre-7.1 size= carve-out of pmem_be */
	uint64_t sn;
	bool has_sn;
	int pci_bus;
	int endpoint_id;            /* endpointN */
	int depth;                  /* endpoint port depth */
	struct cx_decoder decoders[CX_DECODERS_PER_PORT];
	/* performance, reported in listings (cxlemu properties, issue 4) */
	uint32_t read_latency_ns, write_latency_ns;
	uint64_t read_bw_mbs, write_bw_mbs;
	/* device management state (model/mbox.h), from cx_mbox_init() */
	struct cx_mbox_state *mbox;
	bool disabled;              /* unbound from cxl_mem (driver.c) */
	struct cx_fwl *fwl;         /* the host's firmware upload
				       (fw_upload.h), made at first use */
	/* a partition (volatile bytes) the daemon's state file kept for a
	 * device without a sidecar file; applied at start; 0: none */
	uint64_t saved_partition;
};

/* The DC partition a region can decode (dynamic_ram_a): the device's DC
 * region 0, right after the static capacity.  Its size (0: none). */
static inline uint64_t cx_memdev_dc_part(const struct cx_memdev *m,
					 uint64_t *base)
{
	if (base)
		*base = m->vmem_size + m->pmem_size;
	return m->dc_size && m->dc_regions > 0 ? m->dc_size /
	       (uint64_t)m->dc_regions : 0;
}

/* ---- windows: CXL fixed memory windows, the root decoders ---- */
struct cx_window {
	int index;                  /* N in cxl-fmw.N, decoder0.N */
	int line;
	uint64_t base, size;
	int ways;
	uint32_t gran;              /* as configured (default 256) */
	struct cx_port *targets[CX_MAX_WAYS]; /* host bridges, in order */
	bool legacy;                /* from a pre-7.1 pxb-cxl window-base */
	struct cx_decoder dec;      /* the root decoder */
	/* interleave arithmetic (cxlemu's cxl-fmw.N.interleave-arithmetic
	 * and .xormap.K): XOR windows carry cx_xormaps_for_ways(ways)
	 * maps, map i deciding HPA bit cx_xormap_bit(IG, i) */
	enum cx_arith arith;
	int nxormaps;
	uint64_t xormap[CX_MAX_XORMAPS];
};

/* The host bridge region position `pos` must be below: the window's
 * target pos mod ways, under either arithmetic (CXL 3.1 Table 9-22 has
 * the CFMWS list its targets in interleave target order, so Linux checks
 * the endpoint's dport against target[pos % ways] for XOR windows too). */
static inline struct cx_port *cx_window_position_target(
	const struct cx_window *w, int pos)
{
	return w->targets[pos % w->ways];
}

/* The target (host bridge) index a window sends an absolute HPA to. */
static inline int cx_window_target(const struct cx_window *w, uint64_t hpa)
{
	return cx_cfmws_target(hpa, w->gran, w->ways, w->xormap, w->nxormaps);
}

/* ---- regions ---- */
struct cx_region {
	int id;                     /* regionZ */
	struct cx_host *host;
	struct cx_window *win;
	enum cx_mode mode;
	uint64_t base, size;
	int ways;
	uint32_t gran;
	char uuid[37];              /* pmem regions */
	struct cx_decoder *targets[CX_MAX_WAYS]; /* endpoint decoders by pos */
	bool committed;
	bool programmed;            /* decoders set up (not yet committed, for
				       a region built through sysfs) */
	bool disabled;              /* committed but not bound to the region
				       driver (a region built through sysfs,
				       before cxl_region/bind): no DAX */
	/* device-DAX view (issue 3) */
	bool dax_system_ram;        /* mode "system-ram" vs "devdax" */
	bool dax_unbound;           /* bound to neither kmem nor device_dax */
	uint64_t dax_offline[8];    /* system-ram: memory blocks offline
				       (model/dax.h, CX_DAX_MAX_BLOCKS) */
	bool noncoherent;           /* how hosts map it by default: a cached
				       copy each (issue 11), or coherent */
	int mapped;                 /* clients holding a mapping */
	struct cx_rview *view;      /* its bytes in HPA order, while a view
				       holds them (model/region_view.h) */
};

/* ---- who may open the fabric's sockets (server.h) ---- */
struct cx_access {
	long owner;                 /* uid of the socket file, -1: the daemon's */
	long group;                 /* gid of the socket file, -1: the daemon's */
	int mode;                   /* its permission bits, -1: 0600 */
};
#define CX_ACCESS_DEFAULT_MODE 0600  /* the daemon's user only */
/* Fields of `src` that are set (not -1) replace those of `dst`. */
void cx_access_merge(struct cx_access *dst, const struct cx_access *src);

/* ---- hosts and the fabric ---- */
struct cx_host {
	char *name;
	int line;                   /* of its [host NAME], 0 for implicit */
	cx_vec words;               /* the whole command line, as given */
	bool cxl_on;
	uint64_t ram_size, maxram_size; /* -m: RAM and maxmem */
	int ram_slots;
	cx_vec backends;            /* struct cx_backend * */
	cx_vec hbs;                 /* struct cx_port * (HB), in order */
	cx_vec ports;               /* every port, declaration order */
	cx_vec memdevs;             /* struct cx_memdev *, memN order */
	cx_vec windows;             /* struct cx_window *, index order */
	cx_vec regions;             /* struct cx_region *, id order */
	int next_region_id;
	bool noncoherent;           /* its DAX devices start non-coherent
				       ([host NAME coherency=noncoherent]) */
	int nports;                 /* port ids handed out (root0 = 0) */
	bool bus_disabled;          /* cxl_acpi unbound (driver.c) */
	uint64_t decode_gen;        /* moves on with every commit/reset */
	struct cx_route_table *route_table; /* compiled at decode_gen */
	struct cx_access access;    /* its own socket */
};

struct cx_fabric {
	char *source;               /* topology file name, for messages */
	cx_vec hosts;               /* struct cx_host * */
	cx_vec media;               /* struct cx_media *, one per device */
	struct cx_access admin_access; /* the administrative socket */
	cx_vec external;            /* char *: backing files that programs
				       outside the fabric (QEMU guests) map
				       too; their media are not scoped */
	bool started;               /* media opened */
	bool finalized;
	cx_vec warnings;            /* char *: accepted but noteworthy input */
	cx_vec views;               /* struct cx_rview *: region views */
};

/* ---- construction (used by config) ---- */
struct cx_fabric *cx_fabric_new(const char *source);
void cx_fabric_free(struct cx_fabric *f);
struct cx_host *cx_host_new(struct cx_fabric *f, const char *name, int line);
struct cx_backend *cx_backend_new(struct cx_host *h, const char *id, int line);
struct cx_port *cx_port_new(struct cx_host *h, enum cx_port_kind kind,
			    const char *qid, int line);
struct cx_memdev *cx_memdev_new(struct cx_host *h, const char *qid, int line);
struct cx_window *cx_window_new(struct cx_host *h, int index, int line);
void cx_port_attach(struct cx_port *parent, struct cx_port *child);

/*
 * After config has built and validated a host: assign port ids, PCI bus
 * numbers, window bases (QEMU's x86 layout from -m), create decoders, mark
 * passthrough host bridges.  Idempotent per host.
 */
void cx_fabric_finalize(struct cx_fabric *f);
/* First address past RAM, the hotplug area and the host bridge register
 * block in QEMU's x86 layout for this host's -m: CXL windows start at or
 * above it. */
uint64_t cx_host_cxl_area_start(const struct cx_host *h);
/* Open (create/size) every backend's media; heads whose file backends name
 * the same path share one media object. */
int cx_fabric_start(struct cx_fabric *f, cx_err *e);
/* Is `path` one of the fabric's externally shared files? */
bool cx_fabric_external(const struct cx_fabric *f, const char *path);
/* Two memdevs are heads of one device: the same backend media in the same
 * layout (same volatile and persistent backends, sizes and offset), at
 * least one of them shared.  Valid once the fabric has started. */
bool cx_memdev_same_device(const struct cx_memdev *a,
			   const struct cx_memdev *b);

/* ---- lookup ---- */
struct cx_host *cx_host_find(struct cx_fabric *f, const char *name);
struct cx_memdev *cx_memdev_find(struct cx_host *h, const char *name); /* memN or id */
struct cx_region *cx_region_find(struct cx_host *h, const char *name); /* regionZ */
struct cx_decoder *cx_decoder_find(struct cx_host *h, const char *name); /* decoderX.Y */
struct cx_port *cx_port_find_qid(struct cx_host *h, const char *qid);
struct cx_backend *cx_backend_find(struct cx_host *h, const char *id);
void cx_decoder_name(const struct cx_decoder *d, char *buf, int len);
/* the host bridge above a port or memdev */
struct cx_port *cx_port_hb(struct cx_port *p);
struct cx_port *cx_memdev_hb(struct cx_memdev *m);

/* ---- drivers (driver.c): bound or not, as ndctl's enable/disable
 * commands leave them ---- */
/* bound to cxl_mem, below a bound root (it has an endpoint port) */
bool cx_memdev_enabled(const struct cx_memdev *m);
/* bound; a switch port also needs an enabled memdev below it */
bool cx_port_enabled(const struct cx_port *p);
int cx_memdev_set_enabled(struct cx_memdev *m, bool on, cx_err *e);
/* off: the memdevs below go down with it */
int cx_port_set_enabled(struct cx_port *p, bool on, cx_err *e);
int cx_host_set_bus_enabled(struct cx_host *h, bool on, cx_err *e);

/* ---- HDM decoders (hdm.c): hardware behaviour and Linux's rules ---- */
/* Commit a programmed decoder: Linux order (id == number committed on that
 * port), register sanity; sets Committed or fails with the rule. */
int cx_decoder_commit(struct cx_decoder *d, cx_err *e);
/* Reset: only the highest committed decoder of its port. */
int cx_decoder_reset(struct cx_decoder *d, cx_err *e);
/* Endpoint DPA allocation: next free decoder, increasing DPA. */
int cx_decoder_alloc_dpa(struct cx_memdev *m, enum cx_mode mode,
			 uint64_t size, struct cx_decoder **out, cx_err *e);
int cx_decoder_free_dpa(struct cx_decoder *d, cx_err *e);
int cx_port_decoders_committed(const struct cx_port *p);
int cx_memdev_decoders_committed(const struct cx_memdev *m);
/* Free DPA capacity of a partition (for region sizing). */
uint64_t cx_memdev_free_capacity(const struct cx_memdev *m, enum cx_mode mode);
/* The DPA rules a memdev's endpoint decoders keep (what alloc and free
 * make true): allocations in decoder order from decoder 0, each a
 * non-zero multiple of 256 MiB inside the device, after the one before,
 * the gap recorded as its DPA skip (so no two decoders share a byte).
 * For state restored from outside the model: -EINVAL naming the decoder
 * and the rule. */
int cx_memdev_check_dpa(const struct cx_memdev *m, cx_err *e);
/* Can decoder d interleave `ways` at `gran` (encodings, level, and the
 * HPA address bits the decoder implements)?  0 or -EINVAL/-ENXIO. */
int cx_decoder_check_interleave(const struct cx_decoder *d, int ways,
				uint32_t gran, cx_err *e);

/* ---- regions (region.c): cxl create-region semantics ---- */
struct cx_region_req {
	const char *root;           /* "decoder0.N" (required) */
	enum cx_mode mode;          /* NONE: default from root caps */
	int ways;                   /* 0: number of memdevs */
	uint32_t gran;              /* 0: root granularity */
	uint64_t size;              /* 0: default */
	const char *memdevs[CX_MAX_WAYS]; /* in position order */
	int nmemdevs;               /* 0: all memdevs below the root */
};
int cx_region_create(struct cx_host *h, const struct cx_region_req *req,
		     struct cx_region **out, cx_err *e);
int cx_region_destroy(struct cx_region *r, bool force, cx_err *e);
/* A region assembled through sysfs (region_stage.c), all targets
 * attached: set its decoders up (programmed, not committed), undo that,
 * commit them, reset its decode keeping the targets; count the targets. */
int cx_region_setup_targets(struct cx_region *r, cx_err *e);
void cx_region_teardown_targets(struct cx_region *r);
int cx_region_commit_targets(struct cx_region *r, cx_err *e);
int cx_region_decommit(struct cx_region *r, cx_err *e);
int cx_region_targets_set(const struct cx_region *r);
/* Does the region serve memory (committed and enabled): has it a DAX
 * device? */
static inline bool cx_region_serves(const struct cx_region *r)
{
	return r->committed && !r->disabled;
}
/* First fit, ascending, 256 MiB aligned, in the window's free HPA. */
bool cx_window_alloc_hpa(const struct cx_window *w, uint64_t size,
			 uint64_t *base);

/* ---- regions through sysfs (region_stage.c): Linux's region and
 * endpoint decoder attributes, with the kernel's rules and errnos ---- */
/* create_{ram,pmem}_region: `id` must be the next region id */
int cx_region_stage_create(struct cx_host *h, struct cx_window *w,
			   enum cx_mode mode, int id, struct cx_region **out,
			   cx_err *e);
int cx_region_set_ways(struct cx_region *r, int ways, cx_err *e);
int cx_region_set_gran(struct cx_region *r, uint32_t gran, cx_err *e);
int cx_region_set_uuid(struct cx_region *r, const char *uuid, cx_err *e);
/* allocates the HPA (0 frees it) */
int cx_region_set_size(struct cx_region *r, uint64_t size, cx_err *e);
/* targetN: attach an endpoint decoder at pos, or detach (d NULL) */
int cx_region_set_target(struct cx_region *r, int pos, struct cx_decoder *d,
			 cx_err *e);
int cx_region_set_commit(struct cx_region *r, bool commit, cx_err *e);
/* bind/unbind to the region driver */
int cx_region_set_enabled(struct cx_region *r, bool on, cx_err *e);
/* delete_region: decode reset, targets detached (they keep their DPA) */
int cx_region_stage_delete(struct cx_region *r, cx_err *e);
int cx_decoder_set_mode(struct cx_decoder *d, enum cx_mode mode, cx_err *e);
/* allocates DPA in decoder order (0 frees it, in reverse order) */
int cx_decoder_set_dpa_size(struct cx_decoder *d, uint64_t size, cx_err *e);
/* Largest free extent of a window (max_available_extent). */
uint64_t cx_window_max_extent(const struct cx_window *w);

/* ---- routing (route.c): HPA -> memdev DPA through the decoders ---- */
/* How a region's granules go round its slots (model/dax.h) */
struct cx_ilv {
	uint32_t gran;              /* bytes per granule */
	int ways;                   /* granules per round */
	int nmaps;                  /* XOR window: its maps (else 0) */
	uint64_t map[CX_MAX_XORMAPS];
	uint64_t base;              /* region HPA: the maps read HPA bits */
};
struct cx_route {
	uint64_t hpa;
	struct cx_window *win;
	struct cx_region *region;   /* region containing hpa, if any */
	int position;               /* endpoint's position in the region */
	struct cx_memdev *memdev;
	struct cx_decoder *decoder; /* endpoint decoder */
	uint64_t dpa;
	struct cx_media *media;     /* partition media holding dpa */
	uint64_t media_off;
	uint64_t contig;            /* bytes from hpa to the end of its granule */
};
int cx_route_hpa(struct cx_host *h, uint64_t hpa, struct cx_route *out,
		 cx_err *e);
/* The two ways to it: the walk through every decoder (route.c, the
 * oracle, with the messages) and the compiled table (route_table.c,
 * -ENOENT for whatever it cannot answer). */
int cx_route_walk(struct cx_host *h, uint64_t hpa, struct cx_route *out,
		  cx_err *e);
int cx_route_fast(struct cx_host *h, uint64_t hpa, struct cx_route *out);
/* A decoder of the host was committed, reset or restored: the compiled
 * table is rebuilt on the next translation. */
void cx_host_decode_changed(struct cx_host *h);
struct cx_route_table;
void cx_route_table_free(struct cx_route_table *t);
/* A committed region's interleave period from the compiled table:
 * granule k on slot cx_ilv_slot (k mod ways, XOR maps applied), at media
 * offset slot.off + (k / ways) * gran.  -ENOENT when the table has none
 * (the walk then serves). */
struct cx_route_layout {
	struct cx_ilv ilv;
	struct {
		struct cx_media *media;
		uint64_t off;
	} slot[CX_MAX_WAYS];
};
int cx_route_region_layout(struct cx_region *r, struct cx_route_layout *out);
/* The inverse for one member: the region offset of DPA `dpa` of endpoint
 * decoder d (for poison and events); -ENOENT when the table has none. */
int cx_route_region_offset(struct cx_region *r, const struct cx_decoder *d,
			   uint64_t dpa, uint64_t *off);
/* May [off, off+len) be read (or written) now: in the region, no poison
 * in the way of a read, no sanitize or lock on a device? */
int cx_region_check_access(struct cx_region *r, uint64_t off, uint64_t len,
			   bool write, cx_err *e);
/* Exact access by region offset; translates once per granule. */
int cx_region_read(struct cx_region *r, uint64_t off, void *buf, uint64_t len,
		   cx_err *e);
int cx_region_write(struct cx_region *r, uint64_t off, const void *buf,
		    uint64_t len, cx_err *e);

#endif
