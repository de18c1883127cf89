/*
 * test_fw_upload.c - a memdev's firmware upload as Linux drives it
 * (model/fw_upload.h): the image written through the loader reaches the
 * slot after the active one, whole and in order, staged for the next
 * reset; a small one goes in one transfer; and the loader's rules as
 * sysfs_upload has them: data refused while an upload runs, loading
 * ignored then, a cancel seen before the next part ("user-abort"), a
 * cancel while idle refused but cancelling the next upload at its start,
 * loading 0 without a load aborting it, the buffer's limit.
 *
 * The mailbox clock is the test's: frozen, a transfer part never ends,
 * which holds an upload in "transferring" for as long as a test needs.
 */
#include "test_mbox_fixture.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "model/fw_upload.h"

/* the clock the worker's device sees: atomic, the test moves it */
static uint64_t clock_ns;
static uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&clock_ns, __ATOMIC_SEQ_CST);
}
static void advance(uint64_t ns)
{
	__atomic_add_fetch(&clock_ns, ns, __ATOMIC_SEQ_CST);
}

static struct mx *setup(void)
{
	struct mx *x = mx_new(0, 256 * MX_MiB, 0, NULL);
	clock_ns = 1000000000ULL;
	cx_mbox_set_clock(x->m, test_clock, NULL);
	return x;
}

static struct cx_fwl_state state_of(struct mx *x)
{
	struct cx_fwl_state s;
	cx_fwl_state(x->m, &s);
	return s;
}

/* Move the clock on until the upload is idle (a wait, bounded by
 * iterations, not a timing assertion). */
static void run_to_idle(struct mx *x)
{
	struct timespec tick = { 0, 200000 };
	for (int i = 0; i < 200000; i++) {
		if (state_of(x).progress == CX_FWL_IDLE)
			return;
		advance(50000000);     /* 50 ms of device time: a part */
		nanosleep(&tick, NULL);
	}
	fail_msg("the upload never went idle (%s)",
		 cx_fwl_prog_name(state_of(x).progress));
}

/* Wait until the upload is in `p` (the worker reaches it by itself). */
static void wait_for(struct mx *x, enum cx_fwl_prog p)
{
	struct timespec tick = { 0, 200000 };
	for (int i = 0; i < 200000; i++) {
		if (state_of(x).progress == p)
			return;
		nanosleep(&tick, NULL);
	}
	fail_msg("the upload never reached %s", cx_fwl_prog_name(p));
}

static void fill(uint8_t *img, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		img[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 8)) & 0xff);
}

/* what firmware.c names a slot holding `img` */
static void revision_of(const uint8_t *img, size_t n, char *buf, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ img[i]) * 16777619u;
	snprintf(buf, len, "cxlemu-%08x", h);
}

static void expect_staged(struct mx *x, const uint8_t *img, size_t n)
{
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t len;
	char want[32];
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &len), 0);
	assert_int_equal(out[CX_FWI_SLOT_INFO] & 7, 1);        /* active */
	assert_int_equal(out[CX_FWI_SLOT_INFO] >> 3 & 7, 2);   /* staged */
	revision_of(img, n, want, sizeof(want));
	assert_string_equal((char *)out + CX_FWI_REV(2), want);
}

static void load(struct mx *x, const uint8_t *img, size_t n)
{
	assert_int_equal(cx_fwl_set_loading(x->m, 1, &x->err), 0);
	assert_true(state_of(x).loading);
	/* in two writes, the second first: the buffer grows to fit */
	size_t half = n / 2;
	assert_int_equal(cx_fwl_write_data(x->m, img + half, n - half, half,
					   &x->err), 0);
	assert_int_equal(cx_fwl_write_data(x->m, img, half, 0, &x->err), 0);
	assert_int_equal(cx_fwl_set_loading(x->m, 0, &x->err), 0);
	assert_false(state_of(x).loading);
}

/* Upload img to the end: no error, staged whole. */
static void upload_ok(struct mx *x, const uint8_t *img, size_t n)
{
	load(x, img, n);
	run_to_idle(x);
	struct cx_fwl_state st = state_of(x);
	assert_int_equal(st.err_code, CX_FWL_ERR_NONE);
	assert_int_equal(st.remaining, 0);
	expect_staged(x, img, n);
}

/* An upload of img held in "transferring": the clock stands still, so
 * its first part never ends until the test moves it. */
static struct mx *held_upload(uint8_t *img, size_t n, unsigned seed)
{
	struct mx *x = setup();
	fill(img, n, seed);
	load(x, img, n);
	wait_for(x, CX_FWL_TRANSFERRING);
	return x;
}

static void test_upload_in_parts(void **s)
{
	struct mx *x = setup();
	static uint8_t img[5000];      /* three parts of at most 1920 B */
	fill(img, sizeof(img), 1);
	assert_true(cx_fwl_present(x->m));
	assert_int_equal(state_of(x).progress, CX_FWL_IDLE);
	upload_ok(x, img, sizeof(img));
	mx_free(x);
}

static void test_upload_oneshot(void **s)
{
	struct mx *x = setup();
	uint8_t img[100];
	fill(img, sizeof(img), 2);
	upload_ok(x, img, sizeof(img));
	mx_free(x);
}

static void test_running_upload_rules(void **s)
{
	static uint8_t img[8000];
	struct mx *x = held_upload(img, sizeof(img), 3);
	assert_int_equal(cx_fwl_write_data(x->m, img, 10, 0, &x->err),
			 -ENODEV);
	assert_non_null(strstr(x->err.msg, "mem0"));
	assert_int_equal(cx_fwl_set_loading(x->m, 1, &x->err), 0);
	assert_false(state_of(x).loading);         /* ignored */
	assert_int_equal(cx_fwl_cancel(x->m, &x->err), 0);
	run_to_idle(x);
	struct cx_fwl_state st = state_of(x);
	assert_int_equal(st.err_code, CX_FWL_ERR_CANCELED);
	assert_int_equal(st.err_progress, CX_FWL_TRANSFERRING);
	assert_true(st.remaining > 0 && st.remaining < sizeof(img));
	/* nothing staged; the device is ready for the next transfer */
	uint8_t out[CX_MBOX_PAYLOAD_MAX];
	size_t len;
	assert_int_equal(mx_run(x, CX_OP_GET_FW_INFO, NULL, 0, out, &len), 0);
	assert_int_equal(out[CX_FWI_SLOT_INFO] >> 3 & 7, 0);
	upload_ok(x, img, sizeof(img));
	mx_free(x);
}

static void test_idle_rules(void **s)
{
	struct mx *x = setup();
	uint8_t img[300];
	fill(img, sizeof(img), 4);
	/* a cancel with nothing running: ENODEV, and the next upload is
	 * cancelled as it prepares (Linux keeps the bit) */
	assert_int_equal(cx_fwl_cancel(x->m, &x->err), -ENODEV);
	load(x, img, sizeof(img));
	run_to_idle(x);
	struct cx_fwl_state st = state_of(x);
	assert_int_equal(st.err_code, CX_FWL_ERR_CANCELED);
	assert_int_equal(st.err_progress, CX_FWL_PREPARING);
	/* 0 without a load, or any value but 1 and 0, aborts: nothing runs */
	assert_int_equal(cx_fwl_write_data(x->m, img, sizeof(img), 0,
					   &x->err), 0);
	assert_int_equal(cx_fwl_set_loading(x->m, 0, &x->err), 0);
	assert_int_equal(state_of(x).progress, CX_FWL_IDLE);
	assert_int_equal(cx_fwl_set_loading(x->m, 1, &x->err), 0);
	assert_int_equal(cx_fwl_set_loading(x->m, 7, &x->err), 0);
	assert_false(state_of(x).loading);
	/* an empty load ends with nothing to do */
	assert_int_equal(cx_fwl_set_loading(x->m, 1, &x->err), 0);
	assert_int_equal(cx_fwl_set_loading(x->m, 0, &x->err), 0);
	assert_int_equal(state_of(x).progress, CX_FWL_IDLE);
	/* past what the loader buffers: ENOMEM, and the load is aborted */
	assert_int_equal(cx_fwl_set_loading(x->m, 1, &x->err), 0);
	assert_int_equal(cx_fwl_write_data(x->m, img, 1, CX_FWL_MAX_IMAGE,
					   &x->err), -ENOMEM);
	assert_non_null(strstr(x->err.msg, "MiB"));
	assert_false(state_of(x).loading);
	mx_free(x);
}

/* a fabric freed with an upload running stops its worker first */
static void test_free_while_running(void **s)
{
	static uint8_t img[8000];
	mx_free(held_upload(img, sizeof(img), 5));
}

/* The loader's worker is a second thread: its mailbox calls may finish
 * its own firmware transfers, never a sanitize, whose completion rewrites
 * media the request thread lends without the mailbox's lock. */
static void *poll_off_media(void *arg)
{
	struct mx *x = arg;
	cx_mbox_thread_off_media();
	cx_mbox_poll(x->m);
	return NULL;
}

static void test_worker_leaves_media_alone(void **s)
{
	(void)s;
	struct mx *x = setup();
	struct cx_mbox_status st;
	pthread_t t;

	assert_int_equal(mx_run(x, CX_OP_SANITIZE, NULL, 0, NULL, NULL),
			 CX_RC_BG_STARTED);
	advance(5ULL * 3600 * 1000000000ULL);   /* long past due */
	assert_int_equal(pthread_create(&t, NULL, poll_off_media, x), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* the worker left it running (read without polling: no other
	 * thread runs now) */
	assert_true(x->m->mbox->bg.running);
	assert_int_equal(x->m->mbox->bg.opcode, CX_OP_SANITIZE);
	/* this thread's poll is the request thread's, and finishes it */
	assert_int_equal(cx_mbox_status(x->m, &st), 0);
	assert_false(st.bg_running);
	assert_true(st.sanitize_done);
	mx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_in_parts),
		cmocka_unit_test(test_upload_oneshot),
		cmocka_unit_test(test_running_upload_rules),
		cmocka_unit_test(test_idle_rules),
		cmocka_unit_test(test_free_while_running),
		cmocka_unit_test(test_worker_leaves_media_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
