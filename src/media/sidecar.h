/*
 * sidecar.h - the settings a device keeps in flash, kept in a file beside
 * its media so that they outlive the fabric.
 *
 * A real memory device remembers a few things across power cycles: the
 * partition that applies at its next start, whether its last shutdown was
 * clean and how many were not, and its firmware slots.  cxlemu keeps them
 * in a small text file of key=value lines beside the device's file-backed
 * media: "<lsa file>.cxlemu", or "<pmem file>.cxlemu" when the LSA is not
 * file backed.  A device without file-backed media has no such file; its
 * settings last as long as the fabric.  The file is replaced atomically
 * (a temporary file, fsync, rename), so a crash leaves the old or the new
 * one.
 */
#ifndef CXLEMU_MEDIA_SIDECAR_H
#define CXLEMU_MEDIA_SIDECAR_H

#include <stdbool.h>
#include <stdint.h>

#include "media/media.h"
#include "spec/mbox.h"

#define CX_FW_SLOTS 2               /* firmware slots of an emulated device */

struct cx_sidecar {
	bool have_partition;        /* the device is partitionable */
	uint64_t partition_volatile;/* bytes of it that are volatile at the
				       next start */
	bool shutdown_dirty;        /* set by the host, cleared at a clean
				       stop */
	uint32_t dirty_shutdowns;
	int fw_active, fw_staged;   /* slots 1..CX_FW_SLOTS; staged 0: none */
	bool fw_present[CX_FW_SLOTS];
	char fw_rev[CX_FW_SLOTS][CX_FW_REV_LEN + 1];
};

/* The settings file of a device with this LSA and persistent media (each
 * may be NULL), or NULL when neither lives in a file.  Caller frees. */
char *cx_sidecar_path(const struct cx_media *lsa, const struct cx_media *pmem);
/* Read the file at PATH into *v (zeroed first); false when there is none.
 * Unknown lines are ignored. */
bool cx_sidecar_load(const char *path, struct cx_sidecar *v);
/* Replace the file at PATH with *v; OWNER names the device in its first
 * line.  Returns 0, or a negative errno with the old file left as it was. */
int cx_sidecar_save(const char *path, const char *owner,
		    const struct cx_sidecar *v);

#endif
