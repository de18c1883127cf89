/*
 * cxl.c - the CXL bus in a host's sysfs view, as Linux 6.x's drivers/cxl
 * lays it out on a QEMU machine, so that libcxl (ndctl's `cxl`) finds the
 * fabric where it looks:
 *
 *   /sys/devices/platform/ACPI0017:00/root0/         the CXL root
 *       dportN -> ACPI0016 host bridge companions  (N: the bridge's UID)
 *       decoder0.N/      root decoders (the windows), regions below them
 *       portP/           host bridge ports: uport -> ACPI0016:NN,
 *           dportK -> root port PCI functions, decoderP.M,
 *           portQ/       switch upstream ports (uport -> the USP function)
 *           endpointE/   uport -> memN, decoderE.M
 *   /sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0016:NN  physical_node ->
 *   /sys/devices/pci0000:BB/0000:BB:DD.0/.../0000:SS:00.0/memN
 *       dev, serial, payload_max, label_storage_size, firmware_version,
 *       numa_node, ram/{size,qos_class}, pmem/{size,qos_class},
 *       security/state, driver, subsystem,
 *       firmware/memN/{loading,data,status,error,remaining_size,cancel}
 *       trigger_poison_list
 *   /sys/class/firmware/memN -> that firmware upload device
 *   /sys/kernel/debug/cxl/memN/{inject_poison,clear_poison} (debugfs)
 *   /sys/bus/cxl/{devices,drivers}/..., /sys/bus/cxl/flush
 *   /sys/dev/char/240:N -> memN,  /dev/cxl/memN (240:N)
 *
 * Names come from model/view.h, the same that `cxlemu list` prints.
 * Hexadecimal values are written as the kernel's %#llx writes them: 0 is
 * "0x0" (C's printf would write "0").
 * Values that only the device knows (firmware version, security state)
 * are asked of its mailbox when read.
 */
#include "sysfs/sysfs.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fw_upload.h"
#include "model/mbox.h"
#include "model/view.h"

#define ROOT_DIR "/sys/devices/platform/ACPI0017:00"
#define ACPI_BUS "/sys/devices/LNXSYSTM:00/LNXSYBUS:00"

/* modalias types (Linux's CXL_DEVICE_*) */
enum { T_PORT = 3, T_ROOT = 4, T_MEMDEV = 5, T_REGION = 6 };

static void bus_link(struct cx_sysfs *t, const struct cx_sysfs_node *dev)
{
	char path[CX_SYSFS_PATH_MAX];
	cx_sysfs_path(dev, path, sizeof(path));
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/bus/cxl/devices"), dev->name,
		      path);
}

/* bound to a driver of the cxl bus: driver link both ways */
static void bind(struct cx_sysfs *t, struct cx_sysfs_node *dev,
		 const char *driver)
{
	char path[CX_SYSFS_PATH_MAX], drv[96];
	snprintf(drv, sizeof(drv), "/sys/bus/cxl/drivers/%s", driver);
	cx_sysfs_link(dev, "driver", drv);
	cx_sysfs_path(dev, path, sizeof(path));
	cx_sysfs_link(cx_sysfs_mkdirs(t, drv), dev->name, path);
}

/* what every device of the cxl bus has */
static void cxl_device(struct cx_sysfs *t, struct cx_sysfs_node *dev,
		       const char *devtype, int type, const char *driver)
{
	cx_sysfs_text(dev, "devtype", 0444, "%s\n", devtype);
	cx_sysfs_text(dev, "modalias", 0444, "cxl:t%d\n", type);
	cx_sysfs_text(dev, "uevent", 0644, "DEVTYPE=%s\n%s%s%sMODALIAS=cxl:t%d\n",
		      devtype, driver ? "DRIVER=" : "", driver ? driver : "",
		      driver ? "\n" : "", type);
	cx_sysfs_link(dev, "subsystem", "/sys/bus/cxl");
	if (driver)
		bind(t, dev, driver);
	bus_link(t, dev);
}

/* ---- writes: the kernel's parsing (kstrto*), then the model ---- */

/* kstrtou64(buf, 0): decimal, 0x-hex or 0-octal, one trailing newline */
static int parse_u64(const struct cx_sysfs_node *n, const char *buf,
		     uint64_t *out, cx_err *e)
{
	char v[64], *end;
	cx_sysfs_value(buf, v, sizeof(v));
	errno = 0;
	unsigned long long x = strtoull(v, &end, 0);
	if (!*v || *end || errno || v[0] == '-')
		return cx_fail(e, EINVAL, "%s: '%s' is not a number", n->name,
			       v);
	*out = x;
	return 0;
}

/* kstrtobool: 1/0, y/n, on/off */
static int parse_bool(const struct cx_sysfs_node *n, const char *buf,
		      bool *out, cx_err *e)
{
	char v[16];
	cx_sysfs_value(buf, v, sizeof(v));
	if (!strcmp(v, "1") || !strcasecmp(v, "y") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "0") || !strcasecmp(v, "n") ||
		 !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		*out = false;
	else
		return cx_fail(e, EINVAL, "%s: '%s' is not a boolean", n->name,
			       v);
	return 0;
}

/* A memdev's trigger (sanitize, erase, trigger_poison_list, firmware
 * cancel): a true value starts it; false, or no boolean, is EINVAL. */
static int parse_trigger(const struct cx_sysfs_node *n,
			 const struct cx_memdev *m, const char *buf, cx_err *e)
{
	bool go;
	int rc = parse_bool(n, buf, &go, e);
	if (rc || go)
		return rc;
	return cx_fail(e, EINVAL, "mem%d: %s takes 1", m->index, n->name);
}

/* the host a node's object belongs to */
static struct cx_host *host_of_decoder(const struct cx_decoder *d)
{
	return d->kind == CX_DEC_ROOT ? d->window->targets[0]->host
	       : d->kind == CX_DEC_SWITCH ? d->port->host : d->memdev->host;
}

static int store_create_region(struct cx_sysfs_node *n, const char *buf,
			       size_t len, cx_err *e)
{
	struct cx_decoder *root = n->obj;
	char v[64], *end;
	cx_sysfs_value(buf, v, sizeof(v));
	if (strncmp(v, "region", 6) || !isdigit((unsigned char)v[6]))
		return cx_fail(e, EINVAL, "%s: '%s' is not a region name "
			       "(regionN)", n->name, v);
	long id = strtol(v + 6, &end, 10);
	if (*end || id < 0 || id > 1000000)
		return cx_fail(e, EINVAL, "%s: '%s' is not a region name "
			       "(regionN)", n->name, v);
	struct cx_region *r;
	return cx_region_stage_create(host_of_decoder(root), root->window,
				      (enum cx_mode)n->arg, (int)id, &r, e);
}

static struct cx_region *region_named(struct cx_host *h, const char *buf)
{
	char v[64];
	cx_sysfs_value(buf, v, sizeof(v));
	return cx_region_find(h, v);
}

static int store_delete_region(struct cx_sysfs_node *n, const char *buf,
			       size_t len, cx_err *e)
{
	struct cx_decoder *root = n->obj;
	struct cx_region *r = region_named(host_of_decoder(root), buf);
	if (!r || r->win != root->window)
		return cx_fail(e, ENODEV, "%s: no such region under %s",
			       buf, n->parent->name);
	return cx_region_stage_delete(r, e);
}

enum region_attr { RA_WAYS, RA_GRAN, RA_SIZE, RA_UUID, RA_COMMIT, RA_TARGET };

static int store_region(struct cx_sysfs_node *n, const char *buf, size_t len,
			cx_err *e)
{
	struct cx_region *r = n->obj;
	uint64_t v = 0;
	bool b = false;
	char s[64];
	int rc;
	switch (n->arg < RA_TARGET ? n->arg : RA_TARGET) {
	case RA_WAYS:
		if ((rc = parse_u64(n, buf, &v, e)))
			return rc;
		return cx_region_set_ways(r, v > 64 ? 0 : (int)v, e);
	case RA_GRAN:
		if ((rc = parse_u64(n, buf, &v, e)))
			return rc;
		return cx_region_set_gran(r, v > UINT32_MAX ? 0 : (uint32_t)v, e);
	case RA_SIZE:
		if ((rc = parse_u64(n, buf, &v, e)))
			return rc;
		return cx_region_set_size(r, v, e);
	case RA_UUID:
		cx_sysfs_value(buf, s, sizeof(s));
		return cx_region_set_uuid(r, s, e);
	case RA_COMMIT:
		if ((rc = parse_bool(n, buf, &b, e)))
			return rc;
		return cx_region_set_commit(r, b, e);
	default: {
		int pos = (int)(n->arg - RA_TARGET);
		cx_sysfs_value(buf, s, sizeof(s));
		if (!*s)
			return cx_region_set_target(r, pos, NULL, e);
		struct cx_decoder *d = cx_decoder_find(r->host, s);
		if (!d)
			return cx_fail(e, ENODEV, "region%d: target%d: no "
				       "decoder '%s'", r->id, pos, s);
		return cx_region_set_target(r, pos, d, e);
	}
	}
}

/* cxl_acpi's bind/unbind of ACPI0017:00: the CXL root comes and goes */
static int store_acpi_bind(struct cx_sysfs_node *n, const char *buf,
			   size_t len, cx_err *e)
{
	char v[64];
	cx_sysfs_value(buf, v, sizeof(v));
	if (strcmp(v, "ACPI0017:00"))
		return cx_fail(e, ENODEV, "cxl_acpi does not drive '%s'", v);
	return cx_host_set_bus_enabled(n->obj, n->arg != 0, e);
}

static int store_decoder_mode(struct cx_sysfs_node *n, const char *buf,
			      size_t len, cx_err *e)
{
	char v[32];
	cx_sysfs_value(buf, v, sizeof(v));
	enum cx_mode m = !strcmp(v, "ram") ? CX_MODE_RAM
			 : !strcmp(v, "pmem") ? CX_MODE_PMEM : CX_MODE_NONE;
	if (m == CX_MODE_NONE)
		return cx_fail(e, EINVAL, "%s: mode '%s' is not ram or pmem",
			       n->parent->name, v);
	return cx_decoder_set_mode(n->obj, m, e);
}

static int store_dpa_size(struct cx_sysfs_node *n, const char *buf,
			  size_t len, cx_err *e)
{
	uint64_t v;
	int rc = parse_u64(n, buf, &v, e);
	return rc ? rc : cx_decoder_set_dpa_size(n->obj, v, e);
}

/* a driver's bind/unbind: regions (cxl_region), memdevs (cxl_mem) and
 * host bridge or switch ports (cxl_port) come and go as on Linux */
static int store_bind(struct cx_sysfs_node *n, const char *buf, size_t len,
		      cx_err *e)
{
	struct cx_host *h = n->obj;
	const char *drv = n->parent->name;
	bool bind = !strcmp(n->name, "bind");
	char v[64];
	cx_sysfs_value(buf, v, sizeof(v));
	struct cx_region *r = cx_region_find(h, v);
	if (!strcmp(drv, "cxl_region") && r)
		return cx_region_set_enabled(r, bind, e);
	struct cx_memdev *m = strncmp(v, "mem", 3) ? NULL
			      : cx_memdev_find(h, v);
	if (!strcmp(drv, "cxl_mem") && m) {
		if (bind && cx_memdev_enabled(m))
			return cx_fail(e, EBUSY, "%s is bound already", v);
		return cx_memdev_set_enabled(m, bind, e);
	}
	for (int i = 0; !strcmp(drv, "cxl_port") && i < h->ports.n; i++) {
		struct cx_port *p = h->ports.v[i];
		char name[32];
		if (p->kind != CX_PORT_HB && p->kind != CX_PORT_USP)
			continue;
		snprintf(name, sizeof(name), "port%d", p->port_id);
		if (strcmp(name, v))
			continue;
		if (bind && cx_port_enabled(p))
			return cx_fail(e, EBUSY, "%s is bound already", v);
		return cx_port_set_enabled(p, bind, e);
	}
	if (bind)
		return cx_fail(e, ENODEV, "%s: %s does not drive '%s'", n->name,
			       drv, v);
	return cx_fail(e, EBUSY, "%s: cxlemu keeps '%s' bound to %s", n->name,
		       v, drv);
}

/* ---- decoders ---- */

static void target_list(struct cx_sysfs_node *dir, const struct cx_decoder *d)
{
	struct cx_port *tg[CX_MAX_WAYS];
	char buf[256] = "";
	size_t used = 0;
	int n = cx_view_dec_targets(d, tg);
	for (int i = 0; i < n && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%d",
					 i ? "," : "", cx_view_dport_id(tg[i]));
	cx_sysfs_text(dir, "target_list", 0444, "%s\n", buf);
}

static void region_attr(struct cx_sysfs_node *dir, const struct cx_decoder *d)
{
	struct cx_region *r = cx_view_dec_region(d);
	if (r)
		cx_sysfs_text(dir, "region", 0444, "region%d\n", r->id);
	else
		cx_sysfs_text(dir, "region", 0444, "\n");
}

static struct cx_sysfs_node *decoder(struct cx_sysfs *t,
				     struct cx_sysfs_node *port,
				     const struct cx_decoder *d)
{
	char name[32];
	static const char *const devtype[] = {
		[CX_DEC_ROOT] = "cxl_decoder_root",
		[CX_DEC_SWITCH] = "cxl_decoder_switch",
		[CX_DEC_ENDPOINT] = "cxl_decoder_endpoint",
	};
	cx_decoder_name(d, name, sizeof(name));
	struct cx_sysfs_node *n = cx_sysfs_dir(port, name);
	cx_sysfs_text(n, "start", 0444, "0x%llx\n",
		      (unsigned long long)cx_view_dec_base(d));
	cx_sysfs_text(n, "size", 0444, "0x%llx\n",
		      (unsigned long long)cx_view_dec_size(d));
	cx_sysfs_text(n, "interleave_ways", 0444, "%d\n", cx_view_dec_ways(d));
	cx_sysfs_text(n, "interleave_granularity", 0444, "%u\n",
		      cx_view_dec_gran(d));
	cx_sysfs_text(n, "locked", 0444, "0\n");
	cx_sysfs_text(n, "devtype", 0444, "%s\n", devtype[d->kind]);
	cx_sysfs_text(n, "uevent", 0644, "DEVTYPE=%s\n", devtype[d->kind]);
	cx_sysfs_link(n, "subsystem", "/sys/bus/cxl");
	bus_link(t, n);
	switch (d->kind) {
	case CX_DEC_ROOT:
		/* QEMU's windows allow every kind of memory */
		cx_sysfs_text(n, "cap_pmem", 0444, "1\n");
		cx_sysfs_text(n, "cap_ram", 0444, "1\n");
		cx_sysfs_text(n, "cap_type2", 0444, "1\n");
		cx_sysfs_text(n, "cap_type3", 0444, "1\n");
		cx_sysfs_text(n, "qos_class", 0444, "%d\n",
			      cx_view_window_qos_class(d->window));
		target_list(n, d);
		cx_sysfs_on_write(cx_sysfs_text(n, "create_pmem_region", 0644,
						"region%d\n",
						t->host->next_region_id),
				  store_create_region, (void *)d, CX_MODE_PMEM);
		cx_sysfs_on_write(cx_sysfs_text(n, "create_ram_region", 0644,
						"region%d\n",
						t->host->next_region_id),
				  store_create_region, (void *)d, CX_MODE_RAM);
		cx_sysfs_on_write(cx_sysfs_text(n, "delete_region", 0200, "%s",
						""),
				  store_delete_region, (void *)d, 0);
		break;
	case CX_DEC_SWITCH:
		cx_sysfs_text(n, "target_type", 0444, "expander\n");
		target_list(n, d);
		region_attr(n, d);
		break;
	case CX_DEC_ENDPOINT:
		cx_sysfs_text(n, "target_type", 0444, "expander\n");
		cx_sysfs_on_write(cx_sysfs_text(n, "mode", 0644, "%s\n",
						cx_mode_name(d->mode)),
				  store_decoder_mode, (void *)d, 0);
		cx_sysfs_text(n, "dpa_resource", 0400, "0x%llx\n",
			      (unsigned long long)(d->dpa_size ? d->dpa_base : 0));
		cx_sysfs_on_write(cx_sysfs_text(n, "dpa_size", 0644, "0x%llx\n",
						(unsigned long long)d->dpa_size),
				  store_dpa_size, (void *)d, 0);
		region_attr(n, d);
		break;
	}
	return n;
}

/* ---- memdevs and their PCI functions ---- */

static void memdev_pci_addr(const struct cx_memdev *m, char *buf, size_t len)
{
	snprintf(buf, len, "0000:%02x:00.0", m->pci_bus & 0xff);
}

/* The directory of a PCI function below a host bridge: root port, then
 * switch upstream and downstream ports, as QEMU enumerates them. */
static struct cx_sysfs_node *pci_dir(struct cx_sysfs *t, struct cx_port *p)
{
	char a[32];
	if (p->kind == CX_PORT_HB) {
		char path[64];
		snprintf(path, sizeof(path), "/sys/devices/pci0000:%02x",
			 p->bus_nr & 0xff);
		return cx_sysfs_mkdirs(t, path);
	}
	struct cx_sysfs_node *up = pci_dir(t, p->parent);
	cx_view_pci_addr(p, a, sizeof(a));
	return cx_sysfs_dir(up, a);
}

/* A query command's output, at least `need` bytes of it: true if so. */
static bool ask(struct cx_memdev *m, uint16_t opcode, uint8_t *out,
		size_t need)
{
	size_t out_len = CX_MBOX_PAYLOAD_MAX;
	uint16_t rc = 0;
	return m->mbox && cx_mbox_exec(m, opcode, NULL, 0, out, &out_len,
				       &rc) == 0 && rc == CX_RC_SUCCESS &&
	       out_len >= need;
}

static int show_fw_version(const struct cx_sysfs_node *n, char *buf,
			   size_t len, cx_err *e)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	char rev[CX_FW_REV_LEN + 1] = "";
	if (ask(n->obj, CX_OP_IDENTIFY_MEMDEV, out, CX_ID_FW_REV + CX_FW_REV_LEN))
		memcpy(rev, out + CX_ID_FW_REV, CX_FW_REV_LEN);
	return snprintf(buf, len, "%s\n", rev);
}

static int show_security(const struct cx_sysfs_node *n, char *buf,
			 size_t len, cx_err *e)
{
	struct cx_memdev *m = n->obj;
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	uint32_t st = 0;
	struct cx_mbox_status bg;
	if (m->mbox && cx_mbox_status(m, &bg) == 0 && bg.bg_running &&
	    bg.bg_opcode == CX_OP_SANITIZE)
		return snprintf(buf, len, "sanitize\n");
	if (ask(m, CX_OP_GET_SECURITY_STATE, out, CX_SEC_STATE_LEN))
		st = cx_rd_le32(out);
	const char *s = !(st & CX_SEC_USER_SET) ? "disabled"
			: (st & (CX_SEC_FROZEN | CX_SEC_USER_PLIMIT |
				 CX_SEC_MASTER_PLIMIT)) ? "frozen"
			: (st & CX_SEC_LOCKED) ? "locked" : "unlocked";
	return snprintf(buf, len, "%s\n", s);
}

/*
 * security/sanitize and security/erase take "1" and start Sanitize or
 * Secure Erase as Linux's cxl_mem_sanitize does: refused (EBUSY) while
 * the memdev's decoders decode, or while the device says Busy (another
 * head's region, a background command); security/state reads
 * "sanitize" until it is done (ndctl's wait-sanitize polls it).
 */
static int store_sanitize(struct cx_sysfs_node *n, const char *buf,
			  size_t len, cx_err *e)
{
	struct cx_memdev *m = n->obj;
	int rc = parse_trigger(n, m, buf, e);
	if (rc)
		return rc;
	if (cx_memdev_decoders_committed(m))
		return cx_fail(e, EBUSY, "mem%d: %d decoders are committed; "
			       "destroy its regions before a %s", m->index,
			       cx_memdev_decoders_committed(m), n->name);
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t out_len = sizeof(out);
	uint16_t mrc = 0;
	if (!m->mbox || cx_mbox_exec(m, (uint16_t)n->arg, NULL, 0, out,
				     &out_len, &mrc) < 0)
		return cx_fail(e, ENXIO, "mem%d has no mailbox", m->index);
	if (mrc == CX_RC_SUCCESS || mrc == CX_RC_BG_STARTED)
		return 0;
	char why[256] = "";
	cx_mbox_busy_reason(m, (uint16_t)n->arg, why, sizeof(why));
	return cx_fail(e, mrc == CX_RC_BUSY ? EBUSY : mrc == CX_RC_UNSUPPORTED
		       ? EOPNOTSUPP : ENXIO, "mem%d: %s refused by the device "
		       "(return code %#x)%s%s", m->index, n->name, mrc,
		       *why ? ": " : "", why);
}

bool cx_sysfs_destroys(const struct cx_sysfs_node *n)
{
	return n->store == store_delete_region ||
	       (n->store == store_sanitize &&
		cx_mbox_wipes((uint16_t)n->arg));
}

/* ---- poison: trigger_poison_list, debugfs inject_poison/clear_poison ---- */

/* A mailbox command as Linux's driver sends it: any return code but
 * success is ENXIO (cxl_mbox_cmd_rc2errno). */
static int send_cmd(struct cx_memdev *m, const char *what, uint16_t op,
		    const uint8_t *in, size_t in_len, uint8_t *out,
		    size_t *out_len, cx_err *e)
{
	uint8_t scratch[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(scratch);
	uint16_t rc = 0;
	if (!m->mbox || cx_mbox_exec(m, op, in, in_len, out ? out : scratch,
				     out_len ? out_len : &n, &rc) < 0)
		return cx_fail(e, ENXIO, "mem%d has no mailbox", m->index);
	if (rc != CX_RC_SUCCESS)
		return cx_fail(e, ENXIO, "mem%d: %s: the device refused it "
			       "(return code %#x)", m->index, what, rc);
	return 0;
}

/* cxl_validate_poison_dpa: inside the device's DPA space, 64 B aligned */
static int poison_dpa(struct cx_sysfs_node *n, const char *buf,
		      uint64_t *dpa, cx_err *e)
{
	struct cx_memdev *m = n->obj;
	uint64_t total = m->vmem_size + m->pmem_size;
	int rc = parse_u64(n, buf, dpa, e);
	if (rc)
		return rc;
	if (!total || *dpa >= total)
		return cx_fail(e, EINVAL, "mem%d: %s: DPA %#llx is outside the "
			       "device's [0, %#llx)", m->index, n->name,
			       (unsigned long long)*dpa,
			       (unsigned long long)total);
	if (*dpa % CX_CACHELINE)
		return cx_fail(e, EINVAL, "mem%d: %s: DPA %#llx is not 64-byte "
			       "aligned", m->index, n->name,
			       (unsigned long long)*dpa);
	return 0;
}

/* debugfs inject_poison and clear_poison (n->arg: Inject Poison or Clear
 * Poison); Clear Poison writes its data, zeros here, to the line */
static int store_poison(struct cx_sysfs_node *n, const char *buf,
			size_t len, cx_err *e)
{
	uint8_t in[CX_CP_IN_LEN] = { 0 };
	bool inject = n->arg == CX_OP_INJECT_POISON;
	uint64_t dpa;
	int rc = poison_dpa(n, buf, &dpa, e);
	if (rc)
		return rc;
	_Static_assert(CX_CP_IN_LEN >= CX_IP_IN_LEN, "one buffer for both");
	cx_wr_le64(in + (inject ? CX_IP_DPA : CX_CP_DPA), dpa);
	return send_cmd(n->obj, n->name, (uint16_t)n->arg, in,
			inject ? CX_IP_IN_LEN : CX_CP_IN_LEN, NULL, NULL, e);
}

/*
 * trigger_poison_list: Linux reads the device's poison list (Get Poison
 * List over its capacity, following "more") and emits each record as a
 * cxl_poison trace event.  cxlemu emits no trace events (README), so the
 * records are read and go nowhere, as on Linux with the event not
 * enabled; the rules and the device's answers are the kernel's.
 */
static int store_trigger_poison(struct cx_sysfs_node *n, const char *buf,
				size_t len, cx_err *e)
{
	struct cx_memdev *m = n->obj;
	uint8_t in[CX_GPL_IN_LEN], out[CX_MBOX_PAYLOAD_MAX];
	size_t out_len;
	int rc = parse_trigger(n, m, buf, e);
	if (rc)
		return rc;
	if (!cx_memdev_enabled(m))
		return cx_fail(e, EINVAL, "mem%d: %s: the memdev has no "
			       "endpoint (bind it to cxl_mem first)", m->index,
			       n->name);
	cx_wr_le64(in + CX_GPL_DPA, 0);
	cx_wr_le64(in + CX_GPL_LENGTH, (m->vmem_size + m->pmem_size) /
		   CX_CACHELINE);
	for (int round = 0; round < 4096; round++) {
		out_len = sizeof(out);
		if ((rc = send_cmd(m, n->name, CX_OP_GET_POISON_LIST, in,
				   sizeof(in), out, &out_len, e)))
			return rc;
		if (out_len < CX_GPL_RECORDS ||
		    !(out[CX_GPL_FLAGS] & CX_GPL_FLAG_MORE))
			break;
	}
	return 0;
}

/* Linux's debugfs for a bound memdev: /sys/kernel/debug/cxl/memN */
static void poison_debugfs(struct cx_sysfs *t, struct cx_memdev *m)
{
	char path[64];
	snprintf(path, sizeof(path), "/sys/kernel/debug/cxl/mem%d", m->index);
	struct cx_sysfs_node *d = cx_sysfs_mkdirs(t, path);
	cx_sysfs_on_write(cx_sysfs_text(d, "inject_poison", 0200, "%s", ""),
			  store_poison, m, CX_OP_INJECT_POISON);
	cx_sysfs_on_write(cx_sysfs_text(d, "clear_poison", 0200, "%s", ""),
			  store_poison, m, CX_OP_CLEAR_POISON);
}

/* ---- the firmware class device: /sys/class/firmware/memN ---- */

enum fwl_attr { FWL_LOADING, FWL_STATUS, FWL_ERROR, FWL_REMAINING };

static int show_fwl(const struct cx_sysfs_node *n, char *buf, size_t len,
		    cx_err *e)
{
	struct cx_memdev *m = n->obj;
	struct cx_fwl_state s;
	cx_fwl_state(m, &s);
	switch (n->arg) {
	case FWL_LOADING:
		return snprintf(buf, len, "%d\n", s.loading ? 1 : 0);
	case FWL_STATUS:
		return snprintf(buf, len, "%s\n", cx_fwl_prog_name(s.progress));
	case FWL_ERROR:
		if (s.progress != CX_FWL_IDLE)
			return cx_fail(e, EBUSY, "mem%d: firmware/error: the "
				       "upload is %s", m->index,
				       cx_fwl_prog_name(s.progress));
		if (s.err_code == CX_FWL_ERR_NONE)
			return 0;
		return snprintf(buf, len, "%s:%s\n",
				cx_fwl_prog_name(s.err_progress),
				cx_fwl_err_name(s.err_code));
	default:
		return snprintf(buf, len, "%u\n", s.remaining);
	}
}

/* what was written to `data` is not read back here */
static int show_nothing(const struct cx_sysfs_node *n, char *buf, size_t len,
			cx_err *e)
{
	return 0;
}

static int store_fwl_loading(struct cx_sysfs_node *n, const char *buf,
			     size_t len, cx_err *e)
{
	/* simple_strtol: the number the value starts with, else 0 */
	return cx_fwl_set_loading(n->obj, strtol(buf, NULL, 10), e);
}

static int store_fwl_data(struct cx_sysfs_node *n, const uint8_t *buf,
			  size_t len, uint64_t off, cx_err *e)
{
	return cx_fwl_write_data(n->obj, buf, len, off, e);
}

static int store_fwl_cancel(struct cx_sysfs_node *n, const char *buf,
			    size_t len, cx_err *e)
{
	int rc = parse_trigger(n, n->obj, buf, e);
	return rc ? rc : cx_fwl_cancel(n->obj, e);
}

/* Linux's firmware upload device of a memdev (drivers/cxl registers it
 * when the device has the firmware commands), a class device below the
 * memdev: memN/firmware/memN, linked from /sys/class/firmware. */
static void firmware_loader(struct cx_sysfs *t, struct cx_sysfs_node *memdir,
			    struct cx_memdev *m)
{
	static const struct { const char *name; unsigned mode; int arg; }
	attrs[] = {
		{ "loading", 0644, FWL_LOADING },
		{ "status", 0444, FWL_STATUS },
		{ "error", 0444, FWL_ERROR },
		{ "remaining_size", 0444, FWL_REMAINING },
	};
	char name[32], path[CX_SYSFS_PATH_MAX];
	if (!cx_fwl_present(m))
		return;
	snprintf(name, sizeof(name), "mem%d", m->index);
	struct cx_sysfs_node *fw = cx_sysfs_dir(cx_sysfs_dir(memdir,
							     "firmware"), name);
	for (size_t i = 0; i < CX_ARRAY_SIZE(attrs); i++)
		cx_sysfs_attr(fw, attrs[i].name, attrs[i].mode, show_fwl,
			      m)->arg = attrs[i].arg;
	cx_sysfs_on_write(cx_sysfs_child(fw, "loading"), store_fwl_loading,
			  m, FWL_LOADING);
	cx_sysfs_on_write_bin(cx_sysfs_attr(fw, "data", 0644, show_nothing,
					    m), store_fwl_data, m);
	cx_sysfs_on_write(cx_sysfs_text(fw, "cancel", 0200, "%s", ""),
			  store_fwl_cancel, m, 0);
	cx_sysfs_text(fw, "uevent", 0644, "%s", "");
	cx_sysfs_link(fw, "subsystem", "/sys/class/firmware");
	cx_sysfs_path(memdir, path, sizeof(path));
	cx_sysfs_link(fw, "device", path);
	cx_sysfs_path(fw, path, sizeof(path));
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/class/firmware"), name, path);
}

static struct cx_sysfs_node *memdev(struct cx_sysfs *t, struct cx_memdev *m)
{
	char a[32], name[32];
	if (!m->parent)
		return NULL;
	struct cx_sysfs_node *fn = pci_dir(t, m->parent);
	memdev_pci_addr(m, a, sizeof(a));
	fn = cx_sysfs_dir(fn, a);
	cx_sysfs_text(fn, "class", 0444, "0x050210\n");  /* CXL memory device */
	snprintf(name, sizeof(name), "mem%d", m->index);
	struct cx_sysfs_node *n = cx_sysfs_dir(fn, name);
	cx_sysfs_text(n, "dev", 0444, "%u:%d\n", CX_SYSFS_MEM_MAJOR, m->index);
	cx_sysfs_text(n, "serial", 0444, "0x%llx\n",
		      (unsigned long long)(m->has_sn ? m->sn : 0));
	cx_sysfs_text(n, "payload_max", 0444, "%u\n", CX_MBOX_PAYLOAD_MAX);
	cx_sysfs_text(n, "label_storage_size", 0444, "%llu\n",
		      (unsigned long long)m->lsa_size);
	cx_sysfs_text(n, "numa_node", 0444, "-1\n");
	cx_sysfs_attr(n, "firmware_version", 0444, show_fw_version, m);
	static const struct { const char *dir; enum cx_mode mode; } part[] = {
		{ "ram", CX_MODE_RAM }, { "pmem", CX_MODE_PMEM },
	};
	for (int i = 0; i < 2; i++) {
		struct cx_sysfs_node *pd = cx_sysfs_dir(n, part[i].dir);
		int qos = cx_view_memdev_qos_class(m, part[i].mode);
		cx_sysfs_text(pd, "size", 0444, "0x%llx\n", (unsigned long long)
			      (part[i].mode == CX_MODE_RAM ? m->vmem_size
			       : m->pmem_size));
		/* Linux hides qos_class when it has none to show */
		if (qos != CX_QOS_CLASS_NONE)
			cx_sysfs_text(pd, "qos_class", 0444, "%d\n", qos);
	}
	struct cx_sysfs_node *sec = cx_sysfs_dir(n, "security");
	cx_sysfs_attr(sec, "state", 0444, show_security, m);
	cx_sysfs_on_write(cx_sysfs_text(sec, "sanitize", 0200, "%s", ""),
			  store_sanitize, m, CX_OP_SANITIZE);
	cx_sysfs_on_write(cx_sysfs_text(sec, "erase", 0200, "%s", ""),
			  store_sanitize, m, CX_OP_SECURE_ERASE);
	firmware_loader(t, n, m);
	if (m->mbox) {
		cx_sysfs_on_write(cx_sysfs_text(n, "trigger_poison_list", 0200,
						"%s", ""),
				  store_trigger_poison, m, 0);
		if (cx_memdev_enabled(m))
			poison_debugfs(t, m);
	}
	bool on = cx_memdev_enabled(m);
	cx_sysfs_text(n, "uevent", 0644, "MAJOR=%u\nMINOR=%d\nDEVNAME=cxl/%s\n"
		      "DEVTYPE=cxl_memdev\n%sMODALIAS=cxl:t%d\n",
		      CX_SYSFS_MEM_MAJOR, m->index, name,
		      on ? "DRIVER=cxl_mem\n" : "", T_MEMDEV);
	cx_sysfs_text(n, "devtype", 0444, "cxl_memdev\n");
	cx_sysfs_text(n, "modalias", 0444, "cxl:t%d\n", T_MEMDEV);
	cx_sysfs_link(n, "subsystem", "/sys/bus/cxl");
	if (on)
		bind(t, n, "cxl_mem");
	bus_link(t, n);

	char path[CX_SYSFS_PATH_MAX], num[32];
	cx_sysfs_path(n, path, sizeof(path));
	snprintf(num, sizeof(num), "%u:%d", CX_SYSFS_MEM_MAJOR, m->index);
	cx_sysfs_link(cx_sysfs_mkdirs(t, "/sys/dev/char"), num, path);
	cx_sysfs_chr(cx_sysfs_mkdirs(t, "/dev/cxl"), name, 0600,
		     CX_SYSFS_MEM_MAJOR, (unsigned)m->index);
	return n;
}

/* ---- ports ---- */

static void acpi_host_bridge(struct cx_sysfs *t, struct cx_port *hb,
			     char *path, size_t len)
{
	snprintf(path, len, ACPI_BUS "/ACPI0016:%02x", hb->hb_index);
	struct cx_sysfs_node *n = cx_sysfs_mkdirs(t, path);
	char pci[64];
	snprintf(pci, sizeof(pci), "/sys/devices/pci0000:%02x",
		 hb->bus_nr & 0xff);
	cx_sysfs_mkdirs(t, pci);
	cx_sysfs_link(n, "physical_node", pci);
	cx_sysfs_text(n, "uid", 0444, "%d\n", hb->bus_nr);
	cx_sysfs_text(n, "hid", 0444, "ACPI0016\n");
	cx_sysfs_link(cx_sysfs_mkdirs(t, pci), "firmware_node", path);
}

/* the CXL port's directory, with its ancestors' */
static struct cx_sysfs_node *port_dir(struct cx_sysfs *t,
				      const struct cx_vport *x)
{
	char name[32];
	struct cx_vport up;
	if (!cx_vport_parent(x, &up))
		return cx_sysfs_mkdirs(t, ROOT_DIR "/root0");
	struct cx_sysfs_node *parent = port_dir(t, &up);
	cx_vport_name(x, name, sizeof(name));
	return cx_sysfs_dir(parent, name);
}

static void port(struct cx_sysfs *t, const struct cx_vport *x,
		 struct cx_sysfs_node **memdirs)
{
	struct cx_sysfs_node *n = port_dir(t, x);
	char path[CX_SYSFS_PATH_MAX], name[32];
	struct cx_port *dp[64];
	int nd = cx_vport_dports(x, dp, 64);

	for (int i = 0; i < nd && i < 64; i++) {
		snprintf(name, sizeof(name), "dport%d", cx_view_dport_id(dp[i]));
		if (dp[i]->kind == CX_PORT_HB)
			acpi_host_bridge(t, dp[i], path, sizeof(path));
		else
			cx_sysfs_path(pci_dir(t, dp[i]), path, sizeof(path));
		cx_sysfs_link(n, name, path);
	}
	switch (x->kind) {
	case CX_VPORT_ROOT:
		cx_sysfs_link(n, "uport", ROOT_DIR);
		cxl_device(t, n, "cxl_port", T_ROOT, NULL);
		for (int i = 0; i < x->h->windows.n; i++) {
			struct cx_window *w = x->h->windows.v[i];
			decoder(t, n, &w->dec);
		}
		break;
	case CX_VPORT_SWITCH:
		if (x->p->kind == CX_PORT_HB)
			acpi_host_bridge(t, x->p, path, sizeof(path));
		else
			cx_sysfs_path(pci_dir(t, x->p), path, sizeof(path));
		cx_sysfs_link(n, "uport", path);
		/* an unbound port keeps its device, not its decoders */
		bool on = cx_port_enabled(x->p);
		cxl_device(t, n, "cxl_port", T_PORT, on ? "cxl_port" : NULL);
		for (int i = 0; on && i < x->p->ndecoders; i++)
			decoder(t, n, &x->p->decoders[i]);
		break;
	case CX_VPORT_ENDPOINT:
		cx_sysfs_path(memdirs[x->m->index], path, sizeof(path));
		cx_sysfs_link(n, "uport", path);
		cxl_device(t, n, "cxl_port", T_PORT, "cxl_port");
		for (int i = 0; i < CX_DECODERS_PER_PORT; i++)
			decoder(t, n, &x->m->decoders[i]);
		break;
	}
	if (x->kind == CX_VPORT_SWITCH)
		cx_sysfs_text(n, "decoders_committed", 0444, "%d\n",
			      cx_port_decoders_committed(x->p));
	if (x->kind == CX_VPORT_ENDPOINT)
		cx_sysfs_text(n, "decoders_committed", 0444, "%d\n",
			      cx_memdev_decoders_committed(x->m));
}

/* ---- regions ---- */

static void region(struct cx_sysfs *t, struct cx_region *r)
{
	char name[32], dec[32];
	cx_decoder_name(&r->win->dec, dec, sizeof(dec));
	struct cx_sysfs_node *rd = cx_sysfs_mkdirs(t, ROOT_DIR "/root0");
	rd = cx_sysfs_dir(rd, dec);
	snprintf(name, sizeof(name), "region%d", r->id);
	struct cx_sysfs_node *n = cx_sysfs_dir(rd, name);
	cx_sysfs_on_write(cx_sysfs_text(n, "uuid", 0644, "%s\n",
					r->mode == CX_MODE_PMEM ? r->uuid : ""),
			  store_region, r, RA_UUID);
	cx_sysfs_on_write(cx_sysfs_text(n, "interleave_ways", 0644, "%d\n",
					r->ways), store_region, r, RA_WAYS);
	cx_sysfs_on_write(cx_sysfs_text(n, "interleave_granularity", 0644,
					"%u\n", r->gran),
			  store_region, r, RA_GRAN);
	cx_sysfs_on_write(cx_sysfs_text(n, "size", 0644, "0x%llx\n",
					(unsigned long long)r->size),
			  store_region, r, RA_SIZE);
	cx_sysfs_text(n, "resource", 0400, "0x%llx\n", (unsigned long long)
		      (r->size ? r->base : ~0ULL));
	cx_sysfs_text(n, "mode", 0444, "%s\n", cx_mode_name(r->mode));
	cx_sysfs_on_write(cx_sysfs_text(n, "commit", 0644, "%d\n",
					r->committed ? 1 : 0),
			  store_region, r, RA_COMMIT);
	for (int i = 0; i < r->ways; i++) {
		char tn[24], dn[32] = "";
		snprintf(tn, sizeof(tn), "target%d", i);
		if (r->targets[i])
			cx_decoder_name(r->targets[i], dn, sizeof(dn));
		cx_sysfs_on_write(cx_sysfs_text(n, tn, 0644, "%s\n", dn),
				  store_region, r, RA_TARGET + i);
	}
	cxl_device(t, n, "cxl_region", T_REGION,
		   cx_region_serves(r) ? "cxl_region" : NULL);
}

static int store_flush(struct cx_sysfs_node *n, const char *buf, size_t len,
		       cx_err *e)
{
	if (strcmp(buf, "1") && strcmp(buf, "1\n"))
		return cx_fail(e, EINVAL, "/sys/bus/cxl/flush: '%s' is not 1",
			       buf);
	return 0;
}

void cx_sysfs_add_cxl(struct cx_sysfs *t)
{
	struct cx_host *h = t->host;
	struct cx_sysfs_node *bus = cx_sysfs_mkdirs(t, "/sys/bus/cxl");
	cx_sysfs_dir(bus, "devices");
	struct cx_sysfs_node *drivers = cx_sysfs_dir(bus, "drivers");
	static const char *const drv[] = {
		"cxl_port", "cxl_mem", "cxl_region", "cxl_dax_region",
	};
	for (size_t i = 0; i < sizeof(drv) / sizeof(drv[0]); i++) {
		struct cx_sysfs_node *d = cx_sysfs_dir(drivers, drv[i]);
		cx_sysfs_on_write(cx_sysfs_text(d, "bind", 0200, "%s", ""),
				  store_bind, h, 0);
		cx_sysfs_on_write(cx_sysfs_text(d, "unbind", 0200, "%s", ""),
				  store_bind, h, 0);
		cx_sysfs_text(d, "uevent", 0200, "%s", "");
	}
	/* libcxl writes flush before every walk to wait for probing,
	 * which here is always done */
	cx_sysfs_on_write(cx_sysfs_text(bus, "flush", 0200, "%s", ""),
			  store_flush, NULL, 0);
	cx_sysfs_text(bus, "drivers_autoprobe", 0644, "1\n");
	cx_sysfs_text(bus, "drivers_probe", 0200, "%s", "");
	cx_sysfs_text(bus, "uevent", 0200, "%s", "");
	cx_sysfs_mkdirs(t, "/dev/cxl");

	/* memdevs first: endpoints point at them */
	struct cx_sysfs_node **memdirs = cx_xcalloc((size_t)h->memdevs.n + 1,
						    sizeof(*memdirs));
	for (int i = 0; i < h->memdevs.n; i++) {
		struct cx_memdev *m = h->memdevs.v[i];
		if (m->index <= h->memdevs.n)
			memdirs[m->index] = memdev(t, m);
	}
	/* a host without host bridges has no CXL root; the platform
	 * device ACPI0017:00 is bound to cxl_acpi while the root exists */
	if (h->hbs.n) {
		struct cx_sysfs_node *acpi = cx_sysfs_mkdirs(t, ROOT_DIR);
		cx_sysfs_text(acpi, "modalias", 0444, "acpi:ACPI0017:\n");
		struct cx_sysfs_node *acpi_drv =
			cx_sysfs_mkdirs(t, "/sys/bus/platform/drivers/cxl_acpi");
		cx_sysfs_on_write(cx_sysfs_text(acpi_drv, "bind", 0200, "%s",
						""), store_acpi_bind, h, 1);
		cx_sysfs_on_write(cx_sysfs_text(acpi_drv, "unbind", 0200, "%s",
						""), store_acpi_bind, h, 0);
		if (!h->bus_disabled) {
			cx_sysfs_link(acpi, "driver",
				      "/sys/bus/platform/drivers/cxl_acpi");
			cx_sysfs_link(acpi_drv, "ACPI0017:00", ROOT_DIR);
		}
	}
	if (h->hbs.n && !h->bus_disabled) {
		struct cx_vport root = cx_vport_root(h);
		port(t, &root, memdirs);
		for (int i = 0; i < h->ports.n; i++) {
			struct cx_port *p = h->ports.v[i];
			/* a switch port is there while an enabled memdev
			 * is below it */
			if (p->kind == CX_PORT_HB ||
			    (p->kind == CX_PORT_USP && cx_port_enabled(p))) {
				struct cx_vport x = cx_vport_switch(p);
				port(t, &x, memdirs);
			}
		}
		for (int i = 0; i < h->memdevs.n; i++) {
			struct cx_memdev *m = h->memdevs.v[i];
			if (cx_memdev_enabled(m) && memdirs[m->index]) {
				struct cx_vport x = cx_vport_endpoint(m);
				port(t, &x, memdirs);
			}
		}
		for (int i = 0; i < h->regions.n; i++)
			region(t, h->regions.v[i]);
	}
	free(memdirs);
}
