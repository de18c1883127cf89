/*
 * test_fuzz_ops_smoke.c - the request-handler fuzz target (fuzz/fuzz_ops.c)
 * built with the ordinary compiler under ASan+UBSan and fed its seeds and a
 * fixed set of pseudo-random inputs, so `make check` keeps the target
 * compiling and runs its checks (reply contract, descriptor count, bytes
 * where the region's layout puts them) over a few thousand request
 * sequences without clang.  `make fuzz FUZZ_TARGET=ops` does the real,
 * coverage-guided run.
 *
 * The random inputs are shaped for the target's format: most start by
 * creating a region that can succeed (host1/host2: the shared volatile
 * device; host3: 2-way pmem over both host bridges, or the volatile device
 * behind the switch), or with one of the seeds, and then send requests
 * with every key filled in, mostly with plausible values, so writes,
 * reads, DAX maps and mailbox commands reach the model rather than
 * stopping at a missing field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz_ops.c"

/* xorshift64*: the same inputs on every run */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* One random request, cut to the bytes the target reads of it so that the
 * next request starts where this one ends. */
static void random_request(uint64_t *seed, struct fz_out *o, int host)
{
	uint8_t req[64];
	struct fz_in r = { req, sizeof(req) };
	struct fz_req q;

	req[0] = (uint8_t)(next(seed) % (uint64_t)fz_count_ops());
	/* the host of the region most of the time */
	req[1] = (uint8_t)(next(seed) % 4 ? host : (int)(next(seed) % 5));
	unsigned hdr = (unsigned)(next(seed) % 4);   /* client */
	if (next(seed) % 4 == 0)
		hdr |= 8;                            /* no fill */
	if (next(seed) % 3 == 0)
		hdr |= 4;                            /* raw frame */
	if (next(seed) % 3 == 0)
		hdr |= (unsigned)(next(seed) % 4) << 4; /* extra keys */
	req[2] = (uint8_t)hdr;
	/* small value bytes pick the plausible values (region0, dax0.0,
	 * mem0, offsets from 0, the first opcodes) */
	for (size_t j = 3; j < sizeof(req); j++)
		req[j] = (uint8_t)(next(seed) % 5 ? next(seed) % 4 : next(seed));
	fz_next(&r, &q);
	json_object_put(q.req);
	free(q.data);
	for (size_t j = 0; j < sizeof(req) - r.n; j++)
		fz_put(o, req[j]);
	fz_end(o, (unsigned)(next(seed) % 3 ? 0 : next(seed) % 256));
}

static size_t make_input(uint64_t *seed, uint8_t *buf, size_t cap)
{
	static const unsigned pair[] = { 0, 1 }, sw[] = { 2 };
	struct fz_out o = { buf, 0, cap };
	int host = 1 + (int)(next(seed) % 3);
	uint64_t start = next(seed) % 8;

	if (start == 0) {
		o.n = fz_seed((int)(next(seed) % FZ_NSEEDS), buf, cap);
	} else if (start < 6) {
		if (host != 3)
			fz_create(&o, host, 0, 0, 0, 0, NULL, 0);
		else if (next(seed) % 2)
			fz_create(&o, 3, 0, 2, 1, 1, pair, 2);
		else
			fz_create(&o, 3, 1, 0, 0, 0, sw, 1);
	}
	int steps = 1 + (int)(next(seed) % 16);
	for (int i = 0; i < steps; i++) {
		if (next(seed) % 16 == 1) { /* a binary mailbox frame */
			bool valid = next(seed) % 4;
			fz_put(&o, 0xf0 + valid);
			fz_put(&o, (unsigned)host - 1);
			unsigned n = (unsigned)(next(seed) % 40);
			if (valid) {
				fz_put(&o, (unsigned)(next(seed) % 3));
				fz_put(&o, (unsigned)(next(seed) % 256));
				fz_put(&o, n);
			} else {
				fz_put16(&o, n);
			}
			for (unsigned j = 0; j < n; j++)
				fz_put(&o, (unsigned)(next(seed) % 4));
			fz_end(&o, 0);
		} else if (next(seed) % 16 == 0) { /* a raw JSON frame */
			static const char *const frames[] = {
				"{\"op\":\"list\",\"opts\":{\"human\":true}}",
				"{\"op\":\"dax-list\",\"host\":\"host3\"}",
				"{\"op\":\"write\",\"region\":\"region0\","
				"\"offset\":0,\"data_len\":100}",
				"{\"op\":\"read\",\"region\":\"region0\","
				"\"offset\":4096,\"length\":300}",
				"{\"op\":7}", "[]", "{\"op\":\"hello\"",
			};
			const char *f = frames[next(seed) % 7];
			size_t n = strlen(f);
			fz_put(&o, 0xf8 + (unsigned)(next(seed) % 8));
			fz_put16(&o, (unsigned)n);
			for (size_t j = 0; j < n; j++)
				fz_put(&o, (unsigned char)f[j]);
			fz_end(&o, 0);
		} else {
			random_request(seed, &o, host);
		}
	}
	return o.n < cap ? o.n : cap;
}

/* Run one input; how many handler calls it made and how many failed. */
static void run(const uint8_t *buf, size_t n, unsigned long *calls,
		unsigned long *fails)
{
	unsigned long c0 = fz_handled, f0 = fz_refused;
	assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
	*calls = fz_handled - c0;
	*fails = fz_refused - f0;
}

/* The seeds reach what they are for: every request is handled, and only
 * the ones meant to be refused are (seed 0: system-ram and destroy
 * without force while mapped; seed 5: the two reads of a poisoned line,
 * which a write does not clear). */
static void test_seeds(void **state)
{
	static const unsigned long want_calls[FZ_NSEEDS] = { 11, 10, 8, 13, 9, 8 };
	static const unsigned long want_fails[FZ_NSEEDS] = { 2, 0, 0, 0, 0, 2 };
	uint8_t buf[4096];

	(void)state;
	for (int i = 0; i < FZ_NSEEDS; i++) {
		unsigned long calls, fails;
		size_t n = fz_seed(i, buf, sizeof(buf));
		assert_true(n > 0 && n < sizeof(buf));
		run(buf, n, &calls, &fails);
		if (calls != want_calls[i] || fails != want_fails[i])
			fail_msg("seed %d: %lu requests handled, %lu refused; "
				 "want %lu and %lu (CXLEMU_FUZZ_TRACE=1 shows "
				 "them)", i, calls, fails, want_calls[i],
				 want_fails[i]);
	}
	assert_int_equal(fz_seed(FZ_NSEEDS, buf, sizeof(buf)), 0);
}

/* The model after a region's writes and maps: one hold is left (two maps,
 * one unmap) for the server's close hooks, and the bytes are where they
 * were written, as the other head of the shared device sees them too. */
static void test_region_state(void **state)
{
	uint8_t buf[512];
	struct fz_out o = { buf, 0, sizeof(buf) };
	struct fz_in r;
	struct fz_req q;
	cx_err e;

	(void)state;
	if (fz_trace < 0)
		fz_init();
	fz_create(&o, 1, 0, 0, 0, 0, NULL, 0);
	fz_region_io(&o, 1, 256, 4096);
	r.p = buf;
	r.n = o.n;
	fz_up();
	while (r.n) {
		fz_next(&r, &q);
		assert_non_null(q.req);
		fz_dispatch(&q);
		json_object_put(q.req);
		free(q.data);
		fz_u8(&r); /* clock */
	}
	struct cx_host *h = cx_host_find(fz_fab, "host1");
	struct cx_host *h2 = cx_host_find(fz_fab, "host2");
	assert_int_equal(h->regions.n, 1);
	struct cx_region *reg = h->regions.v[0];
	assert_true(reg->committed);
	assert_int_equal(reg->mapped, 1);
	uint8_t got[4096], want[4096];
	assert_int_equal(cx_region_read(reg, 256, got, sizeof(got), &e), 0);
	uint64_t x = 0x9e3779b97f4a7c15ULL * 0x33;
	for (size_t i = 0; i < sizeof(want); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		want[i] = (uint8_t)x;
	}
	assert_memory_equal(got, want, sizeof(got));
	/* host2's head is the same device, its media the same file */
	struct cx_memdev *m1 = h->memdevs.v[0], *m2 = h2->memdevs.v[0];
	assert_ptr_equal(m1->vmem, m2->vmem);
	assert_memory_equal(m2->vmem->map + 256, want, sizeof(want));
	fz_down(); /* releases the hold with the client's close hook */
	assert_null(fz_srv);
}

static void test_random_request_streams(void **state)
{
	static uint8_t buf[1 << 14];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned long calls = 0, fails = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		unsigned long c, f;
		size_t n = make_input(&seed, buf, sizeof(buf));
		run(buf, n, &c, &f);
		calls += c;
		fails += f;
	}
	/* each input's fabric and server were torn down after it */
	assert_null(fz_srv);
	assert_null(fz_fab);
	/* the inputs reach handlers, and a fair share get past refusal;
	 * requests that do not fit their rows (a key the op does not take,
	 * one missing, one of the wrong type) are made and refused too */
	assert_true(calls > 20000);
	assert_true(calls - fails > calls / 3);
	assert_true(fz_unfit > 1000 && fz_unfit < fails);
	/* binary mailbox frames both reach mailboxes and get refused */
	assert_true(fz_bin_ran > 200);
	assert_true(fz_bin_refused > 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_region_state),
		cmocka_unit_test(test_random_request_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
