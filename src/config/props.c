/*
 * props.c - the properties of what cxlemu models, as QEMU spells them:
 * the CXL devices (pxb-cxl, cxl-rp, cxl-upstream, cxl-downstream,
 * cxl-type3), the memory backends and the machine (see grammar.h).
 *
 * One row per property: its type (which the topology parser checks), a
 * note when it is kept but not modeled, the QEMU release that brought it
 * when that is newer than its device (which qemu-args names when the
 * installed QEMU lacks it), and whether it comes from the 2021
 * development branch that never reached a release.  A device's tables
 * are listed most specific first; the PCI ones every PCI device has come
 * last.
 */
#include "grammar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEGACY CFG_PROP_LEGACY

static const struct cfg_prop pci_props[] = {
	{ "addr", CFG_PT_ADDR, NULL, NULL, CFG_PROP_ANY_QEMU },
	{ "multifunction", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "romfile", CFG_PT_STR, NULL, NULL, 0 },
	{ "romsize", CFG_PT_U32, NULL, NULL, 0 },
	{ "rombar", CFG_PT_STR, NULL, NULL, 0 },
	{ "acpi-index", CFG_PT_U32, NULL, NULL, 0 },
	{ "failover_pair_id", CFG_PT_STR, NULL, NULL, CFG_PROP_ANY_QEMU },
	{ "x-pcie-lnksta-dllla", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-pcie-extcap-init", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-pcie-err-unc-mask", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-pcie-ari-nextfn-1", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-pcie-ext-tag", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-max-bounce-buffer-size", CFG_PT_SIZE, NULL, NULL, 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop pxb_props[] = {
	{ "bus_nr", CFG_PT_U8, NULL, NULL, 0 },
	{ "numa_node", CFG_PT_U16, NULL, NULL, 0 },
	{ "bypass_iommu", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "hdm_for_passthrough", CFG_PT_BOOL,
	  "cxlemu makes a host bridge with one root port a passthrough "
	  "bridge, as Linux expects", "8.0", 0 },
	{ "uid", CFG_PT_U32, NULL, NULL, LEGACY },
	{ "len-window-base", CFG_PT_U8, NULL, NULL, LEGACY },
	/* window N of the pxb-cxl itself: checked where it is built */
	{ "window-base", CFG_PT_STR, NULL, NULL, LEGACY | CFG_PROP_INDEXED },
	{ "memdev", CFG_PT_STR, NULL, NULL, LEGACY | CFG_PROP_INDEXED },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop slot_props[] = { /* cxl-rp, cxl-downstream */
	{ "port", CFG_PT_U8, NULL, NULL, 0 },
	{ "chassis", CFG_PT_U8, NULL, NULL, 0 },
	{ "slot", CFG_PT_U16, NULL, NULL, 0 },
	{ "hotplug", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-speed", CFG_PT_STR, NULL, "9.2", 0 },
	{ "x-width", CFG_PT_STR, NULL, "9.2", 0 },
	{ "power_controller_present", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-native-hotplug", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "x-do-not-expose-native-hotplug-cap", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "aer_log_max", CFG_PT_U16, NULL, NULL, 0 },
	{ "x-migrate-msix", CFG_PT_BOOL, NULL, NULL, 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop rp_props[] = {
	{ "bus-reserve", CFG_PT_U32, NULL, NULL, 0 },
	{ "io-reserve", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "mem-reserve", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "pref32-reserve", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "pref64-reserve", CFG_PT_SIZE, NULL, NULL, 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop usp_props[] = {
	{ "sn", CFG_PT_U64, NULL, "8.0", 0 },
	{ "cdat", CFG_PT_STR, "cxlemu reports its own CDAT", NULL, 0 },
	{ "x-speed", CFG_PT_STR, NULL, "9.2", 0 },
	{ "x-width", CFG_PT_STR, NULL, "9.2", 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop t3_props[] = {
	{ "volatile-memdev", CFG_PT_LINK, NULL, "8.1", 0 },
	{ "persistent-memdev", CFG_PT_LINK, NULL, "8.1", 0 },
	{ "memdev", CFG_PT_LINK, NULL, NULL, 0 },
	{ "lsa", CFG_PT_LINK, NULL, NULL, 0 },
	{ "sn", CFG_PT_U64, NULL, NULL, 0 },
	{ "cdat", CFG_PT_STR, "cxlemu reports its own CDAT", "7.2", 0 },
	{ "num-dc-regions", CFG_PT_U8, NULL, "9.1", 0 },
	{ "volatile-dc-memdev", CFG_PT_LINK, NULL, "9.1", 0 },
	{ "x-speed", CFG_PT_STR, NULL, "9.2", 0 },
	{ "x-width", CFG_PT_STR, NULL, "9.2", 0 },
	{ "size", CFG_PT_SIZE, NULL, NULL, LEGACY },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop be_props[] = { /* every memory backend */
	{ "size", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "share", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "merge", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "dump", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "prealloc", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "prealloc-threads", CFG_PT_U32, NULL, NULL, 0 },
	{ "prealloc-context", CFG_PT_STR, NULL, NULL, 0 },
	{ "reserve", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "host-nodes", CFG_PT_STR, NULL, NULL, 0 },
	{ "policy", CFG_PT_STR, NULL, NULL, 0 },
	{ "x-use-canonical-path-for-ramblock-id", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "host-mem-type", CFG_PT_STR,
	  "it comes from an RFC that was never merged into QEMU; cxlemu's "
	  "media are ordinary host memory or files", NULL, 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop be_file_props[] = {
	{ "mem-path", CFG_PT_STR, NULL, NULL, 0 },
	{ "align", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "offset", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "discard-data", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "pmem", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "readonly", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "rom", CFG_PT_STR, NULL, NULL, 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

static const struct cfg_prop be_memfd_props[] = {
	{ "hugetlb", CFG_PT_BOOL, NULL, NULL, 0 },
	{ "hugetlbsize", CFG_PT_SIZE, NULL, NULL, 0 },
	{ "seal", CFG_PT_BOOL, NULL, NULL, 0 },
	{ NULL, CFG_PT_STR, NULL, NULL, 0 },
};

#undef LEGACY

#define TABLES(...) \
	(const struct cfg_prop *const[]){ __VA_ARGS__ }, \
	(int)(sizeof((const struct cfg_prop *const[]){ __VA_ARGS__ }) / \
	      sizeof(const struct cfg_prop *))

static const struct cfg_type types[] = {
	{ "pxb-cxl", "7.1", TABLES(pxb_props, pci_props) },
	{ "cxl-rp", "7.1", TABLES(slot_props, rp_props, pci_props) },
	{ "cxl-upstream", "7.1", TABLES(usp_props, pci_props) },
	{ "cxl-downstream", "7.1", TABLES(slot_props, pci_props) },
	{ "cxl-type3", "7.1", TABLES(t3_props, pci_props) },
	{ "cxl-switch-mailbox-cci", "8.2", NULL, 0 },
	{ "memory-backend-ram", NULL, TABLES(be_props) },
	{ "memory-backend-file", NULL, TABLES(be_props, be_file_props) },
	{ "memory-backend-memfd", NULL, TABLES(be_props, be_memfd_props) },
};

#undef TABLES

/* machine properties that are kept without a remark */
static const char *const machine_props[] = {
	"type", "accel", "kernel-irqchip", "kernel_irqchip", "kvm-shadow-mem",
	"dump-guest-core", "mem-merge", "usb", "graphics", "firmware",
	"suppress-vmdesc", "memory-encryption", "confidential-guest-support",
	"nvdimm", "nvdimm-persistence", "hmat", "smm", "vmport", "pit",
	"hpet", "acpi", "sata", "smbus", "i8042", "fd-bootchk",
	"max-ram-below-4g", "max-fw-size", "x-oem-id", "x-oem-table-id",
	"default-bus-bypass-iommu", "bus-lock-ratelimit", "pflash0",
	"pflash1", "kernel", "initrd", "append", "dtb", "dumpdtb",
	"phandle-start", "dt-compatible", "boot", "smp", "iommu",
	"gic-version", "highmem", "its", "ras", "secure", "virtualization",
	"mte", "igd-passthru", "xen-igd-passthru", "accel-opts",
	"memory-backend", "sgx-epc", "smp-cache", "aux-ram-share",
	"highmem-ecam", "highmem-mmio", "highmem-redists", "acpi-spcr",
};

const struct cfg_type *cfg_type_find(const char *name)
{
	for (size_t i = 0; name && i < CX_ARRAY_SIZE(types); i++)
		if (!strcmp(types[i].name, name))
			return &types[i];
	return NULL;
}

bool cfg_indexed_key(const char *key, const char *base, int *idx)
{
	size_t n = strlen(base);
	char *end;
	if (strncmp(key, base, n) || key[n] != '[' || key[n + 1] < '0' ||
	    key[n + 1] > '9')
		return false;
	long v = strtol(key + n + 1, &end, 10);
	if (*end != ']' || end[1] || v > 1000)
		return false;
	*idx = (int)v;
	return true;
}

const struct cfg_prop *cfg_prop_find(const char *name, const char *key)
{
	const struct cfg_type *t = cfg_type_find(name);
	int idx;

	for (int i = 0; t && i < t->ntables; i++)
		for (const struct cfg_prop *p = t->tables[i]; p->name; p++)
			if ((p->flags & CFG_PROP_INDEXED)
				    ? cfg_indexed_key(key, p->name, &idx)
				    : !strcmp(p->name, key))
				return p;
	return NULL;
}

bool cfg_generic_key(const char *key)
{
	return !strcmp(key, "id") || !strcmp(key, "bus") ||
	       !strcmp(key, "driver") || !strcmp(key, "qom-type");
}

int cfg_prop_check(const struct cfg_prop *p, const char *owner,
		   const char *val, cx_err *e)
{
	char what[160];
	uint64_t v, max = 0;
	bool b;

	snprintf(what, sizeof(what), "%s property '%s'", owner, p->name);
	switch (p->type) {
	case CFG_PT_BOOL:
		return cx_parse_bool(val, &b, what, e);
	case CFG_PT_U8: max = 0xff; break;
	case CFG_PT_U16: max = 0xffff; break;
	case CFG_PT_U32: max = 0xffffffffULL; break;
	case CFG_PT_U64: max = UINT64_MAX; break;
	case CFG_PT_SIZE:
		return cx_parse_size(val, &v, what, e);
	case CFG_PT_LINK:
		if (!*val)
			return cx_fail(e, EINVAL, "%s needs the id of a memory "
				       "backend", what);
		return 0;
	case CFG_PT_ADDR: {
		/* PCI slot[.function], hexadecimal */
		char *end;
		unsigned long s = strtoul(val, &end, 16), fn = 0;
		if (end != val && *end == '.') {
			char *e2;
			fn = strtoul(end + 1, &e2, 16);
			if (e2 == end + 1)
				end = (char *)val;
			else
				end = e2;
		}
		if (end == val || *end || s > 31 || fn > 7)
			return cx_fail(e, EINVAL, "%s: '%s' is not a PCI address "
				       "(slot[.function], slot 0-1f, function "
				       "0-7)", what, val);
		return 0;
	}
	default:
		return 0;
	}
	if (cx_parse_u64(val, &v, what, e))
		return -EINVAL;
	if (v > max)
		return cx_fail(e, EINVAL, "%s: %s is out of range (0 to %llu)",
			       what, val, (unsigned long long)max);
	return 0;
}

bool cfg_machine_prop_kept(const char *key)
{
	for (size_t i = 0; i < CX_ARRAY_SIZE(machine_props); i++)
		if (!strcmp(machine_props[i], key))
			return true;
	return !strncmp(key, "sgx-epc.", 8) || !strncmp(key, "smp-cache.", 10);
}

/* cxl-fmw.N. followed by `rest`, N decimal */
static const char *fmw_key_rest(const char *key)
{
	if (strncmp(key, "cxl-fmw.", 8))
		return NULL;
	const char *p = key + 8;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '.' ? p + 1 : NULL;
}

bool cfg_machine_key_cxlemu_only(const char *key)
{
	const char *p = fmw_key_rest(key);
	return p && (!strcmp(p, "interleave-arithmetic") ||
		     !strncmp(p, "xormap.", 7));
}
