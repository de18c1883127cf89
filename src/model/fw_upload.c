/*
 * fw_upload.c - a memdev's firmware upload as Linux drives it
 * (fw_upload.h): the firmware loader's buffer and `loading` states, the
 * upload's progress and error, and a worker thread doing what drivers/cxl's
 * upload operations do with the mailbox.
 *
 * The loader is INIT, LOADING (after "1" to `loading`) or DONE (after "0",
 * while the upload runs).  While DONE, `loading` ignores writes and `data`
 * refuses them (ENODEV); any other value than 1, or 0 while not loading,
 * aborts the load.  "0" with an empty buffer does nothing; with an upload
 * still running it is EBUSY.
 *
 * The worker (Linux runs it on a workqueue) prepares: Get FW Info for the
 * slot count and the active slot; an image that fits one payload with the
 * 128-byte Transfer FW header goes in one "full" transfer, others in
 * parts of (payload - 128) bytes: initiate, continue..., end.  The image
 * goes to the slot after the active one (wrapping), each part waits for
 * the background command (30 s at most), and the last one is followed by
 * Activate FW for the next cold reset, the only activation Linux asks
 * for.  A failed command makes the upload fail with "read-write-error"
 * (Activate FW: "hw-error"), a cancel is seen before the next part and
 * aborts the transfer ("user-abort").  As on Linux, a cancel while idle
 * is refused (ENODEV) but still cancels the next upload at its start.
 */
#include "model/fw_upload.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/mbox.h"

enum loader { L_INIT, L_LOADING, L_DONE };

struct cx_fwl {
	struct cx_memdev *m;
	pthread_mutex_t lock;
	/* the firmware loader */
	enum loader state;
	uint8_t *buf;
	size_t size, cap;
	/* the upload */
	enum cx_fwl_prog progress, err_progress;
	enum cx_fwl_err err_code;
	uint32_t remaining;
	bool cancel;                 /* drivers/cxl's CXL_FW_CANCEL bit */
	bool stop;                   /* the fabric is going away */
	pthread_t worker;
	bool worker_joinable;
	/* drivers/cxl's fw state, the worker's alone */
	bool oneshot;
	int num_slots, cur_slot, next_slot;
};

#define PART_MAX (CX_MBOX_PAYLOAD_MAX - CX_TFW_HDR_LEN)
#define BG_WAIT_NS (30ull * 1000000000ull)  /* Linux: 30 polls of 1 s */

const char *cx_fwl_prog_name(enum cx_fwl_prog p)
{
	static const char *const n[] = {
		"idle", "receiving", "preparing", "transferring", "programming",
	};
	return (unsigned)p < CX_ARRAY_SIZE(n) ? n[p] : "unknown-status";
}

const char *cx_fwl_err_name(enum cx_fwl_err e)
{
	static const char *const n[] = {
		"none", "hw-error", "timeout", "user-abort", "device-busy",
		"invalid-file-size", "read-write-error", "flash-wearout",
	};
	return (unsigned)e < CX_ARRAY_SIZE(n) ? n[e] : "unknown-error";
}

bool cx_fwl_present(const struct cx_memdev *m)
{
	return m->mbox != NULL;
}

static struct cx_fwl *fwl_of(struct cx_memdev *m)
{
	if (!m->fwl && cx_fwl_present(m)) {
		struct cx_fwl *u = cx_xcalloc(1, sizeof(*u));
		u->m = m;
		pthread_mutex_init(&u->lock, NULL);
		m->fwl = u;
	}
	return m->fwl;
}

void cx_fwl_state(struct cx_memdev *m, struct cx_fwl_state *out)
{
	struct cx_fwl *u = fwl_of(m);
	memset(out, 0, sizeof(*out));
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	out->loading = u->state == L_LOADING;
	out->progress = u->progress;
	out->err_progress = u->err_progress;
	out->err_code = u->err_code;
	out->remaining = u->remaining;
	pthread_mutex_unlock(&u->lock);
}

/* ---- the worker: drivers/cxl's prepare, write, poll_complete ---- */

static void set_progress(struct cx_fwl *u, enum cx_fwl_prog p)
{
	pthread_mutex_lock(&u->lock);
	u->progress = p;
	pthread_mutex_unlock(&u->lock);
}

static void set_error(struct cx_fwl *u, enum cx_fwl_err err)
{
	pthread_mutex_lock(&u->lock);
	u->err_progress = u->progress;
	u->err_code = err;
	pthread_mutex_unlock(&u->lock);
}

/* test_and_clear_bit(CXL_FW_CANCEL) */
static bool take_cancel(struct cx_fwl *u)
{
	pthread_mutex_lock(&u->lock);
	bool c = u->cancel;
	u->cancel = false;
	pthread_mutex_unlock(&u->lock);
	return c;
}

static bool stopping(struct cx_fwl *u)
{
	pthread_mutex_lock(&u->lock);
	bool s = u->stop;
	pthread_mutex_unlock(&u->lock);
	return s;
}

/* A command as Linux's driver sends it: a background one is waited for
 * (the mailbox interrupt would wake the driver; here a 1 ms poll).
 * true when it succeeded. */
static bool send(struct cx_fwl *u, uint16_t op, const uint8_t *in,
		 size_t in_len, uint8_t *out, size_t *out_len)
{
	uint8_t scratch[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(scratch);
	uint16_t rc = 0;
	if (cx_mbox_exec(u->m, op, in, in_len, out ? out : scratch,
			 out_len ? out_len : &n, &rc) < 0)
		return false;
	if (rc != CX_RC_BG_STARTED)
		return rc == CX_RC_SUCCESS;
	struct timespec tick = { 0, 1000000 };
	for (uint64_t waited = 0; waited < BG_WAIT_NS; waited += 1000000) {
		struct cx_mbox_status s;
		if (cx_mbox_status(u->m, &s) < 0)
			return false;
		if (!s.bg_running || s.bg_opcode != op)
			return s.bg_rc == CX_RC_SUCCESS;
		if (stopping(u))
			return false;
		nanosleep(&tick, NULL);
	}
	return false;   /* -ETIMEDOUT in Linux: a failed command */
}

static void abort_transfer(struct cx_fwl *u)
{
	uint8_t in[CX_TFW_HDR_LEN] = { [CX_TFW_ACTION] = CX_TFW_ABORT };
	send(u, CX_OP_TRANSFER_FW, in, sizeof(in), NULL, NULL);
}

static enum cx_fwl_err prepare(struct cx_fwl *u, size_t size)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t n = sizeof(out);
	if (!size)
		return CX_FWL_ERR_INVALID_SIZE;
	u->oneshot = CX_TFW_HDR_LEN + size < CX_MBOX_PAYLOAD_MAX;
	if (!send(u, CX_OP_GET_FW_INFO, NULL, 0, out, &n) ||
	    n < CX_FWI_OUT_LEN || !out[CX_FWI_SLOTS])
		return CX_FWL_ERR_HW;
	u->num_slots = out[CX_FWI_SLOTS];
	u->cur_slot = out[CX_FWI_SLOT_INFO] & 7;
	if (take_cancel(u))
		return CX_FWL_ERR_CANCELED;
	return CX_FWL_ERR_NONE;
}

static enum cx_fwl_err write_part(struct cx_fwl *u, const uint8_t *data,
				  uint32_t off, uint32_t size,
				  uint32_t *written)
{
	uint8_t in[CX_MBOX_PAYLOAD_MAX];
	*written = 0;
	if (off % CX_TFW_UNIT)
		return CX_FWL_ERR_RW;
	uint32_t cur = size < PART_MAX ? size : PART_MAX;
	uint32_t remaining = size - cur;
	if (take_cancel(u)) {
		abort_transfer(u);
		return CX_FWL_ERR_CANCELED;
	}
	u->next_slot = u->cur_slot % u->num_slots + 1;
	memset(in, 0, CX_TFW_HDR_LEN);
	cx_wr_le32(in + CX_TFW_OFFSET, off / CX_TFW_UNIT);
	memcpy(in + CX_TFW_DATA, data + off, cur);
	if (u->oneshot) {
		in[CX_TFW_ACTION] = CX_TFW_FULL;
		in[CX_TFW_SLOT] = (uint8_t)u->next_slot;
	} else if (off == 0) {
		in[CX_TFW_ACTION] = CX_TFW_INIT;
	} else if (remaining == 0) {
		in[CX_TFW_ACTION] = CX_TFW_END;
		in[CX_TFW_SLOT] = (uint8_t)u->next_slot;
	} else {
		in[CX_TFW_ACTION] = CX_TFW_CONTINUE;
	}
	if (!send(u, CX_OP_TRANSFER_FW, in, CX_TFW_HDR_LEN + cur, NULL, NULL))
		return CX_FWL_ERR_RW;
	*written = cur;
	if (u->oneshot || remaining == 0) {
		uint8_t act[CX_AFW_IN_LEN] = {
			[CX_AFW_ACTION] = 1,    /* at the next cold reset */
			[CX_AFW_SLOT] = (uint8_t)u->next_slot,
		};
		if (!send(u, CX_OP_ACTIVATE_FW, act, sizeof(act), NULL, NULL))
			return CX_FWL_ERR_HW;
	}
	return CX_FWL_ERR_NONE;
}

static void *worker(void *arg)
{
	struct cx_fwl *u = arg;
	const uint8_t *data = u->buf;      /* the loader is DONE: ours */
	uint32_t off = 0, written;
	enum cx_fwl_err err;

	cx_mbox_thread_off_media();
	set_progress(u, CX_FWL_PREPARING);
	if ((err = prepare(u, u->size)) != CX_FWL_ERR_NONE) {
		set_error(u, err);
		goto out;
	}
	set_progress(u, CX_FWL_TRANSFERRING);
	for (;;) {
		pthread_mutex_lock(&u->lock);
		uint32_t left = u->remaining;
		pthread_mutex_unlock(&u->lock);
		if (!left)
			break;
		err = write_part(u, data, off, left, &written);
		if (err == CX_FWL_ERR_NONE && !written)
			err = CX_FWL_ERR_RW;
		if (err != CX_FWL_ERR_NONE) {
			set_error(u, err);
			goto cleanup;
		}
		pthread_mutex_lock(&u->lock);
		u->remaining -= written;
		pthread_mutex_unlock(&u->lock);
		off += written;
	}
	set_progress(u, CX_FWL_PROGRAMMING);
	/* the commands were waited for; only a cancel is left to see */
	if (take_cancel(u)) {
		abort_transfer(u);
		set_error(u, CX_FWL_ERR_CANCELED);
	}
cleanup:
	u->next_slot = 0;
out:
	/* remaining_size stays as it was, to tell how far a failure got */
	pthread_mutex_lock(&u->lock);
	free(u->buf);
	u->buf = NULL;
	u->size = u->cap = 0;
	u->state = L_INIT;
	u->progress = CX_FWL_IDLE;
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* ---- the stores ---- */

static void free_buf(struct cx_fwl *u)
{
	free(u->buf);
	u->buf = NULL;
	u->size = u->cap = 0;
}

/* fw_upload_start: with the lock held, the loader just DONE */
static int start(struct cx_fwl *u, cx_err *e)
{
	if (!u->size) {
		free_buf(u);
		u->state = L_INIT;
		return 0;
	}
	if (u->progress != CX_FWL_IDLE)
		return cx_fail(e, EBUSY, "mem%d: firmware: an upload is still "
			       "%s", u->m->index, cx_fwl_prog_name(u->progress));
	if (u->worker_joinable)      /* the last one has ended: reap it */
		pthread_join(u->worker, NULL);
	u->worker_joinable = false;
	u->progress = CX_FWL_RECEIVING;
	u->err_code = CX_FWL_ERR_NONE;
	u->remaining = (uint32_t)u->size;
	if (pthread_create(&u->worker, NULL, worker, u)) {
		u->progress = CX_FWL_IDLE;
		free_buf(u);
		u->state = L_INIT;
		return cx_fail(e, EAGAIN, "mem%d: firmware: cannot start the "
			       "upload's worker", u->m->index);
	}
	u->worker_joinable = true;
	return 0;
}

/* The memdev's loader, locked; NULL (e says why) when it has none. */
static struct cx_fwl *locked(struct cx_memdev *m, cx_err *e)
{
	struct cx_fwl *u = fwl_of(m);
	if (!u) {
		cx_fail(e, ENODEV, "mem%d has no firmware loader", m->index);
		return NULL;
	}
	pthread_mutex_lock(&u->lock);
	return u;
}

int cx_fwl_set_loading(struct cx_memdev *m, long value, cx_err *e)
{
	struct cx_fwl *u = locked(m, e);
	int rc = 0;
	if (!u)
		return -ENODEV;
	if (u->state == L_DONE) {
		/* an upload holds the buffer: the write is ignored */
	} else if (value == 1) {
		free_buf(u);            /* a previous partial load goes */
		u->state = L_LOADING;
	} else if (value == 0 && u->state == L_LOADING) {
		u->state = L_DONE;
		rc = start(u, e);
	} else {
		/* -1, or anything else (Linux logs "unexpected value"):
		 * the load is aborted */
		u->state = L_INIT;
	}
	pthread_mutex_unlock(&u->lock);
	return rc;
}

int cx_fwl_write_data(struct cx_memdev *m, const void *buf, size_t len,
		      uint64_t off, cx_err *e)
{
	struct cx_fwl *u = locked(m, e);
	int rc = 0;
	if (!u)
		return -ENODEV;
	if (u->state == L_DONE) {
		rc = cx_fail(e, ENODEV, "mem%d: firmware/data: an upload is "
			     "running (write 1 to loading once it is idle)",
			     m->index);
	} else if (off > CX_FWL_MAX_IMAGE || len > CX_FWL_MAX_IMAGE - off) {
		rc = cx_fail(e, ENOMEM, "mem%d: firmware/data: %llu bytes at "
			     "offset %llu pass the %u MiB the loader buffers",
			     m->index, (unsigned long long)len,
			     (unsigned long long)off, CX_FWL_MAX_IMAGE >> 20);
		u->state = L_INIT;      /* fw_realloc_pages aborts the load */
	} else {
		size_t end = (size_t)off + len;
		if (end > u->cap) {
			size_t cap = u->cap ? u->cap : 65536;
			while (cap < end)
				cap *= 2;
			u->buf = cx_xrealloc(u->buf, cap);
			memset(u->buf + u->cap, 0, cap - u->cap);
			u->cap = cap;
		}
		memcpy(u->buf + off, buf, len);
		if (end > u->size)
			u->size = end;
	}
	pthread_mutex_unlock(&u->lock);
	return rc;
}

int cx_fwl_cancel(struct cx_memdev *m, cx_err *e)
{
	struct cx_fwl *u = locked(m, e);
	int rc = 0;
	if (!u)
		return -ENODEV;
	if (u->progress == CX_FWL_IDLE)
		rc = cx_fail(e, ENODEV, "mem%d: firmware/cancel: no upload is "
			     "running", m->index);
	u->cancel = true;            /* even so, as Linux does */
	pthread_mutex_unlock(&u->lock);
	return rc;
}

void cx_fwl_free(struct cx_memdev *m)
{
	struct cx_fwl *u = m ? m->fwl : NULL;
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_mutex_unlock(&u->lock);
	if (u->worker_joinable)
		pthread_join(u->worker, NULL);
	free(u->buf);
	pthread_mutex_destroy(&u->lock);
	free(u);
	m->fwl = NULL;
}
