/*
 * fw_upload.h - a memdev's firmware upload as a Linux host drives it:
 * the firmware class device /sys/class/firmware/memN (Linux's
 * drivers/base/firmware_loader sysfs_upload) with drivers/cxl's upload
 * operations behind it, which turn the image into the device's Transfer
 * FW and Activate FW commands.  src/sysfs renders it; fw_upload.c says how
 * it works.
 *
 * The user writes "1" to `loading`, the image to `data` (at any offsets,
 * growing the buffer), "0" to `loading`; a worker thread then prepares
 * (Get FW Info), transfers the image in payload-sized parts to the slot
 * after the active one, activates that slot for the next reset, and goes
 * idle.  `status` names the stage, `remaining_size` the bytes not yet
 * transferred, `error` the stage and reason of the last failure, and
 * `cancel` stops the transfer at the next part.
 */
#ifndef CXLEMU_MODEL_FW_UPLOAD_H
#define CXLEMU_MODEL_FW_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* the stages `status` names, in Linux's order */
enum cx_fwl_prog {
	CX_FWL_IDLE, CX_FWL_RECEIVING, CX_FWL_PREPARING, CX_FWL_TRANSFERRING,
	CX_FWL_PROGRAMMING,
};
/* the reasons `error` names */
enum cx_fwl_err {
	CX_FWL_ERR_NONE, CX_FWL_ERR_HW, CX_FWL_ERR_TIMEOUT,
	CX_FWL_ERR_CANCELED, CX_FWL_ERR_BUSY, CX_FWL_ERR_INVALID_SIZE,
	CX_FWL_ERR_RW, CX_FWL_ERR_WEAROUT,
};
const char *cx_fwl_prog_name(enum cx_fwl_prog p);
const char *cx_fwl_err_name(enum cx_fwl_err e);

/* the largest image the loader buffers (the device takes CX_FW_MAX_SIZE;
 * a larger one fails in the transfer, as on Linux) */
#define CX_FWL_MAX_IMAGE (64u << 20)

struct cx_fwl_state {
	bool loading;               /* `loading` reads 1 */
	enum cx_fwl_prog progress;
	enum cx_fwl_prog err_progress;
	enum cx_fwl_err err_code;
	uint32_t remaining;         /* `remaining_size` */
};

/* Does the memdev have a firmware loader (a mailbox with the firmware
 * commands)?  Linux registers one only then. */
bool cx_fwl_present(const struct cx_memdev *m);
void cx_fwl_state(struct cx_memdev *m, struct cx_fwl_state *out);

/* The stores, with the kernel's rules; 0 or a negative errno, e saying
 * which rule.  loading: the value as simple_strtol reads it. */
int cx_fwl_set_loading(struct cx_memdev *m, long value, cx_err *e);
int cx_fwl_write_data(struct cx_memdev *m, const void *buf, size_t len,
		      uint64_t off, cx_err *e);
int cx_fwl_cancel(struct cx_memdev *m, cx_err *e);

/* Stop a running upload's worker and free the loader (cx_mbox_free calls
 * it before the mailbox goes). */
void cx_fwl_free(struct cx_memdev *m);

#endif
