/*
 * config.h - topology files: QEMU command lines, one per host.
 *
 * A topology file holds one QEMU command line per host.  `[host NAME]`
 * starts a host; with none there is one host, host0.  `#` comments,
 * quoting and backslash continuations follow the shell.  Options cxlemu
 * models (-object memory-backend-*, -device pxb-cxl/cxl-rp/cxl-upstream/
 * cxl-downstream/cxl-type3, -M/-machine cxl=on,cxl-fmw.N.*, -m) build the
 * fabric; other QEMU options are kept, not modeled.  Every error names the
 * file, the line, the option as written and the rule that was broken.
 */
#ifndef CXLEMU_CONFIG_H
#define CXLEMU_CONFIG_H

#include "model/model.h"

/*
 * Parse and validate; on success *out is a finalized fabric whose media
 * are not yet opened (cx_fabric_start does that).  Errors read
 * "FILE:LINE: OPTION AS WRITTEN: what is wrong (the rule)".  Accepted
 * input worth a remark (legacy syntax, properties kept but not modeled,
 * a backend shared with a NUMA node, ...) lands in (*out)->warnings as
 * "FILE:LINE: text" ("FILE:LINE: host NAME: text" in files with sections).
 */
int cx_config_load_file(const char *path, struct cx_fabric **out, cx_err *e);
int cx_config_load_text(const char *name, const char *text,
			struct cx_fabric **out, cx_err *e);

/*
 * Who may open a socket (struct cx_access): "owner=USER,group=GROUP,
 * mode=OCTAL", any of the three; users and groups by name or number.
 * Unset fields are -1.  cx_access_parse_item() takes one KEY and VALUE.
 */
int cx_access_parse(const char *spec, struct cx_access *a, cx_err *e);
int cx_access_parse_item(const char *key, const char *val,
			 struct cx_access *a, cx_err *e);

/* The embedded default topology: the seed's two-host shared-memory lab. */
extern const char cx_default_topology[];

#endif
