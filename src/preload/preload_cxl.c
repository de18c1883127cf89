/*
 * preload_cxl.c - /dev/cxl/memN, a memdev's character device, and its
 * mailbox ioctls, answered as Linux 6.12's cxl_mem driver answers them
 * (drivers/cxl/core/mbox.c, memdev.c, pci.c; the same since 6.10) with
 * the device's CCI behind them through the daemon.  Older kernels differ
 * where the README says.
 *
 * open() of /dev/cxl/memN gives a placeholder descriptor (as for
 * /dev/daxZ.M) after doing what cxl_pci does when it binds the device:
 * Get Supported Logs and Get Log of the Command Effects Log decide which
 * UAPI commands are enabled (Identify, Get Supported Logs and Get Log
 * always are), and a device with persistent capacity under a window that
 * allows it gets an nvdimm, whose driver keeps Set LSA and Set Shutdown
 * State for the kernel (EBUSY from user space).  Then:
 *
 *   CXL_MEM_QUERY_COMMANDS  n_commands 0 gives the size of Linux's table
 *                           (25); otherwise up to n_commands entries in id
 *                           order, each {id, flags ENABLED|EXCLUSIVE,
 *                           size_in, size_out} with ~0 for a variable
 *                           size and all zero where Linux has no command
 *                           (id 0, RAW unless configured, the poison and
 *                           scan media ids deprecated since 6.3).
 *   CXL_MEM_SEND_COMMAND    the checks of cxl_validate_cmd_from_user() in
 *                           its order and with its errno: ENOTTY for an id
 *                           out of range or not enabled, EINVAL for
 *                           reserved fields, unknown flags or more input
 *                           than the 2048-byte payload, EBUSY for a
 *                           command the kernel keeps (or a Set Partition
 *                           Info asking to apply at once), ENOMEM for
 *                           sizes that differ from the command's fixed
 *                           ones, EPERM for RAW unless the kernel would
 *                           allow it; EFAULT for a bad pointer.  Then the
 *                           command goes to the device; retval is its
 *                           return code and out.size the returned length
 *                           (at most what was asked).  As in Linux, a
 *                           command the device fails leaves out.size as
 *                           given and zeroes that much of the output.
 *   anything else           ENOTTY (the generic FIO* in preload_io.c).
 *
 * RAW commands need a kernel built with CONFIG_CXL_MEM_RAW_COMMANDS,
 * which distributions leave out: set CXLEMU_RAW_COMMANDS=1 to behave as
 * one built with it (opcodes the kernel keeps, the security command sets
 * among them, stay EPERM unless CXLEMU_RAW_ALLOW_ALL=1, Linux's
 * raw_allow_all debugfs knob).
 *
 * User pointers are read and written with process_vm_readv/writev on this
 * process, so a bad one is EFAULT, as from the kernel, not a crash.  When
 * the daemon is gone every ioctl is ENXIO, as on a memdev Linux removed.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cxl_mem.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client/mbox_client.h"
#include "proto/json_print.h"
#include "proto/list_opts.h"
#include "spec/mbox.h"
#include "sysfs/sysfs.h"
#include "util/util.h"

/* ---- Linux 6.12's UAPI and command table ---- */

/* Ids 0-20 are the same in every release since 5.12 (the installed
 * header has them); 6.12 adds these. */
enum {
	UAPI_GET_TIMESTAMP = 21,
	UAPI_GET_LOG_CAPS = 22,
	UAPI_CLEAR_LOG = 23,
	UAPI_GET_SUP_LOG_SUBLIST = 24,
	UAPI_NCMDS = 25,                   /* CXL_MEM_COMMAND_ID_MAX */
};
_Static_assert(CXL_MEM_COMMAND_ID_GET_SCAN_MEDIA == 20,
	       "UAPI command ids 0-20 are fixed");
#define UAPI_FLAG_ENABLED   (1u << 0)
#define UAPI_FLAG_EXCLUSIVE (1u << 1)
#define UAPI_FLAG_MASK      0x3u       /* flags SEND accepts */
#define VAR                 0xffffffffu /* CXL_VARIABLE_PAYLOAD */
#define BIT(id)             (1u << (id))

/* Opcodes Linux knows that the CXL spec layer does not name. */
#define OP_GET_LOG_CAPS          0x0402
#define OP_CLEAR_LOG             0x0403
#define OP_GET_SUP_LOG_SUBLIST   0x0405

struct uapi_cmd {
	const char *name;         /* the UAPI's cxl_command_names[] */
	uint16_t opcode;
	uint32_t in, out;         /* fixed sizes, or VAR */
	bool defined;             /* in Linux's table */
	bool force;               /* enabled whatever the CEL says */
};

#define CMD(id, nm, op, i, o, f) \
	[id] = { nm, op, i, o, true, f }
static const struct uapi_cmd cmds[UAPI_NCMDS] = {
	[0] = { "Invalid Command", 0, 0, 0, false, false },
	CMD(CXL_MEM_COMMAND_ID_IDENTIFY, "Identify Command",
	    CX_OP_IDENTIFY_MEMDEV, 0, 0x43, true),
	/* RAW is in the table only when the kernel is built with it */
	[CXL_MEM_COMMAND_ID_RAW] = { "Raw device command", 0, VAR, VAR,
				     false, false },
	CMD(CXL_MEM_COMMAND_ID_GET_SUPPORTED_LOGS, "Get Supported Logs",
	    CX_OP_GET_SUPPORTED_LOGS, 0, VAR, true),
	CMD(CXL_MEM_COMMAND_ID_GET_FW_INFO, "Get FW Info",
	    CX_OP_GET_FW_INFO, 0, 0x50, false),
	CMD(CXL_MEM_COMMAND_ID_GET_PARTITION_INFO, "Get Partition Information",
	    CX_OP_GET_PARTITION_INFO, 0, 0x20, false),
	CMD(CXL_MEM_COMMAND_ID_GET_LSA, "Get Label Storage Area",
	    CX_OP_GET_LSA, 0x8, VAR, false),
	CMD(CXL_MEM_COMMAND_ID_GET_HEALTH_INFO, "Get Health Info",
	    CX_OP_GET_HEALTH_INFO, 0, 0x12, false),
	CMD(CXL_MEM_COMMAND_ID_GET_LOG, "Get Log",
	    CX_OP_GET_LOG, 0x18, VAR, true),
	CMD(CXL_MEM_COMMAND_ID_SET_PARTITION_INFO, "Set Partition Information",
	    CX_OP_SET_PARTITION_INFO, 0x0a, 0, false),
	CMD(CXL_MEM_COMMAND_ID_SET_LSA, "Set Label Storage Area",
	    CX_OP_SET_LSA, VAR, 0, false),
	CMD(CXL_MEM_COMMAND_ID_GET_ALERT_CONFIG, "Get Alert Configuration",
	    CX_OP_GET_ALERT_CONFIG, 0, 0x10, false),
	CMD(CXL_MEM_COMMAND_ID_SET_ALERT_CONFIG, "Set Alert Configuration",
	    CX_OP_SET_ALERT_CONFIG, 0xc, 0, false),
	CMD(CXL_MEM_COMMAND_ID_GET_SHUTDOWN_STATE, "Get Shutdown State",
	    CX_OP_GET_SHUTDOWN_STATE, 0, 0x1, false),
	CMD(CXL_MEM_COMMAND_ID_SET_SHUTDOWN_STATE, "Set Shutdown State",
	    CX_OP_SET_SHUTDOWN_STATE, 0x1, 0, false),
	/* deprecated since 6.3: no longer in the table */
	[15] = { "Deprecated Get Poison List", 0, 0, 0, false, false },
	[16] = { "Deprecated Inject Poison", 0, 0, 0, false, false },
	[17] = { "Deprecated Clear Poison", 0, 0, 0, false, false },
	CMD(CXL_MEM_COMMAND_ID_GET_SCAN_MEDIA_CAPS,
	    "Get Scan Media Capabilities", CX_OP_GET_SCAN_MEDIA_CAPS, 0x10, 0x4,
	    false),
	[19] = { "Deprecated Scan Media", 0, 0, 0, false, false },
	[20] = { "Deprecated Get Scan Media Results", 0, 0, 0, false, false },
	CMD(UAPI_GET_TIMESTAMP, "Get Timestamp", CX_OP_GET_TIMESTAMP, 0, 0x8,
	    false),
	CMD(UAPI_GET_LOG_CAPS, "Get Log Capabilities", OP_GET_LOG_CAPS, 0x10,
	    0x4, false),
	CMD(UAPI_CLEAR_LOG, "Clear Log", OP_CLEAR_LOG, 0x10, 0, false),
	CMD(UAPI_GET_SUP_LOG_SUBLIST, "Get Supported Logs Sub-List",
	    OP_GET_SUP_LOG_SUBLIST, 0x2, VAR, false),
};

/* What the nvdimm driver keeps while it holds a memdev (drivers/cxl/pmem.c). */
#define KEPT_WITH_NVDIMM (BIT(CXL_MEM_COMMAND_ID_SET_SHUTDOWN_STATE) | \
			  BIT(CXL_MEM_COMMAND_ID_SET_LSA))

/* Opcodes RAW refuses (cxl_disabled_raw_commands), and whole command sets:
 * 44h Sanitize, 45h Persistent Memory Data-at-rest Security, 46h Security
 * Passthrough. */
static const uint16_t raw_refused[] = {
	CX_OP_ACTIVATE_FW, CX_OP_SET_PARTITION_INFO, CX_OP_SET_LSA,
	CX_OP_SET_SHUTDOWN_STATE, CX_OP_SCAN_MEDIA,
	CX_OP_GET_SCAN_MEDIA_RESULTS, CX_OP_GET_POISON_LIST,
	CX_OP_INJECT_POISON, CX_OP_CLEAR_POISON,
};
static const uint8_t raw_refused_sets[] = { 0x44, 0x45, 0x46 };

/* Clear Log from user space only for the Vendor Debug log,
 * 5e1819d9-11a9-400c-811f-d60719403d86. */
static const uint8_t vendor_debug_uuid[16] = {
	0x5e, 0x18, 0x19, 0xd9, 0x11, 0xa9, 0x40, 0x0c,
	0x81, 0x1f, 0xd6, 0x07, 0x19, 0x40, 0x3d, 0x86,
};

#define PAYLOAD CX_MBOX_PAYLOAD_MAX   /* the mailbox's payload size */

static bool env_on(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcmp(v, "1") || !strcmp(v, "y") || !strcmp(v, "yes"));
}

/* CONFIG_CXL_MEM_RAW_COMMANDS */
static bool raw_configured(void) { return env_on("CXLEMU_RAW_COMMANDS"); }

static bool defined(unsigned id)
{
	if (id == CXL_MEM_COMMAND_ID_RAW)
		return raw_configured();
	return cmds[id].defined;
}

/* ---- the node ---- */

bool cx_pl_is_mem_path(const char *path, unsigned *minor)
{
	const char *p;
	char *end;
	if (!path || strncmp(path, "/dev/cxl/mem", 12))
		return false;
	p = path + 12;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]))
		return false;
	unsigned long n = strtoul(p, &end, 10);
	if (*end || n > 0xfffff)          /* a minor number */
		return false;
	if (minor)
		*minor = (unsigned)n;
	return true;
}

/* ---- user memory: EFAULT, never a crash ---- */

static int uaccess(uint64_t uaddr, void *buf, size_t n, bool to_user)
{
	size_t done = 0;
	while (done < n) {
		if (uaddr + done < uaddr)
			return -EFAULT;
		struct iovec local = { (char *)buf + done, n - done };
		struct iovec remote = { (void *)(uintptr_t)(uaddr + done),
					n - done };
		ssize_t r = to_user
			? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
			: process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
			/* no process_vm_*: trust the pointer */
			void *p = (void *)(uintptr_t)(uaddr + done);
			memcpy(to_user ? p : (char *)buf + done,
			       to_user ? (char *)buf + done : p, n - done);
			return 0;
		}
		if (r <= 0)
			return -EFAULT;
		done += (size_t)r;
	}
	return 0;
}

static int copy_in(void *dst, uint64_t uaddr, size_t n)
{
	return uaccess(uaddr, dst, n, false);
}

static int copy_out(uint64_t uaddr, const void *src, size_t n)
{
	return uaccess(uaddr, (void *)src, n, true);
}

/* n zero bytes to user memory (what a failed command leaves). */
static int zero_out(uint64_t uaddr, size_t n)
{
	static const uint8_t zeros[65536];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof(zeros) ? n - done : sizeof(zeros);
		if (copy_out(uaddr + done, zeros, k))
			return -EFAULT;
		done += k;
	}
	return 0;
}

/* ---- the device, through the daemon (lock held) ---- */

static int gone(const struct cx_pl_mem *m, const char *why)
{
	CX_PL_SAY_ONCE("/dev/cxl/%s: the fabric does not answer (%s); the "
		       "device is gone, as a memdev Linux removed (ENXIO)",
		       m->name, why);
	return -ENXIO;
}

/* A command cxl_pci needs to bind the device failed: no device. */
static int unbound(const struct cx_pl_mem *m, const char *what, uint16_t rc)
{
	cx_pl_say("/dev/cxl/%s: %s failed (%s): Linux would not bind the "
		  "device (ENXIO)", m->name, what, cx_mbox_rc_name(rc));
	return -ENXIO;
}

/* One command; out may be NULL.  -ENXIO when the daemon is gone. */
static int dev_cmd(const struct cx_pl_mem *m, uint16_t op, const void *in,
		   size_t in_len, uint8_t *out, size_t *out_len, uint16_t *rc)
{
	struct cxlemu_err err;
	int r;
	struct cxlemu *c = cx_pl_conn(&r);
	if (!c)
		return gone(m, "no fabric");
	r = cx_mbox_ccall(c, m->name, op, in, in_len, out, out_len, rc, &err);
	return r < 0 ? gone(m, err.msg) : 0;
}

/* Still there?  0, or -ENXIO. */
static int alive(const struct cx_pl_mem *m)
{
	char path[64];
	struct cx_sysfs_cstat st;
	struct cxlemu_err err;
	int r;
	snprintf(path, sizeof(path), "/dev/cxl/%s", m->name);
	struct cxlemu *c = cx_pl_conn(&r);
	r = c ? cx_sysfs_cstat(c, path, false, &st, &err) : -ENXIO;
	if (!c)
		return gone(m, "no fabric");
	return r < 0 ? gone(m, err.msg) : 0;
}

/* Is cxl_mem bound to the memdev now?  Only then does the memdev have its
 * nvdimm (cxl_mem makes it on probe and it goes on unbind, `cxl
 * disable-memdev`), and only then are the nvdimm's commands kept. */
static bool memdev_bound(const struct cx_pl_mem *m)
{
	char path[96];
	struct cx_sysfs_cstat st;
	struct cxlemu_err err;
	int r;
	snprintf(path, sizeof(path), "/sys/bus/cxl/devices/%s/driver",
		 m->name);
	struct cxlemu *c = cx_pl_conn(&r);
	return !c || cx_sysfs_cstat(c, path, true, &st, &err) == 0;
}

/* The Command Effects Log, walked as cxl_walk_cel(): each opcode enables
 * the first table entry with it (an undefined entry has opcode 0). */
static void walk_cel(struct cx_pl_mem *m, const uint8_t *cel, size_t size)
{
	for (size_t off = 0; off + CX_CEL_ENTRY_SIZE <= size;
	     off += CX_CEL_ENTRY_SIZE) {
		uint16_t op = cx_rd_le16(cel + off + CX_CEL_OPCODE);
		for (unsigned id = 0; id < UAPI_NCMDS; id++) {
			uint16_t idop = defined(id) ? cmds[id].opcode : 0;
			if (idop == op) {
				m->enabled |= BIT(defined(id) ? id : 0);
				break;
			}
		}
	}
}

/* Read a log of `size` bytes in payload-sized pieces (cxl_xfer_log); a
 * short piece ends it. */
static int read_log(struct cx_pl_mem *m, const uint8_t *uuid, uint32_t size,
		    uint8_t **log, size_t *len)
{
	uint8_t in[CX_GLOG_IN_LEN];
	uint32_t off = 0;
	uint16_t rc = 0;
	if (size > (1u << 20))
		return -ENOMEM;
	*log = cx_xcalloc(1, size ? size : 1);
	while (off < size) {
		uint32_t want = size - off < PAYLOAD ? size - off : PAYLOAD;
		size_t got = want;
		memcpy(in + CX_GLOG_UUID, uuid, 16);
		cx_wr_le32(in + CX_GLOG_OFFSET, off);
		cx_wr_le32(in + CX_GLOG_LENGTH, want);
		int r = dev_cmd(m, CX_OP_GET_LOG, in, sizeof(in), *log + off,
				&got, &rc);
		if (r == 0 && rc)
			r = unbound(m, "Get Log", rc);
		if (r < 0) {
			free(*log);
			return r;
		}
		if (got < want) {
			off += (uint32_t)got;
			break;
		}
		off += want;
	}
	*len = off;
	return 0;
}

/* Which commands the device's CEL enables (cxl_enumerate_cmds). */
static int enumerate(struct cx_pl_mem *m, const char *path)
{
	uint8_t out[PAYLOAD];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	bool found = false;
	int r = dev_cmd(m, CX_OP_GET_SUPPORTED_LOGS, NULL, 0, out, &n, &rc);
	if (r)
		return r;
	if (rc)
		return unbound(m, "Get Supported Logs", rc);
	if (n > sizeof(out))
		n = sizeof(out);
	unsigned entries = cx_rd_le16(out + CX_GSL_NENTRIES);
	for (unsigned i = 0; i < entries; i++) {
		size_t e = CX_GSL_ENTRIES + (size_t)i * CX_GSL_ENTRY_SIZE;
		if (e + CX_GSL_ENTRY_SIZE > n)
			break;
		if (memcmp(out + e + CX_GSL_E_UUID, cx_cel_uuid, 16))
			continue;
		uint8_t *cel;
		size_t len;
		r = read_log(m, cx_cel_uuid, cx_rd_le32(out + e + CX_GSL_E_SIZE),
			     &cel, &len);
		if (r)
			return r;
		walk_cel(m, cel, len);
		free(cel);
		for (unsigned id = 0; id < UAPI_NCMDS; id++)
			if (cmds[id].force)
				m->enabled |= BIT(id);
		found = true;
	}
	if (!found) {
		cx_pl_say("%s: the device lists no Command Effects Log: Linux "
			  "would not bind it (ENXIO)", path);
		return -ENXIO;
	}
	return 0;
}

static bool any_pmem_capable(struct json_object *j)
{
	if (json_object_is_type(j, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(j); i++)
			if (any_pmem_capable(json_object_array_get_idx(j, i)))
				return true;
		return false;
	}
	if (!json_object_is_type(j, json_type_object))
		return false;
	json_object_object_foreach(j, key, val) {
		if (!strcmp(key, "pmem_capable") && json_object_get_boolean(val))
			return true;
		if (any_pmem_capable(val))
			return true;
	}
	return false;
}

/*
 * What the kernel keeps: a device with persistent capacity (the active
 * partition; Identify's persistent-only capacity when it cannot be
 * partitioned) gets an nvdimm when a root decoder allows persistent
 * memory (cxl_acpi then makes the nvdimm bridge), and the nvdimm driver
 * keeps Set LSA and Set Shutdown State.
 */
static int kernel_kept(struct cx_pl_mem *m)
{
	uint8_t out[PAYLOAD];
	size_t n = sizeof(out);
	uint16_t rc = 0;
	int r = dev_cmd(m, CX_OP_IDENTIFY_MEMDEV, NULL, 0, out, &n, &rc);
	if (r || rc || n < CX_ID_OUT_LEN)
		return r ? r : unbound(m, "Identify Memory Device", rc);
	uint64_t pmem = cx_rd_le64(out + CX_ID_PERSISTENT_CAP);
	if (cx_rd_le64(out + CX_ID_PARTITION_ALIGN)) {
		n = sizeof(out);
		r = dev_cmd(m, CX_OP_GET_PARTITION_INFO, NULL, 0, out, &n, &rc);
		if (r || rc || n < CX_GPI_OUT_LEN)
			return r ? r : unbound(m, "Get Partition Info", rc);
		pmem = cx_rd_le64(out + CX_GPI_ACTIVE_PERSISTENT);
	}
	if (!pmem)
		return 0;
	struct cx_list_opts o = { .decoders = true };
	struct json_object *arr = NULL;
	struct cxlemu_err err;
	struct cxlemu *c = cx_pl_conn(&r);
	if (!c || cxlemu_list(c, cx_list_opts_to_json(&o), &arr, &err) < 0)
		return gone(m, c ? err.msg : "no fabric");
	if (any_pmem_capable(arr))
		m->exclusive |= KEPT_WITH_NVDIMM;
	json_object_put(arr);
	return 0;
}

/* ---- open (what cxl_pci learns when it binds the device) and close ---- */

int cx_pl_mem_open(const char *path, int flags)
{
	struct cx_sysfs_cstat st;
	struct cxlemu_err err;
	int e = cx_pl_node_flags_check(flags), r;
	if (e) {
		errno = e;
		return -1;
	}
	struct cx_pl_mem *m = cx_xcalloc(1, sizeof(*m));
	cx_pl_is_mem_path(path, &m->minor);
	snprintf(m->name, sizeof(m->name), "mem%u", m->minor);
	cx_pl_lock_take();
	struct cxlemu *c = cx_pl_conn(&r);
	if (c)
		r = cx_sysfs_cstat(c, path, false, &st, &err);
	if (r == 0 && (st.type != CX_SC_CHR ||
		       st.major != CX_SYSFS_MEM_MAJOR))
		r = -ENXIO;
	if (r == 0)
		r = enumerate(m, path);
	if (r == 0)
		r = kernel_kept(m);
	int fd = r < 0 ? -1 : cx_pl_node_fd(flags);
	if (fd >= 0) {
		m->nfds = 1;
		cx_pl_fds[fd].mem = m;
		cx_pl_fds[fd].acc = flags & O_ACCMODE;
	}
	e = r < 0 ? -r : errno;
	cx_pl_lock_drop();
	if (fd < 0) {
		free(m);
		errno = e;
	}
	return fd;
}

void cx_pl_mem_put(struct cx_pl_mem *m)
{
	if (--m->nfds <= 0)
		free(m);
}

/* ---- CXL_MEM_QUERY_COMMANDS (cxl_query_cmd) ---- */

static struct cxl_command_info info_of(const struct cx_pl_mem *m,
				       unsigned idx)
{
	struct cxl_command_info i = { 0 };
	if (defined(idx)) {
		i.id = idx;
		i.size_in = cmds[idx].in;
		i.size_out = cmds[idx].out;
	}
	if (m->enabled & BIT(i.id))
		i.flags |= UAPI_FLAG_ENABLED;
	if (m->exclusive & BIT(i.id))
		i.flags |= UAPI_FLAG_EXCLUSIVE;
	return i;
}

static int query(const struct cx_pl_mem *m, uint64_t uq)
{
	const uint64_t list = uq + offsetof(struct cxl_mem_query_commands,
					    commands);
	uint32_t n;
	int r = alive(m);
	if (r)
		return r;
	if (copy_in(&n, uq, sizeof(n)))
		return -EFAULT;
	if (n == 0) {
		uint32_t total = UAPI_NCMDS;
		return copy_out(uq, &total, sizeof(total));
	}
	for (uint32_t j = 0; j < UAPI_NCMDS; j++) {
		struct cxl_command_info i = info_of(m, j);
		if (copy_out(list + j * sizeof(i), &i, sizeof(i)))
			return -EFAULT;
		if (j + 1 == n)
			break;
	}
	return 0;
}

/* ---- CXL_MEM_SEND_COMMAND (cxl_send_cmd) ---- */

static bool raw_allowed(uint16_t op)
{
	if (!raw_configured())
		return false;
	if (env_on("CXLEMU_RAW_ALLOW_ALL"))
		return true;
	for (size_t i = 0; i < sizeof(raw_refused_sets); i++)
		if (op >> 8 == raw_refused_sets[i])
			return false;
	for (size_t i = 0; i < sizeof(raw_refused) / sizeof(*raw_refused); i++)
		if (op == raw_refused[i])
			return false;
	return true;
}

/* What cxl_validate_cmd_from_user() checks, in its order: 0 with the
 * opcode and the output size to ask for, or the errno. */
static int validate(const struct cx_pl_mem *m,
		    const struct cxl_send_command *s, uint16_t *op,
		    uint32_t *size_out)
{
	const uint32_t id = s->id;
	if (id == 0 || id >= UAPI_NCMDS)
		return -ENOTTY;
	if (s->in.size > PAYLOAD) {
		CX_PL_SAY_ONCE("/dev/cxl/%s: in.size %u is more than the %u-byte "
			       "mailbox payload (EINVAL)", m->name, s->in.size,
			       PAYLOAD);
		return -EINVAL;
	}
	*size_out = s->out.size;
	if (id == CXL_MEM_COMMAND_ID_RAW) {
		*op = s->raw.opcode;
		if (s->raw.rsvd || s->out.size > PAYLOAD)
			return -EINVAL;
		if (!raw_allowed(s->raw.opcode)) {
			if (!raw_configured())
				CX_PL_SAY_ONCE("/dev/cxl/%s: RAW commands need a "
					       "kernel built with CONFIG_CXL_MEM_"
					       "RAW_COMMANDS (EPERM); "
					       "CXLEMU_RAW_COMMANDS=1 behaves as "
					       "one", m->name);
			else
				CX_PL_SAY_ONCE("/dev/cxl/%s: RAW opcode %#06x is "
					       "one the kernel keeps (EPERM)",
					       m->name, s->raw.opcode);
			return -EPERM;
		}
		CX_PL_SAY_ONCE("/dev/cxl/%s: RAW command path used (Linux warns "
			       "and taints the kernel)", m->name);
		return 0;
	}
	/* an undefined entry is command 0 */
	const unsigned cid = defined(id) ? id : 0;
	const struct uapi_cmd *c = &cmds[cid];
	*op = c->opcode;
	if ((s->flags & ~UAPI_FLAG_MASK) || s->rsvd || s->in.rsvd ||
	    s->out.rsvd)
		return -EINVAL;
	if (!(m->enabled & BIT(cid))) {
		CX_PL_SAY_ONCE("/dev/cxl/%s: %s (id %u) is %s (ENOTTY)", m->name,
			       cmds[id].name, id, cid ? "not in the device's "
			       "Command Effects Log" : "not a command Linux "
			       "6.12 offers");
		return -ENOTTY;
	}
	if ((m->exclusive & BIT(cid)) && memdev_bound(m)) {
		CX_PL_SAY_ONCE("/dev/cxl/%s: %s is kept by the kernel while the "
			       "memdev's persistent capacity is an nvdimm "
			       "(EBUSY; `cxl disable-memdev` releases it)",
			       m->name, c->name);
		return -EBUSY;
	}
	if (c->in != VAR && c->in != s->in.size) {
		CX_PL_SAY_ONCE("/dev/cxl/%s: %s takes %u input bytes, not in.size "
			       "%u (ENOMEM)", m->name, c->name, c->in,
			       s->in.size);
		return -ENOMEM;
	}
	if (c->out != VAR && s->out.size < c->out) {
		CX_PL_SAY_ONCE("/dev/cxl/%s: %s returns %u bytes: out.size %u is "
			       "too small (ENOMEM)", m->name, c->name, c->out,
			       s->out.size);
		return -ENOMEM;
	}
	return 0;
}

/* cxl_payload_from_user_allowed() */
static bool payload_allowed(uint16_t op, const uint8_t *in, size_t len)
{
	if (op == CX_OP_SET_PARTITION_INFO)
		return !(len > CX_SPI_FLAGS &&
			 (in[CX_SPI_FLAGS] & CX_SPI_FLAG_IMMEDIATE));
	if (op == OP_CLEAR_LOG)
		return len >= sizeof(vendor_debug_uuid) &&
		       !memcmp(in, vendor_debug_uuid, sizeof(vendor_debug_uuid));
	return true;
}

/* A background command from user space: Linux polls for it zero times,
 * so it is done already or the ioctl times out. */
static int background(const struct cx_pl_mem *m, uint16_t op, uint16_t *rc)
{
	uint8_t st[CX_BGS_OUT_LEN];
	size_t n = sizeof(st);
	uint16_t src = 0;
	int r = dev_cmd(m, CX_OP_BG_OP_STATUS, NULL, 0, st, &n, &src);
	if (r)
		return r;
	if (src == 0 && n >= CX_BGS_OUT_LEN && (st[CX_BGS_STATUS] >> 1) == 100) {
		*rc = cx_rd_le16(st + CX_BGS_RC);
		return 0;
	}
	CX_PL_SAY_ONCE("/dev/cxl/%s: opcode %#06x started a background "
		       "operation; Linux does not wait for one sent from user "
		       "space (ETIMEDOUT), it goes on in the device", m->name,
		       op);
	return -ETIMEDOUT;
}

static int send_cmd(const struct cx_pl_mem *m, uint64_t us)
{
	struct cxl_send_command s;
	uint8_t in[PAYLOAD], out[PAYLOAD];
	uint32_t size_out;
	uint16_t op = 0, rc = 0;
	if (copy_in(&s, us, sizeof(s)))
		return -EFAULT;
	int r = validate(m, &s, &op, &size_out);
	if (r)
		return r;
	if (s.in.size && copy_in(in, s.in.payload, s.in.size))
		return -EFAULT;
	if (s.in.size && !payload_allowed(op, in, s.in.size)) {
		CX_PL_SAY_ONCE("/dev/cxl/%s: Linux refuses this input for opcode "
			       "%#06x from user space (EBUSY)", m->name, op);
		return -EBUSY;
	}
	if (size_out == VAR)
		size_out = PAYLOAD;
	if (size_out > INT_MAX)       /* kvzalloc() refuses */
		return -ENOMEM;
	size_t n = sizeof(out);
	r = dev_cmd(m, op, in, s.in.size, out, &n, &rc);
	if (r == 0 && rc == CX_RC_BG_STARTED && op != CX_OP_SANITIZE)
		r = background(m, op, &rc);
	if (r)
		return r;
	if (rc == CX_RC_SUCCESS || rc == CX_RC_BG_STARTED) {
		if (n > PAYLOAD)
			n = PAYLOAD;
		size_out = size_out && n ? (n < size_out ? (uint32_t)n
							   : size_out) : 0;
		if (size_out && copy_out(s.out.payload, out, size_out))
			return -EFAULT;
	} else if (size_out && zero_out(s.out.payload, size_out)) {
		return -EFAULT;
	}
	s.out.size = size_out;
	s.retval = rc;
	return copy_out(us, &s, sizeof(s));
}

/* The whole ioctl holds the lock, so that the memdev stays while another
 * thread closes the descriptor and the connection carries one request. */
int cx_pl_mem_ioctl(int fd, unsigned long req, void *arg)
{
	int r;
	cx_pl_lock_take();
	const struct cx_pl_mem *m = cx_pl_mem_of(fd);
	if (!m)
		req = 0;                 /* closed meanwhile: not a memdev */
	switch ((unsigned)req) {     /* the kernel's cmd is 32 bits */
	case CXL_MEM_QUERY_COMMANDS:
		r = query(m, (uintptr_t)arg);
		break;
	case CXL_MEM_SEND_COMMAND:
		r = send_cmd(m, (uintptr_t)arg);
		/* Linux finds a removed device before it looks at anything */
		if (r < 0 && r != -ENXIO && alive(m))
			r = -ENXIO;
		break;
	default:
		r = m ? -ENOTTY : -EBADF;
		break;
	}
	cx_pl_lock_drop();
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}
